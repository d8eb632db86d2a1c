import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { getSessionUser } from "~/session.server";

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getSessionUser(request);
  if (!user) throw redirect("/login");
  throw redirect(user.role === "admin" ? "/admin" : "/student");
}
