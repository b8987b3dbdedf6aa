//! The API error type: every refusal is a JSON body `{"error": code, "message": text, "field": path?}`
//! with a 4xx status; unexpected failures are logged with their cause chain and answered with an
//! opaque 500.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request could not be parsed (400).
    #[error("{message}")]
    Malformed {
        /// The offending field path, if known.
        field: Option<String>,
        /// Why.
        message: String,
    },
    /// A field was well-formed but not acceptable (422).
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field path.
        field: String,
        /// Why.
        message: String,
    },
    /// No valid session (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may not do this (403).
    #[error("{message}")]
    Forbidden {
        /// Machine-readable code.
        code: &'static str,
        /// Why.
        message: String,
    },
    /// No such resource (404).
    #[error("{0}")]
    NotFound(String),
    /// The action conflicts with the current state (409).
    #[error("{message}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// Why.
        message: String,
    },
    /// The body exceeds the limit (413).
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Wrong content type or content encoding (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The client sent its body too slowly (408).
    #[error("the request body did not arrive within {secs} s")]
    RequestTimeout {
        /// The limit in seconds.
        secs: u64,
    },
    /// Rate limit hit (429).
    #[error("too many requests; retry after {retry_after_secs} s")]
    TooManyRequests {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// A dependency (database, identity provider) is unavailable, or the server is busy (503,
    /// `Retry-After: 1`).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else (500); the cause is logged, not shown.
    #[error("internal error")]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    /// A 422 naming the field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), message: message.into() }
    }

    /// A 409 with a code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }

    /// A 403 with a code.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden { code, message: message.into() }
    }

    /// The machine-readable `error` code of the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "malformed_request",
            Self::Invalid { .. } => "invalid_field",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden { code, .. } | Self::Conflict { code, .. } => code,
            Self::NotFound(_) => "not_found",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::RequestTimeout { .. } => "request_timeout",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Unexpected(_) => "internal_error",
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Malformed { .. } => StatusCode::BAD_REQUEST,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Unexpected(e) = self {
            tracing::error!(error = ?e, "request failed");
        }
        let (field, message) = match self {
            Self::Malformed { field, message } => (field.as_deref(), message.clone()),
            Self::Invalid { field, message } => (Some(field.as_str()), message.clone()),
            other => (None, other.to_string()),
        };
        let mut resp = HttpResponse::build(self.status_code());
        match self {
            Self::TooManyRequests { retry_after_secs } => {
                resp.insert_header(("Retry-After", retry_after_secs.to_string()));
            }
            // busy or a dependency down: worth trying again shortly
            Self::Unavailable(_) => {
                resp.insert_header(("Retry-After", "1"));
            }
            _ => {}
        }
        resp.json(ErrorBody { error: self.code(), message, field })
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) | Error::BrokenTransactionManager => {
                tracing::error!(error = %e, "database connection lost");
                Self::Unavailable("the database is unavailable; try again".into())
            }
            e => Self::Unexpected(anyhow::Error::new(e).context("database query")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::error!(error = %e, "database pool");
        Self::Unavailable("the database is unavailable; try again".into())
    }
}
