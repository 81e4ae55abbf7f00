//! Policy documents that IAM would refuse (`MalformedPolicyDocument`).

/// A policy document failed to parse or validate. The message follows IAM's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    message: String,
}

impl PolicyError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The generic message IAM gives for JSON and structure errors.
    pub(crate) fn syntax() -> Self {
        Self::new("Syntax errors in policy.")
    }

    /// Returns the IAM query-protocol error code.
    pub fn aws_code(&self) -> &'static str {
        "MalformedPolicyDocument"
    }

    /// Returns the HTTP status IAM uses for it.
    pub fn http_status(&self) -> http::StatusCode {
        http::StatusCode::BAD_REQUEST
    }
}
