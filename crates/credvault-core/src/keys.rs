//! Private keys: parsing every accepted format, checking the key fits the algorithm, and the
//! normalised form in which keys are stored (sealed) and loaded again for signing.
//!
//! Accepted: PEM PKCS#8 (`PRIVATE KEY`), encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`, with a
//! passphrase), PKCS#1 (`RSA PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`), and private JWKs (RSA, EC,
//! OKP/Ed25519). HS* algorithms take the shared secret as given. Error messages describe the
//! key (its kind, curve, format) and never contain any of its bytes.

use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPairComponents, PublicKeyComponents};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair, RsaKeyPair,
    UnparsedPublicKey,
};
use aws_lc_rs::{encoding::AsDer, hmac};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use pkcs8::der::asn1::ObjectIdentifier;
use zeroize::Zeroizing;

use crate::jwt::{Algorithm, Curve, KeyFamily};

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");
const OID_ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
const OID_X448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.111");
const OID_DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");

const MIN_RSA_BITS: usize = 2048;

/// Most PBKDF2 iterations an encrypted key may ask for (API.md §12): about a second of CPU.
pub const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;
/// Most memory scrypt may ask for (128·N·r bytes), and most work (N·r·p), per API.md §12.
pub const MAX_SCRYPT_MEMORY: u64 = 64 * 1024 * 1024;
pub const MAX_SCRYPT_WORK: u64 = 1 << 22;

/// Why a key was refused. Each message names `jwt_private_key` and says what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("jwt_private_key must not be empty")]
    Empty,
    #[error("jwt_private_key is not a PEM private key (PKCS#8, PKCS#1 or SEC1) or a private JWK")]
    NotRecognised,
    #[error("jwt_private_key is a public key or certificate; a private key is needed")]
    PublicKey,
    #[error("jwt_private_key is {found}, but {alg} needs {expected}")]
    WrongKind {
        alg: Algorithm,
        expected: &'static str,
        found: String,
    },
    #[error("jwt_private_key is an RSA key of fewer than {MIN_RSA_BITS} bits; RSA keys must have at least {MIN_RSA_BITS} bits")]
    RsaTooShort,
    #[error("jwt_private_key is an RSA key of more than 8192 bits, which is not supported")]
    RsaTooLong,
    #[error("jwt_private_key is encrypted; give its passphrase in jwt_private_key_passphrase")]
    PassphraseRequired,
    #[error("jwt_private_key could not be decrypted with the given jwt_private_key_passphrase")]
    WrongPassphrase,
    #[error("jwt_private_key is a legacy encrypted PEM (Proc-Type: 4,ENCRYPTED), which is not supported; convert it to encrypted PKCS#8 with `openssl pkcs8 -topk8`")]
    LegacyEncrypted,
    #[error("jwt_private_key is {0}, which is not supported")]
    Unsupported(String),
    /// The key derivation parameters of an encrypted key ask for more work than allowed.
    #[error("jwt_private_key is encrypted with {0}")]
    KdfTooCostly(String),
    #[error("jwt_private_key is malformed: {0}")]
    Malformed(&'static str),
}

/// A parsed key, ready to sign with its algorithm. `Debug` shows only the algorithm.
pub struct SigningKey {
    alg: Algorithm,
    pair: Pair,
}

// HMAC keys hold their precomputed pad states inline; boxing them keeps every variant small.
enum Pair {
    Hmac(Box<hmac::Key>),
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, <redacted>)", self.alg)
    }
}

/// A freshly parsed key and its normalised stored form (to be sealed before it is written).
pub struct ParsedKey {
    pub key: SigningKey,
    pub stored: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ParsedKey({:?})", self.key)
    }
}

// The stored form starts with a tag for the key family, so that switching a credential's
// algorithm to another family (RS256 → HS256) can never reinterpret a private key as a secret.
const TAG_HMAC: u8 = b'H';
const TAG_RSA: u8 = b'R';
const TAG_EC: u8 = b'E';
const TAG_ED25519: u8 = b'O';

impl SigningKey {
    /// The modulus size of an RSA key; None for other keys.
    pub fn rsa_bits(&self) -> Option<u32> {
        match &self.pair {
            Pair::Rsa(pair) => u32::try_from(pair.public_modulus_len() * 8).ok(),
            _ => None,
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
        match &self.pair {
            Pair::Hmac(key) => Ok(hmac::sign(key, message).as_ref().to_vec()),
            Pair::Rsa(pair) => {
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_SHA384,
                    _ => &signature::RSA_PSS_SHA512,
                };
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(padding, &SystemRandom::new(), message, &mut sig)?;
                Ok(sig)
            }
            Pair::Ec(pair) => Ok(pair.sign(&SystemRandom::new(), message)?.as_ref().to_vec()),
            Pair::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }

    /// The public key as a JWK (`kty` and its members), or None for HMAC secrets, which have
    /// no public half.
    pub fn public_jwk(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        use serde_json::json;
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let jwk = match &self.pair {
            Pair::Hmac(_) => return None,
            Pair::Rsa(pair) => {
                let public = pair.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                })
            }
            Pair::Ec(pair) => {
                // Uncompressed point: 0x04 || x || y, coordinates of equal length.
                let point = pair.public_key().as_ref();
                let (x, y) = point[1..].split_at((point.len() - 1) / 2);
                let crv = match self.alg {
                    Algorithm::ES256 => Curve::P256,
                    Algorithm::ES384 => Curve::P384,
                    _ => Curve::P521,
                };
                json!({ "kty": "EC", "crv": crv.name(), "x": b64(x), "y": b64(y) })
            }
            Pair::Ed(pair) => {
                json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref()) })
            }
        };
        match jwk {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// Checks a signature with the public half (or the secret, for HMAC). Used for the trial
    /// signature at create time, which catches private keys whose parts do not belong together.
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        let (alg, public): (&'static dyn signature::VerificationAlgorithm, &[u8]) = match &self.pair
        {
            Pair::Hmac(key) => return hmac::verify(key, message, sig).is_ok(),
            Pair::Rsa(pair) => (
                match self.alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    _ => &signature::RSA_PSS_2048_8192_SHA512,
                },
                pair.public_key().as_ref(),
            ),
            Pair::Ec(pair) => (
                match self.alg {
                    Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
                    Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
                    _ => &signature::ECDSA_P521_SHA512_FIXED,
                },
                pair.public_key().as_ref(),
            ),
            Pair::Ed(pair) => (&signature::ED25519, pair.public_key().as_ref()),
        };
        UnparsedPublicKey::new(alg, public)
            .verify(message, sig)
            .is_ok()
    }
}

/// The RFC 7638 thumbprint of a public JWK: SHA-256 over its required members in
/// lexicographic order, without whitespace, base64url-encoded.
pub fn jwk_thumbprint(jwk: &serde_json::Map<String, serde_json::Value>) -> String {
    let members: &[&str] = match jwk.get("kty").and_then(|v| v.as_str()) {
        Some("RSA") => &["e", "kty", "n"],
        Some("EC") => &["crv", "kty", "x", "y"],
        _ => &["crv", "kty", "x"],
    };
    let canonical: serde_json::Map<String, serde_json::Value> = members
        .iter()
        .filter_map(|m| jwk.get(*m).map(|v| (m.to_string(), v.clone())))
        .collect();
    // serde_json keeps insertion order (preserve_order), which is the sorted order above.
    let text = serde_json::to_string(&canonical).expect("JSON values always serialise");
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        text.as_bytes(),
    ))
}

/// Parses `text` as a key for `alg`, decrypting it with `passphrase` if it is encrypted.
pub fn parse_private_key(
    alg: Algorithm,
    text: &str,
    passphrase: Option<&str>,
) -> Result<ParsedKey, KeyError> {
    if text.trim().is_empty() {
        return Err(KeyError::Empty);
    }
    if alg.family() == KeyFamily::Hmac {
        return Ok(hmac_key(alg, text.as_bytes()));
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return parse_jwk(alg, trimmed);
    }
    parse_pem(alg, text, passphrase)
}

/// Loads a key from its stored form; `alg` may differ from the one it was created for (an
/// algorithm change re-checks the stored key), so the fit is checked again.
pub fn load_stored_key(alg: Algorithm, stored: &[u8]) -> Result<SigningKey, KeyError> {
    let (tag, der) = stored
        .split_first()
        .ok_or(KeyError::Malformed("empty stored key"))?;
    match (*tag, alg.family()) {
        (TAG_HMAC, KeyFamily::Hmac) => Ok(hmac_key(alg, der).key),
        (TAG_RSA, KeyFamily::Rsa) => Ok(SigningKey {
            alg,
            pair: Pair::Rsa(RsaKeyPair::from_pkcs8(der).map_err(rsa_rejection)?),
        }),
        (TAG_EC, KeyFamily::Ec(_)) => {
            let found = [Curve::P256, Curve::P384, Curve::P521]
                .into_iter()
                .find(|c| EcdsaKeyPair::from_pkcs8(ec_signing(*c), der).is_ok())
                .ok_or(KeyError::Malformed("stored EC key"))?;
            Ok(ec_from_pkcs8(alg, found, der)?.key)
        }
        (TAG_ED25519, KeyFamily::Ed25519) => Ok(ed25519_from_pkcs8(alg, der)?.key),
        (tag, _) => Err(wrong_kind(
            alg,
            match tag {
                TAG_HMAC => "a shared secret",
                TAG_RSA => "an RSA key",
                TAG_EC => "an EC key",
                _ => "an Ed25519 key",
            }
            .to_string(),
        )),
    }
}

fn expected_kind(alg: Algorithm) -> &'static str {
    match alg.family() {
        KeyFamily::Hmac => "a shared secret",
        KeyFamily::Rsa => "an RSA private key",
        KeyFamily::Ec(Curve::P256) => "an EC private key on curve P-256",
        KeyFamily::Ec(Curve::P384) => "an EC private key on curve P-384",
        KeyFamily::Ec(Curve::P521) => "an EC private key on curve P-521",
        KeyFamily::Ed25519 => "an Ed25519 private key",
    }
}

fn wrong_kind(alg: Algorithm, found: String) -> KeyError {
    KeyError::WrongKind {
        alg,
        expected: expected_kind(alg),
        found,
    }
}

fn stored(tag: u8, der: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(der.len() + 1));
    out.push(tag);
    out.extend_from_slice(der);
    out
}

fn hmac_key(alg: Algorithm, secret: &[u8]) -> ParsedKey {
    let digest = match alg {
        Algorithm::HS256 => hmac::HMAC_SHA256,
        Algorithm::HS384 => hmac::HMAC_SHA384,
        _ => hmac::HMAC_SHA512,
    };
    ParsedKey {
        key: SigningKey {
            alg,
            pair: Pair::Hmac(Box::new(hmac::Key::new(digest, secret))),
        },
        stored: stored(TAG_HMAC, secret),
    }
}

// ---------------------------------------------------------------------------------------------
// PEM

struct PemBlock {
    label: String,
    der: Zeroizing<Vec<u8>>,
}

/// Finds every `-----BEGIN X-----` … `-----END X-----` block. Tolerates keys pasted with spaces
/// instead of newlines and with literal `\n` escapes, which both happen when keys are copied
/// through JSON and web forms.
fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, KeyError> {
    let text = Zeroizing::new(text.replace("\\n", "\n").replace("\\r", ""));
    let mut blocks = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after.find("-----").ok_or(KeyError::NotRecognised)?;
        let label = after[..label_end].trim().to_string();
        let body_and_rest = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let body_end = body_and_rest
            .find(&end_marker)
            .ok_or(KeyError::Malformed("PEM block without its END line"))?;
        let body = &body_and_rest[..body_end];
        if body.contains("Proc-Type:") && body.contains("ENCRYPTED") {
            return Err(KeyError::LegacyEncrypted);
        }
        let compact: Zeroizing<String> =
            Zeroizing::new(body.chars().filter(|c| !c.is_whitespace()).collect());
        let der = STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| KeyError::Malformed("PEM body is not valid base64"))?;
        blocks.push(PemBlock {
            label,
            der: Zeroizing::new(der),
        });
        rest = &body_and_rest[body_end + end_marker.len()..];
    }
    Ok(blocks)
}

fn parse_pem(alg: Algorithm, text: &str, passphrase: Option<&str>) -> Result<ParsedKey, KeyError> {
    let blocks = pem_blocks(text)?;
    if blocks.is_empty() {
        return Err(KeyError::NotRecognised);
    }
    // `openssl ecparam -genkey` writes an `EC PARAMETERS` block before the key; skip such blocks.
    let mut saw_public = false;
    for block in &blocks {
        match block.label.as_str() {
            "PRIVATE KEY" => return parse_pkcs8(alg, &block.der),
            "ENCRYPTED PRIVATE KEY" => {
                let passphrase = passphrase.ok_or(KeyError::PassphraseRequired)?;
                let info = pkcs8::EncryptedPrivateKeyInfo::try_from(&block.der[..])
                    .map_err(|_| KeyError::Malformed("encrypted PKCS#8 structure"))?;
                check_kdf_cost(&info.encryption_algorithm)?;
                let decrypted = info
                    .decrypt(passphrase.as_bytes())
                    .map_err(|_| KeyError::WrongPassphrase)?;
                // A wrong passphrase can still yield valid padding by chance; then the
                // plaintext is not a PKCS#8 structure, which is the same mistake.
                return match parse_pkcs8(alg, decrypted.as_bytes()) {
                    Err(KeyError::Malformed(_)) => Err(KeyError::WrongPassphrase),
                    other => other,
                };
            }
            "RSA PRIVATE KEY" => {
                if alg.family() != KeyFamily::Rsa {
                    return Err(wrong_kind(alg, "an RSA key".into()));
                }
                return rsa_key(alg, &block.der);
            }
            "EC PRIVATE KEY" => return parse_sec1(alg, &block.der),
            "OPENSSH PRIVATE KEY" => return Err(KeyError::Unsupported("an OpenSSH key".into())),
            "DSA PRIVATE KEY" => return Err(KeyError::Unsupported("a DSA key".into())),
            "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" | "EC PUBLIC KEY" => saw_public = true,
            _ => {}
        }
    }
    Err(if saw_public {
        KeyError::PublicKey
    } else {
        KeyError::NotRecognised
    })
}

/// Refuses key derivation parameters above the limits before any work is done: the
/// parameters come from the request, and scrypt would allocate 128·N·r bytes up front.
fn check_kdf_cost(scheme: &pkcs8::pkcs5::EncryptionScheme<'_>) -> Result<(), KeyError> {
    use pkcs8::pkcs5::{pbes2::Kdf, EncryptionScheme};
    let EncryptionScheme::Pbes2(params) = scheme else {
        // PBES1 iteration counts are 16-bit, and its ciphers are refused when decrypting.
        return Ok(());
    };
    match &params.kdf {
        Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => {
            Err(KeyError::KdfTooCostly(format!(
                "PBKDF2 at {} iterations; at most {MAX_PBKDF2_ITERATIONS} are accepted",
                p.iteration_count
            )))
        }
        Kdf::Scrypt(p) => {
            let (n, r, pp) = (
                p.cost_parameter,
                u64::from(p.block_size),
                u64::from(p.parallelization),
            );
            let memory = n.saturating_mul(r).saturating_mul(128);
            let work = n.saturating_mul(r).saturating_mul(pp);
            if memory > MAX_SCRYPT_MEMORY || work > MAX_SCRYPT_WORK {
                Err(KeyError::KdfTooCostly(format!(
                    "scrypt with N={n}, r={r}, p={pp}; at most {} MiB of memory (128·N·r) and \
                     N·r·p at most 2^22 are accepted",
                    MAX_SCRYPT_MEMORY >> 20
                )))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

fn parse_pkcs8(alg: Algorithm, der: &[u8]) -> Result<ParsedKey, KeyError> {
    let info = pkcs8::PrivateKeyInfo::try_from(der)
        .map_err(|_| KeyError::Malformed("PKCS#8 structure"))?;
    let oid = info.algorithm.oid;
    if oid == OID_RSA || oid == OID_RSA_PSS {
        if alg.family() != KeyFamily::Rsa {
            return Err(wrong_kind(alg, "an RSA key".into()));
        }
        // The inner structure is PKCS#1 for both OIDs; loading it directly also accepts
        // keys generated as RSA-PSS, which sign PS* like any RSA key.
        return rsa_key(alg, info.private_key);
    }
    if oid == OID_EC {
        let curve_oid = info
            .algorithm
            .parameters_oid()
            .map_err(|_| KeyError::Malformed("EC key without a named curve"))?;
        let curve = match curve_oid {
            c if c == OID_P256 => Curve::P256,
            c if c == OID_P384 => Curve::P384,
            c if c == OID_P521 => Curve::P521,
            c if c == OID_SECP256K1 => {
                return Err(KeyError::Unsupported("an EC key on curve secp256k1".into()))
            }
            _ => {
                return Err(KeyError::Unsupported(
                    "an EC key on an unknown curve".into(),
                ))
            }
        };
        return ec_from_pkcs8(alg, curve, der);
    }
    if oid == OID_ED25519 {
        return ed25519_from_pkcs8(alg, der);
    }
    let found = match oid {
        o if o == OID_X25519 => "an X25519 key (for key agreement, not signing)",
        o if o == OID_X448 => "an X448 key (for key agreement, not signing)",
        o if o == OID_ED448 => "an Ed448 key",
        o if o == OID_DSA => "a DSA key",
        _ => "a key of an unknown type",
    };
    Err(KeyError::Unsupported(found.into()))
}

fn rsa_key(alg: Algorithm, pkcs1: &[u8]) -> Result<ParsedKey, KeyError> {
    if alg.family() != KeyFamily::Rsa {
        return Err(wrong_kind(alg, "an RSA key".into()));
    }
    let pair = RsaKeyPair::from_der(pkcs1).map_err(rsa_rejection)?;
    rsa_parsed(alg, pair)
}

fn rsa_rejection(e: aws_lc_rs::error::KeyRejected) -> KeyError {
    match e.description_() {
        "TooSmall" => KeyError::RsaTooShort,
        "TooLarge" => KeyError::RsaTooLong,
        _ => KeyError::Malformed("RSA key structure or values"),
    }
}

fn rsa_parsed(alg: Algorithm, pair: RsaKeyPair) -> Result<ParsedKey, KeyError> {
    let der = pair
        .as_der()
        .map_err(|_| KeyError::Malformed("RSA key could not be re-encoded"))?;
    let stored = stored(TAG_RSA, der.as_ref());
    Ok(ParsedKey {
        key: SigningKey {
            alg,
            pair: Pair::Rsa(pair),
        },
        stored,
    })
}

/// RSA modulus sizes credvault generates keys of (API.md §6).
pub const GENERATED_RSA_BITS: [u32; 3] = [2048, 3072, 4096];

/// Why no key could be generated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GenerateError {
    /// HMAC: a shared secret has to be agreed with the verifier, so it is not made here.
    #[error("{0} uses a shared secret, which credvault does not generate")]
    SharedSecret(Algorithm),
    #[error("RSA keys are generated with 2048, 3072, 4096 or 8192 bits, not {0}")]
    RsaSize(u32),
    #[error("the system's random generator failed")]
    Failed,
}

/// A new private key for `alg`, made here from the system's random generator: RSA of
/// `rsa_bits`, EC on the algorithm's curve, Ed25519. `rsa_bits` is ignored for other families.
pub fn generate_key(alg: Algorithm, rsa_bits: u32) -> Result<ParsedKey, GenerateError> {
    let reencode = |_| GenerateError::Failed;
    match alg.family() {
        KeyFamily::Hmac => Err(GenerateError::SharedSecret(alg)),
        KeyFamily::Rsa => {
            let size = match rsa_bits {
                2048 => aws_lc_rs::rsa::KeySize::Rsa2048,
                3072 => aws_lc_rs::rsa::KeySize::Rsa3072,
                4096 => aws_lc_rs::rsa::KeySize::Rsa4096,
                // Not offered by jwt_key_size, but a rotation keeps an imported key's size.
                8192 => aws_lc_rs::rsa::KeySize::Rsa8192,
                other => return Err(GenerateError::RsaSize(other)),
            };
            let pair = RsaKeyPair::generate(size).map_err(|_| GenerateError::Failed)?;
            rsa_parsed(alg, pair).map_err(reencode)
        }
        KeyFamily::Ec(curve) => {
            let pair =
                EcdsaKeyPair::generate(ec_signing(curve)).map_err(|_| GenerateError::Failed)?;
            ec_parsed(alg, pair).map_err(reencode)
        }
        KeyFamily::Ed25519 => {
            let pair = Ed25519KeyPair::generate().map_err(|_| GenerateError::Failed)?;
            ed25519_parsed(alg, pair).map_err(reencode)
        }
    }
}

fn ec_signing(curve: Curve) -> &'static EcdsaSigningAlgorithm {
    match curve {
        Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
    }
}

fn check_curve(alg: Algorithm, curve: Curve) -> Result<(), KeyError> {
    match alg.family() {
        KeyFamily::Ec(wanted) if wanted == curve => Ok(()),
        _ => Err(wrong_kind(
            alg,
            format!("an EC key on curve {}", curve.name()),
        )),
    }
}

fn ec_parsed(alg: Algorithm, pair: EcdsaKeyPair) -> Result<ParsedKey, KeyError> {
    let der = pair
        .to_pkcs8v1()
        .map_err(|_| KeyError::Malformed("EC key could not be re-encoded"))?;
    let stored = stored(TAG_EC, der.as_ref());
    Ok(ParsedKey {
        key: SigningKey {
            alg,
            pair: Pair::Ec(pair),
        },
        stored,
    })
}

fn ec_from_pkcs8(alg: Algorithm, curve: Curve, der: &[u8]) -> Result<ParsedKey, KeyError> {
    check_curve(alg, curve)?;
    let pair = EcdsaKeyPair::from_pkcs8(ec_signing(curve), der)
        .map_err(|_| KeyError::Malformed("EC key structure or values"))?;
    ec_parsed(alg, pair)
}

/// SEC1 keys name their curve inside; finding which curve loads them tells it.
fn parse_sec1(alg: Algorithm, der: &[u8]) -> Result<ParsedKey, KeyError> {
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        if let Ok(pair) = EcdsaKeyPair::from_private_key_der(ec_signing(curve), der) {
            check_curve(alg, curve)?;
            return ec_parsed(alg, pair);
        }
    }
    let secp256k1 = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
    if der.windows(secp256k1.len()).any(|w| w == secp256k1) {
        return Err(KeyError::Unsupported("an EC key on curve secp256k1".into()));
    }
    Err(KeyError::Malformed(
        "SEC1 EC key structure, or a curve other than P-256, P-384, P-521",
    ))
}

fn ed25519_parsed(alg: Algorithm, pair: Ed25519KeyPair) -> Result<ParsedKey, KeyError> {
    let der = pair
        .to_pkcs8v1()
        .map_err(|_| KeyError::Malformed("Ed25519 key could not be re-encoded"))?;
    let stored = stored(TAG_ED25519, der.as_ref());
    Ok(ParsedKey {
        key: SigningKey {
            alg,
            pair: Pair::Ed(pair),
        },
        stored,
    })
}

fn ed25519_from_pkcs8(alg: Algorithm, der: &[u8]) -> Result<ParsedKey, KeyError> {
    if alg.family() != KeyFamily::Ed25519 {
        return Err(wrong_kind(alg, "an Ed25519 key".into()));
    }
    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
        .map_err(|_| KeyError::Malformed("Ed25519 key structure or values"))?;
    ed25519_parsed(alg, pair)
}

// ---------------------------------------------------------------------------------------------
// JWK

#[derive(serde::Deserialize)]
struct Jwk {
    kty: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    d: Option<String>,
    p: Option<String>,
    q: Option<String>,
    dp: Option<String>,
    dq: Option<String>,
    qi: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl Drop for Jwk {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for field in [
            &mut self.d,
            &mut self.p,
            &mut self.q,
            &mut self.dp,
            &mut self.dq,
            &mut self.qi,
        ] {
            field.zeroize();
        }
    }
}

fn b64(field: Option<&String>, what: &'static str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let text = field.ok_or(KeyError::Malformed(what))?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map(Zeroizing::new)
        .map_err(|_| KeyError::Malformed(what))
}

fn parse_jwk(alg: Algorithm, text: &str) -> Result<ParsedKey, KeyError> {
    let jwk: Jwk = serde_json::from_str(text)
        .map_err(|_| KeyError::Malformed("JWK is not a JSON object with string members"))?;
    match jwk.kty.as_deref() {
        Some("RSA") => rsa_jwk(alg, &jwk),
        Some("EC") => ec_jwk(alg, &jwk),
        Some("OKP") => okp_jwk(alg, &jwk),
        Some("oct") => Err(wrong_kind(alg, "a symmetric (oct) JWK".into())),
        _ => Err(KeyError::Malformed("JWK member kty must be RSA, EC or OKP")),
    }
}

fn rsa_jwk(alg: Algorithm, jwk: &Jwk) -> Result<ParsedKey, KeyError> {
    if alg.family() != KeyFamily::Rsa {
        return Err(wrong_kind(alg, "an RSA JWK".into()));
    }
    if jwk.d.is_none() {
        return Err(KeyError::PublicKey);
    }
    let n = b64(jwk.n.as_ref(), "RSA JWK member n")?;
    let e = b64(jwk.e.as_ref(), "RSA JWK member e")?;
    let d = b64(jwk.d.as_ref(), "RSA JWK member d")?;
    if [&jwk.p, &jwk.q, &jwk.dp, &jwk.dq, &jwk.qi]
        .iter()
        .any(|m| m.is_none())
    {
        return Err(KeyError::Unsupported(
            "an RSA JWK without its CRT members p, q, dp, dq, qi".into(),
        ));
    }
    let components = KeyPairComponents {
        public_key: PublicKeyComponents {
            n: n.as_slice(),
            e: e.as_slice(),
        },
        d: d.as_slice(),
        p: &b64(jwk.p.as_ref(), "RSA JWK member p")?[..],
        q: &b64(jwk.q.as_ref(), "RSA JWK member q")?[..],
        dP: &b64(jwk.dp.as_ref(), "RSA JWK member dp")?[..],
        dQ: &b64(jwk.dq.as_ref(), "RSA JWK member dq")?[..],
        qInv: &b64(jwk.qi.as_ref(), "RSA JWK member qi")?[..],
    };
    let significant = n.iter().skip_while(|b| **b == 0).count();
    if significant * 8 < MIN_RSA_BITS {
        return Err(KeyError::RsaTooShort);
    }
    let pair = RsaKeyPair::from_components(&components).map_err(|e| match rsa_rejection(e) {
        KeyError::Malformed(_) => {
            KeyError::Malformed("RSA JWK members do not form a consistent key")
        }
        other => other,
    })?;
    rsa_parsed(alg, pair)
}

fn ec_jwk(alg: Algorithm, jwk: &Jwk) -> Result<ParsedKey, KeyError> {
    let curve = match jwk.crv.as_deref() {
        Some("P-256") => Curve::P256,
        Some("P-384") => Curve::P384,
        Some("P-521") => Curve::P521,
        Some("secp256k1") => {
            return Err(KeyError::Unsupported("an EC JWK on curve secp256k1".into()))
        }
        _ => return Err(KeyError::Malformed("EC JWK member crv")),
    };
    check_curve(alg, curve)?;
    if jwk.d.is_none() {
        return Err(KeyError::PublicKey);
    }
    let d = b64(jwk.d.as_ref(), "EC JWK member d")?;
    let x = b64(jwk.x.as_ref(), "EC JWK member x")?;
    let y = b64(jwk.y.as_ref(), "EC JWK member y")?;
    let mut public = Vec::with_capacity(1 + x.len() + y.len());
    public.push(0x04);
    public.extend_from_slice(&x);
    public.extend_from_slice(&y);
    let pair = EcdsaKeyPair::from_private_key_and_public_key(ec_signing(curve), &d, &public)
        .map_err(|_| KeyError::Malformed("EC JWK members do not form a consistent key"))?;
    ec_parsed(alg, pair)
}

fn okp_jwk(alg: Algorithm, jwk: &Jwk) -> Result<ParsedKey, KeyError> {
    match jwk.crv.as_deref() {
        Some("Ed25519") => {}
        Some(other @ ("Ed448" | "X25519" | "X448")) => {
            return Err(KeyError::Unsupported(format!(
                "an OKP JWK on curve {other}"
            )))
        }
        _ => return Err(KeyError::Malformed("OKP JWK member crv")),
    }
    if alg.family() != KeyFamily::Ed25519 {
        return Err(wrong_kind(alg, "an Ed25519 JWK".into()));
    }
    if jwk.d.is_none() {
        return Err(KeyError::PublicKey);
    }
    let d = b64(jwk.d.as_ref(), "OKP JWK member d")?;
    let x = b64(jwk.x.as_ref(), "OKP JWK member x")?;
    let pair = Ed25519KeyPair::from_seed_and_public_key(&d, &x)
        .map_err(|_| KeyError::Malformed("OKP JWK members do not form a consistent key"))?;
    ed25519_parsed(alg, pair)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_fit_their_algorithm_and_load_again() {
        let cases = [
            (Algorithm::RS256, 2048, 256),
            (Algorithm::PS384, 3072, 384),
            (Algorithm::RS512, 4096, 512),
            (Algorithm::ES256, 0, 0),
            (Algorithm::ES384, 0, 0),
            (Algorithm::ES512, 0, 0),
            (Algorithm::EdDSA, 0, 0),
        ];
        for (alg, bits, modulus_bytes) in cases {
            let parsed = generate_key(alg, bits).unwrap();
            let loaded = load_stored_key(alg, &parsed.stored).unwrap();
            let jwk = loaded.public_jwk().unwrap();
            if modulus_bytes > 0 {
                let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
                assert_eq!(n.len(), modulus_bytes, "{alg}");
                assert_eq!(loaded.rsa_bits(), Some(bits), "{alg}");
            } else {
                assert_eq!(loaded.rsa_bits(), None, "{alg}");
            }
            let signature = loaded.sign(b"message").unwrap();
            assert!(parsed.key.verify(b"message", &signature), "{alg}");
        }
    }

    #[test]
    fn no_shared_secret_or_odd_rsa_size_is_generated() {
        assert_eq!(
            generate_key(Algorithm::HS256, 2048).err(),
            Some(GenerateError::SharedSecret(Algorithm::HS256))
        );
        assert_eq!(
            generate_key(Algorithm::RS256, 1024).err(),
            Some(GenerateError::RsaSize(1024))
        );
    }

    #[test]
    fn rfc7638_thumbprint_example() {
        // The RSA key of RFC 7638 section 3.1 and its thumbprint.
        let jwk = serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            jwk_thumbprint(jwk.as_object().unwrap()),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn hmac_secret_is_taken_as_given() {
        let parsed = parse_private_key(Algorithm::HS256, "s3cret", None).unwrap();
        let sig = parsed.key.sign(b"msg").unwrap();
        assert!(parsed.key.verify(b"msg", &sig));
        let loaded = load_stored_key(Algorithm::HS512, &parsed.stored).unwrap();
        assert_eq!(loaded.algorithm(), Algorithm::HS512);
        assert_eq!(
            parse_private_key(Algorithm::HS256, "  ", None).unwrap_err(),
            KeyError::Empty
        );
    }

    #[test]
    fn generated_keys_round_trip_through_stored_form() {
        let rng = SystemRandom::new();
        let ec = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, &rng)
            .unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(ec.as_ref())
        );
        let parsed = parse_private_key(Algorithm::ES384, &pem, None).unwrap();
        let loaded = load_stored_key(Algorithm::ES384, &parsed.stored).unwrap();
        let sig = loaded.sign(b"m").unwrap();
        assert!(parsed.key.verify(b"m", &sig));
        assert!(matches!(
            parse_private_key(Algorithm::ES256, &pem, None),
            Err(KeyError::WrongKind { .. })
        ));
        assert!(matches!(
            load_stored_key(Algorithm::ES256, &parsed.stored),
            Err(KeyError::Malformed(_) | KeyError::WrongKind { .. })
        ));
        assert!(matches!(
            load_stored_key(Algorithm::HS256, &parsed.stored),
            Err(KeyError::WrongKind { .. })
        ));
        // Pasted on one line with spaces, or with literal \n escapes.
        let one_line = pem.replace('\n', " ");
        assert!(parse_private_key(Algorithm::ES384, &one_line, None).is_ok());
        let escaped = pem.replace('\n', "\\n");
        assert!(parse_private_key(Algorithm::ES384, &escaped, None).is_ok());
    }

    #[test]
    fn garbage_and_errors_never_echo_input() {
        let secret = "-----BEGIN PRIVATE KEY-----\nQ0FOQVJZ\n-----END PRIVATE KEY-----";
        let err = parse_private_key(Algorithm::RS256, secret, None).unwrap_err();
        assert!(!err.to_string().contains("Q0FOQVJZ"));
        assert_eq!(
            parse_private_key(Algorithm::RS256, "hello", None).unwrap_err(),
            KeyError::NotRecognised
        );
    }
}

/// Every fixture key against every algorithm: which pairings parse, and how the others fail.
#[cfg(test)]
mod fixture_tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/../credvault/tests/fixtures/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn accepted_formats_sign_and_verify() {
        let table: &[(&str, &[Algorithm])] = &[
            (
                "rsa2048-pkcs8.pem",
                &[
                    Algorithm::RS256,
                    Algorithm::RS384,
                    Algorithm::RS512,
                    Algorithm::PS256,
                    Algorithm::PS384,
                    Algorithm::PS512,
                ],
            ),
            ("rsa2048-pkcs1.pem", &[Algorithm::RS256, Algorithm::PS512]),
            ("rsa2048.jwk.json", &[Algorithm::RS384, Algorithm::PS256]),
            ("rsa3072-pkcs8.pem", &[Algorithm::RS512]),
            ("rsa-pss-pkcs8.pem", &[Algorithm::PS256, Algorithm::RS256]),
            ("ec-p256-sec1.pem", &[Algorithm::ES256]),
            ("ec-p256-sec1-noparams.pem", &[Algorithm::ES256]),
            ("ec-p256-pkcs8.pem", &[Algorithm::ES256]),
            ("ec-p256.jwk.json", &[Algorithm::ES256]),
            ("ec-p384-sec1.pem", &[Algorithm::ES384]),
            ("ec-p384-pkcs8.pem", &[Algorithm::ES384]),
            ("ec-p384.jwk.json", &[Algorithm::ES384]),
            ("ec-p521-sec1.pem", &[Algorithm::ES512]),
            ("ec-p521-pkcs8.pem", &[Algorithm::ES512]),
            ("ec-p521.jwk.json", &[Algorithm::ES512]),
            ("ed25519-pkcs8.pem", &[Algorithm::EdDSA]),
            ("ed25519.jwk.json", &[Algorithm::EdDSA]),
        ];
        for (name, algs) in table {
            let text = fixture(name);
            for alg in *algs {
                let parsed = parse_private_key(*alg, &text, None)
                    .unwrap_or_else(|e| panic!("{name} for {alg}: {e}"));
                let loaded = load_stored_key(*alg, &parsed.stored).unwrap();
                let sig = loaded.sign(b"trial").unwrap();
                assert!(parsed.key.verify(b"trial", &sig), "{name} {alg}");
            }
        }
        for name in ["rsa2048-encrypted.pem", "ec-p256-encrypted.pem"] {
            let alg = if name.starts_with("rsa") {
                Algorithm::RS256
            } else {
                Algorithm::ES256
            };
            let text = fixture(name);
            assert!(
                parse_private_key(alg, &text, Some("correct horse")).is_ok(),
                "{name}"
            );
            assert_eq!(
                parse_private_key(alg, &text, None).unwrap_err(),
                KeyError::PassphraseRequired
            );
            assert_eq!(
                parse_private_key(alg, &text, Some("wrong")).unwrap_err(),
                KeyError::WrongPassphrase
            );
        }
    }

    #[test]
    fn refusals_say_why() {
        let wrong = |name: &str, alg: Algorithm| {
            let err = parse_private_key(alg, &fixture(name), None).unwrap_err();
            assert!(
                matches!(err, KeyError::WrongKind { .. }),
                "{name} {alg}: {err}"
            );
            err.to_string()
        };
        assert_eq!(
            wrong("ec-p256-pkcs8.pem", Algorithm::RS256),
            "jwt_private_key is an EC key on curve P-256, but RS256 needs an RSA private key"
        );
        assert_eq!(
            wrong("ec-p384-sec1.pem", Algorithm::ES256),
            "jwt_private_key is an EC key on curve P-384, but ES256 needs an EC private key on curve P-256"
        );
        wrong("ec-p521.jwk.json", Algorithm::ES384);
        wrong("rsa2048-pkcs1.pem", Algorithm::ES256);
        wrong("rsa2048.jwk.json", Algorithm::EdDSA);
        wrong("ed25519-pkcs8.pem", Algorithm::ES256);
        wrong("ed25519.jwk.json", Algorithm::RS256);
        let err =
            |name: &str, alg: Algorithm| parse_private_key(alg, &fixture(name), None).unwrap_err();
        assert_eq!(
            err("rsa1024-pkcs8.pem", Algorithm::RS256),
            KeyError::RsaTooShort
        );
        assert_eq!(
            err("rsa1024-pkcs1.pem", Algorithm::PS256),
            KeyError::RsaTooShort
        );
        assert_eq!(
            err("rsa2048-pub.pem", Algorithm::RS256),
            KeyError::PublicKey
        );
        assert_eq!(
            err("rsa2048-pub.jwk.json", Algorithm::RS256),
            KeyError::PublicKey
        );
        assert_eq!(
            err("ec-p256-pub.pem", Algorithm::ES256),
            KeyError::PublicKey
        );
        assert_eq!(
            err("ed25519-pub.pem", Algorithm::EdDSA),
            KeyError::PublicKey
        );
        assert_eq!(
            err("rsa2048-legacy-encrypted.pem", Algorithm::RS256),
            KeyError::LegacyEncrypted
        );
        assert!(matches!(
            err("ec-secp256k1-pkcs8.pem", Algorithm::ES256),
            KeyError::Unsupported(_)
        ));
        assert!(matches!(
            err("x25519-pkcs8.pem", Algorithm::EdDSA),
            KeyError::Unsupported(_)
        ));
        assert!(matches!(
            err("ed448-pkcs8.pem", Algorithm::EdDSA),
            KeyError::Unsupported(_)
        ));
    }

    /// An encrypted PKCS#8 PEM with the given key derivation and garbage ciphertext: the
    /// limits must refuse it before any decryption is tried.
    fn encrypted_with(kdf: pkcs8::pkcs5::pbes2::Kdf<'_>) -> String {
        use pkcs8::der::Encode;
        use pkcs8::pkcs5::{pbes2, EncryptionScheme};
        let info = pkcs8::EncryptedPrivateKeyInfo {
            encryption_algorithm: EncryptionScheme::Pbes2(pbes2::Parameters {
                kdf,
                encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: &[7; 16] },
            }),
            encrypted_data: &[0; 64],
        };
        let body = STANDARD.encode(info.to_der().unwrap());
        format!(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{body}\n-----END ENCRYPTED PRIVATE KEY-----\n"
        )
    }

    /// The limits themselves, without the work: exactly at each limit is allowed, one step
    /// past it is not.
    fn pbkdf2_kdf(salt: &[u8], iterations: u32) -> pkcs8::pkcs5::pbes2::Kdf<'_> {
        use pkcs8::pkcs5::pbes2::{Kdf, Pbkdf2Params, Pbkdf2Prf};
        Kdf::Pbkdf2(Pbkdf2Params {
            salt,
            iteration_count: iterations,
            key_length: None,
            prf: Pbkdf2Prf::HmacWithSha256,
        })
    }

    fn scrypt_kdf(salt: &[u8], n: u64, r: u16, p: u16) -> pkcs8::pkcs5::pbes2::Kdf<'_> {
        use pkcs8::pkcs5::pbes2::{Kdf, ScryptParams};
        Kdf::Scrypt(ScryptParams {
            salt,
            cost_parameter: n,
            block_size: r,
            parallelization: p,
            key_length: Some(32),
        })
    }

    #[test]
    fn kdf_limits_are_inclusive() {
        use pkcs8::pkcs5::pbes2;
        use pkcs8::pkcs5::EncryptionScheme;
        let salt = [1u8; 16];
        let check = |kdf| {
            check_kdf_cost(&EncryptionScheme::Pbes2(pbes2::Parameters {
                kdf,
                encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: &[7; 16] },
            }))
            .is_ok()
        };
        let pbkdf2 = |iterations| pbkdf2_kdf(&salt, iterations);
        let scrypt = |n, r, p| scrypt_kdf(&salt, n, r, p);
        assert!(check(pbkdf2(MAX_PBKDF2_ITERATIONS)));
        assert!(!check(pbkdf2(MAX_PBKDF2_ITERATIONS + 1)));
        // 128·N·r = 64 MiB exactly, N·r·p = 2^22 exactly.
        assert!(check(scrypt(1 << 16, 8, 8)));
        assert!(!check(scrypt(1 << 16, 8, 9)));
        assert!(!check(scrypt(1 << 16, 9, 1)));
        assert!(check(scrypt(1 << 19, 1, 8)));
        assert!(!check(scrypt(1 << 20, 1, 1)));
    }

    #[test]
    fn costly_key_derivations_are_refused_before_any_work() {
        let salt = [1u8; 16];
        let pbkdf2 = |iterations| pbkdf2_kdf(&salt, iterations);
        let scrypt = |n, r, p| scrypt_kdf(&salt, n, r, p);
        let table = [
            (pbkdf2(u32::MAX), Some("PBKDF2 at 4294967295 iterations")),
            (pbkdf2(1_000_001), Some("at most 1000000")),
            (
                scrypt(1 << 30, 8, 1),
                Some("scrypt with N=1073741824, r=8, p=1"),
            ),
            (scrypt(1 << 17, 8, 1), Some("64 MiB")), // 128 MiB
            (scrypt(1 << 14, 8, 64), Some("2^22")),  // 16 MiB, N·r·p = 2^23
            (scrypt(u64::MAX, u16::MAX, u16::MAX), Some("scrypt")),
            // At the limits: the work is allowed, and the garbage then fails to decrypt.
            (pbkdf2(1_000), None),
            (scrypt(1 << 10, 8, 1), None),
        ];
        for (kdf, refusal) in table {
            let pem = encrypted_with(kdf);
            let err = parse_private_key(Algorithm::RS256, &pem, Some("pw")).unwrap_err();
            match refusal {
                Some(needle) => {
                    assert!(matches!(err, KeyError::KdfTooCostly(_)), "{err}");
                    let message = err.to_string();
                    assert!(message.contains(needle), "{message}");
                    assert!(message.starts_with("jwt_private_key is encrypted with"));
                }
                None => assert_eq!(err, KeyError::WrongPassphrase),
            }
        }
    }
}
