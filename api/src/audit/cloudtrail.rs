//! The CloudTrail API on `POST /` (awsJson 1.1, signing name `cloudtrail`): `LookupEvents`
//! and `ListPublicKeys`, each authorized as `cloudtrail:<Operation>` on `*`.

use ampd_audit::LookupError;
use ampd_iam::sigv4::{Protocol, SigV4Error};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Auditor;
use crate::auth::{Authenticator, AuthzError, Check, read_body};

/// Target prefix of the CloudTrail operations, after the optional `com.amazonaws.…` namespace.
const TARGET: &str = "CloudTrail_20131101.";

/// A CloudTrail error on the wire.
struct JsonError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl JsonError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<SigV4Error> for JsonError {
    fn from(e: SigV4Error) -> Self {
        Self::new(
            e.http_status_for(Protocol::Json),
            e.aws_code_for(Protocol::Json),
            e.message_for(Protocol::Json),
        )
    }
}

impl From<AuthzError> for JsonError {
    fn from(e: AuthzError) -> Self {
        match e {
            // CloudTrail, like other Coral json-1.1 services, sends access denials as 400.
            AuthzError::Denied(m) => Self::new(StatusCode::BAD_REQUEST, "AccessDeniedException", m),
            AuthzError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "cannot authorize a CloudTrail call");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalFailure",
                    "internal failure",
                )
            }
        }
    }
}

impl From<LookupError> for JsonError {
    fn from(e: LookupError) -> Self {
        if let LookupError::Internal(inner) = &e {
            tracing::error!(error = %inner, "CloudTrail lookup failed: {inner}");
        }
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        Self::new(status, e.aws_code(), e.to_string())
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"__type": self.code, "message": self.message});
        json_response(self.status, body.to_string().into_bytes())
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    res
}

/// Returns whether an `X-Amz-Target` names a CloudTrail operation.
pub(crate) fn is_target(target: &str) -> bool {
    operation_of(target).is_some()
}

fn operation_of(target: &str) -> Option<&str> {
    target
        .strip_prefix("com.amazonaws.cloudtrail.v20131101.")
        .unwrap_or(target)
        .strip_prefix(TARGET)
}

/// Serves one CloudTrail request.
pub(crate) async fn handle(auth: &Authenticator, req: Request) -> Response {
    match serve(auth, req).await {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(e) => e.into_response(),
    }
}

async fn serve(auth: &Authenticator, req: Request) -> Result<Vec<u8>, JsonError> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(body).await.map_err(|e| {
        JsonError::new(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            e.to_string(),
        )
    })?;
    let caller = auth.authenticate(&parts, &bytes, "cloudtrail").await?;
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (op, action) = match operation_of(target) {
        Some("LookupEvents") => (Op::LookupEvents, "cloudtrail:LookupEvents"),
        Some("ListPublicKeys") => (Op::ListPublicKeys, "cloudtrail:ListPublicKeys"),
        _ => {
            return Err(JsonError::new(
                StatusCode::BAD_REQUEST,
                "UnknownOperationException",
                format!("Unrecognized operation {target}"),
            ));
        }
    };
    let check = Check {
        action,
        resource: "*".to_owned(),
        context: auth.base_context(&parts, &caller.principal),
    };
    auth.authorize(&caller, &[check]).await?;
    let trail = parts
        .extensions
        .get::<Auditor>()
        .map(|a| a.trail().clone())
        .ok_or_else(|| {
            JsonError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "the audit trail is not available",
            )
        })?;
    match op {
        Op::LookupEvents => {
            // Lookups see every event recorded before them, including this process's own.
            trail.flush_index().await.map_err(LookupError::from)?;
            Ok(trail.lookup_events_json(&bytes).await?)
        }
        Op::ListPublicKeys => {
            let body = if bytes.iter().all(u8::is_ascii_whitespace) {
                b"{}".as_slice()
            } else {
                &bytes
            };
            let request = serde_json::from_slice(body)
                .map_err(|e| LookupError::Serialization(e.to_string()))?;
            let response = trail.list_public_keys(&request)?;
            serde_json::to_vec(&response).map_err(|e| {
                JsonError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalFailure",
                    e.to_string(),
                )
            })
        }
    }
}

/// The CloudTrail operations served.
#[derive(Debug, Clone, Copy)]
enum Op {
    LookupEvents,
    ListPublicKeys,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_with_and_without_namespace() {
        assert!(is_target(
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
        ));
        assert!(is_target("CloudTrail_20131101.ListPublicKeys"));
        assert!(!is_target("TrentService.Decrypt"));
    }
}
