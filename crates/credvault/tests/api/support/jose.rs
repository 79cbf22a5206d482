//! JOSE helpers for checking minted tokens independently of the server: a compact JWS taken
//! apart, signatures verified with the `jsonwebtoken` crate (RustCrypto backend) or, for
//! ES512 (which `jsonwebtoken` lacks), the `openssl` command, and RFC 7638 thumbprints.

use std::process::Command;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use super::fixtures::fixture_path;

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[track_caller]
pub fn unb64url(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_else(|e| panic!("not base64url ({e}): {text:?}"))
}

/// A compact JWS taken apart.
pub struct Jws {
    pub header: Value,
    pub payload: Value,
    /// `base64url(header).base64url(payload)`
    pub input: String,
    pub signature_b64: String,
    pub signature: Vec<u8>,
}

#[track_caller]
pub fn split_jws(token: &str) -> Jws {
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
pub fn jwt_verifies(token: &str, key: &DecodingKey, alg: &str) -> bool {
    let jws = split_jws(token);
    let alg = Algorithm::from_str(alg).unwrap_or_else(|e| panic!("{alg}: {e}"));
    jsonwebtoken::crypto::verify(&jws.signature_b64, jws.input.as_bytes(), key, alg)
        .unwrap_or_else(|e| panic!("verifier refused the key or signature: {e}"))
}

/// Whether `token`'s signature verifies with the public JWK `jwk` under `alg`.
#[track_caller]
pub fn verifies_with_jwk(token: &str, jwk: &Value, alg: &str) -> bool {
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
pub fn tampered(token: &str) -> String {
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
pub fn p521_spki_der(x: &[u8], y: &[u8]) -> Vec<u8> {
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
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// `openssl pkey -pubout -outform DER` of a fixture key.
pub fn openssl_public_der(fixture: &str) -> Vec<u8> {
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
pub fn p256_public_jwk(fixture: &str) -> Value {
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
pub fn thumbprint(jwk: &Value) -> String {
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
