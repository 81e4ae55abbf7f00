//! The KMS error kinds and their wire form.

use serde::Serialize;

use crate::repository::RepositoryError;

/// Errors returned by [`crate::KmsService`]; each maps to one AWS KMS exception.
///
/// The message is the AWS-like text sent to clients; `Internal` never carries detail to the wire.
#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    /// The key, alias or other entity does not exist (`NotFoundException`).
    #[error("{0}")]
    NotFound(String),
    /// The key is disabled (`DisabledException`).
    #[error("{0}")]
    Disabled(String),
    /// The key state does not allow the operation (`KMSInvalidStateException`).
    #[error("{0}")]
    InvalidState(String),
    /// The ciphertext is malformed, tampered with or bound to another context (`InvalidCiphertextException`).
    #[error("{0}")]
    InvalidCiphertext(String),
    /// The ciphertext was not encrypted under the key the request named (`IncorrectKeyException`).
    #[error("{0}")]
    IncorrectKey(String),
    /// A parameter is out of range or inconsistent (`ValidationException`).
    #[error("{0}")]
    Validation(String),
    /// The alias already exists (`AlreadyExistsException`).
    #[error("{0}")]
    AlreadyExists(String),
    /// The alias name is malformed or reserved (`InvalidAliasNameException`).
    #[error("{0}")]
    InvalidAliasName(String),
    /// A tag key or value is not valid (`TagException`).
    #[error("{0}")]
    Tag(String),
    /// A quota was exceeded (`LimitExceededException`).
    #[error("{0}")]
    LimitExceeded(String),
    /// An ARN is malformed (`InvalidArnException`).
    #[error("{0}")]
    InvalidArn(String),
    /// A pagination marker is not one this service issued (`InvalidMarkerException`).
    #[error("{0}")]
    InvalidMarker(String),
    /// The key usage or algorithm does not fit the operation (`InvalidKeyUsageException`).
    #[error("{0}")]
    InvalidKeyUsage(String),
    /// The key policy is not a valid policy document (`MalformedPolicyDocumentException`).
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// The operation or option is not supported (`UnsupportedOperationException`).
    #[error("{0}")]
    UnsupportedOperation(String),
    /// The caller may not do this to the key, e.g. change an AWS managed key (`AccessDeniedException`).
    #[error("{0}")]
    AccessDenied(String),
    /// `DryRun` was set and the request would have succeeded (`DryRunOperationException`).
    #[error("The request would have succeeded, but the DryRun option is set.")]
    DryRun,
    /// The request body is not valid JSON for the operation (`SerializationException`).
    #[error("{0}")]
    Serialization(String),
    /// The `X-Amz-Target` names no KMS operation this service offers (`UnknownOperationException`).
    #[error("operation {0} is not supported")]
    UnknownOperation(String),
    /// A failure inside the service (`KMSInternalException`); the detail stays in the process.
    #[error("internal failure: {0}")]
    Internal(String),
}

/// The JSON body of an awsJson1.1 error response.
#[derive(Debug, Serialize)]
struct WireError<'a> {
    #[serde(rename = "__type")]
    kind: &'a str,
    message: String,
}

impl KmsError {
    /// Returns the AWS exception name sent as `__type` and `x-amzn-ErrorType`.
    pub fn aws_code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "NotFoundException",
            Self::Disabled(_) => "DisabledException",
            Self::InvalidState(_) => "KMSInvalidStateException",
            Self::InvalidCiphertext(_) => "InvalidCiphertextException",
            Self::IncorrectKey(_) => "IncorrectKeyException",
            Self::Validation(_) => "ValidationException",
            Self::AlreadyExists(_) => "AlreadyExistsException",
            Self::InvalidAliasName(_) => "InvalidAliasNameException",
            Self::Tag(_) => "TagException",
            Self::LimitExceeded(_) => "LimitExceededException",
            Self::InvalidArn(_) => "InvalidArnException",
            Self::InvalidMarker(_) => "InvalidMarkerException",
            Self::InvalidKeyUsage(_) => "InvalidKeyUsageException",
            Self::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
            Self::UnsupportedOperation(_) => "UnsupportedOperationException",
            Self::AccessDenied(_) => "AccessDeniedException",
            Self::DryRun => "DryRunOperationException",
            Self::Serialization(_) => "SerializationException",
            Self::UnknownOperation(_) => "UnknownOperationException",
            Self::Internal(_) => "KMSInternalException",
        }
    }

    /// Returns the HTTP status: 500 for internal failures, 400 for everything the client caused.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Internal(_) => 500,
            _ => 400,
        }
    }

    /// Returns the message safe to send to the client.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "An internal error occurred.".to_owned(),
            other => other.to_string(),
        }
    }

    /// Returns the awsJson1.1 error body `{"__type": …, "message": …}`.
    pub fn to_json(&self) -> Vec<u8> {
        let wire = WireError {
            kind: self.aws_code(),
            message: self.public_message(),
        };
        // Serializing two strings cannot fail; fall back to a fixed body to stay panic-free.
        serde_json::to_vec(&wire).unwrap_or_else(|_| {
            br#"{"__type":"KMSInternalException","message":"An internal error occurred."}"#.to_vec()
        })
    }
}

impl From<RepositoryError> for KmsError {
    fn from(err: RepositoryError) -> Self {
        tracing::error!(error = %err, "kms key repository failure: {err}");
        Self::Internal(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_codes_and_statuses() {
        let err = KmsError::NotFound("Key 'x' does not exist".into());
        assert_eq!(err.aws_code(), "NotFoundException");
        assert_eq!(err.http_status(), 400);
        let body: serde_json::Value = serde_json::from_slice(&err.to_json()).unwrap();
        assert_eq!(body["__type"], "NotFoundException");
        assert_eq!(body["message"], "Key 'x' does not exist");
    }

    #[test]
    fn internal_detail_is_hidden() {
        let err = KmsError::Internal("disk /var/x failed".into());
        assert_eq!(err.http_status(), 500);
        assert_eq!(err.aws_code(), "KMSInternalException");
        let body = String::from_utf8(err.to_json()).unwrap();
        assert!(!body.contains("/var/x"));
    }
}
