//! The test harness: each test starts the real `credvault` binary on its own port and data
//! directory, talks to it over HTTP, and can read everything it logged.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

pub const OWNER_KEY: &str = "cvk_test_owner_key_0123456789abcdefghijklmnopqrstuv";

/// Which database the servers of this run use: `CREDVAULT_TEST_BACKEND=postgres` puts every
/// server on PostgreSQL (server URL in `CREDVAULT_TEST_POSTGRES_URL`, as `scripts/test` sets
/// it); anything else, the default SQLite file in the data directory.
pub fn on_postgres() -> bool {
    std::env::var("CREDVAULT_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The PostgreSQL server for tests that need one whatever the backend (several instances on
/// one database, outages). `None` (the test then returns early, saying so) only when the run
/// was not started by `scripts/test` and `CREDVAULT_TEST_REQUIRE_POSTGRES` is not set.
pub fn postgres_server() -> Option<String> {
    match std::env::var("CREDVAULT_TEST_POSTGRES_URL") {
        Ok(url) => Some(url.trim_end_matches('/').to_string()),
        Err(_)
            if std::env::var_os("CREDVAULT_TEST_REQUIRE_POSTGRES").is_some() || on_postgres() =>
        {
            panic!("CREDVAULT_TEST_POSTGRES_URL is not set; run the suite with scripts/test")
        }
        Err(_) => {
            eprintln!("skipped: no PostgreSQL (CREDVAULT_TEST_POSTGRES_URL); scripts/test runs it");
            None
        }
    }
}

/// Runs `sql` on the test PostgreSQL server's `postgres` database with psql.
pub fn psql(server: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .arg(format!("{server}/postgres"))
        .args(["-v", "ON_ERROR_STOP=1", "-tAc", sql])
        .output()
        .expect("cannot run psql");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A fresh, empty PostgreSQL database on the test server; returns its URL.
pub fn fresh_postgres_database(server: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("cv_{}_{n}", std::process::id());
    psql(server, &format!("CREATE DATABASE {name}"));
    format!("{server}/{name}")
}

/// The PostgreSQL database that stands for `data_dir` on a PostgreSQL run, created on first
/// use, so that restarting a server on the same directory finds the same data.
fn postgres_database_for(data_dir: &Path) -> String {
    static MADE: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());
    let server = postgres_server().expect("PostgreSQL run");
    let mut made = MADE.lock().unwrap();
    if let Some((_, url)) = made.iter().find(|(dir, _)| dir == data_dir) {
        return url.clone();
    }
    let url = fresh_postgres_database(&server);
    made.push((data_dir.to_path_buf(), url.clone()));
    url
}

pub fn fixture_key(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub struct Server {
    pub base: String,
    pub data_dir: PathBuf,
    _tmp: Option<TempDir>,
    child: Child,
    logs: Arc<Mutex<String>>,
    http: reqwest::Client,
}

/// How a server failed to start: its exit status and everything it logged.
#[derive(Debug)]
pub struct StartFailure {
    pub logs: String,
    pub success: bool,
}

impl Server {
    /// A fresh server on a fresh data directory, with the owner key [`OWNER_KEY`].
    pub fn start() -> Server {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().to_path_buf();
        let mut server = Server::start_in(&dir, &[]).expect("server failed to start");
        server._tmp = Some(tmp);
        server
    }

    /// Starts on `data_dir` (kept by the caller) with extra environment variables.
    pub fn start_in(data_dir: &Path, env: &[(&str, &str)]) -> Result<Server, StartFailure> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_credvault"));
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .env("CREDVAULT_LOG", "debug")
            .env("CREDVAULT_BOOTSTRAP_API_KEY", OWNER_KEY)
            .env_remove("CREDVAULT_MASTER_KEY")
            .env_remove("CREDVAULT_MASTER_KEY_FILE")
            .env_remove("CREDVAULT_DATABASE_URL")
            .env_remove("CREDVAULT_PUBLIC_URL")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if on_postgres() {
            cmd.env("CREDVAULT_DATABASE_URL", postgres_database_for(data_dir));
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("cannot spawn credvault");
        let logs = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        for stream in [
            Box::new(child.stderr.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stdout.take().unwrap()),
        ] {
            let logs = logs.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let addr: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_digit() || ".:[]".contains(*c))
                            .collect();
                        let _ = tx.send(addr);
                    }
                    let mut logs = logs.lock().unwrap();
                    logs.push_str(&line);
                    logs.push('\n');
                }
            });
        }
        drop(tx);
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => {
                let status = child.wait().ok();
                std::thread::sleep(Duration::from_millis(100));
                return Err(StartFailure {
                    logs: logs.lock().unwrap().clone(),
                    success: status.is_some_and(|s| s.success()),
                });
            }
        };
        Ok(Server {
            base: format!("http://{addr}"),
            data_dir: data_dir.to_path_buf(),
            _tmp: None,
            child,
            logs,
            http: reqwest::Client::new(),
        })
    }

    /// The URL of this server's PostgreSQL database, on a PostgreSQL run.
    pub fn database_url(&self) -> Option<String> {
        on_postgres().then(|| postgres_database_for(&self.data_dir))
    }

    /// Everything the database holds on disk, as (name, bytes): the SQLite file and its WAL,
    /// or a `pg_dump` of the PostgreSQL database. For checking that no secret is stored in
    /// plain text.
    pub fn stored_bytes(&self) -> Vec<(String, Vec<u8>)> {
        if let Some(url) = self.database_url() {
            let out = Command::new("pg_dump")
                .arg(&url)
                .output()
                .expect("cannot run pg_dump");
            assert!(
                out.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("CREATE TABLE public.credentials")
            );
            return vec![("pg_dump".into(), out.stdout)];
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.data_dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("credvault.db") {
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
        assert!(
            files.iter().any(|(name, _)| name == "credvault.db"),
            "no database file"
        );
        files
    }

    /// SIGKILL: the process gets no chance to flush or finish anything.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The server's peak resident memory so far (VmHWM), in bytes.
    pub fn peak_memory(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status");
        kib * 1024
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// SIGTERM, then waits; returns whether the process exited with status 0.
    pub fn stop(&mut self) -> bool {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        // Let the reader threads drain what the process wrote last.
        std::thread::sleep(Duration::from_millis(200));
        status.success()
    }

    /// Sends a request; `body` is sent as JSON. Returns the status and the JSON body
    /// (`Value::Null` for an empty body).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Self::read(req).await
    }

    pub async fn read(req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.send().await.expect("request failed");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "non-JSON body with status {status}: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        (status, body)
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    pub async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        self.call(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, Some(key), None).await
    }

    /// `GET /metrics`: 200 in the Prometheus text format; returns the text.
    pub async fn metrics(&self) -> String {
        let resp = self.request(Method::GET, "/metrics").send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        resp.text().await.unwrap()
    }

    /// Creates a team as the owner; returns its id.
    pub async fn team(&self, name: &str) -> i64 {
        let (status, body) = self
            .post("/api/v1/teams", OWNER_KEY, json!({ "name": name }))
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Creates a user with an API key, optionally a member of `team` with `role`.
    pub async fn user(&self, email: &str, team: Option<(i64, &str)>) -> (i64, String) {
        let (status, user) = self
            .post("/api/v1/admin/users", OWNER_KEY, json!({ "email": email }))
            .await;
        assert_eq!(status, 201, "{user}");
        let id = user["id"].as_i64().unwrap();
        let (status, key) = self
            .post(
                &format!("/api/v1/admin/users/{id}/api_keys"),
                OWNER_KEY,
                json!({ "name": "test" }),
            )
            .await;
        assert_eq!(status, 201, "{key}");
        if let Some((team_id, role)) = team {
            self.invite(team_id, id, role).await;
        }
        (id, key["key"].as_str().unwrap().to_string())
    }

    pub async fn invite(&self, team_id: i64, user_id: i64, role: &str) {
        let (status, body) = self
            .post(
                &format!("/api/v1/teams/{team_id}/invite_member"),
                OWNER_KEY,
                json!({ "user_id": user_id, "role": role }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Creates a credential as `key`; returns status and body.
    pub async fn create_credential(&self, key: &str, body: Value) -> (u16, Value) {
        self.post("/api/v1/user_credentials", key, body).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal valid JWT credential body for `team_id`.
/// The ids of every credential in a list response.
pub fn listed_ids(body: &Value) -> Vec<i64> {
    body["user_credentials"]
        .as_array()
        .unwrap_or_else(|| panic!("no user_credentials array: {body}"))
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

pub fn jwt_body(team_id: i64, name: &str) -> Value {
    json!({
        "name": name,
        "mode": "JWT",
        "team_id": team_id,
        "jwt_algorithm": "ES256",
        "jwt_payload": { "iss": "credvault-tests" },
        "jwt_private_key": fixture_key("ec-p256-pkcs8.pem"),
    })
}

/// Asserts the Tines error shape: exactly one error, with this field (or none) and a message
/// that mentions `needle`.
#[track_caller]
pub fn assert_error(
    status: u16,
    body: &Value,
    want_status: u16,
    field: Option<&str>,
    needle: &str,
) {
    assert_eq!(status, want_status, "body: {body}");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array: {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["field"].as_str(), field, "{body}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "message {message:?} does not mention {needle:?}"
    );
}
