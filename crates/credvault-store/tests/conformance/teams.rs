//! Teams and memberships.

use credvault_core::model::Role;
use credvault_store::{Conflict, Team, User};

use crate::helpers::{assert_between, assert_conflict, audit, now_ms, page, team, user, S};

/// Three teams, in this order: security, platform-eng (a name off ASCII), nobodys (no members
/// in the checks below).
async fn three_teams(s: &S) -> [Team; 3] {
    [
        team(s, "Security", "security").await,
        team(s, "Platform Eng ✓", "platform-eng").await,
        team(s, "Nobody's", "nobodys").await,
    ]
}

/// Ada is in security (made an editor, then a team admin) and platform-eng (viewer); bob is in
/// platform-eng (editor).
async fn members(s: &S, [sec, plat, _]: &[Team; 3]) -> (User, User) {
    let ada = user(s, "ada@example.com", false).await;
    let bob = user(s, "bob@example.com", false).await;
    for (team, who, role) in [
        (sec, &ada, Role::Editor),
        (sec, &ada, Role::TeamAdmin),
        (plat, &ada, Role::Viewer),
        (plat, &bob, Role::Editor),
    ] {
        s.set_membership(team.id, who.id, role, audit("TeamMemberInvitation"))
            .await
            .unwrap();
    }
    (ada, bob)
}

pub async fn there_are_no_teams_at_first(s: &S) {
    let empty = s.list_teams(None, page(0, 10)).await.unwrap();
    assert_eq!((empty.items, empty.total), (vec![], 0));
}

pub async fn teams_are_created_as_given(s: &S) {
    let before = now_ms();
    let teams = three_teams(s).await;
    let after = now_ms();
    let want = [
        (1, "Security", "security"),
        (2, "Platform Eng ✓", "platform-eng"),
        (3, "Nobody's", "nobodys"),
    ];
    for (t, (id, name, slug)) in teams.iter().zip(want) {
        assert_between("team created_at", t.created_at, before, after);
        let want = Team {
            id,
            name: name.to_string(),
            slug: slug.to_string(),
            created_at: t.created_at,
        };
        assert_eq!(*t, want, "created team {slug}");
    }
}

pub async fn team_slugs_are_unique(s: &S) {
    three_teams(s).await;
    assert_conflict(
        "create_team with a taken slug",
        s.create_team("Security again", "security", audit("TeamCreation"))
            .await,
        Conflict::TeamSlug,
    );
}

pub async fn teams_are_found_by_id_and_exact_slug(s: &S) {
    let [sec, plat, _] = three_teams(s).await;
    assert_eq!(s.get_team(sec.id).await.unwrap(), Some(sec), "get_team");
    assert_eq!(
        s.get_team(99).await.unwrap(),
        None,
        "get_team of a missing id"
    );
    let by_slug = |slug| s.get_team_by_slug(slug);
    assert_eq!(
        by_slug("platform-eng").await.unwrap(),
        Some(plat),
        "get_team_by_slug"
    );
    assert_eq!(by_slug("platform").await.unwrap(), None, "no prefix match");
    assert_eq!(by_slug("Security").await.unwrap(), None, "case-sensitive");
}

/// get_membership and get_team_with_role answer the role set last.
pub async fn a_membership_is_set_and_changed(s: &S) {
    let [sec, ..] = three_teams(s).await;
    let ada = user(s, "ada@example.com", false).await;
    assert_eq!(
        s.get_membership(sec.id, ada.id).await.unwrap(),
        None,
        "none yet"
    );
    for role in [Role::Editor, Role::TeamAdmin] {
        s.set_membership(sec.id, ada.id, role, audit("TeamMemberInvitation"))
            .await
            .unwrap();
        assert_eq!(
            s.get_membership(sec.id, ada.id).await.unwrap(),
            Some(role),
            "get_membership after setting {role:?}"
        );
        assert_eq!(
            s.get_team_with_role(sec.id, ada.id).await.unwrap(),
            Some((sec.clone(), Some(role))),
            "get_team_with_role after setting {role:?}"
        );
    }
}

pub async fn a_team_comes_with_the_callers_role_only(s: &S) {
    let teams = three_teams(s).await;
    let [sec, plat, _] = &teams;
    let carol = user(s, "carol@example.com", false).await;
    let with_role = |team_id, user_id| s.get_team_with_role(team_id, user_id);
    assert_eq!(
        with_role(sec.id, carol.id).await.unwrap(),
        Some((sec.clone(), None)),
        "not a member"
    );
    assert_eq!(
        with_role(99, carol.id).await.unwrap(),
        None,
        "a missing team"
    );

    let (ada, bob) = members(s, &teams).await;
    assert_eq!(
        with_role(sec.id, ada.id).await.unwrap(),
        Some((sec.clone(), Some(Role::TeamAdmin))),
        "a member, after a change of role"
    );
    assert_eq!(
        s.get_membership(sec.id, bob.id).await.unwrap(),
        None,
        "bob is not in security"
    );
    assert_eq!(
        with_role(sec.id, bob.id).await.unwrap(),
        Some((sec.clone(), None)),
        "another member's role is not shown"
    );
    assert_eq!(
        with_role(plat.id, bob.id).await.unwrap(),
        Some((plat.clone(), Some(Role::Editor))),
        "bob in platform"
    );
}

pub async fn teams_are_listed_by_id_in_pages(s: &S) {
    let [sec, plat, lone] = three_teams(s).await;
    let cases = [
        ("all", page(0, 10), vec![sec, plat.clone(), lone]),
        ("1+1", page(1, 1), vec![plat]),
        ("past the end", page(3, 10), vec![]),
    ];
    for (what, request, want) in cases {
        let p = s.list_teams(None, request).await.unwrap();
        assert_eq!((p.items, p.total), (want, 3), "list_teams {what}");
    }
}

pub async fn teams_are_listed_by_member(s: &S) {
    let teams = three_teams(s).await;
    let (ada, bob) = members(s, &teams).await;
    let [sec, plat, _] = teams;
    let cases = [
        (
            "ada (an upsert made no duplicate)",
            ada.id,
            page(0, 10),
            vec![sec.clone(), plat.clone()],
            2,
        ),
        ("ada, offset 1", ada.id, page(1, 10), vec![plat.clone()], 2),
        ("ada, limit 1", ada.id, page(0, 1), vec![sec], 2),
        ("bob", bob.id, page(0, 10), vec![plat], 1),
        ("a missing user", 999, page(0, 10), vec![], 0),
    ];
    for (what, member, request, want, total) in cases {
        let p = s.list_teams(Some(member), request).await.unwrap();
        assert_eq!((p.items, p.total), (want, total), "list_teams of {what}");
    }
}

pub async fn a_removed_member_has_no_role(s: &S) {
    let ada = user(s, "ada@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    s.set_membership(sec.id, ada.id, Role::Editor, audit("TeamMemberInvitation"))
        .await
        .unwrap();
    assert!(
        s.remove_membership(sec.id, ada.id, audit("TeamMemberRemoval"))
            .await
            .unwrap(),
        "removed"
    );
    assert_eq!(s.get_membership(sec.id, ada.id).await.unwrap(), None);
    assert!(
        !s.remove_membership(sec.id, ada.id, audit("TeamMemberRemoval"))
            .await
            .unwrap(),
        "removed twice"
    );
}
