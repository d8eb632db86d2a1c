type Change = { topicId: string; oldPos: number | null; newPos: number | null };

const position = (value: number | null) => (value === null ? "unranked" : `#${value}`);

/**
 * A one-line, human-readable account of an event's payload, naming topics by
 * title where known; the raw JSON stays available beside it.
 */
export function describeEvent(type: string, payload: unknown, topicTitles: Record<string, string> = {}): string {
  const data = (payload ?? {}) as Record<string, unknown>;
  const topic = (id: unknown) => (typeof id === "string" ? (topicTitles[id] ?? id.slice(0, 8)) : "?");
  const changes = (updates: unknown) =>
    Array.isArray(updates)
      ? (updates as Change[]).map((change) => `${topic(change.topicId)}: ${position(change.oldPos)} → ${position(change.newPos)}`).join("; ")
      : "";
  switch (type) {
    case "STUDENT_REGISTERED":
      return `${String(data.email)} registered (${String(data.via)})`;
    case "TOPIC_CREATED":
      return `Topic "${String(data.title)}" created with ${String(data.capacity)} places`;
    case "SELECTION_PERIOD_OPENED":
      return `Period opened with ${String(data.topicCount)} topics`;
    case "SELECTION_PERIOD_CLOSED":
      return data.automatic ? "Period closed automatically at its close time" : "Period closed by hand";
    case "SELECTION_PERIOD_PUBLISHED":
      return `Assignment run ${String(data.runId).slice(0, 8)} published`;
    case "RANKINGS_BATCH_UPDATED":
      return `Ranking changed: ${changes(data.updates)}`;
    case "RANKINGS_UNDONE":
      return `Undo: ${changes(data.updates)}`;
    case "METRICS_CALCULATED": {
      const average = typeof data.averagePosition === "number" ? data.averagePosition.toFixed(2) : "—";
      return `Metrics of ${topic(data.topicId)}: ${String(data.studentCount)} students, average ${average}, ${String(data.competitionCategory ?? "no category")}`;
    }
    case "ALGORITHM_EXECUTED":
      return `Assignment (${String(data.objective)}, seed ${String(data.seed)}) placed ${String(data.assignments)} students; profile ${JSON.stringify(data.profile)}`;
    case "ASSIGNMENT_OVERRIDDEN":
      return `Override ${topic(data.fromTopicId)} → ${topic(data.toTopicId)}: ${String(data.reason)}`;
    case "PREFERENCES_BACKFILLED":
      return `Backfilled ${String(data.topicCount)} ranked topics from legacy preferences`;
    default:
      return JSON.stringify(payload);
  }
}
