import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export type ParticipationPoint = { at: string; ranked: number };

function tickLabel(time: number, spanMs: number) {
  const options: Intl.DateTimeFormatOptions =
    spanMs > 86_400_000 ? { month: "short", day: "numeric" } : { hour: "2-digit", minute: "2-digit" };
  return new Date(time).toLocaleString("en-GB", { ...options, timeZone: "UTC" });
}

/** Ranked vs not yet as one labelled bar, readable without colour alone. */
export function ParticipationBar({ ranked, students }: { ranked: number; students: number }) {
  const share = students === 0 ? 0 : Math.round((100 * ranked) / students);
  return (
    <figure data-testid="participation">
      <figcaption className="flex items-baseline justify-between text-sm">
        <span>
          <strong className="text-2xl tabular-nums" data-testid="participation-ranked">
            {ranked}
          </strong>{" "}
          of <span className="tabular-nums">{students}</span> students have ranked
        </span>
        <span className="tabular-nums text-slate-600">{share}%</span>
      </figcaption>
      <div
        className="mt-2 flex h-4 overflow-hidden rounded bg-slate-200"
        role="img"
        aria-label={`${ranked} ranked, ${students - ranked} not yet`}
      >
        <div className="bg-emerald-500" style={{ width: `${share}%` }} />
      </div>
      <div className="mt-1 flex justify-between text-xs text-slate-600">
        <span>
          <span className="mr-1 inline-block h-2 w-2 rounded-sm bg-emerald-500" />
          ranked {ranked}
        </span>
        <span>
          <span className="mr-1 inline-block h-2 w-2 rounded-sm bg-slate-300" />
          not yet {students - ranked}
        </span>
      </div>
    </figure>
  );
}

/** Students who had started ranking, over time (cumulative, from the ranking events). */
export function ParticipationChart({ points, students, height = 220 }: { points: ParticipationPoint[]; students: number; height?: number }) {
  if (points.length === 0) {
    return <p className="text-sm text-slate-500">Nobody has ranked yet.</p>;
  }
  // A lone point draws no area; start the line at zero one step earlier.
  const series = points.map((point) => ({ time: Date.parse(point.at), ranked: point.ranked }));
  if (series.length === 1) series.unshift({ time: series[0].time - 60_000, ranked: 0 });
  const span = series[series.length - 1].time - series[0].time;
  return (
    <div style={{ width: "100%", height }} data-testid="participation-chart">
      <ResponsiveContainer>
        <AreaChart data={series} margin={{ top: 8, right: 16, bottom: 24, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis
            dataKey="time"
            type="number"
            scale="time"
            domain={["dataMin", "dataMax"]}
            tickFormatter={(value: number) => tickLabel(value, span)}
            tick={{ fontSize: 12, fill: "#475569" }}
            label={{ value: "Time (UTC)", position: "insideBottom", offset: -12, fontSize: 12, fill: "#475569" }}
          />
          <YAxis
            allowDecimals={false}
            domain={[0, Math.max(1, students)]}
            tick={{ fontSize: 12, fill: "#475569" }}
            label={{ value: "Ranked", angle: -90, position: "insideLeft", fontSize: 12, fill: "#475569" }}
            width={56}
          />
          <Tooltip
            labelFormatter={(value) => new Date(Number(value)).toUTCString()}
            formatter={(value) => [String(value), "Students ranked"]}
          />
          <Area type="stepAfter" dataKey="ranked" stroke="#059669" fill="#a7f3d0" strokeWidth={2} isAnimationActive={false} />
        </AreaChart>
      </ResponsiveContainer>
    </div>
  );
}
