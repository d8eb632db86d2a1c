import type { CsvError } from "~/models/csv-import";

/** The per-line problems of an uploaded file, in file order. */
export function CsvErrorTable({ errors }: { errors: CsvError[] }) {
  return (
    <div className="card border-red-200 p-0" role="alert">
      <p className="border-b border-red-200 bg-red-50 px-4 py-2 text-sm font-semibold text-red-800">
        {errors.length === 1 ? "1 problem" : `${errors.length} problems`} found. Nothing was imported; fix the file and
        preview it again.
      </p>
      <table className="min-w-full text-sm" data-testid="csv-errors">
        <thead className="text-left text-slate-600">
          <tr>
            <th scope="col" className="px-4 py-2 font-medium">Line</th>
            <th scope="col" className="px-4 py-2 font-medium">Column</th>
            <th scope="col" className="px-4 py-2 font-medium">Problem</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {errors.map((error, index) => (
            <tr key={index}>
              <td className="px-4 py-1 tabular-nums">{error.line}</td>
              <td className="px-4 py-1 font-mono">{error.column || "—"}</td>
              <td className="px-4 py-1">{error.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
