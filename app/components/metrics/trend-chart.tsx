import {
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

export type TrendChartPoint = { at: string; averagePosition: number };

function timeLabel(iso: string, spanMs: number): string {
  const date = new Date(iso);
  const options: Intl.DateTimeFormatOptions =
    spanMs > 86_400_000
      ? { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }
      : { hour: "2-digit", minute: "2-digit" };
  // One fixed locale and zone, like the rest of the console: the server and the browser render the same text.
  return date.toLocaleString("en-GB", { ...options, timeZone: "UTC" });
}

/**
 * Average position over time. The y axis is reversed so that "more
 * contested" (a smaller average position) reads as higher on the chart.
 */
export function TrendChart({
  points,
  height = 240,
}: {
  points: TrendChartPoint[];
  height?: number;
}) {
  if (points.length === 0) {
    return (
      <p className="text-sm text-slate-500" data-testid="trend-empty">
        No recomputes in this time window yet.
      </p>
    );
  }
  const span =
    points.length > 1
      ? Date.parse(points[points.length - 1].at) - Date.parse(points[0].at)
      : 0;
  const data = points.map((point) => ({
    ...point,
    time: Date.parse(point.at),
  }));
  const averages = points.map((point) => point.averagePosition);
  // Half a position of room around the data, so small moves stay visible.
  const domain = [
    Math.max(1, Math.floor(Math.min(...averages) * 2) / 2 - 0.5),
    Math.ceil(Math.max(...averages) * 2) / 2 + 0.5,
  ];
  return (
    <figure data-testid="trend-chart">
      <figcaption className="mb-1 text-xs text-slate-500">
        Average position (higher on the chart = more contested)
      </figcaption>
      <div style={{ width: "100%", height }}>
        <ResponsiveContainer>
          <LineChart
            data={data}
            margin={{ top: 8, right: 16, bottom: 24, left: 8 }}
          >
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis
              dataKey="time"
              type="number"
              scale="time"
              domain={["dataMin", "dataMax"]}
              tickFormatter={(value: number) =>
                timeLabel(new Date(value).toISOString(), span)
              }
              tick={{ fontSize: 12, fill: "#475569" }}
              label={{
                value: "Time (UTC)",
                position: "insideBottom",
                offset: -12,
                fontSize: 12,
                fill: "#475569",
              }}
            />
            <YAxis
              reversed
              allowDecimals
              domain={domain}
              tickCount={6}
              tickFormatter={(value: number) => value.toFixed(1)}
              tick={{ fontSize: 12, fill: "#475569" }}
              width={48}
            />
            <Tooltip
              labelFormatter={(value) =>
                new Date(Number(value)).toUTCString()
              }
              formatter={(value) => [
                Number(value).toFixed(2),
                "Average position",
              ]}
            />
            <Line
              type="monotone"
              dataKey="averagePosition"
              stroke="#4f46e5"
              strokeWidth={2}
              dot={points.length < 60}
              isAnimationActive={false}
            />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
