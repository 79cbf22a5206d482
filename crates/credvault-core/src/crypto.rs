//! Encryption at rest and API key hashing.
//!
//! One 32-byte master key wraps a keyring (stored in the database): AES-256-GCM data keys by
//! term, which seal every secret, and one HMAC-SHA256 key under which API keys are hashed. A
//! database from before the keyring had both derived from the master key with HKDF-SHA256; its
//! keyring starts with exactly those, so nothing it holds changes. Sealed blobs carry a version
//! byte, their term and their random nonce, and are bound by associated data to the row and
//! field they belong to, so a ciphertext copied into another row or field fails to open.

use std::fmt::{self, Write as _};

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::{constant_time, hkdf, hmac, rand};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

const MASTER_KEY_LEN: usize = 32;
/// A secret sealed before data-key terms existed: `1 || nonce || ciphertext || tag`, of the
/// first term. The wrapped keyring uses this form too, under the master key's wrapping key.
const BLOB_V1: u8 = 1;
/// A secret sealed under a term: `2 || term || nonce || ciphertext || tag`.
const BLOB_V2: u8 = 2;
/// A wrapped keyring that names its current term in clear (authenticated as associated
/// data): `3 || current term || nonce || ciphertext || tag`, so that a server whose master key
/// no longer opens it (after a rekey) can still tell whether its own current term is current.
const KEYRING_V3: u8 = 3;
const KEYRING_AAD: &[u8] = b"credvault/v2/keyring";
/// The term of the data key that earlier versions derived from the master key.
pub const FIRST_TERM: u32 = 1;
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

/// The keys that protect the data (API.md §9): data keys by term, which seal secrets, and the
/// key under which API keys are hashed. The master key only wraps this keyring, which is stored
/// in the database; rotating the master key re-wraps it, and a new data-key term seals new
/// writes while older terms still open what they sealed. Cheap to share behind an `Arc`.
pub struct Keyring {
    current_term: u32,
    data_keys: Vec<(u32, RandomizedNonceKey)>,
    api_keys: hmac::Key,
    /// The raw keys, kept to wrap the keyring again; zeroed when dropped.
    material: Material,
}

/// The keyring's keys as the master key wraps them.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct Material {
    current_term: u32,
    terms: Vec<TermMaterial>,
    /// Base64 of the API-key hash key.
    api_key_hmac: String,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop, Clone)]
struct TermMaterial {
    term: u32,
    /// Base64 of the 32-byte AES-256-GCM key.
    key: String,
    /// Milliseconds since the Unix epoch.
    created_at: i64,
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

fn aead_key(bytes: &[u8]) -> Result<RandomizedNonceKey, CryptoError> {
    RandomizedNonceKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::Open)
}

/// `header || nonce || ciphertext || tag` of `plaintext` under `key`, bound to `aad`.
fn aead_seal(key: &RandomizedNonceKey, header: &[u8], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut in_out = Vec::with_capacity(plaintext.len() + 16);
    in_out.extend_from_slice(plaintext);
    let nonce = key
        .seal_in_place_append_tag(Aad::from(aad), &mut in_out)
        .expect("AES-GCM sealing cannot fail for in-memory sizes");
    let mut blob = Vec::with_capacity(header.len() + NONCE_LEN + in_out.len());
    blob.extend_from_slice(header);
    blob.extend_from_slice(nonce.as_ref());
    // The plaintext copy inside `in_out` was overwritten by ciphertext in place.
    blob.extend_from_slice(&in_out);
    blob
}

/// Opens `nonce || ciphertext || tag` (a blob without its header).
fn aead_open(
    key: &RandomizedNonceKey,
    aad: &[u8],
    body: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if body.len() < NONCE_LEN {
        return Err(CryptoError::Open);
    }
    let nonce =
        Nonce::try_assume_unique_for_key(&body[..NONCE_LEN]).map_err(|_| CryptoError::Open)?;
    let mut in_out = Zeroizing::new(body[NONCE_LEN..].to_vec());
    let len = key
        .open_in_place(nonce, Aad::from(aad), &mut in_out[..])
        .map_err(|_| CryptoError::Open)?
        .len();
    in_out.truncate(len);
    Ok(in_out)
}

/// The key that wraps the keyring, derived from the master key for nothing else. A server
/// keeps it (not the master key) to store the keyring again when it adds or drops a data-key
/// term.
pub struct KeyringWrapKey(RandomizedNonceKey);

impl KeyringWrapKey {
    pub fn of(master: &MasterKey) -> KeyringWrapKey {
        KeyringWrapKey(
            aead_key(&derive(master, b"credvault/v2/keyring-wrap")[..])
                .expect("32 bytes is an AES-256 key"),
        )
    }
}

impl fmt::Debug for KeyringWrapKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyringWrapKey(<redacted>)")
    }
}

impl Keyring {
    /// The keyring of a database made before keyrings existed: one data key (term 1) and the
    /// API-key hash key, derived from the master key as those versions did, so that their
    /// secrets and API keys keep working. A new database starts with it too.
    pub fn derived(master: &MasterKey, created_at: i64) -> Keyring {
        let seal = derive(master, b"credvault/v1/seal");
        let api = derive(master, b"credvault/v1/api-key-hash");
        Keyring::from_material(Material {
            current_term: FIRST_TERM,
            terms: vec![TermMaterial {
                term: FIRST_TERM,
                key: STANDARD.encode(&seal[..]),
                created_at,
            }],
            api_key_hmac: STANDARD.encode(&api[..]),
        })
        .expect("derived keys are well-formed")
    }

    fn from_material(material: Material) -> Result<Keyring, CryptoError> {
        let decode = |text: &str| -> Result<Zeroizing<Vec<u8>>, CryptoError> {
            STANDARD
                .decode(text)
                .map(Zeroizing::new)
                .map_err(|_| CryptoError::Open)
        };
        let mut data_keys = Vec::with_capacity(material.terms.len());
        for term in &material.terms {
            data_keys.push((term.term, aead_key(&decode(&term.key)?)?));
        }
        if !data_keys.iter().any(|(t, _)| *t == material.current_term) {
            return Err(CryptoError::Open);
        }
        let api = decode(&material.api_key_hmac)?;
        Ok(Keyring {
            current_term: material.current_term,
            data_keys,
            api_keys: hmac::Key::new(hmac::HMAC_SHA256, &api),
            material,
        })
    }

    /// The keyring sealed under `master`, as the database stores it.
    pub fn wrap(&self, master: &MasterKey) -> Vec<u8> {
        self.wrap_with(&KeyringWrapKey::of(master))
    }

    /// The keyring sealed under the master key's wrapping key.
    pub fn wrap_with(&self, key: &KeyringWrapKey) -> Vec<u8> {
        let json = Zeroizing::new(
            serde_json::to_vec(&self.material).expect("the keyring always serialises"),
        );
        let mut header = [0u8; 5];
        header[0] = KEYRING_V3;
        header[1..].copy_from_slice(&self.current_term.to_be_bytes());
        aead_seal(&key.0, &header, &keyring_aad(&header), &json)
    }

    /// The current term a wrapped keyring names, read without a key; None for a keyring
    /// wrapped before it was named.
    pub fn wrapped_current_term(wrapped: &[u8]) -> Option<u32> {
        match wrapped {
            [KEYRING_V3, a, b, c, d, ..] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
            _ => None,
        }
    }

    /// The keyring `wrapped` holds; [`CryptoError::Open`] when `master` is not the key that
    /// wrapped it (or the record was altered).
    pub fn unwrap(master: &MasterKey, wrapped: &[u8]) -> Result<Keyring, CryptoError> {
        Keyring::unwrap_with(&KeyringWrapKey::of(master), wrapped)
    }

    /// [`Keyring::unwrap`] with the master key's wrapping key.
    pub fn unwrap_with(key: &KeyringWrapKey, wrapped: &[u8]) -> Result<Keyring, CryptoError> {
        let json = match wrapped.first() {
            Some(&BLOB_V1) => aead_open(&key.0, KEYRING_AAD, &wrapped[1..])?,
            Some(&KEYRING_V3) if wrapped.len() > 5 => {
                aead_open(&key.0, &keyring_aad(&wrapped[..5]), &wrapped[5..])?
            }
            _ => return Err(CryptoError::Open),
        };
        let material: Material = serde_json::from_slice(&json).map_err(|_| CryptoError::Open)?;
        let keyring = Keyring::from_material(material)?;
        match Keyring::wrapped_current_term(wrapped) {
            Some(term) if term != keyring.current_term => Err(CryptoError::Open),
            _ => Ok(keyring),
        }
    }

    /// This keyring with a new, random data key as the current term (the highest term so
    /// far plus one), made at `created_at`; the older terms stay to open what they sealed.
    #[must_use]
    pub fn with_new_term(&self, created_at: i64) -> Keyring {
        let term = self
            .material
            .terms
            .iter()
            .map(|t| t.term)
            .max()
            .unwrap_or(0)
            + 1;
        let mut key = Zeroizing::new([0u8; 32]);
        rand::fill(&mut key[..]).expect("the system random generator failed");
        let mut terms = self.material.terms.clone();
        terms.push(TermMaterial {
            term,
            key: STANDARD.encode(&key[..]),
            created_at,
        });
        Keyring::from_material(Material {
            current_term: term,
            terms,
            api_key_hmac: self.material.api_key_hmac.clone(),
        })
        .expect("a new term is well-formed")
    }

    /// This keyring without the `dropped` terms; the current term always stays.
    #[must_use]
    pub fn without_terms(&self, dropped: &[u32]) -> Keyring {
        let terms = self
            .material
            .terms
            .iter()
            .filter(|t| t.term == self.current_term || !dropped.contains(&t.term))
            .cloned()
            .collect();
        Keyring::from_material(Material {
            current_term: self.current_term,
            terms,
            api_key_hmac: self.material.api_key_hmac.clone(),
        })
        .expect("the current term stays")
    }

    /// Whether this keyring holds a key of `term`.
    pub fn has_term(&self, term: u32) -> bool {
        self.data_key(term).is_some()
    }

    /// When `term` stopped sealing new secrets: when the next term was made. None for the
    /// current term and for terms this keyring lacks.
    pub fn superseded_at(&self, term: u32) -> Option<i64> {
        self.material
            .terms
            .iter()
            .filter(|t| t.term > term)
            .map(|t| t.created_at)
            .min()
            .filter(|_| self.has_term(term))
    }

    /// The term new secrets are sealed with.
    pub fn current_term(&self) -> u32 {
        self.current_term
    }

    /// Every term, oldest first, with when it was made.
    pub fn terms(&self) -> Vec<(u32, i64)> {
        self.material
            .terms
            .iter()
            .map(|t| (t.term, t.created_at))
            .collect()
    }

    /// Encrypts `plaintext` bound to `aad` under the current term:
    /// `2 || term (4 bytes, big-endian) || nonce || ciphertext || tag`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut header = [0u8; 5];
        header[0] = BLOB_V2;
        header[1..].copy_from_slice(&self.current_term.to_be_bytes());
        aead_seal(
            self.data_key(self.current_term)
                .expect("the current term has a key"),
            &header,
            aad,
            plaintext,
        )
    }

    /// Opens a blob of any term this keyring holds; a version-1 blob (from before terms) is
    /// of the first term.
    pub fn open(&self, aad: &[u8], blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let term = term_of(blob).ok_or(CryptoError::Open)?;
        let body = match blob[0] {
            BLOB_V1 => &blob[1..],
            _ => &blob[5..],
        };
        aead_open(self.data_key(term).ok_or(CryptoError::Open)?, aad, body)
    }

    fn data_key(&self, term: u32) -> Option<&RandomizedNonceKey> {
        self.data_keys
            .iter()
            .find(|(t, _)| *t == term)
            .map(|(_, k)| k)
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

/// The associated data of a wrapped keyring: its purpose and its clear header.
fn keyring_aad(header: &[u8]) -> Vec<u8> {
    [KEYRING_AAD, header].concat()
}

/// The data-key term a sealed blob names; None for what is not a blob.
pub fn term_of(blob: &[u8]) -> Option<u32> {
    match *blob.first()? {
        BLOB_V1 if blob.len() > NONCE_LEN => Some(FIRST_TERM),
        BLOB_V2 if blob.len() > 5 + NONCE_LEN => {
            Some(u32::from_be_bytes(blob[1..5].try_into().ok()?))
        }
        _ => None,
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

/// Whether `text` has the form [`generate_uid`] gives (and the migrations that filled older
/// rows gave): 32 hex digits. Anything else can be refused before any lookup.
pub fn is_uid(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Associated data for one secret field of one credential row.
pub fn credential_aad(team_id: i64, uid: &str, field: &str) -> Vec<u8> {
    format!("credvault/v1/credential/team={team_id}/uid={uid}/{field}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_uids_are_uids_and_other_text_is_not() {
        assert!(is_uid(&generate_uid()));
        for text in [
            "",
            "ab\0cd",
            &"g".repeat(32),
            &"a".repeat(31),
            &"a".repeat(33),
        ] {
            assert!(!is_uid(text), "{text:?}");
        }
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn seal_open_round_trip_and_binding() {
        let ring = Keyring::derived(&MasterKey::generate(), 0);
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
        let a = Keyring::derived(&MasterKey::generate(), 0);
        let b = Keyring::derived(&MasterKey::generate(), 0);
        let record = a.make_key_check();
        assert!(a.verify_key_check(&record));
        assert!(!b.verify_key_check(&record));
    }

    #[test]
    fn a_keyring_round_trips_under_its_master_key_only() {
        let (master, other) = (MasterKey::generate(), MasterKey::generate());
        let ring = Keyring::derived(&master, 7);
        let wrapped = ring.wrap(&master);
        let again = Keyring::unwrap(&master, &wrapped).unwrap();
        let blob = ring.seal(b"aad", b"secret");
        assert_eq!(again.open(b"aad", &blob).unwrap().as_slice(), b"secret");
        assert_eq!(again.hash_api_key("k"), ring.hash_api_key("k"));
        assert_eq!(again.terms(), vec![(FIRST_TERM, 7)]);
        assert!(Keyring::unwrap(&other, &wrapped).is_err());
        let mut altered = wrapped.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(Keyring::unwrap(&master, &altered).is_err());
        let text = String::from_utf8_lossy(&wrapped);
        assert!(
            !text.contains(ring.material.api_key_hmac.as_str()),
            "wrapped, not plain"
        );
    }

    #[test]
    fn secrets_sealed_before_terms_open_with_the_derived_keyring() {
        let master = MasterKey::generate();
        // A version-1 blob, as earlier versions sealed: the derived key, no term.
        let old_key = aead_key(&derive(&master, b"credvault/v1/seal")[..]).unwrap();
        let old_blob = aead_seal(&old_key, &[BLOB_V1], b"aad", b"old secret");
        let ring = Keyring::derived(&master, 0);
        assert_eq!(term_of(&old_blob), Some(FIRST_TERM));
        assert_eq!(
            ring.open(b"aad", &old_blob).unwrap().as_slice(),
            b"old secret"
        );
        let new_blob = ring.seal(b"aad", b"new secret");
        assert_eq!(
            (new_blob[0], term_of(&new_blob)),
            (BLOB_V2, Some(FIRST_TERM))
        );
        assert_eq!(term_of(b"\x07garbage"), None);
    }

    #[test]
    fn a_new_term_seals_new_secrets_and_old_terms_still_open() {
        let master = MasterKey::generate();
        let ring = Keyring::derived(&master, 5);
        let old = ring.seal(b"aad", b"old");
        let next = ring.with_new_term(9);
        assert_eq!(next.current_term(), 2);
        assert_eq!(next.terms(), vec![(1, 5), (2, 9)]);
        assert_eq!(next.superseded_at(1), Some(9));
        assert_eq!(next.superseded_at(2), None);
        let new = next.seal(b"aad", b"new");
        assert_eq!(term_of(&new), Some(2));
        assert_eq!(next.open(b"aad", &old).unwrap().as_slice(), b"old");
        assert!(
            ring.open(b"aad", &new).is_err(),
            "the old keyring lacks term 2"
        );
        assert_eq!(next.hash_api_key("k"), ring.hash_api_key("k"));
        let wrapped = next.wrap(&master);
        assert_eq!(Keyring::wrapped_current_term(&wrapped), Some(2));
        let again = Keyring::unwrap(&master, &wrapped).unwrap();
        assert_eq!(again.open(b"aad", &new).unwrap().as_slice(), b"new");
        let mut renamed = wrapped.clone();
        renamed[4] = 1;
        assert!(
            Keyring::unwrap(&master, &renamed).is_err(),
            "the header is authenticated"
        );
    }

    #[test]
    fn dropping_terms_keeps_the_current_one() {
        let ring = Keyring::derived(&MasterKey::generate(), 0).with_new_term(1);
        let dropped = ring.without_terms(&[1, 2]);
        assert_eq!(dropped.terms(), vec![(2, 1)]);
        assert!(!dropped.has_term(1));
        assert_eq!(dropped.superseded_at(1), None);
        assert_eq!(dropped.with_new_term(3).current_term(), 3);
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
        let ring = Keyring::derived(&MasterKey::generate(), 0);
        let key = generate_api_key();
        assert!(key.starts_with("cvk_"));
        let h = ring.hash_api_key(&key);
        assert!(hashes_equal(&h, &ring.hash_api_key(&key)));
        assert!(!hashes_equal(&h, &ring.hash_api_key("other")));
    }
}
