import { Queue } from "bullmq";
import { JOBS, type JobKey, type JobPayload } from "../jobs/catalogue";
import { getEnv } from "./env.server";
import type { Redis } from "ioredis";
import { createRedis } from "./redis.server";

export { QUEUE_NAMES } from "../jobs/catalogue";

const globalForQueues = globalThis as unknown as { __topicmatchQueues?: Map<string, Queue> };

function queues() {
  return (globalForQueues.__topicmatchQueues ??= new Map());
}

const connections = new WeakMap<Queue, Redis>();

export function getQueue(name: string): Queue {
  const prefix = getEnv().QUEUE_PREFIX;
  const key = `${prefix}:${name}`;
  let queue = queues().get(key);
  if (!queue) {
    const connection = createRedis("producer");
    queue = new Queue(name, { connection, prefix });
    connections.set(queue, connection);
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

/** Redis could not be reached in time; nothing was added. */
export class QueueUnavailableError extends Error {
  constructor(queue: string, reason: string) {
    super(`Queue ${queue} is unavailable: ${reason}`);
    this.name = "QueueUnavailableError";
  }
}

const CONNECT_WITHIN_MS = 3_000;

/**
 * BullMQ waits forever for a connection that was never made, so a request
 * would hang while Redis is down. The job is added only once the connection
 * is ready: an add left pending would otherwise land when Redis comes back,
 * after the caller had already reported the failure.
 */
async function readyClient(queue: Queue) {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QueueUnavailableError(queue.name, `no connection within ${CONNECT_WITHIN_MS} ms`)), CONNECT_WITHIN_MS);
  });
  try {
    await Promise.race([queue.waitUntilReady(), deadline]);
    const status = connections.get(queue)?.status;
    if (status !== "ready") throw new QueueUnavailableError(queue.name, `connection is ${status}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Adds a job after validating its payload against the catalogue; throws QueueUnavailableError when Redis is down. */
export async function enqueue<K extends JobKey>(
  key: K,
  payload: JobPayload<K>,
  options: Parameters<Queue["add"]>[2] = {},
) {
  const job = JOBS[key];
  const data = job.payload.parse(payload);
  const queue = getQueue(job.queue);
  await readyClient(queue);
  return queue.add(job.name, data, { ...job.options, ...options });
}

/** False once the queue's Redis connection has been lost (it keeps reconnecting in the background). */
export function isQueueReachable(name: string): boolean {
  const connection = getQueue(name).opts.connection as { status?: string };
  return connection.status === undefined || connection.status === "ready" || connection.status === "connecting" || connection.status === "connect";
}

/** Adds several jobs of one kind in one Redis round trip, each validated against the catalogue. */
export async function enqueueMany<K extends JobKey>(
  key: K,
  jobs: { payload: JobPayload<K>; options?: Parameters<Queue["add"]>[2] }[],
) {
  const job = JOBS[key];
  return getQueue(job.queue).addBulk(
    jobs.map(({ payload, options }) => ({ name: job.name, data: job.payload.parse(payload), opts: { ...job.options, ...options } })),
  );
}

export async function closeQueues(): Promise<void> {
  const open = [...queues().values()];
  queues().clear();
  await Promise.allSettled(open.map((queue) => queue.close()));
}
