//! Credentials (`/api/v1/user_credentials`). A write's way: `request` parses the common
//! fields (no I/O), `checks` checks the folders, teams and users they name and the caller's
//! role, `mode` checks the mode's fields and key, `secrets` seals the key, and `writes` gives
//! each credential's writes their turn. `create` and `update` are those handlers; reads,
//! lists and deletes are here; `render` makes the Tines object.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use credvault_core::model::Role;
use credvault_store::CredentialFilter;
use serde_json::json;
use serde_json::value::RawValue;

use crate::audit::op;
use crate::error::{ApiError, ApiResult};
use crate::extract::auth::{require_role, Caller};
use crate::extract::pagination::{Envelope, ListRequest};
use crate::{path_id, AppState};

mod checks;
mod create;
mod mode;
pub mod notifications;
mod render;
mod request;
mod rotate;
mod update;
mod writes;

pub use create::create;
pub use render::render;
pub use rotate::{rotate, rotate_row};
pub use update::update;

async fn render_by_id(state: &AppState, id: i64) -> ApiResult<Json<Box<RawValue>>> {
    let view = state
        .store
        .get_credential_view(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("credential {id} not found")))?;
    Ok(Json(render(&view, &state.public_url)))
}

/// 409 for a name whose slug another credential of the team has.
fn slug_taken(slug: &str, team_id: i64) -> ApiError {
    ApiError::conflict(
        "name",
        format!("name gives the slug {slug:?}, which already exists in team {team_id}"),
    )
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Box<RawValue>>> {
    let (view, _) = caller
        .credential(&state, path_id(&raw_id, "credential")?)
        .await?;
    Ok(Json(render(&view, &state.public_url)))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    list: ListRequest,
) -> ApiResult<Json<Envelope<Box<RawValue>>>> {
    let team_id = list.query.id("team_id")?;
    let member = caller.list_scope(&state, team_id).await?;
    let (restricted, unused) = match list.query.get("filter").unwrap_or("") {
        "" => (None, false),
        "RESTRICTED" => (Some(true), false),
        "UNRESTRICTED" => (Some(false), false),
        "UNUSED_IN_ACTIONS" => (None, true),
        _ => {
            return Err(ApiError::invalid(
                "filter",
                "filter must be RESTRICTED, UNRESTRICTED or UNUSED_IN_ACTIONS",
            ))
        }
    };
    let filter = CredentialFilter {
        member,
        team_id,
        folder_id: list.query.id("folder_id")?,
        restricted,
        unused,
    };
    let page = state.store.list_credentials(filter, list.page()).await?;
    Ok(
        list.respond(&state.public_url, "user_credentials", &page, |v| {
            render(v, &state.public_url)
        }),
    )
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&raw_id, "credential")?;
    let (_, role) = caller.credential(&state, id).await?;
    // Tines: EDITORs create and change credentials; only TEAM_ADMINs delete them.
    require_role(role, Role::TeamAdmin, "delete credentials of this team")?;
    let audit = caller.audit(
        op::CREDENTIAL_DESTRUCTION,
        json!({"inputs": {"credentialId": id}, "credential_id": id}),
    );
    if !state.store.delete_credential(id, audit).await? {
        return Err(ApiError::not_found(format!("credential {id} not found")));
    }
    tracing::info!(credential_id = id, "credential deleted");
    Ok(StatusCode::NO_CONTENT)
}
