//! Test credentials (attached to a live one) and deletes of credentials.

use credvault_store::{Conflict, Credential, CredentialView, Folder, Team, TestSummary, User};

use crate::helpers::{
    assert_between, assert_conflict, audit, create, cred, folder, full_cred, inserted, now_ms,
    owner_of, team, test_cred, user, view, S,
};

/// Ada's full credential `live` in folder f, and her plain credential `other`, both in sec.
struct Fixture {
    ada: User,
    sec: Team,
    f: Folder,
    live: Credential,
    other: Credential,
}

async fn fixture(s: &S) -> Fixture {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let f = folder(s, sec.id, "Prod", None).await;
    let live = create(s, full_cred("live", sec.id, ada.id, Some(f.id))).await;
    let other = create(s, cred("other", sec.id, ada.id, "other")).await;
    Fixture {
        ada,
        sec,
        f,
        live,
        other,
    }
}

/// The fixture with a test credential attached to `live`.
async fn attached(s: &S) -> (Fixture, Credential) {
    let x = fixture(s).await;
    let t = s
        .attach_test_credential(test_cred("live-test", &x.live), audit("CredentialSave"))
        .await
        .unwrap();
    (x, t)
}

pub async fn an_attached_test_credential_is_stored_as_given(s: &S) {
    let x = fixture(s).await;
    let get = |live_id| s.get_test_credential(live_id);
    assert_eq!(
        get(x.live.id).await.unwrap(),
        None,
        "no test credential yet"
    );
    let new_test = test_cred("live-test", &x.live);
    let before = now_ms();
    let t = s
        .attach_test_credential(new_test.clone(), audit("CredentialSave"))
        .await
        .unwrap();
    let after = now_ms();
    assert_between("test credential created_at", t.created_at, before, after);
    assert_eq!(t, inserted(&new_test, t.id, t.created_at), "as given");
    assert_eq!(t.live_id, Some(x.live.id), "linked by live_id");
    assert_eq!(
        get(x.live.id).await.unwrap(),
        Some(t),
        "get_test_credential"
    );
    assert_eq!(
        get(x.other.id).await.unwrap(),
        None,
        "of another credential"
    );
    assert_eq!(get(999).await.unwrap(), None, "of a missing id");
}

/// The live credential gets a new version and shows the test credential's times; the test
/// credential is not a live one.
pub async fn attaching_a_test_credential_updates_the_live_one(s: &S) {
    let x = fixture(s).await;
    let before = now_ms();
    let t = s
        .attach_test_credential(test_cred("live-test", &x.live), audit("CredentialSave"))
        .await
        .unwrap();
    let after = now_ms();
    let live_now = view(s, x.live.id).await;
    let updated_at = live_now.credential.updated_at;
    assert_between(
        "live updated_at after the attach",
        updated_at,
        before,
        after,
    );
    let want = CredentialView {
        credential: Credential {
            test_credential_enabled: true,
            version: 2,
            updated_at,
            ..x.live.clone()
        },
        owner: Some(owner_of(&x.ada)),
        test: Some(TestSummary::of(&t)),
    };
    assert_eq!(live_now, want, "the live credential after the attach");
    assert_eq!(
        s.get_credential_view(t.id).await.unwrap(),
        None,
        "a test credential is not a live one"
    );
    assert_eq!(
        view(s, x.other.id).await.test,
        None,
        "others have no test times"
    );
}

pub async fn a_second_test_credential_is_refused(s: &S) {
    let (x, t) = attached(s).await;
    let live_now = view(s, x.live.id).await;
    assert_conflict(
        "a second attach",
        s.attach_test_credential(test_cred("live-test-2", &x.live), audit("CredentialSave"))
            .await,
        Conflict::TestCredential,
    );
    assert_eq!(
        view(s, x.live.id).await,
        live_now,
        "a failed attach changes nothing"
    );
    assert_eq!(
        s.get_test_credential(x.live.id).await.unwrap(),
        Some(t),
        "the first test credential stays"
    );
}

/// Deletes are of live credentials only.
pub async fn a_test_credential_is_not_deleted_alone(s: &S) {
    let (x, t) = attached(s).await;
    assert!(
        !s.delete_credential(t.id, audit("CredentialDestruction"))
            .await
            .unwrap(),
        "delete_credential of a test credential"
    );
    assert_eq!(
        s.get_test_credential(x.live.id).await.unwrap(),
        Some(t),
        "still attached"
    );
}

/// The test credential goes with its live one; nothing else does.
pub async fn deleting_a_credential_deletes_its_test_credential(s: &S) {
    let (x, _) = attached(s).await;
    assert!(
        s.delete_credential(x.live.id, audit("CredentialDestruction"))
            .await
            .unwrap(),
        "delete"
    );
    assert!(
        !s.delete_credential(x.live.id, audit("CredentialDestruction"))
            .await
            .unwrap(),
        "delete twice"
    );
    assert!(
        !s.delete_credential(999, audit("CredentialDestruction"))
            .await
            .unwrap(),
        "delete a missing id"
    );
    assert_eq!(
        s.get_credential_view(x.live.id).await.unwrap(),
        None,
        "deleted"
    );
    assert_eq!(
        s.get_test_credential(x.live.id).await.unwrap(),
        None,
        "the test credential went with it"
    );
    assert_eq!(
        view(s, x.other.id).await.credential,
        x.other,
        "others untouched"
    );
    assert_eq!(
        s.get_folder(x.f.id).await.unwrap().map(|f| f.size),
        Some(0),
        "folder size after the delete"
    );
}

/// The slug is free again, and the new credential can have its own test credential.
pub async fn a_deleted_credentials_slug_is_free_again(s: &S) {
    let (x, t) = attached(s).await;
    assert!(
        s.delete_credential(x.live.id, audit("CredentialDestruction"))
            .await
            .unwrap(),
        "delete"
    );
    let reborn = create(s, full_cred("live-again", x.sec.id, x.ada.id, None)).await;
    assert!(reborn.id > t.id, "a new id");
    let t2 = s
        .attach_test_credential(
            test_cred("live-again-test", &reborn),
            audit("CredentialSave"),
        )
        .await
        .unwrap();
    assert_eq!(
        s.get_test_credential(reborn.id).await.unwrap(),
        Some(t2),
        "attach after a delete"
    );
}
