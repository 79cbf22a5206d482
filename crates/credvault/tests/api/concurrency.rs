//! Concurrent creates, which the store writes in shared transactions (group commit): each
//! request still gets its own answer, and slug uniqueness holds within and across batches.

use crate::support::*;

#[tokio::test]
async fn racing_creates_of_one_name_give_one_201_and_the_rest_409() {
    let server = std::sync::Arc::new(Server::start());
    let team_id = server.team("Race").await;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            server
                .create_credential(OWNER_KEY, jwt_body(team_id, "Same Name"))
                .await
        }));
    }
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            201 => created += 1,
            409 => assert_error(status, &body, 409, Some("name"), "already exists"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test]
async fn many_concurrent_creates_are_all_answered_and_all_stored() {
    let server = std::sync::Arc::new(Server::start());
    let team_id = server.team("Burst").await;
    let other_team = server.team("Other").await;
    let mut tasks = Vec::new();
    for i in 0..120 {
        let server = server.clone();
        // Every name twice, in two teams: same slug, different team, both allowed.
        let team = if i % 2 == 0 { team_id } else { other_team };
        tasks.push(tokio::spawn(async move {
            server
                .create_credential(OWNER_KEY, jwt_body(team, &format!("cred {}", i / 2)))
                .await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_i64().unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 120);
    for id in ids {
        let (status, body) = server
            .get(&format!("/api/v1/user_credentials/{id}"), OWNER_KEY)
            .await;
        assert_eq!(status, 200, "{body}");
    }
}
