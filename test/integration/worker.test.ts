import { QueueEvents } from "bullmq";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { events, selectionPeriods } from "../../drizzle/schema";
import { getDb } from "~/db.server";
import { getEnv } from "~/env.server";
import { enqueue, getQueue } from "~/queues.server";
import { createRedis } from "~/redis.server";
import { startWorkers } from "../../jobs/workers";
import { makeOpenPeriod } from "../support/factories";
import { releaseQueues } from "../support/queues";

const running = await startWorkers({ concurrency: 2 });
const lifecycleEvents = new QueueEvents("lifecycle", { connection: createRedis("worker"), prefix: getEnv().QUEUE_PREFIX });

afterAll(async () => {
  await running.close();
  await lifecycleEvents.close();
  await releaseQueues();
});

describe("the worker", () => {
  it("closes a period whose close time has passed, once, with a SELECTION_PERIOD_CLOSED event", async () => {
    const due = await makeOpenPeriod({ topicCount: 1 });
    const notDue = await makeOpenPeriod({ topicCount: 1 });
    await getDb().update(selectionPeriods).set({ closesAt: new Date(Date.now() - 1_000) }).where(eq(selectionPeriods.id, due.period.id));
    await getDb().update(selectionPeriods).set({ closesAt: new Date(Date.now() + 3_600_000) }).where(eq(selectionPeriods.id, notDue.period.id));

    const first = await enqueue("closeDuePeriods", {});
    expect(await first.waitUntilFinished(lifecycleEvents, 15_000)).toEqual({ closed: [due.period.id] });
    const second = await enqueue("closeDuePeriods", {});
    expect(await second.waitUntilFinished(lifecycleEvents, 15_000)).toEqual({ closed: [] });

    const statuses = await getDb().select({ id: selectionPeriods.id, status: selectionPeriods.status }).from(selectionPeriods);
    expect(new Map(statuses.map((row) => [row.id, row.status]))).toEqual(
      new Map([
        [due.period.id, "closed"],
        [notDue.period.id, "open"],
      ]),
    );
    const closedEvents = await getDb().select().from(events).where(eq(events.type, "SELECTION_PERIOD_CLOSED"));
    expect(closedEvents.map((event) => event.payload)).toEqual([{ periodId: due.period.id, automatic: true }]);
  });

  it("registers the recurring schedules at boot", async () => {
    const schedulers = await getQueue("lifecycle").getJobSchedulers();
    expect(schedulers.map((scheduler) => scheduler.key)).toContain("close-due-periods-every-minute");
  });

  it("refuses a payload that does not match the catalogue before it reaches Redis", async () => {
    const before = await getQueue("lifecycle").getJobCounts("waiting", "delayed");
    await expect(enqueue("closeDuePeriods", { surprise: true } as never)).rejects.toThrow(/surprise/);
    const after = await getQueue("lifecycle").getJobCounts("waiting", "delayed");
    expect(after).toEqual(before);
  });
});
