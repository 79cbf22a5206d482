//! The test harness: each test starts the real `credvault` binary on its own port and data
//! directory, talks to it over HTTP, and can read everything it logged.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use tempfile::TempDir;

use super::in_process;

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
        Err(std::env::VarError::NotPresent | std::env::VarError::NotUnicode(_))
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

pub struct Server {
    pub base: String,
    pub data_dir: PathBuf,
    /// The data directory, when this server made it; removed when the server is dropped.
    owned_dir: Option<TempDir>,
    /// Holds the address file of this start: a directory of its own, so that servers started
    /// on one data directory (at once, or one after the other) never read each other's.
    _address_dir: Option<TempDir>,
    /// None for an in-process server ([`Server::in_process`]).
    child: Option<Child>,
    /// Some for an in-process server: requests go straight to the router.
    router: Option<axum::Router>,
    /// Some for an in-process server: what its router serves, for driving its background
    /// work (the notification scheduler) with a time of the test's choosing.
    state: Option<credvault_api::AppState>,
    logs: Arc<Mutex<String>>,
    log_readers: Vec<JoinHandle<()>>,
    http: reqwest::Client,
}

/// How a server failed to start: its exit status and everything it logged.
#[derive(Debug)]
pub struct StartFailure {
    pub logs: String,
    pub success: bool,
}

/// How long a server may take to listen and then to become ready.
const START_DEADLINE: Duration = Duration::from_secs(30);

impl Server {
    /// A fresh server on a fresh data directory, with the owner key [`OWNER_KEY`].
    pub fn start() -> Server {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().to_path_buf();
        let mut server = Server::start_in(&dir, &[]).expect("server failed to start");
        server.owned_dir = Some(tmp);
        server
    }

    /// Starts on `data_dir` (kept by the caller) with extra environment variables, and waits
    /// until the server has written its address file (`--address-file`) and `GET /readyz`
    /// answers 200. A process that exits first, or a start past [`START_DEADLINE`], is a
    /// [`StartFailure`] with everything it logged.
    pub fn start_in(data_dir: &Path, env: &[(&str, &str)]) -> Result<Server, StartFailure> {
        let address_dir = TempDir::new().unwrap();
        let address_file = address_dir.path().join("address");
        let _ = std::fs::remove_file(&address_file);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_credvault"));
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--address-file")
            .arg(&address_file)
            .arg("--data-dir")
            .arg(data_dir)
            .env("CREDVAULT_LOG", "debug")
            .env("CREDVAULT_BOOTSTRAP_API_KEY", OWNER_KEY)
            .env_remove("CREDVAULT_ADDRESS_FILE")
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
        let log_readers = [
            Box::new(child.stderr.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stdout.take().unwrap()),
        ]
        .into_iter()
        .map(|stream| {
            let logs = logs.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let mut logs = logs.lock().unwrap();
                    logs.push_str(&line);
                    logs.push('\n');
                }
            })
        })
        .collect();
        let mut server = Server {
            base: String::new(),
            data_dir: data_dir.to_path_buf(),
            owned_dir: None,
            _address_dir: Some(address_dir),
            child: Some(child),
            router: None,
            state: None,
            logs,
            log_readers,
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + START_DEADLINE;
        let addr = server.wait_for(deadline, "its address file", || {
            std::fs::read_to_string(&address_file)
                .ok()
                .filter(|text| !text.trim().is_empty())
        })?;
        let addr = addr.trim().to_string();
        server.base = format!("http://{addr}");
        server.wait_for(deadline, "GET /readyz 200", || {
            (readyz_status(&addr) == Some(200)).then_some(())
        })?;
        Ok(server)
    }

    /// Polls `probe` until it gives a value. Fails (killing the process if it still runs) once
    /// the process has exited or `deadline` has passed.
    fn wait_for<T>(
        &mut self,
        deadline: Instant,
        what: &str,
        mut probe: impl FnMut() -> Option<T>,
    ) -> Result<T, StartFailure> {
        loop {
            if let Some(value) = probe() {
                return Ok(value);
            }
            if let Some(status) = self.process().try_wait().unwrap() {
                self.drain_logs();
                return Err(StartFailure {
                    logs: self.logs(),
                    success: status.success(),
                });
            }
            if Instant::now() >= deadline {
                let _ = self.process().kill();
                let _ = self.process().wait();
                self.drain_logs();
                let logs = self.logs();
                eprintln!("server gave no {what} within {START_DEADLINE:?}:\n{logs}");
                return Err(StartFailure {
                    logs,
                    success: false,
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the log readers to reach the end of the output of the exited process.
    fn drain_logs(&mut self) {
        for reader in self.log_readers.drain(..) {
            let _ = reader.join();
        }
    }

    /// The server's process; in-process servers have none, and tests of the process do not
    /// use them.
    fn process(&mut self) -> &mut Child {
        self.child
            .as_mut()
            .expect("an in-process server has no process")
    }

    fn process_ref(&self) -> &Child {
        self.child
            .as_ref()
            .expect("an in-process server has no process")
    }

    /// A server without a process or a socket: the real router and store, called in this
    /// process. For tables of request and answer where a socket adds nothing but time. Its
    /// database is a fresh SQLite file, or a fresh PostgreSQL database on a PostgreSQL run, and
    /// its owner has [`OWNER_KEY`], as for [`Server::start`].
    pub async fn in_process() -> Server {
        let tmp = TempDir::new().unwrap();
        let database = on_postgres().then(|| postgres_database_for(tmp.path()));
        let state = in_process::state(tmp.path(), database.as_deref()).await;
        let router = credvault_api::router(state.clone());
        Server {
            base: "http://in-process".into(),
            data_dir: tmp.path().to_path_buf(),
            owned_dir: Some(tmp),
            _address_dir: None,
            child: None,
            router: Some(router),
            state: Some(state),
            logs: Arc::default(),
            log_readers: Vec::new(),
            http: reqwest::Client::new(),
        }
    }

    /// The state of an in-process server.
    pub fn app_state(&self) -> &credvault_api::AppState {
        self.state
            .as_ref()
            .expect("only an in-process server has its state here")
    }

    /// Runs `sql` on this server's database behind its back (psql, or Python's sqlite3 on the
    /// SQLite file): for putting a row into a state only time would otherwise bring.
    pub fn run_sql(&self, sql: &str) {
        let out = match self.database_url() {
            Some(url) => Command::new("psql")
                .arg(url)
                .args(["-v", "ON_ERROR_STOP=1", "-tAc", sql])
                .output(),
            None => Command::new("python3")
                .args(["-c", "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=10)\nc.execute(sys.argv[2])\nc.commit()"])
                .arg(self.data_dir.join("credvault.db"))
                .arg(sql)
                .output(),
        }
        .expect("cannot run psql or python3");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
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
        self.process().kill().unwrap();
        self.process().wait().unwrap();
        self.drain_logs();
    }

    /// The server's peak resident memory so far (VmHWM), in bytes.
    pub fn peak_memory(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.process_ref().id())).unwrap();
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
        let pid = self.process_ref().id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.process().wait().unwrap();
        // Everything the process wrote last, up to the end of its output.
        self.drain_logs();
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
        if let Some(router) = &self.router {
            return in_process::call(router, method, path, key, body).await;
        }
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

    pub async fn put(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Some(key), Some(body)).await
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
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The status of `GET /readyz` on `addr`, by a plain HTTP/1.0 request (the harness's own
/// blocking check, before any test's runtime is involved); None if nothing answers yet.
fn readyz_status(addr: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let timeout = Duration::from_secs(2);
    let mut stream = std::net::TcpStream::connect_timeout(&addr.parse().ok()?, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    stream
        .write_all(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    // "HTTP/1.x NNN"
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
