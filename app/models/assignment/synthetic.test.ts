import { describe, expect, it } from "vitest";
import { generatePreferences } from "./synthetic";

describe("generatePreferences", () => {
  it("is reproducible for a seed and changes with it", () => {
    const options = { students: 50, topics: 20, zipfExponent: 1, seed: 4 };
    expect(generatePreferences(options)).toEqual(generatePreferences(options));
    expect(generatePreferences({ ...options, seed: 5 }).rankings).not.toEqual(generatePreferences(options).rankings);
  });

  it("ranks distinct known topics, rankLength of them", () => {
    for (const rankLength of [undefined, 3, 12]) {
      const { students, topics, rankings } = generatePreferences({
        students: 40,
        topics: 12,
        zipfExponent: 1.2,
        seed: 9,
        rankLength,
      });
      expect(students).toHaveLength(40);
      for (const student of students) {
        const ranking = rankings[student];
        expect(ranking).toHaveLength(rankLength ?? 12);
        expect(new Set(ranking).size).toBe(ranking.length);
        for (const topic of ranking) expect(topics).toContain(topic);
      }
    }
  });

  it("accepts given ids and skews first choices towards the first topics", () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `student-${i}`);
    const { students, rankings } = generatePreferences({
      students: ids,
      topics: ["popular", "middle", "rare"],
      zipfExponent: 2,
      seed: 1,
      rankLength: 1,
    });
    expect(students).toEqual(ids);
    const firsts = (topic: string) => ids.filter((id) => rankings[id][0] === topic).length;
    // Weights 1 : 1/4 : 1/9, so about 73%, 18% and 8% of first choices.
    expect(firsts("popular")).toBeGreaterThan(1300);
    expect(firsts("middle")).toBeGreaterThan(firsts("rare"));
  });

  it("rejects impossible options", () => {
    expect(() => generatePreferences({ students: 1, topics: 2, zipfExponent: 1, seed: 0, rankLength: 3 })).toThrow(
      /rankLength/,
    );
    expect(() => generatePreferences({ students: -1, topics: 2, zipfExponent: 1, seed: 0 })).toThrow(/students/);
    expect(() => generatePreferences({ students: 1, topics: 2, zipfExponent: -1, seed: 0 })).toThrow(/zipfExponent/);
  });
});
