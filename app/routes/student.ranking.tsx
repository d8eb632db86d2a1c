import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { getDb } from "~/db.server";
import { requestMetricsRecompute } from "~/models/metrics-queue.server";
import { applyRankingBatch, RankingError, undoLastBatch } from "~/models/ranking.server";
import { auditSessionId, requireStudent } from "~/session.server";
import { problem } from "~/utils/http";

// The page posts JSON here (fetch, not a form): batches carry arrays, and the
// page needs the status codes to tell a conflict from a failure it may retry.
const common = {
  periodId: z.uuid("periodId must be a period id."),
  batchId: z.uuid("batchId must be a UUID, new for every batch."),
  expectedVersion: z.number().int().min(0),
  /** Optional; when present it must be the signed-in student. */
  studentId: z.uuid().optional(),
};

const SaveSchema = z.strictObject({
  intent: z.literal("save").optional(),
  ...common,
  updates: z
    .array(
      z.strictObject({
        topicId: z.uuid("topicId must be a topic id."),
        position: z.number().int().min(1).max(10_000).nullable(),
      }),
    )
    .max(2_000),
});

const UndoSchema = z.strictObject({ intent: z.literal("undo"), ...common });

/** Nothing to show here: the page is /student. Without a loader Remix answered a GET with a bare 400 and a logged stack. */
export async function loader() {
  const response = problem(405, "Ranking changes are sent here with POST; the ranking page is /student.", { code: "method-not-allowed" });
  response.headers.set("Allow", "POST");
  return response;
}

export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return problem(405, "Send ranking batches with POST.");
  const student = await requireStudent(request);
  if (!request.headers.get("Content-Type")?.startsWith("application/json")) {
    return problem(415, "Send the batch as JSON (Content-Type: application/json).");
  }
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return problem(400, "The request body is not valid JSON.", { code: "malformed" });
  }
  const isUndo = typeof body === "object" && body !== null && (body as { intent?: unknown }).intent === "undo";
  const parsed = (isUndo ? UndoSchema : SaveSchema).safeParse(body);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
    return problem(400, `The batch is not valid: ${detail}`, { code: "malformed" });
  }
  const batch = parsed.data;
  if (batch.studentId !== undefined && batch.studentId !== student.id) {
    return problem(403, "You can only change your own ranking.", { code: "forbidden" });
  }
  const target = {
    db: getDb(),
    studentId: student.id,
    periodId: batch.periodId,
    batchId: batch.batchId,
    sessionId: auditSessionId(student),
    baseVersion: batch.expectedVersion,
  };
  try {
    const result = "updates" in batch ? await applyRankingBatch({ ...target, updates: batch.updates }) : await undoLastBatch(target);
    // After the commit, so the recompute sees it; it never fails the save (no Redis → a logged line).
    // The aggregate deltas the save appended are folded by the worker's scheduled compaction, not per save.
    await requestMetricsRecompute(result.affectedTopicIds);
    return Response.json({ ok: true, ...result });
  } catch (error) {
    if (error instanceof RankingError) {
      return problem(error.status, error.message, { code: error.code, current: error.current });
    }
    throw error;
  }
}
