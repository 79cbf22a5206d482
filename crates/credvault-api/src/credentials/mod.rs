//! Credentials (`/api/v1/user_credentials`): create, read, list, update and delete, test
//! credentials, the sealing of secrets, and the Tines response object.

use std::sync::LazyLock;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use credvault_core::crypto::{credential_aad, generate_uid};
use credvault_core::jwt::JwtSettings;
use credvault_core::model::{Mode, Role};
use credvault_core::slug::slugify;
use credvault_core::timefmt::format_millis;
use credvault_store::{
    Conflict, Credential, CredentialFilter, CredentialView, JsonText, NewCredential, Owner,
    StoreError,
};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::auth::{require_role, Caller};
use crate::body::{missing, Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Envelope, ListRequest};
use crate::{path_id, AppState};

mod fields;
use fields::{apply_mode, parse_mode, Common, Context};

/// The one secret field of a credential row (its sealed key, shared secret or text value).
const SECRET_FIELD: &str = "secret";
/// How often an update is recomputed when an update of the same credential on another
/// instance wins the race.
const UPDATE_ATTEMPTS: u64 = 8;

/// Updates of one credential on this instance take turns (locks striped by id), so they never
/// lose the stored version check to each other; only instances sharing the database do, and
/// those are retried.
fn update_turn(id: i64) -> &'static tokio::sync::Mutex<()> {
    const STRIPES: usize = 64;
    static LOCKS: LazyLock<Vec<tokio::sync::Mutex<()>>> =
        LazyLock::new(|| (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect());
    &LOCKS[id.rem_euclid(STRIPES as i64) as usize]
}

fn seal_secret(state: &AppState, team_id: i64, uid: &str, plain: &[u8]) -> Vec<u8> {
    state
        .keyring
        .seal(&credential_aad(team_id, uid, SECRET_FIELD), plain)
}

/// The secret of a stored credential, in the clear.
pub(crate) fn open_secret(state: &AppState, c: &Credential) -> ApiResult<Zeroizing<Vec<u8>>> {
    state
        .keyring
        .open(&credential_aad(c.team_id, &c.uid, SECRET_FIELD), &c.secret)
        .map_err(|e| ApiError::Internal(format!("credential {}: {e}", c.id)))
}

/// The JWT settings stored in a credential's `config`.
pub(crate) fn jwt_settings(c: &Credential) -> ApiResult<JwtSettings> {
    c.config.parse().map_err(|e| {
        ApiError::Internal(format!(
            "credential {} has unreadable JWT settings: {e}",
            c.id
        ))
    })
}

/// The Tines response object, plus the mode's non-secret settings, as JSON text. Never any
/// secret. `metadata` and the settings are copied from the stored text, never parsed into
/// trees: a list page of large credentials costs its size in memory, not many times that.
fn render(view: &CredentialView) -> Box<RawValue> {
    let c = &view.credential;
    let head = json!({
        "id": c.id,
        "name": c.name,
        "mode": c.mode.as_str(),
        "team_id": c.team_id,
        "folder_id": c.folder_id,
        "read_access": c.read_access.as_str(),
        "shared_team_slugs": c.shared_team_slugs,
        "description": c.description,
        "slug": c.slug,
        "created_at": format_millis(c.created_at),
        "updated_at": format_millis(c.updated_at),
        "allowed_hosts": c.allowed_hosts,
        "restriction_type": if c.allowed_hosts.is_empty() { "UNRESTRICTED" } else { "RESTRICTED" },
        "test_credential_enabled": c.test_credential_enabled,
        "test_credential": view.test_times.map(|(created, updated)| json!({
            "created_at": format_millis(created),
            "updated_at": format_millis(updated),
        })),
        "owner": view.owner.as_ref().map(|o| json!({
            "user_id": o.id,
            "first_name": o.first_name,
            "last_name": o.last_name,
            "email": o.email,
        })),
        "expires_at": c.expires_at.map(format_millis),
        "expiry_notifications_enabled": c.expiry_notifications_enabled,
        "credential_notification_recipient_user_ids": c.notification_recipient_ids,
    });
    // The settings' own keys (jwt_algorithm, jwt_payload, …) join the object's top level; a
    // config that is not an object (never written so) adds nothing.
    let settings: Vec<(String, &RawValue)> = serde_json::from_str::<TopLevel>(c.config.as_str())
        .map(|t| t.0)
        .unwrap_or_default();
    let rendered = Rendered {
        head,
        metadata: c.metadata.as_raw(),
        settings,
    };
    serde_json::value::to_raw_value(&rendered).expect("JSON always serialises")
}

struct Rendered<'a> {
    head: Value,
    metadata: &'a RawValue,
    settings: Vec<(String, &'a RawValue)>,
}

impl Serialize for Rendered<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if let Value::Object(head) = &self.head {
            for (k, v) in head {
                map.serialize_entry(k, v)?;
            }
        }
        map.serialize_entry("metadata", self.metadata)?;
        for (k, v) in &self.settings {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The members of a JSON object in order, each value left as text.
struct TopLevel<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for TopLevel<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Members<'a> {
            type Value = TopLevel<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(entry);
                }
                Ok(TopLevel(members))
            }
        }
        deserializer.deserialize_map(Members(std::marker::PhantomData))
    }
}

/// A live credential the caller may read (member of its team, or tenant admin), with the
/// caller's role in its team. Anything else is a 404, revealing nothing.
pub(crate) async fn visible(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ApiResult<(CredentialView, Role)> {
    let not_found = || ApiError::not_found(format!("credential {id} not found"));
    let view = state
        .store
        .get_credential_view(id)
        .await?
        .ok_or_else(not_found)?;
    let role = caller
        .role_in(state, view.credential.team_id)
        .await?
        .ok_or_else(not_found)?;
    Ok((view, role))
}

async fn render_by_id(state: &AppState, id: i64) -> ApiResult<Json<Box<RawValue>>> {
    let view = state
        .store
        .get_credential_view(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("credential {id} not found")))?;
    Ok(Json(render(&view)))
}

/// A taken slug, told with the slug and team; any other store error as usual.
fn slug_conflict(e: StoreError, slug: &str, team_id: i64) -> ApiError {
    match e {
        StoreError::Conflict(Conflict::CredentialSlug) => ApiError::Conflict {
            field: "name",
            message: format!(
                "name gives the slug {slug:?}, which already exists in team {team_id}"
            ),
        },
        other => other.into(),
    }
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Box<RawValue>>)> {
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
    let mut common = Common::defaults();
    common.apply(&ctx, &body).await?;
    let data = apply_mode(&state, mode, &body, None).await?;
    let secret = data.secret.ok_or_else(|| missing("jwt_private_key"))?;

    let uid = generate_uid();
    let sealed = seal_secret(&state, team.id, &uid, &secret);
    let slug = common.slug.clone();
    let row = state
        .store
        .create_credential(NewCredential {
            uid,
            team_id: team.id,
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
            owner_id: caller.user.id,
            expires_at: common.expires_at,
            expiry_notifications_enabled: common.expiry_notifications_enabled,
            notification_recipient_ids: common.recipient_ids,
            config: JsonText::of(&data.config),
            secret: sealed,
        })
        .await
        .map_err(|e| slug_conflict(e, &slug, team.id))?;
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
        test_times: None,
    };
    Ok((StatusCode::CREATED, Json(render(&view))))
}

/// `POST /user_credentials` with `live_credential_id` (Tines): attaches a test credential.
/// Team, folder, description, sharing and host rules are the live credential's.
async fn attach_test_credential(
    state: &AppState,
    caller: &Caller,
    body: &Fields,
    mode: Mode,
    live_id: i64,
) -> ApiResult<(StatusCode, Json<Box<RawValue>>)> {
    let (view, role) = visible(state, caller, live_id).await?;
    let live = view.credential;
    require_role(
        role,
        Role::Editor,
        "attach a test credential to this credential",
    )?;
    if live.mode != mode {
        return Err(ApiError::invalid(
            "mode",
            format!(
                "mode must be {} to match the live credential {live_id}",
                live.mode
            ),
        ));
    }
    let name = match body.has("name") {
        true => fields::name_and_slug(body)?.0,
        false => live.name.clone(),
    };
    let metadata = fields::metadata(body)?;
    let expires_at = fields::expires_at(body)?;
    let data = apply_mode(state, mode, body, None).await?;
    let secret = data.secret.ok_or_else(|| missing("jwt_private_key"))?;
    let uid = generate_uid();
    let sealed = seal_secret(state, live.team_id, &uid, &secret);
    state
        .store
        .attach_test_credential(NewCredential {
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
            owner_id: caller.user.id,
            expires_at,
            expiry_notifications_enabled: false,
            notification_recipient_ids: Vec::new(),
            config: JsonText::of(&data.config),
            secret: sealed,
        })
        .await?;
    tracing::info!(credential_id = live.id, "test credential attached");
    Ok((StatusCode::CREATED, render_by_id(state, live.id).await?))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Box<RawValue>>> {
    let (view, _) = visible(&state, &caller, path_id(&raw_id, "credential")?).await?;
    Ok(Json(render(&view)))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    list: ListRequest,
) -> ApiResult<Json<Envelope<Box<RawValue>>>> {
    let team_id = list.query.int("team_id")?;
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
        folder_id: list.query.int("folder_id")?,
        restricted,
        unused,
    };
    let page = state.store.list_credentials(filter, list.page()).await?;
    Ok(list.respond(&state.public_url, "user_credentials", page, render))
}

/// `PUT /user_credentials/{id}`: fields present replace the stored ones, validated as on
/// create. Computed from the stored row and written only if that row is still current, so
/// concurrent updates never interleave field by field; the loser is recomputed.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Box<RawValue>>> {
    let id = path_id(&raw_id, "credential")?;
    let mode = parse_mode(&body)?;
    let is_test = body.bool("is_test")?.unwrap_or(false);
    let enable_test = body.bool("test_credential_enabled")?;
    let _turn = update_turn(id).lock().await;
    for attempt in 0..UPDATE_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5 * attempt)).await;
        }
        let (view, role) = visible(&state, &caller, id).await?;
        require_role(role, Role::Editor, "update credentials of this team")?;
        let live = view.credential;
        if live.mode != mode {
            return Err(ApiError::invalid(
                "mode",
                format!(
                    "mode cannot change: credential {id} is a {} credential",
                    live.mode
                ),
            ));
        }
        let test = match is_test || enable_test == Some(true) {
            true => state.store.get_test_credential(id).await?,
            false => None,
        };
        // Naming the field that asked for it: `is_test` first, as before.
        let needs_test = match (is_test, enable_test) {
            (true, _) => Some("is_test"),
            (false, Some(true)) => Some("test_credential_enabled"),
            _ => None,
        };
        if let (None, Some(field)) = (&test, needs_test) {
            return Err(ApiError::invalid(
                field,
                format!(
                    "credential {id} has no test credential; attach one with live_credential_id"
                ),
            ));
        }

        if let (true, Some(test)) = (is_test, test) {
            // The mode fields and metadata go to the test credential.
            let mut next = test.clone();
            if body.has("metadata") {
                next.metadata = JsonText::of(&fields::metadata(&body)?);
            }
            let data = apply_mode(&state, mode, &body, Some(&test)).await?;
            next.config = JsonText::of(&data.config);
            if let Some(secret) = data.secret {
                next.secret = seal_secret(&state, next.team_id, &next.uid, &secret);
            }
            if state.store.update_credential(&next).await?.is_none() {
                continue;
            }
            if enable_test.is_none() {
                tracing::info!(credential_id = id, "test credential updated");
                return render_by_id(&state, id).await;
            }
        }

        let mut next = live.clone();
        if !is_test {
            let ctx = Context {
                state: &state,
                caller: &caller,
                team_id: live.team_id,
                role,
                is_owner: live.owner_id == caller.user.id,
            };
            let mut common = Common::of(&live)?;
            common.apply(&ctx, &body).await?;
            common.write_to(&mut next);
            let data = apply_mode(&state, mode, &body, Some(&live)).await?;
            next.config = JsonText::of(&data.config);
            if let Some(secret) = data.secret {
                next.secret = seal_secret(&state, next.team_id, &next.uid, &secret);
            }
        }
        if let Some(enabled) = enable_test {
            next.test_credential_enabled = enabled;
        }
        let slug = next.slug.clone();
        match state.store.update_credential(&next).await {
            Ok(Some(_)) => {
                tracing::info!(credential_id = id, "credential updated");
                return render_by_id(&state, id).await;
            }
            Ok(None) => continue,
            Err(e) => return Err(slug_conflict(e, &slug, live.team_id)),
        }
    }
    Err(ApiError::Conflict {
        field: "id",
        message: format!("credential {id} is being changed by other requests; retry"),
    })
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&raw_id, "credential")?;
    let (_, role) = visible(&state, &caller, id).await?;
    // Tines: EDITORs create and change credentials; only TEAM_ADMINs delete them.
    require_role(role, Role::TeamAdmin, "delete credentials of this team")?;
    if !state.store.delete_credential(id).await? {
        return Err(ApiError::not_found(format!("credential {id} not found")));
    }
    tracing::info!(credential_id = id, "credential deleted");
    Ok(StatusCode::NO_CONTENT)
}
