import { isRouteErrorResponse, Link, useRouteError } from "@remix-run/react";

const TITLES: Record<number, string> = {
  400: "That request was not valid",
  403: "You may not open this page",
  404: "Not found",
  409: "That conflicts with the current state",
};

/** The one error boundary: expected failures (thrown Responses) and programmer errors alike. */
export function GeneralErrorBoundary() {
  const error = useRouteError();
  let status = 500;
  let title = "Something went wrong";
  let detail = "The error was logged. Please try again in a moment.";
  if (isRouteErrorResponse(error)) {
    status = error.status;
    title = TITLES[status] ?? (status >= 500 ? title : `Request failed (${status})`);
    detail = typeof error.data === "string" && error.data ? error.data : error.statusText;
  } else if (error instanceof Error && process.env.NODE_ENV !== "production") {
    detail = error.message;
  }
  return (
    <div role="alert" className="mx-auto my-16 max-w-lg rounded-lg border border-red-200 bg-red-50 p-6">
      <p className="text-sm font-semibold text-red-700">Error {status}</p>
      <h1 className="mt-1 text-xl font-bold text-slate-900">{title}</h1>
      <p className="mt-2 text-slate-700">{detail}</p>
      <Link to="/" className="btn-secondary mt-4">
        Back to the start page
      </Link>
    </div>
  );
}
