import Papa from "papaparse";
import { z } from "zod";

/** One problem in an uploaded file, addressed the way a spreadsheet user finds it. */
export type CsvError = { line: number; column: string; message: string };

export type CsvRow<T> = { line: number; value: T };

export type CsvResult<T> = { rows: CsvRow<T>[]; errors: CsvError[] };

type ColumnSpec = { name: string; required: boolean; schema: z.ZodType };

export const MAX_CSV_ROWS = 5_000;

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let index = text.indexOf("\n"); index !== -1; index = text.indexOf("\n", index + 1)) starts.push(index + 1);
  return starts;
}

/** 1-based line of a character offset (binary search over the line starts). */
function lineAt(starts: number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle] <= offset) low = middle;
    else high = middle - 1;
  }
  return low + 1;
}

/**
 * Parses a CSV file with a header line against column specs. Every problem is
 * reported with the line it starts on (quoted fields may span lines), so the
 * admin can fix the whole file in one pass; rows are returned only for lines
 * without errors, and callers import nothing unless `errors` is empty.
 */
function parseCsv<T>(text: string, columns: ColumnSpec[], rowSchema: (values: Record<string, unknown>) => T): CsvResult<T> {
  const source = text.replace(/^\uFEFF/, "");
  const starts = lineStarts(source);
  const errors: CsvError[] = [];
  const rows: CsvRow<T>[] = [];
  let header: string[] | null = null;
  let rowStart = 0;
  let dataRows = 0;
  let headerClean = true;
  const firstLine = source.slice(0, starts[1] ?? source.length);
  // Spreadsheets in many locales save with semicolons; the header tells which.
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ";" : ",";

  Papa.parse<string[]>(source, {
    delimiter,
    step: (result) => {
      const start = rowStart;
      rowStart = result.meta.cursor;
      const line = lineAt(starts, start);
      const fields = result.data;
      if (fields.every((field) => field.trim() === "")) return;
      const quoteError = result.errors.find((error) => error.type === "Quotes");
      if (quoteError) {
        errors.push({ line, column: "", message: "A quoted field is never closed (missing \")." });
        return;
      }
      if (!header) {
        header = fields.map((field) => field.trim().toLowerCase());
        const known = new Set(columns.map((column) => column.name));
        header.forEach((name) => {
          if (known.has(name)) return;
          headerClean = false;
          errors.push({ line, column: name, message: `Unknown column "${name}"; expected ${[...known].join(", ")}.` });
        });
        for (const column of columns) {
          if (column.required && !header.includes(column.name)) {
            headerClean = false;
            errors.push({ line, column: column.name, message: `The header has no "${column.name}" column.` });
          }
        }
        return;
      }
      dataRows++;
      // Rows cannot be read against a wrong header; its errors come first.
      if (!headerClean) return;
      if (dataRows > MAX_CSV_ROWS) {
        if (dataRows === MAX_CSV_ROWS + 1) errors.push({ line, column: "", message: `A file may hold at most ${MAX_CSV_ROWS} rows.` });
        return;
      }
      if (fields.length !== header.length) {
        errors.push({ line, column: "", message: `Expected ${header.length} fields, found ${fields.length}.` });
        return;
      }
      const values: Record<string, unknown> = {};
      let clean = true;
      for (const column of columns) {
        const at = header.indexOf(column.name);
        const parsed = column.schema.safeParse(at === -1 ? "" : fields[at].trim());
        if (parsed.success) values[column.name] = parsed.data;
        else {
          clean = false;
          errors.push({ line, column: column.name, message: parsed.error.issues[0].message });
        }
      }
      if (clean) rows.push({ line, value: rowSchema(values) });
    },
  });
  if (!header) errors.push({ line: 1, column: "", message: "The file is empty." });
  else if (dataRows === 0) errors.push({ line: 2, column: "", message: "The file has a header but no rows." });
  return { rows, errors };
}

const text = (max: number, label: string) => z.string().max(max, `${label} must be at most ${max} characters.`);

export type TopicCsvRow = { title: string; description: string; supervisor: string; capacity: number };

const TOPIC_COLUMNS: ColumnSpec[] = [
  { name: "title", required: true, schema: text(200, "The title").min(1, "The title is empty.") },
  {
    name: "capacity",
    required: true,
    schema: z
      .string()
      .regex(/^\d+$/, "The capacity must be a whole number.")
      .transform(Number)
      .pipe(z.number().int().min(1, "The capacity must be at least 1.").max(10_000, "The capacity must be at most 10000.")),
  },
  { name: "supervisor", required: false, schema: text(200, "The supervisor") },
  { name: "description", required: false, schema: text(5_000, "The description") },
];

/** Topics from CSV (title, capacity, optional supervisor and description); titles must be unique in the file and the period. */
export function parseTopicsCsv(source: string, existingTitles: string[] = []): CsvResult<TopicCsvRow> {
  const result = parseCsv(source, TOPIC_COLUMNS, (values) => values as TopicCsvRow);
  const seen = new Map(existingTitles.map((title) => [title.toLowerCase(), 0]));
  const rows: CsvRow<TopicCsvRow>[] = [];
  for (const row of result.rows) {
    const key = row.value.title.toLowerCase();
    const earlier = seen.get(key);
    if (earlier === undefined) {
      seen.set(key, row.line);
      rows.push(row);
    } else {
      result.errors.push({
        line: row.line,
        column: "title",
        message: earlier === 0 ? "The period already has a topic with this title." : `The same title is on line ${earlier}.`,
      });
    }
  }
  return { rows, errors: sortErrors(result.errors) };
}

export type StudentCsvRow = { email: string; name: string };

const STUDENT_COLUMNS: ColumnSpec[] = [
  {
    name: "email",
    required: true,
    schema: z.string().min(1, "The email is empty.").pipe(z.email("This is not a valid email address.")).transform((email) => email.toLowerCase()),
  },
  { name: "name", required: true, schema: text(200, "The name").min(1, "The name is empty.") },
];

/** Students from CSV (email, name); an email may appear once. */
export function parseStudentsCsv(source: string): CsvResult<StudentCsvRow> {
  const result = parseCsv(source, STUDENT_COLUMNS, (values) => values as StudentCsvRow);
  const seen = new Map<string, number>();
  const rows: CsvRow<StudentCsvRow>[] = [];
  for (const row of result.rows) {
    const earlier = seen.get(row.value.email);
    if (earlier === undefined) {
      seen.set(row.value.email, row.line);
      rows.push(row);
    } else {
      result.errors.push({ line: row.line, column: "email", message: `The same email is on line ${earlier}.` });
    }
  }
  return { rows, errors: sortErrors(result.errors) };
}

function sortErrors(errors: CsvError[]): CsvError[] {
  return errors.sort((a, b) => a.line - b.line);
}
