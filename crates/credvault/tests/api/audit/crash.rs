//! A change and its entry are written in one transaction (API.md §8): a server killed
//! (SIGKILL) while creating, updating and deleting credentials leaves, after a restart, every
//! credential with exactly its creation entry, every entry with its change, and a chain
//! that verifies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tempfile::TempDir;

use super::*;

const WRITERS: usize = 4;
const CREATES_EACH: usize = 25;

/// What the server acknowledged before it died.
#[derive(Default)]
struct Acknowledged {
    created: Vec<i64>,
    /// (credential, description) of each update answered 200.
    updated: Vec<(i64, String)>,
    deleted: Vec<i64>,
}

impl Acknowledged {
    fn len(&self) -> usize {
        self.created.len() + self.updated.len() + self.deleted.len()
    }
}

/// A request: the status and body, or None once the server is gone.
async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Option<(u16, Value)> {
    let mut req = http.request(method, url).bearer_auth(OWNER_KEY);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.ok()?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.ok()?;
    Some((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// Writers that each create credentials, update every one and delete every fifth, until the
/// server dies.
fn writers(
    base: &str,
    team: i64,
    acks: &Arc<Mutex<Acknowledged>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..WRITERS)
        .map(|w| {
            let (base, acks) = (base.to_string(), acks.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                for n in 0..CREATES_EACH {
                    let body = text_body(team, &format!("writer {w} number {n}"), "s");
                    let url = format!("{base}{CREDENTIALS}");
                    let Some((201, created)) =
                        send(&http, reqwest::Method::POST, url, Some(body)).await
                    else {
                        return;
                    };
                    let id = id_of(&created);
                    acks.lock().unwrap().created.push(id);
                    let description = format!("updated: writer {w} number {n}");
                    let body = json!({ "mode": "TEXT", "description": description });
                    let url = format!("{base}{}", cred_path(id));
                    let Some((200, _)) =
                        send(&http, reqwest::Method::PUT, url.clone(), Some(body)).await
                    else {
                        return;
                    };
                    acks.lock().unwrap().updated.push((id, description));
                    if n % 5 == 4 {
                        let Some((204, _)) = send(&http, reqwest::Method::DELETE, url, None).await
                        else {
                            return;
                        };
                        acks.lock().unwrap().deleted.push(id);
                    }
                }
            })
        })
        .collect()
}

/// Every credential of the server: id → description.
async fn credentials(server: &Server) -> HashMap<i64, String> {
    let (status, body) = server
        .get(&format!("{CREDENTIALS}?per_page=500"), OWNER_KEY)
        .await;
    assert_eq!(status, 200, "{body}");
    body["user_credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (id_of(c), c["description"].as_str().unwrap().to_string()))
        .collect()
}

/// A credential's creation entry: `CredentialSave` with the team it was created in.
fn is_creation(entry: &Value) -> bool {
    entry["operation_name"] == "CredentialSave" && entry["inputs"]["team_id"].is_i64()
}

/// Each credential's entries, in chain order.
fn by_credential(log: &[Value]) -> HashMap<i64, Vec<&Value>> {
    let mut of: HashMap<i64, Vec<&Value>> = HashMap::new();
    for entry in log {
        if let Some(id) = entry["inputs"]["credential_id"].as_i64() {
            of.entry(id).or_default().push(entry);
        }
    }
    of
}

/// Every credential that exists has exactly one creation entry, then its updates, and holds
/// what the last recorded; every credential with entries exists, or its last entry is its
/// destruction.
fn assert_each_change_has_its_entry(stored: &HashMap<i64, String>, log: &[Value]) {
    let of = by_credential(log);
    for id in stored.keys() {
        assert!(of.contains_key(id), "credential {id} has no entry");
    }
    let creations = log.iter().filter(|e| is_creation(e)).count();
    let destructions = log
        .iter()
        .filter(|e| e["operation_name"] == "CredentialDestruction")
        .count();
    assert_eq!(creations, stored.len() + destructions, "creation entries");
    for (id, entries) in &of {
        let (first, rest) = entries.split_first().unwrap();
        assert!(is_creation(first), "credential {id} begins with {first}");
        let destroyed = rest
            .last()
            .is_some_and(|e| e["operation_name"] == "CredentialDestruction");
        assert_eq!(
            stored.contains_key(id),
            !destroyed,
            "credential {id}: {entries:#?}"
        );
        let updates = &rest[..rest.len() - usize::from(destroyed)];
        for update in updates {
            assert_eq!(update["operation_name"], "CredentialSave", "{update}");
            assert!(
                !is_creation(update),
                "credential {id} created twice: {entries:#?}"
            );
        }
        if let Some(description) = stored.get(id) {
            let recorded = updates.last().map_or("", |e| {
                e["inputs"]["inputs"]["description"].as_str().unwrap()
            });
            assert_eq!(description, recorded, "credential {id}");
        }
    }
}

/// Every change answered before the kill was made and recorded. (One in flight may or may not
/// have been, with its entry.)
fn assert_acknowledged_changes_kept(
    acks: &Acknowledged,
    stored: &HashMap<i64, String>,
    log: &[Value],
) {
    let of = by_credential(log);
    let recorded = |id: &i64, operation: &str| {
        of.get(id)
            .is_some_and(|entries| entries.iter().any(|e| e["operation_name"] == operation))
    };
    for id in &acks.created {
        let kept = stored.contains_key(id) || recorded(id, "CredentialDestruction");
        assert!(kept, "acknowledged create of {id} was lost");
    }
    for (id, description) in &acks.updated {
        let entry = of.get(id).is_some_and(|entries| {
            entries
                .iter()
                .any(|e| e["inputs"]["inputs"]["description"] == description.as_str())
        });
        assert!(entry, "acknowledged update of {id} has no entry");
    }
    for id in &acks.deleted {
        assert!(
            !stored.contains_key(id),
            "acknowledged delete of {id} was undone"
        );
        assert!(
            recorded(id, "CredentialDestruction"),
            "acknowledged delete of {id} has no entry"
        );
    }
}

#[tokio::test]
async fn a_kill_during_writes_leaves_each_change_with_exactly_its_entry() {
    let tmp = TempDir::new().unwrap();
    let mut server = Server::start_in(tmp.path(), &[]).unwrap();
    let team = server.team("Crash").await;
    let acks = Arc::new(Mutex::new(Acknowledged::default()));
    let tasks = writers(&server.base, team, &acks);
    while acks.lock().unwrap().len() < 40 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for task in tasks {
        task.await.unwrap();
    }
    let acks = std::mem::take(&mut *acks.lock().unwrap());
    assert!(
        acks.created.len() < WRITERS * CREATES_EACH,
        "killed mid-way"
    );

    let server = Server::start_in(tmp.path(), &[]).unwrap();
    let stored = credentials(&server).await;
    let log = chain(&server).await;
    assert_each_change_has_its_entry(&stored, &log);
    assert_acknowledged_changes_kept(&acks, &stored, &log);
    assert_eq!(verified_count(&server), log.len() as i64);
}
