//! A mode's own fields (API.md §4): TEXT's `value`, JWT's algorithm, payload, headers,
//! lifetime and key. The key is parsed, checked against the algorithm and given a trial
//! signature before anything is stored; that CPU work goes to the bounded key-work pool when
//! it is slow (RSA, encrypted keys).

use credvault_core::jwt::{
    self, Algorithm, JwtSettings, KeyFamily, DEFAULT_LIFETIME_SECONDS, MAX_LIFETIME_SECONDS,
    ROTATION_PERIOD_SECONDS,
};
use credvault_core::keys::{
    generate_key, load_stored_key, parse_private_key, SigningKey, GENERATED_RSA_BITS,
};
use credvault_core::limits::{JsonLimit, MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_HEADERS_BYTES};
use credvault_core::model::Mode;
use credvault_core::timefmt::{now_millis, Millis};
use credvault_store::Credential;
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use super::request::within_limits;
use crate::error::{ApiError, ApiResult};
use crate::extract::body::{missing, Fields};
use crate::{secrets, AppState};

/// A mode's fields after a create or update: what may be shown (`config`) and, when the
/// request brought new secret material, that material in the clear (`secret`; `None` keeps the
/// stored one).
pub struct ModeData {
    pub config: Value,
    pub secret: Option<Zeroizing<Vec<u8>>>,
    /// The key's `kid` (API.md §5), as the key and settings now are.
    pub key_id: Option<String>,
}

impl ModeData {
    /// When a key that changed at `key_changed_at` is due for scheduled rotation.
    pub fn rotate_at(&self, key_changed_at: Millis) -> Option<Millis> {
        let period = self.config.get("jwt_rotation_period_seconds")?.as_i64()?;
        Some(key_changed_at.saturating_add(period.saturating_mul(1000)))
    }
}

pub fn parse_mode(body: &Fields) -> ApiResult<Mode> {
    let text = body.required_str("mode")?;
    let mode = Mode::parse(text)
        .ok_or_else(|| ApiError::invalid("mode", format!("mode must be one of {}", Mode::NAMES)))?;
    if !mode.is_supported() {
        return Err(ApiError::invalid(
            "mode",
            format!(
                "mode {} is not supported yet; supported modes are TEXT and JWT",
                mode.as_str()
            ),
        ));
    }
    Ok(mode)
}

/// Applies the mode's fields of `body` to `stored` (None on create, where the required ones
/// must be present).
pub async fn apply_mode(
    state: &AppState,
    mode: Mode,
    body: &Fields,
    stored: Option<&Credential>,
) -> ApiResult<ModeData> {
    refuse_other_modes_fields(mode, body)?;
    match mode {
        Mode::Jwt => apply_jwt(state, body, stored).await,
        Mode::Text => apply_text(body, stored),
        _ => Err(ApiError::invalid(
            "mode",
            format!("mode {} is not supported yet", mode.as_str()),
        )),
    }
}

fn apply_text(body: &Fields, stored: Option<&Credential>) -> ApiResult<ModeData> {
    let value = match (body.str("value")?, stored) {
        (Some(value), _) => value,
        (None, Some(_)) => {
            return Ok(ModeData {
                config: json!({}),
                secret: None,
                key_id: None,
            })
        }
        (None, None) => return Err(missing("value")),
    };
    if value.is_empty() {
        return Err(ApiError::invalid("value", "value must not be empty"));
    }
    Ok(ModeData {
        config: json!({}),
        secret: Some(Zeroizing::new(value.as_bytes().to_vec())),
        key_id: None,
    })
}

fn payload(body: &Fields) -> ApiResult<Map<String, Value>> {
    const INVALID: &str = "jwt_payload must be a JSON object of claims, or a string holding one";
    let payload = match body.get("jwt_payload") {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(Value::String(text)) if text.trim().is_empty() => Map::new(),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => map,
            // Deeper than the parser's own limit (128) is still a depth problem, and says so;
            // serde_json tells this error apart only by its message.
            Err(e) if e.to_string().contains("recursion limit") => {
                return Err(ApiError::invalid(
                    "jwt_payload",
                    JsonLimit::TooDeep {
                        max_depth: MAX_DEPTH,
                    }
                    .describe("jwt_payload"),
                ))
            }
            _ => return Err(ApiError::invalid("jwt_payload", INVALID)),
        },
        Some(_) => return Err(ApiError::invalid("jwt_payload", INVALID)),
    };
    within_limits("jwt_payload", &payload, MAX_DOCUMENT_BYTES)?;
    Ok(payload)
}

/// JOSE header fields that change how a verifier treats the token (where it fetches keys,
/// which extensions it must understand, whether the payload is encoded): never settable.
const FORBIDDEN_HEADERS: [&str; 7] = ["alg", "crit", "jku", "x5u", "jwk", "x5c", "b64"];

fn headers(given: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    if let Some(name) = given
        .keys()
        .find(|k| FORBIDDEN_HEADERS.iter().any(|f| k.eq_ignore_ascii_case(f)))
    {
        let message = if name.eq_ignore_ascii_case("alg") {
            format!("jwt_headers cannot set {name}; it always comes from jwt_algorithm")
        } else {
            format!(
                "jwt_headers cannot set {name}: it changes how verifiers treat the token \
                 (alg, crit, jku, x5u, jwk, x5c and b64 are refused)"
            )
        };
        return Err(ApiError::invalid("jwt_headers", message));
    }
    within_limits("jwt_headers", given, MAX_HEADERS_BYTES)?;
    Ok(given.clone())
}

/// A field of another mode would be silently dropped, and a client that sent it (a
/// `jwt_payload` on a TEXT credential, a `value` on a JWT one) surely meant something by it.
fn refuse_other_modes_fields(mode: Mode, body: &Fields) -> ApiResult<()> {
    let foreign: &[&'static str] = match mode {
        Mode::Jwt => &["value"],
        Mode::Text => &JWT_FIELDS,
        _ => &[],
    };
    match foreign.iter().find(|field| body.has(field)) {
        Some(field) => Err(ApiError::invalid(
            field,
            format!("{field} is not a field of {} credentials", mode.as_str()),
        )),
        None => Ok(()),
    }
}

const JWT_FIELDS: [&str; 10] = [
    "jwt_algorithm",
    "jwt_payload",
    "jwt_auto_generate_time_claims",
    "jwt_headers",
    "jwt_lifetime_seconds",
    "jwt_private_key",
    "jwt_private_key_passphrase",
    "jwt_generate_key",
    "jwt_key_size",
    "jwt_rotation_period_seconds",
];

async fn apply_jwt(
    state: &AppState,
    body: &Fields,
    stored: Option<&Credential>,
) -> ApiResult<ModeData> {
    let base: Option<JwtSettings> = stored.map(secrets::jwt_settings).transpose()?;
    if let Some(base) = &base {
        // `null` turns scheduled rotation off, so it counts as given there.
        let changes =
            JWT_FIELDS.iter().any(|f| body.has(f)) || body.is_null("jwt_rotation_period_seconds");
        if !changes {
            return Ok(ModeData {
                config: serde_json::to_value(base).expect("settings serialise"),
                secret: None,
                key_id: stored.and_then(|c| c.key_id.clone()),
            });
        }
    }
    let settings = jwt_settings(body, base.as_ref())?;
    let config = serde_json::to_value(&settings).expect("settings serialise");
    let (secret, key_id) = check_key(state, body, stored, settings).await?;
    Ok(ModeData {
        config,
        secret,
        key_id,
    })
}

/// The JWT settings `body` gives, each absent one kept from `base` (or defaulted on create).
fn jwt_settings(body: &Fields, base: Option<&JwtSettings>) -> ApiResult<JwtSettings> {
    let algorithm = match (body.str("jwt_algorithm")?, base) {
        (Some(text), _) => Algorithm::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "jwt_algorithm",
                format!("jwt_algorithm must be one of {}", Algorithm::NAMES),
            )
        })?,
        (None, Some(base)) => base.algorithm,
        (None, None) => return Err(missing("jwt_algorithm")),
    };
    let headers = match body.object("jwt_headers")? {
        Some(given) => headers(given)?,
        None => base.map(|b| b.headers.clone()).unwrap_or_default(),
    };
    let lifetime_seconds = match body.int("jwt_lifetime_seconds")? {
        Some(seconds) => seconds,
        None => base.map_or(DEFAULT_LIFETIME_SECONDS, |b| b.lifetime_seconds),
    };
    if !(1..=MAX_LIFETIME_SECONDS).contains(&lifetime_seconds) {
        return Err(ApiError::invalid(
            "jwt_lifetime_seconds",
            format!("jwt_lifetime_seconds must be between 1 and {MAX_LIFETIME_SECONDS}"),
        ));
    }
    let rotation_period_seconds = rotation_period(body, base)?;
    if rotation_period_seconds.is_some() && algorithm.family() == KeyFamily::Hmac {
        return Err(ApiError::invalid(
            "jwt_rotation_period_seconds",
            format!("{algorithm} uses a shared secret, which credvault cannot rotate: set jwt_rotation_period_seconds to null"),
        ));
    }
    Ok(JwtSettings {
        algorithm,
        payload: match (body.has("jwt_payload"), base) {
            (false, Some(base)) => base.payload.clone(),
            _ => payload(body)?,
        },
        auto_time_claims: match body.bool("jwt_auto_generate_time_claims")? {
            Some(auto) => auto,
            None => base.is_some_and(|b| b.auto_time_claims),
        },
        headers,
        lifetime_seconds,
        rotation_period_seconds,
    })
}

/// `jwt_rotation_period_seconds`: given (null turns scheduled rotation off), or the base's.
fn rotation_period(body: &Fields, base: Option<&JwtSettings>) -> ApiResult<Option<i64>> {
    const FIELD: &str = "jwt_rotation_period_seconds";
    if body.is_null(FIELD) {
        return Ok(None);
    }
    match body.int(FIELD)? {
        None => Ok(base.and_then(|b| b.rotation_period_seconds)),
        Some(seconds) if ROTATION_PERIOD_SECONDS.contains(&seconds) => Ok(Some(seconds)),
        Some(_) => Err(ApiError::invalid(
            FIELD,
            format!(
                "{FIELD} must be between {} (a minute) and {} (ten years), or null",
                ROTATION_PERIOD_SECONDS.start(),
                ROTATION_PERIOD_SECONDS.end()
            ),
        )),
    }
}

/// Checks the key `settings` will sign with: the one the request gives (parsed now; returned
/// to be sealed), or the stored one, which must fit the (possibly new) algorithm.
async fn check_key(
    state: &AppState,
    body: &Fields,
    stored: Option<&Credential>,
    settings: JwtSettings,
) -> ApiResult<CheckedKey> {
    let generate = generated_key_size(body, settings.algorithm)?;
    let source = match (generate, stored) {
        (Some(bits), _) => KeySource::Generate { bits },
        (None, Some(stored)) if !body.has("jwt_private_key") => {
            KeySource::Stored(secrets::open(state, stored).await?)
        }
        // The request's key; required on create.
        (None, _) => KeySource::Given {
            text: Zeroizing::new(body.required_str("jwt_private_key")?.to_string()),
            passphrase: body
                .str("jwt_private_key_passphrase")?
                .map(|p| Zeroizing::new(p.to_string())),
        },
    };
    // RSA key checks, signatures and generation, and the KDF of encrypted keys, take
    // milliseconds to seconds: they go to the bounded key-work pool. Other keys take
    // microseconds, less than a hand-off costs.
    let slow = settings.algorithm.family() == KeyFamily::Rsa
        || body.has("jwt_private_key_passphrase")
        || matches!(source, KeySource::Generate { .. });
    let check = move || source.check(&settings);
    if slow {
        state.key_work.run(check).await
    } else {
        check()
    }
}

/// `jwt_generate_key` (API.md §6): the RSA modulus size to generate a key of (2048 unless
/// `jwt_key_size` says otherwise; unused for EC and Ed25519), or None when the request gives or
/// keeps a key instead.
fn generated_key_size(body: &Fields, alg: Algorithm) -> ApiResult<Option<u32>> {
    let size = body.int("jwt_key_size")?;
    if body.bool("jwt_generate_key")? != Some(true) {
        if size.is_some() {
            return Err(ApiError::invalid(
                "jwt_key_size",
                "jwt_key_size is only given with jwt_generate_key: true",
            ));
        }
        return Ok(None);
    }
    if body.has("jwt_private_key") {
        return Err(ApiError::invalid(
            "jwt_generate_key",
            "give either jwt_private_key or jwt_generate_key: true, not both",
        ));
    }
    match (alg.family(), size) {
        (KeyFamily::Hmac, _) => Err(ApiError::invalid(
            "jwt_generate_key",
            format!("{alg} uses a shared secret, which has to be agreed with the verifier: give it in jwt_private_key"),
        )),
        (KeyFamily::Rsa, None) => Ok(Some(2048)),
        (KeyFamily::Rsa, Some(bits)) => match u32::try_from(bits) {
            Ok(bits) if GENERATED_RSA_BITS.contains(&bits) => Ok(Some(bits)),
            _ => Err(ApiError::invalid(
                "jwt_key_size",
                "jwt_key_size must be 2048, 3072 or 4096",
            )),
        },
        (_, None) => Ok(Some(0)),
        (_, Some(_)) => Err(ApiError::invalid(
            "jwt_key_size",
            format!("jwt_key_size applies to RS* and PS* keys; {alg} keys are on a fixed curve"),
        )),
    }
}

/// A checked key: the material to seal if the key is new, and its `kid`.
type CheckedKey = (Option<Zeroizing<Vec<u8>>>, Option<String>);

enum KeySource {
    /// A new key, made here; `bits` for RSA.
    Generate {
        bits: u32,
    },
    Given {
        text: Zeroizing<String>,
        passphrase: Option<Zeroizing<String>>,
    },
    Stored(Zeroizing<Vec<u8>>),
}

impl KeySource {
    /// The key, loaded and given a trial signature: the material to seal if it is new, and
    /// the key's `kid`.
    fn check(self, settings: &JwtSettings) -> ApiResult<CheckedKey> {
        let (key, secret) = match self {
            KeySource::Generate { bits } => {
                let generated = generate_key(settings.algorithm, bits).map_err(|e| {
                    ApiError::internal(format!("generating a {} key", settings.algorithm), e)
                })?;
                (generated.key, Some(generated.stored))
            }
            KeySource::Given { text, passphrase } => {
                let passphrase = passphrase.as_deref().map(String::as_str);
                let parsed = parse_private_key(settings.algorithm, &text, passphrase)?;
                (parsed.key, Some(parsed.stored))
            }
            KeySource::Stored(plain) => {
                let key = load_stored_key(settings.algorithm, &plain).map_err(|e| {
                    ApiError::invalid(
                        "jwt_algorithm",
                        format!(
                            "the stored key does not fit jwt_algorithm {}: {e}",
                            settings.algorithm
                        ),
                    )
                })?;
                (key, None)
            }
        };
        trial_signature(&key, settings)?;
        Ok((secret, jwt::key_id(&key, &settings.headers)))
    }
}

/// Signs a token exactly as minting would, and checks it with the public key.
fn trial_signature(key: &SigningKey, settings: &JwtSettings) -> ApiResult<()> {
    let claims = jwt::claims(
        &settings.payload,
        settings.auto_time_claims,
        settings.lifetime_seconds,
        now_millis() / 1000,
    );
    jwt::trial_sign(key, &settings.headers, &claims)
        .map(|_| ())
        .map_err(|_| {
            ApiError::invalid(
                "jwt_private_key",
                "jwt_private_key failed the trial signature: its parts do not belong together",
            )
        })
}
