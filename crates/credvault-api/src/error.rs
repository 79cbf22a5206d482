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

/// A source error kept inside [`ApiError::Internal`] for the log.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

/// Every failure a handler can answer with. `Display` is the text for the log; the client
/// sees the status, the field and [`ApiError::public_message`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not JSON, or not a JSON object.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no API key, or one that is unknown or revoked.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403: the caller sees the resource but may not do this.
    #[error("{message}")]
    Forbidden {
        field: Option<&'static str>,
        message: String,
    },
    /// 404: no such resource, or one the caller may not see.
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists, the method does not.
    #[error("this method is not allowed on this route")]
    MethodNotAllowed,
    /// 408: the request body did not arrive in time.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// 409: a uniqueness rule.
    #[error("{message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// 413: the body is over the size limit.
    #[error("the request body is larger than the limit of 1 MiB")]
    PayloadTooLarge,
    /// 415: a body whose content type is not JSON.
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// 422: a field is missing, of the wrong type or invalid.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// 429: over the rate limit; retry after this many seconds.
    #[error("rate limit exceeded; retry in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    /// 503: the database does not answer.
    #[error("the database did not answer")]
    Unavailable(#[source] StoreError),
    /// 503: the stored keyring no longer opens with this instance's master key (it was
    /// rekeyed), so this instance refuses to seal secrets until it restarts with the new key.
    #[error("this instance's master key no longer opens the stored keyring")]
    KeyringStale,
    /// 503: the audit log file cannot be written, so changes are refused (fail closed).
    #[error("the audit log cannot be written")]
    AuditUnavailable(#[source] StoreError),
    /// 500: a bug. What was being done and why it failed are logged, never sent.
    #[error("{context}")]
    Internal {
        context: String,
        #[source]
        source: Option<Source>,
    },
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

    pub fn conflict(field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            field,
            message: message.into(),
        }
    }

    /// A bug found while doing `context`, caused by `source`.
    pub fn internal(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> ApiError {
        ApiError::Internal {
            context: context.into(),
            source: Some(Box::new(source)),
        }
    }

    /// A bug with no underlying error to keep (a broken invariant, a panic).
    pub fn bug(context: impl Into<String>) -> ApiError {
        ApiError::Internal {
            context: context.into(),
            source: None,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::AuditUnavailable(_) | ApiError::KeyringStale => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ApiError::Forbidden { field, .. } => *field,
            ApiError::Conflict { field, .. } | ApiError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// What the client is told: the log text, except for failures on our side, whose detail
    /// stays in the log.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Unavailable(_) => "the database is unavailable; try again shortly".into(),
            ApiError::AuditUnavailable(_) => {
                "the audit log cannot be written, so changes are refused until it can; \
                 nothing was changed"
                    .into()
            }
            ApiError::KeyringStale => "this instance was started with a master key that was \
                 since rotated; it cannot store secrets until it is restarted with the new key"
                .into(),
            ApiError::Internal { .. } => "internal error".into(),
            other => other.to_string(),
        }
    }

    /// The error and its sources, for the log: `context: cause: cause's cause`.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

/// Turning a store error into the API error a handler means.
pub trait ResultExt<T> {
    /// A conflict on the unique rule `which` becomes `error()`; every other store error maps
    /// as usual.
    fn on_conflict(self, which: Conflict, error: impl FnOnce() -> ApiError) -> ApiResult<T>;
}

impl<T> ResultExt<T> for Result<T, StoreError> {
    fn on_conflict(self, which: Conflict, error: impl FnOnce() -> ApiError) -> ApiResult<T> {
        self.map_err(|e| match e {
            StoreError::Conflict(hit) if hit == which => error(),
            other => other.into(),
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Unavailable(_) => {
                tracing::warn!(error = %self.chain(), "database unavailable");
            }
            ApiError::AuditUnavailable(_) => {
                tracing::error!(error = %self.chain(), "change refused: audit log unwritable");
            }
            ApiError::Internal { .. } => tracing::error!(error = %self.chain(), "internal error"),
            _ => {}
        }
        let (status, field, message) = (self.status(), self.field(), self.public_message());
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
        match &e {
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
                ApiError::conflict(field, message)
            }
            StoreError::Unavailable(_) => ApiError::Unavailable(e),
            StoreError::AuditUnavailable(_) => ApiError::AuditUnavailable(e),
            StoreError::Corrupt(_) => ApiError::internal("reading a stored row", e),
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> ApiError {
        ApiError::invalid("jwt_private_key", e.to_string())
    }
}
