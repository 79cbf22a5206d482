//! Who is calling: the API key from `Authorization: Bearer` or `X-User-Token`, looked up by
//! its keyed hash, and the caller's role in a team. [`Caller`] serves every handler but one;
//! [`MintCaller`] serves the mint, reading the caller and the credential in one query.

use axum::extract::{FromRequestParts, Path};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use credvault_core::crypto::hashes_equal;
use credvault_core::model::Role;
use credvault_core::timefmt::now_millis;
use credvault_store::{AuditRecord, CredentialView, MintContext, Team, User};

use crate::audit::RequestInfo;
use crate::connections::peer_ip;
use crate::error::{ApiError, ApiResult};
use crate::{path_id, AppState};

pub const NO_KEY: ApiError = ApiError::Unauthorized(
    "an API key is required: send Authorization: Bearer <key> or X-User-Token: <key>",
);
pub const BAD_KEY: ApiError = ApiError::Unauthorized("the API key is unknown or revoked");

pub struct Caller {
    pub user: User,
    /// Where the request came from, for the audit log.
    pub request: RequestInfo,
}

/// The API key of a request: `Authorization: Bearer <key>` or `X-User-Token: <key>`.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value.to_str().ok()?.trim();
        let (scheme, key) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| key.trim())
            .filter(|k| !k.is_empty());
    }
    headers
        .get("x-user-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let key = presented_key(&parts.headers).ok_or(NO_KEY)?;
        let hash = state.keyring.current().hash_api_key(key);
        match state.store.find_api_key(&hash).await? {
            Some((stored, user)) if hashes_equal(&stored, &hash) => {
                authenticated(state, key);
                record_last_seen(state, &user);
                Ok(Caller {
                    user,
                    request: RequestInfo::of(parts),
                })
            }
            _ => Err(BAD_KEY),
        }
    }
}

/// The caller of a mint and the live credential `{id}` of the path, read in one query (the
/// per-mint database work). 401 for a missing or unknown key, 404 for a missing credential;
/// whether this caller may mint from it is [`crate::mint::policy::authorize`]'s to say.
/// The second field is the client's address, which the mint's audit count records.
pub struct MintCaller(pub MintContext, pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for MintCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<MintCaller> {
        let Path(raw_id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::not_found(e.body_text()))?;
        let id = path_id(&raw_id, "credential")?;
        let key = presented_key(&parts.headers).ok_or(NO_KEY)?;
        let hash = state.keyring.current().hash_api_key(key);
        match state.store.mint_context(&hash, id).await? {
            Some(ctx) if hashes_equal(&ctx.key_hash, &hash) => {
                authenticated(state, key);
                Ok(MintCaller(ctx, peer_ip(&parts.extensions)))
            }
            // No row: the key or the credential is missing; a second lookup tells which.
            _ => Err(match state.store.find_api_key(&hash).await? {
                Some(_) => ApiError::not_found(format!("credential {id} not found")),
                None => BAD_KEY,
            }),
        }
    }
}

/// Records that `key` authenticated, so that the rate limiter gives it a bucket of its own.
pub fn authenticated(state: &AppState, key: &str) {
    if let Some(limiter) = &state.rate_limiter {
        limiter.remember(key);
    }
}

/// How stale `last_seen` may get before a request refreshes it; keeps it to one write per
/// user per interval however busy the user is.
const LAST_SEEN_INTERVAL_MS: i64 = 60_000;

/// Updates the user's `last_seen` in the background: it is advisory, so the request does not
/// wait for the write.
fn record_last_seen(state: &AppState, user: &User) {
    let now = now_millis();
    if user
        .last_seen
        .is_some_and(|t| now - t < LAST_SEEN_INTERVAL_MS)
    {
        return;
    }
    let store = state.store.clone();
    let id = user.id;
    tokio::spawn(async move {
        if let Err(e) = store.touch_user(id, now).await {
            tracing::warn!(user_id = id, error = %e, "could not record last_seen");
        }
    });
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.user.admin
    }

    /// The audit record of `operation` made by this request, with `inputs` (a JSON object).
    pub fn audit(&self, operation: &'static str, inputs: serde_json::Value) -> AuditRecord {
        crate::audit::record(&self.user, &self.request, operation, inputs)
    }

    /// The caller's role in a team; tenant admins act as TEAM_ADMIN everywhere.
    pub async fn role_in(&self, state: &AppState, team_id: i64) -> ApiResult<Option<Role>> {
        if self.is_admin() {
            return Ok(Some(Role::TeamAdmin));
        }
        let role = state.store.get_membership(team_id, self.user.id).await?;
        Ok(role)
    }

    /// The team and the caller's role in it; 404 when it does not exist or the caller is not a
    /// member, so that other teams' existence is not revealed.
    pub async fn team(&self, state: &AppState, team_id: i64) -> ApiResult<(Team, Role)> {
        let not_found = || ApiError::not_found(format!("team {team_id} not found"));
        let (team, role) = state
            .store
            .get_team_with_role(team_id, self.user.id)
            .await?
            .ok_or_else(not_found)?;
        let role = if self.is_admin() {
            Role::TeamAdmin
        } else {
            role.ok_or_else(not_found)?
        };
        Ok((team, role))
    }

    /// A live credential the caller may read (member of its team, or tenant admin), with the
    /// caller's role in its team. Anything else is a 404, revealing nothing.
    pub async fn credential(&self, state: &AppState, id: i64) -> ApiResult<(CredentialView, Role)> {
        let not_found = || ApiError::not_found(format!("credential {id} not found"));
        let view = state
            .store
            .get_credential_view(id)
            .await?
            .ok_or_else(not_found)?;
        let role = self
            .role_in(state, view.credential.team_id)
            .await?
            .ok_or_else(not_found)?;
        Ok((view, role))
    }

    /// The `member` filter of a list: the caller's own teams, or none for a tenant admin. A
    /// `team_id` filter must name a team the caller can see (404 otherwise).
    pub async fn list_scope(
        &self,
        state: &AppState,
        team_id: Option<i64>,
    ) -> ApiResult<Option<i64>> {
        if let Some(team_id) = team_id {
            self.team(state, team_id).await?;
        }
        Ok((!self.is_admin()).then_some(self.user.id))
    }

    pub fn require_admin(&self, action: &str) -> ApiResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "only tenant admins may {action}"
            )))
        }
    }
}

/// 403 unless `role` is at least `needed`.
pub fn require_role(role: Role, needed: Role, action: &str) -> ApiResult<()> {
    if role >= needed {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "your role {role} does not allow you to {action}; {needed} or higher is needed"
        )))
    }
}
