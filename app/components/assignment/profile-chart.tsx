import { Bar, BarChart, CartesianGrid, LabelList, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ordinal, type RunProfile } from "~/models/assignment/explain";

type Series = { name: string; profile: RunProfile };

const COLORS = ["#4f46e5", "#f59e0b"];

/** One bar per choice (1st, 2nd, …), then "not ranked" and "unassigned", for one run or two side by side. */
function chartRows(series: Series[]) {
  const depth = Math.max(0, ...series.map((entry) => entry.profile.byRank.length));
  const rows: Record<string, string | number>[] = [];
  for (let rank = 1; rank <= depth; rank++) {
    rows.push({ label: `${ordinal(rank)} choice`, ...Object.fromEntries(series.map((entry) => [entry.name, entry.profile.byRank[rank - 1] ?? 0])) });
  }
  if (series.some((entry) => entry.profile.unranked > 0)) {
    rows.push({ label: "not ranked", ...Object.fromEntries(series.map((entry) => [entry.name, entry.profile.unranked])) });
  }
  rows.push({ label: "unassigned", ...Object.fromEntries(series.map((entry) => [entry.name, entry.profile.unassigned])) });
  return rows;
}

export function ProfileChart({ series, title }: { series: Series[]; title: string }) {
  const rows = chartRows(series);
  return (
    <figure aria-label={title}>
      <div className="h-64 w-full" aria-hidden="true">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} margin={{ top: 20, right: 8, bottom: 4, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 12 }} />
            <YAxis allowDecimals={false} tick={{ fontSize: 12 }} width={40} />
            <Tooltip />
            {series.length > 1 ? <Legend /> : null}
            {series.map((entry, index) => (
              <Bar key={entry.name} dataKey={entry.name} fill={COLORS[index % COLORS.length]} isAnimationActive={false}>
                <LabelList dataKey={entry.name} position="top" fontSize={12} />
              </Bar>
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
      {/* The same figures as text, for screen readers and for copying. */}
      <figcaption>
        <table className="mt-2 text-sm" data-testid="profile-table">
          <thead className="text-left text-slate-600">
            <tr>
              <th scope="col" className="pr-4 font-medium">
                Placed on
              </th>
              {series.map((entry) => (
                <th key={entry.name} scope="col" className="pr-4 text-right font-medium">
                  {entry.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={String(row.label)}>
                <th scope="row" className="pr-4 text-left font-normal">
                  {row.label}
                </th>
                {series.map((entry) => (
                  <td key={entry.name} className="pr-4 text-right tabular-nums">
                    {row[entry.name]}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </figcaption>
    </figure>
  );
}
