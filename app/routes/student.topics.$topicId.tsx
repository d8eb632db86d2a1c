import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useSubmit } from "@remix-run/react";
import { z } from "zod";
import { GeneralErrorBoundary } from "~/components/error-boundary";
import { TopicMetricsSummary } from "~/components/metrics/topic-metrics-summary";
import { TrendChart } from "~/components/metrics/trend-chart";
import { useLiveMetrics } from "~/components/metrics/use-live-metrics";
import { getDb } from "~/db.server";
import { TREND_BUCKET_MINUTES, TREND_WINDOW_HOURS } from "~/models/metrics";
import { getPeriodMetrics, getTopicForMetrics, getTopicTrend } from "~/models/metrics.server";
import { requireStudent } from "~/session.server";
import { invariantResponse } from "~/utils/http";

const ParamsSchema = z.object({ topicId: z.uuid() });
const TrendQuerySchema = z.object({
  hours: z.coerce
    .number()
    .refine((value) => (TREND_WINDOW_HOURS as readonly number[]).includes(value), "Choose one of the offered windows.")
    .default(24),
  bucket: z.coerce
    .number()
    .refine((value) => (TREND_BUCKET_MINUTES as readonly number[]).includes(value), "Choose one of the offered bucket sizes.")
    .default(15),
});

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.topic.title ?? "Topic"} · TopicMatch` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const student = await requireStudent(request);
  const parsedParams = ParamsSchema.safeParse(params);
  invariantResponse(parsedParams.success, "No such topic.", { status: 404 });
  const url = new URL(request.url);
  const query = TrendQuerySchema.safeParse(Object.fromEntries(url.searchParams));
  invariantResponse(query.success, query.error?.issues[0]?.message ?? "Bad trend settings.", { status: 400 });
  const db = getDb();
  const topic = await getTopicForMetrics({ db, topicId: parsedParams.data.topicId, viewer: student });
  invariantResponse(topic, "No such topic.", { status: 404 });
  const { hours, bucket } = query.data;
  const [metrics, trend] = await Promise.all([
    getPeriodMetrics({ db, periodId: topic.periodId }),
    getTopicTrend({ db, topicId: topic.id, since: new Date(Date.now() - hours * 3_600_000), bucketMinutes: bucket }),
  ]);
  return { topic, metrics, trend, hours, bucket };
}

export default function TopicDetail() {
  const { topic, metrics: initial, trend, hours, bucket } = useLoaderData<typeof loader>();
  const { metrics, connected } = useLiveMetrics(topic.periodId, initial);
  const submit = useSubmit();
  const current = metrics.find((entry) => entry.topicId === topic.id);
  return (
    <div className="space-y-6">
      <div>
        <Link to="/student" className="text-sm text-indigo-700 hover:underline">
          ← {topic.periodTitle}
        </Link>
        <h1 className="mt-1 text-2xl font-bold">{topic.title}</h1>
        <p className="text-slate-600">
          {topic.supervisor} · {topic.capacity} place{topic.capacity === 1 ? "" : "s"}
        </p>
        {topic.description ? <p className="mt-2 text-slate-700">{topic.description}</p> : null}
      </div>
      <section aria-labelledby="live-metrics" className="card space-y-3">
        <div className="flex items-center justify-between">
          <h2 id="live-metrics" className="text-lg font-semibold">
            Competition now
          </h2>
          <span className="text-xs text-slate-500" data-testid="live-status">
            {connected ? "live" : "reconnecting…"}
          </span>
        </div>
        {current ? <TopicMetricsSummary metrics={current} /> : null}
      </section>
      <section aria-labelledby="trend" className="card space-y-3">
        <div className="flex flex-wrap items-end justify-between gap-3">
          <h2 id="trend" className="text-lg font-semibold">
            Average position over time
          </h2>
          <Form method="get" className="flex gap-3 text-sm" onChange={(event) => submit(event.currentTarget)}>
            <label className="flex items-center gap-1">
              Window
              <select name="hours" defaultValue={hours} className="rounded border border-slate-300 px-2 py-1">
                {TREND_WINDOW_HOURS.map((value) => (
                  <option key={value} value={value}>
                    last {value} h
                  </option>
                ))}
              </select>
            </label>
            <label className="flex items-center gap-1">
              Step
              <select name="bucket" defaultValue={bucket} className="rounded border border-slate-300 px-2 py-1">
                {TREND_BUCKET_MINUTES.map((value) => (
                  <option key={value} value={value}>
                    {value} min
                  </option>
                ))}
              </select>
            </label>
            <noscript>
              <button type="submit" className="btn">
                Show
              </button>
            </noscript>
          </Form>
        </div>
        <TrendChart points={trend} />
      </section>
    </div>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
