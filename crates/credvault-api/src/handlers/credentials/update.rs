//! `PUT /user_credentials/{id}`: fields present replace the stored ones, validated as on
//! create. With `is_test`, the mode's fields and `metadata` go to the test credential instead.
//! Each row is written in its turn (`writes`), computed from the stored row it replaces, so
//! concurrent updates never interleave field by field.

use axum::extract::{Path, State};
use axum::Json;
use credvault_core::model::{Mode, Role};
use credvault_core::timefmt::now_millis;
use credvault_store::{AuditRecord, Conflict, Credential, JsonText};
use serde_json::json;
use serde_json::value::RawValue;

use super::checks::{apply_common, apply_test_expiry, Context};
use super::mode::{apply_mode, parse_mode};
use super::request::{self, Common};
use super::{render_by_id, slug_taken, writes};
use crate::audit::{self, op, CREDENTIAL_FIELDS};
use crate::error::{ApiError, ApiResult, ResultExt};
use crate::extract::auth::{require_role, Caller};
use crate::extract::body::{Fields, JsonBody};
use crate::mint::keys::{prepared_key, retiring};
use crate::{notify, path_id, secrets, AppState};

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Box<RawValue>>> {
    let id = path_id(&raw_id, "credential")?;
    let update = Update {
        mode: parse_mode(&body)?,
        is_test: body.bool("is_test")?.unwrap_or(false),
        enable_test: body.bool("test_credential_enabled")?,
        state: &state,
        caller: &caller,
        body: &body,
        id,
    };
    if update.is_test {
        writes::in_turn(id, || update.write_test()).await?;
        if update.enable_test.is_none() {
            tracing::info!(credential_id = id, "test credential updated");
            return render_by_id(&state, id).await;
        }
    }
    writes::in_turn(id, || update.write_live()).await?;
    tracing::info!(credential_id = id, "credential updated");
    render_by_id(&state, id).await
}

struct Update<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    body: &'a Fields,
    id: i64,
    mode: Mode,
    /// The mode's fields and metadata are for the test credential.
    is_test: bool,
    /// `test_credential_enabled`, when given.
    enable_test: Option<bool>,
}

impl Update<'_> {
    /// The live credential and the caller's role, if the caller may update it in this mode.
    async fn editable(&self) -> ApiResult<(Credential, Role)> {
        let (view, role) = self.caller.credential(self.state, self.id).await?;
        require_role(role, Role::Editor, "update credentials of this team")?;
        let live = view.credential;
        if live.mode != self.mode {
            return Err(ApiError::invalid(
                "mode",
                format!(
                    "mode cannot change: credential {} is a {} credential",
                    self.id, live.mode
                ),
            ));
        }
        Ok((live, role))
    }

    /// The record of this update taking `before` to `after`: a `CredentialMovement` when it
    /// moves the credential to another folder, else a `CredentialSave`.
    fn audit(&self, before: &Credential, after: &Credential) -> AuditRecord {
        let fields = audit::changed_fields(before, after);
        let operation = if fields.iter().any(|f| f == "folder_id") {
            op::CREDENTIAL_MOVEMENT
        } else {
            op::CREDENTIAL_SAVE
        };
        let mut inputs = audit::tines_inputs(self.body, &CREDENTIAL_FIELDS);
        inputs["credentialId"] = json!(self.id);
        let mut record = json!({"inputs": inputs, "credential_id": self.id, "fields": fields});
        if before.live_id.is_some() {
            record["is_test"] = json!(true);
            record["test_credential_id"] = json!(before.id);
        }
        self.caller.audit(operation, record)
    }

    /// The attached test credential; 422 naming `field`, which asked for it, when there is none.
    async fn test_row(&self, field: &'static str) -> ApiResult<Credential> {
        self.state
            .store
            .get_test_credential(self.id)
            .await?
            .ok_or_else(|| {
                ApiError::invalid(
                    field,
                    format!(
                        "credential {} has no test credential; attach one with live_credential_id",
                        self.id
                    ),
                )
            })
    }

    /// Writes the mode's fields and metadata to the test credential; None if it changed
    /// meanwhile.
    async fn write_test(&self) -> ApiResult<Option<()>> {
        self.editable().await?;
        let test = self.test_row("is_test").await?;
        let mut next = test.clone();
        if self.body.has("metadata") {
            next.metadata = JsonText::of(&request::metadata(self.body)?);
        }
        apply_test_expiry(self.state, self.body, &mut next).await?;
        notify::schedule(&test, &mut next);
        self.apply_mode_to(&mut next, &test).await?;
        let audit = self.audit(&test, &next);
        let Some(written) = self.state.store.update_credential(&next, audit).await? else {
            return Ok(None);
        };
        notify::cancel_stale(self.state, &test, &written).await?;
        Ok(Some(()))
    }

    /// Writes the common and mode fields (unless `is_test`) and `test_credential_enabled` to
    /// the live credential; None if it changed meanwhile.
    async fn write_live(&self) -> ApiResult<Option<()>> {
        let (live, role) = self.editable().await?;
        if !self.is_test && self.enable_test == Some(true) {
            self.test_row("test_credential_enabled").await?;
        }
        let mut next = live.clone();
        let mut new_key = false;
        if !self.is_test {
            let ctx = Context {
                state: self.state,
                caller: self.caller,
                team_id: live.team_id,
                role,
                is_owner: live.owner_id == self.caller.user.id,
            };
            let before = Common::of(&live)?;
            apply_common(&ctx, &before, self.body)
                .await?
                .write_to(&mut next);
            notify::schedule(&live, &mut next);
            new_key = self.apply_mode_to(&mut next, &live).await?;
        }
        if let Some(enabled) = self.enable_test {
            next.test_credential_enabled = enabled;
        }
        // The replaced key stays published until its tokens have expired (API.md §6).
        // Only a JWT credential's old key can be published (`retiring` skips HS*).
        let retired = if new_key && live.mode == Mode::Jwt {
            retiring(self.state, &*prepared_key(self.state, &live).await?)
        } else {
            None
        };
        let store = &self.state.store;
        let audit = self.audit(&live, &next);
        let written = match &retired {
            Some(retired) => {
                store
                    .update_credential_retiring(&next, retired, audit)
                    .await
            }
            None => store.update_credential(&next, audit).await,
        };
        let written = written.on_conflict(Conflict::CredentialSlug, || {
            slug_taken(&next.slug, live.team_id)
        })?;
        let Some(written) = written else {
            return Ok(None);
        };
        notify::cancel_stale(self.state, &live, &written).await?;
        Ok(Some(()))
    }

    /// The mode's fields of the request on `next`, computed from `stored`; true when they
    /// bring a new key.
    async fn apply_mode_to(&self, next: &mut Credential, stored: &Credential) -> ApiResult<bool> {
        let data = apply_mode(self.state, self.mode, self.body, Some(stored)).await?;
        next.config = JsonText::of(&data.config);
        next.key_id.clone_from(&data.key_id);
        // Due a period after the key last changed: now, if this update brings a new key.
        let key_changed_at = match data.secret {
            Some(_) => now_millis(),
            None => stored.key_rotated_at.unwrap_or(stored.created_at),
        };
        if stored.live_id.is_none() {
            next.rotate_at = data.rotate_at(key_changed_at);
        }
        let Some(secret) = data.secret else {
            return Ok(false);
        };
        next.secret = secrets::seal(self.state, next.team_id, &next.uid, &secret)?;
        if self.mode == Mode::Jwt {
            next.key_rotated_at = Some(now_millis());
        }
        Ok(true)
    }
}
