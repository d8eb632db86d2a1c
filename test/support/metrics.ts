import { and, eq, sql } from "drizzle-orm";
import { events } from "../../drizzle/schema";
import { getDb, type Executor } from "~/db.server";

export type TruthRow = {
  topicId: string;
  studentCount: number;
  averagePosition: number | null;
  standardDeviation: number | null;
  distribution: number[];
  percentile: number | null;
  competitionCategory: string | null;
  demandRatio: number;
};

/**
 * The metric definitions of PRODUCT.md computed by plain SQL over the
 * rankings table, independently of the aggregates and of app/models/metrics.ts.
 */
export async function metricsBySql(db: Executor, periodId: string): Promise<Map<string, TruthRow>> {
  const rows = (await db.execute(sql`
    with per_topic as (
      select t.id, t.capacity,
             count(r.position)::int as n,
             avg(r.position)::float8 as average,
             stddev_pop(r.position)::float8 as deviation,
             count(r.position) filter (where r.position <= 3)::int as top3
      from topics t left join rankings r on r.topic_id = t.id
      where t.period_id = ${periodId}
      group by t.id
    ), topic_total as (
      select count(*)::int as total from topics where period_id = ${periodId}
    )
    select p.id, p.n, p.average, p.deviation, p.top3, p.capacity, tt.total,
           array(select count(r.position)::int from generate_series(1, 10) g(position)
                 left join rankings r on r.topic_id = p.id and r.position = g.position
                 group by g.position order by g.position) as distribution,
           (select count(*)::int from per_topic o where o.id <> p.id and o.n > 0) as others,
           (select count(*)::int from per_topic o where o.id <> p.id and o.n > 0 and o.average > p.average) as less_contested
    from per_topic p cross join topic_total tt`)) as unknown as {
    id: string;
    n: number;
    average: number | null;
    deviation: number | null;
    top3: number;
    capacity: number;
    total: number;
    distribution: number[];
    others: number;
    less_contested: number;
  }[];
  return new Map(
    rows.map((row) => {
      const normalized = row.average === null ? null : row.average / row.total;
      const category =
        normalized === null ? null : normalized <= 0.2 ? "very-high" : normalized <= 0.4 ? "high" : normalized <= 0.6 ? "medium" : "low";
      return [
        row.id,
        {
          topicId: row.id,
          studentCount: row.n,
          averagePosition: row.average,
          standardDeviation: row.deviation,
          distribution: row.distribution,
          percentile: row.n === 0 || row.others === 0 ? null : (100 * row.less_contested) / row.others,
          competitionCategory: category,
          demandRatio: row.top3 / row.capacity,
        },
      ];
    }),
  );
}

/** How many METRICS_CALCULATED events a topic has: one per recompute that stored its metrics. */
export async function calculatedEventsFor(topicId: string): Promise<number> {
  const rows = await getDb()
    .select({ id: events.id })
    .from(events)
    .where(and(eq(events.type, "METRICS_CALCULATED"), sql`${events.payload}->>'topicId' = ${topicId}`));
  return rows.length;
}
