//! The authentication layer every AWS-style request passes.
//!
//! It is the single place where a request is tied to a caller: it reads the SigV4
//! `Authorization` header (or the presigned `X-Amz-*` query parameters), checks that the
//! credential scope names this endpoint's region and the service the operation belongs to
//! (`aps`), and hands the parsed [`Caller`] and the [`Operation`] to the handler through request
//! extensions. Because the layer is built per route from the route's [`Operation`], signature
//! verification and policy authorization (the `iam` crate) hook in here with the IAM action and
//! resource already known, and handlers never see an unauthenticated request.
//!
//! Errors follow what API-Gateway-fronted AWS services send: no credentials at all →
//! `MissingAuthenticationTokenException` (403); a malformed authorization →
//! `IncompleteSignatureException` (400); a scope for another service or region →
//! `InvalidSignatureException` (403).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AwsError;
use crate::extract::QueryParams;
use crate::operation::Operation;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Who sent a request, as far as the SigV4 credential says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Access key id from the credential scope.
    pub access_key_id: String,
    /// Scope date (`YYYYMMDD`).
    pub scope_date: String,
    /// Scope region.
    pub region: String,
    /// Scope service.
    pub service: String,
    /// Lower-case names of the signed headers.
    pub signed_headers: Vec<String>,
    /// Hex signature as sent.
    pub signature: String,
    /// Whether the request was presigned (query-string authentication).
    pub presigned: bool,
}

/// Authenticates AWS-style requests for this endpoint; one instance is shared by every route.
///
/// Today it checks the shape of the SigV4 credentials and their scope; it is the type that
/// grows a credential store (signature verification) and a policy engine (authorization).
#[derive(Debug)]
pub struct Authenticator {
    region: String,
}

impl Authenticator {
    /// Returns an authenticator for an endpoint serving `region`.
    pub fn new(region: impl Into<String>) -> Self {
        Self {
            region: region.into(),
        }
    }

    /// Parses and scope-checks the credentials of a request for `operation`.
    pub fn identify(
        &self,
        operation: Operation,
        headers: &HeaderMap,
        query: &QueryParams,
    ) -> Result<Caller, AwsError> {
        let caller = if let Some(value) = headers.get(http::header::AUTHORIZATION) {
            let value = value
                .to_str()
                .map_err(|_| incomplete("Authorization header is not ASCII"))?;
            let caller = parse_authorization(value)?;
            if !headers.contains_key("x-amz-date") && !headers.contains_key(http::header::DATE) {
                return Err(incomplete(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a \
                     'Date' header.",
                ));
            }
            let amz_date = headers.get("x-amz-date").and_then(|v| v.to_str().ok());
            if amz_date.is_some_and(|d| !d.starts_with(&caller.scope_date)) {
                return Err(AwsError::InvalidSignature {
                    message: "Date in Credential scope does not match YYYYMMDD from ISO-8601 \
                              version of date from HTTP"
                        .into(),
                });
            }
            caller
        } else if query.get("X-Amz-Algorithm").is_some() {
            parse_presigned(query)?
        } else {
            return Err(AwsError::MissingAuthenticationToken);
        };
        let service = operation.signing_service();
        if caller.service != service {
            return Err(AwsError::InvalidSignature {
                message: format!("Credential should be scoped to correct service: '{service}'."),
            });
        }
        if caller.region != self.region {
            return Err(AwsError::InvalidSignature {
                message: "Credential should be scoped to a valid region.".into(),
            });
        }
        Ok(caller)
    }
}

/// State of the layer on one route: the route's operation and the shared authenticator.
#[derive(Debug, Clone)]
pub struct AuthContext {
    /// Operation the route serves.
    pub operation: Operation,
    /// The endpoint's authenticator.
    pub authenticator: Arc<Authenticator>,
}

/// Middleware: authenticates the request for `ctx.operation` or answers with an AWS error.
pub async fn authenticate(
    State(ctx): State<AuthContext>,
    mut req: Request,
    next: Next,
) -> Response {
    let query = QueryParams::parse(req.uri().query().unwrap_or_default());
    let mut res = match ctx
        .authenticator
        .identify(ctx.operation, req.headers(), &query)
    {
        Ok(caller) => {
            req.extensions_mut().insert(ctx.operation);
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    };
    // The request log names the operation of every answered request.
    res.extensions_mut().insert(ctx.operation);
    res
}

fn incomplete(message: impl Into<String>) -> AwsError {
    AwsError::IncompleteSignature {
        message: message.into(),
    }
}

/// Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
fn parse_authorization(value: &str) -> Result<Caller, AwsError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(char::is_whitespace))
        .ok_or_else(|| incomplete(format!("Unsupported authorization type; use {ALGORITHM}")))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| incomplete(format!("Authorization component '{part}' is malformed")))?;
        match k.trim() {
            "Credential" => credential = Some(v.trim()),
            "SignedHeaders" => signed = Some(v.trim()),
            "Signature" => signature = Some(v.trim()),
            _ => {}
        }
    }
    let missing =
        |name: &str| incomplete(format!("Authorization header requires '{name}' parameter."));
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    build_caller(credential, signed, signature, false)
}

/// Parses query-string authentication (`X-Amz-Algorithm`, `X-Amz-Credential`, …).
fn parse_presigned(query: &QueryParams) -> Result<Caller, AwsError> {
    if query.get("X-Amz-Algorithm") != Some(ALGORITHM) {
        return Err(incomplete(format!("X-Amz-Algorithm must be {ALGORITHM}")));
    }
    let get = |name: &str| {
        query.get(name).ok_or_else(|| {
            incomplete(format!(
                "Query-string authentication requires the {name} parameter."
            ))
        })
    };
    get("X-Amz-Date")?;
    build_caller(
        get("X-Amz-Credential")?,
        get("X-Amz-SignedHeaders")?,
        get("X-Amz-Signature")?,
        true,
    )
}

fn build_caller(
    credential: &str,
    signed_headers: &str,
    signature: &str,
    presigned: bool,
) -> Result<Caller, AwsError> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, terminator] = parts.as_slice() else {
        return Err(incomplete(format!(
            "Credential must have the form <key>/<date>/<region>/<service>/aws4_request, got \
             {} parts",
            parts.len()
        )));
    };
    if key.is_empty() || region.is_empty() || service.is_empty() {
        return Err(incomplete("Credential has an empty component"));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete(format!(
            "Credential date '{date}' is not YYYYMMDD"
        )));
    }
    if *terminator != "aws4_request" {
        return Err(AwsError::InvalidSignature {
            message: "Credential should be scoped with a valid terminator: 'aws4_request'".into(),
        });
    }
    let signed: Vec<String> = signed_headers
        .split(';')
        .map(str::to_ascii_lowercase)
        .collect();
    if signed.iter().any(String::is_empty) {
        return Err(incomplete("SignedHeaders is malformed"));
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(incomplete("Signature must be 64 hexadecimal characters"));
    }
    Ok(Caller {
        access_key_id: (*key).to_owned(),
        scope_date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        signed_headers: signed,
        signature: signature.to_ascii_lowercase(),
        presigned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

    fn identify(h: &HeaderMap, q: &QueryParams, a: &Authenticator) -> Result<Caller, AwsError> {
        a.identify(Operation::ListWorkspaces, h, q)
    }

    fn ctx() -> Authenticator {
        Authenticator::new("us-east-1")
    }

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", auth.parse().unwrap());
        h.insert("x-amz-date", "20250102T030405Z".parse().unwrap());
        h
    }

    fn header_for(scope: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{scope}, \
             SignedHeaders=content-type;host;x-amz-date, Signature={SIG}"
        )
    }

    #[test]
    fn accepts_a_botocore_style_header() {
        let h = headers(&header_for("20250102/us-east-1/aps/aws4_request"));
        let caller = identify(&h, &QueryParams::default(), &ctx()).unwrap();
        assert_eq!(caller.access_key_id, "AKIDEXAMPLE");
        assert_eq!(
            caller.signed_headers,
            ["content-type", "host", "x-amz-date"]
        );
        assert!(!caller.presigned);
    }

    #[test]
    fn tolerates_no_space_after_commas() {
        let v = format!(
            "AWS4-HMAC-SHA256 Credential=AK/20250102/us-east-1/aps/aws4_request,SignedHeaders=host,Signature={SIG}"
        );
        assert!(identify(&headers(&v), &QueryParams::default(), &ctx()).is_ok());
    }

    #[test]
    fn missing_credentials_is_missing_token() {
        let e = identify(&HeaderMap::new(), &QueryParams::default(), &ctx()).unwrap_err();
        assert_eq!(e.code().1, "MissingAuthenticationTokenException");
    }

    #[test]
    fn malformed_headers_are_incomplete() {
        for bad in [
            "Bearer abc".to_owned(),
            format!("AWS4-HMAC-SHA256 SignedHeaders=host, Signature={SIG}"),
            "AWS4-HMAC-SHA256 Credential=AK/20250102/us-east-1/aps/aws4_request, SignedHeaders=host, Signature=xyz".to_owned(),
            header_for("2025-01-02/us-east-1/aps/aws4_request"),
            header_for("us-east-1/aps/aws4_request"),
        ] {
            let e = identify(&headers(&bad), &QueryParams::default(), &ctx()).unwrap_err();
            assert_eq!(e.code().1, "IncompleteSignatureException", "{bad}");
        }
        let mut h = headers(&header_for("20250102/us-east-1/aps/aws4_request"));
        h.remove("x-amz-date");
        let e = identify(&h, &QueryParams::default(), &ctx()).unwrap_err();
        assert_eq!(e.code().1, "IncompleteSignatureException");
    }

    #[test]
    fn wrong_scope_is_invalid_signature() {
        for scope in [
            "20250102/us-east-1/iam/aws4_request",
            "20250102/eu-west-1/aps/aws4_request",
            "20250102/us-east-1/aps/aws5_request",
        ] {
            let e = identify(
                &headers(&header_for(scope)),
                &QueryParams::default(),
                &ctx(),
            )
            .unwrap_err();
            assert_eq!(e.code().1, "InvalidSignatureException", "{scope}");
        }
        let other_day = headers(&header_for("20250103/us-east-1/aps/aws4_request"));
        let e = identify(&other_day, &QueryParams::default(), &ctx()).unwrap_err();
        assert_eq!(e.code().1, "InvalidSignatureException");
    }

    #[test]
    fn presigned_query_is_accepted() {
        let q = QueryParams::parse(&format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20250102%2Fus-east-1%2Faps%2Faws4_request\
             &X-Amz-Date=20250102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature={SIG}"
        ));
        let caller = identify(&HeaderMap::new(), &q, &ctx()).unwrap();
        assert!(caller.presigned);
        let q = QueryParams::parse("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=x");
        let e = identify(&HeaderMap::new(), &q, &ctx()).unwrap_err();
        assert_eq!(e.code().1, "IncompleteSignatureException");
    }
}
