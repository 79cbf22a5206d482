//! Using a JWT credential (API.md §5, with §4.5 `allowed_hosts` and §4.6 test credentials):
//! `POST /user_credentials/{id}/token` and `GET /user_credentials/{id}/jwks`.
//!
//! Every signature is checked with an implementation independent of the server: the
//! `jsonwebtoken` crate (RustCrypto backend) with the public key taken from `/jwks`, the shared
//! secret for HS*, and the `openssl` command for ES512 (which `jsonwebtoken` lacks). JWK
//! thumbprints (RFC 7638) are computed here with `sha2`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::support::*;

const CREDENTIALS: &str = "/api/v1/user_credentials";

fn payload() -> Value {
    json!({ "iss": "credvault-tests", "sub": "svc", "aud": "api" })
}

fn token_path(id: i64) -> String {
    format!("{CREDENTIALS}/{id}/token")
}

fn jwks_path(id: i64) -> String {
    format!("{CREDENTIALS}/{id}/jwks")
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name)
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture_key(name)).unwrap()
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[track_caller]
fn unb64url(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_else(|e| panic!("not base64url ({e}): {text:?}"))
}

/// Runs the checks of one table cell; a failed assertion is printed with the cell's name and
/// request and recorded in `failed`, and the table goes on.
fn cell(failed: &mut Vec<String>, name: String, request: &str, checks: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(checks)).is_err() {
        eprintln!("^^^ cell {name:?} failed; request: {request}");
        failed.push(name);
    }
}

#[track_caller]
fn assert_no_failures(what: &str, ran: usize, failed: &[String]) {
    assert!(
        failed.is_empty(),
        "{what}: {} of {ran} cells failed: {failed:#?}",
        failed.len()
    );
}

/// A non-2xx status with the Tines error shape and a message.
#[track_caller]
fn assert_refused(status: u16, body: &Value, want: u16) {
    assert_eq!(status, want, "body: {body}");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array: {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    let message = errors[0]["message"].as_str().unwrap_or("");
    assert!(!message.is_empty(), "no message: {body}");
}

/// RFC 3339 UTC with milliseconds (`2021-03-26T12:34:16.540Z`), as Unix milliseconds.
#[track_caller]
fn rfc3339_millis(v: &Value) -> i64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp string: {v}"));
    let b = s.as_bytes();
    assert!(
        s.len() == 24
            && b[10] == b'T'
            && b[19] == b'.'
            && b[20..23].iter().all(u8::is_ascii_digit)
            && s.ends_with('Z'),
        "{s:?} is not RFC 3339 UTC with milliseconds"
    );
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{s:?}: {e}"));
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A compact JWS taken apart.
struct Jws {
    header: Value,
    payload: Value,
    /// `base64url(header).base64url(payload)`
    input: String,
    signature_b64: String,
    signature: Vec<u8>,
}

#[track_caller]
fn split_jws(token: &str) -> Jws {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWS: {token:?}");
    let header: Value = serde_json::from_slice(&unb64url(parts[0]))
        .unwrap_or_else(|e| panic!("header is not JSON ({e}): {token}"));
    let payload: Value = serde_json::from_slice(&unb64url(parts[1]))
        .unwrap_or_else(|e| panic!("payload is not JSON ({e}): {token}"));
    Jws {
        header,
        payload,
        input: format!("{}.{}", parts[0], parts[1]),
        signature_b64: parts[2].to_string(),
        signature: unb64url(parts[2]),
    }
}

/// Whether `token`'s signature verifies with `key` under `alg` (`jsonwebtoken`, RustCrypto).
#[track_caller]
fn jwt_verifies(token: &str, key: &DecodingKey, alg: &str) -> bool {
    let jws = split_jws(token);
    let alg = Algorithm::from_str(alg).unwrap_or_else(|e| panic!("{alg}: {e}"));
    jsonwebtoken::crypto::verify(&jws.signature_b64, jws.input.as_bytes(), key, alg)
        .unwrap_or_else(|e| panic!("verifier refused the key or signature: {e}"))
}

/// Whether `token`'s signature verifies with the public JWK `jwk` under `alg`.
#[track_caller]
pub(crate) fn verifies_with_jwk(token: &str, jwk: &Value, alg: &str) -> bool {
    if alg == "ES512" {
        let jws = split_jws(token);
        return openssl_es512_verifies(jwk, jws.input.as_bytes(), &jws.signature);
    }
    let parsed: Jwk = serde_json::from_value(jwk.clone())
        .unwrap_or_else(|e| panic!("jsonwebtoken cannot read the JWK ({e}): {jwk}"));
    let key = DecodingKey::from_jwk(&parsed)
        .unwrap_or_else(|e| panic!("jsonwebtoken cannot use the JWK ({e}): {jwk}"));
    jwt_verifies(token, &key, alg)
}

/// The same token with one byte of its payload changed (signature kept).
fn tampered(token: &str) -> String {
    let jws = split_jws(token);
    let mut payload = jws.payload.clone();
    payload["sub"] = json!("someone-else");
    let (header_b64, _) = jws.input.split_once('.').unwrap();
    format!(
        "{header_b64}.{}.{}",
        b64url(payload.to_string().as_bytes()),
        jws.signature_b64
    )
}

// ---- DER and openssl, for ES512 ------------------------------------------------------------

fn der_len(n: usize) -> Vec<u8> {
    match n {
        0..=127 => vec![n as u8],
        128..=255 => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend_from_slice(content);
    out
}

/// A non-negative INTEGER in minimal DER form.
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let mut content = bytes[first..].to_vec();
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    der(0x02, &content)
}

/// A JWS ECDSA signature (`r || s`, fixed width) as a DER `ECDSA-Sig-Value`.
fn ecdsa_sig_der(raw: &[u8]) -> Vec<u8> {
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut seq = der_uint(r);
    seq.extend(der_uint(s));
    der(0x30, &seq)
}

/// SubjectPublicKeyInfo of a P-521 point.
fn p521_spki_der(x: &[u8], y: &[u8]) -> Vec<u8> {
    assert_eq!(
        (x.len(), y.len()),
        (66, 66),
        "P-521 coordinates are 66 bytes"
    );
    // id-ecPublicKey, secp521r1
    let mut alg = der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
    alg.extend(der(0x06, &[0x2b, 0x81, 0x04, 0x00, 0x23]));
    let mut point = vec![0x00, 0x04];
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    let mut spki = der(0x30, &alg);
    spki.extend(der(0x03, &point));
    der(0x30, &spki)
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// `openssl pkey -pubout -outform DER` of a fixture key.
fn openssl_public_der(fixture: &str) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(fixture_path(fixture))
        .output()
        .expect("cannot run openssl");
    assert!(
        out.status.success(),
        "openssl pkey: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Verifies an ES512 JWS signature with `openssl dgst -sha512 -verify`, the public key built
/// from the JWK's `x` and `y`.
#[track_caller]
fn openssl_es512_verifies(jwk: &Value, input: &[u8], signature: &[u8]) -> bool {
    assert_eq!(jwk["kty"], "EC", "{jwk}");
    assert_eq!(jwk["crv"], "P-521", "{jwk}");
    assert_eq!(
        signature.len(),
        132,
        "an ES512 JWS signature is r || s, 66 bytes each"
    );
    let x = unb64url(jwk["x"].as_str().expect("x"));
    let y = unb64url(jwk["y"].as_str().expect("y"));
    let dir = TempDir::new().unwrap();
    let pub_pem = dir.path().join("pub.pem");
    let sig_der = dir.path().join("sig.der");
    let data = dir.path().join("input.txt");
    std::fs::write(&pub_pem, pem("PUBLIC KEY", &p521_spki_der(&x, &y))).unwrap();
    std::fs::write(&sig_der, ecdsa_sig_der(signature)).unwrap();
    std::fs::write(&data, input).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha512", "-verify"])
        .arg(&pub_pem)
        .arg("-signature")
        .arg(&sig_der)
        .arg(&data)
        .output()
        .expect("cannot run openssl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        assert!(stdout.contains("Verified OK"), "openssl said: {stdout}");
        true
    } else {
        assert!(
            stdout.contains("Verification failure"),
            "openssl failed for another reason: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        false
    }
}

/// The public JWK (P-256) of a fixture EC key, through `openssl`.
fn p256_public_jwk(fixture: &str) -> Value {
    let der = openssl_public_der(fixture);
    let point = &der[der.len() - 65..];
    assert_eq!(point[0], 4, "uncompressed point");
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(&point[1..33]),
        "y": b64url(&point[33..]),
    })
}

/// RFC 7638 thumbprint: SHA-256 over the required members, sorted, no whitespace.
#[track_caller]
fn thumbprint(jwk: &Value) -> String {
    let s = |name: &str| {
        jwk[name]
            .as_str()
            .unwrap_or_else(|| panic!("JWK member {name} missing: {jwk}"))
            .to_string()
    };
    let canonical = match jwk["kty"].as_str() {
        Some("RSA") => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, s("e"), s("n")),
        Some("EC") => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            s("crv"),
            s("x"),
            s("y")
        ),
        Some("OKP") => format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, s("crv"), s("x")),
        _ => panic!("unknown kty: {jwk}"),
    };
    b64url(&Sha256::digest(canonical.as_bytes()))
}

// ---- calls ---------------------------------------------------------------------------------

async fn mint(server: &Server, key: Option<&str>, id: i64, body: Option<Value>) -> (u16, Value) {
    server.call(Method::POST, &token_path(id), key, body).await
}

/// Mints as the owner and expects 200; returns the response.
pub(crate) async fn mint_ok(server: &Server, id: i64, body: Option<Value>) -> Value {
    let (status, resp) = mint(server, Some(OWNER_KEY), id, body.clone()).await;
    assert_eq!(
        status,
        200,
        "POST {} {body:?} → {status}: {resp}",
        token_path(id)
    );
    resp
}

pub(crate) fn token_of(resp: &Value) -> String {
    resp["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {resp}"))
        .to_string()
}

/// The single key of `GET /jwks` as the owner.
pub(crate) async fn jwk_of(server: &Server, id: i64) -> Value {
    let (status, body) = server.get(&jwks_path(id), OWNER_KEY).await;
    assert_eq!(status, 200, "GET {} → {body}", jwks_path(id));
    let keys = body["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no keys array: {body}"));
    assert_eq!(keys.len(), 1, "{body}");
    keys[0].clone()
}

pub(crate) async fn create(server: &Server, body: Value) -> i64 {
    let (status, resp) = server.create_credential(OWNER_KEY, body.clone()).await;
    assert_eq!(status, 201, "set-up: create {body} → {resp}");
    resp["id"].as_i64().unwrap()
}

pub(crate) async fn put(server: &Server, id: i64, body: Value) -> Value {
    let path = format!("{CREDENTIALS}/{id}");
    let (status, resp) = server
        .call(Method::PUT, &path, Some(OWNER_KEY), Some(body.clone()))
        .await;
    assert_eq!(status, 200, "PUT {path} {body} → {resp}");
    resp
}

/// A JWT credential of `alg` with `key`, the standard payload and auto time claims.
fn jwt_credential(team_id: i64, name: &str, alg: &str, key: &str, lifetime: i64) -> Value {
    json!({
        "name": name,
        "mode": "JWT",
        "team_id": team_id,
        "jwt_algorithm": alg,
        "jwt_payload": payload(),
        "jwt_auto_generate_time_claims": true,
        "jwt_lifetime_seconds": lifetime,
        "jwt_private_key": key,
    })
}

// ---- 1. every algorithm ---------------------------------------------------------------------

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
    let case = |alg, key: String, kid, lifetime, public_fixture, no_body| AlgCase {
        alg,
        key,
        kid,
        lifetime,
        public_fixture,
        no_body,
    };
    let rsa = Some("rsa2048-pub.jwk.json");
    vec![
        case(
            "HS256",
            "hs256-shared-secret-for-tests".into(),
            None,
            900,
            None,
            true,
        ),
        case(
            "HS384",
            "hs384 shared secret, for tests only".into(),
            Some("k-HS384"),
            60,
            None,
            false,
        ),
        case(
            "HS512",
            "hs512-shared-secret-for-tests-0123456789".into(),
            Some("k-HS512"),
            900,
            None,
            true,
        ),
        case(
            "RS256",
            fixture_key("rsa2048-pkcs8.pem"),
            Some("k-RS256"),
            900,
            rsa,
            false,
        ),
        case(
            "RS384",
            fixture_key("rsa2048-pkcs1.pem"),
            None,
            900,
            rsa,
            true,
        ),
        case(
            "RS512",
            fixture_key("rsa2048.jwk.json"),
            None,
            900,
            rsa,
            false,
        ),
        case(
            "PS256",
            fixture_key("rsa2048-pkcs8.pem"),
            Some("k-PS256"),
            900,
            rsa,
            true,
        ),
        case(
            "PS384",
            fixture_key("rsa2048-pkcs1.pem"),
            None,
            900,
            rsa,
            false,
        ),
        case(
            "PS512",
            fixture_key("rsa2048-pkcs8.pem"),
            None,
            900,
            rsa,
            true,
        ),
        case(
            "ES256",
            fixture_key("ec-p256-pkcs8.pem"),
            Some("k-ES256"),
            900,
            Some("ec-p256.jwk.json"),
            false,
        ),
        case(
            "ES384",
            fixture_key("ec-p384-sec1.pem"),
            None,
            900,
            Some("ec-p384.jwk.json"),
            true,
        ),
        case(
            "ES512",
            fixture_key("ec-p521-pkcs8.pem"),
            Some("k-ES512"),
            900,
            Some("ec-p521.jwk.json"),
            false,
        ),
        case(
            "EdDSA",
            fixture_key("ed25519-pkcs8.pem"),
            None,
            86_400,
            Some("ed25519.jwk.json"),
            true,
        ),
    ]
}

/// The `/jwks` key of an asymmetric credential: key type members equal to the fixture's public
/// ones, no private member, `kid`, `use` and `alg`.
#[track_caller]
fn check_public_jwk(jwk: &Value, case: &AlgCase) {
    let fixture = fixture_json(case.public_fixture.unwrap());
    let (kty, members): (&str, &[&str]) = match case.alg {
        a if a.starts_with("RS") || a.starts_with("PS") => ("RSA", &["n", "e"]),
        a if a.starts_with("ES") => ("EC", &["crv", "x", "y"]),
        _ => ("OKP", &["crv", "x"]),
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
    let want_crv = match case.alg {
        "ES256" => Some("P-256"),
        "ES384" => Some("P-384"),
        "ES512" => Some("P-521"),
        "EdDSA" => Some("Ed25519"),
        _ => None,
    };
    if let Some(crv) = want_crv {
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

#[tokio::test]
async fn every_algorithm_mints_tokens_that_verify_independently() {
    // The thumbprint helper against RFC 7638 §3.1's example.
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
    // The P-521 public key built here from the fixture JWK is the one openssl derives.
    let p521 = fixture_json("ec-p521.jwk.json");
    assert_eq!(
        p521_spki_der(
            &unb64url(p521["x"].as_str().unwrap()),
            &unb64url(p521["y"].as_str().unwrap())
        ),
        openssl_public_der("ec-p521-pkcs8.pem"),
        "P-521 SubjectPublicKeyInfo"
    );

    let server = Server::start();
    let team = server.team("algorithms").await;
    let mut failed = Vec::new();
    let mut ran = 0;
    for case in alg_cases() {
        ran += 1;
        let mut body = jwt_credential(
            team,
            &format!("alg {}", case.alg),
            case.alg,
            &case.key,
            case.lifetime,
        );
        if let Some(kid) = case.kid {
            body["jwt_headers"] = json!({ "kid": kid });
        }
        let (status, created) = server.create_credential(OWNER_KEY, body).await;
        if status != 201 {
            eprintln!("^^^ {}: create → {status}: {created}", case.alg);
            failed.push(format!("{} create", case.alg));
            continue;
        }
        let id = created["id"].as_i64().unwrap();
        let before = now_secs();
        let (status, resp) = mint(
            &server,
            Some(OWNER_KEY),
            id,
            (!case.no_body).then(|| json!({})),
        )
        .await;
        let after = now_secs();
        let (jwks_status, jwks) = server.get(&jwks_path(id), OWNER_KEY).await;
        let request = format!(
            "POST {} {}",
            token_path(id),
            if case.no_body { "(no body)" } else { "{}" }
        );
        cell(&mut failed, format!("{} mint", case.alg), &request, || {
            assert_eq!(status, 200, "{resp}");
            let token = token_of(&resp);
            let obj = resp.as_object().unwrap();
            let mut fields: Vec<&str> = obj.keys().map(String::as_str).collect();
            fields.sort_unstable();
            assert_eq!(
                fields,
                [
                    "algorithm",
                    "credential_id",
                    "expires_at",
                    "issued_at",
                    "test",
                    "token"
                ],
                "{resp}"
            );
            assert_eq!(resp["credential_id"], id, "{resp}");
            assert_eq!(resp["algorithm"], case.alg, "{resp}");
            assert_eq!(resp["test"], false, "{resp}");

            let jws = split_jws(&token);
            let mut want_header = json!({ "alg": case.alg, "typ": "JWT" });
            if let Some(kid) = case.kid {
                want_header["kid"] = json!(kid);
            }
            assert_eq!(jws.header, want_header, "header");

            let iat = jws.payload["iat"]
                .as_i64()
                .unwrap_or_else(|| panic!("iat: {}", jws.payload));
            let exp = jws.payload["exp"]
                .as_i64()
                .unwrap_or_else(|| panic!("exp: {}", jws.payload));
            let mut want_payload = payload();
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

            if case.alg.starts_with("HS") {
                let key = DecodingKey::from_secret(case.key.as_bytes());
                assert!(jwt_verifies(&token, &key, case.alg), "HMAC does not verify");
                assert!(
                    !jwt_verifies(&tampered(&token), &key, case.alg),
                    "a tampered token verifies"
                );
                let wrong = DecodingKey::from_secret(b"another secret");
                assert!(
                    !jwt_verifies(&token, &wrong, case.alg),
                    "verifies with a wrong secret"
                );
            } else {
                let jwk = &jwks["keys"][0];
                assert!(
                    verifies_with_jwk(&token, jwk, case.alg),
                    "signature does not verify with the /jwks key {jwk}"
                );
                assert!(
                    !verifies_with_jwk(&tampered(&token), jwk, case.alg),
                    "a tampered token verifies"
                );
            }
        });
        let request = format!("GET {}", jwks_path(id));
        cell(&mut failed, format!("{} jwks", case.alg), &request, || {
            if case.alg.starts_with("HS") {
                assert_refused(jwks_status, &jwks, 422);
            } else {
                assert_eq!(jwks_status, 200, "{jwks}");
                let keys = jwks["keys"]
                    .as_array()
                    .unwrap_or_else(|| panic!("no keys: {jwks}"));
                assert_eq!(keys.len(), 1, "{jwks}");
                check_public_jwk(&keys[0], &case);
            }
        });
    }

    // Without auto time claims: the payload as it is, no iat/exp, expires_at null.
    let mut body = jwt_credential(
        team,
        "no time claims",
        "ES256",
        &fixture_key("ec-p256-pkcs8.pem"),
        900,
    );
    body["jwt_auto_generate_time_claims"] = json!(false);
    let id = create(&server, body).await;
    let before = now_secs();
    let resp = mint_ok(&server, id, None).await;
    let after = now_secs();
    let jwk = jwk_of(&server, id).await;
    ran += 1;
    cell(
        &mut failed,
        "no auto time claims".into(),
        &format!("POST {}", token_path(id)),
        || {
            let token = token_of(&resp);
            let jws = split_jws(&token);
            assert_eq!(jws.payload, payload(), "payload");
            assert_eq!(resp["expires_at"], Value::Null, "{resp}");
            let issued = rfc3339_millis(&resp["issued_at"]) / 1000;
            assert!(before - 2 <= issued && issued <= after + 2, "{resp}");
            assert!(verifies_with_jwk(&token, &jwk, "ES256"));
            assert_eq!(jwk["kid"], thumbprint(&jwk).as_str(), "{jwk}");
        },
    );

    // With auto time claims, the payload's own iat/exp are overridden (default lifetime 3600).
    let id = create(
        &server,
        json!({
            "name": "overridden time claims",
            "mode": "JWT",
            "team_id": team,
            "jwt_algorithm": "EdDSA",
            "jwt_payload": { "iss": "credvault-tests", "iat": 1000, "exp": 2000, "nbf": 5 },
            "jwt_auto_generate_time_claims": true,
            "jwt_private_key": fixture_key("ed25519-pkcs8.pem"),
        }),
    )
    .await;
    let before = now_secs();
    let resp = mint_ok(&server, id, Some(json!({ "test": false }))).await;
    let after = now_secs();
    let jwk = jwk_of(&server, id).await;
    ran += 1;
    cell(
        &mut failed,
        "auto time claims override the payload's".into(),
        &format!("POST {} {{\"test\":false}}", token_path(id)),
        || {
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
        },
    );

    // Without auto time claims, the payload's own iat/exp are kept.
    let mut body = jwt_credential(
        team,
        "payload time claims kept",
        "HS256",
        "kept-secret",
        900,
    );
    body["jwt_auto_generate_time_claims"] = json!(false);
    body["jwt_payload"] = json!({ "iss": "x", "iat": 1000, "exp": 2000 });
    let id = create(&server, body).await;
    let resp = mint_ok(&server, id, None).await;
    ran += 1;
    cell(
        &mut failed,
        "payload time claims kept without auto".into(),
        &format!("POST {}", token_path(id)),
        || {
            let token = token_of(&resp);
            assert_eq!(
                split_jws(&token).payload,
                json!({ "iss": "x", "iat": 1000, "exp": 2000 })
            );
            let key = DecodingKey::from_secret(b"kept-secret");
            assert!(jwt_verifies(&token, &key, "HS256"));
        },
    );

    assert_no_failures("every algorithm", ran, &failed);
}

// ---- 2. who may mint and read the JWKS --------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Admin,
    TeamAdmin,
    Editor,
    Viewer,
    /// EDITOR of a team unrelated to the credential (a consumer of GLOBAL ones).
    OtherEditor,
    /// VIEWER of that other team.
    OtherViewer,
    /// EDITOR of the team listed in the SPECIFIC_TEAMS credential's `shared_team_slugs`.
    SpecificEditor,
    /// A user in no team at all.
    Outsider,
    NoKey,
    RevokedKey,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Access {
    Team,
    Global,
    SpecificTeams,
}

impl Access {
    fn name(self) -> &'static str {
        match self {
            Access::Team => "TEAM",
            Access::Global => "GLOBAL",
            Access::SpecificTeams => "SPECIFIC_TEAMS",
        }
    }
}

/// API.md §5 "Who may mint", with §2's 401/403/404.
fn mint_status(who: Who, access: Access) -> u16 {
    match who {
        Who::NoKey | Who::RevokedKey => 401,
        Who::Admin | Who::TeamAdmin | Who::Editor => 200,
        Who::Viewer => 403,
        Who::OtherEditor if access == Access::Global => 200,
        Who::OtherViewer if access == Access::Global => 403,
        Who::SpecificEditor if access != Access::Team => 200,
        Who::OtherEditor | Who::OtherViewer | Who::SpecificEditor | Who::Outsider => 404,
    }
}

/// "Visible to whoever may read the credential": members of the owning team and the admin.
fn jwks_status(who: Who) -> u16 {
    match who {
        Who::NoKey | Who::RevokedKey => 401,
        Who::Admin | Who::TeamAdmin | Who::Editor | Who::Viewer => 200,
        _ => 404,
    }
}

#[tokio::test]
async fn mint_and_jwks_access_matrix() {
    let server = Server::start();
    let owning = server.team("owning").await;
    let other = server.team("other").await;
    let specific = server.team("specific").await;

    let mut callers: Vec<(&str, Who, Option<String>)> =
        vec![("tenant admin", Who::Admin, Some(OWNER_KEY.into()))];
    for (name, who, email, team, role) in [
        (
            "TEAM_ADMIN of owning",
            Who::TeamAdmin,
            "ta@example.com",
            Some(owning),
            "TEAM_ADMIN",
        ),
        (
            "EDITOR of owning",
            Who::Editor,
            "ed@example.com",
            Some(owning),
            "EDITOR",
        ),
        (
            "VIEWER of owning",
            Who::Viewer,
            "vi@example.com",
            Some(owning),
            "VIEWER",
        ),
        (
            "EDITOR of other",
            Who::OtherEditor,
            "oe@example.com",
            Some(other),
            "EDITOR",
        ),
        (
            "VIEWER of other",
            Who::OtherViewer,
            "ov@example.com",
            Some(other),
            "VIEWER",
        ),
        (
            "EDITOR of specific (listed)",
            Who::SpecificEditor,
            "se@example.com",
            Some(specific),
            "EDITOR",
        ),
        (
            "outsider in no team",
            Who::Outsider,
            "out@example.com",
            None,
            "",
        ),
    ] {
        let (_, key) = server.user(email, team.map(|t| (t, role))).await;
        callers.push((name, who, Some(key)));
    }
    callers.push(("no API key", Who::NoKey, None));

    // An EDITOR of the owning team whose key is revoked.
    let (status, user) = server
        .post(
            "/api/v1/admin/users",
            OWNER_KEY,
            json!({ "email": "revoked@example.com" }),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let user_id = user["id"].as_i64().unwrap();
    server.invite(owning, user_id, "EDITOR").await;
    let keys_path = format!("/api/v1/admin/users/{user_id}/api_keys");
    let (status, key) = server
        .post(&keys_path, OWNER_KEY, json!({ "name": "soon revoked" }))
        .await;
    assert_eq!(status, 201, "{key}");
    let revoked = key["key"].as_str().unwrap().to_string();
    assert_eq!(
        server.get(&jwks_path(1_000_000), &revoked).await.0,
        404,
        "set-up: the key works before it is revoked"
    );
    let (status, _) = server
        .delete(&format!("{keys_path}/{}", key["id"]), OWNER_KEY)
        .await;
    assert_eq!(status, 204, "set-up: revoke");
    callers.push(("revoked key", Who::RevokedKey, Some(revoked)));

    let mut credentials = Vec::new();
    for access in [Access::Team, Access::Global, Access::SpecificTeams] {
        let mut body = jwt_credential(
            owning,
            &format!("shared {}", access.name()),
            "ES256",
            &fixture_key("ec-p256-pkcs8.pem"),
            900,
        );
        body["read_access"] = json!(access.name());
        if access == Access::SpecificTeams {
            body["shared_team_slugs"] = json!(["specific"]);
        }
        credentials.push((access, create(&server, body).await));
    }

    let mut failed = Vec::new();
    let mut ran = Vec::new();
    for (access, id) in &credentials {
        for (name, who, key) in &callers {
            let want = mint_status(*who, *access);
            let (status, resp) = mint(&server, key.as_deref(), *id, Some(json!({}))).await;
            let cell_name = format!("mint {} / {name}", access.name());
            ran.push(format!("{cell_name} → {want}"));
            cell(
                &mut failed,
                cell_name,
                &format!("POST {}", token_path(*id)),
                || {
                    if want == 200 {
                        assert_eq!(status, 200, "{resp}");
                        assert_eq!(resp["credential_id"], *id, "{resp}");
                        assert_eq!(resp["test"], false, "{resp}");
                        assert!(resp["token"].is_string(), "{resp}");
                    } else {
                        assert_refused(status, &resp, want);
                    }
                },
            );

            let want = jwks_status(*who);
            let path = jwks_path(*id);
            let (status, resp) = server.call(Method::GET, &path, key.as_deref(), None).await;
            let cell_name = format!("jwks {} / {name}", access.name());
            ran.push(format!("{cell_name} → {want}"));
            cell(&mut failed, cell_name, &format!("GET {path}"), || {
                if want == 200 {
                    assert_eq!(status, 200, "{resp}");
                    assert_eq!(resp["keys"][0]["kty"], "EC", "{resp}");
                } else {
                    assert_refused(status, &resp, want);
                }
            });
        }
    }
    // A credential that does not exist is a 404 for everyone with a key.
    let (status, resp) = mint(&server, Some(OWNER_KEY), 999_999, None).await;
    ran.push("mint missing / tenant admin → 404".into());
    cell(
        &mut failed,
        "mint missing".into(),
        "POST /token of a missing id",
        || assert_refused(status, &resp, 404),
    );

    eprintln!("matrix: {} cells\n  {}", ran.len(), ran.join("\n  "));
    assert_no_failures("mint/jwks matrix", ran.len(), &failed);
}

// ---- 3. allowed_hosts ---------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Target {
    Url(&'static str),
    Host(&'static str),
}

impl Target {
    fn body(self) -> Value {
        match self {
            Target::Url(url) => json!({ "url": url }),
            Target::Host(host) => json!({ "host": host }),
        }
    }
}

#[tokio::test]
async fn allowed_hosts_decide_who_gets_a_token() {
    use Target::{Host, Url};
    let table: &[(&[&str], Target, bool)] = &[
        // a plain host
        (
            &["api.example.com"],
            Url("https://api.example.com/v1/x"),
            true,
        ),
        (&["api.example.com"], Url("http://api.example.com/"), true),
        (&["api.example.com"], Url("https://API.Example.COM/"), true),
        (&["api.example.com"], Url("https://api.example.com./"), true),
        (
            &["api.example.com"],
            Url("https://api.example.com:8443/"),
            true,
        ),
        (
            &["api.example.com"],
            Url("https://user:pw@api.example.com/"),
            true,
        ),
        (
            &["api.example.com"],
            Url("https://other.example.com/"),
            false,
        ),
        (&["api.example.com"], Url("https://example.com/"), false),
        (
            &["api.example.com"],
            Url("https://api.example.com.evil.org/"),
            false,
        ),
        (
            &["api.example.com"],
            Url("https://api.example.com@evil.org/"),
            false,
        ),
        (&["api.example.com"], Host("api.example.com"), true),
        (&["api.example.com"], Host("API.EXAMPLE.COM"), true),
        (&["api.example.com"], Host("api.example.com:8443"), true),
        (&["api.example.com"], Host("api.example.com."), true),
        (&["api.example.com"], Host("evil.org"), false),
        (&["API.Example.COM"], Url("https://api.example.com/"), true),
        (&["api.example.com."], Url("https://api.example.com/"), true),
        // a wildcard
        (&["*.example.com"], Url("https://a.example.com/"), true),
        (&["*.example.com"], Url("https://a.b.example.com/"), true),
        (&["*.example.com"], Url("https://example.com/"), true),
        (&["*.example.com"], Url("https://A.EXAMPLE.COM/"), true),
        (&["*.example.com"], Url("https://evil-example.com/"), false),
        (&["*.example.com"], Url("https://notexample.com/"), false),
        (
            &["*.example.com"],
            Url("https://example.com.evil.org/"),
            false,
        ),
        (
            &["*.example.com"],
            Url("https://a.example.com.evil.org/"),
            false,
        ),
        (
            &["*.example.com"],
            Url("https://example.com@evil.org/"),
            false,
        ),
        (
            &["*.example.com"],
            Url("https://a.example.com:8443@evil.org/"),
            false,
        ),
        (&["*.example.com"], Host("evil-example.com"), false),
        (&["*.example.com"], Host("x.example.com"), true),
        // a port
        (
            &["api.example.com:8443"],
            Url("https://api.example.com:8443/"),
            true,
        ),
        (
            &["api.example.com:8443"],
            Url("https://api.example.com/"),
            false,
        ),
        (
            &["api.example.com:8443"],
            Url("https://api.example.com:9443/"),
            false,
        ),
        (
            &["api.example.com:8443"],
            Host("api.example.com:8443"),
            true,
        ),
        (&["api.example.com:8443"], Host("api.example.com"), false),
        // a path
        (
            &["api.example.com/v1/*"],
            Url("https://api.example.com/v1/users"),
            true,
        ),
        (
            &["api.example.com/v1/*"],
            Url("http://api.example.com/v1/users"),
            true,
        ),
        (
            &["api.example.com/v1/*"],
            Url("https://api.example.com/v2/users"),
            false,
        ),
        (
            &["api.example.com/v1/*"],
            Url("https://other.example.com/v1/users"),
            false,
        ),
        // a scheme
        (
            &["https://api.example.com/*"],
            Url("https://api.example.com/anything"),
            true,
        ),
        (
            &["https://api.example.com/*"],
            Url("HTTPS://API.EXAMPLE.COM/anything"),
            true,
        ),
        (
            &["https://api.example.com/*"],
            Url("http://api.example.com/anything"),
            false,
        ),
        (
            &["https://api.example.com/*"],
            Url("https://evil.org/api.example.com/x"),
            false,
        ),
        // several patterns
        (
            &["a.example.org", "b.example.net"],
            Url("https://b.example.net/"),
            true,
        ),
        (
            &["a.example.org", "b.example.net"],
            Host("a.example.org"),
            true,
        ),
        (
            &["a.example.org", "b.example.net"],
            Url("https://c.example.net/"),
            false,
        ),
    ];

    let server = Server::start();
    let team = server.team("hosts").await;
    let mut ids: Vec<(Vec<String>, i64)> = Vec::new();
    let mut failed = Vec::new();
    for (patterns, target, allow) in table {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        let id = match ids.iter().find(|(p, _)| *p == patterns) {
            Some((_, id)) => *id,
            None => {
                let mut body = jwt_body(team, &format!("hosts {}", ids.len()));
                body["allowed_hosts"] = json!(patterns);
                let id = create(&server, body).await;
                ids.push((patterns.clone(), id));
                id
            }
        };
        let body = target.body();
        let (status, resp) = mint(&server, Some(OWNER_KEY), id, Some(body.clone())).await;
        let want = if *allow { 200 } else { 403 };
        cell(
            &mut failed,
            format!("{patterns:?} vs {target:?} → {want}"),
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

    // A restricted credential needs a url or host; malformed ones are 422.
    let restricted = ids[0].1;
    let mut ran = table.len();
    let checks: Vec<(&str, Option<Value>, u16, Option<&str>)> = vec![
        ("restricted, no body", None, 403, None),
        ("restricted, {}", Some(json!({})), 403, None),
        (
            "restricted, url not a URL",
            Some(json!({ "url": "not-a-url" })),
            422,
            Some("url"),
        ),
        (
            "restricted, url with a bad port",
            Some(json!({ "url": "https://api.example.com:notaport/" })),
            422,
            Some("url"),
        ),
        (
            "restricted, host with a space",
            Some(json!({ "host": "bad host" })),
            422,
            Some("host"),
        ),
    ];
    for (name, body, want, field) in checks {
        ran += 1;
        let (status, resp) = mint(&server, Some(OWNER_KEY), restricted, body.clone()).await;
        cell(
            &mut failed,
            name.into(),
            &format!("POST {} {body:?}", token_path(restricted)),
            || match field {
                Some(field) => assert_error(status, &resp, want, Some(field), field),
                None => assert_refused(status, &resp, want),
            },
        );
    }

    // An unrestricted credential mints with or without a url/host.
    let open = create(&server, jwt_body(team, "unrestricted")).await;
    for body in [
        None,
        Some(json!({ "url": "https://anywhere.example.org/x" })),
        Some(json!({ "host": "anywhere.example.org" })),
    ] {
        ran += 1;
        let (status, resp) = mint(&server, Some(OWNER_KEY), open, body.clone()).await;
        cell(
            &mut failed,
            format!("unrestricted {body:?}"),
            &format!("POST {} {body:?}", token_path(open)),
            || assert_eq!(status, 200, "{resp}"),
        );
    }
    assert_no_failures("allowed_hosts", ran, &failed);
}

// ---- 4. expiry and test credentials ---------------------------------------------------------

#[tokio::test]
async fn expired_credentials_and_test_credentials() {
    let server = Server::start();
    let team = server.team("policies").await;

    // expires_at in the past → 403; in the future → 200.
    let mut body = jwt_body(team, "expired");
    body["expires_at"] = json!("2020-01-01T00:00:00.000Z");
    let expired = create(&server, body).await;
    let (status, resp) = mint(&server, Some(OWNER_KEY), expired, None).await;
    assert_refused(status, &resp, 403);
    let mut body = jwt_body(team, "not yet expired");
    body["expires_at"] = json!("2099-01-01T00:00:00.000Z");
    let future = create(&server, body).await;
    mint_ok(&server, future, None).await;

    // Expiring in 2 s: mints now (and is cached), refused once the time has passed.
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let soon = soon
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut body = jwt_body(team, "expiring soon");
    body["expires_at"] = json!(soon);
    let expiring = create(&server, body).await;
    mint_ok(&server, expiring, None).await;
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let (status, resp) = mint(&server, Some(OWNER_KEY), expiring, None).await;
    assert_refused(status, &resp, 403);

    // An expiry set in the past by PUT refuses at once, cached token or not.
    mint_ok(&server, future, None).await;
    put(
        &server,
        future,
        json!({ "mode": "JWT", "expires_at": "2021-01-01T00:00:00.000Z" }),
    )
    .await;
    let (status, resp) = mint(&server, Some(OWNER_KEY), future, None).await;
    assert_refused(status, &resp, 403);

    // Test credentials.
    let live_key = fixture_key("ec-p256-pkcs8.pem");
    let test_key = fixture_key("ec-p256-sec1-noparams.pem");
    let live = create(
        &server,
        jwt_credential(team, "with a test credential", "ES256", &live_key, 900),
    )
    .await;
    let live_jwk = jwk_of(&server, live).await;
    let test_jwk = p256_public_jwk("ec-p256-sec1-noparams.pem");
    assert_ne!(live_jwk["x"], test_jwk["x"], "set-up: two different keys");

    let (status, resp) = mint(
        &server,
        Some(OWNER_KEY),
        live,
        Some(json!({ "test": true })),
    )
    .await;
    assert_refused(status, &resp, 403);

    let (status, attached) = server
        .create_credential(
            OWNER_KEY,
            json!({
                "mode": "JWT",
                "live_credential_id": live,
                "jwt_algorithm": "ES256",
                "jwt_payload": { "iss": "credvault-tests-sandbox", "sub": "svc-test" },
                "jwt_auto_generate_time_claims": true,
                "jwt_lifetime_seconds": 300,
                "jwt_private_key": test_key,
            }),
        )
        .await;
    assert_eq!(status, 201, "attach: {attached}");
    assert_eq!(attached["id"], live, "{attached}");
    assert_eq!(attached["test_credential_enabled"], true, "{attached}");

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
    // The live credential still mints with the live key and payload.
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

    // Disabled: test → 403, live still mints.
    let updated = put(
        &server,
        live,
        json!({ "mode": "JWT", "test_credential_enabled": false }),
    )
    .await;
    assert_eq!(updated["test_credential_enabled"], false, "{updated}");
    let (status, resp) = mint(
        &server,
        Some(OWNER_KEY),
        live,
        Some(json!({ "test": true })),
    )
    .await;
    assert_refused(status, &resp, 403);
    let resp = mint_ok(&server, live, None).await;
    assert_eq!(resp["test"], false, "{resp}");
    assert!(verifies_with_jwk(&token_of(&resp), &live_jwk, "ES256"));

    // Enabled again: test mints again.
    put(
        &server,
        live,
        json!({ "mode": "JWT", "test_credential_enabled": true }),
    )
    .await;
    let resp = mint_ok(&server, live, Some(json!({ "test": true }))).await;
    assert!(verifies_with_jwk(&token_of(&resp), &test_jwk, "ES256"));
}

// ---- 5. key rotation ------------------------------------------------------------------------

#[tokio::test]
async fn key_rotation_by_put_switches_the_verifying_key() {
    let server = Server::start();
    let team = server.team("rotation").await;
    for (alg, old_key, new_key) in [
        ("ES256", "ec-p256-pkcs8.pem", "ec-p256-sec1-noparams.pem"),
        ("RS256", "rsa2048-pkcs8.pem", "rsa3072-pkcs8.pem"),
    ] {
        let id = create(
            &server,
            jwt_credential(
                team,
                &format!("rotate {alg}"),
                alg,
                &fixture_key(old_key),
                900,
            ),
        )
        .await;
        let old_jwk = jwk_of(&server, id).await;
        let before = token_of(&mint_ok(&server, id, None).await);
        assert!(verifies_with_jwk(&before, &old_jwk, alg), "{alg} before");

        put(
            &server,
            id,
            json!({ "mode": "JWT", "jwt_private_key": fixture_key(new_key) }),
        )
        .await;
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

// ---- 6. token cache -----------------------------------------------------------------------

#[tokio::test]
async fn token_cache_reuses_and_forgets_tokens() {
    // Two instances sharing one database, default token cache (30 s).
    let dir = TempDir::new().unwrap();
    let a = Server::start_in(dir.path(), &[]).expect("instance a");
    let b = Server::start_in(dir.path(), &[]).expect("instance b");
    let team = a.team("cache").await;
    let id = create(
        &a,
        jwt_credential(
            team,
            "cached",
            "ES256",
            &fixture_key("ec-p256-pkcs8.pem"),
            3600,
        ),
    )
    .await;
    let first = mint_ok(&a, id, None).await;
    let second = mint_ok(&a, id, None).await;
    assert_eq!(
        token_of(&first),
        token_of(&second),
        "two mints in a row: the token is reused"
    );
    assert_eq!(first, second);

    // A PUT on this instance: a new token.
    put(
        &a,
        id,
        json!({ "mode": "JWT", "description": "changed on a" }),
    )
    .await;
    let third = token_of(&mint_ok(&a, id, None).await);
    assert_ne!(
        third,
        token_of(&first),
        "a token of the old version after a PUT"
    );
    assert_eq!(
        token_of(&mint_ok(&a, id, None).await),
        third,
        "reused again"
    );

    // A PUT on the other instance: a new token here too.
    let (status, resp) = b
        .call(
            Method::PUT,
            &format!("{CREDENTIALS}/{id}"),
            Some(OWNER_KEY),
            Some(json!({ "mode": "JWT", "jwt_payload": { "iss": "changed on b" } })),
        )
        .await;
    assert_eq!(status, 200, "{resp}");
    let fourth = token_of(&mint_ok(&a, id, None).await);
    assert_ne!(
        fourth, third,
        "instance a handed out a token of the old version"
    );
    assert_eq!(split_jws(&fourth).payload["iss"], "changed on b");
    let jwk = jwk_of(&a, id).await;
    assert!(verifies_with_jwk(&fourth, &jwk, "ES256"));

    // A short lifetime caps the window at 10%: 5 s → at most 0.5 s.
    let short = create(
        &a,
        jwt_credential(
            team,
            "short lived",
            "ES256",
            &fixture_key("ec-p256-pkcs8.pem"),
            5,
        ),
    )
    .await;
    let one = token_of(&mint_ok(&a, short, None).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let two = token_of(&mint_ok(&a, short, None).await);
    assert_ne!(one, two, "a 5 s token was reused after 1 s");

    // DELETE on the other instance: 404 on both at once.
    mint_ok(&a, id, None).await;
    let (status, _) = b.delete(&format!("{CREDENTIALS}/{id}"), OWNER_KEY).await;
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
    let id = create(
        &server,
        jwt_credential(
            team,
            "uncached",
            "ES256",
            &fixture_key("ec-p256-pkcs8.pem"),
            3600,
        ),
    )
    .await;
    let one = token_of(&mint_ok(&server, id, None).await);
    let two = token_of(&mint_ok(&server, id, None).await);
    assert_ne!(one, two, "the token cache is off, yet a token was reused");
    let jwk = jwk_of(&server, id).await;
    assert!(verifies_with_jwk(&one, &jwk, "ES256"));
    assert!(verifies_with_jwk(&two, &jwk, "ES256"));
    let (status, _) = server
        .delete(&format!("{CREDENTIALS}/{id}"), OWNER_KEY)
        .await;
    assert_eq!(status, 204);
    let (status, resp) = mint(&server, Some(OWNER_KEY), id, None).await;
    assert_refused(status, &resp, 404);
}

// ---- 7. UNUSED_IN_ACTIONS -------------------------------------------------------------------

async fn unused_ids(server: &Server) -> Vec<i64> {
    let (status, body) = server
        .get(
            &format!("{CREDENTIALS}?filter=UNUSED_IN_ACTIONS&per_page=500"),
            OWNER_KEY,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    listed_ids(&body)
}

#[tokio::test]
async fn minting_marks_a_credential_used() {
    let server = Server::start();
    let team = server.team("usage").await;
    let used = create(&server, jwt_body(team, "to be used")).await;
    let idle = create(&server, jwt_body(team, "never used")).await;
    let listed = unused_ids(&server).await;
    assert!(
        listed.contains(&used) && listed.contains(&idle),
        "{listed:?}"
    );

    // A refused mint is no use.
    let (status, _) = mint(&server, None, used, None).await;
    assert_eq!(status, 401);
    mint_ok(&server, used, None).await;
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
}

// ---- 8. metrics ---------------------------------------------------------------------------

/// The value of the sample `series` (name with labels, exactly) in a Prometheus text body.
#[track_caller]
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{metrics}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn metrics_count_mints_and_cache_lookups() {
    let server = Server::start();
    let team = server.team("metrics").await;
    let open = create(&server, jwt_body(team, "open")).await;
    let mut body = jwt_body(team, "restricted");
    body["allowed_hosts"] = json!(["api.example.com"]);
    let restricted = create(&server, body).await;

    // Three mints of one: one fresh token, reused twice.
    let tokens = [
        token_of(&mint_ok(&server, open, None).await),
        token_of(&mint_ok(&server, open, None).await),
        token_of(&mint_ok(&server, open, None).await),
    ];
    assert!(tokens.iter().all(|t| *t == tokens[0]), "not reused");
    // One signed and one refused mint of the other.
    mint_ok(
        &server,
        restricted,
        Some(json!({ "url": "https://api.example.com/" })),
    )
    .await;
    let (status, resp) = mint(&server, Some(OWNER_KEY), restricted, None).await;
    assert_refused(status, &resp, 403);

    let text = server.metrics().await;
    assert_eq!(
        sample(
            &text,
            r#"credvault_mints_total{algorithm="ES256",outcome="signed"}"#
        ),
        4.0
    );
    assert_eq!(
        sample(
            &text,
            r#"credvault_mints_total{algorithm="ES256",outcome="refused"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            r#"credvault_token_cache_requests_total{result="hit"}"#
        ),
        2.0
    );
    assert_eq!(
        sample(
            &text,
            r#"credvault_token_cache_requests_total{result="miss"}"#
        ),
        2.0
    );
    // Each credential's key was loaded once, for its first token.
    assert_eq!(
        sample(
            &text,
            r#"credvault_key_cache_requests_total{result="miss"}"#
        ),
        2.0
    );
    assert_eq!(
        sample(&text, r#"credvault_key_cache_requests_total{result="hit"}"#),
        0.0
    );
}
