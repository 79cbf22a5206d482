//! The public issuer of asymmetric JWT credentials (API.md §6): `issuer_url`, `jwks_url`,
//! `jwt_key_id` and `jwt_key_rotated_at` on the credential, the JWKS and the OpenID discovery
//! document without an API key, and `iss` filled with the issuer URL.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

/// An ES256 credential with `payload`, in a team of its own; returns its id and response
/// object.
async fn es256(server: &Server, payload: Value) -> (i64, Value) {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let team = server.team(&format!("issuers {n}")).await;
    let mut body = jwt_credential(
        team,
        "issuer",
        "ES256",
        &fixture_key("ec-p256-pkcs8.pem"),
        600,
    );
    body["jwt_payload"] = payload;
    let (status, created) = server.create_credential(OWNER_KEY, body).await;
    assert_eq!(status, 201, "{created}");
    (id_of(&created), created)
}

/// The path of `url` on `server`.
fn path_of(server: &Server, url: &Value) -> String {
    let url = url.as_str().unwrap_or_else(|| panic!("not a URL: {url}"));
    url.strip_prefix(&server.base)
        .unwrap_or_else(|| panic!("{url} is not on {}", server.base))
        .to_string()
}

/// GET without an API key: status, Cache-Control and the JSON body.
async fn public_get(server: &Server, path: &str) -> (u16, Option<String>, Value) {
    let resp = server.request(Method::GET, path).send().await.unwrap();
    let status = resp.status().as_u16();
    let cache = resp
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_string());
    (status, cache, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_asymmetric_credential_shows_its_public_issuer() {
    let server = Server::start();
    let (id, created) = es256(&server, json!({ "sub": "svc" })).await;
    let issuer_url = created["issuer_url"].as_str().unwrap();
    let issuer_id = issuer_url
        .strip_prefix(&format!("{}/issuers/", server.base))
        .unwrap_or_else(|| panic!("{issuer_url}"));
    assert_eq!(issuer_id.len(), 32, "128 bits in hex: {issuer_id}");
    assert!(
        issuer_id.chars().all(|c| c.is_ascii_hexdigit()),
        "{issuer_id}"
    );
    assert_eq!(created["jwks_url"], format!("{issuer_url}/jwks.json"));
    assert_eq!(created["jwt_key_id"], jwk_of(&server, id).await["kid"]);
    assert_eq!(created["jwt_key_rotated_at"], Value::Null);
    let (_, read) = server.get(&cred_path(id), OWNER_KEY).await;
    for field in ["issuer_url", "jwks_url", "jwt_key_id", "jwt_key_rotated_at"] {
        assert_eq!(read[field], created[field], "{field}");
    }
}

#[tokio::test]
async fn an_hmac_credential_has_no_issuer_and_its_old_issuer_is_gone() {
    let server = Server::start();
    let (id, created) = es256(&server, json!({})).await;
    let jwks = path_of(&server, &created["jwks_url"]);
    let change =
        json!({ "mode": "JWT", "jwt_algorithm": "HS256", "jwt_private_key": "a shared secret" });
    let updated = put_ok(&server, id, change).await;
    for field in ["issuer_url", "jwks_url", "jwt_key_id", "jwt_key_rotated_at"] {
        assert_eq!(updated[field], Value::Null, "{field}: {updated}");
    }
    let (status, _, body) = public_get(&server, &jwks).await;
    assert_error(status, &body, 404, None, "no such issuer");
}

#[tokio::test]
async fn the_public_jwks_is_the_credentials_jwks_without_an_api_key() {
    let server = Server::start();
    let (id, created) = es256(&server, json!({ "sub": "svc" })).await;
    let (status, cache, public) =
        public_get(&server, &path_of(&server, &created["jwks_url"])).await;
    assert_eq!(status, 200, "{public}");
    assert_eq!(cache.as_deref(), Some("public, max-age=60"));
    let (_, private) = server.get(&jwks_path(id), OWNER_KEY).await;
    assert_eq!(public, private);
    let token = token_of(&mint_ok(&server, id, None).await);
    let jwk = &public["keys"][0];
    assert_eq!(split_jws(&token).header["kid"], jwk["kid"]);
    assert!(verifies_with_jwk(&token, jwk, "ES256"));
}

#[tokio::test]
async fn discovery_names_the_issuer_its_keys_and_its_claims() {
    let server = Server::start();
    let (_, created) = es256(&server, json!({ "sub": "svc", "aud": "api", "exp": 1 })).await;
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        path_of(&server, &created["issuer_url"])
    );
    let (status, cache, doc) = public_get(&server, &discovery).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(cache.as_deref(), Some("public, max-age=60"));
    assert_eq!(
        doc,
        json!({
            "issuer": created["issuer_url"],
            "jwks_uri": created["jwks_url"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "claims_supported": ["sub", "aud", "exp", "iss", "iat"],
        })
    );
}

#[tokio::test]
async fn tokens_without_an_iss_carry_the_issuer_url_and_others_keep_theirs() {
    let server = Server::start();
    for (payload, want_iss) in [
        (json!({ "sub": "svc" }), None),
        (json!({ "iss": "" }), None),
        (
            json!({ "iss": "https://partner.example" }),
            Some("https://partner.example"),
        ),
    ] {
        let (id, created) = es256(&server, payload.clone()).await;
        let token = token_of(&mint_ok(&server, id, None).await);
        let want = want_iss.map_or_else(|| created["issuer_url"].clone(), Value::from);
        assert_eq!(split_jws(&token).payload["iss"], want, "payload {payload}");
    }
    let team = server.team("hmac").await;
    let mut hmac = jwt_credential(team, "hmac", "HS256", "a shared secret", 600);
    hmac["jwt_payload"] = json!({ "sub": "svc" });
    let id = create_ok(&server, hmac).await;
    let token = token_of(&mint_ok(&server, id, None).await);
    assert_eq!(
        split_jws(&token).payload.get("iss"),
        None,
        "HS* has no issuer"
    );
}

#[tokio::test]
async fn unknown_and_deleted_issuers_are_not_found() {
    let server = Server::start();
    let (id, created) = es256(&server, json!({})).await;
    let issuer = path_of(&server, &created["issuer_url"]);
    let (status, _) = server.delete(&cred_path(id), OWNER_KEY).await;
    assert_eq!(status, 204);
    for path in [
        format!("{issuer}/jwks.json"),
        format!("{issuer}/.well-known/openid-configuration"),
        "/issuers/0123456789abcdef0123456789abcdef/jwks.json".to_string(),
    ] {
        let (status, _, body) = public_get(&server, &path).await;
        assert_error(status, &body, 404, None, "no such issuer");
    }
}

#[tokio::test]
async fn a_new_key_changes_the_key_id_and_records_when() {
    let server = Server::start();
    let (id, created) = es256(&server, json!({})).await;
    let before = now_secs();
    let change = json!({ "mode": "JWT", "jwt_generate_key": true });
    let updated = put_ok(&server, id, change).await;
    assert_ne!(updated["jwt_key_id"], created["jwt_key_id"]);
    assert_eq!(updated["jwt_key_id"], jwk_of(&server, id).await["kid"]);
    let rotated = rfc3339_millis(&updated["jwt_key_rotated_at"]) / 1000;
    assert!(
        before - 2 <= rotated && rotated <= now_secs() + 2,
        "{updated}"
    );
    let renamed = put_ok(&server, id, json!({ "mode": "JWT", "name": "renamed" })).await;
    assert_eq!(
        renamed["jwt_key_rotated_at"], updated["jwt_key_rotated_at"],
        "a rename is no rotation"
    );
}

#[tokio::test]
async fn the_public_endpoints_are_rate_limited_per_client() {
    let tmp = tempfile::TempDir::new().unwrap();
    let server = Server::start_in(tmp.path(), &[("CREDVAULT_RATE_LIMIT_PER_MINUTE", "6")]).unwrap();
    let path = "/issuers/0123456789abcdef0123456789abcdef/jwks.json";
    for _ in 0..6 {
        let (status, _, _) = public_get(&server, path).await;
        assert_eq!(status, 404);
    }
    let (status, _, body) = public_get(&server, path).await;
    assert_error(status, &body, 429, None, "rate limit");
}

#[tokio::test]
async fn a_replaced_key_stays_published_until_its_tokens_have_expired() {
    // 2 s tokens and no token reuse: the old key stays published for 2 s after the change.
    let tmp = tempfile::TempDir::new().unwrap();
    let server = Server::start_in(tmp.path(), &[("CREDVAULT_TOKEN_CACHE_SECONDS", "0")]).unwrap();
    let team = server.team("retiring").await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let (status, created) = server
        .create_credential(
            OWNER_KEY,
            jwt_credential(team, "retiring", "ES256", &key, 2),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = id_of(&created);
    let old_token = token_of(&mint_ok(&server, id, None).await);
    let updated = put_ok(
        &server,
        id,
        json!({ "mode": "JWT", "jwt_generate_key": true }),
    )
    .await;
    let new_token = token_of(&mint_ok(&server, id, None).await);

    let jwks = path_of(&server, &created["jwks_url"]);
    let (_, _, set) = public_get(&server, &jwks).await;
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "the current key and the retired one: {set}");
    assert_eq!(
        keys[0]["kid"], updated["jwt_key_id"],
        "the current key comes first"
    );
    assert_eq!(keys[1]["kid"], created["jwt_key_id"]);
    assert!(verifies_with_jwk(&new_token, &keys[0], "ES256"));
    assert!(verifies_with_jwk(&old_token, &keys[1], "ES256"));
    let (_, private) = server.get(&jwks_path(id), OWNER_KEY).await;
    assert_eq!(private, set, "both JWKS documents publish the same keys");

    // Real time must pass inside the server for the retired key's window to close.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (_, _, set) = public_get(&server, &jwks).await;
    assert_eq!(set["keys"].as_array().unwrap().len(), 1, "{set}");
    assert_eq!(set["keys"][0]["kid"], updated["jwt_key_id"]);
}

#[tokio::test]
async fn a_credential_without_a_recorded_key_id_gets_it_at_the_next_start() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut server = Server::start_in(dir.path(), &[]).unwrap();
    let (id, created) = es256(&server, json!({})).await;
    assert!(server.stop());
    // As rows written before the key_id column came.
    server.run_sql(&format!(
        "UPDATE credentials SET key_id = NULL WHERE id = {id}"
    ));
    let server = Server::start_in(dir.path(), &[]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let (_, read) = server.get(&cred_path(id), OWNER_KEY).await;
        if read["jwt_key_id"] == created["jwt_key_id"] {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never filled: {read}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn key_changes_in_a_loop_publish_at_most_the_newest_hundred_retired_keys() {
    let server = Server::in_process().await;
    let (id, _) = es256(&server, json!({})).await;
    let mut last = Value::Null;
    for _ in 0..103 {
        last = put_ok(
            &server,
            id,
            json!({ "mode": "JWT", "jwt_generate_key": true }),
        )
        .await;
    }
    let (status, set) = server.get(&jwks_path(id), OWNER_KEY).await;
    assert_eq!(status, 200);
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(
        keys.len(),
        101,
        "the current key and the newest 100 retired ones"
    );
    assert_eq!(keys[0]["kid"], last["jwt_key_id"]);
    let (status, _) = server.delete(&cred_path(id), OWNER_KEY).await;
    assert_eq!(status, 204, "a credential with many retired keys deletes");
}
