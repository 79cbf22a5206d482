//! Credential folders (`/api/v1/folders`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use credvault_core::model::Role;
use credvault_store::{Folder, NewFolder};
use serde_json::{json, Value};

use crate::audit::op;
use crate::error::{ApiError, ApiResult};
use crate::extract::auth::{require_role, Caller};
use crate::extract::body::JsonBody;
use crate::extract::pagination::ListRequest;
use crate::AppState;

/// The only folder content type this service holds.
pub const CREDENTIAL: &str = "CREDENTIAL";

pub fn folder_json(folder: &Folder) -> Value {
    json!({
        "id": folder.id,
        "name": folder.name,
        "content_type": folder.content_type,
        "team_id": folder.team_id,
        "size": folder.size,
        "parent_folder_id": folder.parent_folder_id,
    })
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let team_id = body.required_int("team_id")?;
    let (team, role) = caller.team(&state, team_id).await?;
    require_role(role, Role::Editor, "create folders in this team")?;
    let name = body
        .required_str_max("name", credvault_core::limits::MAX_NAME_CHARS)?
        .trim();
    if name.is_empty() {
        return Err(ApiError::invalid("name", "name must not be empty"));
    }
    let content_type = body.required_str("content_type")?;
    if content_type != CREDENTIAL {
        return Err(ApiError::invalid(
            "content_type",
            "content_type must be CREDENTIAL; other folder types are not supported",
        ));
    }
    let parent_folder_id = body.int("parent_folder_id")?;
    if let Some(parent_id) = parent_folder_id {
        credential_folder_of_team(&state, parent_id, team.id, "parent_folder_id").await?;
    }
    let audit = caller.audit(
        op::FOLDER_CREATION,
        json!({
            "inputs": {
                "name": name,
                "contentType": CREDENTIAL,
                "teamId": team.id,
                "parentFolderId": parent_folder_id,
            },
            "team_id": team.id,
        }),
    );
    let new = NewFolder {
        team_id: team.id,
        name: name.to_string(),
        content_type: CREDENTIAL.to_string(),
        parent_folder_id,
    };
    let folder = state.store.create_folder(new, audit).await?;
    Ok((StatusCode::CREATED, Json(folder_json(&folder))))
}

/// The folder `id` if it is a CREDENTIAL folder of `team_id`; otherwise a 422 on `field`.
pub async fn credential_folder_of_team(
    state: &AppState,
    id: i64,
    team_id: i64,
    field: &'static str,
) -> ApiResult<Folder> {
    match state.store.get_folder(id).await? {
        Some(folder) if folder.team_id == team_id && folder.content_type == CREDENTIAL => {
            Ok(folder)
        }
        _ => Err(ApiError::invalid(
            field,
            format!("{field} {id} is not a CREDENTIAL folder of team {team_id}"),
        )),
    }
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    list: ListRequest,
) -> ApiResult<Json<crate::extract::pagination::Envelope<Value>>> {
    let team_id = list.query.id("team_id")?;
    let member = caller.list_scope(&state, team_id).await?;
    let page = state
        .store
        .list_folders(team_id, member, list.page())
        .await?;
    Ok(list.respond(&state.public_url, "folders", &page, folder_json))
}
