//! Backup, restore and check (API.md §9): a snapshot taken while a server creates
//! credentials holds every credential acknowledged before it started, and a server on the
//! restored directory mints from them; a restore refuses a non-empty directory, a damaged
//! snapshot and a master key that does not open it; `check` opens the keyring and counts.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;
use tempfile::TempDir;

use crate::support::*;

const ANOTHER_MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Runs `credvault <args>` with `env`, and no key or database from the test's environment.
fn credvault(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_credvault"));
    cmd.args(args)
        .env_remove("CREDVAULT_MASTER_KEY")
        .env_remove("CREDVAULT_DATABASE_URL")
        .env_remove("CREDVAULT_DATA_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A server on the SQLite file of `dir`, whatever the backend of this run: backups are of
/// the embedded database.
fn sqlite_server(dir: &Path) -> Server {
    sqlite_server_with(dir, &[])
}

fn sqlite_server_with(dir: &Path, env: &[(&str, &str)]) -> Server {
    std::fs::create_dir_all(dir).unwrap();
    let url = format!("sqlite://{}", dir.join("credvault.db").display());
    let mut env = env.to_vec();
    env.push(("CREDVAULT_DATABASE_URL", url.as_str()));
    Server::start_in(dir, &env).unwrap()
}

/// An ES256 credential body of `team`.
fn signing(team: i64, n: usize) -> serde_json::Value {
    let key = fixture_key("ec-p256-pkcs8.pem");
    jwt_credential(team, &format!("signing {n}"), "ES256", &key, 600)
}

/// Credentials created by four writers until `done`; their ids, as each create is answered.
struct Writers {
    acknowledged: Arc<Mutex<Vec<i64>>>,
    done: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Writers {
    fn start(server: &Arc<Server>, team: i64) -> Writers {
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let done = Arc::new(AtomicBool::new(false));
        let tasks = (0..4)
            .map(|w| {
                let (server, acknowledged, done) =
                    (server.clone(), acknowledged.clone(), done.clone());
                tokio::spawn(async move {
                    for n in 0..500 {
                        if done.load(Ordering::Relaxed) {
                            break;
                        }
                        let id = create_ok(&server, signing(team, w * 1000 + n)).await;
                        acknowledged.lock().unwrap().push(id);
                    }
                })
            })
            .collect();
        Writers {
            acknowledged,
            done,
            tasks,
        }
    }

    /// The ids acknowledged so far, once there are at least `n`.
    async fn at_least(&self, n: usize) -> Vec<i64> {
        while self.acknowledged.lock().unwrap().len() < n {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.acknowledged.lock().unwrap().clone()
    }

    /// Stops them; returns how many creates were acknowledged in all.
    async fn stop(self) -> usize {
        self.done.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        let acknowledged = self.acknowledged.lock().unwrap().len();
        acknowledged
    }
}

#[track_caller]
fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_backup_during_creates_holds_every_credential_acknowledged_before_it() {
    let tmp = TempDir::new().unwrap();
    let (dir, snapshot) = (tmp.path().join("data"), tmp.path().join("snap.db"));
    let server = Arc::new(sqlite_server(&dir));
    let writers = Writers::start(&server, server.team("Backed up").await);
    let before = writers.at_least(40).await;
    // The backup runs among the writers' creates.
    let (from, to) = (dir.clone(), snapshot.clone());
    let out = tokio::task::spawn_blocking(move || {
        credvault(
            &["backup", "--data-dir", path(&from), "--to", path(&to)],
            &[],
        )
    });
    succeeded(&out.await.unwrap());
    let after = writers.stop().await;
    assert!(after > before.len(), "creates went on during the backup");

    let (restored, key_file) = (tmp.path().join("restored"), dir.join("master.key"));
    let (from, into, key) = (path(&snapshot), path(&restored), path(&key_file));
    let args = [
        "restore",
        "--from",
        from,
        "--data-dir",
        into,
        "--master-key-file",
        key,
    ];
    succeeded(&credvault(&args, &[]));
    let copy = sqlite_server_with(&restored, &[("CREDVAULT_MASTER_KEY_FILE", key)]);
    for id in &before {
        mint_ok(&copy, *id, None).await;
    }
    let (_, listed) = copy.get(CREDENTIALS, OWNER_KEY).await;
    let count = listed["meta"]["count"].as_i64().unwrap();
    assert!(
        count >= before.len() as i64 && count <= after as i64,
        "{count}"
    );
}

#[tokio::test]
async fn a_restore_refuses_a_non_empty_directory_a_damaged_snapshot_and_another_key() {
    let tmp = TempDir::new().unwrap();
    let (dir, snapshot) = (tmp.path().join("data"), tmp.path().join("snap.db"));
    let mut server = sqlite_server(&dir);
    create_ok(&server, signing(server.team("T").await, 1)).await;
    assert!(server.stop());
    let out = credvault(
        &["backup", "--data-dir", path(&dir), "--to", path(&snapshot)],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = credvault(
        &["backup", "--data-dir", path(&dir), "--to", path(&snapshot)],
        &[],
    );
    assert_eq!(again.status.code(), Some(1), "the snapshot file exists");

    let restore = |target: &Path, env: &[(&str, &str)]| {
        credvault(
            &[
                "restore",
                "--from",
                path(&snapshot),
                "--data-dir",
                path(target),
            ],
            env,
        )
    };
    let refused = restore(&dir, &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not empty"));

    let target = tmp.path().join("other-key");
    let refused = restore(&target, &[("CREDVAULT_MASTER_KEY", ANOTHER_MASTER_KEY)]);
    assert_eq!(refused.status.code(), Some(1));
    let logs = String::from_utf8_lossy(&refused.stderr);
    assert!(logs.contains("master key does not match"), "{logs}");
    assert!(!target.join("credvault.db").exists(), "nothing left behind");

    let damaged = tmp.path().join("damaged.db");
    let bytes = std::fs::read(&snapshot).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let out = credvault(
        &[
            "restore",
            "--from",
            path(&damaged),
            "--data-dir",
            path(&tmp.path().join("d")),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a whole credvault snapshot"));
}

#[tokio::test]
async fn check_opens_the_keyring_and_counts_what_the_database_holds() {
    let tmp = TempDir::new().unwrap();
    let mut server = Server::start_in(tmp.path(), &[]).unwrap();
    create_ok(&server, signing(server.team("T").await, 1)).await;
    assert!(server.stop());
    let url = server.database_url();
    let mut env: Vec<(&str, &str)> = Vec::new();
    if let Some(url) = &url {
        env.push(("CREDVAULT_DATABASE_URL", url));
    }
    let out = credvault(&["check", "--data-dir", path(tmp.path())], &env);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("1 users, 1 teams, 1 credentials"), "{said}");
    env.push(("CREDVAULT_MASTER_KEY", ANOTHER_MASTER_KEY));
    let out = credvault(&["check", "--data-dir", path(tmp.path())], &env);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json!(String::from_utf8_lossy(&out.stdout)), json!(""));
}

#[test]
fn backup_sends_postgresql_to_pg_dump() {
    let tmp = TempDir::new().unwrap();
    let to = tmp.path().join("snap.db");
    let url = "postgres://credvault@127.0.0.1:1/none";
    let out = credvault(&["backup", "--database-url", url, "--to", path(&to)], &[]);
    assert_eq!(out.status.code(), Some(1));
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.contains("pg_dump"), "{logs}");
    assert!(!to.exists());
}
