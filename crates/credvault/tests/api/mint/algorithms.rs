//! Every algorithm mints a token with the exact response fields, header and payload, whose
//! signature verifies independently; the `/jwks` key of each asymmetric one; time claims.

use jsonwebtoken::DecodingKey;
use serde_json::{json, Value};

use crate::support::*;

struct AlgCase {
    alg: &'static str,
    /// The private key (PEM or JWK text), or the HS* secret.
    key: String,
    kid: Option<&'static str>,
    lifetime: i64,
    /// The fixture JWK holding the public members the `/jwks` key must carry.
    public_fixture: Option<&'static str>,
    /// Send the mint with no body at all (else `{}`).
    no_body: bool,
}

fn alg_cases() -> Vec<AlgCase> {
    let rsa = Some("rsa2048-pub.jwk.json");
    let secret = |s: &str| s.to_string();
    #[rustfmt::skip]
    let table = [
        ("HS256", secret("hs256-shared-secret-for-tests"), None, 900, None, true),
        ("HS384", secret("hs384 shared secret, for tests only"), Some("k-HS384"), 60, None, false),
        ("HS512", secret("hs512-shared-secret-for-tests-0123456789"), Some("k-HS512"), 900, None, true),
        ("RS256", fixture_key("rsa2048-pkcs8.pem"), Some("k-RS256"), 900, rsa, false),
        ("RS384", fixture_key("rsa2048-pkcs1.pem"), None, 900, rsa, true),
        ("RS512", fixture_key("rsa2048.jwk.json"), None, 900, rsa, false),
        ("PS256", fixture_key("rsa2048-pkcs8.pem"), Some("k-PS256"), 900, rsa, true),
        ("PS384", fixture_key("rsa2048-pkcs1.pem"), None, 900, rsa, false),
        ("PS512", fixture_key("rsa2048-pkcs8.pem"), None, 900, rsa, true),
        ("ES256", fixture_key("ec-p256-pkcs8.pem"), Some("k-ES256"), 900, Some("ec-p256.jwk.json"), false),
        ("ES384", fixture_key("ec-p384-sec1.pem"), None, 900, Some("ec-p384.jwk.json"), true),
        ("ES512", fixture_key("ec-p521-pkcs8.pem"), Some("k-ES512"), 900, Some("ec-p521.jwk.json"), false),
        ("EdDSA", fixture_key("ed25519-pkcs8.pem"), None, 86_400, Some("ed25519.jwk.json"), true),
    ];
    table
        .into_iter()
        .map(
            |(alg, key, kid, lifetime, public_fixture, no_body)| AlgCase {
                alg,
                key,
                kid,
                lifetime,
                public_fixture,
                no_body,
            },
        )
        .collect()
}

/// Creates one credential per case (with its `kid`, if any); returns each case with its id,
/// or records a failed create in `failed`.
async fn create_alg_credentials(server: &Server, failed: &mut Vec<String>) -> Vec<(AlgCase, i64)> {
    let team = server.team("algorithms").await;
    let mut created = Vec::new();
    for case in alg_cases() {
        let name = format!("alg {}", case.alg);
        let mut body = jwt_credential(team, &name, case.alg, &case.key, case.lifetime);
        if let Some(kid) = case.kid {
            body["jwt_headers"] = json!({ "kid": kid });
        }
        let (status, resp) = server.create_credential(OWNER_KEY, body).await;
        if status != 201 {
            eprintln!("^^^ {}: create → {status}: {resp}", case.alg);
            failed.push(format!("{} create", case.alg));
            continue;
        }
        created.push((case, id_of(&resp)));
    }
    created
}

/// A mint response: exactly the six fields, and these values.
#[track_caller]
fn check_mint_fields(resp: &Value, id: i64, alg: &str) {
    let mut fields: Vec<&str> = resp
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    let want = [
        "algorithm",
        "credential_id",
        "expires_at",
        "issued_at",
        "test",
        "token",
    ];
    assert_eq!(fields, want, "{resp}");
    assert_eq!(resp["credential_id"], id, "{resp}");
    assert_eq!(resp["algorithm"], alg, "{resp}");
    assert_eq!(resp["test"], false, "{resp}");
}

/// The token's header and payload (auto time claims, `lifetime` apart, issued between `before`
/// and `after`), and the response's times equal to the claims.
#[track_caller]
fn check_token_claims(resp: &Value, case: &AlgCase, jwks: &Value, before: i64, after: i64) {
    let jws = split_jws(&token_of(resp));
    let mut want_header = json!({ "alg": case.alg, "typ": "JWT" });
    // The kid of the header is the JWKS key's (API.md §5); HS* only with jwt_headers.kid.
    if let Some(kid) = case.kid {
        want_header["kid"] = json!(kid);
    } else if !case.alg.starts_with("HS") {
        want_header["kid"] = jwks["keys"][0]["kid"].clone();
        assert!(want_header["kid"].is_string(), "no kid in {jwks}");
    }
    assert_eq!(jws.header, want_header, "header");
    let claim = |name: &str| {
        jws.payload[name]
            .as_i64()
            .unwrap_or_else(|| panic!("{name}: {}", jws.payload))
    };
    let (iat, exp) = (claim("iat"), claim("exp"));
    let mut want_payload = mint_payload();
    want_payload["iat"] = json!(iat);
    want_payload["exp"] = json!(exp);
    assert_eq!(jws.payload, want_payload, "payload");
    assert_eq!(exp - iat, case.lifetime, "exp - iat");
    assert!(
        before - 2 <= iat && iat <= after + 2,
        "iat {iat} not within [{before}, {after}]"
    );
    assert_eq!(rfc3339_millis(&resp["issued_at"]), iat * 1000, "{resp}");
    assert_eq!(rfc3339_millis(&resp["expires_at"]), exp * 1000, "{resp}");
}

/// The signature verifies (HS*: with the secret, not with another; others: with the `/jwks`
/// key), and a tampered token does not.
#[track_caller]
fn check_signature(token: &str, case: &AlgCase, jwks: &Value) {
    if case.alg.starts_with("HS") {
        let key = DecodingKey::from_secret(case.key.as_bytes());
        assert!(jwt_verifies(token, &key, case.alg), "HMAC does not verify");
        assert!(
            !jwt_verifies(&tampered(token), &key, case.alg),
            "a tampered token verifies"
        );
        let wrong = DecodingKey::from_secret(b"another secret");
        assert!(
            !jwt_verifies(token, &wrong, case.alg),
            "verifies with a wrong secret"
        );
    } else {
        let jwk = &jwks["keys"][0];
        assert!(
            verifies_with_jwk(token, jwk, case.alg),
            "signature does not verify with the /jwks key {jwk}"
        );
        assert!(
            !verifies_with_jwk(&tampered(token), jwk, case.alg),
            "a tampered token verifies"
        );
    }
}

/// The `/jwks` key of an asymmetric credential: key type members equal to the fixture's public
/// ones, no private member, `kid`, `use` and `alg`.
#[track_caller]
fn check_public_jwk(jwk: &Value, case: &AlgCase) {
    let fixture = fixture_json(case.public_fixture.unwrap());
    let (kty, members, crv): (&str, &[&str], Option<&str>) = match case.alg {
        a if a.starts_with("RS") || a.starts_with("PS") => ("RSA", &["n", "e"], None),
        "ES256" => ("EC", &["crv", "x", "y"], Some("P-256")),
        "ES384" => ("EC", &["crv", "x", "y"], Some("P-384")),
        "ES512" => ("EC", &["crv", "x", "y"], Some("P-521")),
        _ => ("OKP", &["crv", "x"], Some("Ed25519")),
    };
    assert_eq!(jwk["kty"], kty, "{jwk}");
    for m in members {
        assert_eq!(jwk[*m], fixture[*m], "JWK member {m}: {jwk}");
    }
    for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
        assert!(
            jwk.get(private).is_none(),
            "private member {private} in {jwk}"
        );
    }
    if let Some(crv) = crv {
        assert_eq!(jwk["crv"], crv, "{jwk}");
    }
    assert_eq!(jwk["use"], "sig", "{jwk}");
    assert_eq!(jwk["alg"], case.alg, "{jwk}");
    let want_kid = match case.kid {
        Some(kid) => kid.to_string(),
        None => thumbprint(jwk),
    };
    assert_eq!(jwk["kid"], want_kid.as_str(), "kid: {jwk}");
}

#[test]
fn the_thumbprint_helper_gives_rfc_7638s_example() {
    let rfc = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    });
    assert_eq!(
        thumbprint(&rfc),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn the_p521_public_key_built_from_a_jwk_is_the_one_openssl_derives() {
    let p521 = fixture_json("ec-p521.jwk.json");
    let coordinate = |name: &str| unb64url(p521[name].as_str().unwrap());
    assert_eq!(
        p521_spki_der(&coordinate("x"), &coordinate("y")),
        openssl_public_der("ec-p521-pkcs8.pem"),
        "P-521 SubjectPublicKeyInfo"
    );
}

#[tokio::test]
async fn every_algorithm_mints_tokens_that_verify_independently() {
    let server = Server::start();
    let mut failed = Vec::new();
    let credentials = create_alg_credentials(&server, &mut failed).await;
    let ran = credentials.len() + failed.len();
    for (case, id) in &credentials {
        let before = now_secs();
        let body = (!case.no_body).then(|| json!({}));
        let (status, resp) = mint(&server, Some(OWNER_KEY), *id, body).await;
        let after = now_secs();
        let (_, jwks) = server.get(&jwks_path(id), OWNER_KEY).await;
        let request = format!(
            "POST {} {}",
            token_path(id),
            if case.no_body { "(no body)" } else { "{}" }
        );
        cell(&mut failed, format!("{} mint", case.alg), &request, || {
            assert_eq!(status, 200, "{resp}");
            check_mint_fields(&resp, *id, case.alg);
            check_token_claims(&resp, case, &jwks, before, after);
            check_signature(&token_of(&resp), case, &jwks);
        });
    }
    assert_no_failures("every algorithm", ran, &failed);
}

#[tokio::test]
async fn asymmetric_credentials_publish_their_public_key_and_hmac_ones_none() {
    let server = Server::start();
    let mut failed = Vec::new();
    let credentials = create_alg_credentials(&server, &mut failed).await;
    let ran = credentials.len() + failed.len();
    for (case, id) in &credentials {
        let (status, jwks) = server.get(&jwks_path(id), OWNER_KEY).await;
        let request = format!("GET {}", jwks_path(id));
        cell(&mut failed, format!("{} jwks", case.alg), &request, || {
            if case.alg.starts_with("HS") {
                assert_refused(status, &jwks, 422);
            } else {
                assert_eq!(status, 200, "{jwks}");
                let keys = jwks["keys"]
                    .as_array()
                    .unwrap_or_else(|| panic!("no keys: {jwks}"));
                assert_eq!(keys.len(), 1, "{jwks}");
                check_public_jwk(&keys[0], case);
            }
        });
    }
    assert_no_failures("every algorithm's jwks", ran, &failed);
}

#[tokio::test]
async fn without_auto_time_claims_the_payload_is_signed_as_it_is() {
    let server = Server::start();
    let team = server.team("algorithms").await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let mut body = jwt_credential(team, "no time claims", "ES256", &key, 900);
    body["jwt_auto_generate_time_claims"] = json!(false);
    let id = create_ok(&server, body).await;
    let before = now_secs();
    let resp = mint_ok(&server, id, None).await;
    let after = now_secs();
    let jwk = jwk_of(&server, id).await;
    let token = token_of(&resp);
    assert_eq!(split_jws(&token).payload, mint_payload(), "payload");
    assert_eq!(resp["expires_at"], Value::Null, "{resp}");
    let issued = rfc3339_millis(&resp["issued_at"]) / 1000;
    assert!(before - 2 <= issued && issued <= after + 2, "{resp}");
    assert!(verifies_with_jwk(&token, &jwk, "ES256"));
    assert_eq!(jwk["kid"], thumbprint(&jwk).as_str(), "{jwk}");
}

#[tokio::test]
async fn auto_time_claims_override_the_payloads_own_with_the_default_lifetime() {
    let server = Server::start();
    let team = server.team("algorithms").await;
    let body = json!({
        "name": "overridden time claims",
        "mode": "JWT",
        "team_id": team,
        "jwt_algorithm": "EdDSA",
        "jwt_payload": { "iss": "credvault-tests", "iat": 1000, "exp": 2000, "nbf": 5 },
        "jwt_auto_generate_time_claims": true,
        "jwt_private_key": fixture_key("ed25519-pkcs8.pem"),
    });
    let id = create_ok(&server, body).await;
    let before = now_secs();
    let resp = mint_ok(&server, id, Some(json!({ "test": false }))).await;
    let after = now_secs();
    let jwk = jwk_of(&server, id).await;
    let token = token_of(&resp);
    let jws = split_jws(&token);
    let iat = jws.payload["iat"].as_i64().unwrap();
    assert!(before - 2 <= iat && iat <= after + 2, "iat {iat}");
    assert_eq!(
        jws.payload,
        json!({ "iss": "credvault-tests", "iat": iat, "exp": iat + 3600, "nbf": 5 })
    );
    assert_eq!(rfc3339_millis(&resp["expires_at"]), (iat + 3600) * 1000);
    assert!(verifies_with_jwk(&token, &jwk, "EdDSA"));
}

#[tokio::test]
async fn without_auto_time_claims_the_payloads_own_time_claims_are_kept() {
    let server = Server::start();
    let team = server.team("algorithms").await;
    let mut body = jwt_credential(
        team,
        "payload time claims kept",
        "HS256",
        "kept-secret",
        900,
    );
    body["jwt_auto_generate_time_claims"] = json!(false);
    body["jwt_payload"] = json!({ "iss": "x", "iat": 1000, "exp": 2000 });
    let id = create_ok(&server, body).await;
    let token = token_of(&mint_ok(&server, id, None).await);
    assert_eq!(
        split_jws(&token).payload,
        json!({ "iss": "x", "iat": 1000, "exp": 2000 })
    );
    let key = DecodingKey::from_secret(b"kept-secret");
    assert!(jwt_verifies(&token, &key, "HS256"));
}

#[tokio::test]
async fn a_kid_that_is_not_a_string_is_sent_and_published_as_its_text() {
    let server = Server::start();
    let team = server.team("algorithms").await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let mut body = jwt_credential(team, "numeric kid", "ES256", &key, 900);
    body["jwt_headers"] = json!({ "kid": 123 });
    let id = create_ok(&server, body).await;
    let token = token_of(&mint_ok(&server, id, None).await);
    let jwk = jwk_of(&server, id).await;
    assert_eq!(split_jws(&token).header["kid"], "123");
    assert_eq!(jwk["kid"], "123", "{jwk}");
    assert!(verifies_with_jwk(&token, &jwk, "ES256"));
}
