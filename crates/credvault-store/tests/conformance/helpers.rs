//! Helpers shared by the checks: builders of rows, the setup every module uses, and
//! assertions.

use std::time::{SystemTime, UNIX_EPOCH};

use credvault_core::model::{Mode, ReadAccess};
use credvault_store::{
    AuditRecord, Conflict, Credential, CredentialView, Folder, Millis, NewCredential, NewFolder,
    NewUser, Owner, Page, PageRequest, StoreError, Team, User,
};
use serde_json::json;

pub use crate::harness::S;

/// A record of a change by the system: no actor, no request, no inputs.
pub fn audit(operation_name: &'static str) -> AuditRecord {
    AuditRecord::system(operation_name, serde_json::Map::new())
}

pub fn page(offset: i64, limit: i64) -> PageRequest {
    PageRequest { offset, limit }
}

pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as Millis
}

#[track_caller]
pub fn assert_between(what: &str, t: Millis, before: Millis, after: Millis) {
    assert!(
        before <= t && t <= after,
        "{what} = {t}, expected within [{before}, {after}]"
    );
}

#[track_caller]
pub fn assert_conflict<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, StoreError>,
    want: Conflict,
) {
    match result {
        Err(StoreError::Conflict(got)) => assert_eq!(got, want, "{what}: wrong conflict"),
        other => panic!("{what}: expected Err(Conflict({want:?})), got {other:?}"),
    }
}

pub async fn user(s: &S, email: &str, admin: bool) -> User {
    s.create_user(
        NewUser {
            email: email.to_string(),
            first_name: format!("First {email}"),
            last_name: format!("Last {email}"),
            admin,
        },
        audit("UserCreation"),
    )
    .await
    .unwrap_or_else(|e| panic!("create_user {email}: {e}"))
}

pub async fn team(s: &S, name: &str, slug: &str) -> Team {
    s.create_team(name, slug, audit("TeamCreation"))
        .await
        .unwrap_or_else(|e| panic!("create_team {slug}: {e}"))
}

pub async fn folder(s: &S, team_id: i64, name: &str, parent_folder_id: Option<i64>) -> Folder {
    s.create_folder(
        NewFolder {
            team_id,
            name: name.to_string(),
            content_type: "CREDENTIAL".to_string(),
            parent_folder_id,
        },
        audit("FolderCreation"),
    )
    .await
    .unwrap_or_else(|e| panic!("create_folder {name}: {e}"))
}

/// A plain credential: no folder, no hosts, no expiry.
pub fn cred(uid: &str, team_id: i64, owner_id: i64, slug: &str) -> NewCredential {
    NewCredential {
        uid: uid.to_string(),
        team_id,
        live_id: None,
        name: format!("Name of {slug}"),
        slug: slug.to_string(),
        mode: Mode::Text,
        folder_id: None,
        read_access: ReadAccess::Team,
        shared_team_slugs: vec![],
        description: String::new(),
        metadata: json!({}).into(),
        allowed_hosts: vec![],
        owner_id,
        expires_at: None,
        expiry_notifications_enabled: false,
        notification_recipient_ids: vec![],
        config: json!({}).into(),
        secret: b"sealed secret".to_vec(),
        issuer_id: format!("issuer-of-{uid}"),
        key_id: None,
        rotate_at: None,
        notify_at: None,
    }
}

/// A credential with every field set to something unusual.
pub fn full_cred(uid: &str, team_id: i64, owner_id: i64, folder_id: Option<i64>) -> NewCredential {
    NewCredential {
        uid: uid.to_string(),
        team_id,
        live_id: None,
        name: "Stripe API key (prod) ✓".to_string(),
        slug: "stripe_api_key_prod".to_string(),
        mode: Mode::Jwt,
        folder_id,
        read_access: ReadAccess::SpecificTeams,
        shared_team_slugs: vec!["platform-eng".to_string(), "security".to_string()],
        description: "line one\nline 'two' \"quoted\" ünïcode 🔑 %_\\".to_string(),
        metadata: json!({
            "zeta": 1,
            "alpha": {"nested": [1, 2.5, "x", null, true, false]},
            "emoji": "🔑",
            "big": 9_007_199_254_740_993_i64,
            "negative": -42,
        })
        .into(),
        allowed_hosts: vec!["api.stripe.com".to_string(), "*.example.com".to_string()],
        owner_id,
        expires_at: Some(1_900_000_000_123),
        expiry_notifications_enabled: true,
        notification_recipient_ids: vec![owner_id, 7, i64::MAX],
        config: json!({
            "algorithm": "RS256",
            "payload": {"sub": "svc", "aud": ["a", "b"]},
            "auto_generate_jwt_claims": false,
        })
        .into(),
        // Every byte value, NUL and 0xFF included.
        secret: (0..=255u8).rev().chain(0..=255u8).collect(),
        issuer_id: format!("issuer-of-{uid}"),
        key_id: Some("kid ✓ of the key".to_string()),
        rotate_at: Some(1_900_000_000_000),
        notify_at: Some(1_897_400_000_123),
    }
}

/// The test credential the API would attach to `live`.
pub fn test_cred(uid: &str, live: &Credential) -> NewCredential {
    NewCredential {
        uid: uid.to_string(),
        team_id: live.team_id,
        live_id: Some(live.id),
        name: live.name.clone(),
        // The same slug as the live one: the team/slug rule is for live credentials only.
        slug: live.slug.clone(),
        mode: live.mode,
        folder_id: live.folder_id,
        read_access: live.read_access,
        shared_team_slugs: live.shared_team_slugs.clone(),
        description: live.description.clone(),
        metadata: json!({"environment": "test"}).into(),
        allowed_hosts: live.allowed_hosts.clone(),
        owner_id: live.owner_id,
        expires_at: Some(1_800_000_000_000),
        expiry_notifications_enabled: false,
        notification_recipient_ids: vec![],
        config: json!({"algorithm": "HS256"}).into(),
        secret: b"test secret".to_vec(),
        issuer_id: format!("issuer-of-{uid}"),
        key_id: Some("test kid".to_string()),
        rotate_at: None,
        notify_at: None,
    }
}

/// The row a fresh insert of `new` must read back as.
pub fn inserted(new: &NewCredential, id: i64, at: Millis) -> Credential {
    Credential {
        id,
        uid: new.uid.clone(),
        team_id: new.team_id,
        live_id: new.live_id,
        name: new.name.clone(),
        slug: new.slug.clone(),
        mode: new.mode,
        folder_id: new.folder_id,
        read_access: new.read_access,
        shared_team_slugs: new.shared_team_slugs.clone(),
        description: new.description.clone(),
        metadata: new.metadata.clone(),
        allowed_hosts: new.allowed_hosts.clone(),
        owner_id: new.owner_id,
        expires_at: new.expires_at,
        expiry_notifications_enabled: new.expiry_notifications_enabled,
        notification_recipient_ids: new.notification_recipient_ids.clone(),
        config: new.config.clone(),
        secret: new.secret.clone(),
        issuer_id: new.issuer_id.clone(),
        key_id: new.key_id.clone(),
        key_rotated_at: None,
        rotate_at: new.rotate_at,
        notify_at: new.notify_at,
        test_credential_enabled: false,
        version: 1,
        last_used_at: None,
        created_at: at,
        updated_at: at,
    }
}

/// Creates `new` and checks the returned row is exactly `new` as inserted just now.
pub async fn create(s: &S, new: NewCredential) -> Credential {
    let before = now_ms();
    let created = s
        .create_credential(new.clone(), audit("CredentialSave"))
        .await
        .unwrap_or_else(|e| panic!("create_credential {}: {e}", new.slug));
    let after = now_ms();
    assert_between("credential created_at", created.created_at, before, after);
    assert_eq!(
        created,
        inserted(&new, created.id, created.created_at),
        "create_credential {} returns the row as given",
        new.slug
    );
    created
}

pub async fn view(s: &S, id: i64) -> CredentialView {
    s.get_credential_view(id)
        .await
        .unwrap_or_else(|e| panic!("get_credential_view {id}: {e}"))
        .unwrap_or_else(|| panic!("get_credential_view {id}: not found"))
}

pub fn owner_of(u: &User) -> Owner {
    Owner {
        id: u.id,
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        email: u.email.clone(),
    }
}

pub fn ids(page: &Page<CredentialView>) -> Vec<i64> {
    page.items.iter().map(|v| v.credential.id).collect()
}
