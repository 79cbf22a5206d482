// The tenant admin's pages: users (and their API keys), teams (and who is in them), and the
// audit log.

import { api, get, query } from "../api.js";
import { button, checkbox, confirmDialog, field, form, h, input, select, table } from "../dom.js";
import { when } from "../format.js";
import { submitting } from "./edit.js";

export async function usersPage(ctx) {
  const list = await get("/admin/users?per_page=500");
  const users = list["admin/users"];
  const keyBox = h("div", { class: "minted", "aria-live": "polite" });
  const rows = users.map((u) => [
    String(u.id), u.email, [u.first_name, u.last_name].filter(Boolean).join(" ") || "—",
    u.admin ? "tenant admin" : "user", u.is_active ? "active" : "deactivated", when(u.last_seen),
    u.is_active ? h("span", { class: "row-actions" },
      button(`Create API key for ${u.email}`, { class: "small", onclick: () => createKey(u, keyBox, ctx) }),
      u.id === ctx.me.id ? null : button(`Deactivate ${u.email}`, { class: "small danger", onclick: () => deactivate(u, ctx) }))
      : null,
  ]);
  const f = form({ class: "inline-form" },
    field("Email", input("email", { type: "email", required: true, autocomplete: "off" })),
    field("First name", input("first_name", { autocomplete: "off" })),
    field("Last name", input("last_name", { autocomplete: "off" })),
    field("Tenant admin", checkbox("admin", false)),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create user")));
  submitting(f, () => ({
    email: f.elements.email.value.trim(), first_name: f.elements.first_name.value.trim(),
    last_name: f.elements.last_name.value.trim(), admin: f.elements.admin.checked,
  }), (body) => api("POST", "/admin/users", body), (user) => ctx.navigate("/users", `User ${user.email} created.`));
  return h("section", {}, h("h1", {}, "Users"),
    table(`${list.meta.count} users`, ["Id", "Email", "Name", "Role", "State", "Last seen", ""], rows),
    keyBox, h("h2", {}, "New user"), f);
}

async function createKey(user, box, ctx) {
  try {
    const key = await api("POST", `/admin/users/${user.id}/api_keys`, { name: `console ${new Date().toISOString().slice(0, 10)}` });
    const shown = h("input", { id: "new-api-key", readonly: true, class: "mono", value: key.key });
    box.replaceChildren(h("h2", {}, `API key for ${user.email}`),
      h("label", { for: "new-api-key" }, "Shown only now: hand it over safely; credvault keeps only a keyed hash."), shown);
    shown.select();
  } catch (e) {
    ctx.notify(e.message);
  }
}

async function deactivate(user, ctx) {
  if (!await confirmDialog(`Deactivate ${user.email}? Their API keys stop working at once.`, "Deactivate")) return;
  try {
    await api("DELETE", `/admin/users/${user.id}`);
    ctx.navigate("/users", `User ${user.email} deactivated.`);
  } catch (e) {
    ctx.notify(e.message);
  }
}

export async function teamsPage(ctx) {
  const [{ teams, meta }, users] = await Promise.all([get("/teams?per_page=500"), get("/admin/users?per_page=500")]);
  const create = form({ class: "inline-form" },
    field("Team name", input("name", { required: true, autocomplete: "off" })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create team")));
  submitting(create, () => ({ name: create.elements.name.value.trim() }), (body) => api("POST", "/teams", body),
    (team) => ctx.navigate("/teams", `Team ${team.name} created.`));

  const invite = form({ class: "inline-form" },
    field("Team", select("team_id", teams.map((t) => [t.id, t.name]))),
    field("User", select("user_id", users["admin/users"].filter((u) => u.is_active).map((u) => [u.id, u.email]))),
    field("Role", select("role", [["VIEWER", "Viewer"], ["EDITOR", "Editor"], ["TEAM_ADMIN", "Team admin"]], "EDITOR")),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Invite member")));
  submitting(invite, () => ({ user_id: Number(invite.elements.user_id.value), role: invite.elements.role.value }),
    (body) => api("POST", `/teams/${invite.elements.team_id.value}/invite_member`, body),
    (member) => ctx.navigate("/teams", `${member.email} is now ${member.role} of the team.`));

  return h("section", {}, h("h1", {}, "Teams"),
    table(`${meta.count} teams`, ["Id", "Name", "Slug", "Created"], teams.map((t) => [String(t.id), t.name, h("code", {}, t.slug), when(t.created_at)])),
    h("h2", {}, "New team"), create,
    teams.length ? [h("h2", {}, "Add someone to a team"), invite] : null);
}

const PER_PAGE = 50;
// The operations the audit log records (API.md §8), offered as the filter is typed.
const OPERATIONS = [
  "CredentialSave", "CredentialMovement", "CredentialKeyRotation", "CredentialDestruction",
  "CredentialTokenMint", "CredentialTokenMintRefusal", "FolderCreation", "TeamCreation",
  "TeamMemberInvitation", "TeamMemberRemoval", "UserCreation", "UserDeactivation",
  "AuthenticationTokenCreation", "AuthenticationTokenDeletion", "MasterKeyRotation",
  "EncryptionKeyRotation", "EncryptionKeyRetirement",
];

export async function auditPage(ctx) {
  const operation = ctx.query.get("operation_name") ?? "";
  const userId = ctx.query.get("user_id") ?? "";
  const page = ctx.query.get("page") ?? "1";
  const list = await get(`/audit_logs${query({ operation_name: operation, user_id: userId, page, per_page: PER_PAGE })}`);
  const go = (changes) => ctx.navigate(`/audit_logs${query({ operation_name: operation, user_id: userId, ...changes })}`);
  const filters = form({ class: "filters", role: "search" },
    field("Operation", input("operation_name", { value: operation, placeholder: "e.g. CredentialSave", list: "operation-names" })),
    h("datalist", { id: "operation-names" }, OPERATIONS.map((name) => h("option", { value: name }))),
    field("User id", input("user_id", { value: userId, inputmode: "numeric" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Filter")));
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    go({ operation_name: filters.elements.operation_name.value.trim(), user_id: filters.elements.user_id.value.trim() });
  });
  const rows = list.audit_logs.map((entry) => [
    String(entry.id), when(entry.created_at), entry.operation_name, entry.user_email ?? "credvault",
    entry.request_ip ?? "—",
    entry.inputs?.credential_id ? h("a", { href: `/credentials/${entry.inputs.credential_id}` }, String(entry.inputs.credential_id)) : "—",
    h("details", {}, h("summary", {}, "Inputs and outputs"), h("pre", {}, JSON.stringify({ inputs: entry.inputs, outputs: entry.outputs }, null, 2))),
  ]);
  const { meta } = list;
  return h("section", {}, h("h1", {}, "Audit log"), filters,
    rows.length ? table(`${meta.count} entries, newest first`, ["Id", "When", "Operation", "User", "IP", "Credential", "Details"], rows)
      : h("p", { class: "empty" }, "No entry matches."),
    h("nav", { class: "pager", "aria-label": "Pages" },
      meta.previous_page ? button("Newer entries", { onclick: () => go({ page: Number(page) - 1 }) }) : null,
      meta.next_page_number ? button("Older entries", { onclick: () => go({ page: meta.next_page_number }) }) : null));
}
