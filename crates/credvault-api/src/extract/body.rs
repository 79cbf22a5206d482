//! Request bodies: the JSON-object extractor (400/413/415 in the API's error format) and typed
//! field accessors whose errors name the field and what is wrong with it (422).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

use crate::connections::BodyTimeout;
use crate::error::ApiError;

/// How long a body may take to arrive when the connection loop has not said (API.md §12).
const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The request body as a JSON object. Unknown fields are kept and ignored by handlers.
pub struct JsonBody(pub Fields);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match read_object(req, state).await? {
            Some(fields) => Ok(JsonBody(fields)),
            None => Err(ApiError::BadRequest(
                "the request body is empty; a JSON object is expected".into(),
            )),
        }
    }
}

/// A body that may be left out; when present it must be a JSON object.
pub struct OptionalJsonBody(pub Fields);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let fields = read_object(req, state).await?;
        Ok(OptionalJsonBody(fields.unwrap_or(Fields(Map::new()))))
    }
}

/// The body as a JSON object, or None when it is empty.
async fn read_object<S: Send + Sync>(req: Request, state: &S) -> Result<Option<Fields>, ApiError> {
    if let Some(content_type) = req.headers().get(CONTENT_TYPE) {
        let essence = content_type
            .to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    let timeout = req
        .extensions()
        .get::<BodyTimeout>()
        .map_or(DEFAULT_BODY_TIMEOUT, |t| t.0);
    let read = tokio::time::timeout(timeout, Bytes::from_request(req, state));
    let bytes = read
        .await
        .map_err(|_| ApiError::RequestTimeout)?
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest("the request body could not be read".into())
            }
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::BadRequest(format!(
            "the request body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    match value {
        Value::Object(map) => Ok(Some(Fields(map))),
        _ => Err(ApiError::BadRequest(
            "the request body must be a JSON object".into(),
        )),
    }
}

/// A JSON object's fields. A field that is absent or `null` counts as not given.
pub struct Fields(pub Map<String, Value>);

pub fn missing(field: &'static str) -> ApiError {
    ApiError::invalid(field, format!("{field} is required"))
}

fn type_error(field: &'static str, expected: &str) -> ApiError {
    ApiError::invalid(field, format!("{field} must be {expected}"))
}

impl Fields {
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    /// Present and explicitly `null`: in an update, clears a nullable field.
    pub fn is_null(&self, field: &str) -> bool {
        matches!(self.0.get(field), Some(Value::Null))
    }

    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    pub fn required_str(&self, field: &'static str) -> Result<&str, ApiError> {
        self.str(field)?.ok_or_else(|| missing(field))
    }

    pub fn required_int(&self, field: &'static str) -> Result<i64, ApiError> {
        self.int(field)?.ok_or_else(|| missing(field))
    }

    /// A string of at most `max` characters.
    pub fn str_max(&self, field: &'static str, max: usize) -> Result<Option<&str>, ApiError> {
        match self.str(field)? {
            Some(s) if s.chars().count() > max => Err(ApiError::invalid(
                field,
                format!("{field} must be at most {max} characters"),
            )),
            other => Ok(other),
        }
    }

    pub fn required_str_max(&self, field: &'static str, max: usize) -> Result<&str, ApiError> {
        self.str_max(field, max)?.ok_or_else(|| missing(field))
    }

    pub fn str(&self, field: &'static str) -> Result<Option<&str>, ApiError> {
        match self.get(field) {
            None => Ok(None),
            // PostgreSQL text cannot hold NUL; refusing it on every backend keeps them alike.
            Some(Value::String(s)) if s.contains('\0') => Err(ApiError::invalid(
                field,
                format!("{field} must not contain NUL characters"),
            )),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(type_error(field, "a string")),
        }
    }

    pub fn bool(&self, field: &'static str) -> Result<Option<bool>, ApiError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(type_error(field, "true or false")),
        }
    }

    /// An integer; a string of digits is accepted too, as some clients send ids as strings.
    pub fn int(&self, field: &'static str) -> Result<Option<i64>, ApiError> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => as_int(v)
                .map(Some)
                .ok_or_else(|| type_error(field, "an integer")),
        }
    }

    pub fn object(&self, field: &'static str) -> Result<Option<&Map<String, Value>>, ApiError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(type_error(field, "a JSON object")),
        }
    }

    pub fn str_array(&self, field: &'static str) -> Result<Option<Vec<String>>, ApiError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| type_error(field, "an array of strings")),
            Some(_) => Err(type_error(field, "an array of strings")),
        }
    }

    pub fn int_array(&self, field: &'static str) -> Result<Option<Vec<i64>>, ApiError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(as_int)
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| type_error(field, "an array of integers")),
            Some(_) => Err(type_error(field, "an array of integers")),
        }
    }
}

/// An integer: `7`, also `7.0` (a number with no fraction, which JSON Schema counts as an
/// integer and some encoders write for every number), or a string of decimal digits with an
/// optional `-` (some clients send ids as strings), each within i64's range. The OpenAPI
/// document says the same (`"type": ["integer", "string"]` with that pattern).
fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| whole(n.as_f64()?)),
        Value::String(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            let decimal = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            decimal.then(|| s.parse().ok()).flatten()
        }
        _ => None,
    }
}

/// `f` as an i64 when it is a whole number in range.
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn whole(f: f64) -> Option<i64> {
    // i64::MAX as f64 rounds up to 2^63, which is out of range, hence `<`.
    let in_range = f >= i64::MIN as f64 && f < i64::MAX as f64;
    (f.fract() == 0.0 && in_range).then_some(f as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        assert_eq!(as_int(&json!(14_164_688.0)), Some(14_164_688));
        assert_eq!(as_int(&json!(-3.0)), Some(-3));
        assert_eq!(as_int(&json!(1e3)), Some(1000));
        assert_eq!(as_int(&json!(7)), Some(7));
        assert_eq!(as_int(&json!("12")), Some(12));
        assert_eq!(as_int(&json!("-12")), Some(-12));
    }

    #[test]
    fn fractions_and_numbers_out_of_range_are_not() {
        assert_eq!(as_int(&json!(1.5)), None);
        assert_eq!(as_int(&json!(9.3e18)), None);
        assert_eq!(as_int(&json!(-9.3e18)), None);
        assert_eq!(as_int(&json!(1e300)), None);
        assert_eq!(as_int(&json!(true)), None);
        for text in [" 12", "+12", "1.0", "", "-", "12a", "99999999999999999999"] {
            assert_eq!(as_int(&json!(text)), None, "{text:?}");
        }
    }
}
