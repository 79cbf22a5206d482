//! What the API writes to the audit log (API.md §8): the records of changes, built from the
//! caller and its request, in the shapes Tines writes (`inputs.inputs` in camelCase with
//! secrets `"REDACTED"`) plus credvault's own keys; the entries as the list and the stream
//! show them; mints counted per minute (`mints`); the JSON-lines file (`file`).

use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use credvault_core::audit::{sha256_hex, Actor, AuditEntry, AuditRecord, REDACTED};
use credvault_core::timefmt::format_millis;
use credvault_store::{Credential, User};
use serde_json::{json, Map, Value};

use crate::extract::body::Fields;

pub mod file;
pub mod mints;

/// Operation names (Tines' where Tines has one).
pub mod op {
    pub const CREDENTIAL_SAVE: &str = "CredentialSave";
    pub const CREDENTIAL_DESTRUCTION: &str = "CredentialDestruction";
    pub const CREDENTIAL_MOVEMENT: &str = "CredentialMovement";
    pub const CREDENTIAL_KEY_ROTATION: &str = "CredentialKeyRotation";
    pub const TOKEN_MINT: &str = "CredentialTokenMint";
    pub const TOKEN_MINT_REFUSAL: &str = "CredentialTokenMintRefusal";
    pub const TOKEN_CREATION: &str = "AuthenticationTokenCreation";
    pub const TOKEN_DELETION: &str = "AuthenticationTokenDeletion";
    pub const FOLDER_CREATION: &str = "FolderCreation";
    pub const TEAM_CREATION: &str = "TeamCreation";
    pub const TEAM_MEMBER_INVITATION: &str = "TeamMemberInvitation";
    pub const TEAM_MEMBER_REMOVAL: &str = "TeamMemberRemoval";
    pub const USER_CREATION: &str = "UserCreation";
    pub const USER_DEACTIVATION: &str = "UserDeactivation";
    pub const MASTER_KEY_ROTATION: &str = "MasterKeyRotation";
    pub const ENCRYPTION_KEY_ROTATION: &str = "EncryptionKeyRotation";
    pub const ENCRYPTION_KEY_RETIREMENT: &str = "EncryptionKeyRetirement";

    /// Every operation the log records.
    pub const ALL: [&str; 17] = [
        CREDENTIAL_SAVE,
        CREDENTIAL_DESTRUCTION,
        CREDENTIAL_MOVEMENT,
        CREDENTIAL_KEY_ROTATION,
        TOKEN_MINT,
        TOKEN_MINT_REFUSAL,
        TOKEN_CREATION,
        TOKEN_DELETION,
        FOLDER_CREATION,
        TEAM_CREATION,
        TEAM_MEMBER_INVITATION,
        TEAM_MEMBER_REMOVAL,
        USER_CREATION,
        USER_DEACTIVATION,
        MASTER_KEY_ROTATION,
        ENCRYPTION_KEY_ROTATION,
        ENCRYPTION_KEY_RETIREMENT,
    ];

    /// The spellings of real Tines exports that the list filter also accepts, and what they
    /// mean here.
    pub const ALIASES: [(&str, &str); 2] = [
        ("UserCredentialSave", CREDENTIAL_SAVE),
        ("UserCredentialDestruction", CREDENTIAL_DESTRUCTION),
    ];
}

/// Longest user agent recorded; the rest is cut (a header may be kilobytes long).
const MAX_USER_AGENT_CHARS: usize = 512;

/// Where a request came from, as an entry records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestInfo {
    /// The peer's address (proxies' forwarding headers are not trusted) and the user agent.
    pub fn of(parts: &Parts) -> RequestInfo {
        let ip = crate::connections::peer_ip(&parts.extensions).map(|ip| ip.to_string());
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect());
        RequestInfo { ip, user_agent }
    }
}

pub fn actor(user: &User) -> Actor {
    Actor {
        user_id: user.id,
        email: user.email.clone(),
        name: format!("{} {}", user.first_name, user.last_name)
            .trim()
            .to_string(),
    }
}

/// A record of `operation` by `user` through `request`, with `inputs` (a JSON object).
pub fn record(
    user: &User,
    request: &RequestInfo,
    operation: &'static str,
    inputs: Value,
) -> AuditRecord {
    AuditRecord {
        operation_name: operation,
        inputs: object(inputs),
        outputs: Map::new(),
        actor: Some(actor(user)),
        request_ip: request.ip.clone(),
        request_user_agent: request.user_agent.clone(),
    }
}

/// A JSON object's map; anything else is an empty one.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Fields whose values are secrets: recorded as `"REDACTED"`.
const SECRET_FIELDS: [&str; 3] = ["jwt_private_key", "jwt_private_key_passphrase", "value"];

/// The request fields a credential write understands; only these are recorded (a client may
/// send anything else, and it is ignored).
pub const CREDENTIAL_FIELDS: [&str; 26] = [
    "name",
    "mode",
    "team_id",
    "folder_id",
    "read_access",
    "shared_team_slugs",
    "description",
    "metadata",
    "allowed_hosts",
    "expires_at",
    "expiry_notifications_enabled",
    "credential_notification_recipient_user_ids",
    "live_credential_id",
    "is_test",
    "test_credential_enabled",
    "jwt_algorithm",
    "jwt_payload",
    "jwt_auto_generate_time_claims",
    "jwt_headers",
    "jwt_lifetime_seconds",
    "jwt_rotation_period_seconds",
    "jwt_generate_key",
    "jwt_key_size",
    "jwt_private_key",
    "jwt_private_key_passphrase",
    "value",
];

/// Largest request value an entry records as it is (its compact JSON); a larger one (a
/// payload or metadata document of up to 64 KiB) is recorded by size and digest, so that
/// entries, which are never deleted, stay small however large the documents sent.
pub const MAX_RECORDED_VALUE_BYTES: usize = 4096;

/// The request as Tines records it: the `known` fields present in `body`, named in camelCase,
/// secrets as `"REDACTED"`, values over [`MAX_RECORDED_VALUE_BYTES`] by size and SHA-256.
pub fn tines_inputs(body: &Fields, known: &[&str]) -> Value {
    let mut inputs = Map::new();
    for field in known {
        if let Some(value) = body.get(field) {
            let value = if SECRET_FIELDS.contains(field) {
                Value::from(REDACTED)
            } else {
                recorded(value)
            };
            inputs.insert(camel_case(field), value);
        }
    }
    Value::Object(inputs)
}

/// `value`, or its size and digest when it is over [`MAX_RECORDED_VALUE_BYTES`].
fn recorded(value: &Value) -> Value {
    let text = value.to_string();
    if text.len() <= MAX_RECORDED_VALUE_BYTES {
        return value.clone();
    }
    json!({
        "omitted": format!("larger than {MAX_RECORDED_VALUE_BYTES} bytes"),
        "bytes": text.len(),
        "sha256": sha256_hex(&[text.as_bytes()]),
    })
}

/// The `known` fields present in `body`, as `inputs.fields` lists them for a create.
pub fn present_fields(body: &Fields, known: &[&'static str]) -> Vec<&'static str> {
    known.iter().copied().filter(|f| body.has(f)).collect()
}

/// `jwt_private_key` → `jwtPrivateKey`.
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The API fields whose stored values differ between two versions of a credential row, for
/// `inputs.fields`. The mode's settings are compared key by key; a new secret counts as its
/// field (`jwt_private_key` or `value`), never its value.
pub fn changed_fields(before: &Credential, after: &Credential) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    let mut note = |changed: bool, name: &str| {
        if changed {
            fields.push(name.to_string());
        }
    };
    note(before.name != after.name, "name");
    note(before.folder_id != after.folder_id, "folder_id");
    note(before.read_access != after.read_access, "read_access");
    note(
        before.shared_team_slugs != after.shared_team_slugs,
        "shared_team_slugs",
    );
    note(before.description != after.description, "description");
    note(before.metadata != after.metadata, "metadata");
    note(before.allowed_hosts != after.allowed_hosts, "allowed_hosts");
    note(before.expires_at != after.expires_at, "expires_at");
    note(
        before.expiry_notifications_enabled != after.expiry_notifications_enabled,
        "expiry_notifications_enabled",
    );
    note(
        before.notification_recipient_ids != after.notification_recipient_ids,
        "credential_notification_recipient_user_ids",
    );
    note(
        before.test_credential_enabled != after.test_credential_enabled,
        "test_credential_enabled",
    );
    let (old, new): (Map<String, Value>, Map<String, Value>) = (
        before.config.parse().unwrap_or_default(),
        after.config.parse().unwrap_or_default(),
    );
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        note(old.get(key) != new.get(key), key);
    }
    let secret = if after.mode == credvault_core::model::Mode::Text {
        "value"
    } else {
        "jwt_private_key"
    };
    note(before.secret != after.secret, secret);
    fields
}

/// An entry as `GET /audit_logs` lists it and the stream writes it (Tines' fields, plus the
/// chain's hashes).
pub fn entry_json(entry: &AuditEntry) -> Value {
    let at = format_millis(entry.created_at);
    json!({
        "id": entry.id,
        "created_at": at,
        "updated_at": at,
        "operation_name": entry.operation_name,
        "inputs": entry.inputs,
        "outputs": entry.outputs,
        "request_ip": entry.request_ip,
        "request_user_agent": entry.request_user_agent,
        "tenant_id": 1,
        "user_id": entry.user_id,
        "user_email": entry.user_email,
        "user_name": entry.user_name,
        "story_id": null,
        "previous_hash": entry.previous_hash,
        "hash": entry.hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_become_camel_case() {
        assert_eq!(camel_case("jwt_private_key"), "jwtPrivateKey");
        assert_eq!(
            camel_case("credential_notification_recipient_user_ids"),
            "credentialNotificationRecipientUserIds"
        );
        assert_eq!(camel_case("name"), "name");
    }

    #[test]
    fn large_values_are_recorded_by_size_and_digest() {
        let fits = json!({"a": "x".repeat(MAX_RECORDED_VALUE_BYTES - 8)});
        assert_eq!(recorded(&fits), fits);
        let over = json!({"a": "x".repeat(MAX_RECORDED_VALUE_BYTES - 7)});
        let text = over.to_string();
        assert_eq!(text.len(), MAX_RECORDED_VALUE_BYTES + 1);
        assert_eq!(
            recorded(&over),
            json!({"omitted": "larger than 4096 bytes", "bytes": 4097,
                   "sha256": sha256_hex(&[text.as_bytes()])})
        );
    }

    #[test]
    fn secrets_are_redacted_and_unknown_fields_left_out() {
        let Value::Object(body) = json!({
            "name": "x", "mode": "JWT", "jwt_private_key": "-----BEGIN PRIVATE KEY-----",
            "jwt_private_key_passphrase": "pw", "team_id": 1, "password": "elsewhere"
        }) else {
            unreachable!()
        };
        assert_eq!(
            tines_inputs(&Fields(body), &CREDENTIAL_FIELDS),
            json!({"name": "x", "mode": "JWT", "teamId": 1, "jwtPrivateKey": "REDACTED",
                   "jwtPrivateKeyPassphrase": "REDACTED"})
        );
    }
}
