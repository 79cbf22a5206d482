//! Updates of credentials: optimistic, by version.

use credvault_core::model::{Mode, ReadAccess};
use credvault_store::{Conflict, Credential, Folder, RetiredKey, User, MAX_RETIRED_KEYS};
use serde_json::json;

use crate::helpers::{
    assert_between, assert_conflict, audit, create, cred, folder, full_cred, now_ms, owner_of,
    team, user, view, S,
};

/// Ada's full credential c in folder f, and another credential of hers, `taken`, in the same
/// team; bob is another user.
struct Fixture {
    ada: User,
    bob: User,
    f: Folder,
    c: Credential,
    taken: Credential,
}

async fn fixture(s: &S) -> Fixture {
    let ada = user(s, "ada@example.com", false).await;
    let bob = user(s, "bob@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let f = folder(s, sec.id, "Prod", None).await;
    let c = create(s, full_cred("uid-1", sec.id, ada.id, Some(f.id))).await;
    let taken = create(s, cred("uid-2", sec.id, ada.id, "taken")).await;
    Fixture {
        ada,
        bob,
        f,
        c,
        taken,
    }
}

/// `c` with every column changed: the mutable ones to other values (optional ones to None),
/// and the ones update_credential does not write, which it must ignore.
fn edit_of(c: &Credential, bob: &User) -> Credential {
    Credential {
        name: "Renamed".into(),
        slug: "renamed".into(),
        folder_id: None,
        read_access: ReadAccess::Team,
        shared_team_slugs: vec![],
        description: "new description".into(),
        metadata: json!({"b": 2, "a": [1]}).into(),
        allowed_hosts: vec![],
        expires_at: None,
        expiry_notifications_enabled: false,
        notification_recipient_ids: vec![bob.id],
        config: json!({"algorithm": "ES256"}).into(),
        secret: vec![0, 0, 0],
        test_credential_enabled: true,
        key_id: Some("rotated kid".into()),
        key_rotated_at: Some(1_900_000_000_000),
        rotate_at: Some(1_950_000_000_000),
        notify_at: Some(1_940_000_000_000),
        // Columns update_credential does not write: these changes are ignored.
        uid: "changed-uid".into(),
        issuer_id: "changed-issuer".into(),
        mode: Mode::Text,
        owner_id: bob.id,
        last_used_at: Some(5),
        created_at: 5,
        ..c.clone()
    }
}

/// Applies `edit_of(c)` at c's version.
async fn edited(s: &S, x: &Fixture) -> Credential {
    s.update_credential(&edit_of(&x.c, &x.bob), audit("CredentialSave"))
        .await
        .unwrap()
        .expect("an update at the current version applies")
}

pub async fn an_update_writes_every_mutable_column_and_bumps_the_version(s: &S) {
    let x = fixture(s).await;
    let edit = edit_of(&x.c, &x.bob);
    let before = now_ms();
    let updated = s
        .update_credential(&edit, audit("CredentialSave"))
        .await
        .unwrap()
        .expect("an update at the current version applies");
    let after = now_ms();
    let earliest = before.max(x.c.updated_at);
    assert_between(
        "updated_at after an update",
        updated.updated_at,
        earliest,
        after,
    );
    let expected = Credential {
        uid: x.c.uid.clone(),
        issuer_id: x.c.issuer_id.clone(),
        mode: x.c.mode,
        owner_id: x.c.owner_id,
        last_used_at: x.c.last_used_at,
        created_at: x.c.created_at,
        version: 2,
        updated_at: updated.updated_at,
        ..edit
    };
    assert_eq!(updated, expected, "the answered row");
    assert_eq!(
        updated.metadata.to_string(),
        r#"{"b":2,"a":[1]}"#,
        "metadata key order after an update"
    );
    let stored = view(s, x.c.id).await;
    assert_eq!(stored.credential, updated, "the update is stored");
    assert_eq!(
        stored.owner,
        Some(owner_of(&x.ada)),
        "the owner does not change"
    );
}

/// Optimistic check: an update applies only at the row's version.
pub async fn an_update_at_another_version_writes_nothing(s: &S) {
    let x = fixture(s).await;
    let updated = edited(s, &x).await;
    let stale = Credential {
        name: "Stale write".into(),
        ..edit_of(&x.c, &x.bob)
    };
    assert_eq!(
        s.update_credential(&stale, audit("CredentialSave"))
            .await
            .unwrap(),
        None,
        "stale version"
    );
    assert_eq!(
        view(s, x.c.id).await.credential,
        updated,
        "a stale update writes nothing"
    );
    let future = Credential {
        version: 3,
        ..updated
    };
    assert_eq!(
        s.update_credential(&future, audit("CredentialSave"))
            .await
            .unwrap(),
        None,
        "a version ahead of the row"
    );
}

/// Back to Some(..) values, at the current version.
pub async fn an_update_sets_optional_columns_again(s: &S) {
    let x = fixture(s).await;
    let updated = edited(s, &x).await;
    let again = Credential {
        folder_id: Some(x.f.id),
        expires_at: Some(1_234),
        allowed_hosts: vec!["x.example".into()],
        ..updated.clone()
    };
    let third = s
        .update_credential(&again, audit("CredentialSave"))
        .await
        .unwrap()
        .expect("update at version 2");
    assert_eq!(
        (
            third.version,
            third.folder_id,
            third.expires_at,
            third.allowed_hosts
        ),
        (3, Some(x.f.id), Some(1_234), vec!["x.example".to_string()]),
        "second update"
    );
    assert!(
        third.updated_at >= updated.updated_at,
        "updated_at moves forward"
    );
}

/// Renaming onto a taken slug is a conflict and changes nothing.
pub async fn an_update_onto_a_taken_slug_is_refused(s: &S) {
    let x = fixture(s).await;
    let updated = edited(s, &x).await;
    let clash = Credential {
        slug: x.taken.slug.clone(),
        ..updated.clone()
    };
    assert_conflict(
        "update onto a taken slug",
        s.update_credential(&clash, audit("CredentialSave")).await,
        Conflict::CredentialSlug,
    );
    assert_eq!(
        view(s, x.c.id).await.credential,
        updated,
        "a conflicting update writes nothing"
    );
}

pub async fn an_update_of_a_missing_or_deleted_credential_writes_nothing(s: &S) {
    let x = fixture(s).await;
    let gone = Credential {
        id: 999,
        ..x.c.clone()
    };
    assert_eq!(
        s.update_credential(&gone, audit("CredentialSave"))
            .await
            .unwrap(),
        None,
        "a missing id"
    );
    assert!(
        s.delete_credential(x.c.id, audit("CredentialDestruction"))
            .await
            .unwrap(),
        "delete"
    );
    assert_eq!(
        s.update_credential(&x.c, audit("CredentialSave"))
            .await
            .unwrap(),
        None,
        "a deleted credential"
    );
}

fn retired(kid: &str, retired_at: i64, published_until: i64) -> RetiredKey {
    RetiredKey {
        jwk: json!({ "kid": kid, "kty": "EC" }).into(),
        retired_at,
        published_until,
    }
}

pub async fn a_retiring_update_publishes_the_old_key_until_its_time(s: &S) {
    let x = fixture(s).await;
    let first = retired("first", 1_000, 5_000);
    let renamed = Credential {
        name: "Renamed".into(),
        slug: "renamed".into(),
        ..x.c.clone()
    };
    let updated = s
        .update_credential_retiring(&renamed, &first, audit("CredentialKeyRotation"))
        .await
        .unwrap()
        .expect("an update at the current version applies");
    assert_eq!(
        (updated.version, updated.name.as_str()),
        (x.c.version + 1, "Renamed")
    );
    let second = retired("second", 2_000, 9_000);
    s.update_credential_retiring(&updated, &second, audit("CredentialKeyRotation"))
        .await
        .unwrap()
        .unwrap();
    let published = |now| s.published_retired_keys(x.c.id, now);
    assert_eq!(published(1_500).await.unwrap(), vec![second.clone(), first]);
    assert_eq!(published(5_000).await.unwrap(), vec![second.clone()]);
    assert_eq!(published(9_000).await.unwrap(), vec![]);
    assert_eq!(
        s.published_retired_keys(x.taken.id, 0).await.unwrap(),
        vec![]
    );
}

pub async fn a_stale_retiring_update_records_nothing(s: &S) {
    let x = fixture(s).await;
    let stale = Credential {
        version: x.c.version + 5,
        ..x.c.clone()
    };
    let refused = s
        .update_credential_retiring(
            &stale,
            &retired("never", 1_000, 9_000),
            audit("CredentialKeyRotation"),
        )
        .await
        .unwrap();
    assert_eq!(refused, None);
    assert_eq!(s.published_retired_keys(x.c.id, 0).await.unwrap(), vec![]);
    assert_eq!(
        view(s, x.c.id).await.credential,
        x.c,
        "the row is as it was"
    );
}

pub async fn due_rotations_are_the_live_credentials_past_their_time(s: &S) {
    let x = fixture(s).await;
    let due_at = |c: &Credential, at: Option<i64>| Credential {
        rotate_at: at,
        ..c.clone()
    };
    let c = s
        .update_credential(&due_at(&x.c, Some(2_000)), audit("CredentialSave"))
        .await
        .unwrap()
        .unwrap();
    let taken = s
        .update_credential(&due_at(&x.taken, Some(1_000)), audit("CredentialSave"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.due_rotations(999, 10).await.unwrap(), Vec::<i64>::new());
    assert_eq!(s.due_rotations(1_000, 10).await.unwrap(), vec![taken.id]);
    assert_eq!(
        s.due_rotations(5_000, 10).await.unwrap(),
        vec![taken.id, c.id],
        "most overdue first"
    );
    assert_eq!(s.due_rotations(5_000, 1).await.unwrap(), vec![taken.id]);
    s.update_credential(&due_at(&c, None), audit("CredentialSave"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.due_rotations(5_000, 10).await.unwrap(),
        vec![taken.id],
        "None is never due"
    );
}

pub async fn a_missing_key_id_is_found_and_recorded_once(s: &S) {
    let x = fixture(s).await;
    let jwt = Credential {
        key_id: None,
        ..x.c.clone()
    };
    let jwt = s
        .update_credential(&jwt, audit("CredentialSave"))
        .await
        .unwrap()
        .unwrap();
    let without: Vec<i64> = s
        .jwt_without_key_id(0, 10)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(without, vec![jwt.id], "only JWT credentials without one");
    assert_eq!(
        s.jwt_without_key_id(jwt.id, 10).await.unwrap(),
        vec![],
        "after the cursor"
    );
    assert!(s.set_key_id(jwt.id, "found kid").await.unwrap());
    assert!(
        !s.set_key_id(jwt.id, "another").await.unwrap(),
        "recorded once"
    );
    let stored = view(s, jwt.id).await.credential;
    assert_eq!(
        (stored.key_id.as_deref(), stored.version),
        (Some("found kid"), jwt.version)
    );
    assert_eq!(s.jwt_without_key_id(0, 10).await.unwrap(), vec![]);
}

pub async fn at_most_the_newest_retired_keys_stay_published(s: &S) {
    let x = fixture(s).await;
    let mut c = x.c.clone();
    let count = MAX_RETIRED_KEYS + 3;
    for n in 1..=count {
        let key = retired(&format!("k{n}"), n, 1_000_000);
        c = s
            .update_credential_retiring(&c, &key, audit("CredentialKeyRotation"))
            .await
            .unwrap()
            .unwrap();
    }
    let published = s.published_retired_keys(x.c.id, 0).await.unwrap();
    let kids: Vec<i64> = published.iter().map(|k| k.retired_at).collect();
    let newest: Vec<i64> = (4..=count).rev().collect();
    assert_eq!(kids, newest, "the newest {MAX_RETIRED_KEYS}, newest first");
}
