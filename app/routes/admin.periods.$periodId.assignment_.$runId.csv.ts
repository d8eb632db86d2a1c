import type { LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "~/db.server";
import { exportRunCsv, requireRouteIds, rethrowAsResponse } from "~/models/assignment/runs.server";
import { requireAdmin } from "~/session.server";

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireAdmin(request);
  const { periodId, runId } = requireRouteIds(params, ["periodId", "runId"]);
  const csv = await exportRunCsv({ db: getDb(), periodId, runId }).catch(rethrowAsResponse);
  return new Response(csv, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="assignment-${runId}.csv"`,
      "Cache-Control": "no-store",
    },
  });
}
