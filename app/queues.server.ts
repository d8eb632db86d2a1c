import { Queue } from "bullmq";
import { JOBS, type JobKey, type JobPayload } from "../jobs/catalogue";
import { getEnv } from "./env.server";
import { createRedis } from "./redis.server";

const globalForQueues = globalThis as unknown as { __topicmatchQueues?: Map<string, Queue> };

function queues() {
  return (globalForQueues.__topicmatchQueues ??= new Map());
}

export function getQueue(name: string): Queue {
  const prefix = getEnv().QUEUE_PREFIX;
  const key = `${prefix}:${name}`;
  let queue = queues().get(key);
  if (!queue) {
    queue = new Queue(name, { connection: createRedis("producer"), prefix });
    queue.on("error", (error: Error) => logQueueError(name, error));
    queues().set(key, queue);
  }
  return queue;
}

const lastQueueErrors = new Map<string, { message: string; at: number }>();

/** While Redis is down the client retries every few ms; one line per queue and minute says enough. */
function logQueueError(name: string, error: Error) {
  const last = lastQueueErrors.get(name);
  const now = Date.now();
  if (last && last.message === error.message && now - last.at < 60_000) return;
  lastQueueErrors.set(name, { message: error.message, at: now });
  console.error(`queue ${name}: ${error.message}`);
}

/** Adds a job after validating its payload against the catalogue. */
export async function enqueue<K extends JobKey>(
  key: K,
  payload: JobPayload<K>,
  options: Parameters<Queue["add"]>[2] = {},
) {
  const job = JOBS[key];
  const data = job.payload.parse(payload);
  return getQueue(job.queue).add(job.name, data, { ...job.options, ...options });
}

/** False once the queue's Redis connection has been lost (it keeps reconnecting in the background). */
export function isQueueReachable(name: string): boolean {
  const connection = getQueue(name).opts.connection as { status?: string };
  return connection.status === undefined || connection.status === "ready" || connection.status === "connecting" || connection.status === "connect";
}

export async function closeQueues(): Promise<void> {
  const open = [...queues().values()];
  queues().clear();
  await Promise.allSettled(open.map((queue) => queue.close()));
}
