//! Credentials (`/api/v1/user_credentials`): validation of every field, sealing of secrets,
//! and the Tines response object.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use credvault_core::crypto::{credential_aad, generate_uid};
use credvault_core::hosts::parse_pattern;
use credvault_core::jwt::{self, Algorithm, KeyFamily};
use credvault_core::keys::parse_private_key;
use credvault_core::model::{Mode, ReadAccess, Role};
use credvault_core::slug::slugify;
use credvault_core::timefmt::{format_millis, now_millis, parse_rfc3339, Millis};
use credvault_store::{Credential, NewCredential, StoreError, User};
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use crate::auth::{require_role, Caller};
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::folders::credential_folder_of_team;
use crate::{path_id, AppState};

const MAX_NAME_LEN: usize = 255;
const MAX_RECIPIENTS: usize = 5;
const DEFAULT_LIFETIME_SECONDS: i64 = 3600;
const MAX_LIFETIME_SECONDS: i64 = 86_400;
const SECRET_FIELD: &str = "secret";

/// The fields every mode shares, validated.
struct Common {
    name: String,
    slug: String,
    folder_id: Option<i64>,
    read_access: ReadAccess,
    shared_team_slugs: Vec<String>,
    description: String,
    metadata: Value,
    allowed_hosts: Vec<String>,
    expires_at: Option<Millis>,
    expiry_notifications_enabled: bool,
    recipient_ids: Vec<i64>,
}

/// A mode's validated fields: what may be shown (`config`) and what is sealed (`secret`).
struct ModeData {
    config: Value,
    secret: Zeroizing<Vec<u8>>,
}

fn parse_mode(body: &Fields) -> ApiResult<Mode> {
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

fn validate_name(body: &Fields) -> ApiResult<(String, String)> {
    let name = body.required_str("name")?.trim();
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::invalid(
            "name",
            format!("name must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    let slug = slugify(name);
    if slug.is_empty() {
        return Err(ApiError::invalid(
            "name",
            "name must contain at least one letter or digit",
        ));
    }
    Ok((name.to_string(), slug))
}

fn validate_allowed_hosts(body: &Fields) -> ApiResult<Vec<String>> {
    let hosts = body.str_array("allowed_hosts")?.unwrap_or_default();
    for (i, entry) in hosts.iter().enumerate() {
        parse_pattern(entry).map_err(|problem| {
            ApiError::invalid(
                "allowed_hosts",
                format!("allowed_hosts entry {i} ({entry:?}) {problem}"),
            )
        })?;
    }
    Ok(hosts)
}

fn validate_expires_at(body: &Fields) -> ApiResult<Option<Millis>> {
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

async fn validate_common(
    state: &AppState,
    caller: &Caller,
    body: &Fields,
    team_id: i64,
    role: Role,
) -> ApiResult<Common> {
    let (name, slug) = validate_name(body)?;

    let folder_id = body.int("folder_id")?;
    if let Some(id) = folder_id {
        credential_folder_of_team(state, id, team_id, "folder_id").await?;
    }

    let read_access = match body.str("read_access")? {
        None => ReadAccess::Team,
        Some(text) => ReadAccess::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "read_access",
                format!("read_access must be one of {}", ReadAccess::NAMES),
            )
        })?,
    };
    if read_access != ReadAccess::Team && role < Role::TeamAdmin {
        return Err(ApiError::forbidden_field(
            "read_access",
            "sharing a credential beyond its team (read_access GLOBAL or SPECIFIC_TEAMS) needs TEAM_ADMIN of the team",
        ));
    }

    let shared_team_slugs = body.str_array("shared_team_slugs")?.unwrap_or_default();
    match (read_access, shared_team_slugs.is_empty()) {
        (ReadAccess::SpecificTeams, true) => return Err(ApiError::invalid(
            "shared_team_slugs",
            "shared_team_slugs must list at least one team slug when read_access is SPECIFIC_TEAMS",
        )),
        (ReadAccess::Team | ReadAccess::Global, false) => {
            return Err(ApiError::invalid(
                "shared_team_slugs",
                "shared_team_slugs may only be given when read_access is SPECIFIC_TEAMS",
            ))
        }
        _ => {}
    }
    for slug in &shared_team_slugs {
        let team = state.store.get_team_by_slug(slug).await?.ok_or_else(|| {
            ApiError::invalid(
                "shared_team_slugs",
                format!("shared_team_slugs lists {slug:?}, but no team has that slug"),
            )
        })?;
        let their_role = caller.role_in(state, team.id).await?;
        if their_role.is_none_or(|r| r < Role::Editor) {
            return Err(ApiError::forbidden_field(
                "shared_team_slugs",
                format!("shared_team_slugs lists {slug:?}; sharing with that team needs EDITOR or higher in it"),
            ));
        }
    }

    let description = body.str("description")?.unwrap_or("").to_string();
    let metadata = Value::Object(body.object("metadata")?.cloned().unwrap_or_default());
    let allowed_hosts = validate_allowed_hosts(body)?;
    let expires_at = validate_expires_at(body)?;
    let expiry_notifications_enabled = body.bool("expiry_notifications_enabled")?.unwrap_or(false);

    const RECIPIENTS: &str = "credential_notification_recipient_user_ids";
    let recipient_ids = body.int_array(RECIPIENTS)?.unwrap_or_default();
    if recipient_ids.len() > MAX_RECIPIENTS {
        return Err(ApiError::invalid(
            RECIPIENTS,
            format!("{RECIPIENTS} may list at most {MAX_RECIPIENTS} users"),
        ));
    }
    for user_id in &recipient_ids {
        let role = state.store.get_membership(team_id, *user_id).await?;
        if role
            .as_deref()
            .and_then(Role::parse)
            .is_none_or(|r| r < Role::Editor)
        {
            return Err(ApiError::invalid(
                RECIPIENTS,
                format!("{RECIPIENTS} lists user {user_id}, who is not an EDITOR or TEAM_ADMIN of team {team_id}"),
            ));
        }
    }

    Ok(Common {
        name,
        slug,
        folder_id,
        read_access,
        shared_team_slugs,
        description,
        metadata,
        allowed_hosts,
        expires_at,
        expiry_notifications_enabled,
        recipient_ids,
    })
}

fn validate_payload(body: &Fields) -> ApiResult<Map<String, Value>> {
    const INVALID: &str = "jwt_payload must be a JSON object of claims, or a string holding one";
    match body.get("jwt_payload") {
        None => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(Map::new()),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(ApiError::invalid("jwt_payload", INVALID)),
        },
        Some(_) => Err(ApiError::invalid("jwt_payload", INVALID)),
    }
}

async fn validate_jwt(body: &Fields) -> ApiResult<ModeData> {
    let alg_text = body.required_str("jwt_algorithm")?;
    let alg = Algorithm::parse(alg_text).ok_or_else(|| {
        ApiError::invalid(
            "jwt_algorithm",
            format!("jwt_algorithm must be one of {}", Algorithm::NAMES),
        )
    })?;
    let payload = validate_payload(body)?;
    let auto_time = body.bool("jwt_auto_generate_time_claims")?.unwrap_or(false);
    let headers = body.object("jwt_headers")?.cloned().unwrap_or_default();
    if headers.contains_key("alg") {
        return Err(ApiError::invalid(
            "jwt_headers",
            "jwt_headers cannot set alg; it always comes from jwt_algorithm",
        ));
    }
    let lifetime = body
        .int("jwt_lifetime_seconds")?
        .unwrap_or(DEFAULT_LIFETIME_SECONDS);
    if !(1..=MAX_LIFETIME_SECONDS).contains(&lifetime) {
        return Err(ApiError::invalid(
            "jwt_lifetime_seconds",
            format!("jwt_lifetime_seconds must be between 1 and {MAX_LIFETIME_SECONDS}"),
        ));
    }
    let key_text = Zeroizing::new(body.required_str("jwt_private_key")?.to_string());
    let passphrase = body
        .str("jwt_private_key_passphrase")?
        .map(|p| Zeroizing::new(p.to_string()));

    let claims = jwt::claims(&payload, auto_time, lifetime, now_millis() / 1000);
    let header = headers.clone();
    let check = move || {
        let parsed = parse_private_key(alg, &key_text, passphrase.as_deref().map(|p| p.as_str()))?;
        jwt::trial_sign(&parsed.key, &header, &claims).map_err(|_| {
            ApiError::invalid(
                "jwt_private_key",
                "jwt_private_key failed the trial signature: its parts do not belong together",
            )
        })?;
        Ok::<_, ApiError>(parsed.stored)
    };
    // RSA key checks and PBKDF2 (encrypted keys) take milliseconds: off the async workers with
    // them. EC, Ed25519 and HMAC keys take microseconds, less than the hand-off would cost.
    let slow = alg.family() == KeyFamily::Rsa || body.has("jwt_private_key_passphrase");
    let stored = if slow {
        tokio::task::spawn_blocking(check)
            .await
            .map_err(|e| ApiError::Internal(format!("key validation task failed: {e}")))??
    } else {
        check()?
    };

    Ok(ModeData {
        config: json!({
            "jwt_algorithm": alg.as_str(),
            "jwt_payload": payload,
            "jwt_auto_generate_time_claims": auto_time,
            "jwt_headers": headers,
            "jwt_lifetime_seconds": lifetime,
        }),
        secret: stored,
    })
}

fn validate_text(body: &Fields) -> ApiResult<ModeData> {
    let value = body.required_str("value")?;
    if value.is_empty() {
        return Err(ApiError::invalid("value", "value must not be empty"));
    }
    Ok(ModeData {
        config: json!({}),
        secret: Zeroizing::new(value.as_bytes().to_vec()),
    })
}

async fn validate_mode(mode: Mode, body: &Fields) -> ApiResult<ModeData> {
    match mode {
        Mode::Jwt => validate_jwt(body).await,
        Mode::Text => validate_text(body),
        _ => unreachable!("parse_mode refuses unsupported modes"),
    }
}

/// Loads what the response object shows besides the row (owner, test credential) and renders it.
async fn credential_json(state: &AppState, c: &Credential) -> ApiResult<Value> {
    let owner = state.store.get_user(c.owner_id).await?;
    let test = state.store.get_test_credential(c.id).await?;
    Ok(render(c, owner.as_ref(), test.as_ref()))
}

/// The Tines response object, plus the mode's non-secret settings. Never any secret.
fn render(c: &Credential, owner: Option<&User>, test: Option<&Credential>) -> Value {
    let mut out = json!({
        "id": c.id,
        "name": c.name,
        "mode": c.mode,
        "team_id": c.team_id,
        "folder_id": c.folder_id,
        "read_access": c.read_access,
        "shared_team_slugs": c.shared_team_slugs,
        "description": c.description,
        "slug": c.slug,
        "created_at": format_millis(c.created_at),
        "updated_at": format_millis(c.updated_at),
        "allowed_hosts": c.allowed_hosts,
        "metadata": c.metadata,
        "restriction_type": if c.allowed_hosts.is_empty() { "UNRESTRICTED" } else { "RESTRICTED" },
        "test_credential_enabled": c.test_credential_enabled,
        "test_credential": test.map(|t| json!({
            "created_at": format_millis(t.created_at),
            "updated_at": format_millis(t.updated_at),
        })),
        "owner": owner.map(|u| json!({
            "user_id": u.id,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "email": u.email,
        })),
        "expires_at": c.expires_at.map(format_millis),
        "expiry_notifications_enabled": c.expiry_notifications_enabled,
        "credential_notification_recipient_user_ids": c.notification_recipient_ids,
    });
    if let (Value::Object(out), Value::Object(config)) = (&mut out, &c.config) {
        for (k, v) in config {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mode = parse_mode(&body)?;
    if let Some(live_id) = body.int("live_credential_id")? {
        return attach_test_credential(&state, &caller, &body, mode, live_id).await;
    }
    let team_id = body.required_int("team_id")?;
    let (team, role) = caller.team(&state, team_id).await?;
    require_role(role, Role::Editor, "create credentials in this team")?;
    let common = validate_common(&state, &caller, &body, team.id, role).await?;
    let data = validate_mode(mode, &body).await?;

    let uid = generate_uid();
    let secret = state
        .keyring
        .seal(&credential_aad(team.id, &uid, SECRET_FIELD), &data.secret);
    let slug = common.slug.clone();
    let row = state
        .store
        .create_credential(NewCredential {
            uid,
            team_id: team.id,
            live_id: None,
            name: common.name,
            slug: common.slug,
            mode: mode.as_str().to_string(),
            folder_id: common.folder_id,
            read_access: common.read_access.as_str().to_string(),
            shared_team_slugs: common.shared_team_slugs,
            description: common.description,
            metadata: common.metadata,
            allowed_hosts: common.allowed_hosts,
            owner_id: caller.user.id,
            expires_at: common.expires_at,
            expiry_notifications_enabled: common.expiry_notifications_enabled,
            notification_recipient_ids: common.recipient_ids,
            config: data.config,
            secret,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::Conflict {
                field: "name",
                message: format!(
                    "name gives the slug {slug:?}, which already exists in team {}",
                    team.id
                ),
            },
            other => other.into(),
        })?;
    tracing::info!(credential_id = row.id, team_id = team.id, mode = %row.mode, "credential created");
    Ok((
        StatusCode::CREATED,
        Json(credential_json(&state, &row).await?),
    ))
}

/// A live credential the caller may see (member of its team, or tenant admin), with its role.
async fn visible_credential(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ApiResult<(Credential, Role)> {
    let not_found = || ApiError::not_found(format!("credential {id} not found"));
    let credential = state
        .store
        .get_credential(id)
        .await?
        .filter(|c| c.live_id.is_none())
        .ok_or_else(not_found)?;
    let role = caller
        .role_in(state, credential.team_id)
        .await?
        .ok_or_else(not_found)?;
    Ok((credential, role))
}

/// `POST /user_credentials` with `live_credential_id` (Tines): attaches a test credential.
/// Team, folder, description, sharing and host rules are the live credential's.
async fn attach_test_credential(
    state: &AppState,
    caller: &Caller,
    body: &Fields,
    mode: Mode,
    live_id: i64,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (live, role) = visible_credential(state, caller, live_id).await?;
    require_role(
        role,
        Role::Editor,
        "attach a test credential to this credential",
    )?;
    if live.mode != mode.as_str() {
        return Err(ApiError::invalid(
            "mode",
            format!(
                "mode must be {} to match the live credential {live_id}",
                live.mode
            ),
        ));
    }
    let name = match body.has("name") {
        true => validate_name(body)?.0,
        false => live.name.clone(),
    };
    let metadata = Value::Object(body.object("metadata")?.cloned().unwrap_or_default());
    let expires_at = validate_expires_at(body)?;
    let data = validate_mode(mode, body).await?;
    let uid = generate_uid();
    let secret = state.keyring.seal(
        &credential_aad(live.team_id, &uid, SECRET_FIELD),
        &data.secret,
    );
    state
        .store
        .attach_test_credential(NewCredential {
            uid,
            team_id: live.team_id,
            live_id: Some(live.id),
            slug: slugify(&name),
            name,
            mode: live.mode.clone(),
            folder_id: live.folder_id,
            read_access: live.read_access.clone(),
            shared_team_slugs: live.shared_team_slugs.clone(),
            description: live.description.clone(),
            metadata,
            allowed_hosts: live.allowed_hosts.clone(),
            owner_id: caller.user.id,
            expires_at,
            expiry_notifications_enabled: false,
            notification_recipient_ids: Vec::new(),
            config: data.config,
            secret,
        })
        .await?;
    tracing::info!(credential_id = live.id, "test credential attached");
    let live = state
        .store
        .get_credential(live.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("credential {live_id} not found")))?;
    Ok((
        StatusCode::CREATED,
        Json(credential_json(state, &live).await?),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (credential, _) =
        visible_credential(&state, &caller, path_id(&raw_id, "credential")?).await?;
    Ok(Json(credential_json(&state, &credential).await?))
}
