import { Form } from "@remix-run/react";
import type { ReactNode } from "react";
import { FormAlert } from "~/components/form-alert";
import type { CsvError } from "~/models/csv-import";

/** What a CSV import action answers to a preview or a failed import. */
export type CsvImportReply<Row> = {
  errors: CsvError[];
  formError: string | null;
  preview: Row[];
  csv: string;
};

export type CsvPreviewColumn<Row> = {
  header: string;
  cell: (row: Row) => ReactNode;
  numeric?: boolean;
};

/**
 * The two-step import used by every CSV upload: a paste-or-upload form that previews,
 * then the validated rows with one button that imports exactly the previewed text.
 */
export function CsvImportPanel<Row extends { line: number }>({
  reply,
  busy,
  idPrefix,
  placeholder,
  summary,
  columns,
  submitLabel,
}: {
  reply: CsvImportReply<Row> | null;
  busy: boolean;
  idPrefix: string;
  placeholder: string;
  summary: (rows: Row[]) => ReactNode;
  columns: CsvPreviewColumn<Row>[];
  submitLabel: (rows: Row[]) => string;
}) {
  return (
    <>
      <FormAlert message={reply?.formError} />
      {reply && reply.errors.length > 0 ? <CsvErrorTable errors={reply.errors} /> : null}
      {reply && reply.preview.length > 0 ? (
        <Form method="post" className="card space-y-4 p-0">
          <p className="px-4 pt-4 font-semibold">{summary(reply.preview)}</p>
          <div className="max-h-96 overflow-auto">
            <table className="min-w-full text-sm" data-testid="csv-preview">
              <thead className="sticky top-0 bg-slate-50 text-left text-slate-600">
                <tr>
                  <th scope="col" className="px-4 py-2 font-medium">Line</th>
                  {columns.map((column) => (
                    <th key={column.header} scope="col" className={`px-4 py-2 font-medium${column.numeric ? " text-right" : ""}`}>
                      {column.header}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {reply.preview.map((row) => (
                  <tr key={row.line}>
                    <td className="px-4 py-1 tabular-nums text-slate-500">{row.line}</td>
                    {columns.map((column) => (
                      <td key={column.header} className={`px-4 py-1${column.numeric ? " text-right tabular-nums" : ""}`}>
                        {column.cell(row)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <input type="hidden" name="csv" value={reply.csv} />
          <div className="px-4 pb-4">
            <button type="submit" name="intent" value="import" className="btn-primary" disabled={busy}>
              {submitLabel(reply.preview)}
            </button>
          </div>
        </Form>
      ) : null}
      {/* Keyed by the text so that a new preview resets the file input. */}
      <Form method="post" encType="multipart/form-data" className="card max-w-2xl space-y-4" key={reply?.csv ?? ""}>
        <div>
          <label htmlFor={`${idPrefix}-file`} className="label">
            CSV file
          </label>
          <input id={`${idPrefix}-file`} name="file" type="file" accept=".csv,text/csv" className="block text-sm" />
        </div>
        <div>
          <label htmlFor={`${idPrefix}-csv`} className="label">
            …or paste the CSV text
          </label>
          <textarea
            id={`${idPrefix}-csv`}
            name="csv"
            rows={6}
            className="input font-mono"
            defaultValue={reply?.errors.length ? reply.csv : ""}
            placeholder={placeholder}
          />
        </div>
        <button type="submit" name="intent" value="preview" className="btn-secondary" disabled={busy}>
          Preview
        </button>
      </Form>
    </>
  );
}

/** The per-line problems of an uploaded file, in file order. */
function CsvErrorTable({ errors }: { errors: CsvError[] }) {
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
