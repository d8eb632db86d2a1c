import { describe, expect, it } from "vitest";
import { differingStudents, explainAssignment, ordinal, profileOfRows, type TopicDemand } from "./explain";

describe("ordinal", () => {
  it("uses English suffixes, including the teens", () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111].map(ordinal)).toEqual([
      "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th",
    ]);
  });
});

describe("profileOfRows", () => {
  it("counts students per rank, on unranked topics and without a topic", () => {
    expect(
      profileOfRows([
        { studentId: "a", topicId: "x", rank: 1 },
        { studentId: "b", topicId: "y", rank: 3 },
        { studentId: "c", topicId: "y", rank: 1 },
        { studentId: "d", topicId: "z", rank: null },
        { studentId: "e", topicId: null, rank: null },
      ]),
    ).toEqual({ byRank: [2, 0, 1], unranked: 1, unassigned: 1 });
    expect(profileOfRows([])).toEqual({ byRank: [], unranked: 0, unassigned: 0 });
  });
});

const popular: TopicDemand = {
  topicId: "p",
  title: "Popular",
  capacity: 10,
  rankedAt: [38, 5, 1],
  placedByRank: [{ rank: 1, count: 10 }],
};
const second: TopicDemand = {
  topicId: "s",
  title: "Second",
  capacity: 4,
  rankedAt: [2, 6],
  placedByRank: [
    { rank: 2, count: 3 },
    { rank: 1, count: 1 },
  ],
};
const demand = new Map([
  ["p", popular],
  ["s", second],
]);
const ranking = [
  { topicId: "p", title: "Popular" },
  { topicId: "s", title: "Second" },
];

describe("explainAssignment", () => {
  it("explains a 2nd choice from the demand on each choice up to it", () => {
    const assigned = { topicId: "s", title: "Second", rank: 2, overridden: false, overrideReason: null };
    expect(explainAssignment({ voice: "student", ranking, assigned, demand })).toEqual([
      "You were placed on your 2nd choice, Second.",
      "Your 1st choice, Popular, had 38 applicants for 10 seats (students who ranked it 1st); the 10 placed there all ranked it 1st.",
      "Your 2nd choice, Second, had 8 applicants for 4 seats (students who ranked it 2nd or higher); of the 4 placed there, 1 ranked it 1st and 3 ranked it 2nd.",
    ]);
  });

  it("explains an unassigned student through every topic in their list, in the admin's voice", () => {
    const lines = explainAssignment({ voice: "admin", ranking, assigned: null, demand });
    expect(lines[0]).toBe("They were not placed: every topic in their list was full.");
    expect(lines).toHaveLength(3);
  });

  it("says when an administrator moved the student, with the reason, and mentions free seats", () => {
    const roomy: TopicDemand = { ...popular, topicId: "r", title: "Roomy", capacity: 12 };
    const lines = explainAssignment({
      voice: "student",
      ranking: [{ topicId: "r", title: "Roomy" }],
      assigned: { topicId: "o", title: "Other", rank: null, overridden: true, overrideReason: "Lab safety training" },
      demand: new Map([["r", roomy]]),
    });
    expect(lines).toEqual([
      "You were placed on Other, a topic not in your list.",
      "An administrator set this by hand: Lab safety training.",
      "Your 1st choice, Roomy, had 38 applicants for 12 seats (students who ranked it 1st); the 10 placed there all ranked it 1st (2 seats left free).",
    ]);
  });

  it("explains a free seat given to a student whose list was full, and to one who ranked nothing", () => {
    const full = explainAssignment({
      voice: "student",
      ranking,
      assigned: { topicId: "o", title: "Other", rank: null, overridden: false, overrideReason: null },
      demand,
    });
    expect(full[0]).toBe("You were placed on Other, a topic not in your list, because no topic in it had a free seat for you.");
    expect(full).toHaveLength(3);
    const lines = explainAssignment({
      voice: "student",
      ranking: [],
      assigned: { topicId: "o", title: "Other", rank: null, overridden: false, overrideReason: null },
      demand,
    });
    expect(lines).toEqual([
      "You ranked no topic.",
      "You were placed on Other, a topic not in your list.",
    ]);
  });
});

describe("differingStudents", () => {
  it("lists students whose topic differs, including those present in one run only", () => {
    const a = [
      { studentId: "1", topicId: "x", rank: 1 },
      { studentId: "2", topicId: "y", rank: 2 },
      { studentId: "3", topicId: null, rank: null },
    ];
    const b = [
      { studentId: "1", topicId: "x", rank: 1 },
      { studentId: "2", topicId: "x", rank: 1 },
      { studentId: "3", topicId: null, rank: null },
      { studentId: "4", topicId: "y", rank: 3 },
    ];
    expect(differingStudents(a, b)).toEqual([
      { studentId: "2", a: { topicId: "y", rank: 2 }, b: { topicId: "x", rank: 1 } },
      { studentId: "4", a: { topicId: null, rank: null }, b: { topicId: "y", rank: 3 } },
    ]);
  });
});
