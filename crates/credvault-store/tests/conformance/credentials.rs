//! Credentials: created, read back, slug and uid conflicts, counts by mode.

use credvault_core::model::Mode;
use credvault_store::{Conflict, CredentialFilter, CredentialView, NewCredential, Team, User};
use serde_json::json;

use crate::helpers::{
    assert_conflict, audit, create, cred, folder, full_cred, ids, owner_of, page, team, test_cred,
    user, view, S,
};

/// Ada and the teams security and platform.
async fn ada_and_two_teams(s: &S) -> (User, Team, Team) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let plat = team(s, "Platform", "platform").await;
    (ada, sec, plat)
}

/// Every field set to something unusual comes back as given (`create` checks the answered
/// row), JSON object keys in the order given.
pub async fn a_full_credential_round_trips(s: &S) {
    let (ada, sec, _) = ada_and_two_teams(s).await;
    let f = folder(s, sec.id, "Prod", None).await;
    let full = full_cred("uid-full", sec.id, ada.id, Some(f.id));
    let c = create(s, full.clone()).await;
    assert_eq!((c.id, c.version), (1, 1), "first credential id and version");
    // Object keys keep the order they were given in.
    assert_eq!(
        c.metadata.to_string(),
        full.metadata.to_string(),
        "metadata key order"
    );
    assert_eq!(
        c.config.to_string(),
        full.config.to_string(),
        "config key order"
    );
    let v = view(s, c.id).await;
    assert_eq!(
        v.credential.metadata.to_string(),
        full.metadata.to_string(),
        "metadata key order, read back"
    );
    let want = CredentialView {
        credential: c,
        owner: Some(owner_of(&ada)),
        test: None,
    };
    assert_eq!(v, want, "get_credential_view of the full credential");
}

/// The other extremes: nothing optional set, an empty secret, JSON null and scalars.
pub async fn a_bare_credential_round_trips(s: &S) {
    let (ada, sec, _) = ada_and_two_teams(s).await;
    create(s, full_cred("uid-full", sec.id, ada.id, None)).await;
    let bare = NewCredential {
        secret: vec![],
        metadata: json!(null).into(),
        config: json!("just a string").into(),
        description: String::new(),
        ..cred("uid-bare", sec.id, ada.id, "bare")
    };
    let c2 = create(s, bare).await;
    assert_eq!(c2.id, 2, "second credential id");
    assert_eq!(view(s, c2.id).await.credential, c2, "read back");
}

pub async fn a_missing_credential_has_no_view(s: &S) {
    assert_eq!(s.get_credential_view(999).await.unwrap(), None);
}

/// Slugs are unique per team, among live credentials.
pub async fn credential_slugs_are_unique_per_team(s: &S) {
    let (ada, sec, plat) = ada_and_two_teams(s).await;
    let c = create(s, full_cred("uid-full", sec.id, ada.id, None)).await;
    assert_conflict(
        "the same slug in the same team",
        s.create_credential(
            NewCredential {
                name: "Something else".into(),
                ..full_cred("uid-dup", sec.id, ada.id, None)
            },
            audit("CredentialSave"),
        )
        .await,
        Conflict::CredentialSlug,
    );
    let other_team = create(s, full_cred("uid-other-team", plat.id, ada.id, None)).await;
    assert_eq!(other_team.slug, c.slug, "the same slug in another team");
    let list = s
        .list_credentials(CredentialFilter::default(), page(0, 10))
        .await
        .unwrap();
    assert_eq!(
        (ids(&list), list.total),
        (vec![c.id, other_team.id], 2),
        "the conflicting create wrote nothing"
    );
}

/// uids are random, so a clash is practically impossible; but the store must not report it as
/// the slug being taken (the API would then tell the user to pick another name).
pub async fn a_duplicate_uid_is_not_a_slug_conflict(s: &S) {
    let (ada, sec, _) = ada_and_two_teams(s).await;
    create(s, cred("same-uid", sec.id, ada.id, "first")).await;
    assert_conflict(
        "create_credential with a taken uid (and a free slug)",
        s.create_credential(
            cred("same-uid", sec.id, ada.id, "second"),
            audit("CredentialSave"),
        )
        .await,
        Conflict::Other,
    );
}

pub async fn no_credentials_no_counts_by_mode(s: &S) {
    assert_eq!(s.count_credentials_by_mode().await.unwrap(), vec![]);
}

/// Live credentials by mode, in the order of the modes; test credentials and deleted
/// credentials are not counted.
pub async fn live_credentials_are_counted_by_mode(s: &S) {
    let (ada, sec, plat) = ada_and_two_teams(s).await;
    let mode = |uid: &str, team_id, slug: &str, mode: Mode| NewCredential {
        mode,
        ..cred(uid, team_id, ada.id, slug)
    };
    let j1 = create(s, mode("j1", sec.id, "j1", Mode::Jwt)).await;
    create(s, mode("j2", plat.id, "j1", Mode::Jwt)).await;
    create(s, mode("t1", sec.id, "t1", Mode::Text)).await;
    create(s, mode("a1", sec.id, "a1", Mode::Aws)).await;
    let gone = create(s, mode("m1", sec.id, "m1", Mode::Mtls)).await;
    s.attach_test_credential(test_cred("j1-test", &j1), audit("CredentialSave"))
        .await
        .unwrap();
    assert!(
        s.delete_credential(gone.id, audit("CredentialDestruction"))
            .await
            .unwrap(),
        "delete"
    );
    assert_eq!(
        s.count_credentials_by_mode().await.unwrap(),
        vec![(Mode::Aws, 1), (Mode::Jwt, 2), (Mode::Text, 1)]
    );
}

pub async fn a_live_credential_is_found_by_its_issuer_id_only(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let live = create(s, full_cred("live-uid", sec.id, ada.id, None)).await;
    let found = s
        .get_credential_by_issuer("issuer-of-live-uid")
        .await
        .unwrap();
    assert_eq!(found, Some(live.clone()));
    let test = s
        .attach_test_credential(test_cred("test-uid", &live), audit("CredentialSave"))
        .await
        .unwrap();
    assert_eq!(
        s.get_credential_by_issuer(&test.issuer_id).await.unwrap(),
        None,
        "a test credential is no issuer"
    );
    assert_eq!(
        s.get_credential_by_issuer("ISSUER-OF-LIVE-UID")
            .await
            .unwrap(),
        None
    );
    assert!(s
        .delete_credential(live.id, audit("CredentialDestruction"))
        .await
        .unwrap());
    assert_eq!(
        s.get_credential_by_issuer("issuer-of-live-uid")
            .await
            .unwrap(),
        None
    );
}
