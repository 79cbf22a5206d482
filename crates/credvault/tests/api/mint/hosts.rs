//! `allowed_hosts` (API.md §4.5) decide which targets a restricted credential mints for.

use serde_json::{json, Value};

use crate::support::*;

#[derive(Clone, Copy, Debug)]
enum Target {
    Url(&'static str),
    Host(&'static str),
}
use Target::{Host, Url};

impl Target {
    fn body(self) -> Value {
        match self {
            Url(url) => json!({ "url": url }),
            Host(host) => json!({ "host": host }),
        }
    }
}

const API: &[&str] = &["api.example.com"];
const WILDCARD: &[&str] = &["*.example.com"];
const PORT: &[&str] = &["api.example.com:8443"];
const PATH: &[&str] = &["api.example.com/v1/*"];
const SCHEME: &[&str] = &["https://api.example.com/*"];
const SEVERAL: &[&str] = &["a.example.org", "b.example.net"];

/// (allowed_hosts, target, whether it mints)
#[rustfmt::skip]
const TABLE: &[(&[&str], Target, bool)] = &[
    // a plain host
    (API, Url("https://api.example.com/v1/x"), true),
    (API, Url("http://api.example.com/"), true),
    (API, Url("https://API.Example.COM/"), true),
    (API, Url("https://api.example.com./"), true),
    (API, Url("https://api.example.com:8443/"), true),
    (API, Url("https://user:pw@api.example.com/"), true),
    (API, Url("https://other.example.com/"), false),
    (API, Url("https://example.com/"), false),
    (API, Url("https://api.example.com.evil.org/"), false),
    (API, Url("https://api.example.com@evil.org/"), false),
    (API, Host("api.example.com"), true),
    (API, Host("API.EXAMPLE.COM"), true),
    (API, Host("api.example.com:8443"), true),
    (API, Host("api.example.com."), true),
    (API, Host("evil.org"), false),
    (&["API.Example.COM"], Url("https://api.example.com/"), true),
    (&["api.example.com."], Url("https://api.example.com/"), true),
    // a wildcard
    (WILDCARD, Url("https://a.example.com/"), true),
    (WILDCARD, Url("https://a.b.example.com/"), true),
    (WILDCARD, Url("https://example.com/"), true),
    (WILDCARD, Url("https://A.EXAMPLE.COM/"), true),
    (WILDCARD, Url("https://evil-example.com/"), false),
    (WILDCARD, Url("https://notexample.com/"), false),
    (WILDCARD, Url("https://example.com.evil.org/"), false),
    (WILDCARD, Url("https://a.example.com.evil.org/"), false),
    (WILDCARD, Url("https://example.com@evil.org/"), false),
    (WILDCARD, Url("https://a.example.com:8443@evil.org/"), false),
    (WILDCARD, Host("evil-example.com"), false),
    (WILDCARD, Host("x.example.com"), true),
    // a port
    (PORT, Url("https://api.example.com:8443/"), true),
    (PORT, Url("https://api.example.com/"), false),
    (PORT, Url("https://api.example.com:9443/"), false),
    (PORT, Host("api.example.com:8443"), true),
    (PORT, Host("api.example.com"), false),
    // a path
    (PATH, Url("https://api.example.com/v1/users"), true),
    (PATH, Url("http://api.example.com/v1/users"), true),
    (PATH, Url("https://api.example.com/v2/users"), false),
    (PATH, Url("https://other.example.com/v1/users"), false),
    // a scheme
    (SCHEME, Url("https://api.example.com/anything"), true),
    (SCHEME, Url("HTTPS://API.EXAMPLE.COM/anything"), true),
    (SCHEME, Url("http://api.example.com/anything"), false),
    (SCHEME, Url("https://evil.org/api.example.com/x"), false),
    // several patterns
    (SEVERAL, Url("https://b.example.net/"), true),
    (SEVERAL, Host("a.example.org"), true),
    (SEVERAL, Url("https://c.example.net/"), false),
];

/// A credential of a new team restricted to `patterns`.
async fn restricted(server: &Server, patterns: &[&str]) -> i64 {
    let team = server.team("hosts").await;
    let mut body = jwt_body(team, "restricted");
    body["allowed_hosts"] = json!(patterns);
    create_ok(server, body).await
}

#[tokio::test]
async fn allowed_hosts_decide_who_gets_a_token() {
    let server = Server::start();
    let team = server.team("hosts").await;
    let mut ids: Vec<(&[&str], i64)> = Vec::new();
    let mut failed = Vec::new();
    for (patterns, target, allow) in TABLE {
        let id = if let Some((_, id)) = ids.iter().find(|(p, _)| p == patterns) {
            *id
        } else {
            let mut body = jwt_body(team, &format!("hosts {}", ids.len()));
            body["allowed_hosts"] = json!(patterns);
            let id = create_ok(&server, body).await;
            ids.push((patterns, id));
            id
        };
        let body = target.body();
        let (status, resp) = mint(&server, Some(OWNER_KEY), id, Some(body.clone())).await;
        let want = if *allow { 200 } else { 403 };
        let name = format!("{patterns:?} vs {target:?} → {want}");
        cell(
            &mut failed,
            name,
            &format!("POST {} {body}", token_path(id)),
            || {
                if *allow {
                    assert_eq!(status, 200, "{resp}");
                    assert!(resp["token"].is_string(), "{resp}");
                } else {
                    assert_refused(status, &resp, 403);
                }
            },
        );
    }
    assert_no_failures("allowed_hosts", TABLE.len(), &failed);
}

#[tokio::test]
async fn a_restricted_credential_needs_a_url_or_host_and_malformed_ones_are_422() {
    let server = Server::start();
    let id = restricted(&server, API).await;
    #[rustfmt::skip]
    let checks: Vec<(&str, Option<Value>, u16, Option<&str>)> = vec![
        ("restricted, no body", None, 403, None),
        ("restricted, {}", Some(json!({})), 403, None),
        ("restricted, url not a URL", Some(json!({ "url": "not-a-url" })), 422, Some("url")),
        ("restricted, url with a bad port", Some(json!({ "url": "https://api.example.com:notaport/" })), 422, Some("url")),
        ("restricted, host with a space", Some(json!({ "host": "bad host" })), 422, Some("host")),
    ];
    let mut failed = Vec::new();
    for (name, body, want, field) in &checks {
        let (status, resp) = mint(&server, Some(OWNER_KEY), id, body.clone()).await;
        let request = format!("POST {} {body:?}", token_path(id));
        cell(&mut failed, name.to_string(), &request, || match field {
            Some(field) => assert_error(status, &resp, *want, Some(field), field),
            None => assert_refused(status, &resp, *want),
        });
    }
    assert_no_failures("restricted targets", checks.len(), &failed);
}

#[tokio::test]
async fn an_unrestricted_credential_mints_with_or_without_a_url_or_host() {
    let server = Server::start();
    let team = server.team("hosts").await;
    let open = create_ok(&server, jwt_body(team, "unrestricted")).await;
    let bodies = [
        None,
        Some(json!({ "url": "https://anywhere.example.org/x" })),
        Some(json!({ "host": "anywhere.example.org" })),
    ];
    let mut failed = Vec::new();
    for body in &bodies {
        let (status, resp) = mint(&server, Some(OWNER_KEY), open, body.clone()).await;
        let request = format!("POST {} {body:?}", token_path(open));
        cell(
            &mut failed,
            format!("unrestricted {body:?}"),
            &request,
            || assert_eq!(status, 200, "{resp}"),
        );
    }
    assert_no_failures("unrestricted targets", bodies.len(), &failed);
}
