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
    queue.on("error", (error: Error) => console.error(`queue ${name}: ${error.message}`));
    queues().set(key, queue);
  }
  return queue;
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

export async function closeQueues(): Promise<void> {
  const open = [...queues().values()];
  queues().clear();
  await Promise.allSettled(open.map((queue) => queue.close()));
}
