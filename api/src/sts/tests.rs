//! Router-level tests of STS: the whole app, signed requests, a controllable clock for expiry.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ampd_backends::{MetadataStore, MetricsBackend, SqliteStore};
use ampd_iam::sigv4::{
    PayloadHash, SigV4Error, SigningCredentials, Verifier, VerifierConfig, sign_request,
};
use ampd_iam::sts::{SessionClaims, SessionIdentity};
use ampd_iam::{SecretKey, SessionToken};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use http_body_util::BodyExt;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::json;
use tower::ServiceExt;

use super::Sts;
use crate::{
    Authenticator, ControlSettings, ControlState, DataState, Identities, PageTokens, RootAccessKey,
    SecretSealer, app, open_metrics,
};

const ACCOUNT: &str = "123456789012";
const ROOT_ID: &str = "AKIASTSTESTROOT00001";
const ROOT_SECRET: &str = "sts-router-test-root-secret";
const ISSUER: &str = "https://oidc.sts.test/id/C1";
const PROVIDER: &str = "arn:aws:iam::123456789012:oidc-provider/oidc.sts.test/id/C1";
const SUBJECT: &str = "system:serviceaccount:monitoring:prometheus";

/// Credentials to sign with: key id, secret, optional session token.
#[derive(Clone)]
struct Creds(String, String, Option<String>);

impl Creds {
    fn root() -> Self {
        Self(ROOT_ID.into(), ROOT_SECRET.into(), None)
    }

    /// Takes the `Credentials` of an STS response.
    fn from_xml(xml: &str) -> Self {
        Self(
            text(xml, "AccessKeyId").into(),
            text(xml, "SecretAccessKey").into(),
            Some(text(xml, "SessionToken").into()),
        )
    }
}

fn text<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let Some(at) = xml.find(&open) else {
        return "";
    };
    let start = at + open.len();
    let end = start + xml[start..].find('<').unwrap_or(0);
    &xml[start..end]
}

struct Env {
    app: Router,
    identities: Arc<Identities>,
    key: EncodingKey,
    _dir: tempfile::TempDir,
}

/// A fresh P-256 signing key and its JWK (`kid` k1).
fn issuer_key() -> (EncodingKey, Jwk) {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    let key = EncodingKey::from_ec_der(pkcs8.as_ref());
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
    jwk.common.key_id = Some("k1".into());
    (key, jwk)
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("metadata.db"))
        .await
        .unwrap();
    let store: Arc<dyn MetadataStore> = Arc::new(sqlite.clone());
    let (key, jwk) = issuer_key();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(
        &jwks,
        serde_json::to_vec(&JwkSet { keys: vec![jwk] }).unwrap(),
    )
    .unwrap();
    let root_key = ampd_kms::RootKey::generate().unwrap();
    let sts = Sts::new(
        &root_key,
        Arc::new(sqlite.clone()),
        &BTreeMap::from([(ISSUER.to_owned(), jwks.display().to_string())]),
    )
    .unwrap();
    let identities = Arc::new(
        Identities::new(
            Arc::new(sqlite),
            SecretSealer::from_root(&root_key).unwrap(),
            RootAccessKey {
                access_key_id: ROOT_ID.into(),
                secret: SecretKey::new(ROOT_SECRET),
            },
            ACCOUNT,
        )
        .with_sts(Arc::new(sts)),
    );
    let authenticator = Arc::new(Authenticator::new(
        "us-east-1",
        identities.clone(),
        store.clone(),
    ));
    let metrics: Arc<dyn MetricsBackend> = Arc::new(open_metrics(dir.path()).unwrap());
    let data = DataState::new(
        authenticator.clone(),
        store.clone(),
        metrics,
        "us-east-1",
        ACCOUNT,
    );
    let settings = ControlSettings {
        region: "us-east-1".into(),
        account_id: ACCOUNT.into(),
        external_url: "http://ampd.test/".into(),
        max_workspaces: 3,
    };
    let control = ControlState::new(
        settings,
        authenticator,
        store.clone(),
        PageTokens::from_key([2; 32]),
    );
    let trail = ampd_audit::Trail::open(ampd_audit::TrailConfig::new(
        dir.path().join("audit"),
        ACCOUNT,
        "us-east-1",
    ))
    .await
    .unwrap();
    Env {
        app: app(
            store,
            control,
            data,
            crate::Auditor::new(trail, "us-east-1", ACCOUNT),
        ),
        identities,
        key,
        _dir: dir,
    }
}

fn signing(c: &Creds) -> SigningCredentials {
    SigningCredentials {
        access_key_id: c.0.clone(),
        secret: SecretKey::new(c.1.clone()),
        session_token: c.2.clone().map(SessionToken::new),
    }
}

fn form_request(version: &str, params: &[(&str, &str)]) -> Request<Body> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("Version", version);
    for (k, v) in params {
        form.append_pair(k, v);
    }
    Request::post("/")
        .header("host", "ampd.test")
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(Body::from(form.finish()))
        .unwrap()
}

impl Env {
    async fn send(
        &self,
        req: Request<Body>,
        creds: Option<&Creds>,
        service: &str,
    ) -> (StatusCode, String) {
        let (mut parts, body) = req.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        if let Some(c) = creds {
            sign_request(
                &mut parts,
                &bytes,
                &signing(c),
                "us-east-1",
                service,
                SystemTime::now(),
            )
            .unwrap();
        }
        let res = self
            .app
            .clone()
            .oneshot(Request::from_parts(parts, Body::from(bytes)))
            .await
            .unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    async fn sts(&self, creds: &Creds, params: &[(&str, &str)]) -> (StatusCode, String) {
        self.send(form_request("2011-06-15", params), Some(creds), "sts")
            .await
    }

    async fn iam(&self, params: &[(&str, &str)]) -> String {
        let (status, body) = self
            .send(
                form_request("2010-05-08", params),
                Some(&Creds::root()),
                "iam",
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{params:?}: {body}");
        body
    }

    async fn aps(&self, creds: &Creds, path: &str) -> (StatusCode, String) {
        let req = Request::get(path)
            .header("host", "ampd.test")
            .body(Body::empty())
            .unwrap();
        self.send(req, Some(creds), "aps").await
    }

    /// Creates a user with an access key; returns its credentials.
    async fn user(&self, name: &str) -> Creds {
        self.iam(&[("Action", "CreateUser"), ("UserName", name)])
            .await;
        let xml = self
            .iam(&[("Action", "CreateAccessKey"), ("UserName", name)])
            .await;
        Creds(
            text(&xml, "AccessKeyId").into(),
            text(&xml, "SecretAccessKey").into(),
            None,
        )
    }

    fn token(&self, claims: serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }
}

fn code(body: &str) -> &str {
    text(body, "Code")
}

#[tokio::test]
async fn caller_identity_and_session_tokens() {
    let env = env().await;
    let (status, body) = env
        .sts(&Creds::root(), &[("Action", "GetCallerIdentity")])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\""));
    assert_eq!(text(&body, "Arn"), "arn:aws:iam::123456789012:root");
    assert_eq!(text(&body, "UserId"), ACCOUNT);

    let alice = env.user("alice").await;
    let (_, body) = env.sts(&alice, &[("Action", "GetCallerIdentity")]).await;
    assert_eq!(text(&body, "Arn"), "arn:aws:iam::123456789012:user/alice");

    let (status, body) = env
        .sts(
            &alice,
            &[("Action", "GetSessionToken"), ("DurationSeconds", "900")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session = Creds::from_xml(&body);
    assert!(session.0.starts_with("ASIA"));
    assert!(!text(&body, "Expiration").is_empty());
    let (status, body) = env.sts(&session, &[("Action", "GetCallerIdentity")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(text(&body, "Arn"), "arn:aws:iam::123456789012:user/alice");

    // A session cannot make another; a temporary key needs its own token.
    let (status, body) = env.sts(&session, &[("Action", "GetSessionToken")]).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "AccessDenied")
    );
    let bare = Creds(session.0.clone(), session.1.clone(), None);
    let (_, body) = env.sts(&bare, &[("Action", "GetCallerIdentity")]).await;
    assert_eq!(code(&body), "InvalidClientTokenId");
    let (_, other) = env
        .sts(
            &alice,
            &[("Action", "GetSessionToken"), ("DurationSeconds", "900")],
        )
        .await;
    let swapped = Creds(
        session.0.clone(),
        session.1.clone(),
        Creds::from_xml(&other).2,
    );
    let (_, body) = env.sts(&swapped, &[("Action", "GetCallerIdentity")]).await;
    assert_eq!(code(&body), "InvalidClientTokenId");

    let (status, body) = env
        .sts(
            &alice,
            &[("Action", "GetSessionToken"), ("DurationSeconds", "899")],
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "ValidationError")
    );
    let (_, body) = env
        .sts(
            &Creds::root(),
            &[("Action", "GetSessionToken"), ("DurationSeconds", "7200")],
        )
        .await;
    assert_eq!(code(&body), "ValidationError");
    let (status, body) = env.sts(&alice, &[("Action", "GetFederationToken")]).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "InvalidAction")
    );

    // Unsigned STS calls other than AssumeRoleWithWebIdentity ask for a signature.
    let (status, body) = env
        .send(
            form_request("2011-06-15", &[("Action", "GetCallerIdentity")]),
            None,
            "sts",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "MissingAuthenticationToken");
}

#[tokio::test]
async fn sessions_expire_on_the_verifiers_clock() {
    let env = env().await;
    env.iam(&[("Action", "CreateUser"), ("UserName", "bob")])
        .await;
    let t0 = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
    let sts = env.identities.sts().unwrap();
    let creds = sts
        .sealer()
        .issue(SessionClaims::new(
            SessionIdentity::User { name: "bob".into() },
            t0,
            Duration::from_secs(900),
        ))
        .unwrap();
    let verifier = Verifier::new(VerifierConfig::default());
    let at = |secs: u64| {
        let now = t0 + Duration::from_secs(secs);
        let (mut parts, ()) = Request::post("http://ampd.test/")
            .body(())
            .unwrap()
            .into_parts();
        parts
            .headers
            .insert("host", HeaderValue::from_static("ampd.test"));
        let signing = SigningCredentials {
            access_key_id: creds.access_key_id.clone(),
            secret: creds.secret.clone(),
            session_token: Some(creds.token.clone()),
        };
        sign_request(&mut parts, b"", &signing, "us-east-1", "sts", now).unwrap();
        (parts, now)
    };
    let (parts, now) = at(899);
    let ok = verifier
        .authenticate(&parts, PayloadHash::Body(b""), &*env.identities, "sts", now)
        .await
        .unwrap();
    assert_eq!(ok.principal.arn, "arn:aws:iam::123456789012:user/bob");
    assert!(ok.with_session_token);
    let (parts, now) = at(900);
    let err = verifier
        .authenticate(&parts, PayloadHash::Body(b""), &*env.identities, "sts", now)
        .await
        .unwrap_err();
    assert!(matches!(err, SigV4Error::ExpiredToken), "{err:?}");
    // Deleting the user ends its sessions.
    env.iam(&[("Action", "DeleteUser"), ("UserName", "bob")])
        .await;
    let (parts, now) = at(10);
    let err = verifier
        .authenticate(&parts, PayloadHash::Body(b""), &*env.identities, "sts", now)
        .await
        .unwrap_err();
    assert!(matches!(err, SigV4Error::UnrecognizedClient), "{err:?}");
}

const READ_WORKSPACES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["aps:ListWorkspaces","aps:DescribeWorkspace"],"Resource":"*"}]}"#;

fn trust() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:user/alice"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"StringEquals": {"sts:ExternalId": "ext-1"}}
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole"
            },
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"oidc.sts.test/id/C1:aud": "sts.amazonaws.com"},
                    "StringLike": {"oidc.sts.test/id/C1:sub": "system:serviceaccount:monitoring:*"}
                }
            }
        ]
    })
    .to_string()
}

async fn with_role(env: &Env) {
    env.iam(&[
        ("Action", "CreateRole"),
        ("RoleName", "reader"),
        ("AssumeRolePolicyDocument", &trust()),
        ("MaxSessionDuration", "7200"),
        ("Tags.member.1.Key", "team"),
        ("Tags.member.1.Value", "role-team"),
    ])
    .await;
    env.iam(&[
        ("Action", "PutRolePolicy"),
        ("RoleName", "reader"),
        ("PolicyName", "read"),
        ("PolicyDocument", READ_WORKSPACES),
    ])
    .await;
}

const ROLE: &str = "arn:aws:iam::123456789012:role/reader";

#[tokio::test]
async fn assume_role_checks_trust_duration_and_session_policies() {
    let env = env().await;
    with_role(&env).await;
    let alice = env.user("alice").await;
    let bob = env.user("bob").await;
    let assume = |extra: &[(&'static str, &'static str)]| {
        let mut p = vec![
            ("Action", "AssumeRole"),
            ("RoleArn", ROLE),
            ("RoleSessionName", "s1"),
        ];
        p.extend_from_slice(extra);
        p
    };
    // Alice is trusted with the right ExternalId only; the account statement needs a policy.
    let (status, body) = env.sts(&alice, &assume(&[])).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "AccessDenied"),
        "{body}"
    );
    assert!(text(&body, "Message").contains("user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/reader"));
    let (status, body) = env.sts(&alice, &assume(&[("ExternalId", "ext-1")])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        text(&body, "Arn"),
        "arn:aws:sts::123456789012:assumed-role/reader/s1"
    );
    assert!(text(&body, "AssumedRoleId").starts_with("AROA"));
    let session = Creds::from_xml(&body);
    let (status, body) = env.sts(&session, &[("Action", "GetCallerIdentity")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        text(&body, "Arn"),
        "arn:aws:sts::123456789012:assumed-role/reader/s1"
    );
    assert!(text(&body, "UserId").ends_with(":s1"));
    // The role's permissions: list yes, create no, denial names the session.
    let (status, _) = env.aps(&session, "/workspaces").await;
    assert_eq!(status, StatusCode::OK);
    let req = Request::post("/workspaces")
        .header("host", "ampd.test")
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let (status, body) = env.send(req, Some(&session), "aps").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("User: arn:aws:sts::123456789012:assumed-role/reader/s1 is not authorized to perform: aps:CreateWorkspace"), "{body}");

    // Bob is only covered by the account statement: his own policy must allow it.
    let (_, body) = env.sts(&bob, &assume(&[])).await;
    assert_eq!(code(&body), "AccessDenied");
    env.iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "bob"),
        ("PolicyName", "assume"),
        ("PolicyDocument", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/reader"}]}"#),
    ])
    .await;
    let (status, body) = env.sts(&bob, &assume(&[("DurationSeconds", "7200")])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = env.sts(&bob, &assume(&[("DurationSeconds", "7201")])).await;
    assert_eq!(code(&body), "ValidationError");
    assert!(text(&body, "Message").contains("MaxSessionDuration"));
    let (_, body) = env
        .sts(
            &bob,
            &[
                ("Action", "AssumeRole"),
                ("RoleArn", ROLE),
                ("RoleSessionName", "bad name"),
            ],
        )
        .await;
    assert_eq!(code(&body), "ValidationError");
    // Tags need sts:TagSession, which only Alice's statement grants.
    let (_, body) = env
        .sts(
            &bob,
            &assume(&[("Tags.member.1.Key", "team"), ("Tags.member.1.Value", "x")]),
        )
        .await;
    assert_eq!(code(&body), "AccessDenied");
    assert!(text(&body, "Message").contains("sts:TagSession"));
    // Root may not assume roles; unknown roles are denied.
    let (_, body) = env.sts(&Creds::root(), &assume(&[])).await;
    assert_eq!(code(&body), "AccessDenied");
    let (_, body) = env
        .sts(
            &bob,
            &[
                ("Action", "AssumeRole"),
                ("RoleArn", "arn:aws:iam::123456789012:role/none"),
                ("RoleSessionName", "s2"),
            ],
        )
        .await;
    assert_eq!(code(&body), "AccessDenied");

    // A session policy narrows the role; session tags become principal tags.
    let (status, body) = env
        .sts(&alice, &assume(&[
            ("ExternalId", "ext-1"),
            ("Policy", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:DescribeWorkspace","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"session-team"}}}]}"#),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "session-team"),
        ]))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let narrow = Creds::from_xml(&body);
    let (status, body) = env.aps(&narrow, "/workspaces").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body.contains("because no session policy allows the aps:ListWorkspaces action"),
        "{body}"
    );
    let (status, body) = env.aps(&narrow, "/workspaces/ws-missing").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "allowed through, then not found: {body}"
    );
    let (_, body) = env
        .sts(
            &alice,
            &assume(&[("ExternalId", "ext-1"), ("Policy", "{not json")]),
        )
        .await;
    assert_eq!(code(&body), "MalformedPolicyDocument");

    // Managed session policies narrow too; unknown ones are refused. A source identity needs
    // sts:SetSourceIdentity, which the trust policy does not grant.
    let (status, body) = env
        .sts(
            &alice,
            &assume(&[
                ("ExternalId", "ext-1"),
                (
                    "PolicyArns.member.1.arn",
                    "arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess",
                ),
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = env.aps(&Creds::from_xml(&body), "/workspaces").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, body) = env
        .sts(
            &alice,
            &assume(&[
                ("ExternalId", "ext-1"),
                (
                    "PolicyArns.member.1.arn",
                    "arn:aws:iam::123456789012:policy/none",
                ),
            ]),
        )
        .await;
    assert_eq!(code(&body), "ValidationError");
    let (_, body) = env
        .sts(
            &alice,
            &assume(&[
                ("ExternalId", "ext-1"),
                ("SourceIdentity", "alice@example.com"),
            ]),
        )
        .await;
    assert_eq!(code(&body), "AccessDenied");
    assert!(
        text(&body, "Message").contains("sts:SetSourceIdentity"),
        "{body}"
    );

    // Bob's permissions boundary must allow the assumption too.
    let created = env
        .iam(&[
            ("Action", "CreatePolicy"),
            ("PolicyName", "aps-only"),
            ("PolicyDocument", READ_WORKSPACES),
        ])
        .await;
    env.iam(&[
        ("Action", "PutUserPermissionsBoundary"),
        ("UserName", "bob"),
        ("PermissionsBoundary", text(&created, "Arn")),
    ])
    .await;
    let (_, body) = env.sts(&bob, &assume(&[])).await;
    assert_eq!(code(&body), "AccessDenied");
    assert!(
        text(&body, "Message").contains("because no permissions boundary allows"),
        "{body}"
    );

    // Role chaining is capped at one hour.
    env.iam(&[
        ("Action", "PutRolePolicy"),
        ("RoleName", "reader"),
        ("PolicyName", "chain"),
        ("PolicyDocument", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#),
    ])
    .await;
    let (_, body) = env
        .sts(&session, &assume(&[("DurationSeconds", "3601")]))
        .await;
    assert!(text(&body, "Message").contains("role chaining"), "{body}");
    let (status, body) = env
        .sts(&session, &assume(&[("DurationSeconds", "3600")]))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn web_identity_tokens_become_role_sessions() {
    let env = env().await;
    with_role(&env).await;
    env.iam(&[
        ("Action", "CreateOpenIDConnectProvider"),
        ("Url", ISSUER),
        ("ClientIDList.member.1", "sts.amazonaws.com"),
        (
            "ThumbprintList.member.1",
            "9e99a48a9960b14926bb7f3b02e22da2b0ab7280",
        ),
        ("Tags.member.1.Key", "cluster"),
        ("Tags.member.1.Value", "c1"),
    ])
    .await;
    let got = env
        .iam(&[
            ("Action", "GetOpenIDConnectProvider"),
            ("OpenIDConnectProviderArn", PROVIDER),
        ])
        .await;
    assert_eq!(text(&got, "Url"), "oidc.sts.test/id/C1");
    assert!(got.contains("<member>sts.amazonaws.com</member>"));
    let listed = env.iam(&[("Action", "ListOpenIDConnectProviders")]).await;
    assert_eq!(text(&listed, "Arn"), PROVIDER);

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |sub: &str| json!({"iss": ISSUER, "sub": sub, "aud": "sts.amazonaws.com", "exp": now + 600, "iat": now});
    let exchange = |token: String| {
        form_request(
            "2011-06-15",
            &[
                ("Action", "AssumeRoleWithWebIdentity"),
                ("RoleArn", ROLE),
                ("RoleSessionName", "prometheus-0"),
                ("WebIdentityToken", &token),
            ],
        )
    };
    let (status, body) = env
        .send(exchange(env.token(claims(SUBJECT))), None, "sts")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(text(&body, "SubjectFromWebIdentityToken"), SUBJECT);
    assert_eq!(text(&body, "Audience"), "sts.amazonaws.com");
    assert_eq!(text(&body, "Provider"), "oidc.sts.test/id/C1");
    let session = Creds::from_xml(&body);
    let (_, who) = env.sts(&session, &[("Action", "GetCallerIdentity")]).await;
    assert_eq!(
        text(&who, "Arn"),
        "arn:aws:sts::123456789012:assumed-role/reader/prometheus-0"
    );
    let (status, _) = env.aps(&session, "/workspaces").await;
    assert_eq!(status, StatusCode::OK);

    let (_, body) = env
        .send(
            exchange(env.token(claims("system:serviceaccount:default:x"))),
            None,
            "sts",
        )
        .await;
    assert_eq!(code(&body), "AccessDenied");
    let mut expired = claims(SUBJECT);
    expired["exp"] = json!(now - 1);
    let (_, body) = env.send(exchange(env.token(expired)), None, "sts").await;
    assert_eq!(code(&body), "ExpiredTokenException");
    let mut wrong_aud = claims(SUBJECT);
    wrong_aud["aud"] = json!("other");
    let (_, body) = env.send(exchange(env.token(wrong_aud)), None, "sts").await;
    assert_eq!(code(&body), "InvalidIdentityToken");
    let mut elsewhere = claims(SUBJECT);
    elsewhere["iss"] = json!("https://elsewhere.test");
    let (_, body) = env.send(exchange(env.token(elsewhere)), None, "sts").await;
    assert_eq!(code(&body), "InvalidIdentityToken");
    assert!(text(&body, "Message").contains("No OpenIDConnect provider found"));

    env.iam(&[
        ("Action", "DeleteOpenIDConnectProvider"),
        ("OpenIDConnectProviderArn", PROVIDER),
    ])
    .await;
    let (_, body) = env
        .send(exchange(env.token(claims(SUBJECT))), None, "sts")
        .await;
    assert_eq!(code(&body), "InvalidIdentityToken");
}
