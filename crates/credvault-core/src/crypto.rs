//! Encryption at rest and API key hashing.
//!
//! One 32-byte master key is the root of everything. Two independent subkeys are derived from it
//! with HKDF-SHA256: one AES-256-GCM key that seals every secret, and one HMAC-SHA256 key under
//! which API keys are hashed. Sealed blobs carry a version byte and their random nonce, and are
//! bound by associated data to the row and field they belong to, so a ciphertext copied into
//! another row or field fails to open.

use std::fmt::{self, Write as _};

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::{constant_time, hkdf, hmac, rand};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use zeroize::Zeroizing;

const MASTER_KEY_LEN: usize = 32;
const BLOB_VERSION: u8 = 1;
const KEY_CHECK_AAD: &[u8] = b"credvault/v1/key-check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"credvault master key check";
const API_KEY_PREFIX: &str = "cvk_";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the master key must be 32 bytes, base64-encoded (got {0} bytes)")]
    MasterKeyLength(usize),
    #[error("the master key is not valid base64")]
    MasterKeyEncoding,
    #[error("a sealed value could not be opened: wrong master key, or the data was altered")]
    Open,
}

/// The root secret. Its `Debug` never shows the bytes.
pub struct MasterKey(Zeroizing<[u8; MASTER_KEY_LEN]>);

impl MasterKey {
    pub fn generate() -> MasterKey {
        let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        rand::fill(&mut bytes[..]).expect("the system random generator failed");
        MasterKey(bytes)
    }

    /// Reads the base64 form used in `CREDVAULT_MASTER_KEY` and in the master key file.
    pub fn from_base64(text: &str) -> Result<MasterKey, CryptoError> {
        let decoded = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| CryptoError::MasterKeyEncoding)?,
        );
        let bytes: [u8; MASTER_KEY_LEN] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::MasterKeyLength(decoded.len()))?;
        Ok(MasterKey(Zeroizing::new(bytes)))
    }

    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(&self.0[..]))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// The subkeys derived from the master key. Cheap to share behind an `Arc`.
pub struct Keyring {
    sealing: RandomizedNonceKey,
    api_keys: hmac::Key,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keyring(<redacted>)")
    }
}

fn derive(master: &MasterKey, info: &[u8]) -> Zeroizing<[u8; 32]> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"credvault").extract(&master.0[..]);
    let mut out = Zeroizing::new([0u8; 32]);
    prk.expand(&[info], hkdf::HKDF_SHA256)
        .and_then(|okm| okm.fill(&mut out[..]))
        .expect("HKDF-SHA256 can always produce 32 bytes");
    out
}

impl Keyring {
    pub fn new(master: &MasterKey) -> Keyring {
        let sealing_key = derive(master, b"credvault/v1/seal");
        let api_key = derive(master, b"credvault/v1/api-key-hash");
        Keyring {
            sealing: RandomizedNonceKey::new(&AES_256_GCM, &sealing_key[..])
                .expect("32 bytes is a valid AES-256 key"),
            api_keys: hmac::Key::new(hmac::HMAC_SHA256, &api_key[..]),
        }
    }

    /// Encrypts `plaintext` bound to `aad`: `version || nonce || ciphertext || tag`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut in_out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
        in_out.extend_from_slice(plaintext);
        let nonce = self
            .sealing
            .seal_in_place_append_tag(Aad::from(aad), &mut in_out)
            .expect("AES-GCM sealing cannot fail for in-memory sizes");
        let mut blob = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        blob.push(BLOB_VERSION);
        blob.extend_from_slice(nonce.as_ref());
        blob.extend_from_slice(&in_out);
        // The plaintext copy inside `in_out` was overwritten by ciphertext in place.
        blob
    }

    pub fn open(&self, aad: &[u8], blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if blob.len() < 1 + NONCE_LEN || blob[0] != BLOB_VERSION {
            return Err(CryptoError::Open);
        }
        let nonce = Nonce::try_assume_unique_for_key(&blob[1..=NONCE_LEN])
            .map_err(|_| CryptoError::Open)?;
        let mut in_out = Zeroizing::new(blob[1 + NONCE_LEN..].to_vec());
        let len = self
            .sealing
            .open_in_place(nonce, Aad::from(aad), &mut in_out[..])
            .map_err(|_| CryptoError::Open)?
            .len();
        in_out.truncate(len);
        Ok(in_out)
    }

    /// A record that only this master key opens; stored once per database so that starting
    /// with another key fails loudly instead of serving undecryptable data.
    pub fn make_key_check(&self) -> Vec<u8> {
        self.seal(KEY_CHECK_AAD, KEY_CHECK_PLAINTEXT)
    }

    pub fn verify_key_check(&self, record: &[u8]) -> bool {
        matches!(self.open(KEY_CHECK_AAD, record), Ok(p) if p.as_slice() == KEY_CHECK_PLAINTEXT)
    }

    /// The keyed hash under which an API key is stored and looked up.
    pub fn hash_api_key(&self, key: &str) -> Vec<u8> {
        hmac::sign(&self.api_keys, key.as_bytes()).as_ref().to_vec()
    }
}

/// The hex HMAC-SHA256 of `body` under `key`: how a receiver of a signed webhook checks that
/// the body came from whoever holds the shared secret.
pub fn hmac_sha256_hex(key: &[u8], body: &[u8]) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), body);
    tag.as_ref()
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// Compares two hashes without leaking, through timing, where they first differ.
pub fn hashes_equal(a: &[u8], b: &[u8]) -> bool {
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// A new API key: a prefix that makes leaked keys easy to grep for, then 32 random bytes.
pub fn generate_api_key() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::fill(&mut bytes[..]).expect("the system random generator failed");
    Zeroizing::new(format!(
        "{API_KEY_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(&bytes[..])
    ))
}

/// A random 128-bit row identity, known before the row is inserted so that its secrets can be
/// sealed against it in the same statement that writes them.
pub fn generate_uid() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes).expect("the system random generator failed");
    bytes.iter().fold(String::with_capacity(32), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// Associated data for one secret field of one credential row.
pub fn credential_aad(team_id: i64, uid: &str, field: &str) -> Vec<u8> {
    format!("credvault/v1/credential/team={team_id}/uid={uid}/{field}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn seal_open_round_trip_and_binding() {
        let ring = Keyring::new(&MasterKey::generate());
        let blob = ring.seal(b"row-1", b"secret");
        assert_eq!(ring.open(b"row-1", &blob).unwrap().as_slice(), b"secret");
        assert_eq!(ring.open(b"row-2", &blob), Err(CryptoError::Open));
        let mut tampered = blob.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(ring.open(b"row-1", &tampered), Err(CryptoError::Open));
        assert!(!blob.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn key_check_detects_other_master_key() {
        let a = Keyring::new(&MasterKey::generate());
        let b = Keyring::new(&MasterKey::generate());
        let record = a.make_key_check();
        assert!(a.verify_key_check(&record));
        assert!(!b.verify_key_check(&record));
    }

    #[test]
    fn master_key_base64() {
        let key = MasterKey::generate();
        let again = MasterKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(key.0[..], again.0[..]);
        assert_eq!(
            MasterKey::from_base64("c2hvcnQ=").unwrap_err(),
            CryptoError::MasterKeyLength(5)
        );
        assert_eq!(format!("{key:?}"), "MasterKey(<redacted>)");
    }

    #[test]
    fn api_key_hashes() {
        let ring = Keyring::new(&MasterKey::generate());
        let key = generate_api_key();
        assert!(key.starts_with("cvk_"));
        let h = ring.hash_api_key(&key);
        assert!(hashes_equal(&h, &ring.hash_api_key(&key)));
        assert!(!hashes_equal(&h, &ring.hash_api_key("other")));
    }
}
