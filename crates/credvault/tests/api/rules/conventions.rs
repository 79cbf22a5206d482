//! API.md §2 conventions: request bodies and content types, pagination parameters, unknown
//! routes and methods, and a missing key.

use reqwest::Method;
use serde_json::json;

use super::*;
use crate::support::*;

#[tokio::test]
async fn request_convention_rules() {
    let server = Server::start();
    let team = server.team("Rules Conventions").await;
    let text_body = |name: &str| json!({ "name": name, "mode": "TEXT", "team_id": team, "value": "convention value" });

    let raw = |content_type: Option<&str>, body: Vec<u8>| {
        let mut req = server
            .request(Method::POST, CREDENTIALS)
            .bearer_auth(OWNER_KEY);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.body(body)
    };
    let json_ct = Some("application/json");
    let valid = serde_json::to_vec(&text_body("raw ok")).unwrap();
    let mut big = text_body("too big");
    big["padding"] = json!("a".repeat(1_100 * 1024));
    let big = serde_json::to_vec(&big).unwrap();
    assert!(big.len() > 1024 * 1024);

    #[rustfmt::skip]
    let raw_cases: Vec<(&str, reqwest::RequestBuilder, Want)> = vec![
        ("body not JSON", raw(json_ct, b"{\"name\": ".to_vec()), err(400, None, "JSON")),
        ("body a JSON array", raw(json_ct, b"[{\"name\": \"x\"}]".to_vec()), err(400, None, "object")),
        ("body a JSON string", raw(json_ct, b"\"text\"".to_vec()), err(400, None, "object")),
        ("body JSON null", raw(json_ct, b"null".to_vec()), err(400, None, "object")),
        ("body empty", raw(json_ct, Vec::new()), err(400, None, "empty")),
        ("body only whitespace", raw(json_ct, b" \n ".to_vec()), err(400, None, "empty")),
        ("content type text/plain", raw(Some("text/plain"), valid.clone()), err(415, None, "JSON")),
        ("content type form", raw(Some("application/x-www-form-urlencoded"), b"name=x".to_vec()), err(415, None, "JSON")),
        ("body over 1 MiB", raw(json_ct, big), err(413, None, "1 MiB")),
        ("content type with charset", raw(Some("application/json; charset=utf-8"), valid), ok(201, vec![("name", json!("raw ok"))])),
    ];
    let mut failed = Vec::new();
    for (name, req, want) in raw_cases {
        let (status, body) = Server::read(req).await;
        if !check(name, status, &body, &want) {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "failed cases: {failed:?}");

    let get = Method::GET;
    let o = OWNER_KEY;
    #[rustfmt::skip]
    let calls = vec![
        call("unknown fields are ignored", Method::POST, CREDENTIALS, o, Some(json!({ "name": "extra", "mode": "TEXT", "team_id": team, "value": "v", "guid": "x", "live": true, "nested": {"a": [1]} })), ok(201, vec![("name", json!("extra")), ("mode", json!("TEXT"))])),
        call("page 0", get.clone(), "/api/v1/teams?page=0", o, None, err(422, Some("page"), "page")),
        call("page negative", get.clone(), "/api/v1/teams?page=-3", o, None, err(422, Some("page"), "page")),
        call("page not a number", get.clone(), "/api/v1/teams?page=abc", o, None, err(422, Some("page"), "page")),
        call("page 0 on users", get.clone(), "/api/v1/admin/users?page=0", o, None, err(422, Some("page"), "page")),
        call("page 0 on folders", get.clone(), "/api/v1/folders?page=0", o, None, err(422, Some("page"), "page")),
        call("per_page clamped", get.clone(), "/api/v1/teams?per_page=100000", o, None, ok(200, vec![("meta/per_page", json!(500))])),
        call("non-numeric credential id", get.clone(), format!("{CREDENTIALS}/abc"), o, None, err(404, None, "not found")),
        call("unknown credential id", get.clone(), format!("{CREDENTIALS}/999999"), o, None, err(404, None, "not found")),
        call("unknown route under /api/v1", get.clone(), "/api/v1/no_such_thing", o, None, err(404, None, "route")),
        call("unknown route", get.clone(), "/no/such/route", o, None, err(404, None, "route")),
        call("wrong method on a collection", Method::DELETE, "/api/v1/teams", o, None, err(405, None, "method")),
        call("wrong method on a team", Method::POST, format!("/api/v1/teams/{team}"), o, None, err(405, None, "method")),
        call("wrong method on folders", Method::PATCH, "/api/v1/folders", o, None, err(405, None, "method")),
    ];
    run_calls(&server, calls).await;

    // A valid request without a key: 401 with the error body.
    let (status, body) = server
        .call(Method::POST, CREDENTIALS, None, Some(text_body("no key")))
        .await;
    assert_error(status, &body, 401, None, "API key");
}
