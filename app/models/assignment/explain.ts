/**
 * Pure helpers behind the results pages: the profile of a set of assignment
 * rows, the per-student explanation, and the difference between two runs.
 * No I/O, so the wording and the arithmetic are unit-tested alone.
 */

export type AssignmentRow = { studentId: string; topicId: string | null; rank: number | null };

export type RunProfile = {
  /** byRank[r-1] = students on their r-th choice. */
  byRank: number[];
  /** Students on a topic they did not rank (policy seat or manual override). */
  unranked: number;
  unassigned: number;
};

export function profileOfRows(rows: readonly AssignmentRow[]): RunProfile {
  const byRank: number[] = [];
  let unranked = 0;
  let unassigned = 0;
  for (const row of rows) {
    if (row.topicId === null) unassigned++;
    else if (row.rank === null) unranked++;
    else {
      while (byRank.length < row.rank) byRank.push(0);
      byRank[row.rank - 1]++;
    }
  }
  return { byRank, unranked, unassigned };
}

export function ordinal(n: number): string {
  const lastTwo = n % 100;
  if (lastTwo >= 11 && lastTwo <= 13) return `${n}th`;
  const suffix = { 1: "st", 2: "nd", 3: "rd" }[n % 10] ?? "th";
  return `${n}${suffix}`;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export type TopicDemand = {
  topicId: string;
  title: string;
  capacity: number;
  /** How many ranked it at each position: rankedAt[p-1]. */
  rankedAt: number[];
  /** Students placed on it in this run, by the rank they gave it (null: unranked). */
  placedByRank: { rank: number | null; count: number }[];
};

export type ExplanationInput = {
  voice: "student" | "admin";
  /** The student's list, most preferred first. */
  ranking: { topicId: string; title: string }[];
  assigned: { topicId: string; title: string; rank: number | null; overridden: boolean; overrideReason: string | null } | null;
  demand: ReadonlyMap<string, TopicDemand>;
};

function describePlaced(demand: TopicDemand): string {
  const placed = demand.placedByRank.reduce((sum, part) => sum + part.count, 0);
  if (placed === 0) return "nobody was placed there";
  const parts = [...demand.placedByRank].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity));
  const label = (rank: number | null) => (rank === null ? "had not ranked it" : `ranked it ${ordinal(rank)}`);
  const free = demand.capacity - placed;
  const freeNote = free > 0 ? ` (${plural(free, "seat")} left free)` : "";
  if (parts.length === 1) {
    const everyone = placed === 1 ? "the 1 student placed there" : `the ${placed} placed there all`;
    return `${everyone} ${label(parts[0].rank)}${freeNote}`;
  }
  const listed = parts.map((part) => `${part.count} ${label(part.rank)}`);
  const joined = `${listed.slice(0, -1).join(", ")} and ${listed[listed.length - 1]}`;
  return `of the ${placed} placed there, ${joined}${freeNote}`;
}

/**
 * Applicants for a student's k-th choice are those who ranked the topic k-th
 * or higher: the students it could not be refused to without a worse rank.
 */
function describeDemand(demand: TopicDemand, position: number): string {
  const applicants = demand.rankedAt.slice(0, position).reduce((sum, students) => sum + students, 0);
  const who = position === 1 ? "students who ranked it 1st" : `students who ranked it ${ordinal(position)} or higher`;
  return `had ${plural(applicants, "applicant")} for ${plural(demand.capacity, "seat")} (${who})`;
}

/** Sentences explaining one student's result from the run's data: their own list, demand per topic, who was placed where. */
export function explainAssignment(input: ExplanationInput): string[] {
  const your = input.voice === "student" ? "your" : "their";
  const you = input.voice === "student" ? "You" : "They";
  const them = input.voice === "student" ? "you" : "them";
  const lines: string[] = [];
  const { assigned, ranking } = input;

  if (input.ranking.length === 0) {
    lines.push(`${you} ranked no topic.`);
  }
  if (assigned === null) {
    if (ranking.length > 0) lines.push(`${you} were not placed: every topic in ${your} list was full.`);
  } else if (assigned.rank !== null) {
    lines.push(`${you} were placed on ${your} ${ordinal(assigned.rank)} choice, ${assigned.title}.`);
  } else {
    const because = assigned.overridden || ranking.length === 0 ? "" : `, because no topic in it had a free seat for ${them}`;
    lines.push(`${you} were placed on ${assigned.title}, a topic not in ${your} list${because}.`);
  }
  if (assigned?.overridden) {
    lines.push(`An administrator set this by hand: ${assigned.overrideReason ?? "no reason given"}.`);
  }

  const consideredUpTo = assigned?.rank ?? ranking.length;
  ranking.slice(0, consideredUpTo).forEach((choice, index) => {
    const demand = input.demand.get(choice.topicId);
    if (!demand) return;
    const position = index + 1;
    const subject = `${ordinal(position)} choice, ${choice.title},`;
    lines.push(`${capitalize(your)} ${subject} ${describeDemand(demand, position)}; ${describePlaced(demand)}.`);
  });
  return lines;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export type ComparedStudent = {
  studentId: string;
  a: { topicId: string | null; rank: number | null };
  b: { topicId: string | null; rank: number | null };
};

/** Students whose topic differs between two runs, in the order of `a`. */
export function differingStudents(a: readonly AssignmentRow[], b: readonly AssignmentRow[]): ComparedStudent[] {
  const inB = new Map(b.map((row) => [row.studentId, row]));
  const seen = new Set<string>();
  const differences: ComparedStudent[] = [];
  for (const row of a) {
    seen.add(row.studentId);
    const other = inB.get(row.studentId);
    const otherTopic = other?.topicId ?? null;
    if (row.topicId !== otherTopic) {
      differences.push({
        studentId: row.studentId,
        a: { topicId: row.topicId, rank: row.rank },
        b: { topicId: otherTopic, rank: other?.rank ?? null },
      });
    }
  }
  for (const row of b) {
    if (seen.has(row.studentId) || row.topicId === null) continue;
    differences.push({ studentId: row.studentId, a: { topicId: null, rank: null }, b: { topicId: row.topicId, rank: row.rank } });
  }
  return differences;
}
