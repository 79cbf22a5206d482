//! Users: created, listed, touched, deactivated.

use credvault_store::{Conflict, Deactivation, NewUser, User};

use crate::helpers::{assert_between, assert_conflict, audit, now_ms, page, user, S};

fn new_user(email: &str, first: &str, last: &str, admin: bool) -> NewUser {
    NewUser {
        email: email.to_string(),
        first_name: first.to_string(),
        last_name: last.to_string(),
        admin,
    }
}

/// The three users of these checks: an admin, one with unusual names, one with empty names.
const ADA: (&str, &str, &str, bool) = ("ada@example.com", "Ada", "Lovelace", true);
const BOB: (&str, &str, &str, bool) = ("bob@example.com", "Bób", "O'Brien – 测试", false);
const EVE: (&str, &str, &str, bool) = ("eve@example.com", "", "", false);

/// Creates ADA, BOB and EVE, in that order.
async fn three_users(s: &S) -> [User; 3] {
    let mut created = vec![];
    for (email, first, last, admin) in [ADA, BOB, EVE] {
        let u = s
            .create_user(new_user(email, first, last, admin), audit("UserCreation"))
            .await;
        created.push(u.unwrap_or_else(|e| panic!("create_user {email}: {e}")));
    }
    created.try_into().expect("three users")
}

pub async fn there_are_no_users_at_first(s: &S) {
    assert_eq!(s.count_users().await.unwrap(), 0, "count_users");
    let empty = s.list_users(page(0, 10)).await.unwrap();
    assert_eq!((empty.items, empty.total), (vec![], 0), "list_users");
}

pub async fn users_are_created_active_and_never_seen(s: &S) {
    let before = now_ms();
    let users = three_users(s).await;
    let after = now_ms();
    for (u, id, (email, first, last, admin)) in [
        (&users[0], 1, ADA),
        (&users[1], 2, BOB),
        (&users[2], 3, EVE),
    ] {
        assert_between("user created_at", u.created_at, before, after);
        assert_eq!(
            *u,
            User {
                id,
                email: email.to_string(),
                first_name: first.to_string(),
                last_name: last.to_string(),
                admin,
                is_active: true,
                created_at: u.created_at,
                updated_at: u.created_at,
                last_seen: None,
            },
            "created user {email}"
        );
        assert_eq!(
            s.get_user(id).await.unwrap().as_ref(),
            Some(u),
            "get_user {id}"
        );
    }
    assert_eq!(s.count_users().await.unwrap(), 3, "count_users");
}

pub async fn a_missing_user_is_not_found(s: &S) {
    three_users(s).await;
    assert_eq!(s.get_user(4).await.unwrap(), None, "get_user 4");
    assert_eq!(s.get_user(0).await.unwrap(), None, "get_user 0");
}

pub async fn user_emails_are_unique(s: &S) {
    let [_, _, eve] = three_users(s).await;
    assert_conflict(
        "create_user with a taken email",
        s.create_user(
            new_user("ada@example.com", "Other", "Person", false),
            audit("UserCreation"),
        )
        .await,
        Conflict::UserEmail,
    );
    assert_eq!(
        s.count_users().await.unwrap(),
        3,
        "count_users after a conflict"
    );

    // A user created after a conflict: a new id, larger than every earlier one.
    let zed = s
        .create_user(
            new_user("zed@example.com", "Zed", "Z", false),
            audit("UserCreation"),
        )
        .await
        .unwrap();
    assert!(zed.id > eve.id, "id {} after a conflict", zed.id);
    assert_eq!(
        s.get_user(zed.id).await.unwrap(),
        Some(zed),
        "get_user after a conflict"
    );
    assert_eq!(s.count_users().await.unwrap(), 4, "count_users at the end");
}

pub async fn users_are_listed_by_id_in_pages(s: &S) {
    let [ada, bob, eve] = three_users(s).await;
    let cases = [
        ("0+2", page(0, 2), vec![ada.clone(), bob.clone()]),
        ("2+2", page(2, 2), vec![eve.clone()]),
        ("past the end", page(3, 2), vec![]),
        ("all", page(0, 500), vec![ada, bob, eve]),
    ];
    for (what, request, want) in cases {
        let p = s.list_users(request).await.unwrap();
        assert_eq!((p.items, p.total), (want, 3), "list_users {what}");
    }
}

pub async fn touching_a_user_sets_last_seen_only(s: &S) {
    let [ada, bob, _] = three_users(s).await;
    s.touch_user(bob.id, 1_700_000_000_123).await.unwrap();
    let touched = User {
        last_seen: Some(1_700_000_000_123),
        ..bob.clone()
    };
    assert_eq!(
        s.get_user(bob.id).await.unwrap(),
        Some(touched),
        "the touched user"
    );
    assert_eq!(
        s.get_user(ada.id).await.unwrap(),
        Some(ada),
        "others are left alone"
    );

    s.touch_user(bob.id, 1_700_000_000_456).await.unwrap();
    assert_eq!(
        s.get_user(bob.id).await.unwrap().map(|u| u.last_seen),
        Some(Some(1_700_000_000_456)),
        "touched again"
    );
    let p = s.list_users(page(1, 1)).await.unwrap();
    assert_eq!(
        p.items[0].last_seen,
        Some(1_700_000_000_456),
        "list_users shows last_seen"
    );
}

pub async fn touching_a_missing_user_is_not_an_error(s: &S) {
    s.touch_user(999, 1)
        .await
        .unwrap_or_else(|e| panic!("touch_user of a missing user: {e}"));
}

// ---------------------------------------------------------------------------------------------
// Deactivation

/// An admin (the owner) and ada, who has an API key.
async fn owner_and_ada(s: &S) -> (User, User) {
    let owner = user(s, "owner@example.com", true).await;
    let ada = user(s, "ada@example.com", false).await;
    s.create_api_key(
        ada.id,
        "k",
        b"ada-key-hash",
        audit("AuthenticationTokenCreation"),
    )
    .await
    .unwrap();
    (owner, ada)
}

pub async fn a_deactivated_user_is_inactive(s: &S) {
    let (_, ada) = owner_and_ada(s).await;
    let at = now_ms();
    match s
        .deactivate_user(ada.id, at, audit("UserDeactivation"))
        .await
        .unwrap()
    {
        Deactivation::Done(u) => {
            assert!(!u.is_active, "the answered user is inactive");
            assert_eq!(u.updated_at, at, "the answered user's updated_at");
        }
        other => panic!("deactivate_user: {other:?}"),
    }
    assert!(
        !s.get_user(ada.id).await.unwrap().unwrap().is_active,
        "the stored user"
    );
}

pub async fn an_inactive_users_keys_do_not_authenticate(s: &S) {
    let (_, ada) = owner_and_ada(s).await;
    s.deactivate_user(ada.id, now_ms(), audit("UserDeactivation"))
        .await
        .unwrap();
    assert!(
        s.find_api_key(b"ada-key-hash").await.unwrap().is_none(),
        "an inactive user's key still authenticates"
    );
}

pub async fn deactivating_twice_changes_nothing(s: &S) {
    let (_, ada) = owner_and_ada(s).await;
    let at = now_ms();
    s.deactivate_user(ada.id, at, audit("UserDeactivation"))
        .await
        .unwrap();
    let again = s
        .deactivate_user(ada.id, at + 1, audit("UserDeactivation"))
        .await
        .unwrap();
    assert!(
        matches!(&again, Deactivation::Done(u) if u.updated_at == at),
        "deactivate_user again: {again:?}"
    );
}

pub async fn deactivating_a_missing_user_is_not_found(s: &S) {
    owner_and_ada(s).await;
    assert_eq!(
        s.deactivate_user(999_999, now_ms(), audit("UserDeactivation"))
            .await
            .unwrap(),
        Deactivation::NotFound
    );
}

/// The last active admin stays; with a second one, either may go, but not both.
pub async fn deactivating_the_last_admin_is_refused(s: &S) {
    let (owner, _) = owner_and_ada(s).await;
    let at = now_ms();
    assert_eq!(
        s.deactivate_user(owner.id, at, audit("UserDeactivation"))
            .await
            .unwrap(),
        Deactivation::LastAdmin,
        "the only admin"
    );
    let second = user(s, "second@example.com", true).await;
    let first_goes = s
        .deactivate_user(owner.id, at, audit("UserDeactivation"))
        .await
        .unwrap();
    assert!(
        matches!(first_goes, Deactivation::Done(_)),
        "one of two admins: {first_goes:?}"
    );
    assert_eq!(
        s.deactivate_user(second.id, at, audit("UserDeactivation"))
            .await
            .unwrap(),
        Deactivation::LastAdmin,
        "the admin left"
    );
}
