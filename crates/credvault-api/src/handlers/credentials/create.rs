//! `POST /user_credentials`: a new live credential, or (with `live_credential_id`) a test
//! credential attached to one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use credvault_core::crypto::generate_uid;
use credvault_core::model::{Mode, Role};
use credvault_core::slug::slugify;
use credvault_core::timefmt::now_millis;
use credvault_store::{Conflict, Credential, CredentialView, JsonText, NewCredential, Owner};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::checks::{apply_common, apply_test_expiry, Context};
use super::mode::{apply_mode, parse_mode, ModeData};
use super::render::render;
use super::request::{self, Common};
use super::{render_by_id, slug_taken, writes};
use crate::audit::{self, op, CREDENTIAL_FIELDS};
use crate::error::{ApiError, ApiResult, ResultExt};
use crate::extract::auth::{require_role, Caller};
use crate::extract::body::{missing, Fields, JsonBody};
use crate::notify::first_look;
use crate::{secrets, AppState};

type Created = (StatusCode, Json<Box<RawValue>>);

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<Created> {
    let mode = parse_mode(&body)?;
    if let Some(live_id) = body.int("live_credential_id")? {
        return attach_test_credential(&state, &caller, &body, mode, live_id).await;
    }
    let team_id = body.required_int("team_id")?;
    let (team, role) = caller.team(&state, team_id).await?;
    require_role(role, Role::Editor, "create credentials in this team")?;
    if !body.has("name") {
        return Err(missing("name"));
    }
    let ctx = Context {
        state: &state,
        caller: &caller,
        team_id: team.id,
        role,
        is_owner: true,
    };
    let common = apply_common(&ctx, &Common::defaults(), &body).await?;
    let data = apply_mode(&state, mode, &body, None).await?;
    let slug = common.slug.clone();
    let new = live_row(&state, team.id, caller.user.id, mode, common, data)?;
    let audit = caller.audit(
        op::CREDENTIAL_SAVE,
        json!({
            "inputs": audit::tines_inputs(&body, &CREDENTIAL_FIELDS),
            "team_id": team.id,
            "fields": audit::present_fields(&body, &CREDENTIAL_FIELDS),
        }),
    );
    let row = state
        .store
        .create_credential(new, audit)
        .await
        .on_conflict(Conflict::CredentialSlug, || slug_taken(&slug, team.id))?;
    tracing::info!(credential_id = row.id, team_id = team.id, mode = %row.mode, "credential created");
    // A new credential is owned by its creator and has no test credential yet.
    let view = CredentialView {
        credential: row,
        owner: Some(Owner {
            id: caller.user.id,
            first_name: caller.user.first_name.clone(),
            last_name: caller.user.last_name.clone(),
            email: caller.user.email.clone(),
        }),
        test: None,
    };
    Ok((StatusCode::CREATED, Json(render(&view, &state.public_url))))
}

/// The row of a new live credential, its secret sealed.
fn live_row(
    state: &AppState,
    team_id: i64,
    owner_id: i64,
    mode: Mode,
    common: Common,
    data: ModeData,
) -> ApiResult<NewCredential> {
    let rotate_at = data.rotate_at(now_millis());
    let notify_at = first_look(common.expires_at, common.expiry_notifications_enabled);
    let secret = data.secret.ok_or_else(|| missing("jwt_private_key"))?;
    let uid = generate_uid();
    let sealed = secrets::seal(state, team_id, &uid, &secret)?;
    Ok(NewCredential {
        uid,
        team_id,
        live_id: None,
        name: common.name,
        slug: common.slug,
        mode,
        folder_id: common.folder_id,
        read_access: common.read_access,
        shared_team_slugs: common.shared_team_slugs,
        description: common.description,
        metadata: JsonText::of(&common.metadata),
        allowed_hosts: common.allowed_hosts,
        owner_id,
        expires_at: common.expires_at,
        expiry_notifications_enabled: common.expiry_notifications_enabled,
        notification_recipient_ids: common.recipient_ids,
        config: JsonText::of(&data.config),
        secret: sealed,
        // Public, so as unguessable as the uid: 128 random bits.
        issuer_id: generate_uid(),
        rotate_at,
        notify_at,
        key_id: data.key_id,
    })
}

/// `POST /user_credentials` with `live_credential_id` (Tines): attaches a test credential.
/// Team, folder, description, sharing and host rules are the live credential's.
async fn attach_test_credential(
    state: &AppState,
    caller: &Caller,
    body: &Fields,
    mode: Mode,
    live_id: i64,
) -> ApiResult<Created> {
    let (view, role) = caller.credential(state, live_id).await?;
    let live = view.credential;
    require_role(
        role,
        Role::Editor,
        "attach a test credential to this credential",
    )?;
    if live.mode != mode {
        let message = format!(
            "mode must be {} to match live credential {live_id}",
            live.mode
        );
        return Err(ApiError::invalid("mode", message));
    }
    let name = if body.has("name") {
        request::name_and_slug(body)?.0
    } else {
        live.name.clone()
    };
    let metadata = request::metadata(body)?;
    let data = apply_mode(state, mode, body, None).await?;
    let expiry = test_expiry(state, &live, body).await?;
    let own = (name, metadata);
    let new = test_row(state, &live, caller.user.id, own, data, &expiry)?;
    let audit = caller.audit(
        op::CREDENTIAL_SAVE,
        json!({
            "inputs": audit::tines_inputs(body, &CREDENTIAL_FIELDS),
            "credential_id": live.id,
            "is_test": true,
            "fields": audit::present_fields(body, &CREDENTIAL_FIELDS),
        }),
    );
    // Attaching also writes the live row (its flag and version), so it takes its turn.
    let attach = state.store.attach_test_credential(new, audit);
    writes::in_turn_once(live.id, attach).await?;
    tracing::info!(credential_id = live.id, "test credential attached");
    Ok((StatusCode::CREATED, render_by_id(state, live.id).await?))
}

/// A test credential's own date, reminders and recipients (none unless the request gives
/// them), checked as an update of them would be; on a copy of the live row.
async fn test_expiry(state: &AppState, live: &Credential, body: &Fields) -> ApiResult<Credential> {
    let mut expiry = live.clone();
    (expiry.expires_at, expiry.expiry_notifications_enabled) = (None, false);
    expiry.notification_recipient_ids.clear();
    apply_test_expiry(state, body, &mut expiry).await?;
    Ok(expiry)
}

/// The row of a test credential attached to `live`, its secret sealed: its own name and
/// metadata (`own`), mode fields and `expiry`; the rest is the live one's.
fn test_row(
    state: &AppState,
    live: &Credential,
    owner_id: i64,
    (name, metadata): (String, Value),
    data: ModeData,
    expiry: &Credential,
) -> ApiResult<NewCredential> {
    let secret = data.secret.ok_or_else(|| missing("jwt_private_key"))?;
    let uid = generate_uid();
    Ok(NewCredential {
        secret: secrets::seal(state, live.team_id, &uid, &secret)?,
        uid,
        team_id: live.team_id,
        live_id: Some(live.id),
        slug: slugify(&name),
        name,
        mode: live.mode,
        folder_id: live.folder_id,
        read_access: live.read_access,
        shared_team_slugs: live.shared_team_slugs.clone(),
        description: live.description.clone(),
        metadata: JsonText::of(&metadata),
        allowed_hosts: live.allowed_hosts.clone(),
        owner_id,
        expires_at: expiry.expires_at,
        expiry_notifications_enabled: expiry.expiry_notifications_enabled,
        notify_at: first_look(expiry.expires_at, expiry.expiry_notifications_enabled),
        notification_recipient_ids: expiry.notification_recipient_ids.clone(),
        config: JsonText::of(&data.config),
        issuer_id: generate_uid(),
        key_id: data.key_id,
        // Only live credentials rotate on schedule.
        rotate_at: None,
    })
}
