// The form that creates a credential, edits one, or attaches a test credential to one. Each
// control's `name` is the API field it fills; `collect` turns the form into the request body,
// checking first what can be checked here (JSON fields), so such mistakes are shown at once.

import { checkbox, field, form, h, input, select, textarea } from "./dom.js";
import { jsonObject, lines, pretty, toLocalInput, toRfc3339 } from "./format.js";

export const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"];
const isRsa = (alg) => /^(RS|PS)/.test(alg);
const isHmac = (alg) => alg.startsWith("HS");

// kind: "create" | "edit" | "test". `credential`: the stored one (edit, test). `teams`: where
// it may be created (create). `submitLabel`: the button's text.
export function credentialForm({ kind, credential = {}, teams = [], submitLabel }) {
  const mode = credential.mode ?? "JWT";
  const alg = credential.jwt_algorithm ?? "RS256";
  const keepHint = kind === "edit" ? "Leave empty to keep the stored one; it is never shown." : null;

  const general = kind === "test" ? h("input", { type: "hidden", name: "mode", value: mode }) : [
    field("Name", input("name", { value: credential.name, required: true, maxlength: 255, autocomplete: "off" })),
    kind === "create"
      ? [field("Mode", select("mode", [["JWT", "JWT (signed tokens)"], ["TEXT", "Text (a secret value)"]], mode)),
        field("Team", select("team_id", teams.map((t) => [t.id, t.name]), teams[0]?.id))]
      : h("input", { type: "hidden", name: "mode", value: mode }),
    field("Description", textarea("description", { value: credential.description ?? "", rows: 2 })),
  ];

  const generate = checkbox("jwt_generate_key", false);
  const keyText = textarea("jwt_private_key", { rows: 6, spellcheck: "false", autocomplete: "off", class: "mono",
    placeholder: "-----BEGIN PRIVATE KEY-----" });
  const upload = h("input", { type: "file", id: `key-file-${kind}`, accept: ".pem,.key,.json,text/plain" });
  upload.addEventListener("change", async () => {
    const file = upload.files[0];
    if (file) keyText.value = await file.text();
  });
  const keySize = select("jwt_key_size", [["2048"], ["3072"], ["4096"]], "2048");
  const jwt = h("fieldset", { class: "mode-jwt" }, h("legend", {}, "Signing"),
    field("Algorithm", select("jwt_algorithm", ALGORITHMS.map((a) => [a]), alg)),
    kind === "edit" ? null : field("Generate the key in credvault (its private key never leaves credvault)", generate),
    kind === "edit" ? null : field("Key size (RSA)", keySize),
    h("div", { class: "key-given" },
      field("Private key (PEM or JWK; for HS* the shared secret)", keyText, keepHint),
      h("div", { class: "field" }, h("label", { for: upload.id }, "…or upload a key file"), upload),
      field("Key passphrase (encrypted PKCS#8 only; used once, never stored)",
        input("jwt_private_key_passphrase", { type: "password", autocomplete: "off" }))),
    field("Payload (JSON object of claims)", textarea("jwt_payload", { rows: 6, class: "mono", spellcheck: "false",
      value: credential.jwt_payload ? pretty(credential.jwt_payload) : "{}" })),
    field("Add iat and exp to every token", checkbox("jwt_auto_generate_time_claims", credential.jwt_auto_generate_time_claims ?? true)),
    field("Token lifetime (seconds)", input("jwt_lifetime_seconds", { type: "number", min: 1, max: 86400,
      value: credential.jwt_lifetime_seconds ?? 3600 })),
    field("Extra header fields (JSON object, optional)", textarea("jwt_headers", { rows: 2, class: "mono", spellcheck: "false",
      value: credential.jwt_headers && Object.keys(credential.jwt_headers).length ? pretty(credential.jwt_headers) : "" })),
    kind === "test" ? null : field("Rotate the key every (seconds, optional)", input("jwt_rotation_period_seconds",
      { type: "number", min: 60, value: credential.jwt_rotation_period_seconds ?? "" })));

  const text = h("fieldset", { class: "mode-text" }, h("legend", {}, "Value"),
    field("Secret value", input("value", { type: "password", autocomplete: "off" }), keepHint));

  const access = kind === "test" ? [] : h("fieldset", {}, h("legend", {}, "Access"),
    field("Who may use it", select("read_access", [["TEAM", "Its team"], ["GLOBAL", "Every team"], ["SPECIFIC_TEAMS", "Specific teams"]],
      credential.read_access ?? "TEAM")),
    field("Team slugs it is shared with (comma-separated)", input("shared_team_slugs", { value: (credential.shared_team_slugs ?? []).join(", ") })),
    field("Allowed hosts (one pattern per line; empty: any host)", textarea("allowed_hosts", { rows: 3, class: "mono",
      value: (credential.allowed_hosts ?? []).join("\n") }), "For example api.example.com, *.example.com or https://api.example.com/v1/*"));

  const expiry = h("fieldset", {}, h("legend", {}, "Expiry"),
    field("Expires at (your local time; empty: never)", input("expires_at", { type: "datetime-local", value: toLocalInput(credential.expires_at) })),
    kind === "test" ? null : [
      field("Send expiry reminders", checkbox("expiry_notifications_enabled", credential.expiry_notifications_enabled ?? false)),
      field("Remind these user ids (comma-separated, at most 5; empty: the owner)", input("credential_notification_recipient_user_ids",
        { value: (credential.credential_notification_recipient_user_ids ?? []).join(", ") })),
    ]);

  const metadata = kind === "test" ? [] : field("Metadata (JSON object, optional)", textarea("metadata", { rows: 2, class: "mono",
    value: credential.metadata && Object.keys(credential.metadata).length ? pretty(credential.metadata) : "" }));

  const f = form({ class: "credential-form" }, general, jwt, text, access, expiry, metadata,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, submitLabel)));

  // Only the controls that apply are shown (and sent).
  const sync = () => {
    const m = f.elements.mode?.value ?? mode;
    const a = f.elements.jwt_algorithm.value;
    jwt.hidden = m !== "JWT";
    text.hidden = m !== "TEXT";
    const gen = kind !== "edit" && generate.checked;
    f.querySelector(".key-given").hidden = gen;
    generate.closest(".field")?.toggleAttribute("hidden", kind === "edit" || isHmac(a));
    keySize.closest(".field")?.toggleAttribute("hidden", !(gen && isRsa(a)));
    if (isHmac(a)) generate.checked = false;
  };
  f.addEventListener("change", sync);
  sync();
  const collectChanges = () => {
    const body = collect(f, kind);
    return kind === "edit" ? changedOnly(body, credential, f.elements.expires_at.value) : body;
  };
  return { form: f, collect: collectChanges };
}

// An edit sends only what the user changed (and the mode, which the API requires), so that
// saving a description never re-sends, say, sharing settings the editor may not change.
function changedOnly(body, stored, expiresInput) {
  const changed = { mode: body.mode };
  for (const [name, value] of Object.entries(body)) {
    const same = name === "expires_at"
      ? expiresInput === toLocalInput(stored.expires_at) // the input keeps minutes only
      : JSON.stringify(value) === JSON.stringify(stored[name] ?? null);
    if (!same) changed[name] = value;
  }
  return changed;
}

// The request body for the form's fields, or throws the errors found here as [{field, message}].
function collect(f, kind) {
  const el = f.elements;
  const errors = [];
  const body = {};
  const value = (name) => el[name]?.value.trim() ?? "";
  const json = (name, label, { required } = {}) => {
    const text = value(name);
    if (!text) return required ? {} : undefined;
    try {
      return jsonObject(text, label);
    } catch (e) {
      errors.push({ field: name, message: e.message });
      return undefined;
    }
  };
  const integer = (name, label) => {
    const text = value(name);
    if (!text) return null;
    if (!/^\d+$/.test(text)) errors.push({ field: name, message: `${label} must be a whole number` });
    return Number(text);
  };

  const mode = value("mode") || "JWT";
  if (kind !== "test") {
    body.name = value("name");
    if (!body.name) errors.push({ field: "name", message: "Give the credential a name." });
    body.mode = mode;
    if (kind === "create") body.team_id = Number(value("team_id"));
    body.description = el.description.value;
  } else {
    body.mode = mode;
  }

  if (mode === "JWT") {
    body.jwt_algorithm = value("jwt_algorithm");
    const key = el.jwt_private_key.value;
    if (kind !== "edit" && el.jwt_generate_key.checked) {
      body.jwt_generate_key = true;
      if (isRsa(body.jwt_algorithm)) body.jwt_key_size = Number(value("jwt_key_size"));
    } else if (key.trim()) {
      body.jwt_private_key = key;
      if (el.jwt_private_key_passphrase.value) body.jwt_private_key_passphrase = el.jwt_private_key_passphrase.value;
    } else if (kind !== "edit") {
      errors.push({ field: "jwt_private_key", message: "Paste or upload the private key, or let credvault generate one." });
    }
    body.jwt_payload = json("jwt_payload", "The payload", { required: true });
    body.jwt_auto_generate_time_claims = el.jwt_auto_generate_time_claims.checked;
    const lifetime = integer("jwt_lifetime_seconds", "The token lifetime");
    if (lifetime !== null) body.jwt_lifetime_seconds = lifetime;
    const headers = json("jwt_headers", "The extra header fields");
    body.jwt_headers = headers ?? {};
    if (kind !== "test") body.jwt_rotation_period_seconds = integer("jwt_rotation_period_seconds", "The rotation period");
  } else if (el.value.value) {
    body.value = el.value.value;
  } else if (kind !== "edit") {
    errors.push({ field: "value", message: "Enter the secret value." });
  }

  if (kind !== "test") {
    body.read_access = value("read_access");
    body.shared_team_slugs = lines(value("shared_team_slugs"));
    body.allowed_hosts = lines(el.allowed_hosts.value);
    body.expiry_notifications_enabled = el.expiry_notifications_enabled.checked;
    const ids = lines(value("credential_notification_recipient_user_ids"));
    if (ids.some((id) => !/^\d+$/.test(id))) {
      errors.push({ field: "credential_notification_recipient_user_ids", message: "List user ids (numbers), separated by commas." });
    }
    body.credential_notification_recipient_user_ids = ids.map(Number);
    body.metadata = json("metadata", "The metadata") ?? {};
  }
  const expires = value("expires_at");
  if (expires || kind === "edit") body.expires_at = toRfc3339(expires);
  if (errors.length) throw errors;
  return body;
}
