//! Teams and membership (`/api/v1/teams`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use credvault_core::limits::MAX_NAME_CHARS;
use credvault_core::model::Role;
use credvault_core::slug::slugify;
use credvault_core::timefmt::format_millis;
use credvault_store::Team;
use serde_json::{json, Value};

use crate::audit::op;
use crate::error::{ApiError, ApiResult};
use crate::extract::auth::{require_role, Caller};
use crate::extract::body::JsonBody;
use crate::extract::pagination::ListRequest;
use crate::handlers::users::user_json;
use crate::{path_id, AppState};

pub fn team_json(team: &Team) -> Value {
    json!({
        "id": team.id,
        "name": team.name,
        "slug": team.slug,
        "created_at": format_millis(team.created_at),
    })
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_admin("create teams")?;
    let name = body.required_str_max("name", MAX_NAME_CHARS)?.trim();
    let slug = slugify(name);
    if slug.is_empty() {
        return Err(ApiError::invalid(
            "name",
            "name must contain at least one letter or digit",
        ));
    }
    let audit = caller.audit(op::TEAM_CREATION, json!({"inputs": {"name": name}}));
    let team = state.store.create_team(name, &slug, audit).await?;
    Ok((StatusCode::CREATED, Json(team_json(&team))))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    list: ListRequest,
) -> ApiResult<Json<crate::extract::pagination::Envelope<Value>>> {
    let member = (!caller.is_admin()).then_some(caller.user.id);
    let page = state.store.list_teams(member, list.page()).await?;
    Ok(list.respond(&state.public_url, "teams", &page, team_json))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (team, _) = caller.team(&state, path_id(&raw_id, "team")?).await?;
    Ok(Json(team_json(&team)))
}

pub async fn invite_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let (team, role) = caller.team(&state, path_id(&raw_id, "team")?).await?;
    require_role(role, Role::TeamAdmin, "invite members to this team")?;
    let user_id = body.required_int("user_id")?;
    let new_role = match body.str("role")? {
        None => Role::Viewer,
        Some(text) => Role::parse(text).ok_or_else(|| {
            ApiError::invalid("role", format!("role must be one of {}", Role::NAMES))
        })?,
    };
    let user = state
        .store
        .get_user(user_id)
        .await?
        .ok_or_else(|| ApiError::invalid("user_id", format!("no user with id {user_id}")))?;
    let audit = caller.audit(
        op::TEAM_MEMBER_INVITATION,
        json!({
            "inputs": {"teamId": team.id, "userId": user.id, "role": new_role.as_str()},
            "team_id": team.id,
            "user_id": user.id,
            "role": new_role.as_str(),
        }),
    );
    state
        .store
        .set_membership(team.id, user.id, new_role, audit)
        .await?;
    let mut out = user_json(&user);
    out["role"] = json!(new_role.as_str());
    out["team_id"] = json!(team.id);
    Ok(Json(out))
}

/// `POST /teams/{id}/remove_member` (Tines): the user loses access to the team's credentials at
/// once; the credentials they own stay with the team.
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let (team, role) = caller.team(&state, path_id(&raw_id, "team")?).await?;
    require_role(role, Role::TeamAdmin, "remove members from this team")?;
    let user_id = body.required_int("user_id")?;
    let not_member = || {
        ApiError::invalid(
            "user_id",
            format!("user {user_id} is not a member of team {}", team.id),
        )
    };
    let user = state
        .store
        .get_user(user_id)
        .await?
        .ok_or_else(not_member)?;
    let audit = caller.audit(
        op::TEAM_MEMBER_REMOVAL,
        json!({
            "inputs": {"teamId": team.id, "userId": user.id},
            "team_id": team.id,
            "user_id": user.id,
        }),
    );
    if !state
        .store
        .remove_membership(team.id, user.id, audit)
        .await?
    {
        return Err(not_member());
    }
    tracing::info!(team_id = team.id, user_id, "member removed");
    let mut out = user_json(&user);
    out["team_id"] = json!(team.id);
    Ok(Json(out))
}
