//! The server's one error type, which turns into a JSON response.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter that cannot be used: 400.
    #[error("{field} = {value:?} {reason}")]
    BadParam {
        field: String,
        value: String,
        reason: String,
    },
    /// A valid request over one of the server's limits: 413 or 422.
    #[error("{what} is over the limit of {limit}")]
    OverLimit {
        status: StatusCode,
        field: &'static str,
        what: String,
        limit: u64,
    },
    #[error("{0}")]
    NotFound(String),
    /// The render passed the per-request deadline: 503.
    #[error("the render took longer than the limit of {limit_seconds} s")]
    Deadline { limit_seconds: f64 },
    /// The render was cancelled because its client went away (who will never read this).
    #[error("the render was cancelled")]
    Cancelled,
    /// The server's own failure (database, encoder, a panic): 500. The text is logged, never
    /// sent: the client reads only that something went wrong on the server's side.
    #[error("{0}")]
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<serde_json::Value>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParam { .. } => StatusCode::BAD_REQUEST,
            ApiError::OverLimit { status, .. } => *status,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Deadline { .. } | ApiError::Cancelled => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn bad(
        field: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        ApiError::BadParam {
            field: field.into(),
            value: value.into(),
            reason: reason.into(),
        }
    }
}

impl From<mandel::Error> for ApiError {
    fn from(e: mandel::Error) -> Self {
        match e {
            // The library's field names are the query's own keys.
            mandel::Error::Invalid {
                field,
                value,
                reason,
            } => ApiError::bad(field.name(), value, reason),
            mandel::Error::UnknownParameter { name, value } => {
                ApiError::bad(name, value, "is not a parameter of /render")
            }
            mandel::Error::TooLarge { what, bytes, limit } => ApiError::OverLimit {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                field: "pixels",
                what: format!("{what} ({bytes} bytes)"),
                limit,
            },
            mandel::Error::Cancelled => ApiError::Cancelled,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::log::Error> for ApiError {
    fn from(e: crate::log::Error) -> Self {
        ApiError::Internal(format!("render log: {e}"))
    }
}

impl From<crate::db::Error> for ApiError {
    fn from(e: crate::db::Error) -> Self {
        ApiError::Internal(format!("database: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (field, value, limit) = match &self {
            ApiError::BadParam { field, value, .. } => {
                (Some(field.as_str()), Some(value.as_str()), None)
            }
            ApiError::OverLimit { field, limit, .. } => (Some(*field), None, Some((*limit).into())),
            ApiError::Deadline { limit_seconds } => (None, None, Some((*limit_seconds).into())),
            _ => (None, None, None),
        };
        let error = match &self {
            ApiError::Internal(detail) => {
                tracing::error!("internal error: {detail}");
                "internal server error (the details are in the server's log)".to_string()
            }
            other => other.to_string(),
        };
        let body = Body {
            error,
            field,
            value,
            limit,
        };
        (self.status(), Json(body)).into_response()
    }
}
