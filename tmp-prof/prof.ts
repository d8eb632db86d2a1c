import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { DirectAggregate, applyBatches, type WriteOp } from "../app/aggregate";
import * as schema from "../drizzle/schema";
const client = postgres("postgres://root@127.0.0.1:5432/topicmatch_bench_aggregate", { max: 1, onnotice: () => {} });
const db = drizzle(client, { schema });
const byTopic = new DirectAggregate({ name: "profTopic", channels: 2, buffered: true, maxNodeSize: 32 });
const byStudent = new DirectAggregate({ name: "profStudent", buffered: true, maxNodeSize: 32 });
function shuffled(n: number) { const o = Array.from({ length: n }, (_, i) => i + 1); for (let i = n - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [o[i], o[j]] = [o[j], o[i]]; } return o; }
let current = shuffled(50);
const t0 = process.cpuUsage();
const w0 = performance.now();
for (let run = 0; run < 400; run++) {
  const next = shuffled(50);
  const topicOps: WriteOp[] = []; const studentOps: WriteOp[] = [];
  for (let t = 0; t < 50; t++) { const topic = `topic${t + 1}`; const old = current[t];
    topicOps.push({ op: "delete", namespace: topic, key: old, id: "me", sums: [old, old ** 2] });
    topicOps.push({ op: "insert", namespace: topic, key: next[t], id: "me", sums: [next[t], next[t] ** 2] });
    studentOps.push({ op: "delete", namespace: "me", key: [old, topic], id: topic, sums: [old] }); }
  for (let t = 0; t < 50; t++) studentOps.push({ op: "insert", namespace: "me", key: [next[t], `topic${t + 1}`], id: `topic${t + 1}`, sums: [next[t]] });
  await db.transaction(async (tx) => { await applyBatches(tx, [{ aggregate: byTopic, ops: topicOps, trusted: true }, { aggregate: byStudent, ops: studentOps, trusted: true }]); });
  current = next;
}
const u = process.cpuUsage(t0);
console.log(`client CPU per batch ${((u.user + u.system) / 1000 / 400).toFixed(3)} ms, wall ${((performance.now() - w0) / 400).toFixed(3)} ms`);
await db.execute(sql`delete from aggregate_pending where aggregate in ('profTopic','profStudent')`);
await client.end();
