import type { LoaderFunctionArgs } from "@remix-run/node";
import Papa from "papaparse";
import { z } from "zod";
import { getDb } from "~/db.server";
import { EventFilterSchema, iteratePeriodEvents } from "~/models/event-log.server";
import { requireAdminPeriod } from "~/utils/admin.server";
import { problem } from "~/utils/http";

const FormatSchema = z.object({ format: z.enum(["csv", "json"], "Choose format csv or json.") });

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { period } = await requireAdminPeriod(request, params.periodId);
  const query = Object.fromEntries(new URL(request.url).searchParams);
  const format = FormatSchema.safeParse(query);
  if (!format.success) return problem(400, format.error.issues[0].message);
  const { format: _format, ...filterQuery } = query;
  const filter = EventFilterSchema.safeParse(filterQuery);
  if (!filter.success) return problem(400, filter.error.issues[0].message);
  const rows = [];
  for await (const event of iteratePeriodEvents({ db: getDb(), periodId: period.id, filter: filter.data })) rows.push(event);
  const name = `events-${period.id}`;
  if (format.data.format === "json") {
    return new Response(JSON.stringify(rows, null, 2), {
      headers: { "Content-Type": "application/json", "Content-Disposition": `attachment; filename="${name}.json"` },
    });
  }
  const csv = Papa.unparse(
    rows.map((event) => ({
      id: event.id,
      createdAt: event.createdAt,
      type: event.type,
      actorType: event.actorType,
      actorId: event.actorId ?? "",
      actorEmail: event.actorEmail ?? "",
      sessionId: event.sessionId ?? "",
      payload: JSON.stringify(event.payload),
    })),
    { escapeFormulae: true, columns: ["id", "createdAt", "type", "actorType", "actorId", "actorEmail", "sessionId", "payload"] },
  );
  return new Response(csv, {
    headers: { "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename="${name}.csv"` },
  });
}
