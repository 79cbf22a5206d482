//! Concurrent writes: racing creates, attaches and updates. The multi-threaded ones run on 4
//! worker threads (`#[multi_thread]` in the list of checks).

use std::sync::Arc;

use credvault_store::{
    Conflict, Credential, CredentialFilter, NewCredential, StoreError, Team, User,
};
use serde_json::json;

use crate::helpers::{
    audit, create, cred, full_cred, inserted, page, team, test_cred, user, view, S,
};

async fn ada_and_security(s: &S) -> (User, Team) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    (ada, sec)
}

/// Creates every one of `news` at once, each in its own task; their answers, in the order
/// they finish.
async fn create_at_once(
    s: &S,
    news: Vec<NewCredential>,
) -> Vec<(NewCredential, Result<Credential, StoreError>)> {
    let mut tasks = tokio::task::JoinSet::new();
    for new in news {
        let store = Arc::clone(s);
        tasks.spawn(async move {
            (
                new.clone(),
                store.create_credential(new, audit("CredentialSave")).await,
            )
        });
    }
    tasks.join_all().await
}

/// 20 creates of the same team and slug at once: exactly one wins, the others are told the
/// slug is taken.
pub async fn one_of_racing_creates_of_a_slug_wins(s: &S) {
    let (ada, sec) = ada_and_security(s).await;
    let news = (0..20)
        .map(|i| cred(&format!("race-{i}"), sec.id, ada.id, "contested"))
        .collect();
    let mut winners = vec![];
    let mut conflicts = 0;
    for (new, result) in create_at_once(s, news).await {
        match result {
            Ok(c) => {
                assert_eq!(c, inserted(&new, c.id, c.created_at), "the winner's row");
                winners.push(c);
            }
            Err(StoreError::Conflict(Conflict::CredentialSlug)) => conflicts += 1,
            Err(e) => panic!("racing create {}: unexpected error {e:?}", new.uid),
        }
    }
    assert_eq!(
        (winners.len(), conflicts),
        (1, 19),
        "one winner, 19 slug conflicts"
    );
    let of_security = CredentialFilter {
        team_id: Some(sec.id),
        ..Default::default()
    };
    let p = s.list_credentials(of_security, page(0, 50)).await.unwrap();
    assert_eq!(p.total, 1, "one row stored");
    assert_eq!(
        p.items[0].credential, winners[0],
        "the stored row is the winner's"
    );
}

/// 30 creates at once, all different: each caller gets its own row back.
pub async fn concurrent_creates_of_distinct_slugs_all_succeed(s: &S) {
    let (ada, sec) = ada_and_security(s).await;
    let news = (0..30)
        .map(|i| NewCredential {
            secret: vec![i as u8; i + 1],
            metadata: json!({ "i": i }).into(),
            ..cred(&format!("uid-{i}"), sec.id, ada.id, &format!("slug-{i}"))
        })
        .collect();
    let mut created = vec![];
    for (new, result) in create_at_once(s, news).await {
        let c = result.unwrap_or_else(|e| panic!("create {}: {e}", new.uid));
        let want = inserted(&new, c.id, c.created_at);
        assert_eq!(c, want, "{} got its own row", new.uid);
        created.push(c);
    }
    created.sort_by_key(|c| c.id);
    let mut distinct: Vec<i64> = created.iter().map(|c| c.id).collect();
    distinct.dedup();
    assert_eq!(distinct.len(), 30, "30 distinct ids");
    let p = s
        .list_credentials(CredentialFilter::default(), page(0, 50))
        .await
        .unwrap();
    let stored: Vec<Credential> = p.items.into_iter().map(|v| v.credential).collect();
    assert_eq!(
        (stored, p.total),
        (created, 30),
        "every row stored as answered"
    );
}

/// A create that the database rejects (its owner does not exist) among concurrent valid ones:
/// it fails alone. Run on the default current-thread runtime: every create is queued before
/// any is written, so a backend that writes concurrent creates together gets them all at once.
pub async fn a_failing_create_does_not_fail_concurrent_ones(s: &S) {
    let (ada, sec) = ada_and_security(s).await;
    let news = (0..11)
        .map(|i| {
            let owner = if i == 5 { 999_999 } else { ada.id };
            cred(&format!("uid-{i}"), sec.id, owner, &format!("slug-{i}"))
        })
        .collect();
    let mut ok = 0;
    for (new, result) in create_at_once(s, news).await {
        match (new.owner_id == ada.id, result) {
            (true, Ok(c)) => {
                assert_eq!(c, inserted(&new, c.id, c.created_at), "{}", new.uid);
                ok += 1;
            }
            (true, Err(e)) => panic!("valid create {} failed because of another: {e:?}", new.uid),
            (false, Ok(c)) => panic!("create with a missing owner succeeded: {c:?}"),
            (false, Err(StoreError::Conflict(c))) => {
                panic!("create with a missing owner reported as a conflict {c:?}")
            }
            (false, Err(_)) => {}
        }
    }
    assert_eq!(ok, 10, "the valid creates");
    let p = s
        .list_credentials(CredentialFilter::default(), page(0, 50))
        .await
        .unwrap();
    assert_eq!(p.total, 10, "stored rows");
}

/// 10 attaches to one live credential at once: one test credential, one version bump.
pub async fn one_of_racing_attaches_wins(s: &S) {
    let (ada, sec) = ada_and_security(s).await;
    let live = create(s, full_cred("live", sec.id, ada.id, None)).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let store = Arc::clone(s);
        let new = test_cred(&format!("test-{i}"), &live);
        tasks.spawn(async move {
            store
                .attach_test_credential(new, audit("CredentialSave"))
                .await
        });
    }
    let mut attached = vec![];
    let mut conflicts = 0;
    for result in tasks.join_all().await {
        match result {
            Ok(t) => attached.push(t),
            Err(StoreError::Conflict(Conflict::TestCredential)) => conflicts += 1,
            Err(e) => panic!("racing attach: unexpected error {e:?}"),
        }
    }
    assert_eq!(
        (attached.len(), conflicts),
        (1, 9),
        "one attach, 9 conflicts"
    );
    assert_eq!(
        s.get_test_credential(live.id).await.unwrap(),
        Some(attached[0].clone()),
        "the winner is attached"
    );
    let live = view(s, live.id).await.credential;
    assert_eq!(
        (live.version, live.test_credential_enabled),
        (2, true),
        "one version bump"
    );
}

/// 10 updates at one version at once: exactly one applies.
pub async fn one_of_racing_updates_at_a_version_applies(s: &S) {
    let (ada, sec) = ada_and_security(s).await;
    let live = create(s, full_cred("live", sec.id, ada.id, None)).await;
    s.attach_test_credential(test_cred("test", &live), audit("CredentialSave"))
        .await
        .unwrap();
    let live = view(s, live.id).await.credential;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let store = Arc::clone(s);
        let edit = Credential {
            name: format!("writer {i}"),
            ..live.clone()
        };
        tasks.spawn(async move {
            store
                .update_credential(&edit, audit("CredentialSave"))
                .await
        });
    }
    let mut applied = vec![];
    let mut stale = 0;
    for result in tasks.join_all().await {
        match result {
            Ok(Some(c)) => applied.push(c),
            Ok(None) => stale += 1,
            Err(e) => panic!("racing update: unexpected error {e:?}"),
        }
    }
    assert_eq!(
        (applied.len(), stale),
        (1, 9),
        "one update applies, 9 see a stale version"
    );
    assert_eq!(applied[0].version, 3, "the applied update's version");
    assert_eq!(
        view(s, live.id).await.credential,
        applied[0],
        "the stored row is the winner's"
    );
}
