//! The mint path: mint_context (caller and credential in one read) and mark_used.

use credvault_core::model::Role;
use credvault_store::{ApiKey, Credential, CredentialFilter, Membership, Team, User};

use crate::helpers::{audit, create, cred, full_cred, ids, page, team, test_cred, user, view, S};

const H_ADA: &[u8] = b"ada-key-hash";
const H_BOB: &[u8] = b"bob-key-hash";
const H_REVOKED: &[u8] = b"old-bob-key";

/// Ada, an admin in no team, and bob, an editor of security and team admin of platform-eng;
/// each has a key (bob also a revoked one). c is ada's full credential in security, at version
/// 2 after a test credential t was attached; `other` is bob's plain credential in platform-eng.
struct Fixture {
    ada: User,
    bob: User,
    sec: Team,
    plat: Team,
    bob_key: ApiKey,
    c: Credential,
    t: Credential,
    other: Credential,
}

async fn fixture(s: &S) -> Fixture {
    let ada = user(s, "ada@example.com", true).await;
    let bob = user(s, "bob@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let plat = team(s, "Platform", "platform-eng").await;
    // Joined in the opposite order of the team ids.
    s.set_membership(
        plat.id,
        bob.id,
        Role::TeamAdmin,
        audit("TeamMemberInvitation"),
    )
    .await
    .unwrap();
    s.set_membership(sec.id, bob.id, Role::Editor, audit("TeamMemberInvitation"))
        .await
        .unwrap();
    s.create_api_key(ada.id, "a", H_ADA, audit("AuthenticationTokenCreation"))
        .await
        .unwrap();
    let bob_key = s
        .create_api_key(bob.id, "b", H_BOB, audit("AuthenticationTokenCreation"))
        .await
        .unwrap();
    let old = s
        .create_api_key(
            bob.id,
            "old",
            H_REVOKED,
            audit("AuthenticationTokenCreation"),
        )
        .await
        .unwrap();
    assert!(
        s.revoke_api_key(bob.id, old.id, audit("AuthenticationTokenDeletion"))
            .await
            .unwrap(),
        "revoke"
    );

    let c = create(s, full_cred("c", sec.id, ada.id, None)).await;
    let other = create(s, cred("other", plat.id, bob.id, "other")).await;
    let t = s
        .attach_test_credential(test_cred("c-test", &c), audit("CredentialSave"))
        .await
        .unwrap();
    let c = view(s, c.id).await.credential;
    assert_eq!(c.version, 2, "version after the attach");
    Fixture {
        ada,
        bob,
        sec,
        plat,
        bob_key,
        c,
        t,
        other,
    }
}

pub async fn a_mint_context_has_the_caller_and_the_current_credential(s: &S) {
    let x = fixture(s).await;
    let ctx = s
        .mint_context(H_BOB, x.c.id)
        .await
        .unwrap()
        .expect("mint_context for bob's key");
    let mut memberships = ctx.memberships.clone();
    // The order of memberships is not specified.
    memberships.sort_by_key(|m| m.team_id);
    let membership = |team: &Team, team_slug: &str, role| Membership {
        team_id: team.id,
        team_slug: team_slug.into(),
        role,
    };
    assert_eq!(
        (ctx.key_hash, ctx.caller_id, ctx.caller_admin, memberships),
        (
            H_BOB.to_vec(),
            x.bob.id,
            false,
            vec![
                membership(&x.sec, "security", Role::Editor),
                membership(&x.plat, "platform-eng", Role::TeamAdmin),
            ]
        ),
        "the caller"
    );
    assert_eq!(
        ctx.credential, x.c,
        "the credential, at its current version"
    );
}

pub async fn an_admins_mint_context_needs_no_team(s: &S) {
    let x = fixture(s).await;
    let ctx = s
        .mint_context(H_ADA, x.other.id)
        .await
        .unwrap()
        .expect("ada's context");
    assert_eq!(
        (
            ctx.key_hash,
            ctx.caller_id,
            ctx.caller_admin,
            ctx.memberships
        ),
        (H_ADA.to_vec(), x.ada.id, true, vec![]),
        "an admin in no team"
    );
    assert_eq!(ctx.credential, x.other, "a plain credential");
}

pub async fn there_is_no_mint_context_without_a_key_and_a_live_credential(s: &S) {
    let x = fixture(s).await;
    let none =
        |key: &'static [u8], id| async move { s.mint_context(key, id).await.unwrap().is_none() };
    assert!(none(H_REVOKED, x.c.id).await, "a revoked key");
    assert!(none(b"unknown", x.c.id).await, "an unknown key");
    assert!(none(H_BOB, x.t.id).await, "a test credential's id");
    assert!(none(H_BOB, 999).await, "a missing credential");
}

pub async fn the_mint_context_follows_updates(s: &S) {
    let x = fixture(s).await;
    let edit = Credential {
        name: "v3".into(),
        ..x.c.clone()
    };
    let c = s
        .update_credential(&edit, audit("CredentialSave"))
        .await
        .unwrap()
        .expect("update");
    let ctx = s
        .mint_context(H_BOB, c.id)
        .await
        .unwrap()
        .expect("context after the update");
    assert_eq!(
        (ctx.credential.version, ctx.credential.name.as_str()),
        (3, "v3"),
        "version and name"
    );
    assert_eq!(ctx.credential, c, "the whole credential");
}

pub async fn revoking_a_key_takes_its_mint_context_away(s: &S) {
    let x = fixture(s).await;
    assert!(
        s.revoke_api_key(x.bob.id, x.bob_key.id, audit("AuthenticationTokenDeletion"))
            .await
            .unwrap(),
        "revoke bob's key"
    );
    assert!(s.mint_context(H_BOB, x.c.id).await.unwrap().is_none());
}

/// The ids of the unused credentials, and their total.
async fn unused(s: &S) -> (Vec<i64>, i64) {
    let filter = CredentialFilter {
        unused: true,
        ..Default::default()
    };
    let p = s.list_credentials(filter, page(0, 10)).await.unwrap();
    (ids(&p), p.total)
}

async fn last_used_at(s: &S, id: i64) -> Option<i64> {
    view(s, id).await.credential.last_used_at
}

/// mark_used sets last_used_at of exactly the given ids, and nothing else.
pub async fn mark_used_marks_exactly_the_given_credentials(s: &S) {
    let x = fixture(s).await;
    let (c, other) = (x.c.id, x.other.id);
    assert_eq!(unused(s).await, (vec![c, other], 2), "all unused");
    s.mark_used(&[c], 1_700_000_000_001).await.unwrap();
    assert_eq!(last_used_at(s, c).await, Some(1_700_000_000_001), "marked");
    assert_eq!(last_used_at(s, other).await, None, "not marked");
    assert_eq!(
        view(s, c).await.credential.version,
        2,
        "mark_used leaves the version alone"
    );
    let ctx = s.mint_context(H_BOB, c).await.unwrap();
    assert_eq!(
        ctx.map(|x| x.credential.last_used_at),
        Some(Some(1_700_000_000_001)),
        "the context shows the last use"
    );
    assert_eq!(unused(s).await, (vec![other], 1), "unused after one mark");
}

pub async fn mark_used_of_nothing_or_of_missing_ids_changes_nothing(s: &S) {
    let x = fixture(s).await;
    s.mark_used(&[x.c.id], 1_700_000_000_001).await.unwrap();
    s.mark_used(&[], 1_700_000_000_002)
        .await
        .unwrap_or_else(|e| panic!("mark_used of nothing: {e}"));
    s.mark_used(&[999], 1_700_000_000_002)
        .await
        .unwrap_or_else(|e| panic!("mark_used of a missing id: {e}"));
    assert_eq!(
        last_used_at(s, x.c.id).await,
        Some(1_700_000_000_001),
        "unchanged"
    );
}

pub async fn mark_used_marks_again(s: &S) {
    let x = fixture(s).await;
    let (c, other) = (x.c.id, x.other.id);
    s.mark_used(&[c], 1_700_000_000_001).await.unwrap();
    s.mark_used(&[c, other], 1_700_000_000_003).await.unwrap();
    assert_eq!(
        last_used_at(s, c).await,
        Some(1_700_000_000_003),
        "marked again"
    );
    assert_eq!(
        last_used_at(s, other).await,
        Some(1_700_000_000_003),
        "other marked"
    );
    assert_eq!(unused(s).await, (vec![], 0), "none unused");
}
