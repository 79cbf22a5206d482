//! Users and their API keys (`/api/v1/admin/users`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use credvault_core::crypto::generate_api_key;
use credvault_core::limits::MAX_NAME_CHARS;
use credvault_core::timefmt::{format_millis, now_millis};
use credvault_store::{Deactivation, NewUser, User};
use serde_json::{json, Value};

use crate::audit::op;
use crate::error::{ApiError, ApiResult};
use crate::extract::auth::Caller;
use crate::extract::body::JsonBody;
use crate::extract::pagination::ListRequest;
use crate::{path_id, AppState};

pub fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "admin": user.admin,
        "is_active": user.is_active,
        "created_at": format_millis(user.created_at),
        "updated_at": format_millis(user.updated_at),
        "last_seen": user.last_seen.map(format_millis),
    })
}

/// A plausible address: one `@` with text on both sides and no whitespace. Delivery is not
/// credvault's concern, so nothing stricter.
fn valid_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_admin("create users")?;
    let email = body
        .required_str_max("email", MAX_NAME_CHARS)?
        .trim()
        .to_lowercase();
    if !valid_email(&email) {
        return Err(ApiError::invalid(
            "email",
            "email must be an address like name@example.com",
        ));
    }
    let new = NewUser {
        email,
        first_name: body
            .str_max("first_name", MAX_NAME_CHARS)?
            .unwrap_or("")
            .to_string(),
        last_name: body
            .str_max("last_name", MAX_NAME_CHARS)?
            .unwrap_or("")
            .to_string(),
        admin: body.bool("admin")?.unwrap_or(false),
    };
    let audit = caller.audit(
        op::USER_CREATION,
        json!({"inputs": {
            "email": new.email,
            "firstName": new.first_name,
            "lastName": new.last_name,
            "admin": new.admin,
        }}),
    );
    let user = state.store.create_user(new, audit).await?;
    Ok((StatusCode::CREATED, Json(user_json(&user))))
}

/// `GET /api/v1/me`: the user the API key belongs to (credvault), so a client such as the
/// console can tell whom it signed in as and whether to offer the admin pages.
pub async fn me(caller: Caller) -> Json<Value> {
    Json(user_json(&caller.user))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    list: ListRequest,
) -> ApiResult<Json<crate::extract::pagination::Envelope<Value>>> {
    caller.require_admin("list users")?;
    let page = state.store.list_users(list.page()).await?;
    Ok(list.respond(&state.public_url, "admin/users", &page, user_json))
}

/// `DELETE /admin/users/{id}`: deactivates the user. Their API keys stop working at once;
/// their credentials stay with their teams; the user stays listed, with `is_active: false`.
pub async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin("deactivate users")?;
    let id = path_id(&raw_id, "user")?;
    let audit = caller.audit(
        op::USER_DEACTIVATION,
        json!({"inputs": {"userId": id}, "user_id": id}),
    );
    match state.store.deactivate_user(id, now_millis(), audit).await? {
        Deactivation::Done(_) => {
            tracing::info!(user_id = id, "user deactivated");
            Ok(StatusCode::NO_CONTENT)
        }
        Deactivation::NotFound => Err(ApiError::not_found(format!("user {id} not found"))),
        Deactivation::LastAdmin => Err(ApiError::invalid(
            "id",
            format!("user {id} is the last active tenant admin and cannot be deactivated"),
        )),
    }
}

/// The user whose keys are managed: the caller itself, or anyone for a tenant admin.
async fn key_owner(state: &AppState, caller: &Caller, raw_id: &str) -> ApiResult<User> {
    let id = path_id(raw_id, "user")?;
    if id != caller.user.id && !caller.is_admin() {
        return Err(ApiError::forbidden(
            "only tenant admins may manage other users' API keys",
        ));
    }
    state
        .store
        .get_user(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user {id} not found")))
}

pub async fn create_api_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let user = key_owner(&state, &caller, &raw_id).await?;
    let name = body.required_str_max("name", MAX_NAME_CHARS)?.trim();
    if name.is_empty() {
        return Err(ApiError::invalid("name", "name must not be empty"));
    }
    let key = generate_api_key();
    let hash = state.keyring.current().hash_api_key(&key);
    let audit = caller.audit(
        op::TOKEN_CREATION,
        json!({"inputs": {"name": name, "userId": user.id}, "user_id": user.id}),
    );
    let created = state
        .store
        .create_api_key(user.id, name, &hash, audit)
        .await?;
    tracing::info!(user_id = user.id, key_id = created.id, "API key created");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": created.id,
            "name": created.name,
            "key": key.as_str(),
            "created_at": format_millis(created.created_at),
        })),
    ))
}

pub async fn revoke_api_key(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw_id, raw_key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = key_owner(&state, &caller, &raw_id).await?;
    let key_id = path_id(&raw_key_id, "API key")?;
    let audit = caller.audit(
        op::TOKEN_DELETION,
        json!({
            "inputs": {"id": key_id, "userId": user.id},
            "api_key_id": key_id,
            "user_id": user.id,
        }),
    );
    if !state.store.revoke_api_key(user.id, key_id, audit).await? {
        return Err(ApiError::not_found(format!("API key {key_id} not found")));
    }
    tracing::info!(user_id = user.id, key_id, "API key revoked");
    Ok(StatusCode::NO_CONTENT)
}
