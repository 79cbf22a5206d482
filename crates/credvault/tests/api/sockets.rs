//! Connection hygiene (API.md §12) at the socket: header, body and idle deadlines, the
//! connection cap, and the files the server creates. Deadlines are set to a second or two, so
//! that each test waits only that long; every wait is bounded, so a regression fails instead of
//! hanging.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

async fn connect(server: &Server) -> TcpStream {
    let addr = server.base.trim_start_matches("http://");
    TcpStream::connect(addr).await.unwrap()
}

/// Reads until the server closes the connection; returns what it sent and how long that took,
/// or None if it was still open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<(String, Duration)> {
    let started = Instant::now();
    let mut received = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| {
        (
            String::from_utf8_lossy(&received).into_owned(),
            started.elapsed(),
        )
    })
}

/// One complete keep-alive request; returns the response head and body.
async fn request_on(stream: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let n = tokio::time::timeout(left, stream.read(&mut buf))
            .await
            .expect("response within 5 s")
            .unwrap();
        assert!(n > 0, "closed before the response was complete: {text}");
        received.extend_from_slice(&buf[..n]);
    }
}

fn start(env: &[(&str, &str)]) -> (TempDir, Server) {
    let tmp = TempDir::new().unwrap();
    let server = Server::start_in(tmp.path(), env).unwrap();
    (tmp, server)
}

#[tokio::test]
async fn half_sent_headers_are_cut_off_while_others_are_served() {
    let (_tmp, server) = start(&[("CREDVAULT_HEADER_TIMEOUT_SECONDS", "1")]);
    let connected = Instant::now();
    let mut slow = connect(&server).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (status, _) = server
        .call(reqwest::Method::GET, "/healthz", None, None)
        .await;
    assert_eq!(status, 200);
    let (sent, _) = closed_within(&mut slow, Duration::from_secs(5))
        .await
        .expect("the half-sent request was still open after 5 s");
    let after = connected.elapsed();
    assert!(
        after >= Duration::from_millis(900),
        "closed after only {after:?}"
    );
    assert!(!sent.contains("200 OK"), "{sent}");
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_at_the_header_deadline() {
    let (_tmp, server) = start(&[
        ("CREDVAULT_HEADER_TIMEOUT_SECONDS", "1"),
        ("CREDVAULT_IDLE_TIMEOUT_SECONDS", "30"),
    ]);
    let mut silent = connect(&server).await;
    let (_, after) = closed_within(&mut silent, Duration::from_secs(5))
        .await
        .expect("a silent connection was still open after 5 s");
    assert!(after < Duration::from_secs(3), "{after:?}");
}

#[tokio::test]
async fn headers_dribbled_a_byte_at_a_time_still_meet_one_deadline() {
    let (_tmp, server) = start(&[("CREDVAULT_HEADER_TIMEOUT_SECONDS", "1")]);
    let mut slow = connect(&server).await;
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaa\r\n\r\n";
    let started = Instant::now();
    for byte in request {
        if slow.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        if started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    let (sent, _) = closed_within(&mut slow, Duration::from_secs(2))
        .await
        .expect("the dribbling connection was still open");
    assert!(
        !sent.contains("200 OK"),
        "answered a request that took {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_body_that_does_not_arrive_gets_408() {
    let (_tmp, server) = start(&[("CREDVAULT_BODY_TIMEOUT_SECONDS", "1")]);
    let mut slow = connect(&server).await;
    let head = format!(
        "POST /api/v1/teams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {OWNER_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\": \""
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let (sent, after) = closed_within(&mut slow, Duration::from_secs(5))
        .await
        .expect("no answer 5 s after the body stalled");
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(
        sent.contains(r#"{"errors":[{"message":"the request body did not arrive in time"}]}"#),
        "{sent}"
    );
    assert!(after < Duration::from_secs(3), "{after:?}");
    let (status, teams) = server.get("/api/v1/teams", OWNER_KEY).await;
    assert_eq!(status, 200);
    assert_eq!(
        teams["meta"]["count"], 0,
        "the half-sent team was created: {teams}"
    );
}

#[tokio::test]
async fn idle_keep_alive_connections_close_at_their_own_deadline() {
    let (_tmp, server) = start(&[
        ("CREDVAULT_HEADER_TIMEOUT_SECONDS", "1"),
        ("CREDVAULT_IDLE_TIMEOUT_SECONDS", "3"),
    ]);
    let mut conn = connect(&server).await;
    assert!(request_on(&mut conn, "/healthz")
        .await
        .starts_with("HTTP/1.1 200"));
    // Idle past the header deadline: still open, because the idle deadline is longer.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(request_on(&mut conn, "/healthz")
        .await
        .starts_with("HTTP/1.1 200"));
    let (_, after) = closed_within(&mut conn, Duration::from_secs(6))
        .await
        .expect("an idle connection was still open 6 s after its last response");
    assert!(
        after >= Duration::from_secs(2),
        "closed after only {after:?}"
    );
}

#[tokio::test]
async fn a_slow_request_on_a_keep_alive_connection_meets_the_header_deadline() {
    let (_tmp, server) = start(&[
        ("CREDVAULT_HEADER_TIMEOUT_SECONDS", "1"),
        ("CREDVAULT_IDLE_TIMEOUT_SECONDS", "30"),
    ]);
    let mut conn = connect(&server).await;
    assert!(request_on(&mut conn, "/healthz")
        .await
        .starts_with("HTTP/1.1 200"));
    // Idle past the header deadline, so that only the idle deadline is pending, then a request
    // that never finishes its headers.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    conn.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let (sent, after) = closed_within(&mut conn, Duration::from_secs(5))
        .await
        .expect("a half-sent second request was still open after 5 s");
    assert_eq!(sent, "");
    assert!(after < Duration::from_secs(3), "{after:?}");
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_are_closed_and_the_rest_served() {
    let (_tmp, server) = start(&[("CREDVAULT_MAX_CONNECTIONS", "4")]);
    assert!(
        server.logs().contains("max_connections=4"),
        "{}",
        server.logs()
    );
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect(&server).await);
    }
    // Let the server accept all four before the fifth arrives.
    assert!(request_on(&mut held[0], "/healthz")
        .await
        .starts_with("HTTP/1.1 200"));
    let mut refused = connect(&server).await;
    let (sent, _) = closed_within(&mut refused, Duration::from_secs(2))
        .await
        .expect("the fifth connection was kept open");
    assert_eq!(sent, "");
    // The held ones are still served.
    assert!(request_on(&mut held[1], "/healthz")
        .await
        .starts_with("HTTP/1.1 200"));
    // Once two go away, new connections are served again.
    held.truncate(2);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let mut fresh = connect(&server).await;
        let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        let _ = fresh.write_all(request).await;
        let mut buf = [0u8; 64];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(1), fresh.read(&mut buf)).await
        {
            if String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200") {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no new connection was served after two closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_open_file_limit_is_raised_to_the_hard_limit() {
    let (_tmp, server) = start(&[]);
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let hard: String = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4))
        .unwrap()
        .to_string();
    let logs = server.logs();
    assert!(
        logs.contains(&format!("open_files={hard}")),
        "hard limit {hard}; logs:\n{logs}"
    );
}

#[tokio::test]
async fn everything_in_the_data_directory_is_private() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = Server::start_in(&dir, &[]).unwrap();
    let team_id = server.team("Files").await;
    let (status, _) = server
        .create_credential(OWNER_KEY, jwt_body(team_id, "c"))
        .await;
    assert_eq!(status, 201);

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "data directory");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert_eq!(mode(&path), 0o600, "{name}");
        seen.push(name);
    }
    assert!(seen.contains(&"master.key".to_string()), "{seen:?}");
    if !on_postgres() {
        for name in ["credvault.db", "credvault.db-wal", "credvault.db-shm"] {
            assert!(
                seen.contains(&name.to_string()),
                "{name} missing from {seen:?}"
            );
        }
    }
}
