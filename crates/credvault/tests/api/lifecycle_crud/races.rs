//! Racing updates of one credential: every PUT is applied, and none mixes two writers.

use std::sync::Arc;

use serde_json::json;

use super::*;

/// 20 concurrent PUTs to credential `id`, each writing `description` and `metadata.writer`
/// with a value of its own. Returns the values of the PUTs that succeeded and how many were
/// refused as busy (409). Every response that shows a state shows one writer's whole.
async fn race_puts(server: &Arc<Server>, id: i64, key: &str) -> (Vec<String>, usize) {
    let mut tasks = Vec::new();
    for n in 0..20 {
        let server = server.clone();
        let key = key.to_string();
        tasks.push(tokio::spawn(async move {
            let value = format!("writer {n:02}");
            let body = jwt(json!({ "description": value, "metadata": { "writer": value } }));
            (value, put(&server, id, &key, body).await)
        }));
    }
    let mut succeeded = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (value, (status, body)) = task.await.unwrap();
        match status {
            200 => {
                let description = body["description"].as_str().unwrap().to_string();
                assert!(description.starts_with("writer "), "{body}");
                assert_eq!(
                    body["metadata"],
                    json!({ "writer": description }),
                    "mixed writers: {body}"
                );
                succeeded.push(value);
            }
            409 => {
                let errors = body["errors"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{body}"));
                assert_eq!(errors.len(), 1, "{body}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    (succeeded, refused)
}

#[tokio::test]
async fn racing_puts_never_mix_writers() {
    let server = Arc::new(Server::start());
    let w = World::new(&server, "Race", &[Role::Editor]).await;
    let editor = w.editor_key();
    let (status, created) = server
        .create_credential(editor, jwt_body(w.team_id, "Contended"))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = id_of(&created);

    pause().await;
    let (succeeded, refused) = race_puts(&server, id, editor).await;
    assert!(!succeeded.is_empty(), "every PUT was refused");
    assert_eq!(succeeded.len() + refused, 20);
    let (status, read) = server.get(&cred_path(id), editor).await;
    assert_eq!(status, 200);
    let description = read["description"].as_str().unwrap().to_string();
    assert!(
        succeeded.contains(&description),
        "final state {read} is from no successful writer"
    );
    assert_eq!(
        read["metadata"],
        json!({ "writer": description }),
        "mixed writers: {read}"
    );
    assert_only_changed(&created, &read, &["description", "metadata"]);
}

#[tokio::test]
async fn racing_puts_to_one_credential_all_succeed() {
    let server = Arc::new(Server::start());
    let team = server.team("Race").await;
    let (status, created) = server
        .create_credential(OWNER_KEY, jwt_body(team, "Contended"))
        .await;
    assert_eq!(status, 201, "{created}");
    let (succeeded, refused) = race_puts(&server, id_of(&created), OWNER_KEY).await;
    // API.md §4.3: a PUT answers 200; 409 is for uniqueness conflicts only.
    assert_eq!(
        (succeeded.len(), refused),
        (20, 0),
        "every concurrent PUT must be applied"
    );
}
