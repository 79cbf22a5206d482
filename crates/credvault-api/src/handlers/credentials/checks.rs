//! What a create or update may change, once its fields have the right form: the folder,
//! teams and users it names must exist where they should, and the caller's role must allow
//! the change (API.md §3, §4.4, §4.5).

use credvault_core::model::{ReadAccess, Role};
use credvault_store::Credential;

use super::request::{Changes, Common, ExpiryChanges, RECIPIENTS};
use crate::error::{ApiError, ApiResult};
use crate::extract::auth::Caller;
use crate::extract::body::Fields;
use crate::handlers::folders::credential_folder_of_team;
use crate::AppState;

/// Who is changing which team's credential: decides what the caller may change.
pub struct Context<'a> {
    pub state: &'a AppState,
    pub caller: &'a Caller,
    pub team_id: i64,
    pub role: Role,
    /// The caller owns the credential (always true on create).
    pub is_owner: bool,
}

/// What the request named explicitly, checked even when it equals the stored value.
#[derive(Debug, Default, Clone, Copy)]
struct Named {
    folder_id: Option<i64>,
    recipients: bool,
}

impl Named {
    fn of(changes: &Changes) -> Named {
        Named {
            folder_id: changes.folder_id.flatten(),
            recipients: changes.recipient_ids.is_some(),
        }
    }
}

/// `base` with the common fields of `body` applied: parsed, merged, then checked.
pub async fn apply_common(ctx: &Context<'_>, base: &Common, body: &Fields) -> ApiResult<Common> {
    let changes = Changes::parse(body)?;
    let named = Named::of(&changes);
    let after = base.merged(changes)?;
    check(ctx, base, &after, named).await?;
    Ok(after)
}

/// Checks the change from `before` to `after`.
async fn check(ctx: &Context<'_>, before: &Common, after: &Common, named: Named) -> ApiResult<()> {
    if let Some(id) = named.folder_id {
        credential_folder_of_team(ctx.state, id, ctx.team_id, "folder_id").await?;
    }
    if (after.read_access, &after.shared_team_slugs)
        != (before.read_access, &before.shared_team_slugs)
    {
        check_sharing(ctx, after).await?;
    }
    if after.allowed_hosts != before.allowed_hosts && !ctx.is_owner && ctx.role < Role::TeamAdmin {
        return Err(ApiError::forbidden_field(
            "allowed_hosts",
            "changing allowed_hosts of another user's credential needs TEAM_ADMIN of the team",
        ));
    }
    if named.recipients {
        check_recipients(ctx.state, ctx.team_id, &after.recipient_ids).await?;
    }
    Ok(())
}

/// Sharing beyond the team needs TEAM_ADMIN, changing another user's sharing needs
/// TEAM_ADMIN, and every team shared with must exist and have the caller as EDITOR or higher.
async fn check_sharing(ctx: &Context<'_>, after: &Common) -> ApiResult<()> {
    if after.read_access != ReadAccess::Team && ctx.role < Role::TeamAdmin {
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
    for slug in &after.shared_team_slugs {
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
    Ok(())
}

/// The expiry fields of `body` on a test credential `row`, which has its own date, reminders
/// and recipients (API.md §7); everything else of a test credential is its live one's.
pub async fn apply_test_expiry(
    state: &AppState,
    body: &Fields,
    row: &mut Credential,
) -> ApiResult<()> {
    let changes = ExpiryChanges::parse(body)?;
    if let Some(expires_at) = changes.expires_at {
        row.expires_at = expires_at;
    }
    if let Some(enabled) = changes.enabled {
        row.expiry_notifications_enabled = enabled;
    }
    if let Some(ids) = changes.recipient_ids {
        check_recipients(state, row.team_id, &ids).await?;
        row.notification_recipient_ids = ids;
    }
    Ok(())
}

/// Notification recipients must be EDITORs or TEAM_ADMINs of the credential's team.
async fn check_recipients(state: &AppState, team_id: i64, ids: &[i64]) -> ApiResult<()> {
    for user_id in ids {
        let role = state.store.get_membership(team_id, *user_id).await?;
        if role.is_none_or(|r| r < Role::Editor) {
            return Err(ApiError::invalid(
                RECIPIENTS,
                format!(
                    "{RECIPIENTS} lists user {user_id}, who is not an EDITOR or TEAM_ADMIN of team {team_id}"
                ),
            ));
        }
    }
    Ok(())
}
