//! Several instances on one database, crashes and outages.
//!
//! The instances of a test share one data directory, which on a PostgreSQL run
//! (`scripts/test`) stands for one PostgreSQL database and otherwise for one SQLite file; the
//! same tests therefore check both backends. They share the master key through the key file
//! in that directory, as instances sharing a database must.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::*;

/// `n` instances on one database.
fn instances(n: usize) -> (TempDir, Vec<Arc<Server>>) {
    let dir = TempDir::new().unwrap();
    let servers = (0..n)
        .map(|i| {
            Arc::new(
                Server::start_in(dir.path(), &[])
                    .unwrap_or_else(|f| panic!("instance {i}: {}", f.logs)),
            )
        })
        .collect();
    (dir, servers)
}

/// Sends `count` copies of one POST at once, round-robin over `servers`; returns how many
/// answers had each status (and panics on a 5xx, printing it).
async fn race(
    servers: &[Arc<Server>],
    count: usize,
    path: &str,
    body: Value,
) -> BTreeMap<u16, usize> {
    let mut tasks = Vec::new();
    for i in 0..count {
        let server = servers[i % servers.len()].clone();
        let body = body.clone();
        let path = path.to_string();
        tasks.push(tokio::spawn(async move {
            server.post(&path, OWNER_KEY, body).await
        }));
    }
    let mut statuses = BTreeMap::new();
    for task in tasks {
        let (status, resp) = task.await.unwrap();
        assert!(status < 500, "{path}: {status} {resp}");
        if status == 409 {
            assert!(resp["errors"][0]["message"].is_string(), "{resp}");
        }
        *statuses.entry(status).or_default() += 1;
    }
    statuses
}

#[tokio::test]
async fn racing_creates_of_one_credential_on_three_instances_give_one_201_and_409s() {
    let (_dir, servers) = instances(3);
    let team = servers[0].team("race").await;
    let statuses = race(&servers, 50, CREDENTIALS, jwt_body(team, "Same Name")).await;
    assert_eq!(statuses, BTreeMap::from([(201, 1), (409, 49)]));
    for server in &servers {
        let (status, list) = server
            .get(&format!("{CREDENTIALS}?team_id={team}"), OWNER_KEY)
            .await;
        assert_eq!(status, 200);
        assert_eq!(list["meta"]["count"], 1, "{list}");
        assert_eq!(list["user_credentials"][0]["slug"], "same_name");
    }
}

#[tokio::test]
async fn racing_creates_of_one_team_on_three_instances_give_one_201_and_409s() {
    let (_dir, servers) = instances(3);
    let body = json!({ "name": "Racing Team" });
    let statuses = race(&servers, 20, "/api/v1/teams", body).await;
    assert_eq!(statuses, BTreeMap::from([(201, 1), (409, 19)]));
}

#[tokio::test]
async fn racing_creates_of_one_user_on_three_instances_give_one_201_and_409s() {
    let (_dir, servers) = instances(3);
    let body = json!({ "email": "racer@example.com" });
    let statuses = race(&servers, 20, "/api/v1/admin/users", body).await;
    assert_eq!(statuses, BTreeMap::from([(201, 1), (409, 19)]));
}

#[tokio::test]
async fn a_put_or_delete_on_one_instance_rules_the_next_mint_on_another() {
    let (_dir, servers) = instances(2);
    let (a, b) = (&servers[0], &servers[1]);
    let team = a.team("rotation").await;
    let id = create_ok(
        a,
        json!({
            "name": "rotated",
            "mode": "JWT",
            "team_id": team,
            "jwt_algorithm": "RS256",
            "jwt_payload": { "iss": "rotation" },
            "jwt_private_key": fixture_key("rsa2048-pkcs8.pem"),
        }),
    )
    .await;
    let old_jwk = jwk_of(b, id).await;
    // Instance b mints twice: the second comes from its token cache.
    let first = token_of(&mint_ok(b, id, None).await);
    assert_eq!(token_of(&mint_ok(b, id, None).await), first);
    assert!(verifies_with_jwk(&first, &old_jwk, "RS256"));

    // Rotate the key on a; b's very next mint signs with the new key.
    let rotate = json!({ "mode": "JWT", "jwt_private_key": fixture_key("rsa3072-pkcs8.pem") });
    put_ok(a, id, rotate).await;
    let new_jwk = jwk_of(b, id).await;
    assert_ne!(new_jwk["n"], old_jwk["n"]);
    let second = token_of(&mint_ok(b, id, None).await);
    assert_ne!(second, first);
    assert!(verifies_with_jwk(&second, &new_jwk, "RS256"));
    assert!(!verifies_with_jwk(&second, &old_jwk, "RS256"));

    // Delete on a; b refuses at once.
    let (status, _) = a.delete(&format!("{CREDENTIALS}/{id}"), OWNER_KEY).await;
    assert_eq!(status, 204);
    let (status, resp) = mint(b, Some(OWNER_KEY), id, None).await;
    assert_eq!(status, 404, "{resp}");
    let (status, _) = b.get(&format!("{CREDENTIALS}/{id}"), OWNER_KEY).await;
    assert_eq!(status, 404);
}

const ATTEMPTS: usize = 400;
const IN_FLIGHT: usize = 32;

/// A burst of creates in `team`, IN_FLIGHT at a time; the server is killed (SIGKILL) once a
/// quarter of them have been answered, so the rest are in flight, queued or never sent.
/// Returns the acknowledged (201) creates: id → name.
async fn creates_cut_short_by_kill_9(server: &mut Server, team: i64) -> BTreeMap<i64, String> {
    let (http, base) = (reqwest::Client::new(), server.base.clone());
    let answered = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tasks = Vec::new();
    for n in 0..ATTEMPTS {
        let (http, base, answered, gate) =
            (http.clone(), base.clone(), answered.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            let name = format!("crash {n}");
            let resp = http
                .post(format!("{base}{CREDENTIALS}"))
                .bearer_auth(OWNER_KEY)
                .json(&jwt_body(team, &name))
                .send()
                .await;
            let acked = match resp {
                Ok(resp) if resp.status() == 201 => {
                    let body: Value = resp.json().await.ok()?;
                    Some((body["id"].as_i64()?, name))
                }
                Ok(resp) => panic!("create {name}: {}", resp.status()),
                Err(_) => None,
            };
            answered.fetch_add(1, SeqCst);
            acked
        }));
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    while answered.load(SeqCst) < ATTEMPTS / 4 {
        assert!(Instant::now() < deadline, "the creates did not get going");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill();
    let mut acked = BTreeMap::new();
    for task in tasks {
        if let Some((id, name)) = task.await.unwrap() {
            acked.insert(id, name);
        }
    }
    let answered = answered.load(SeqCst);
    eprintln!(
        "{} of {ATTEMPTS} creates acknowledged before kill -9",
        acked.len()
    );
    assert!(
        acked.len() >= ATTEMPTS / 4 - IN_FLIGHT,
        "only {} acknowledged",
        acked.len()
    );
    assert!(
        acked.len() < ATTEMPTS,
        "the kill came after every create ({answered} answered)"
    );
    acked
}

#[tokio::test]
async fn acknowledged_creates_survive_kill_9() {
    let dir = TempDir::new().unwrap();
    let mut server = Server::start_in(dir.path(), &[]).unwrap();
    let team = server.team("crash").await;
    let acked = creates_cut_short_by_kill_9(&mut server, team).await;

    let server = Server::start_in(dir.path(), &[]).unwrap();
    // Every acknowledged create is there, whole: readable and usable.
    for (id, name) in &acked {
        let (status, got) = server.get(&cred_path(id), OWNER_KEY).await;
        assert_eq!(status, 200, "acknowledged credential {id} lost: {got}");
        assert_eq!(&got["name"], name);
        mint_ok(&server, *id, None).await;
    }
    // Nothing half-written: whatever else is listed was one of the attempts and works too.
    let path = format!("{CREDENTIALS}?team_id={team}&per_page=500");
    let (status, list) = server.get(&path, OWNER_KEY).await;
    assert_eq!(status, 200);
    let listed = list["user_credentials"].as_array().unwrap();
    let ids: BTreeSet<i64> = listed_ids(&list).into_iter().collect();
    assert!(acked.keys().all(|id| ids.contains(id)));
    for credential in listed {
        let name = credential["name"].as_str().unwrap();
        assert!(name.starts_with("crash "), "{credential}");
        mint_ok(&server, credential["id"].as_i64().unwrap(), None).await;
    }
}

/// A private PostgreSQL cluster that the test can stop and start.
struct Cluster {
    dir: TempDir,
    url: String,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = TempDir::new().unwrap();
        let url = Cluster::run("start", &dir);
        Cluster { dir, url }
    }

    fn run(cmd: &str, dir: &TempDir) -> String {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-cluster");
        let out = std::process::Command::new(script)
            .arg(cmd)
            .arg(dir.path().join("pg"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg-cluster {cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn stop(&self) {
        Cluster::run("stop", &self.dir);
    }

    fn restart(&self) {
        Cluster::run("start", &self.dir);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| self.stop());
    }
}

/// A request that must finish well before a client would give up: no hanging on a dead
/// database.
async fn timed(server: &Server, method: Method, path: &str) -> (u16, Value) {
    let started = Instant::now();
    let answer = server.call(method, path, Some(OWNER_KEY), None).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{path} took {:?}",
        started.elapsed()
    );
    answer
}

#[tokio::test]
async fn postgres_stopped_while_serving_gives_503_then_recovers_by_itself() {
    if postgres_server().is_none() {
        return;
    }
    let cluster = Cluster::start();
    let database = format!("{}/postgres", cluster.url);
    let dir = TempDir::new().unwrap();
    let server = Server::start_in(dir.path(), &[("CREDVAULT_DATABASE_URL", &database)]).unwrap();
    let team = server.team("outage").await;
    let (status, created) = server
        .create_credential(OWNER_KEY, jwt_body(team, "survivor"))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    mint_ok(&server, id, None).await;

    cluster.stop();
    let (status, body) = timed(&server, Method::GET, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    let (status, body) = timed(&server, Method::GET, "/healthz").await;
    assert_eq!(status, 200, "the process is up: {body}");
    for (method, path) in [
        (Method::GET, format!("{CREDENTIALS}/{id}")),
        (Method::GET, CREDENTIALS.to_string()),
        (Method::POST, format!("{CREDENTIALS}/{id}/token")),
    ] {
        let (status, body) = timed(&server, method.clone(), &path).await;
        assert_eq!(status, 503, "{method} {path}: {body}");
        assert!(body["errors"][0]["message"].is_string(), "{body}");
    }

    cluster.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = timed(&server, Method::GET, "/readyz").await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz still {status} after PostgreSQL came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, got) = server.get(&format!("{CREDENTIALS}/{id}"), OWNER_KEY).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["name"], "survivor");
    mint_ok(&server, id, None).await;
    let logs = server.logs();
    assert!(!logs.contains("panicked"), "{logs}");
}

#[tokio::test]
async fn an_unreachable_postgres_at_start_is_a_clear_error_without_the_password() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = TempDir::new().unwrap();
    let url = format!("postgres://credvault:pw-s3cret-value@127.0.0.1:{port}/credvault");
    let Err(failure) = Server::start_in(dir.path(), &[("CREDVAULT_DATABASE_URL", &url)]) else {
        panic!("started without a database")
    };
    assert!(!failure.success, "must exit with an error status");
    assert!(
        failure.logs.contains(&format!(
            "cannot connect to PostgreSQL at 127.0.0.1:{port}/credvault"
        )),
        "{}",
        failure.logs
    );
    assert!(
        !failure.logs.contains("pw-s3cret-value"),
        "{}",
        failure.logs
    );
}

#[tokio::test]
async fn three_instances_starting_at_once_on_an_empty_database_all_serve() {
    // The deployment of docs/deployment.md: one master key for all, given to each; the
    // instances race to migrate the schema, store the key check and create the owner.
    let dir = TempDir::new().unwrap();
    let key = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=";
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let dir = dir.path().to_path_buf();
            std::thread::spawn(move || Server::start_in(&dir, &[("CREDVAULT_MASTER_KEY", key)]))
        })
        .collect();
    let servers: Vec<Server> = starts
        .into_iter()
        .map(|start| {
            start
                .join()
                .unwrap()
                .unwrap_or_else(|f| panic!("an instance failed to start: {}", f.logs))
        })
        .collect();
    let team = servers[0].team("started together").await;
    let (status, created) = servers[1]
        .create_credential(OWNER_KEY, jwt_body(team, "shared"))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    for server in &servers {
        mint_ok(server, id, None).await;
        let (status, users) = server.get("/api/v1/admin/users", OWNER_KEY).await;
        assert_eq!(status, 200);
        assert_eq!(users["meta"]["count"], 1, "one owner: {users}");
    }
}

#[tokio::test]
async fn the_pool_size_caps_connections_to_postgres() {
    let Some(server_url) = postgres_server() else {
        return;
    };
    let database = fresh_postgres_database(&server_url);
    let name = database.rsplit('/').next().unwrap().to_string();
    let dir = TempDir::new().unwrap();
    let server = Arc::new(
        Server::start_in(
            dir.path(),
            &[
                ("CREDVAULT_DATABASE_URL", &database),
                ("CREDVAULT_DATABASE_POOL_SIZE", "2"),
            ],
        )
        .unwrap(),
    );
    let team = server.team("pool").await;
    let statuses = race(
        std::slice::from_ref(&server),
        30,
        CREDENTIALS,
        jwt_body(team, "pooled"),
    )
    .await;
    assert_eq!(statuses, BTreeMap::from([(201, 1), (409, 29)]));
    let connections = psql(
        &server_url,
        &format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}'"),
    );
    let connections: u32 = connections.parse().unwrap();
    assert!(
        (1..=2).contains(&connections),
        "{connections} connections open to {name}, pool size 2"
    );
}
