//! Folders: created, sized by their live credentials, listed by team and member.

use credvault_core::model::Role;
use credvault_store::{Folder, NewCredential, NewFolder, Team, User};

use crate::helpers::{
    assert_between, audit, create, cred, folder, now_ms, page, team, test_cred, user, S,
};

/// Ada (an editor of security) and bob (in no team); the teams security and platform.
async fn people(s: &S) -> (User, User, Team, Team) {
    let ada = user(s, "ada@example.com", false).await;
    let bob = user(s, "bob@example.com", false).await;
    let sec = team(s, "Security", "security").await;
    let plat = team(s, "Platform", "platform").await;
    s.set_membership(sec.id, ada.id, Role::Editor, audit("TeamMemberInvitation"))
        .await
        .unwrap();
    (ada, bob, sec, plat)
}

/// In security: f1 and its child f2; in platform: f3.
async fn three_folders(s: &S, sec: &Team, plat: &Team) -> [Folder; 3] {
    let f1 = folder(s, sec.id, "Production ✓", None).await;
    let f2 = folder(s, sec.id, "Child", Some(f1.id)).await;
    let f3 = folder(s, plat.id, "Other team's", None).await;
    [f1, f2, f3]
}

fn sized(f: &Folder, size: i64) -> Folder {
    Folder { size, ..f.clone() }
}

pub async fn folders_are_created_empty(s: &S) {
    let (_, _, sec, plat) = people(s).await;
    let before = now_ms();
    let f1 = s
        .create_folder(
            NewFolder {
                team_id: sec.id,
                name: "Production ✓".into(),
                content_type: "CREDENTIAL".into(),
                parent_folder_id: None,
            },
            audit("FolderCreation"),
        )
        .await
        .unwrap();
    let after = now_ms();
    assert_between("folder created_at", f1.created_at, before, after);
    let want = Folder {
        id: 1,
        team_id: sec.id,
        name: "Production ✓".into(),
        content_type: "CREDENTIAL".into(),
        parent_folder_id: None,
        created_at: f1.created_at,
        size: 0,
    };
    assert_eq!(f1, want, "created folder");
    let f2 = folder(s, sec.id, "Child", Some(f1.id)).await;
    assert_eq!(
        (f2.id, f2.parent_folder_id, f2.size),
        (2, Some(f1.id), 0),
        "child folder"
    );
    let f3 = folder(s, plat.id, "Other team's", None).await;
    assert_eq!((f3.id, f3.team_id), (3, plat.id), "third folder");
    assert_eq!(
        s.get_folder(f1.id).await.unwrap(),
        Some(f1),
        "get_folder, empty"
    );
    assert_eq!(
        s.get_folder(99).await.unwrap(),
        None,
        "get_folder of a missing id"
    );
}

/// Two live credentials in f1 (one with a test credential, also in f1), one in f2, one in none.
pub async fn a_folders_size_counts_its_live_credentials(s: &S) {
    let (ada, _, sec, plat) = people(s).await;
    let [f1, f2, f3] = three_folders(s, &sec, &plat).await;
    let in_folder = |f: &Folder, uid: &str| NewCredential {
        folder_id: Some(f.id),
        ..cred(uid, sec.id, ada.id, uid)
    };
    let a = create(s, in_folder(&f1, "a")).await;
    let b = create(s, in_folder(&f1, "b")).await;
    create(s, in_folder(&f2, "c")).await;
    create(s, cred("d", sec.id, ada.id, "d")).await;
    s.attach_test_credential(test_cred("a-test", &a), audit("CredentialSave"))
        .await
        .unwrap();

    for (f, size, what) in [
        (&f1, 2, "f1 counts live credentials only"),
        (&f2, 1, "f2"),
        (&f3, 0, "f3"),
    ] {
        assert_eq!(
            s.get_folder(f.id).await.unwrap(),
            Some(sized(f, size)),
            "{what}"
        );
    }
    assert!(
        s.delete_credential(b.id, audit("CredentialDestruction"))
            .await
            .unwrap(),
        "delete b"
    );
    assert_eq!(
        s.get_folder(f1.id).await.unwrap(),
        Some(sized(&f1, 1)),
        "f1 after a delete"
    );
}

pub async fn folders_are_listed_by_team_and_member(s: &S) {
    let (ada, bob, sec, plat) = people(s).await;
    let [f1, f2, f3] = three_folders(s, &sec, &plat).await;
    // One credential in f1 and one in f2: the listed folders carry their sizes.
    for (f, uid) in [(&f1, "a"), (&f2, "c")] {
        let new = NewCredential {
            folder_id: Some(f.id),
            ..cred(uid, sec.id, ada.id, uid)
        };
        create(s, new).await;
    }
    let (f1, f2, f3) = (sized(&f1, 1), sized(&f2, 1), sized(&f3, 0));
    let (sec, plat, ada, bob) = (Some(sec.id), Some(plat.id), Some(ada.id), Some(bob.id));
    let all = page(0, 10);
    let cases = [
        ("all", None, None, all, vec![&f1, &f2, &f3], 3),
        ("all, 1+1", None, None, page(1, 1), vec![&f2], 3),
        ("of security", sec, None, all, vec![&f1, &f2], 2),
        ("of security, 1+5", sec, None, page(1, 5), vec![&f2], 2),
        ("of platform", plat, None, all, vec![&f3], 1),
        ("of a missing team", Some(99), None, all, vec![], 0),
        ("of ada's teams", None, ada, all, vec![&f1, &f2], 2),
        ("of bob (no teams)", None, bob, all, vec![], 0),
        ("of security for ada", sec, ada, all, vec![&f1, &f2], 2),
        ("of a team ada is not in", plat, ada, all, vec![], 0),
    ];
    for (what, team_id, member, request, want, total) in cases {
        let p = s.list_folders(team_id, member, request).await.unwrap();
        let got: Vec<&Folder> = p.items.iter().collect();
        assert_eq!((got, p.total), (want, total), "list_folders {what}");
    }
}
