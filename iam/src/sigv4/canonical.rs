//! The canonical request and the string to sign (SigV4 steps 1 and 2).

use std::borrow::Cow;
use std::fmt::Write as _;

use http::HeaderMap;
use percent_encoding::percent_decode;
use ring::digest;

use super::ALGORITHM;

/// The hex SHA-256 of an empty payload.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The parts of an HTTP request that SigV4 covers, borrowed from wherever the request lives.
///
/// `path` and `query` are taken **as received** (still percent-encoded), never decoded: the
/// canonical URI is built from the raw bytes.
#[derive(Debug, Clone, Copy)]
pub struct SignableRequest<'a> {
    /// HTTP method, as sent (`GET`, `POST`).
    pub method: &'a str,
    /// Raw request path (`/workspaces/ws-1/api/v1/query`).
    pub path: &'a str,
    /// Raw query string without the `?`, if any.
    pub query: Option<&'a str>,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// The URI authority, used for `host` when no `Host` header exists (HTTP/2 `:authority`).
    pub authority: Option<&'a str>,
}

impl<'a> SignableRequest<'a> {
    /// Borrows the signable parts of an [`http::request::Parts`].
    pub fn from_parts(parts: &'a http::request::Parts) -> Self {
        Self {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            authority: parts.uri.authority().map(|a| a.as_str()),
        }
    }
}

/// How the canonical URI is derived: AWS services differ here (S3 versus everything else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UriRules {
    /// Remove `.`/`..` segments and collapse repeated `/` before encoding.
    pub normalize: bool,
    /// Percent-encode the already-encoded path a second time (all services except S3).
    pub double_encode: bool,
}

impl UriRules {
    /// Rules for every service except S3: normalized, double-encoded paths.
    pub const STANDARD: Self = Self {
        normalize: true,
        double_encode: true,
    };
    /// S3's rules: the path is signed as sent, encoded once, not normalized.
    pub const S3: Self = Self {
        normalize: false,
        double_encode: false,
    };

    /// Returns the rules AWS applies for a signing service name.
    pub fn for_service(service: &str) -> Self {
        if service == "s3" {
            Self::S3
        } else {
            Self::STANDARD
        }
    }
}

/// Returns whether a byte is in RFC 3986's unreserved set.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes every byte outside the unreserved set (and `/` when `keep_slash`), with
/// upper-case hex. Written by hand because SigV4 needs this exact set, which is not one of
/// `percent-encoding`'s predefined ones, and the loop is shorter than building an `AsciiSet`.
fn uri_encode(out: &mut String, input: &[u8], keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in input {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// Removes dot segments and empty segments from a path, keeping a trailing slash.
fn normalize_path(path: &str) -> Cow<'_, str> {
    let needs_work = path.contains("//")
        || path.split('/').any(|s| s == "." || s == "..")
        || !path.starts_with('/');
    if !needs_work {
        return Cow::Borrowed(path);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let last = path.rsplit('/').next().unwrap_or("");
    let trailing = path.ends_with('/') || last == "." || last == "..";
    let mut out = String::with_capacity(path.len());
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() || trailing {
        out.push('/');
    }
    Cow::Owned(out)
}

/// Returns the canonical URI for a raw (still percent-encoded) request path.
pub fn canonical_uri(raw_path: &str, rules: UriRules) -> String {
    if raw_path.is_empty() {
        return "/".to_owned();
    }
    let path = if rules.normalize {
        normalize_path(raw_path)
    } else {
        Cow::Borrowed(raw_path)
    };
    let mut out = String::with_capacity(path.len() + 8);
    if rules.double_encode {
        uri_encode(&mut out, path.as_bytes(), true);
    } else {
        // Single encoding: decode what the client encoded, then encode it canonically once.
        let decoded: Vec<u8> = percent_decode(path.as_bytes()).collect();
        uri_encode(&mut out, &decoded, true);
    }
    out
}

/// Decodes one query component: `%XX` escapes, and `+` as a space (Go clients send that).
fn decode_query_component(raw: &str) -> Cow<'_, [u8]> {
    if !raw.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(raw.as_bytes());
    }
    let plus_decoded: Vec<u8> = raw
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    Cow::Owned(percent_decode(&plus_decoded).collect())
}

/// Returns the canonical query string: every parameter decoded, re-encoded with RFC 3986,
/// sorted by name then value. Parameters named in `exclude` (case-sensitive) are left out —
/// presigned requests exclude `X-Amz-Signature`.
pub fn canonical_query(raw_query: Option<&str>, exclude: &[&str]) -> String {
    let Some(raw) = raw_query.filter(|q| !q.is_empty()) else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for item in raw.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        let key = decode_query_component(k);
        if exclude.iter().any(|e| e.as_bytes() == key.as_ref()) {
            continue;
        }
        let mut ek = String::with_capacity(k.len());
        uri_encode(&mut ek, &key, false);
        let mut ev = String::with_capacity(v.len());
        uri_encode(&mut ev, &decode_query_component(v), false);
        pairs.push((ek, ev));
    }
    pairs.sort_unstable();
    let mut out = String::with_capacity(raw.len() + 16);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Which characters header canonicalization trims and collapses. Clients disagree: botocore
/// folds every kind of whitespace, the Rust and Go SDKs only spaces (tabs stay), so a verifier
/// may have to try both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderWhitespace {
    /// Spaces, tabs and line breaks (botocore; the AWS test suite).
    All,
    /// Spaces only (aws-sigv4, aws-sdk-go-v2).
    SpacesOnly,
}

impl HeaderWhitespace {
    fn is_whitespace(self, c: char) -> bool {
        match self {
            Self::All => matches!(c, ' ' | '\t' | '\r' | '\n'),
            Self::SpacesOnly => c == ' ',
        }
    }
}

/// Appends a header value trimmed, with runs of whitespace collapsed to one space.
fn push_trimmed_value(out: &mut String, value: &str, whitespace: HeaderWhitespace) {
    let mut pending_space = false;
    let mut started = false;
    for c in value.chars() {
        if whitespace.is_whitespace(c) {
            pending_space = started;
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
            started = true;
        }
    }
}

/// Builds the canonical request (SigV4 step 1).
///
/// `signed_headers` is the `SignedHeaders` list exactly as the client sent it (lower-case names
/// joined by `;`); only those headers are canonicalized, in that order.
pub fn canonical_request(
    req: &SignableRequest<'_>,
    rules: UriRules,
    exclude_query: &[&str],
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    canonical_request_with(
        req,
        rules,
        exclude_query,
        signed_headers,
        payload_hash,
        HeaderWhitespace::All,
    )
}

/// Like [`canonical_request`], with a choice of header whitespace handling.
pub fn canonical_request_with(
    req: &SignableRequest<'_>,
    rules: UriRules,
    exclude_query: &[&str],
    signed_headers: &str,
    payload_hash: &str,
    whitespace: HeaderWhitespace,
) -> String {
    let mut out = String::with_capacity(256 + req.path.len() + payload_hash.len());
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&canonical_uri(req.path, rules));
    out.push('\n');
    out.push_str(&canonical_query(req.query, exclude_query));
    out.push('\n');
    for name in signed_headers.split(';') {
        out.push_str(name);
        out.push(':');
        let mut first = true;
        for value in req.headers.get_all(name) {
            if !first {
                out.push(',');
            }
            first = false;
            push_trimmed_value(
                &mut out,
                &String::from_utf8_lossy(value.as_bytes()),
                whitespace,
            );
        }
        if first
            && name == "host"
            && let Some(authority) = req.authority
        {
            out.push_str(authority);
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(signed_headers);
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// Returns whether a signed header holds whitespace other than spaces, where clients'
/// canonical forms differ.
pub(crate) fn has_non_space_whitespace(req: &SignableRequest<'_>, signed_headers: &str) -> bool {
    signed_headers.split(';').any(|name| {
        req.headers.get_all(name).iter().any(|v| {
            v.as_bytes()
                .iter()
                .any(|b| matches!(b, b'\t' | b'\r' | b'\n'))
        })
    })
}

/// Returns the lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

/// Builds the string to sign (SigV4 step 2) from the `X-Amz-Date` timestamp, the credential
/// scope (`yyyymmdd/region/service/aws4_request`) and the canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    let mut out = String::with_capacity(ALGORITHM.len() + amz_date.len() + scope.len() + 67);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalizes_dot_segments_and_slashes() {
        let cases = [
            ("/", "/"),
            ("//", "/"),
            ("//example//", "/example/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./", "/"),
            ("/./example", "/example"),
            ("/a/./b/../c/", "/a/c/"),
            ("/a/b/.", "/a/b/"),
            ("/../a", "/a"),
        ];
        for (input, want) in cases {
            assert_eq!(canonical_uri(input, UriRules::STANDARD), want, "{input}");
        }
    }

    #[test]
    fn encodes_paths_twice_except_for_s3() {
        assert_eq!(
            canonical_uri("/arn%3Aaws%3Alambda/x", UriRules::STANDARD),
            "/arn%253Aaws%253Alambda/x"
        );
        assert_eq!(
            canonical_uri("/arn%3Aaws%3Alambda/x", UriRules::S3),
            "/arn%3Aaws%3Alambda/x"
        );
        assert_eq!(canonical_uri("/a b", UriRules::S3), "/a%20b");
        assert_eq!(canonical_uri("//a//", UriRules::S3), "//a//");
        assert_eq!(canonical_uri("", UriRules::STANDARD), "/");
    }

    #[test]
    fn canonical_query_sorts_and_reencodes() {
        assert_eq!(canonical_query(None, &[]), "");
        assert_eq!(canonical_query(Some("b=2&a=1&a=0"), &[]), "a=0&a=1&b=2");
        assert_eq!(canonical_query(Some("k"), &[]), "k=");
        assert_eq!(canonical_query(Some("a=b+c&d=%7e"), &[]), "a=b%20c&d=~");
        assert_eq!(canonical_query(Some("a=%2B"), &[]), "a=%2B");
        assert_eq!(
            canonical_query(Some("X-Amz-Signature=ff&x=1"), &["X-Amz-Signature"]),
            "x=1"
        );
        // Sorting is by encoded key: upper-case letters sort before lower-case ones.
        assert_eq!(canonical_query(Some("a=1&B=2"), &[]), "B=2&a=1");
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        let mut out = String::new();
        push_trimmed_value(&mut out, "  a   b \t c  ", HeaderWhitespace::All);
        assert_eq!(out, "a b c");
        out.clear();
        push_trimmed_value(&mut out, "\"a   b\"", HeaderWhitespace::All);
        assert_eq!(out, "\"a b\"");
        out.clear();
        push_trimmed_value(&mut out, "  a   b\tc ", HeaderWhitespace::SpacesOnly);
        assert_eq!(out, "a b\tc");
    }

    /// Decodes a canonical URI produced with double encoding back to the normalized input.
    fn decode(s: &str) -> String {
        String::from_utf8(percent_decode(s.as_bytes()).collect()).unwrap()
    }

    proptest! {
        #[test]
        fn canonical_uri_is_encoded_and_round_trips(path in "(/[a-zA-Z0-9 %:@._~+-]{0,8}){1,6}/?") {
            let canon = canonical_uri(&path, UriRules::STANDARD);
            prop_assert!(canon.starts_with('/'));
            prop_assert!(canon.bytes().all(|b| is_unreserved(b) || b == b'/' || b == b'%'));
            prop_assert!(!canon.contains("//"));
            prop_assert_eq!(decode(&canon), normalize_path(&path).into_owned());
        }

        #[test]
        fn normalization_is_idempotent(path in "(/(\\.|\\.\\.|[a-z]{1,3}|)){0,8}/?") {
            let once = normalize_path(&path).into_owned();
            prop_assert_eq!(normalize_path(&once).into_owned(), once.clone());
            prop_assert!(!once.split('/').any(|s| s == "." || s == ".."));
        }

        #[test]
        fn canonical_query_is_order_independent(
            pairs in proptest::collection::vec(("[a-zA-Z0-9 ._~%+-]{0,6}", "[a-zA-Z0-9 =._~+-]{0,6}"), 0..6)
        ) {
            let forward: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let mut backward = forward.clone();
            backward.reverse();
            prop_assert_eq!(
                canonical_query(Some(&forward.join("&")), &[]),
                canonical_query(Some(&backward.join("&")), &[])
            );
        }
    }
}
