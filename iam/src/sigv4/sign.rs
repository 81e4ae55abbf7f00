//! Client-side signing, for tests and for calls this service makes to itself.

use std::time::SystemTime;

use http::HeaderValue;
use http::header::{AUTHORIZATION, HOST};

use super::ALGORITHM;
use super::amz_date::format_basic;
use super::canonical::{SignableRequest, UriRules, canonical_request, sha256_hex, string_to_sign};
use super::signing_key::{derive_signing_key, sign};
use crate::secret::{SecretKey, SessionToken};

/// Credentials a client signs with.
#[derive(Debug, Clone)]
pub struct SigningCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret: SecretKey,
    /// Session token of temporary credentials.
    pub session_token: Option<SessionToken>,
}

/// Header values were not valid for HTTP (a key id or token with control characters).
#[derive(Debug, thiserror::Error)]
#[error("cannot sign request: {0}")]
pub struct SignError(&'static str);

/// Signs a request the way the AWS SDKs do: sets `x-amz-date` (and `x-amz-security-token`),
/// signs `host`, `content-type`, `content-length` and every `x-amz-*` header, and sets
/// `Authorization`. The request must carry a `Host` header or an absolute URI.
pub fn sign_request(
    parts: &mut http::request::Parts,
    body: &[u8],
    credentials: &SigningCredentials,
    region: &str,
    service: &str,
    now: SystemTime,
) -> Result<(), SignError> {
    let amz_date = format_basic(now);
    let header = |v: &str| HeaderValue::from_str(v).map_err(|_| SignError("invalid header value"));
    parts.headers.insert("x-amz-date", header(&amz_date)?);
    if let Some(token) = &credentials.session_token {
        parts
            .headers
            .insert("x-amz-security-token", header(token.expose())?);
    }
    if !parts.headers.contains_key(HOST) {
        let authority = parts
            .uri
            .authority()
            .ok_or(SignError("no host"))?
            .to_string();
        parts.headers.insert(HOST, header(&authority)?);
    }
    let mut names: Vec<&str> = parts
        .headers
        .keys()
        .map(|n| n.as_str())
        .filter(|n| {
            matches!(*n, "host" | "content-type" | "content-length") || n.starts_with("x-amz-")
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    let signed_headers = names.join(";");
    let payload_hash = match parts.headers.get("x-amz-content-sha256") {
        Some(v) => v
            .to_str()
            .map_err(|_| SignError("invalid x-amz-content-sha256"))?
            .to_owned(),
        None => sha256_hex(body),
    };
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let creq = canonical_request(
        &SignableRequest::from_parts(parts),
        UriRules::for_service(service),
        &[],
        &signed_headers,
        &payload_hash,
    );
    let sts = string_to_sign(&amz_date, &scope, &creq);
    let key = derive_signing_key(&credentials.secret, date, region, service);
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={}",
        credentials.access_key_id,
        sign(&key, &sts)
    );
    parts.headers.insert(AUTHORIZATION, header(&authorization)?);
    Ok(())
}
