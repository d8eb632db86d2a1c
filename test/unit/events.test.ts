import { describe, expect, it } from "vitest";
import { EVENT_TYPES, InvalidEventError, isRankingsBatchUpdated, parseEvent } from "~/models/events";

const studentId = "7d4c1f5e-9a55-4a57-9b0a-3f1c2d9e8b10";
const topicId = "0b7e6a52-1f0e-4c9b-8a41-6f4d1e2c3b5a";
const batchId = "c2f1d9a4-5b6e-4e8f-9a0b-1c2d3e4f5a6b";

describe("events", () => {
  it("accepts a well-formed ranking batch and narrows it by type", () => {
    const event = parseEvent({
      type: "RANKINGS_BATCH_UPDATED",
      actorId: studentId,
      actorType: "student",
      sessionId: "tab-1",
      payload: { studentId, batchId, sessionId: "tab-1", updates: [{ topicId, oldPos: null, newPos: 1 }] },
    });
    expect(isRankingsBatchUpdated(event)).toBe(true);
    if (isRankingsBatchUpdated(event)) expect(event.payload.updates[0].newPos).toBe(1);
  });

  it("names every problem of a bad payload", () => {
    let caught: unknown;
    try {
      parseEvent({
        type: "RANKINGS_BATCH_UPDATED",
        actorId: "not-a-uuid",
        actorType: "student",
        sessionId: null,
        payload: { studentId, batchId, sessionId: "tab-1", updates: [{ topicId, oldPos: 0, newPos: 1 }] },
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidEventError);
    const issues = (caught as InvalidEventError).issues.join("\n");
    expect(issues).toMatch(/^actorId: /m);
    expect(issues).toMatch(/^payload\.updates\.0\.oldPos: /m);
  });

  it("refuses an unknown event type", () => {
    expect(() => parseEvent({ type: "SOMETHING_ELSE", actorId: null, actorType: "system", sessionId: null, payload: {} })).toThrow(
      InvalidEventError,
    );
  });

  it("knows every event type of the specification", () => {
    expect(new Set(EVENT_TYPES)).toEqual(
      new Set([
        "STUDENT_REGISTERED",
        "TOPIC_CREATED",
        "SELECTION_PERIOD_OPENED",
        "SELECTION_PERIOD_CLOSED",
        "SELECTION_PERIOD_PUBLISHED",
        "RANKINGS_BATCH_UPDATED",
        "RANKINGS_UNDONE",
        "METRICS_CALCULATED",
        "ALGORITHM_EXECUTED",
        "ASSIGNMENT_OVERRIDDEN",
        "PREFERENCES_BACKFILLED",
      ]),
    );
  });
});
