//! Which token a mint hands out over time: key rotation, the token cache across instances and
//! its window, the cache turned off, usage tracking, and the mint and cache metrics.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::*;

#[tokio::test]
async fn key_rotation_by_put_switches_the_verifying_key() {
    let server = Server::start();
    let team = server.team("rotation").await;
    for (alg, old_key, new_key) in [
        ("ES256", "ec-p256-pkcs8.pem", "ec-p256-sec1-noparams.pem"),
        ("RS256", "rsa2048-pkcs8.pem", "rsa3072-pkcs8.pem"),
    ] {
        let name = format!("rotate {alg}");
        let body = jwt_credential(team, &name, alg, &fixture_key(old_key), 900);
        let id = create_ok(&server, body).await;
        let old_jwk = jwk_of(&server, id).await;
        let before = token_of(&mint_ok(&server, id, None).await);
        assert!(verifies_with_jwk(&before, &old_jwk, alg), "{alg} before");

        let rotate = json!({ "mode": "JWT", "jwt_private_key": fixture_key(new_key) });
        put_ok(&server, id, rotate).await;
        let new_jwk = jwk_of(&server, id).await;
        assert_ne!(old_jwk, new_jwk, "{alg}: /jwks still serves the old key");
        assert_eq!(new_jwk["kid"], thumbprint(&new_jwk).as_str(), "{new_jwk}");
        if alg == "ES256" {
            let want = p256_public_jwk(new_key);
            assert_eq!((&new_jwk["x"], &new_jwk["y"]), (&want["x"], &want["y"]));
        }
        let after = token_of(&mint_ok(&server, id, None).await);
        assert_ne!(
            after, before,
            "{alg}: the old (cached) token was handed out"
        );
        assert!(
            verifies_with_jwk(&after, &new_jwk, alg),
            "{alg}: a token after the PUT does not verify with the new key"
        );
        assert!(
            !verifies_with_jwk(&after, &old_jwk, alg),
            "{alg}: a token after the PUT verifies with the old key"
        );
        assert!(
            !verifies_with_jwk(&before, &new_jwk, alg),
            "{alg}: the old token verifies with the new key"
        );
    }
}

/// Two instances sharing one database, default token cache (30 s), and a credential minting
/// tokens of `lifetime` seconds. Returns the directory, both instances, the team and the id.
async fn two_instances(lifetime: i64) -> (TempDir, Server, Server, i64, i64) {
    let dir = TempDir::new().unwrap();
    let a = Server::start_in(dir.path(), &[]).expect("instance a");
    let b = Server::start_in(dir.path(), &[]).expect("instance b");
    let team = a.team("cache").await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let id = create_ok(&a, jwt_credential(team, "cached", "ES256", &key, lifetime)).await;
    (dir, a, b, team, id)
}

#[tokio::test]
async fn two_mints_in_a_row_hand_out_the_same_token() {
    let (_dir, a, _b, _, id) = two_instances(3600).await;
    let first = mint_ok(&a, id, None).await;
    let second = mint_ok(&a, id, None).await;
    assert_eq!(
        token_of(&first),
        token_of(&second),
        "two mints in a row: the token is reused"
    );
    assert_eq!(first, second);
}

#[tokio::test]
async fn a_put_on_this_instance_ends_the_reuse_of_the_old_token() {
    let (_dir, a, _b, _, id) = two_instances(3600).await;
    let first = token_of(&mint_ok(&a, id, None).await);
    put_ok(
        &a,
        id,
        json!({ "mode": "JWT", "description": "changed on a" }),
    )
    .await;
    let third = token_of(&mint_ok(&a, id, None).await);
    assert_ne!(third, first, "a token of the old version after a PUT");
    assert_eq!(
        token_of(&mint_ok(&a, id, None).await),
        third,
        "reused again"
    );
}

#[tokio::test]
async fn a_put_on_another_instance_ends_the_reuse_here_too() {
    let (_dir, a, b, _, id) = two_instances(3600).await;
    let before = token_of(&mint_ok(&a, id, None).await);
    let change = json!({ "mode": "JWT", "jwt_payload": { "iss": "changed on b" } });
    let (status, resp) = b
        .call(Method::PUT, &cred_path(id), Some(OWNER_KEY), Some(change))
        .await;
    assert_eq!(status, 200, "{resp}");
    let after = token_of(&mint_ok(&a, id, None).await);
    assert_ne!(
        after, before,
        "instance a handed out a token of the old version"
    );
    assert_eq!(split_jws(&after).payload["iss"], "changed on b");
    let jwk = jwk_of(&a, id).await;
    assert!(verifies_with_jwk(&after, &jwk, "ES256"));
}

#[tokio::test]
async fn a_delete_on_another_instance_refuses_at_once_on_both() {
    let (_dir, a, b, _, id) = two_instances(3600).await;
    mint_ok(&a, id, None).await;
    let (status, _) = b.delete(&cred_path(id), OWNER_KEY).await;
    assert_eq!(status, 204);
    let (status, resp) = mint(&a, Some(OWNER_KEY), id, None).await;
    assert_refused(status, &resp, 404);
    let (status, resp) = mint(&b, Some(OWNER_KEY), id, None).await;
    assert_refused(status, &resp, 404);
    let (status, resp) = a.get(&jwks_path(id), OWNER_KEY).await;
    assert_refused(status, &resp, 404);
}

#[tokio::test]
async fn token_cache_off_mints_fresh_tokens() {
    let dir = TempDir::new().unwrap();
    let server = Server::start_in(dir.path(), &[("CREDVAULT_TOKEN_CACHE_SECONDS", "0")])
        .expect("server failed to start");
    let team = server.team("no cache").await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let id = create_ok(
        &server,
        jwt_credential(team, "uncached", "ES256", &key, 3600),
    )
    .await;
    let one = token_of(&mint_ok(&server, id, None).await);
    let two = token_of(&mint_ok(&server, id, None).await);
    assert_ne!(one, two, "the token cache is off, yet a token was reused");
    let jwk = jwk_of(&server, id).await;
    assert!(verifies_with_jwk(&one, &jwk, "ES256"));
    assert!(verifies_with_jwk(&two, &jwk, "ES256"));
    let (status, _) = server.delete(&cred_path(id), OWNER_KEY).await;
    assert_eq!(status, 204);
    let (status, resp) = mint(&server, Some(OWNER_KEY), id, None).await;
    assert_refused(status, &resp, 404);
}

async fn unused_ids(server: &Server) -> Vec<i64> {
    let path = format!("{CREDENTIALS}?filter=UNUSED_IN_ACTIONS&per_page=500");
    let (status, body) = server.get(&path, OWNER_KEY).await;
    assert_eq!(status, 200, "{body}");
    listed_ids(&body)
}

#[tokio::test]
async fn minting_marks_a_credential_used() {
    let server = Server::start();
    let team = server.team("usage").await;
    let used = create_ok(&server, jwt_body(team, "to be used")).await;
    let idle = create_ok(&server, jwt_body(team, "never used")).await;
    let listed = unused_ids(&server).await;
    assert!(
        listed.contains(&used) && listed.contains(&idle),
        "{listed:?}"
    );

    // A refused mint is no use.
    let (status, _) = mint(&server, None, used, None).await;
    assert_eq!(status, 401);
    let minted_at = now_secs() * 1000;
    mint_ok(&server, used, None).await;
    // Usage is recorded in the background: poll the list until it shows.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let listed = unused_ids(&server).await;
        if !listed.contains(&used) {
            assert!(listed.contains(&idle), "{listed:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "credential {used} still UNUSED_IN_ACTIONS 3 s after it was minted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The credential says when: after the mint began, not in the future.
    let (_, read) = server.get(&cred_path(used), OWNER_KEY).await;
    let last_used = rfc3339_millis(&read["last_used_at"]);
    assert!(
        (minted_at..=(now_secs() + 1) * 1000).contains(&last_used),
        "{read}"
    );
    let (_, read) = server.get(&cred_path(idle), OWNER_KEY).await;
    assert_eq!(read["last_used_at"], Value::Null);
}

#[tokio::test]
async fn metrics_count_mints_and_cache_lookups() {
    let server = Server::start();
    let team = server.team("metrics").await;
    let open = create_ok(&server, jwt_body(team, "open")).await;
    let mut body = jwt_body(team, "restricted");
    body["allowed_hosts"] = json!(["api.example.com"]);
    let restricted = create_ok(&server, body).await;

    // Three mints of one: one fresh token, reused twice.
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(token_of(&mint_ok(&server, open, None).await));
    }
    assert!(tokens.iter().all(|t| *t == tokens[0]), "not reused");
    // One signed and one refused mint of the other.
    let target = json!({ "url": "https://api.example.com/" });
    mint_ok(&server, restricted, Some(target)).await;
    let (status, resp) = mint(&server, Some(OWNER_KEY), restricted, None).await;
    assert_refused(status, &resp, 403);

    let text = server.metrics().await;
    // Each credential's key was loaded once, for its first token.
    for (series, want) in [
        (
            r#"credvault_mints_total{algorithm="ES256",outcome="signed"}"#,
            4.0,
        ),
        (
            r#"credvault_mints_total{algorithm="ES256",outcome="refused"}"#,
            1.0,
        ),
        (r#"credvault_token_cache_requests_total{result="hit"}"#, 2.0),
        (
            r#"credvault_token_cache_requests_total{result="miss"}"#,
            2.0,
        ),
        (r#"credvault_key_cache_requests_total{result="miss"}"#, 2.0),
        (r#"credvault_key_cache_requests_total{result="hit"}"#, 0.0),
    ] {
        assert_eq!(sample(&text, series), want, "{series}");
    }
}
