// One credential: every field that is not secret, its issuer links, minting a token (with
// the token's header and claims decoded), rotating its key, its test credential, its
// notifications, and deleting it.

import { api, get } from "../api.js";
import { credentialForm } from "../credential_form.js";
import { button, checkbox, confirmDialog, details, field, form, h, input, table } from "../dom.js";
import { decodeJwt, expiry, pretty, when } from "../format.js";
import { submitting } from "./edit.js";

export async function credentialPage(ctx) {
  const [id] = ctx.params;
  const [c, notifications, teams] = await Promise.all([
    get(`/user_credentials/${id}`),
    get(`/user_credentials/${id}/notifications?per_page=100`),
    get("/teams?per_page=500"),
  ]);
  const team = teams.teams.find((t) => t.id === c.team_id);
  const jwt = c.mode === "JWT";
  const asymmetric = jwt && !c.jwt_algorithm.startsWith("HS");
  const exp = expiry(c.expires_at);

  const actions = h("div", { class: "actions" },
    h("a", { class: "button", href: `/credentials/${id}/edit` }, "Edit"),
    asymmetric ? button("Rotate key", { onclick: () => rotate(ctx, c) }) : null,
    button("Delete", { class: "danger", onclick: () => remove(ctx, c) }));

  return h("section", {},
    h("div", { class: "title-row" }, h("h1", {}, c.name), actions),
    h("p", {}, h("a", { href: "/" }, "All credentials")),
    details([
      ["Id", String(c.id)],
      ["Slug", h("code", {}, c.slug)],
      ["Mode", c.mode],
      ["Team", team ? team.name : `team ${c.team_id}`],
      ["Description", c.description || "—"],
      ["Who may use it", c.read_access === "SPECIFIC_TEAMS" ? `teams ${c.shared_team_slugs.join(", ")}` : c.read_access === "GLOBAL" ? "every team" : "its team"],
      ["Allowed hosts", c.allowed_hosts.length ? h("ul", {}, c.allowed_hosts.map((p) => h("li", {}, h("code", {}, p)))) : "any host (unrestricted)"],
      ["Expires", h("span", { class: exp.className }, exp.text)],
      ["Expiry reminders", c.expiry_notifications_enabled
        ? `on, to ${c.credential_notification_recipient_user_ids.length ? `users ${c.credential_notification_recipient_user_ids.join(", ")}` : "the owner"}`
        : "off"],
      ["Owner", c.owner ? `${c.owner.email}` : "—"],
      ["Created", when(c.created_at)],
      ["Updated", when(c.updated_at)],
      ["Last used", when(c.last_used_at)],
      ["Metadata", Object.keys(c.metadata ?? {}).length ? h("pre", {}, pretty(c.metadata)) : "—"],
    ]),
    jwt ? jwtDetails(c) : null,
    jwt ? mintSection(c) : null,
    testSection(ctx, c),
    notificationsSection(notifications));
}

function jwtDetails(c) {
  const copyable = (url, label) => url
    ? h("span", { class: "copyable" }, h("code", {}, url), button(label, { onclick: () => copy(url, label) }))
    : "—";
  return h("section", {}, h("h2", {}, "Signing"),
    details([
      ["Algorithm", c.jwt_algorithm],
      ["Payload", h("pre", {}, pretty(c.jwt_payload))],
      ["Extra header fields", Object.keys(c.jwt_headers ?? {}).length ? h("pre", {}, pretty(c.jwt_headers)) : "—"],
      ["iat and exp added", c.jwt_auto_generate_time_claims ? `yes, tokens live ${c.jwt_lifetime_seconds} s` : "no"],
      ["Key id", c.jwt_key_id ? h("code", {}, c.jwt_key_id) : "—"],
      ["Key last rotated", when(c.jwt_key_rotated_at)],
      ["Rotated automatically", c.jwt_rotation_period_seconds ? `every ${c.jwt_rotation_period_seconds} s` : "no"],
      ["Issuer URL", copyable(c.issuer_url, "Copy issuer URL")],
      ["JWKS URL", copyable(c.jwks_url, "Copy JWKS URL")],
    ]));
}

async function copy(text, label) {
  const status = document.getElementById("status");
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = `${label.replace(/^Copy /, "")} copied.`;
  } catch {
    status.textContent = "The browser did not allow copying; select the text and copy it.";
  }
}

function mintSection(c) {
  const result = h("div", { class: "minted", "aria-live": "polite" });
  const f = form({ class: "mint" },
    field("URL the token is for (needed when hosts are restricted)", input("url", { type: "url", placeholder: "https://api.example.com/v1/…" })),
    c.test_credential_enabled ? field("Use the test credential", checkbox("test", false)) : null,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Mint token")));
  submitting(f, () => {
    const body = {};
    if (f.elements.url.value.trim()) body.url = f.elements.url.value.trim();
    if (f.elements.test?.checked) body.test = true;
    return body;
  }, (body) => api("POST", `/user_credentials/${c.id}/token`, body), (minted) => {
    const { header, claims } = decodeJwt(minted.token);
    const token = h("textarea", { id: "minted-token", readonly: true, rows: 4, class: "mono" });
    token.value = minted.token;
    result.replaceChildren(
      h("h3", {}, `Token (${minted.algorithm}${minted.test ? ", test credential" : ""})`),
      h("label", { for: "minted-token" }, `Expires ${when(minted.expires_at)}`), token,
      button("Copy token", { onclick: () => copy(minted.token, "Copy token") }),
      h("div", { class: "decoded" },
        h("div", {}, h("h3", {}, "Header"), h("pre", { id: "token-header" }, pretty(header))),
        h("div", {}, h("h3", {}, "Claims"), h("pre", { id: "token-claims" }, pretty(claims)))));
  });
  return h("section", {}, h("h2", {}, "Mint a token"), f, result);
}

async function rotate(ctx, c) {
  try {
    const rotated = await api("POST", `/user_credentials/${c.id}/rotate`, {});
    ctx.navigate(`/credentials/${c.id}`, `Key rotated: the new key id is ${rotated.jwt_key_id}. Tokens signed with the old key still verify until they expire.`);
  } catch (e) {
    ctx.notify(`Rotation refused: ${e.message}`);
  }
}

async function remove(ctx, c) {
  const sure = await confirmDialog(`Delete the credential “${c.name}”? Workflows that use it stop working, and this cannot be undone.`, "Delete");
  if (!sure) return;
  try {
    await api("DELETE", `/user_credentials/${c.id}`);
    ctx.navigate("/", `Credential “${c.name}” deleted.`);
  } catch (e) {
    ctx.notify(`Not deleted: ${e.message}`);
  }
}

function testSection(ctx, c) {
  const title = h("h2", {}, "Test credential");
  if (c.test_credential) {
    const t = c.test_credential;
    const toggle = button(c.test_credential_enabled ? "Disable test credential" : "Enable test credential", {
      onclick: async () => {
        try {
          await api("PUT", `/user_credentials/${c.id}`, { mode: c.mode, test_credential_enabled: !c.test_credential_enabled });
          ctx.navigate(`/credentials/${c.id}`, `Test credential ${c.test_credential_enabled ? "disabled" : "enabled"}.`);
        } catch (e) {
          ctx.notify(e.message);
        }
      },
    });
    return h("section", {}, title, details([
      ["In use", c.test_credential_enabled ? "yes (mint with “Use the test credential”)" : "no"],
      ["Created", when(t.created_at)],
      ["Updated", when(t.updated_at)],
      ["Expires", expiry(t.expires_at).text],
    ]), toggle);
  }
  const { form: f, collect } = credentialForm({ kind: "test", credential: { mode: c.mode, jwt_algorithm: c.jwt_algorithm }, submitLabel: "Attach test credential" });
  submitting(f, () => ({ ...collect(), live_credential_id: c.id }),
    (body) => api("POST", "/user_credentials", body),
    () => ctx.navigate(`/credentials/${c.id}`, "Test credential attached."));
  return h("section", {}, title, h("p", {}, "None. A test credential is used instead of this one when a mint asks for it."),
    h("details", {}, h("summary", {}, "Attach a test credential"), f));
}

function notificationsSection(list) {
  const rows = list.notifications.map((n) => [
    `${n.threshold_days} d before${n.is_test ? " (test)" : ""}`, n.channel, n.recipient ?? "—", n.status,
    when(n.sent_at, "not yet"), n.last_error ?? "—",
  ]);
  return h("section", {}, h("h2", {}, "Expiry notifications"),
    rows.length ? table("Reminders planned and sent", ["When", "Channel", "To", "Status", "Sent", "Last error"], rows)
      : h("p", {}, "None planned."));
}

