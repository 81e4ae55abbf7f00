//! Requests signed for `aps` by an independent signer (the AWS Rust SDK's `aws-sigv4`) must
//! authenticate: random paths (encoded characters, dot segments, repeated slashes), queries
//! (spaces, `+`, brackets, UTF-8), headers with runs of spaces, bodies, session tokens, and
//! both header and presigned signatures.

// Test-harness helpers outside `#[test]` functions may fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use ampd_iam::sigv4::{PayloadHash, Verifier, VerifierConfig};
use ampd_iam::{
    CredentialStore, CredentialStoreError, KeyStatus, Principal, PrincipalKind, SecretKey,
    SessionBinding, SessionToken, StoredCredential,
};
use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use proptest::prelude::*;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE+/token==";

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600)
}

struct Store;

#[async_trait]
impl CredentialStore for Store {
    async fn lookup(
        &self,
        access_key_id: &str,
        _session_token: Option<&str>,
    ) -> Result<Option<StoredCredential>, CredentialStoreError> {
        let principal = Principal {
            account_id: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/prometheus".into(),
            user_id: "AIDAPROMETHEUS".into(),
            user_name: Some("prometheus".into()),
            kind: PrincipalKind::User,
            tags: BTreeMap::new(),
        };
        let session = (access_key_id == "ASIATEMPORARY").then(|| SessionBinding {
            token: SessionToken::new(TOKEN),
            expires_at: t0() + Duration::from_secs(3600),
            policies: None,
        });
        Ok(Some(StoredCredential {
            secret: SecretKey::new(SECRET),
            principal,
            status: KeyStatus::Active,
            session,
        }))
    }
}

/// Signs `request` with aws-sigv4 for `aps` in us-east-1 at `t0`.
fn reference_sign(request: &mut http::Request<Vec<u8>>, temporary: bool, presigned: bool) {
    let credentials = if temporary {
        Credentials::new(
            "ASIATEMPORARY",
            SECRET,
            Some(TOKEN.to_owned()),
            None,
            "test",
        )
    } else {
        Credentials::new("AKIALONGTERM", SECRET, None, None, "test")
    };
    let identity = credentials.into();
    let mut settings = SigningSettings::default();
    if presigned {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("aps")
        .time(t0())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let uri = request.uri().to_string();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(request.body()),
    )
    .unwrap();
    let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(request);
}

/// Path segments, already percent-encoded as a client would send them.
fn segment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "workspaces",
        "ws-1a2b3c4d",
        "api",
        "v1",
        "query_range",
        "label",
        "__name__",
        "values",
        "alertmanager",
        "silence",
        "%3A",
        "arn%3Aaws%3Aaps",
        "a%20b",
        "a+b",
        "%E1%88%B4",
        "%2F",
        "~tilde",
        "x.y",
        ".",
        "..",
        "",
        "%25",
    ])
}

/// Query keys and values, already encoded.
fn query_part() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "query",
        "up",
        "match%5B%5D",
        "up%7Bjob%3D%22node%22%7D",
        "a%20b",
        "a+b",
        "%2B",
        "",
        "start",
        "1735689600.5",
        "step",
        "15s",
        "%E1%88%B4",
        "x-y_z.~",
        "%3D",
    ])
}

fn build_request(
    method: &str,
    segments: &[&str],
    query: &[(&str, &str)],
    body: &[u8],
    spaced_header: bool,
) -> http::Request<Vec<u8>> {
    let mut uri = format!("http://127.0.0.1:9096/{}", segments.join("/"));
    if !query.is_empty() {
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        uri.push('?');
        uri.push_str(&q.join("&"));
    }
    let mut builder = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1:9096")
        .header("content-type", "application/x-protobuf")
        .header("x-prometheus-remote-write-version", "0.1.0");
    if !body.is_empty() {
        builder = builder.header("content-length", body.len().to_string());
    }
    if spaced_header {
        builder = builder.header("x-custom", "  a   b\tc ");
    }
    builder.body(body.to_vec()).unwrap()
}

fn authenticate(request: http::Request<Vec<u8>>) -> Result<(), String> {
    let (parts, body) = request.into_parts();
    let verifier = Verifier::new(VerifierConfig::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime
        .block_on(verifier.authenticate(&parts, PayloadHash::Body(&body), &Store, "aps", t0()))
        .map(|_| ())
        .map_err(|e| format!("{e:?} for {} {}", parts.method, parts.uri))
}

#[test]
fn remote_write_signed_by_the_sdk_authenticates() {
    for (temporary, presigned) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut request = build_request(
            "POST",
            &["workspaces", "ws-1", "api", "v1", "remote_write"],
            &[],
            b"\x00snappy-framed-protobuf",
            false,
        );
        reference_sign(&mut request, temporary, presigned);
        authenticate(request).unwrap();
    }
}

#[test]
fn a_tampered_sdk_request_is_rejected() {
    let mut request = build_request(
        "POST",
        &["workspaces", "ws-1", "api", "v1", "remote_write"],
        &[],
        b"body",
        false,
    );
    reference_sign(&mut request, false, false);
    *request.body_mut() = b"BODY".to_vec();
    assert!(
        authenticate(request)
            .unwrap_err()
            .contains("SignatureDoesNotMatch")
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_requests_signed_by_the_sdk_authenticate(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE"]),
        segments in prop::collection::vec(segment(), 1..6),
        query in prop::collection::vec((query_part(), query_part()), 0..4),
        body in prop::collection::vec(any::<u8>(), 0..48),
        spaced_header in any::<bool>(),
        temporary in any::<bool>(),
        presigned in any::<bool>(),
    ) {
        let mut request = build_request(method, &segments, &query, &body, spaced_header);
        reference_sign(&mut request, temporary, presigned);
        prop_assert_eq!(authenticate(request), Ok(()));
    }
}
