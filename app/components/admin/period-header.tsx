import { Link } from "@remix-run/react";
import type { ReactNode } from "react";

/**
 * The top of every page under one period: the way back to the period, the page
 * title with its inline actions (`actions`), and whatever explains the page below.
 */
export function PeriodPageHeader({
  period,
  title,
  actions,
  children,
}: {
  period: { id: string; title: string };
  title: string;
  actions?: ReactNode;
  children?: ReactNode;
}) {
  return (
    <div>
      <Link
        to={`/admin/periods/${period.id}`}
        className="text-sm text-indigo-700 underline"
      >
        ← {period.title}
      </Link>
      <div className="mt-2 flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-bold">{title}</h1>
        {actions}
      </div>
      {children}
    </div>
  );
}
