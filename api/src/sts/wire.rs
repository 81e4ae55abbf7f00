//! The AWS query protocol as STS speaks it: its namespace, version and error codes. Forms and
//! XML bodies are built with the IAM query helpers.

use ampd_backends::IamStoreError;
use ampd_iam::policy::PolicyError;
use ampd_iam::sigv4::{Protocol, SigV4Error};
use ampd_iam::sts::ParamError;
use ampd_iam::sts::oidc::WebIdentityError;
use axum::http::StatusCode;
use axum::response::Response;

use crate::auth::AuthzError;
use crate::iam::query::{Xml, error_in, respond_in};

/// XML namespace of STS responses.
pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// The only STS API version.
pub const VERSION: &str = "2011-06-15";

/// Returns a successful response: `<{action}Response>` with its `<{action}Result>`.
pub fn respond(action: &str, result: Xml, request_id: &str) -> Response {
    respond_in(NAMESPACE, action, Some(result), request_id)
}

/// An STS error: HTTP status, wire code and message.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StsError {
    /// HTTP status.
    pub status: StatusCode,
    /// Wire code (`AccessDenied`, `InvalidIdentityToken`, …).
    pub code: &'static str,
    /// Message for the client.
    pub message: String,
    /// The internal cause of a 5xx, logged but never sent.
    #[source]
    pub source: Option<anyhow::Error>,
}

impl StsError {
    /// Returns an error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            source: None,
        }
    }

    /// `ValidationError` (400).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationError", message)
    }

    /// `AccessDenied` (403).
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessDenied", message)
    }

    /// `MalformedPolicyDocument` (400).
    pub fn malformed_policy(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MalformedPolicyDocument", message)
    }

    /// `InvalidIdentityToken` (400).
    pub fn invalid_identity_token(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidIdentityToken", message)
    }

    /// `IDPCommunicationError` (400): the provider's keys could not be fetched.
    pub fn idp_communication(source: anyhow::Error) -> Self {
        tracing::warn!(error = %format!("{source:#}"), "cannot fetch the OIDC provider's keys");
        Self::new(
            StatusCode::BAD_REQUEST,
            "IDPCommunicationError",
            "Couldn't retrieve verification key from your identity provider, please reference \
             AssumeRoleWithWebIdentity documentation for requirements",
        )
    }

    /// `InternalFailure` (500), keeping `source` for the log.
    pub fn internal(source: anyhow::Error) -> Self {
        Self {
            source: Some(source),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "An internal error occurred.",
            )
        }
    }

    /// Renders the error with the request id.
    pub fn into_response_with(self, request_id: &str) -> Response {
        if let Some(source) = &self.source {
            tracing::error!(code = self.code, error = %format!("{source:#}"), "STS request failed");
        }
        error_in(NAMESPACE, self.status, self.code, &self.message, request_id)
    }
}

impl From<SigV4Error> for StsError {
    fn from(e: SigV4Error) -> Self {
        let status = e.http_status_for(Protocol::Query);
        let code = e.aws_code_for(Protocol::Query);
        let message = e.message_for(Protocol::Query);
        Self {
            source: status.is_server_error().then(|| anyhow::Error::new(e)),
            ..Self::new(status, code, message)
        }
    }
}

impl From<AuthzError> for StsError {
    fn from(e: AuthzError) -> Self {
        match e {
            AuthzError::Denied(m) => Self::access_denied(m),
            AuthzError::Internal(e) => Self::internal(e),
        }
    }
}

impl From<IamStoreError> for StsError {
    fn from(e: IamStoreError) -> Self {
        Self::internal(anyhow::Error::new(e))
    }
}

impl From<ParamError> for StsError {
    fn from(e: ParamError) -> Self {
        Self::validation(e.0)
    }
}

impl From<PolicyError> for StsError {
    fn from(e: PolicyError) -> Self {
        Self::malformed_policy(e.to_string())
    }
}

impl From<WebIdentityError> for StsError {
    fn from(e: WebIdentityError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, e.aws_code(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_use_the_sts_namespace_and_codes() {
        let res = StsError::from(WebIdentityError::IncorrectAudience).into_response_with("r-1");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let res = StsError::from(SigV4Error::ExpiredToken);
        assert_eq!(res.code, "ExpiredToken");
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            StsError::from(SigV4Error::UnrecognizedClient).code,
            "InvalidClientTokenId"
        );
        let e = StsError::from(WebIdentityError::Expired { now: 2, exp: 1 });
        assert_eq!(e.code, "ExpiredTokenException");
    }
}
