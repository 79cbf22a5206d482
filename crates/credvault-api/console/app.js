// The console's shell: who is signed in, the navigation, and which page a path shows. Pages
// are modules that build their content from the API; links between them change the path
// with the History API, so every page can be reloaded and bookmarked.

import { ApiError, get, session, whenUnauthorized } from "./api.js";
import { button, h } from "./dom.js";
import { signInPage } from "./pages/sign_in.js";
import { credentialsPage } from "./pages/credentials.js";
import { credentialPage } from "./pages/credential.js";
import { createPage, editPage } from "./pages/edit.js";
import { auditPage, teamsPage, usersPage } from "./pages/admin.js";

const routes = [
  [/^\/(credentials)?$/, credentialsPage],
  [/^\/credentials\/new$/, createPage],
  [/^\/credentials\/(\d+)$/, credentialPage],
  [/^\/credentials\/(\d+)\/edit$/, editPage],
  [/^\/users$/, usersPage, { admin: true }],
  [/^\/teams$/, teamsPage, { admin: true }],
  [/^\/audit_logs$/, auditPage, { admin: true }],
];

// The signed-in user (GET /api/v1/me), or null.
let me = null;
// A message to show on the next page (e.g. "Credential deleted").
let pendingNotice = "";

export function navigate(path, notice = "") {
  pendingNotice = notice;
  history.pushState(null, "", path);
  render();
}

function notify(text) {
  document.getElementById("status").textContent = text;
}

async function render() {
  const main = document.getElementById("main");
  notify(pendingNotice);
  pendingNotice = "";
  if (session.key() && !me) {
    try {
      me = await get("/me");
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) return showFailure(main, e);
      // The key kept from earlier in this tab was revoked meanwhile: ask for another.
      session.signOut();
      notify("Your API key is no longer accepted; sign in again.");
    }
  }
  renderNav();
  if (!me) {
    document.title = "Sign in · credvault";
    main.replaceChildren(signInPage({ signedIn }));
    return main.querySelector("input")?.focus();
  }
  const path = location.pathname;
  const route = routes.find(([pattern]) => pattern.test(path));
  if (!route || (route[2]?.admin && !me.admin)) {
    document.title = "Not found · credvault";
    return main.replaceChildren(h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/" }, "Back to the credentials")));
  }
  const [pattern, page] = route;
  const params = path.match(pattern).slice(1);
  main.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  try {
    const content = await page({ me, params, navigate, notify, query: new URLSearchParams(location.search) });
    if (location.pathname !== path) return; // the user went elsewhere meanwhile
    main.replaceChildren(content);
    const heading = main.querySelector("h1");
    document.title = `${heading?.textContent ?? "credvault"} · credvault`;
    heading?.setAttribute("tabindex", "-1");
    heading?.focus();
  } catch (e) {
    // A 401 has already sent the tab back to the sign-in page (whenUnauthorized below).
    if (!(e instanceof ApiError && e.status === 401)) showFailure(main, e);
  }
}

function showFailure(main, e) {
  const notFound = e instanceof ApiError && e.status === 404;
  document.title = `${notFound ? "Not found" : "Error"} · credvault`;
  main.replaceChildren(h("h1", {}, notFound ? "Not found" : "Something went wrong"),
    h("p", { class: "error", role: "alert" }, e.message), h("p", {}, h("a", { href: "/" }, "Back to the credentials")));
}

function renderNav() {
  const nav = document.getElementById("nav");
  if (!me) return nav.replaceChildren();
  const link = (href, label) => h("a", { href, "aria-current": location.pathname === href ? "page" : null }, label);
  nav.replaceChildren(
    link("/", "Credentials"),
    ...(me.admin ? [link("/users", "Users"), link("/teams", "Teams"), link("/audit_logs", "Audit log")] : []),
    h("span", { class: "who" }, me.email),
    button("Sign out", { onclick: signOut }));
}

function signedIn(user) {
  me = user;
  render();
}

function signOut() {
  session.signOut();
  me = null;
  navigate("/", "Signed out.");
}

whenUnauthorized(() => {
  if (!me) return;
  session.signOut();
  me = null;
  pendingNotice = "Your API key is no longer accepted; sign in again.";
  render();
});

// Same-origin links change the page without reloading (and without losing the session key).
document.addEventListener("click", (event) => {
  const a = event.target.closest("a[href]");
  if (!a || a.origin !== location.origin || a.hash || a.target || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(a.pathname + a.search);
});
window.addEventListener("popstate", render);
render();
