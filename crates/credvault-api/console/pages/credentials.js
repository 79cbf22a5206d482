// The credentials of the user's teams: filters (the API's), a search over what is shown, and
// one row per credential linking to its page.

import { get, query } from "../api.js";
import { button, field, h, input, select, table } from "../dom.js";
import { expiry, when } from "../format.js";

const PER_PAGE = 100;

export async function credentialsPage({ navigate, query: params }) {
  const filter = params.get("filter") ?? "";
  const teamId = params.get("team_id") ?? "";
  const search = params.get("q") ?? "";
  const page = params.get("page") ?? "1";
  const [teams, list] = await Promise.all([
    get("/teams?per_page=500"),
    get(`/user_credentials${query({ filter, team_id: teamId, page, per_page: PER_PAGE })}`),
  ]);
  const teamNames = new Map(teams.teams.map((t) => [t.id, t.name]));

  const go = (changes) => {
    const q = new URLSearchParams(location.search).get("q") ?? "";
    const next = { filter, team_id: teamId, q, ...changes };
    navigate(`/${query(next)}`);
  };
  const filters = h("form", { class: "filters", role: "search", onsubmit: (e) => e.preventDefault() },
    field("Show", select("filter", [["", "All"], ["UNUSED_IN_ACTIONS", "Unused"], ["RESTRICTED", "Restricted"], ["UNRESTRICTED", "Unrestricted"]], filter,
      { onchange: (e) => go({ filter: e.target.value }) })),
    field("Team", select("team_id", [["", "All teams"], ...teams.teams.map((t) => [t.id, t.name])], teamId,
      { onchange: (e) => go({ team_id: e.target.value }) })),
    field("Search", input("q", { type: "search", value: search, placeholder: "name, slug or description" })));

  const body = h("div", { id: "credential-rows" });
  const searchBox = filters.querySelector('[name="q"]');
  const show = () => body.replaceChildren(rows(list, teamNames, searchBox.value.trim().toLowerCase()));
  searchBox.addEventListener("input", () => {
    history.replaceState(null, "", `/${query({ filter, team_id: teamId, q: searchBox.value })}`);
    show();
  });
  show();

  const { meta } = list;
  const pager = meta.pages > 1
    ? h("nav", { class: "pager", "aria-label": "Pages" },
      meta.previous_page ? button("Previous page", { onclick: () => go({ page: Number(page) - 1 }) }) : null,
      h("span", {}, `Page ${page} of ${meta.pages}`),
      meta.next_page_number ? button("Next page", { onclick: () => go({ page: meta.next_page_number }) }) : null)
    : null;

  return h("section", {},
    h("div", { class: "title-row" }, h("h1", {}, "Credentials"),
      button("New credential", { class: "primary", onclick: () => navigate("/credentials/new") })),
    filters, body, pager);
}

function rows(list, teamNames, search) {
  const shown = list.user_credentials.filter((c) => !search ||
    [c.name, c.slug, c.description].some((text) => text.toLowerCase().includes(search)));
  if (shown.length === 0) {
    return h("p", { class: "empty" }, list.meta.count === 0 ? "No credentials yet." : "No credential matches.");
  }
  return table(`${shown.length} of ${list.meta.count} credentials`,
    ["Name", "Mode", "Algorithm", "Team", "Restriction", "Expires", "Last used"],
    shown.map((c) => {
      const exp = expiry(c.expires_at);
      return [
        h("a", { href: `/credentials/${c.id}` }, c.name),
        c.mode,
        c.jwt_algorithm ?? "—",
        teamNames.get(c.team_id) ?? `team ${c.team_id}`,
        c.restriction_type === "RESTRICTED" ? `Restricted (${c.allowed_hosts.length})` : "Unrestricted",
        h("span", { class: exp.className }, exp.text),
        when(c.last_used_at),
      ];
    }));
}
