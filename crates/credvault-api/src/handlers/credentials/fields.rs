//! Credential fields: each one validated the same way whether it arrives in a create or an
//! update. Both start from a base (defaults, or the stored credential) and apply the fields the
//! request carries; a field that is absent keeps the base's value.

use credvault_core::hosts::{parse_pattern, MAX_PATTERNS, MAX_PATTERN_LEN};
use credvault_core::jwt::{
    self, Algorithm, JwtSettings, KeyFamily, DEFAULT_LIFETIME_SECONDS, MAX_LIFETIME_SECONDS,
};
use credvault_core::keys::{load_stored_key, parse_private_key, SigningKey};
use credvault_core::limits::{
    check_object, JsonLimit, MAX_DEPTH, MAX_DESCRIPTION_CHARS, MAX_DOCUMENT_BYTES,
    MAX_HEADERS_BYTES, MAX_NAME_CHARS, MAX_SHARED_TEAMS,
};
use credvault_core::model::{Mode, ReadAccess, Role};
use credvault_core::slug::slugify;
use credvault_core::timefmt::{now_millis, parse_rfc3339, Millis};
use credvault_store::{Credential, JsonText};
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use super::{jwt_settings, open_secret};
use crate::extract::auth::Caller;
use crate::extract::body::{missing, Fields};
use crate::error::{ApiError, ApiResult};
use crate::handlers::folders::credential_folder_of_team;
use crate::AppState;

const MAX_RECIPIENTS: usize = 5;
const RECIPIENTS: &str = "credential_notification_recipient_user_ids";

/// Who is changing which team's credential: decides what the caller may change.
pub struct Context<'a> {
    pub state: &'a AppState,
    pub caller: &'a Caller,
    pub team_id: i64,
    pub role: Role,
    /// The caller owns the credential (always true on create).
    pub is_owner: bool,
}

/// The fields every mode shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Common {
    pub name: String,
    pub slug: String,
    pub folder_id: Option<i64>,
    pub read_access: ReadAccess,
    pub shared_team_slugs: Vec<String>,
    pub description: String,
    pub metadata: Value,
    pub allowed_hosts: Vec<String>,
    pub expires_at: Option<Millis>,
    pub expiry_notifications_enabled: bool,
    pub recipient_ids: Vec<i64>,
}

impl Common {
    /// The defaults of a new credential (the name comes from the request).
    pub fn defaults() -> Common {
        Common {
            name: String::new(),
            slug: String::new(),
            folder_id: None,
            read_access: ReadAccess::Team,
            shared_team_slugs: Vec::new(),
            description: String::new(),
            metadata: json!({}),
            allowed_hosts: Vec::new(),
            expires_at: None,
            expiry_notifications_enabled: false,
            recipient_ids: Vec::new(),
        }
    }

    pub fn of(c: &Credential) -> ApiResult<Common> {
        Ok(Common {
            name: c.name.clone(),
            slug: c.slug.clone(),
            folder_id: c.folder_id,
            read_access: c.read_access,
            shared_team_slugs: c.shared_team_slugs.clone(),
            description: c.description.clone(),
            metadata: c.metadata.parse().map_err(|e| {
                ApiError::Internal(format!("credential {} has unreadable metadata: {e}", c.id))
            })?,
            allowed_hosts: c.allowed_hosts.clone(),
            expires_at: c.expires_at,
            expiry_notifications_enabled: c.expiry_notifications_enabled,
            recipient_ids: c.notification_recipient_ids.clone(),
        })
    }

    pub fn write_to(self, c: &mut Credential) {
        c.name = self.name;
        c.slug = self.slug;
        c.folder_id = self.folder_id;
        c.read_access = self.read_access;
        c.shared_team_slugs = self.shared_team_slugs;
        c.description = self.description;
        c.metadata = JsonText::of(&self.metadata);
        c.allowed_hosts = self.allowed_hosts;
        c.expires_at = self.expires_at;
        c.expiry_notifications_enabled = self.expiry_notifications_enabled;
        c.notification_recipient_ids = self.recipient_ids;
    }

    /// Applies and validates every common field present in `body`.
    pub async fn apply(&mut self, ctx: &Context<'_>, body: &Fields) -> ApiResult<()> {
        if body.has("name") {
            (self.name, self.slug) = name_and_slug(body)?;
        }
        if body.is_null("folder_id") {
            self.folder_id = None;
        } else if let Some(id) = body.int("folder_id")? {
            credential_folder_of_team(ctx.state, id, ctx.team_id, "folder_id").await?;
            self.folder_id = Some(id);
        }
        self.apply_sharing(ctx, body).await?;
        if let Some(description) = body.str_max("description", MAX_DESCRIPTION_CHARS)? {
            self.description = description.to_string();
        }
        if body.has("metadata") {
            self.metadata = metadata(body)?;
        }
        if let Some(hosts) = body.str_array("allowed_hosts")? {
            validate_hosts(&hosts)?;
            if hosts != self.allowed_hosts && !ctx.is_owner && ctx.role < Role::TeamAdmin {
                return Err(ApiError::forbidden_field(
                    "allowed_hosts",
                    "changing allowed_hosts of another user's credential needs TEAM_ADMIN of the team",
                ));
            }
            self.allowed_hosts = hosts;
        }
        if body.is_null("expires_at") {
            self.expires_at = None;
        } else if body.has("expires_at") {
            self.expires_at = expires_at(body)?;
        }
        if let Some(enabled) = body.bool("expiry_notifications_enabled")? {
            self.expiry_notifications_enabled = enabled;
        }
        if let Some(ids) = body.int_array(RECIPIENTS)? {
            check_recipients(ctx, &ids).await?;
            self.recipient_ids = ids;
        }
        Ok(())
    }

    /// `read_access` and `shared_team_slugs` together: the pair must agree, sharing beyond the
    /// team needs TEAM_ADMIN, changing another user's sharing needs TEAM_ADMIN, and every team
    /// shared with must exist and have the caller as EDITOR or higher.
    async fn apply_sharing(&mut self, ctx: &Context<'_>, body: &Fields) -> ApiResult<()> {
        let given_access = match body.str("read_access")? {
            None => None,
            Some(text) => Some(ReadAccess::parse(text).ok_or_else(|| {
                ApiError::invalid(
                    "read_access",
                    format!("read_access must be one of {}", ReadAccess::NAMES),
                )
            })?),
        };
        let given_slugs = body.str_array("shared_team_slugs")?;
        if given_slugs
            .as_ref()
            .is_some_and(|slugs| slugs.len() > MAX_SHARED_TEAMS)
        {
            return Err(ApiError::invalid(
                "shared_team_slugs",
                format!("shared_team_slugs may list at most {MAX_SHARED_TEAMS} teams"),
            ));
        }
        if given_access.is_none() && given_slugs.is_none() {
            return Ok(());
        }
        let access = given_access.unwrap_or(self.read_access);
        let slugs = match given_slugs {
            Some(slugs) => slugs,
            None if access == ReadAccess::SpecificTeams => self.shared_team_slugs.clone(),
            None => Vec::new(),
        };
        match (access, slugs.is_empty()) {
            (ReadAccess::SpecificTeams, true) => {
                return Err(ApiError::invalid(
                    "shared_team_slugs",
                    "shared_team_slugs must list at least one team slug when read_access is SPECIFIC_TEAMS",
                ))
            }
            (ReadAccess::Team | ReadAccess::Global, false) => {
                return Err(ApiError::invalid(
                    "shared_team_slugs",
                    "shared_team_slugs may only be given when read_access is SPECIFIC_TEAMS",
                ))
            }
            _ => {}
        }
        if access == self.read_access && slugs == self.shared_team_slugs {
            return Ok(());
        }
        if access != ReadAccess::Team && ctx.role < Role::TeamAdmin {
            return Err(ApiError::forbidden_field(
                "read_access",
                "sharing a credential beyond its team (read_access GLOBAL or SPECIFIC_TEAMS) needs TEAM_ADMIN of the team",
            ));
        }
        if !ctx.is_owner && ctx.role < Role::TeamAdmin {
            return Err(ApiError::forbidden_field(
                "read_access",
                "changing the sharing of another user's credential needs TEAM_ADMIN of the team",
            ));
        }
        for slug in &slugs {
            let team = ctx
                .state
                .store
                .get_team_by_slug(slug)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid(
                        "shared_team_slugs",
                        format!("shared_team_slugs lists {slug:?}, but no team has that slug"),
                    )
                })?;
            let role = ctx.caller.role_in(ctx.state, team.id).await?;
            if role.is_none_or(|r| r < Role::Editor) {
                return Err(ApiError::forbidden_field(
                    "shared_team_slugs",
                    format!("shared_team_slugs lists {slug:?}; sharing with that team needs EDITOR or higher in it"),
                ));
            }
        }
        self.read_access = access;
        self.shared_team_slugs = slugs;
        Ok(())
    }
}

pub fn name_and_slug(body: &Fields) -> ApiResult<(String, String)> {
    let name = body.required_str_max("name", MAX_NAME_CHARS)?.trim();
    let slug = slugify(name);
    if slug.is_empty() {
        return Err(ApiError::invalid(
            "name",
            "name must contain at least one letter or digit",
        ));
    }
    Ok((name.to_string(), slug))
}

/// A stored JSON object must stay readable: bounded in size and depth (API.md §12).
fn within_limits(field: &'static str, map: &Map<String, Value>, max_bytes: usize) -> ApiResult<()> {
    check_object(map, max_bytes).map_err(|limit| ApiError::invalid(field, limit.describe(field)))
}

/// `metadata`, bounded in size and depth so that it stays readable (API.md §12).
pub fn metadata(body: &Fields) -> ApiResult<Value> {
    let metadata = body.object("metadata")?.cloned().unwrap_or_default();
    within_limits("metadata", &metadata, MAX_DOCUMENT_BYTES)?;
    Ok(Value::Object(metadata))
}

fn validate_hosts(hosts: &[String]) -> ApiResult<()> {
    if hosts.len() > MAX_PATTERNS {
        return Err(ApiError::invalid(
            "allowed_hosts",
            format!("allowed_hosts may list at most {MAX_PATTERNS} entries"),
        ));
    }
    for (i, entry) in hosts.iter().enumerate() {
        if entry.chars().count() > MAX_PATTERN_LEN {
            return Err(ApiError::invalid(
                "allowed_hosts",
                format!("allowed_hosts entry {i} is longer than {MAX_PATTERN_LEN} characters"),
            ));
        }
        parse_pattern(entry).map_err(|problem| {
            ApiError::invalid(
                "allowed_hosts",
                format!("allowed_hosts entry {i} ({entry:?}) {problem}"),
            )
        })?;
    }
    Ok(())
}

pub fn expires_at(body: &Fields) -> ApiResult<Option<Millis>> {
    body.str("expires_at")?
        .map(|text| {
            parse_rfc3339(text).ok_or_else(|| {
                ApiError::invalid(
                    "expires_at",
                    "expires_at must be an RFC 3339 timestamp such as 2030-01-31T12:00:00Z",
                )
            })
        })
        .transpose()
}

async fn check_recipients(ctx: &Context<'_>, ids: &[i64]) -> ApiResult<()> {
    if ids.len() > MAX_RECIPIENTS {
        return Err(ApiError::invalid(
            RECIPIENTS,
            format!("{RECIPIENTS} may list at most {MAX_RECIPIENTS} users"),
        ));
    }
    for user_id in ids {
        let role = ctx
            .state
            .store
            .get_membership(ctx.team_id, *user_id)
            .await?;
        if role.is_none_or(|r| r < Role::Editor) {
            return Err(ApiError::invalid(
                RECIPIENTS,
                format!(
                    "{RECIPIENTS} lists user {user_id}, who is not an EDITOR or TEAM_ADMIN of team {}",
                    ctx.team_id
                ),
            ));
        }
    }
    Ok(())
}

/// A mode's fields after a create or update: what may be shown (`config`) and, when the
/// request brought new secret material, that material in the clear (`secret`; `None` keeps the
/// stored one).
pub struct ModeData {
    pub config: Value,
    pub secret: Option<Zeroizing<Vec<u8>>>,
}

pub fn parse_mode(body: &Fields) -> ApiResult<Mode> {
    let text = body.required_str("mode")?;
    let mode = Mode::parse(text)
        .ok_or_else(|| ApiError::invalid("mode", format!("mode must be one of {}", Mode::NAMES)))?;
    if !mode.is_supported() {
        return Err(ApiError::invalid(
            "mode",
            format!(
                "mode {} is not supported yet; supported modes are TEXT and JWT",
                mode.as_str()
            ),
        ));
    }
    Ok(mode)
}

/// Applies the mode's fields of `body` to `stored` (None on create, where the required ones
/// must be present).
pub async fn apply_mode(
    state: &AppState,
    mode: Mode,
    body: &Fields,
    stored: Option<&Credential>,
) -> ApiResult<ModeData> {
    match mode {
        Mode::Jwt => apply_jwt(state, body, stored).await,
        Mode::Text => apply_text(body, stored),
        _ => Err(ApiError::invalid(
            "mode",
            format!("mode {} is not supported yet", mode.as_str()),
        )),
    }
}

fn apply_text(body: &Fields, stored: Option<&Credential>) -> ApiResult<ModeData> {
    let value = match (body.str("value")?, stored) {
        (Some(value), _) => value,
        (None, Some(_)) => {
            return Ok(ModeData {
                config: json!({}),
                secret: None,
            })
        }
        (None, None) => return Err(missing("value")),
    };
    if value.is_empty() {
        return Err(ApiError::invalid("value", "value must not be empty"));
    }
    Ok(ModeData {
        config: json!({}),
        secret: Some(Zeroizing::new(value.as_bytes().to_vec())),
    })
}

fn payload(body: &Fields) -> ApiResult<Map<String, Value>> {
    const INVALID: &str = "jwt_payload must be a JSON object of claims, or a string holding one";
    let payload = match body.get("jwt_payload") {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(Value::String(text)) if text.trim().is_empty() => Map::new(),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => map,
            // Deeper than the parser's own limit (128) is still a depth problem, and says so;
            // serde_json tells this error apart only by its message.
            Err(e) if e.to_string().contains("recursion limit") => {
                return Err(ApiError::invalid(
                    "jwt_payload",
                    JsonLimit::TooDeep {
                        max_depth: MAX_DEPTH,
                    }
                    .describe("jwt_payload"),
                ))
            }
            _ => return Err(ApiError::invalid("jwt_payload", INVALID)),
        },
        Some(_) => return Err(ApiError::invalid("jwt_payload", INVALID)),
    };
    within_limits("jwt_payload", &payload, MAX_DOCUMENT_BYTES)?;
    Ok(payload)
}

/// JOSE header fields that change how a verifier treats the token (where it fetches keys,
/// which extensions it must understand, whether the payload is encoded): never settable.
const FORBIDDEN_HEADERS: [&str; 7] = ["alg", "crit", "jku", "x5u", "jwk", "x5c", "b64"];

fn headers(given: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    if let Some(name) = given
        .keys()
        .find(|k| FORBIDDEN_HEADERS.iter().any(|f| k.eq_ignore_ascii_case(f)))
    {
        let message = if name.eq_ignore_ascii_case("alg") {
            format!("jwt_headers cannot set {name}; it always comes from jwt_algorithm")
        } else {
            format!(
                "jwt_headers cannot set {name}: it changes how verifiers treat the token \
                 (alg, crit, jku, x5u, jwk, x5c and b64 are refused)"
            )
        };
        return Err(ApiError::invalid("jwt_headers", message));
    }
    within_limits("jwt_headers", given, MAX_HEADERS_BYTES)?;
    Ok(given.clone())
}

const JWT_FIELDS: [&str; 7] = [
    "jwt_algorithm",
    "jwt_payload",
    "jwt_auto_generate_time_claims",
    "jwt_headers",
    "jwt_lifetime_seconds",
    "jwt_private_key",
    "jwt_private_key_passphrase",
];

async fn apply_jwt(
    state: &AppState,
    body: &Fields,
    stored: Option<&Credential>,
) -> ApiResult<ModeData> {
    let base: Option<JwtSettings> = stored.map(jwt_settings).transpose()?;
    if let Some(base) = &base {
        if !JWT_FIELDS.iter().any(|f| body.has(f)) {
            return Ok(ModeData {
                config: serde_json::to_value(base).expect("settings serialise"),
                secret: None,
            });
        }
    }

    let algorithm = match (body.str("jwt_algorithm")?, &base) {
        (Some(text), _) => Algorithm::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "jwt_algorithm",
                format!("jwt_algorithm must be one of {}", Algorithm::NAMES),
            )
        })?,
        (None, Some(base)) => base.algorithm,
        (None, None) => return Err(missing("jwt_algorithm")),
    };
    let headers = match body.object("jwt_headers")? {
        Some(given) => headers(given)?,
        None => base.as_ref().map(|b| b.headers.clone()).unwrap_or_default(),
    };
    let lifetime_seconds = match body.int("jwt_lifetime_seconds")? {
        Some(seconds) => seconds,
        None => base
            .as_ref()
            .map_or(DEFAULT_LIFETIME_SECONDS, |b| b.lifetime_seconds),
    };
    if !(1..=MAX_LIFETIME_SECONDS).contains(&lifetime_seconds) {
        return Err(ApiError::invalid(
            "jwt_lifetime_seconds",
            format!("jwt_lifetime_seconds must be between 1 and {MAX_LIFETIME_SECONDS}"),
        ));
    }
    let settings = JwtSettings {
        algorithm,
        payload: match (body.has("jwt_payload"), &base) {
            (false, Some(base)) => base.payload.clone(),
            _ => payload(body)?,
        },
        auto_time_claims: match body.bool("jwt_auto_generate_time_claims")? {
            Some(auto) => auto,
            None => base.as_ref().is_some_and(|b| b.auto_time_claims),
        },
        headers,
        lifetime_seconds,
    };

    // Where the key comes from: the request (parsed now), or the stored one, which must fit
    // the (possibly new) algorithm.
    let source = match (body.has("jwt_private_key"), stored) {
        (true, _) | (false, None) => KeySource::Given {
            text: Zeroizing::new(body.required_str("jwt_private_key")?.to_string()),
            passphrase: body
                .str("jwt_private_key_passphrase")?
                .map(|p| Zeroizing::new(p.to_string())),
        },
        (false, Some(stored)) => KeySource::Stored(open_secret(state, stored)?),
    };
    let config = serde_json::to_value(&settings).expect("settings serialise");
    let check = move || -> ApiResult<Option<Zeroizing<Vec<u8>>>> {
        let (key, secret) = match source {
            KeySource::Given { text, passphrase } => {
                let passphrase = passphrase.as_deref().map(|p| p.as_str());
                let parsed = parse_private_key(settings.algorithm, &text, passphrase)?;
                (parsed.key, Some(parsed.stored))
            }
            KeySource::Stored(plain) => {
                let key = load_stored_key(settings.algorithm, &plain).map_err(|e| {
                    ApiError::invalid(
                        "jwt_algorithm",
                        format!(
                            "the stored key does not fit jwt_algorithm {}: {e}",
                            settings.algorithm
                        ),
                    )
                })?;
                (key, None)
            }
        };
        trial_signature(&key, &settings)?;
        Ok(secret)
    };
    // RSA key checks and signatures, and the KDF of encrypted keys, take milliseconds to a
    // second: they go to the bounded key-work pool. Other keys take microseconds, less than a
    // hand-off costs.
    let slow = algorithm.family() == KeyFamily::Rsa || body.has("jwt_private_key_passphrase");
    let secret = if slow {
        state.key_work.run(check).await?
    } else {
        check()?
    };
    Ok(ModeData { config, secret })
}

enum KeySource {
    Given {
        text: Zeroizing<String>,
        passphrase: Option<Zeroizing<String>>,
    },
    Stored(Zeroizing<Vec<u8>>),
}

/// Signs a token exactly as minting would, and checks it with the public key.
fn trial_signature(key: &SigningKey, settings: &JwtSettings) -> ApiResult<()> {
    let claims = jwt::claims(
        &settings.payload,
        settings.auto_time_claims,
        settings.lifetime_seconds,
        now_millis() / 1000,
    );
    jwt::trial_sign(key, &settings.headers, &claims)
        .map(|_| ())
        .map_err(|_| {
            ApiError::invalid(
                "jwt_private_key",
                "jwt_private_key failed the trial signature: its parts do not belong together",
            )
        })
}
