//! Lists of credentials: what they show, filters, paging.

use credvault_core::model::Role;
use credvault_store::{
    Credential, CredentialFilter, Folder, NewCredential, Team, TestSummary, User,
};

use crate::helpers::{
    audit, create, cred, folder, ids, owner_of, page, team, test_cred, user, view, S,
};

/// Ada edits security, bob edits platform; lone has no members. Four live credentials:
/// a (security, f1, restricted to hosts, owned by ada, with a test credential t), b (security,
/// owned by bob, used), c (platform, f2, restricted, owned by bob), d (lone, owned by ada).
struct Fixture {
    ada: User,
    bob: User,
    sec: Team,
    plat: Team,
    lone: Team,
    f1: Folder,
    f2: Folder,
    a: Credential,
    b: Credential,
    c: Credential,
    d: Credential,
    t: Credential,
}

async fn fixture(s: &S) -> Fixture {
    let ada = user(s, "ada@example.com", false).await;
    let bob = user(s, "bob@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let plat = team(s, "Platform", "platform").await;
    let lone = team(s, "Lone", "lone").await;
    s.set_membership(sec.id, ada.id, Role::Editor, audit("TeamMemberInvitation"))
        .await
        .unwrap();
    s.set_membership(plat.id, bob.id, Role::Editor, audit("TeamMemberInvitation"))
        .await
        .unwrap();
    let f1 = folder(s, sec.id, "Sec folder", None).await;
    let f2 = folder(s, plat.id, "Plat folder", None).await;

    let restricted = |f: &Folder, new: NewCredential| NewCredential {
        folder_id: Some(f.id),
        allowed_hosts: vec!["a.example.com".to_string()],
        ..new
    };
    let a = create(s, restricted(&f1, cred("a", sec.id, ada.id, "a"))).await;
    let b = create(s, cred("b", sec.id, bob.id, "b")).await;
    let c = create(s, restricted(&f2, cred("c", plat.id, bob.id, "c"))).await;
    let d = create(s, cred("d", lone.id, ada.id, "d")).await;
    let t = s
        .attach_test_credential(test_cred("a-test", &a), audit("CredentialSave"))
        .await
        .unwrap();
    s.mark_used(&[b.id], 1_700_000_000_000).await.unwrap();
    Fixture {
        ada,
        bob,
        sec,
        plat,
        lone,
        f1,
        f2,
        a,
        b,
        c,
        d,
        t,
    }
}

pub async fn test_credentials_are_never_listed(s: &S) {
    let x = fixture(s).await;
    let all = s
        .list_credentials(CredentialFilter::default(), page(0, 10))
        .await
        .unwrap();
    assert_eq!(
        (ids(&all), all.total),
        (vec![x.a.id, x.b.id, x.c.id, x.d.id], 4)
    );
}

/// Each listed view is what get_credential_view answers: owner, test times, last use.
pub async fn listed_credentials_are_their_views(s: &S) {
    let x = fixture(s).await;
    let all = s
        .list_credentials(CredentialFilter::default(), page(0, 10))
        .await
        .unwrap();
    for item in &all.items {
        let slug = &item.credential.slug;
        assert_eq!(
            *item,
            view(s, item.credential.id).await,
            "listed view {slug}"
        );
    }
    let (a, b) = (&all.items[0], &all.items[1]);
    assert_eq!(a.test, Some(TestSummary::of(&x.t)), "a's test times");
    assert_eq!(a.credential.version, 2, "a's version after the attach");
    assert_eq!(b.owner, Some(owner_of(&x.bob)), "b's owner");
    assert_eq!(
        b.credential.last_used_at,
        Some(1_700_000_000_000),
        "b's last use"
    );
}

/// Every filter alone and some together: the ids listed, and the total.
pub async fn credentials_are_listed_by_filter(s: &S) {
    let x = fixture(s).await;
    let (ada, bob) = (Some(x.ada.id), Some(x.bob.id));
    let (sec, plat, lone) = (Some(x.sec.id), Some(x.plat.id), Some(x.lone.id));
    let (f1, f2) = (Some(x.f1.id), Some(x.f2.id));
    let (a, b, c, d) = (x.a.id, x.b.id, x.c.id, x.d.id);
    let f = |member, team_id, folder_id, restricted, unused| CredentialFilter {
        member,
        team_id,
        folder_id,
        restricted,
        unused,
    };
    let cases = [
        ("member ada", f(ada, None, None, None, false), vec![a, b]),
        ("member bob", f(bob, None, None, None, false), vec![c]),
        (
            "member missing",
            f(Some(999), None, None, None, false),
            vec![],
        ),
        ("team sec", f(None, sec, None, None, false), vec![a, b]),
        ("team lone", f(None, lone, None, None, false), vec![d]),
        (
            "team missing",
            f(None, Some(999), None, None, false),
            vec![],
        ),
        ("folder f1", f(None, None, f1, None, false), vec![a]),
        ("folder f2", f(None, None, f2, None, false), vec![c]),
        (
            "restricted",
            f(None, None, None, Some(true), false),
            vec![a, c],
        ),
        (
            "unrestricted",
            f(None, None, None, Some(false), false),
            vec![b, d],
        ),
        ("unused", f(None, None, None, None, true), vec![a, c, d]),
        (
            "member ada, unrestricted",
            f(ada, None, None, Some(false), false),
            vec![b],
        ),
        ("team sec, unused", f(None, sec, None, None, true), vec![a]),
        (
            "member ada, team plat",
            f(ada, plat, None, None, false),
            vec![],
        ),
        (
            "member bob, team plat, folder f2, restricted, unused",
            f(bob, plat, f2, Some(true), true),
            vec![c],
        ),
    ];
    for (what, filter, want) in cases {
        let p = s.list_credentials(filter, page(0, 10)).await.unwrap();
        let n = want.len() as i64;
        assert_eq!((ids(&p), p.total), (want, n), "list_credentials, {what}");
    }
}

/// Totals count every match, whatever the page.
pub async fn credentials_are_listed_in_pages_with_full_totals(s: &S) {
    let x = fixture(s).await;
    let (a, b, c, d) = (x.a.id, x.b.id, x.c.id, x.d.id);
    let all = CredentialFilter::default;
    let of_ada = || CredentialFilter {
        member: Some(x.ada.id),
        ..all()
    };
    let cases = [
        ("0+1", all(), page(0, 1), vec![a], 4),
        ("1+2", all(), page(1, 2), vec![b, c], 4),
        ("3+2", all(), page(3, 2), vec![d], 4),
        ("past the end", all(), page(4, 2), vec![], 4),
        ("filtered, 1+1", of_ada(), page(1, 1), vec![b], 2),
    ];
    for (what, filter, request, want, total) in cases {
        let p = s.list_credentials(filter, request).await.unwrap();
        assert_eq!((ids(&p), p.total), (want, total), "list {what}");
    }
}
