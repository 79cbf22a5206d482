//! JWS algorithms and the compact JWT encoding.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::keys::SigningKey;

/// The 13 JOSE signature algorithms credvault signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
}

/// The NIST curves of the ES* algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// The JWK `crv` name.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }
}

/// What kind of key an algorithm signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Hmac,
    Rsa,
    Ec(Curve),
    Ed25519,
}

impl Algorithm {
    pub const ALL: [Algorithm; 13] = [
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ];
    pub const NAMES: &'static str =
        "HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA";

    /// Case-insensitive; also takes Tines' legacy `rsa256`, `rsa384` and `rsa512`.
    pub fn parse(text: &str) -> Option<Algorithm> {
        let upper = text.to_ascii_uppercase();
        let canonical = match upper.as_str() {
            "RSA256" => "RS256",
            "RSA384" => "RS384",
            "RSA512" => "RS512",
            other => other,
        };
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(canonical))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    pub fn family(self) -> KeyFamily {
        match self {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => KeyFamily::Hmac,
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyFamily::Rsa,
            Algorithm::ES256 => KeyFamily::Ec(Curve::P256),
            Algorithm::ES384 => KeyFamily::Ec(Curve::P384),
            Algorithm::ES512 => KeyFamily::Ec(Curve::P521),
            Algorithm::EdDSA => KeyFamily::Ed25519,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Algorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Algorithm::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown JWS algorithm {text:?}")))
    }
}

/// A JWT credential's non-secret settings, stored and shown under the API's field names.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JwtSettings {
    #[serde(rename = "jwt_algorithm")]
    pub algorithm: Algorithm,
    #[serde(rename = "jwt_payload")]
    pub payload: Map<String, Value>,
    #[serde(rename = "jwt_auto_generate_time_claims")]
    pub auto_time_claims: bool,
    #[serde(rename = "jwt_headers")]
    pub headers: Map<String, Value>,
    #[serde(rename = "jwt_lifetime_seconds")]
    pub lifetime_seconds: i64,
    /// Rotate the key automatically this long after it last changed (API.md §6); None: never.
    #[serde(rename = "jwt_rotation_period_seconds", default)]
    pub rotation_period_seconds: Option<i64>,
}

/// The shortest and longest `jwt_rotation_period_seconds` (a minute, ten years).
pub const ROTATION_PERIOD_SECONDS: std::ops::RangeInclusive<i64> = 60..=315_360_000;

/// Tines' lifetime for automatic time claims.
pub const DEFAULT_LIFETIME_SECONDS: i64 = 3600;
pub const MAX_LIFETIME_SECONDS: i64 = 86_400;

#[derive(Debug, thiserror::Error)]
#[error("the signature could not be computed")]
pub struct SignError;

/// The JOSE header: `alg` and `typ` first, then the credential's extra header fields. `alg`
/// always comes from the key; `typ` may be overridden (e.g. `at+jwt`).
pub fn header(alg: Algorithm, extra: &Map<String, Value>) -> Map<String, Value> {
    let mut header = Map::with_capacity(2 + extra.len());
    header.insert("alg".into(), Value::from(alg.as_str()));
    header.insert("typ".into(), Value::from("JWT"));
    for (name, value) in extra {
        if name != "alg" {
            header.insert(name.clone(), value.clone());
        }
    }
    header
}

/// Signs `claims` into a compact JWS: `base64url(header).base64url(claims).base64url(sig)`.
pub fn encode(
    key: &SigningKey,
    extra_header: &Map<String, Value>,
    claims: &Map<String, Value>,
) -> Result<String, SignError> {
    let header =
        serde_json::to_vec(&header(key.algorithm(), extra_header)).map_err(|_| SignError)?;
    let claims = serde_json::to_vec(claims).map_err(|_| SignError)?;
    let mut token = String::with_capacity((header.len() + claims.len()) * 4 / 3 + 700);
    URL_SAFE_NO_PAD.encode_string(&header, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
    let signature = key.sign(token.as_bytes()).map_err(|_| SignError)?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
    Ok(token)
}

/// The claims of a token minted at `now` (Unix seconds): the payload, with `iat` and `exp`
/// set (overriding any in the payload) when automatic time claims are on.
pub fn claims(
    payload: &Map<String, Value>,
    auto_time_claims: bool,
    lifetime_seconds: i64,
    now: i64,
) -> Map<String, Value> {
    let mut claims = payload.clone();
    if auto_time_claims {
        claims.insert("iat".into(), Value::from(now));
        claims.insert("exp".into(), Value::from(now + lifetime_seconds));
    }
    claims
}

/// A key ready to mint with: its settings, its `kid`, and the encoded JOSE header, which is the
/// same for every token of this key.
pub struct PreparedKey {
    pub key: SigningKey,
    pub settings: JwtSettings,
    /// The `kid` of every token and of the key's JWK (API.md §5); None only for an HMAC key
    /// whose `jwt_headers` give none.
    pub kid: Option<String>,
    header_b64: String,
}

/// A key's `kid`: `jwt_headers.kid` when given (a string as it is, any other JSON value as its
/// text), else for an asymmetric key the RFC 7638 thumbprint of its public JWK. An HMAC key
/// without one has none: a hash of a shared secret is not published.
pub fn key_id(key: &SigningKey, headers: &Map<String, Value>) -> Option<String> {
    match headers.get("kid") {
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(other) => Some(other.to_string()),
        None => key
            .public_jwk()
            .map(|jwk| crate::keys::jwk_thumbprint(&jwk)),
    }
}

impl std::fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PreparedKey({:?})", self.key)
    }
}

/// A minted token and the times it carries (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minted {
    pub token: String,
    pub issued_at: i64,
    /// `exp`, when automatic time claims are on.
    pub expires_at: Option<i64>,
}

impl PreparedKey {
    pub fn new(key: SigningKey, settings: JwtSettings) -> PreparedKey {
        let kid = key_id(&key, &settings.headers);
        let mut extra = settings.headers.clone();
        if let Some(kid) = &kid {
            // In the header as the JWKS has it, so that JWKS clients find the key.
            extra.insert("kid".into(), Value::from(kid.as_str()));
        }
        let header = serde_json::to_vec(&header(key.algorithm(), &extra))
            .expect("JSON values always serialise");
        PreparedKey {
            header_b64: URL_SAFE_NO_PAD.encode(header),
            kid,
            key,
            settings,
        }
    }

    /// About how much memory this key holds, for caches bounded by bytes: the parsed JSON
    /// documents take a few times their text, and a key pair a few KiB (RSA 8192 the most).
    pub fn approx_bytes(&self) -> usize {
        const KEY_PAIR: usize = 16 * 1024;
        const JSON_IN_MEMORY: usize = 4;
        let documents = crate::limits::compact_len(&self.settings.payload)
            + crate::limits::compact_len(&self.settings.headers);
        KEY_PAIR + JSON_IN_MEMORY * documents + self.header_b64.len()
    }

    /// Signs a fresh token at `now` (Unix seconds).
    pub fn mint(&self, now: i64) -> Result<Minted, SignError> {
        let s = &self.settings;
        let claims = claims(&s.payload, s.auto_time_claims, s.lifetime_seconds, now);
        let claims = serde_json::to_vec(&claims).map_err(|_| SignError)?;
        let mut token = String::with_capacity(self.header_b64.len() + claims.len() * 4 / 3 + 700);
        token.push_str(&self.header_b64);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
        let signature = self.key.sign(token.as_bytes()).map_err(|_| SignError)?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(Minted {
            token,
            issued_at: now,
            expires_at: s.auto_time_claims.then_some(now + s.lifetime_seconds),
        })
    }
}

/// Signs like [`encode`] and then checks the signature with the key's public half, so that a
/// key whose private and public parts disagree is refused before it is stored.
pub fn trial_sign(
    key: &SigningKey,
    extra_header: &Map<String, Value>,
    claims: &Map<String, Value>,
) -> Result<String, SignError> {
    let token = encode(key, extra_header, claims)?;
    let (input, sig) = token.rsplit_once('.').ok_or(SignError)?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| SignError)?;
    if key.verify(input.as_bytes(), &sig) {
        Ok(token)
    } else {
        Err(SignError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names() {
        assert_eq!(Algorithm::parse("rs256"), Some(Algorithm::RS256));
        assert_eq!(Algorithm::parse("rsa256"), Some(Algorithm::RS256));
        assert_eq!(Algorithm::parse("EDDSA"), Some(Algorithm::EdDSA));
        assert_eq!(Algorithm::parse("none"), None);
        assert_eq!(Algorithm::parse("ES256K"), None);
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::parse(a.as_str()), Some(a));
        }
        assert_eq!(Algorithm::NAMES.split(", ").count(), 13);
    }

    #[test]
    fn header_keeps_alg() {
        let mut extra = Map::new();
        extra.insert("kid".into(), "k1".into());
        extra.insert("alg".into(), "none".into());
        let h = header(Algorithm::ES256, &extra);
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#
        );
    }
}
