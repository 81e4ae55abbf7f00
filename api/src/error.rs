//! The AWS rest-json error envelope and the mapping of every failure onto it.
//!
//! Clients derive the error code from the `x-amzn-ErrorType` header and copy the modeled members
//! from the JSON body, so every error response carries both. See
//! <https://docs.aws.amazon.com/prometheus/latest/APIReference/CommonErrors.html>.

use std::sync::Arc;

use ampd_backends::StoreError;
use ampd_iam::sigv4::{Protocol, SigV4Error};
use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// Why a request failed validation (`ValidationExceptionReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationReason {
    /// No operation matches the method and path.
    UnknownOperation,
    /// The body (or a blob in it) could not be parsed.
    CannotParse,
    /// A member broke a constraint.
    FieldValidationFailed,
    /// Anything else.
    Other,
}

impl ValidationReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::UnknownOperation => "UNKNOWN_OPERATION",
            Self::CannotParse => "CANNOT_PARSE",
            Self::FieldValidationFailed => "FIELD_VALIDATION_FAILED",
            Self::Other => "OTHER",
        }
    }
}

/// One offending member of a `ValidationException` (`fieldList` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    /// Member name as on the wire (`alias`, `tags.owner`, …).
    pub name: String,
    /// What is wrong with it.
    pub message: String,
}

/// One variant per error the control plane sends; the wire code is [`AwsError::code`].
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// `ValidationException` (400).
    #[error("{message}")]
    Validation {
        /// Summary.
        message: String,
        /// Reason enum.
        reason: ValidationReason,
        /// Offending members.
        fields: Vec<FieldIssue>,
    },
    /// `AccessDeniedException` (403).
    #[error("{message}")]
    AccessDenied {
        /// Summary.
        message: String,
    },
    /// `ResourceNotFoundException` (404).
    #[error("{message}")]
    ResourceNotFound {
        /// Summary.
        message: String,
        /// Identifier of the missing resource.
        resource_id: String,
        /// Kind of the missing resource.
        resource_type: &'static str,
    },
    /// `ConflictException` (409).
    #[error("{message}")]
    Conflict {
        /// Summary.
        message: String,
        /// Identifier of the conflicting resource.
        resource_id: String,
        /// Kind of the conflicting resource.
        resource_type: &'static str,
    },
    /// `ServiceQuotaExceededException` (402).
    #[error("{message}")]
    ServiceQuotaExceeded {
        /// Summary.
        message: String,
        /// Identifier of the refused resource.
        resource_id: String,
        /// Kind of the refused resource.
        resource_type: &'static str,
        /// Name of the quota.
        quota_code: &'static str,
    },
    /// `ThrottlingException` (429) with a `Retry-After` hint in seconds.
    #[error("{message}")]
    Throttling {
        /// Summary.
        message: String,
        /// Seconds the client should wait.
        retry_after_seconds: u32,
    },
    /// `InternalServerException` (500); the source never leaves the process.
    #[error("internal failure")]
    Internal(#[source] anyhow::Error),
    /// A SigV4 failure, with the code and status AMP's front door sends for it
    /// (`MissingAuthenticationTokenException`, `IncompleteSignatureException`,
    /// `InvalidSignatureException`, `UnrecognizedClientException`, …).
    #[error("{}", .0.message_for(Protocol::RestJson))]
    Signature(#[source] SigV4Error),
}

/// The detail of an error response, left in the response extensions for the request log.
#[derive(Debug, Clone)]
pub struct ErrorDetail(pub Arc<AwsError>);

/// Service code reported in quota errors.
const SERVICE_CODE: &str = "aps";

impl AwsError {
    /// Returns a `FIELD_VALIDATION_FAILED` error naming one member.
    pub fn field(name: impl Into<String>, message: impl Into<String>) -> Self {
        let (name, message) = (name.into(), message.into());
        Self::Validation {
            message: format!("{name}: {message}"),
            reason: ValidationReason::FieldValidationFailed,
            fields: vec![FieldIssue { name, message }],
        }
    }

    /// Returns a `CANNOT_PARSE` error.
    pub fn cannot_parse(message: impl Into<String>) -> Self {
        Self::Validation {
            message: message.into(),
            reason: ValidationReason::CannotParse,
            fields: Vec::new(),
        }
    }

    /// Returns an `UNKNOWN_OPERATION` error.
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self::Validation {
            message: message.into(),
            reason: ValidationReason::UnknownOperation,
            fields: Vec::new(),
        }
    }

    /// Returns the HTTP status and the wire error code.
    pub fn code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Validation { .. } => (StatusCode::BAD_REQUEST, "ValidationException"),
            Self::AccessDenied { .. } => (StatusCode::FORBIDDEN, "AccessDeniedException"),
            Self::ResourceNotFound { .. } => (StatusCode::NOT_FOUND, "ResourceNotFoundException"),
            Self::Conflict { .. } => (StatusCode::CONFLICT, "ConflictException"),
            Self::ServiceQuotaExceeded { .. } => (
                StatusCode::PAYMENT_REQUIRED,
                "ServiceQuotaExceededException",
            ),
            Self::Throttling { .. } => (StatusCode::TOO_MANY_REQUESTS, "ThrottlingException"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerException"),
            Self::Signature(e) => (e.http_status(), e.aws_code()),
        }
    }

    /// Returns the JSON body: `message` plus the members the model defines for the error.
    fn body(&self) -> Value {
        let mut body = Map::new();
        let message = match self {
            Self::Internal(_) => "An internal error occurred; retry the request.".to_owned(),
            other => other.to_string(),
        };
        body.insert("message".into(), Value::String(message));
        match self {
            Self::Validation { reason, fields, .. } => {
                body.insert("reason".into(), json!(reason.as_str()));
                if !fields.is_empty() {
                    let list: Vec<Value> = fields
                        .iter()
                        .map(|f| json!({"name": f.name, "message": f.message}))
                        .collect();
                    body.insert("fieldList".into(), Value::Array(list));
                }
            }
            Self::ResourceNotFound {
                resource_id,
                resource_type,
                ..
            }
            | Self::Conflict {
                resource_id,
                resource_type,
                ..
            } => {
                body.insert("resourceId".into(), json!(resource_id));
                body.insert("resourceType".into(), json!(resource_type));
            }
            Self::ServiceQuotaExceeded {
                resource_id,
                resource_type,
                quota_code,
                ..
            } => {
                body.insert("resourceId".into(), json!(resource_id));
                body.insert("resourceType".into(), json!(resource_type));
                body.insert("serviceCode".into(), json!(SERVICE_CODE));
                body.insert("quotaCode".into(), json!(quota_code));
            }
            Self::Throttling { .. } => {
                body.insert("serviceCode".into(), json!(SERVICE_CODE));
            }
            _ => {}
        }
        Value::Object(body)
    }

    fn retry_after(&self) -> Option<u32> {
        match self {
            Self::Throttling {
                retry_after_seconds,
                ..
            } => Some(*retry_after_seconds),
            Self::Internal(_) => Some(1),
            _ => None,
        }
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let (status, code) = self.code();
        let mut res = (status, Json(self.body())).into_response();
        let headers = res.headers_mut();
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(code));
        if let Some(secs) = self.retry_after() {
            headers.insert("Retry-After", HeaderValue::from(secs));
        }
        res.extensions_mut().insert(ErrorDetail(Arc::new(self)));
        res
    }
}

impl From<StoreError> for AwsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound {
                resource_type,
                resource_id,
            } => Self::ResourceNotFound {
                message: format!("{resource_type} not found: {resource_id}"),
                resource_id,
                resource_type: resource_type.as_str(),
            },
            StoreError::Conflict {
                message,
                resource_type,
                resource_id,
            } => Self::Conflict {
                message,
                resource_id,
                resource_type: resource_type.as_str(),
            },
            StoreError::QuotaExceeded {
                message,
                resource_type,
                resource_id,
            } => Self::ServiceQuotaExceeded {
                message,
                resource_id,
                resource_type: resource_type.as_str(),
                quota_code: "workspaces-per-region",
            },
            StoreError::LimitExceeded { message } => Self::Validation {
                message: message.clone(),
                reason: ValidationReason::FieldValidationFailed,
                fields: vec![FieldIssue {
                    name: "tags".into(),
                    message,
                }],
            },
            StoreError::Internal(source) => Self::Internal(anyhow::Error::from_boxed(source)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_carries_resource_members() {
        let e = AwsError::from(StoreError::NotFound {
            resource_type: ampd_backends::ResourceType::Workspace,
            resource_id: "ws-1".into(),
        });
        assert_eq!(
            e.code(),
            (StatusCode::NOT_FOUND, "ResourceNotFoundException")
        );
        let body = e.body();
        assert_eq!(body["resourceId"], "ws-1");
        assert_eq!(body["resourceType"], "WORKSPACE");
        assert_eq!(body["message"], "Workspace not found: ws-1");
    }

    #[test]
    fn internal_hides_detail_and_sets_retry_after() {
        let e = AwsError::Internal(anyhow::anyhow!("disk on fire at /secret/path"));
        let res = e.into_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()["x-amzn-ErrorType"], "InternalServerException");
        assert_eq!(res.headers()["Retry-After"], "1");
        let detail = res
            .extensions()
            .get::<ErrorDetail>()
            .map(|d| format!("{:#}", d.0));
        assert!(detail.is_some());
    }

    #[test]
    fn validation_lists_fields() {
        let body = AwsError::field("alias", "too long").body();
        assert_eq!(body["reason"], "FIELD_VALIDATION_FAILED");
        assert_eq!(body["fieldList"][0]["name"], "alias");
    }
}
