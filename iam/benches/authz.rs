//! Verify + authorize for one remote-write request with warm caches: parse the SigV4 elements,
//! verify the signature (signing key cached), build the request context, evaluate identity and
//! resource policies.

// Benchmark setup may fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ampd_iam::aps::{ApsAction, REMOTE_WRITE_ACCESS};
use ampd_iam::policy::{
    AttachedPolicy, AuthzRequest, Policy, PolicyKind, PolicySet, RequestContext, evaluate,
};
use ampd_iam::sigv4::{
    PayloadHash, SigV4Auth, SignableRequest, SigningCredentials, Verifier, VerifierConfig,
    sign_request,
};
use ampd_iam::{Principal, PrincipalKind, SecretKey};
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;

const WORKSPACE_ARN: &str = "arn:aws:aps:us-east-1:123456789012:workspace/ws-1";

fn bench(c: &mut Criterion) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600);
    let body = vec![7u8; 1024];
    let (mut parts, ()) =
        Request::post("http://127.0.0.1:9096/workspaces/ws-1/api/v1/remote_write")
            .header("content-type", "application/x-protobuf")
            .header("content-encoding", "snappy")
            .header("content-length", "1024")
            .header("x-prometheus-remote-write-version", "0.1.0")
            .header("user-agent", "Prometheus/3.5.0")
            .body(())
            .unwrap()
            .into_parts();
    let credentials = SigningCredentials {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret: SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        session_token: None,
    };
    sign_request(&mut parts, &body, &credentials, "us-east-1", "aps", now).unwrap();
    let verifier = Verifier::new(VerifierConfig::default());
    let principal = Principal {
        account_id: "123456789012".into(),
        arn: "arn:aws:iam::123456789012:user/prometheus".into(),
        user_id: "AIDAPROMETHEUS".into(),
        user_name: Some("prometheus".into()),
        kind: PrincipalKind::User,
        tags: BTreeMap::from([("team".to_owned(), "obs".to_owned())]),
    };
    let identity = vec![
        AttachedPolicy::new(
            REMOTE_WRITE_ACCESS.arn,
            PolicyKind::Identity,
            Arc::new(REMOTE_WRITE_ACCESS.policy().unwrap()),
        ),
        AttachedPolicy::new(
            "guardrails",
            PolicyKind::Identity,
            Arc::new(
                Policy::parse_identity(
                    r#"{"Version":"2012-10-17","Statement":[
                    {"Effect":"Deny","Action":"aps:Delete*","Resource":"*"},
                    {"Effect":"Allow","Action":["aps:Query*","aps:Get*"],
                     "Resource":"arn:aws:aps:*:123456789012:workspace/*",
                     "Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}"#,
                )
                .unwrap(),
            ),
        ),
    ];
    let resource = AttachedPolicy::new(
        "workspace",
        PolicyKind::Resource,
        Arc::new(
            Policy::parse_resource(
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*",
                "Action":"aps:RemoteWrite","Resource":"*",
                "Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.0/8"]}}}}"#,
            )
            .unwrap(),
        ),
    );
    let policies = PolicySet {
        identity: &identity,
        resource: Some(&resource),
        ..PolicySet::default()
    };
    let secret = credentials.secret.clone();

    let verify = || {
        let req = SignableRequest::from_parts(&parts);
        let auth = SigV4Auth::from_request(&req).unwrap();
        verifier
            .verify_signable(&req, PayloadHash::Body(&body), &auth, "aps", &secret, now)
            .unwrap()
    };
    let authorize = || {
        let mut ctx = RequestContext::for_principal(&principal, now);
        ctx.set_source_ip("127.0.0.1".parse().unwrap());
        ctx.set_secure_transport(false);
        let decision = evaluate(
            &AuthzRequest {
                principal: &principal,
                action: ApsAction::RemoteWrite.iam_action(),
                resource: WORKSPACE_ARN,
                context: &ctx,
            },
            &policies,
        );
        assert!(decision.is_allowed());
        decision
    };
    verify(); // warm the signing-key cache
    c.bench_function("verify_and_authorize_remote_write_1KiB", |b| {
        b.iter(|| black_box((verify(), authorize())))
    });
    c.bench_function("verify_remote_write_1KiB", |b| {
        b.iter(|| black_box(verify()))
    });
    c.bench_function("authorize_remote_write", |b| {
        b.iter(|| black_box(authorize()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
