import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { logout } from "~/session.server";

export async function loader() {
  // Signing out changes state, so it is a POST only; a GET just goes home.
  return redirect("/");
}

export async function action({ request }: ActionFunctionArgs) {
  return logout(request);
}
