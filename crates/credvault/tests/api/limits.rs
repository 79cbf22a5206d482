//! Rate limiting and metrics.

use reqwest::Method;
use serde_json::json;
use tempfile::TempDir;

use crate::support::*;

#[tokio::test]
async fn over_the_rate_limit_gets_429_with_retry_after_then_passes_again() {
    let tmp = TempDir::new().unwrap();
    let server =
        Server::start_in(tmp.path(), &[("CREDVAULT_RATE_LIMIT_PER_MINUTE", "120")]).unwrap();
    // The key's first request counts against the shared bucket of unknown callers (the key
    // is not known to be real before it has authenticated); the next 120 against its own.
    for i in 0..121 {
        let (status, body) = server.get("/api/v1/teams", OWNER_KEY).await;
        assert_eq!(status, 200, "request {i}: {body}");
    }
    let resp = server
        .request(Method::GET, "/api/v1/teams")
        .bearer_auth(OWNER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_error(429, &body, 429, None, "rate limit");

    // Health, readiness and metrics are never limited.
    for path in ["/healthz", "/readyz", "/metrics"] {
        let status = server
            .request(Method::GET, path)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 200, "{path}");
    }
    // A wrong key is not the owner: it counts against the unknown callers' bucket.
    let (status, _) = server.get("/api/v1/teams", "cvk_someone_else").await;
    assert_eq!(status, 401);

    // Two tokens a second come back: after the Retry-After, requests pass again. (Real time
    // must pass inside the server for the bucket to refill: nothing to poll.)
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _) = server.get("/api/v1/teams", OWNER_KEY).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_credentials_by_mode() {
    let server = Server::start();
    let team_id = server.team("Metrics").await;
    for name in ["a", "b"] {
        let (status, _) = server
            .create_credential(OWNER_KEY, jwt_body(team_id, name))
            .await;
        assert_eq!(status, 201);
    }
    let (status, _) = server
        .create_credential(
            OWNER_KEY,
            json!({ "name": "t", "mode": "TEXT", "team_id": team_id, "value": "v" }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        server.get("/api/v1/user_credentials/1", OWNER_KEY).await.0,
        200
    );
    assert_eq!(
        server.get("/api/v1/user_credentials/99", OWNER_KEY).await.0,
        404
    );

    let text = server.metrics().await;
    for line in [
        r#"credvault_http_requests_total{route="/api/v1/user_credentials",method="POST",status="201"} 3"#,
        r#"credvault_http_requests_total{route="/api/v1/user_credentials/{id}",method="GET",status="200"} 1"#,
        r#"credvault_http_requests_total{route="/api/v1/user_credentials/{id}",method="GET",status="404"} 1"#,
        r#"credvault_http_request_duration_seconds_count{route="/api/v1/user_credentials"} 3"#,
        r#"credvault_http_request_duration_seconds_bucket{route="/api/v1/user_credentials",le="+Inf"} 3"#,
        r#"credvault_credentials{mode="JWT"} 2"#,
        r#"credvault_credentials{mode="TEXT"} 1"#,
        "# TYPE credvault_http_request_duration_seconds histogram",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
}
