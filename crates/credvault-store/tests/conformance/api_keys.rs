//! API keys: created, found by their hash, revoked.
//!
//! Deactivating a user (`is_active = false`) is checked with the users.

use credvault_store::{ApiKey, Conflict, User};

use crate::helpers::{assert_between, assert_conflict, audit, now_ms, user, S};

const H1: [u8; 32] = [1; 32];
const H2: [u8; 32] = [2; 32];

/// Ada (an admin) and bob, with one key each: ada's hashes to H1, bob's to H2.
struct Keys {
    ada: User,
    bob: User,
    k1: ApiKey,
    k2: ApiKey,
}

async fn keys(s: &S) -> Keys {
    let ada = user(s, "ada@example.com", true).await;
    let bob = user(s, "bob@example.com", false).await;
    let k1 = s
        .create_api_key(ada.id, "laptop", &H1, audit("AuthenticationTokenCreation"))
        .await
        .unwrap();
    let k2 = s
        .create_api_key(bob.id, "ci ✓", &H2, audit("AuthenticationTokenCreation"))
        .await
        .unwrap();
    Keys { ada, bob, k1, k2 }
}

pub async fn api_keys_are_created_with_their_owner_and_name(s: &S) {
    let before = now_ms();
    let Keys { ada, bob, k1, k2 } = keys(s).await;
    let after = now_ms();
    assert_between("api key created_at", k1.created_at, before, after);
    let got = [k1, k2].map(|k| (k.id, k.user_id, k.name));
    assert_eq!(
        got,
        [(1, ada.id, "laptop".into()), (2, bob.id, "ci ✓".into())],
        "the first and second api key"
    );
}

pub async fn an_api_key_is_found_by_its_exact_hash(s: &S) {
    let Keys { ada, bob, .. } = keys(s).await;
    let found = |hash: &[u8]| {
        let hash = hash.to_vec();
        async move { s.find_api_key(&hash).await.unwrap() }
    };
    assert_eq!(found(&H1).await, Some((H1.to_vec(), ada)), "ada's key");
    assert_eq!(found(&H2).await, Some((H2.to_vec(), bob)), "bob's key");
    assert_eq!(found(&[0; 32]).await, None, "an unknown hash");
    assert_eq!(found(&H1[..31]).await, None, "a prefix of a hash");
    assert_eq!(found(&[]).await, None, "an empty hash");
}

pub async fn api_key_hashes_are_unique(s: &S) {
    let Keys { bob, .. } = keys(s).await;
    assert_conflict(
        "create_api_key with a taken hash",
        s.create_api_key(bob.id, "again", &H1, audit("AuthenticationTokenCreation"))
            .await,
        Conflict::Other,
    );
}

pub async fn a_found_api_key_comes_with_its_user_as_it_is_now(s: &S) {
    let Keys { ada, .. } = keys(s).await;
    s.touch_user(ada.id, 1_700_000_000_000).await.unwrap();
    let (_, found) = s.find_api_key(&H1).await.unwrap().expect("ada's key");
    assert_eq!(found.last_seen, Some(1_700_000_000_000));
}

pub async fn only_the_owner_of_an_api_key_revokes_it(s: &S) {
    let Keys { ada, bob, k1, .. } = keys(s).await;
    assert!(
        !s.revoke_api_key(bob.id, k1.id, audit("AuthenticationTokenDeletion"))
            .await
            .unwrap(),
        "revoke someone else's key"
    );
    assert!(
        s.find_api_key(&H1).await.unwrap().is_some(),
        "a key survives a foreign revoke"
    );
    assert!(
        !s.revoke_api_key(ada.id, 999, audit("AuthenticationTokenDeletion"))
            .await
            .unwrap(),
        "revoke a missing key"
    );
}

pub async fn a_revoked_api_key_is_not_found(s: &S) {
    let Keys { ada, bob, k1, .. } = keys(s).await;
    assert!(
        s.revoke_api_key(ada.id, k1.id, audit("AuthenticationTokenDeletion"))
            .await
            .unwrap(),
        "revoke"
    );
    assert!(
        !s.revoke_api_key(ada.id, k1.id, audit("AuthenticationTokenDeletion"))
            .await
            .unwrap(),
        "revoke twice"
    );
    assert_eq!(s.find_api_key(&H1).await.unwrap(), None, "the revoked key");
    assert_eq!(
        s.find_api_key(&H2).await.unwrap().map(|(_, u)| u.id),
        Some(bob.id),
        "other keys still work"
    );
}

/// A new key for the same user works; the revoked hash still cannot be reused.
pub async fn a_revoked_api_keys_hash_is_not_reused(s: &S) {
    let Keys { ada, k1, k2, .. } = keys(s).await;
    assert!(
        s.revoke_api_key(ada.id, k1.id, audit("AuthenticationTokenDeletion"))
            .await
            .unwrap(),
        "revoke"
    );
    let k3 = s
        .create_api_key(
            ada.id,
            "new laptop",
            &[3; 32],
            audit("AuthenticationTokenCreation"),
        )
        .await
        .unwrap();
    assert!(k3.id > k2.id, "new key id");
    assert_eq!(
        s.find_api_key(&[3; 32]).await.unwrap().map(|(_, u)| u.id),
        Some(ada.id),
        "new key found"
    );
    assert_conflict(
        "create_api_key with a revoked key's hash",
        s.create_api_key(ada.id, "old", &H1, audit("AuthenticationTokenCreation"))
            .await,
        Conflict::Other,
    );
}
