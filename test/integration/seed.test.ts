import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "~/db.server";
import { verifyAggregates } from "~/models/consistency.server";
import { pendingRankingDeltas } from "~/models/ranking-aggregates.server";
import { AGH_PERIOD_TITLE, seedAgh } from "~/models/seed.server";
import { loadAgh } from "../support/factories";

async function tableCounts() {
  const [row] = await getDb().execute<{ users: number; periods: number; topics: number; rankings: number; events: number }>(sql`
    select (select count(*)::int from users) as users,
           (select count(*)::int from selection_periods) as periods,
           (select count(*)::int from topics) as topics,
           (select count(*)::int from rankings) as rankings,
           (select count(*)::int from events) as events`);
  return row;
}

describe("the AGH demo seed", () => {
  it("loads one open period, 9 topics, 146 students with their rankings and an admin; a second run changes nothing", async () => {
    const soc = loadAgh();
    const first = await seedAgh({ db: getDb(), soc });
    expect(first.period.created).toBe(true);
    expect(first.applied).toBe(146);
    const afterFirst = await tableCounts();
    expect(afterFirst).toEqual({ users: 147, periods: 1, topics: 9, rankings: 146 * 9, events: 146 + 9 + 1 + 146 });
    // The demo starts with the aggregates' buffers folded into their trees, and the trees equal to the rankings.
    expect(await pendingRankingDeltas(getDb())).toBe(0);
    const [folded] = await getDb().execute<{ items: number }>(sql`
      select coalesce(sum(cardinality(keys)), 0)::int as items from aggregate_nodes where aggregate = 'rankingsByTopic'`);
    expect(folded.items).toBe(146 * 9);
    const report = await verifyAggregates({ db: getDb() });
    expect([report.differences, report.invalidTrees]).toEqual([[], []]);

    const [period] = await getDb().execute<{ status: string; seats: number }>(sql`
      select p.status, sum(t.capacity)::int as seats from selection_periods p join topics t on t.period_id = p.id
      where p.title = ${AGH_PERIOD_TITLE} group by p.status`);
    expect(period.status).toBe("open");
    expect(period.seats).toBeGreaterThanOrEqual(146);

    // The seed wrote each voter's order: course 9 is first for the first four voters.
    const firstChoices = await getDb().execute<{ title: string; n: number }>(sql`
      select t.title, count(*)::int as n from rankings r join topics t on t.id = r.topic_id
      where r.position = 1 group by t.title order by t.title`);
    const expected = new Map<string, number>();
    for (const order of soc.voters) expected.set(`Course ${order[0]}`, (expected.get(`Course ${order[0]}`) ?? 0) + 1);
    expect(new Map(firstChoices.map((row) => [row.title, row.n]))).toEqual(expected);

    const second = await seedAgh({ db: getDb(), soc });
    expect(second.period.created).toBe(false);
    expect(second.applied).toBe(0);
    expect(second.kept).toBe(146);
    expect(await tableCounts()).toEqual(afterFirst);
  });
});

describe("the synthetic seed", () => {
  it("creates a skewed open period of the asked size through the ranking model, once", async () => {
    const { seedSynthetic } = await import("~/models/seed.server");
    const options = { db: getDb(), students: 120, topics: 12, rankLength: 5, zipfExponent: 1.2, seed: 7 };
    const first = await seedSynthetic(options);
    expect(first.applied).toBe(120);
    const counts = await getDb().execute<{ title: string; first: number; total: number }>(sql`
      select t.title, count(*) filter (where r.position = 1)::int as first, count(*)::int as total
      from topics t join rankings r on r.topic_id = t.id
      where t.period_id = ${first.period.periodId} group by t.title order by t.title`);
    expect(counts.reduce((sum, row) => sum + row.total, 0)).toBe(120 * 5);
    // Zipf weights: the most popular topic is ranked first far more often than the least popular.
    const byTitle = new Map(counts.map((row) => [row.title, row.first]));
    expect(byTitle.get("Synthetic topic 01")!).toBeGreaterThan(3 * (byTitle.get("Synthetic topic 12") ?? 0));
    const rankedEvents = await getDb().execute<{ n: number }>(sql`
      select count(*)::int as n from events where type = 'RANKINGS_BATCH_UPDATED' and period_id = ${first.period.periodId}`);
    expect(rankedEvents[0].n).toBe(120);
    expect(await pendingRankingDeltas(getDb())).toBe(0);
    const second = await seedSynthetic(options);
    expect([second.period.created, second.applied, second.kept]).toEqual([false, 0, 120]);
  });
});
