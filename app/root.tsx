import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, Links, Meta, Outlet, Scripts, ScrollRestoration, useRouteLoaderData } from "@remix-run/react";
import { GeneralErrorBoundary } from "./components/error-boundary";
import { getSessionUser } from "./session.server";
import stylesheet from "./tailwind.css";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: stylesheet }];

export const meta: MetaFunction = () => [{ title: "TopicMatch" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getSessionUser(request);
  return { user: user && { name: user.name, email: user.email, role: user.role } };
}

export function Layout({ children }: { children: React.ReactNode }) {
  const data = useRouteLoaderData<typeof loader>("root");
  const user = data?.user;
  return (
    <html lang="en" className="h-full bg-slate-50">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body className="h-full text-slate-900">
        <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2">
          Skip to content
        </a>
        <header className="border-b border-slate-200 bg-white">
          <nav className="mx-auto flex max-w-6xl items-center justify-between px-4 py-3" aria-label="Main">
            <Link to="/" className="text-lg font-bold text-indigo-700">
              TopicMatch
            </Link>
            {user ? (
              <div className="flex items-center gap-4 text-sm">
                {user.role === "admin" ? (
                  <Link to="/admin" className="font-medium text-slate-700 hover:text-indigo-700">
                    Admin
                  </Link>
                ) : (
                  <Link to="/student" className="font-medium text-slate-700 hover:text-indigo-700">
                    My ranking
                  </Link>
                )}
                <span className="hidden text-slate-500 sm:inline" data-testid="signed-in-as">
                  {user.name} · {user.role}
                </span>
                <Form method="post" action="/logout">
                  <button type="submit" className="btn-secondary py-1">
                    Sign out
                  </button>
                </Form>
              </div>
            ) : (
              <div className="flex gap-3 text-sm">
                <Link to="/login" className="font-medium text-slate-700 hover:text-indigo-700">
                  Sign in
                </Link>
                <Link to="/register" className="font-medium text-slate-700 hover:text-indigo-700">
                  Register
                </Link>
              </div>
            )}
          </nav>
        </header>
        <main id="main" className="mx-auto max-w-6xl px-4 py-8">
          {children}
        </main>
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
