//! The one error type of the HTTP layer and its mapping to status codes and the JSON error
//! body `{"errors":[{"message":"…","field":"…"}]}`. Every failure a handler can meet ends up
//! here, so the status for each kind of failure is decided in exactly one place.

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use credvault_core::keys::KeyError;
use credvault_store::{Conflict, StoreError};
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    /// 400: the body is not JSON, or not a JSON object.
    BadRequest(String),
    /// 401: no API key, or one that is unknown or revoked.
    Unauthorized(&'static str),
    /// 403: the caller sees the resource but may not do this.
    Forbidden {
        field: Option<&'static str>,
        message: String,
    },
    /// 404: no such resource, or one the caller may not see.
    NotFound(String),
    /// 405: the route exists, the method does not.
    MethodNotAllowed,
    /// 408: the request body did not arrive in time.
    RequestTimeout,
    /// 409: a uniqueness rule.
    Conflict {
        field: &'static str,
        message: String,
    },
    /// 413: the body is over the size limit.
    PayloadTooLarge,
    /// 415: a body whose content type is not JSON.
    UnsupportedMediaType,
    /// 422: a field is missing, of the wrong type or invalid.
    Invalid {
        field: &'static str,
        message: String,
    },
    /// 429: over the rate limit; retry after this many seconds.
    TooManyRequests { retry_after: u64 },
    /// 503: the database does not answer.
    Unavailable(String),
    /// 500: a bug. The detail is logged, never sent.
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::Forbidden {
            field: None,
            message: message.into(),
        }
    }

    pub fn forbidden_field(field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Forbidden {
            field: Some(field),
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::NotFound(message.into())
    }

    fn parts(&self) -> (StatusCode, Option<&'static str>, String) {
        match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, None, m.clone()),
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, None, (*m).to_string()),
            ApiError::Forbidden { field, message } => {
                (StatusCode::FORBIDDEN, *field, message.clone())
            }
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, None, m.clone()),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                None,
                "this method is not allowed on this route".into(),
            ),
            ApiError::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                None,
                "the request body did not arrive in time".into(),
            ),
            ApiError::Conflict { field, message } => {
                (StatusCode::CONFLICT, Some(*field), message.clone())
            }
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                "the request body is larger than the limit of 1 MiB".into(),
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                "the request body must be JSON (Content-Type: application/json)".into(),
            ),
            ApiError::Invalid { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(*field),
                message.clone(),
            ),
            ApiError::TooManyRequests { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                None,
                format!("rate limit exceeded; retry in {retry_after} s"),
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "the database is unavailable; try again shortly".into(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                "internal error".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Unavailable(detail) => tracing::warn!(%detail, "database unavailable"),
            ApiError::Internal(detail) => tracing::error!(%detail, "internal error"),
            _ => {}
        }
        let (status, field, message) = self.parts();
        let error = match field {
            Some(field) => json!({ "message": message, "field": field }),
            None => json!({ "message": message }),
        };
        let mut response = (status, Json(json!({ "errors": [error] }))).into_response();
        if let ApiError::TooManyRequests { retry_after } = self {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict(which) => {
                let (field, message) = match which {
                    Conflict::UserEmail => ("email", "a user with this email already exists"),
                    Conflict::TeamSlug => ("name", "a team with this name's slug already exists"),
                    Conflict::CredentialSlug => (
                        "name",
                        "a credential with this name's slug already exists in the team",
                    ),
                    Conflict::TestCredential => (
                        "live_credential_id",
                        "the live credential already has a test credential",
                    ),
                    Conflict::Other => ("id", "the resource already exists"),
                };
                ApiError::Conflict {
                    field,
                    message: message.into(),
                }
            }
            StoreError::Unavailable(detail) => ApiError::Unavailable(detail),
            StoreError::Corrupt(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> ApiError {
        ApiError::invalid("jwt_private_key", e.to_string())
    }
}
