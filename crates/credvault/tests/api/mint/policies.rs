//! Expiry (`expires_at`) and test credentials (API.md §4.6) decide whether and with which key
//! a credential mints.

use serde_json::{json, Value};

use crate::support::*;

/// A credential of `team` expiring at `expires_at`.
async fn expiring(server: &Server, team: i64, name: &str, expires_at: &str) -> i64 {
    let mut body = jwt_body(team, name);
    body["expires_at"] = json!(expires_at);
    create_ok(server, body).await
}

#[tokio::test]
async fn an_expired_credential_is_refused_and_one_expiring_later_mints() {
    let server = Server::start();
    let team = server.team("policies").await;
    let expired = expiring(&server, team, "expired", "2020-01-01T00:00:00.000Z").await;
    let (status, resp) = mint(&server, Some(OWNER_KEY), expired, None).await;
    assert_refused(status, &resp, 403);
    let future = expiring(&server, team, "not yet expired", "2099-01-01T00:00:00.000Z").await;
    mint_ok(&server, future, None).await;
}

#[tokio::test]
async fn an_expiry_set_in_the_past_by_put_refuses_at_once_cached_token_or_not() {
    let server = Server::start();
    let team = server.team("policies").await;
    let id = expiring(&server, team, "not yet expired", "2099-01-01T00:00:00.000Z").await;
    mint_ok(&server, id, None).await;
    let past = json!({ "mode": "JWT", "expires_at": "2021-01-01T00:00:00.000Z" });
    put_ok(&server, id, past).await;
    let (status, resp) = mint(&server, Some(OWNER_KEY), id, None).await;
    assert_refused(status, &resp, 403);
}

/// A live ES256 credential (P-256 key, [`mint_payload`]) with its public JWK, and the public
/// JWK of the other P-256 key its test credential gets.
async fn live_credential(server: &Server) -> (i64, Value, Value) {
    let team = server.team("policies").await;
    let live_key = fixture_key("ec-p256-pkcs8.pem");
    let body = jwt_credential(team, "with a test credential", "ES256", &live_key, 900);
    let live = create_ok(server, body).await;
    let live_jwk = jwk_of(server, live).await;
    let test_jwk = p256_public_jwk("ec-p256-sec1-noparams.pem");
    assert_ne!(live_jwk["x"], test_jwk["x"], "set-up: two different keys");
    (live, live_jwk, test_jwk)
}

/// Attaches the test credential: the other P-256 key, its own payload, 300 s tokens.
async fn attach_test_credential(server: &Server, live: i64) {
    let body = json!({
        "mode": "JWT",
        "live_credential_id": live,
        "jwt_algorithm": "ES256",
        "jwt_payload": { "iss": "credvault-tests-sandbox", "sub": "svc-test" },
        "jwt_auto_generate_time_claims": true,
        "jwt_lifetime_seconds": 300,
        "jwt_private_key": fixture_key("ec-p256-sec1-noparams.pem"),
    });
    let (status, attached) = server.create_credential(OWNER_KEY, body).await;
    assert_eq!(status, 201, "attach: {attached}");
    assert_eq!(attached["id"], live, "{attached}");
    assert_eq!(attached["test_credential_enabled"], true, "{attached}");
}

#[tokio::test]
async fn a_test_mint_of_a_credential_without_a_test_credential_is_refused() {
    let server = Server::start();
    let (live, _, _) = live_credential(&server).await;
    let test = Some(json!({ "test": true }));
    let (status, resp) = mint(&server, Some(OWNER_KEY), live, test).await;
    assert_refused(status, &resp, 403);
}

#[tokio::test]
async fn a_test_mint_signs_the_test_payload_with_the_test_key() {
    let server = Server::start();
    let (live, live_jwk, test_jwk) = live_credential(&server).await;
    attach_test_credential(&server, live).await;
    let resp = mint_ok(&server, live, Some(json!({ "test": true }))).await;
    assert_eq!(resp["test"], true, "{resp}");
    assert_eq!(resp["credential_id"], live, "{resp}");
    assert_eq!(resp["algorithm"], "ES256", "{resp}");
    let token = token_of(&resp);
    let jws = split_jws(&token);
    let iat = jws.payload["iat"].as_i64().unwrap();
    assert_eq!(
        jws.payload,
        json!({ "iss": "credvault-tests-sandbox", "sub": "svc-test", "iat": iat, "exp": iat + 300 })
    );
    assert_eq!(rfc3339_millis(&resp["expires_at"]), (iat + 300) * 1000);
    assert!(
        verifies_with_jwk(&token, &test_jwk, "ES256"),
        "the test token does not verify with the test key"
    );
    assert!(
        !verifies_with_jwk(&token, &live_jwk, "ES256"),
        "the test token verifies with the live key"
    );
}

#[tokio::test]
async fn with_a_test_credential_the_live_one_still_mints_with_the_live_key() {
    let server = Server::start();
    let (live, live_jwk, test_jwk) = live_credential(&server).await;
    attach_test_credential(&server, live).await;
    let resp = mint_ok(&server, live, Some(json!({ "test": false }))).await;
    assert_eq!(resp["test"], false, "{resp}");
    let token = token_of(&resp);
    assert_eq!(
        split_jws(&token).payload["iss"],
        "credvault-tests",
        "{token}"
    );
    assert!(verifies_with_jwk(&token, &live_jwk, "ES256"));
    assert!(!verifies_with_jwk(&token, &test_jwk, "ES256"));
}

#[tokio::test]
async fn a_disabled_test_credential_refuses_test_mints_until_enabled_again() {
    let server = Server::start();
    let (live, live_jwk, test_jwk) = live_credential(&server).await;
    attach_test_credential(&server, live).await;
    let off = json!({ "mode": "JWT", "test_credential_enabled": false });
    let updated = put_ok(&server, live, off).await;
    assert_eq!(updated["test_credential_enabled"], false, "{updated}");
    let test = Some(json!({ "test": true }));
    let (status, resp) = mint(&server, Some(OWNER_KEY), live, test.clone()).await;
    assert_refused(status, &resp, 403);
    // The live credential still mints.
    let resp = mint_ok(&server, live, None).await;
    assert_eq!(resp["test"], false, "{resp}");
    assert!(verifies_with_jwk(&token_of(&resp), &live_jwk, "ES256"));

    put_ok(
        &server,
        live,
        json!({ "mode": "JWT", "test_credential_enabled": true }),
    )
    .await;
    let resp = mint_ok(&server, live, test).await;
    assert!(verifies_with_jwk(&token_of(&resp), &test_jwk, "ES256"));
}
