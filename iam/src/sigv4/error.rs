//! Authentication failures and their AWS wire codes.

use crate::principal::CredentialStoreError;

/// The wire protocol of the service a request was addressed to; AWS names the same failure
/// differently per protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// REST services behind the AWS front door (AMP `aps`): `…Exception` codes, 403s.
    RestJson,
    /// `x-amz-json-1.1` services (KMS, CloudTrail): `…Exception` codes, mostly 400.
    Json,
    /// `query` services (IAM, STS): short codes (`SignatureDoesNotMatch`).
    Query,
}

impl Protocol {
    /// Returns the protocol of a signing service name: `iam`/`sts` speak `query`, `kms` and
    /// `cloudtrail` json-1.1, everything else (`aps`) rest-json.
    pub fn for_service(service: &str) -> Self {
        match service {
            "iam" | "sts" => Self::Query,
            "kms" | "cloudtrail" => Self::Json,
            _ => Self::RestJson,
        }
    }
}

/// A malformed `Authorization` header or presigned query. Opaque on purpose: callers map it
/// to `IncompleteSignature` and show its message, nothing more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseAuthorizationError {
    message: String,
}

impl ParseAuthorizationError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Why a request failed SigV4 authentication.
#[derive(Debug, thiserror::Error)]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor `X-Amz-Algorithm` in the query.
    #[error("Missing Authentication Token")]
    MissingAuthentication,
    /// The signature elements are malformed or incomplete.
    #[error(transparent)]
    IncompleteSignature(#[from] ParseAuthorizationError),
    /// The request timestamp lies before `now - window`.
    #[error("Signature expired: {signed} is now earlier than {limit} ({now} - {window})")]
    SignatureExpired {
        /// The request's timestamp (`YYYYMMDD'T'HHMMSS'Z'`).
        signed: String,
        /// The earliest accepted timestamp.
        limit: String,
        /// The server time.
        now: String,
        /// The window, formatted like AWS (`5 min.`).
        window: String,
    },
    /// The request timestamp lies after `now + window`.
    #[error("Signature not yet current: {signed} is still later than {limit} ({now} + {window})")]
    SignatureNotYetCurrent {
        /// The request's timestamp.
        signed: String,
        /// The latest accepted timestamp.
        limit: String,
        /// The server time.
        now: String,
        /// The window, formatted like AWS.
        window: String,
    },
    /// The credential scope does not fit the request (date, region, service, terminator).
    #[error("{0}")]
    InvalidScope(String),
    /// A header that must be covered by the signature is not in `SignedHeaders`.
    #[error("{0}")]
    UnsignedHeader(String),
    /// The access key is unknown or inactive, or the session token does not belong to it.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    /// The session of a temporary key has expired.
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    /// The presigned URL is past `X-Amz-Date + X-Amz-Expires`.
    #[error("Request has expired")]
    PresignedUrlExpired,
    /// `x-amz-content-sha256` (or a signed `content-length`) disagrees with the body.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    PayloadHashMismatch,
    /// The recomputed signature differs from the one sent.
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. \
         Consult the service documentation for details."
    )]
    SignatureDoesNotMatch {
        /// The canonical request the server computed (query services echo it back).
        canonical_request: String,
        /// The string to sign the server computed.
        string_to_sign: String,
    },
    /// The credential store failed; the detail stays in the process.
    #[error("credential lookup failed")]
    CredentialStore(#[source] CredentialStoreError),
}

impl SigV4Error {
    /// Returns the AWS error code for the AMP rest-json protocol.
    pub fn aws_code(&self) -> &'static str {
        self.aws_code_for(Protocol::RestJson)
    }

    /// Returns the HTTP status for the AMP rest-json protocol.
    pub fn http_status(&self) -> http::StatusCode {
        self.http_status_for(Protocol::RestJson)
    }

    /// Returns the AWS error code under the given protocol.
    pub fn aws_code_for(&self, protocol: Protocol) -> &'static str {
        let query = protocol == Protocol::Query;
        let pick = |json: &'static str, q: &'static str| if query { q } else { json };
        match self {
            Self::MissingAuthentication => pick(
                "MissingAuthenticationTokenException",
                "MissingAuthenticationToken",
            ),
            Self::IncompleteSignature(_) => {
                pick("IncompleteSignatureException", "IncompleteSignature")
            }
            Self::SignatureExpired { .. }
            | Self::SignatureNotYetCurrent { .. }
            | Self::InvalidScope(_)
            | Self::UnsignedHeader(_)
            | Self::PayloadHashMismatch
            | Self::SignatureDoesNotMatch { .. } => {
                pick("InvalidSignatureException", "SignatureDoesNotMatch")
            }
            Self::UnrecognizedClient => pick("UnrecognizedClientException", "InvalidClientTokenId"),
            Self::ExpiredToken => pick("ExpiredTokenException", "ExpiredToken"),
            Self::PresignedUrlExpired => pick("AccessDeniedException", "AccessDenied"),
            Self::CredentialStore(_) if protocol == Protocol::RestJson => "InternalServerException",
            Self::CredentialStore(_) => "InternalFailure",
        }
    }

    /// Returns the HTTP status under the given protocol.
    pub fn http_status_for(&self, protocol: Protocol) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Self::CredentialStore(_) => S::INTERNAL_SERVER_ERROR,
            Self::IncompleteSignature(_) => S::BAD_REQUEST,
            // The classic json-1.1 stack answers auth failures with 400.
            _ if protocol == Protocol::Json => S::BAD_REQUEST,
            Self::ExpiredToken if protocol == Protocol::Query => S::BAD_REQUEST,
            _ => S::FORBIDDEN,
        }
    }

    /// Returns the message to send: query services append the canonical request and string
    /// to sign to a signature mismatch, as AWS does.
    pub fn message_for(&self, protocol: Protocol) -> String {
        match self {
            Self::SignatureDoesNotMatch {
                canonical_request,
                string_to_sign,
            } if protocol == Protocol::Query => format!(
                "{self}\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\n\
                 The String-to-Sign should have been\n'{string_to_sign}'\n"
            ),
            Self::CredentialStore(_) => "An internal error occurred.".to_owned(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_per_service() {
        assert_eq!(Protocol::for_service("aps"), Protocol::RestJson);
        assert_eq!(Protocol::for_service("iam"), Protocol::Query);
        assert_eq!(Protocol::for_service("sts"), Protocol::Query);
        assert_eq!(Protocol::for_service("kms"), Protocol::Json);
        assert_eq!(Protocol::for_service("cloudtrail"), Protocol::Json);
    }

    #[test]
    fn codes_differ_per_protocol() {
        let err = SigV4Error::UnrecognizedClient;
        assert_eq!(err.aws_code(), "UnrecognizedClientException");
        assert_eq!(err.aws_code_for(Protocol::Query), "InvalidClientTokenId");
        assert_eq!(err.http_status(), http::StatusCode::FORBIDDEN);
        assert_eq!(
            err.http_status_for(Protocol::Json),
            http::StatusCode::BAD_REQUEST
        );
        let incomplete = SigV4Error::from(ParseAuthorizationError::new("x"));
        assert_eq!(
            incomplete.aws_code_for(Protocol::Query),
            "IncompleteSignature"
        );
        assert_eq!(incomplete.http_status(), http::StatusCode::BAD_REQUEST);
        assert_eq!(
            SigV4Error::MissingAuthentication.aws_code(),
            "MissingAuthenticationTokenException"
        );
    }

    #[test]
    fn mismatch_message_includes_canonical_forms_for_query_services() {
        let err = SigV4Error::SignatureDoesNotMatch {
            canonical_request: "GET\n/".into(),
            string_to_sign: "AWS4-HMAC-SHA256\n…".into(),
        };
        assert!(err.to_string().starts_with(
            "The request signature we calculated does not match the signature you provided."
        ));
        assert!(
            !err.message_for(Protocol::RestJson)
                .contains("Canonical String")
        );
        assert!(err.message_for(Protocol::Query).contains("'GET\n/'"));
        assert_eq!(err.aws_code_for(Protocol::Query), "SignatureDoesNotMatch");
    }
}
