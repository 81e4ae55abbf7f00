//! Parsing of the SigV4 elements: the `Authorization` header or presigned query parameters.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use super::ALGORITHM;
use super::canonical::SignableRequest;
use super::error::{ParseAuthorizationError, SigV4Error};

/// Longest validity AWS accepts for a presigned URL (7 days).
pub const MAX_PRESIGNED_EXPIRES_SECS: u64 = 604_800;

/// Where the signature travelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureLocation {
    /// The `Authorization` header.
    Header,
    /// Presigned URL query parameters.
    Query {
        /// `X-Amz-Date`.
        amz_date: String,
        /// `X-Amz-Expires`, in seconds.
        expires_secs: u64,
        /// `X-Amz-Security-Token`, when present.
        security_token: Option<String>,
    },
}

/// The credential scope: `<yyyymmdd>/<region>/<service>/aws4_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialScope<'a> {
    /// `yyyymmdd`.
    pub date: &'a str,
    /// Region the client signed for.
    pub region: &'a str,
    /// Signing name of the service (`aps`, `iam`, `sts`, `kms`).
    pub service: &'a str,
    /// The terminator, which must be `aws4_request`.
    pub terminator: &'a str,
}

/// The SigV4 elements of a request, borrowed from it where no decoding was needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4Auth<'a> {
    credential: Cow<'a, str>,
    signed_headers: Cow<'a, str>,
    signature: Cow<'a, str>,
    location: SignatureLocation,
}

impl<'a> SigV4Auth<'a> {
    /// Extracts the elements from a request: `Authorization` header first, then the query.
    pub fn from_request(req: &SignableRequest<'a>) -> Result<Self, SigV4Error> {
        if let Some(value) = req.headers.get(http::header::AUTHORIZATION) {
            let value = value.to_str().map_err(|_| {
                ParseAuthorizationError::new("Authorization header contains invalid characters.")
            })?;
            return Ok(parse_authorization(value)?);
        }
        match req.query {
            Some(query) => parse_presigned(query)?.ok_or(SigV4Error::MissingAuthentication),
            None => Err(SigV4Error::MissingAuthentication),
        }
    }

    /// Returns the access key id.
    pub fn access_key_id(&self) -> &str {
        self.credential
            .split_once('/')
            .map_or(&*self.credential, |(id, _)| id)
    }

    /// Returns the scope string after the access key id (what the string to sign repeats).
    pub fn scope_str(&self) -> &str {
        self.credential
            .split_once('/')
            .map_or("", |(_, scope)| scope)
    }

    /// Returns the full `Credential` value (`<key id>/<scope>`).
    pub fn credential(&self) -> &str {
        &self.credential
    }

    /// Returns the parsed credential scope.
    pub fn scope(&self) -> CredentialScope<'_> {
        let mut parts = self.scope_str().splitn(4, '/');
        CredentialScope {
            date: parts.next().unwrap_or(""),
            region: parts.next().unwrap_or(""),
            service: parts.next().unwrap_or(""),
            terminator: parts.next().unwrap_or(""),
        }
    }

    /// Returns `SignedHeaders` as sent (`host;x-amz-date`).
    pub fn signed_headers(&self) -> &str {
        &self.signed_headers
    }

    /// Returns whether `name` (lower-case) is among the signed headers.
    pub fn is_signed(&self, name: &str) -> bool {
        self.signed_headers.split(';').any(|h| h == name)
    }

    /// Returns the hex signature.
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// Returns where the signature travelled, with the presigned parameters.
    pub fn location(&self) -> &SignatureLocation {
        &self.location
    }

    /// Returns whether this is a presigned URL.
    pub fn is_presigned(&self) -> bool {
        matches!(self.location, SignatureLocation::Query { .. })
    }
}

/// Checks the shape `<key>/<date>/<region>/<service>/<terminator>`.
fn check_credential(credential: &str) -> Result<(), ParseAuthorizationError> {
    let parts = credential.split('/').count();
    if parts != 5 || credential.split('/').any(str::is_empty) {
        return Err(ParseAuthorizationError::new(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got '{credential}'"
        )));
    }
    Ok(())
}

/// Parses an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`
/// header value. Components may come in any order, separated by `,` with optional spaces.
pub fn parse_authorization(value: &str) -> Result<SigV4Auth<'_>, ParseAuthorizationError> {
    let value = value.trim();
    let (algorithm, rest) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(ParseAuthorizationError::new(format!(
            "Unsupported algorithm '{algorithm}' in Authorization header; expected {ALGORITHM}."
        )));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for component in rest.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let Some((key, val)) = component.split_once('=') else {
            return Err(ParseAuthorizationError::new(format!(
                "Invalid key=value pair (missing equal-sign) in Authorization header \
                 (hashed with SHA-256 and encoded with Base64): '{component}'."
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(val.trim()).is_some() {
            return Err(ParseAuthorizationError::new(format!(
                "Authorization header has a duplicate '{}' parameter.",
                key.trim()
            )));
        }
    }
    let mut missing = String::new();
    for (name, present) in [
        ("Credential", credential.is_some()),
        ("Signature", signature.is_some()),
        ("SignedHeaders", signed_headers.is_some()),
    ] {
        if !present {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(ParseAuthorizationError::new(format!(
            "{missing}Authorization={value}"
        )));
    };
    check_credential(credential)?;
    check_signed_headers(signed_headers)?;
    Ok(SigV4Auth {
        credential: Cow::Borrowed(credential),
        signed_headers: Cow::Borrowed(signed_headers),
        signature: Cow::Borrowed(signature),
        location: SignatureLocation::Header,
    })
}

/// Checks that `SignedHeaders` is a non-empty list of lower-case names.
fn check_signed_headers(list: &str) -> Result<(), ParseAuthorizationError> {
    let valid = !list.is_empty()
        && list.split(';').all(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase())
        });
    if valid {
        Ok(())
    } else {
        Err(ParseAuthorizationError::new(format!(
            "SignedHeaders must be a ';'-separated list of lower-case header names, got '{list}'."
        )))
    }
}

/// Parses presigned-URL parameters from a raw query string. Returns `None` when the query has
/// no `X-Amz-Algorithm` (the request is not presigned).
pub fn parse_presigned(query: &str) -> Result<Option<SigV4Auth<'_>>, ParseAuthorizationError> {
    let mut algorithm = None;
    let (mut credential, mut date, mut expires, mut signed_headers, mut signature, mut token) =
        (None, None, None, None, None, None);
    for item in query.split('&') {
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        let slot = match k {
            "X-Amz-Algorithm" => &mut algorithm,
            "X-Amz-Credential" => &mut credential,
            "X-Amz-Date" => &mut date,
            "X-Amz-Expires" => &mut expires,
            "X-Amz-SignedHeaders" => &mut signed_headers,
            "X-Amz-Signature" => &mut signature,
            "X-Amz-Security-Token" => &mut token,
            _ => continue,
        };
        *slot = Some(percent_decode_str(v).decode_utf8().map_err(|_| {
            ParseAuthorizationError::new(format!("Query parameter {k} is not valid UTF-8."))
        })?);
    }
    let Some(algorithm) = algorithm else {
        return Ok(None);
    };
    if algorithm != ALGORITHM {
        return Err(ParseAuthorizationError::new(format!(
            "X-Amz-Algorithm only supports \"{ALGORITHM}\""
        )));
    }
    let (Some(credential), Some(date), Some(expires), Some(signed_headers), Some(signature)) =
        (credential, date, expires, signed_headers, signature)
    else {
        return Err(ParseAuthorizationError::new(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', \
             'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. \
             Re-examine the query-string parameters.",
        ));
    };
    let expires_secs: u64 = expires
        .parse()
        .ok()
        .filter(|s| (1..=MAX_PRESIGNED_EXPIRES_SECS).contains(s))
        .ok_or_else(|| {
            ParseAuthorizationError::new(format!(
                "X-Amz-Expires must be a number of seconds between 1 and \
                 {MAX_PRESIGNED_EXPIRES_SECS}, got '{expires}'"
            ))
        })?;
    check_credential(&credential)?;
    check_signed_headers(&signed_headers)?;
    Ok(Some(SigV4Auth {
        credential,
        signed_headers,
        signature,
        location: SignatureLocation::Query {
            amz_date: date.into_owned(),
            expires_secs,
            security_token: token.map(Cow::into_owned),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    #[test]
    fn parses_a_header() {
        let auth = parse_authorization(HEADER).unwrap();
        assert_eq!(auth.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(auth.scope_str(), "20150830/us-east-1/service/aws4_request");
        let scope = auth.scope();
        assert_eq!(
            (scope.date, scope.region, scope.service, scope.terminator),
            ("20150830", "us-east-1", "service", "aws4_request")
        );
        assert_eq!(auth.signed_headers(), "host;x-amz-date");
        assert!(auth.is_signed("host") && !auth.is_signed("content-type"));
        assert!(auth.signature().starts_with("5fa00f"));
        assert!(!auth.is_presigned());
    }

    #[test]
    fn tolerates_order_and_spacing() {
        let auth = parse_authorization(
            "AWS4-HMAC-SHA256   Signature=ab,SignedHeaders=host ,  Credential=AK/d/r/s/aws4_request",
        )
        .unwrap();
        assert_eq!(auth.signature(), "ab");
        assert_eq!(auth.access_key_id(), "AK");
    }

    #[test]
    fn rejects_malformed_headers() {
        let cases = [
            ("", "Unsupported algorithm"),
            ("Bearer abc", "Unsupported algorithm"),
            (
                "AWS4-HMAC-SHA256 Credential=AK/d/r/s/aws4_request, SignedHeaders=host",
                "requires 'Signature'",
            ),
            (
                "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab",
                "requires 'Credential'",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=AK/d/r/s/aws4_request, Signature=ab",
                "requires 'SignedHeaders'",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=AK/d/r/aws4_request, SignedHeaders=host, Signature=ab",
                "5 slash-delimited",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=AK/d/r/s/aws4_request, SignedHeaders=Host, Signature=ab",
                "lower-case",
            ),
            (
                "AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=ab",
                "missing equal-sign",
            ),
            (
                "AWS4-HMAC-SHA256 Signature=a, Signature=b, Credential=AK/d/r/s/t, SignedHeaders=host",
                "duplicate",
            ),
        ];
        for (value, needle) in cases {
            let err = parse_authorization(value).unwrap_err();
            assert!(err.to_string().contains(needle), "{value}: {err}");
            assert_eq!(
                SigV4Error::from(err).aws_code(),
                "IncompleteSignatureException"
            );
        }
    }

    #[test]
    fn parses_presigned_parameters() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Faps%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Security-Token=a%2Bb&X-Amz-Signature=ff";
        let auth = parse_presigned(q).unwrap().unwrap();
        assert_eq!(auth.access_key_id(), "AKID");
        assert_eq!(auth.scope().service, "aps");
        assert_eq!(
            auth.location(),
            &SignatureLocation::Query {
                amz_date: "20150830T123600Z".into(),
                expires_secs: 60,
                security_token: Some("a+b".into()),
            }
        );
        assert!(parse_presigned("a=1&b=2").unwrap().is_none());
        let missing = parse_presigned("X-Amz-Algorithm=AWS4-HMAC-SHA256").unwrap_err();
        assert!(missing.to_string().contains("must include"));
        let long = q.replace("X-Amz-Expires=60", "X-Amz-Expires=604801");
        assert!(parse_presigned(&long).is_err());
    }
}
