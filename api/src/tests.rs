//! Router-level tests: the whole app driven with `tower::ServiceExt::oneshot`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ampd_backends::{MetadataStore, MetricsBackend, SqliteStore};
use ampd_iam::SecretKey;
use ampd_iam::sigv4::{SigningCredentials, sign_request};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

mod audit;
mod data_plane;
mod iam_roles;

use crate::{
    Authenticator, ControlSettings, ControlState, DataState, Identities, Operation, PageTokens,
    RootAccessKey, SecretSealer, app, open_metrics,
};

const ROOT_KEY_ID: &str = "AKIAROOTTESTKEY00001";
const ROOT_SECRET: &str = "root-secret-for-router-tests";

/// Signs a request like botocore does (SigV4 header, `host` and `x-amz-date` signed).
async fn signed(req: Request<Body>, key_id: &str, secret: &str, service: &str) -> Request<Body> {
    let (mut parts, body) = req.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    parts
        .headers
        .entry("host")
        .or_insert(HeaderValue::from_static("ampd.test"));
    let creds = SigningCredentials {
        access_key_id: key_id.into(),
        secret: SecretKey::new(secret),
        session_token: None,
    };
    sign_request(
        &mut parts,
        &bytes,
        &creds,
        "us-east-1",
        service,
        SystemTime::now(),
    )
    .unwrap();
    Request::from_parts(parts, Body::from(bytes))
}

struct TestApp {
    app: Router,
    store: Arc<dyn MetadataStore>,
    trail: ampd_audit::Trail,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn error_type(&self) -> &str {
        self.headers
            .get("x-amzn-ErrorType")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn test_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("metadata.db"))
        .await
        .unwrap();
    let store: Arc<dyn MetadataStore> = Arc::new(sqlite.clone());
    let settings = ControlSettings {
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        external_url: "http://ampd.test:9096/".into(),
        max_workspaces: 3,
    };
    let identities = Arc::new(Identities::new(
        Arc::new(sqlite),
        SecretSealer::from_root(&ampd_kms::RootKey::generate().unwrap()).unwrap(),
        RootAccessKey {
            access_key_id: ROOT_KEY_ID.into(),
            secret: SecretKey::new(ROOT_SECRET),
        },
        "123456789012",
    ));
    let authenticator = Arc::new(Authenticator::new("us-east-1", identities, store.clone()));
    let metrics: Arc<dyn MetricsBackend> = Arc::new(open_metrics(dir.path()).unwrap());
    let data = DataState::new(
        authenticator.clone(),
        store.clone(),
        metrics,
        "us-east-1",
        "123456789012",
    );
    let control = ControlState::new(
        settings,
        authenticator,
        store.clone(),
        PageTokens::from_key([1; 32]),
    );
    let trail = ampd_audit::Trail::open(ampd_audit::TrailConfig::new(
        dir.path().join("audit"),
        "123456789012",
        "us-east-1",
    ))
    .await
    .unwrap();
    let auditor = crate::Auditor::new(trail.clone(), "us-east-1", "123456789012");
    TestApp {
        app: app(store.clone(), control, data, auditor),
        store,
        trail,
        _dir: dir,
    }
}

impl TestApp {
    async fn raw(&self, req: Request<Body>) -> Reply {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> Reply {
        self.call_as(ROOT_KEY_ID, ROOT_SECRET, method, uri, body)
            .await
    }

    async fn call_as(
        &self,
        key_id: &str,
        secret: &str,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut b = Request::builder().method(method).uri(uri);
        let body = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let req = signed(b.body(body).unwrap(), key_id, secret, "aps").await;
        self.raw(req).await
    }

    /// Calls the IAM query API as root; returns the status and the XML body.
    async fn iam(&self, params: &[(&str, &str)]) -> (StatusCode, String) {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("Version", "2010-05-08");
        for (k, v) in params {
            form.append_pair(k, v);
        }
        let req = Request::post("/")
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(Body::from(form.finish()))
            .unwrap();
        let req = signed(req, ROOT_KEY_ID, ROOT_SECRET, "iam").await;
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    async fn settle(&self) {
        self.store.settle(Duration::ZERO).await.unwrap();
    }

    async fn active_workspace(&self) -> String {
        let r = self
            .call(Method::POST, "/workspaces", Some(json!({"alias": "t"})))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        self.settle().await;
        r.body["workspaceId"].as_str().unwrap().to_owned()
    }
}

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

fn tag_path(arn: &str) -> String {
    format!("/tags/{}", arn.replace(':', "%3A").replace('/', "%2F"))
}

#[tokio::test]
async fn workspace_lifecycle() {
    let t = test_app().await;
    let r = t
        .call(
            Method::POST,
            "/workspaces",
            Some(json!({"alias": "prod", "tags": {"team": "a"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.body["status"]["statusCode"], "CREATING");
    let id = r.body["workspaceId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ws-"));
    assert_eq!(
        r.body["arn"],
        format!("arn:aws:aps:us-east-1:123456789012:workspace/{id}")
    );
    assert!(r.headers.contains_key("x-amzn-RequestId"));

    let r = t
        .call(Method::GET, &format!("/workspaces/{id}"), None)
        .await;
    assert_eq!(r.body["workspace"]["status"]["statusCode"], "CREATING");
    t.settle().await;
    let r = t
        .call(Method::GET, &format!("/workspaces/{id}"), None)
        .await;
    let ws = &r.body["workspace"];
    assert_eq!(ws["status"]["statusCode"], "ACTIVE");
    assert_eq!(
        ws["prometheusEndpoint"],
        format!("http://ampd.test:9096/workspaces/{id}/")
    );
    assert!(ws["createdAt"].is_number());
    assert!(
        ws.get("kmsKeyArn").is_none(),
        "absent members are omitted: {ws}"
    );

    let r = t
        .call(
            Method::POST,
            &format!("/workspaces/{id}/alias"),
            Some(json!({"alias": "p2"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = t.call(Method::GET, "/workspaces?alias=p2", None).await;
    assert_eq!(r.body["workspaces"][0]["status"]["statusCode"], "UPDATING");
    t.settle().await;

    let r = t
        .call(
            Method::DELETE,
            &format!("/workspaces/{id}?clientToken=abc"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = t
        .call(Method::GET, &format!("/workspaces/{id}"), None)
        .await;
    assert_eq!(r.body["workspace"]["status"]["statusCode"], "DELETING");
    t.settle().await;
    let r = t
        .call(Method::GET, &format!("/workspaces/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error_type(), "ResourceNotFoundException");
    assert_eq!(r.body["resourceId"], id.as_str());
    assert_eq!(r.body["resourceType"], "WORKSPACE");
    // A retried delete with the same token still succeeds.
    let r = t
        .call(
            Method::DELETE,
            &format!("/workspaces/{id}?clientToken=abc"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn authentication_errors() {
    let t = test_app().await;
    let r = t
        .raw(Request::get("/workspaces").body(Body::empty()).unwrap())
        .await;
    assert_eq!(
        (r.status, r.error_type()),
        (StatusCode::FORBIDDEN, "MissingAuthenticationTokenException")
    );
    assert_eq!(r.body["message"], "Missing Authentication Token");
    let req = Request::get("/workspaces")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=A/2025/us-east-1/aps/aws4_request",
        )
        .header("x-amz-date", "20250102T030405Z")
        .body(Body::empty())
        .unwrap();
    let r = t.raw(req).await;
    assert_eq!(
        (r.status, r.error_type()),
        (StatusCode::BAD_REQUEST, "IncompleteSignatureException")
    );
    let req = Request::get("/workspaces").body(Body::empty()).unwrap();
    let r = t
        .raw(signed(req, ROOT_KEY_ID, ROOT_SECRET, "kms").await)
        .await;
    assert_eq!(
        (r.status, r.error_type()),
        (StatusCode::FORBIDDEN, "InvalidSignatureException")
    );
    let r = t
        .call_as(ROOT_KEY_ID, "wrong", Method::GET, "/workspaces", None)
        .await;
    assert_eq!(
        (r.status, r.error_type()),
        (StatusCode::FORBIDDEN, "InvalidSignatureException")
    );
    let r = t
        .call_as("AKIANOBODY", ROOT_SECRET, Method::GET, "/workspaces", None)
        .await;
    assert_eq!(
        (r.status, r.error_type()),
        (StatusCode::FORBIDDEN, "UnrecognizedClientException")
    );
    // A body changed after signing no longer matches the signature.
    let req = Request::post("/workspaces")
        .body(Body::from(r#"{"alias":"a"}"#))
        .unwrap();
    let (parts, _) = signed(req, ROOT_KEY_ID, ROOT_SECRET, "aps")
        .await
        .into_parts();
    let tampered = Request::from_parts(parts, Body::from(r#"{"alias":"b"}"#));
    let r = t.raw(tampered).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Health endpoints stay open.
    let r = t
        .app
        .clone()
        .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.unwrap().status(), StatusCode::OK);
    let r = t
        .app
        .clone()
        .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn rejections_are_aws_shaped() {
    let t = test_app().await;
    let bad_json = Request::post("/workspaces")
        .body(Body::from("{not json"))
        .unwrap();
    let bad_json = signed(bad_json, ROOT_KEY_ID, ROOT_SECRET, "aps").await;
    let cases = [
        (t.raw(bad_json).await, "CANNOT_PARSE"),
        (
            t.call(Method::POST, "/workspaces", Some(json!({"alias": 5})))
                .await,
            "FIELD_VALIDATION_FAILED",
        ),
        (
            t.call(Method::GET, "/no/such/route", None).await,
            "UNKNOWN_OPERATION",
        ),
        (
            t.call(Method::PATCH, "/workspaces", None).await,
            "UNKNOWN_OPERATION",
        ),
        (
            t.call(Method::GET, "/workspaces?maxResults=0", None).await,
            "FIELD_VALIDATION_FAILED",
        ),
        (
            t.call(
                Method::POST,
                "/workspaces",
                Some(json!({"alias": "a".repeat(101)})),
            )
            .await,
            "FIELD_VALIDATION_FAILED",
        ),
        (
            t.call(
                Method::POST,
                "/workspaces",
                Some(json!({"kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:alias/x"})),
            )
            .await,
            "FIELD_VALIDATION_FAILED",
        ),
    ];
    for (r, reason) in cases {
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.error_type(), "ValidationException");
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(r.body["reason"], reason, "{}", r.body);
        assert!(r.body["message"].is_string());
    }
}

#[tokio::test]
async fn every_operation_is_routed() {
    let t = test_app().await;
    for &op in Operation::ALL {
        let path = op
            .path()
            .replace("{workspaceId}", "ws-missing")
            .replace("{name}", "ns")
            .replace("{anomalyDetectorId}", "ad-missing")
            .replace("{scraperId}", "s-missing")
            .replace(
                "{resourceArn}",
                "arn%3Aaws%3Aaps%3Aus-east-1%3A123456789012%3Aworkspace%2Fws-missing",
            );
        let body =
            matches!(op.method(), Method::POST | Method::PUT | Method::PATCH).then(|| json!({}));
        let r = t.call(op.method(), &path, body).await;
        assert_ne!(r.body["reason"], "UNKNOWN_OPERATION", "{op:?} {path}");
        assert!(r.headers.contains_key("x-amzn-RequestId"));
    }
}

#[tokio::test]
async fn client_token_idempotency() {
    let t = test_app().await;
    let body = json!({"alias": "same", "clientToken": "token-1"});
    let a = t
        .call(Method::POST, "/workspaces", Some(body.clone()))
        .await;
    let b = t.call(Method::POST, "/workspaces", Some(body)).await;
    assert_eq!(a.body["workspaceId"], b.body["workspaceId"]);
    let r = t.call(Method::GET, "/workspaces", None).await;
    assert_eq!(r.body["workspaces"].as_array().unwrap().len(), 1);
    let c = t
        .call(
            Method::POST,
            "/workspaces",
            Some(json!({"alias": "other", "clientToken": "token-1"})),
        )
        .await;
    assert_eq!(
        (c.status, c.error_type()),
        (StatusCode::CONFLICT, "ConflictException")
    );
}

#[tokio::test]
async fn workspace_quota_is_402() {
    let t = test_app().await;
    for _ in 0..3 {
        assert_eq!(
            t.call(Method::POST, "/workspaces", Some(json!({})))
                .await
                .status,
            StatusCode::ACCEPTED
        );
    }
    let r = t.call(Method::POST, "/workspaces", None).await;
    assert_eq!(
        (r.status, r.error_type()),
        (
            StatusCode::PAYMENT_REQUIRED,
            "ServiceQuotaExceededException"
        )
    );
    for member in ["resourceId", "resourceType", "serviceCode", "quotaCode"] {
        assert!(r.body[member].is_string(), "{member}: {}", r.body);
    }
}

#[tokio::test]
async fn pagination_tokens_chain_and_resist_tampering() {
    let t = test_app().await;
    for _ in 0..3 {
        t.call(Method::POST, "/workspaces", Some(json!({"alias": "pg"})))
            .await;
    }
    let mut seen = Vec::new();
    let mut uri = "/workspaces?maxResults=2&alias=pg".to_owned();
    loop {
        let r = t.call(Method::GET, &uri, None).await;
        assert_eq!(r.status, StatusCode::OK);
        seen.extend(
            r.body["workspaces"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["workspaceId"].clone()),
        );
        match r.body["nextToken"].as_str() {
            Some(tok) => {
                let r2 = t
                    .call(
                        Method::GET,
                        &format!("/workspaces?maxResults=2&alias=other&nextToken={tok}"),
                        None,
                    )
                    .await;
                assert_eq!(
                    r2.status,
                    StatusCode::BAD_REQUEST,
                    "a token is bound to its filters"
                );
                let mut forged = tok.to_owned();
                let last = forged.pop().unwrap();
                forged.push(if last == 'A' { 'B' } else { 'A' });
                let r3 = t
                    .call(
                        Method::GET,
                        &format!("/workspaces?maxResults=2&alias=pg&nextToken={forged}"),
                        None,
                    )
                    .await;
                assert_eq!(
                    (r3.status, r3.error_type()),
                    (StatusCode::BAD_REQUEST, "ValidationException")
                );
                uri = format!("/workspaces?maxResults=2&alias=pg&nextToken={tok}");
            }
            None => break,
        }
    }
    seen.dedup();
    assert_eq!(seen.len(), 3);
}

#[tokio::test]
async fn tags_by_encoded_arn() {
    let t = test_app().await;
    let ws = t.active_workspace().await;
    let arn = format!("arn:aws:aps:us-east-1:123456789012:workspace/{ws}");
    let path = tag_path(&arn);
    let r = t
        .call(
            Method::POST,
            &path,
            Some(json!({"tags": {"a": "1", "b": "2"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t
        .call(
            Method::DELETE,
            &format!("{path}?tagKeys=a&tagKeys=zz"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = t.call(Method::GET, &path, None).await;
    assert_eq!(r.body["tags"], json!({"b": "2"}));
    let many: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
    let r = t
        .call(Method::POST, &path, Some(json!({"tags": many})))
        .await;
    assert_eq!(r.error_type(), "ValidationException", "51 tags in total");
    let r = t
        .call(
            Method::POST,
            &path,
            Some(json!({"tags": {"aws:reserved": "x"}})),
        )
        .await;
    assert_eq!(r.error_type(), "ValidationException");
    let r = t.call(Method::DELETE, &path, None).await;
    assert_eq!(r.error_type(), "ValidationException", "tagKeys is required");
    let missing = tag_path("arn:aws:aps:us-east-1:123456789012:workspace/ws-missing");
    assert_eq!(
        t.call(Method::GET, &missing, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.call(Method::GET, "/tags/not-an-arn", None).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn rule_groups_namespaces() {
    let t = test_app().await;
    let r = t.call(Method::POST, "/workspaces", None).await;
    let creating = r.body["workspaceId"].as_str().unwrap().to_owned();
    let rules =
        "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum by (job) (up)\n";
    let body = json!({"name": "ns", "data": b64(rules), "tags": {"k": "v"}});
    let r = t
        .call(
            Method::POST,
            &format!("/workspaces/{creating}/rulegroupsnamespaces"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        r.error_type(),
        "ConflictException",
        "workspace still CREATING"
    );
    t.settle().await;
    let base = format!("/workspaces/{creating}/rulegroupsnamespaces");
    let r = t.call(Method::POST, &base, Some(body)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(
        r.body["arn"],
        format!("arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/{creating}/ns")
    );
    t.settle().await;
    let r = t.call(Method::GET, &format!("{base}/ns"), None).await;
    let d = &r.body["ruleGroupsNamespace"];
    assert_eq!(
        STANDARD.decode(d["data"].as_str().unwrap()).unwrap(),
        rules.as_bytes()
    );
    assert_eq!(d["tags"], json!({"k": "v"}));
    let bad = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: rate(x[5m]\n";
    let r = t
        .call(
            Method::PUT,
            &format!("{base}/ns"),
            Some(json!({"data": b64(bad)})),
        )
        .await;
    assert_eq!(r.error_type(), "ValidationException");
    assert!(
        r.body["message"].as_str().unwrap().contains("group \"g\""),
        "{}",
        r.body
    );
    let r = t
        .call(
            Method::PUT,
            &format!("{base}/ns"),
            Some(json!({"data": "%%%"})),
        )
        .await;
    assert_eq!(r.body["reason"], "CANNOT_PARSE");
    let r = t
        .call(
            Method::PUT,
            &format!("{base}/other"),
            Some(json!({"data": b64(rules)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "Put does not create");
    let r = t
        .call(
            Method::PUT,
            &format!("{base}/ns"),
            Some(json!({"data": b64(rules)})),
        )
        .await;
    assert_eq!(r.body["status"]["statusCode"], "UPDATING");
    let r = t.call(Method::GET, &format!("{base}?name=n"), None).await;
    assert_eq!(r.body["ruleGroupsNamespaces"].as_array().unwrap().len(), 1);
    assert!(r.body["ruleGroupsNamespaces"][0].get("data").is_none());
}

#[tokio::test]
async fn alert_manager_definition_and_configuration() {
    let t = test_app().await;
    let ws = t.active_workspace().await;
    let path = format!("/workspaces/{ws}/alertmanager/definition");
    let good = "alertmanager_config: |\n  route:\n    receiver: hook\n  receivers:\n  - name: hook\n    webhook_configs:\n    - url: http://127.0.0.1:1/\n";
    let r = t
        .call(Method::PUT, &path, Some(json!({"data": b64(good)})))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = t
        .call(Method::POST, &path, Some(json!({"data": b64(good)})))
        .await;
    assert_eq!(r.body["status"]["statusCode"], "CREATING");
    let r = t
        .call(Method::POST, &path, Some(json!({"data": b64(good)})))
        .await;
    assert_eq!(r.error_type(), "ConflictException");
    let r = t.call(Method::GET, &path, None).await;
    assert!(r.body["alertManagerDefinition"]["modifiedAt"].is_number());
    let bad = "alertmanager_config: |\n  route:\n    receiver: x\n  receivers:\n  - name: x\n    pagerduty_configs: [{routing_key: k}]\n";
    let r = t
        .call(Method::PUT, &path, Some(json!({"data": b64(bad)})))
        .await;
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("pagerduty_configs"),
        "{}",
        r.body
    );

    let cfg = format!("/workspaces/{ws}/configuration");
    let r = t.call(Method::PATCH, &cfg, Some(json!({}))).await;
    assert_eq!(r.error_type(), "ValidationException", "at least one member");
    let body = json!({
        "retentionPeriodInDays": 45,
        "limitsPerLabelSet": [{"labelSet": {"team": "a"}, "limits": {"maxSeries": 1000}}]
    });
    let r = t.call(Method::PATCH, &cfg, Some(body)).await;
    assert_eq!(
        (r.status, &r.body["status"]["statusCode"]),
        (StatusCode::ACCEPTED, &json!("UPDATING"))
    );
    t.settle().await;
    let r = t.call(Method::GET, &cfg, None).await;
    let c = &r.body["workspaceConfiguration"];
    assert_eq!(c["status"]["statusCode"], "ACTIVE");
    assert_eq!(c["retentionPeriodInDays"], 45);
    assert_eq!(c["limitsPerLabelSet"][0]["limits"]["maxSeries"], 1000);
    let r = t
        .call(
            Method::PATCH,
            &cfg,
            Some(json!({"retentionPeriodInDays": 0})),
        )
        .await;
    assert_eq!(r.body["fieldList"][0]["name"], "retentionPeriodInDays");
}

#[tokio::test]
async fn logging_and_policies() {
    let t = test_app().await;
    let ws = t.active_workspace().await;
    let log_group = "arn:aws:logs:us-east-1:123456789012:log-group:amp:*";
    let r = t
        .call(
            Method::POST,
            &format!("/workspaces/{ws}/logging"),
            Some(json!({"logGroupArn": log_group})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = t
        .call(Method::GET, &format!("/workspaces/{ws}/logging"), None)
        .await;
    assert_eq!(r.body["loggingConfiguration"]["logGroupArn"], log_group);
    assert_eq!(r.body["loggingConfiguration"]["workspace"], ws.as_str());
    let r = t
        .call(
            Method::POST,
            &format!("/workspaces/{ws}/logging"),
            Some(json!({"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:amp"})),
        )
        .await;
    assert_eq!(r.error_type(), "ValidationException");
    let q = json!({"destinations": [{"cloudWatchLogs": {"logGroupArn": log_group}, "filters": {"qspThreshold": 1000}}]});
    let r = t
        .call(
            Method::POST,
            &format!("/workspaces/{ws}/logging/query"),
            Some(q),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let r = t
        .call(
            Method::GET,
            &format!("/workspaces/{ws}/logging/query"),
            None,
        )
        .await;
    assert_eq!(
        r.body["queryLoggingConfiguration"]["destinations"][0]["filters"]["qspThreshold"],
        1000
    );

    let path = format!("/workspaces/{ws}/policy");
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"aps:QueryMetrics","Resource":"*"}]}"#;
    let r = t
        .call(
            Method::PUT,
            &path,
            Some(json!({"policyDocument": doc, "revisionId": "NO_POLICY"})),
        )
        .await;
    assert_eq!(r.body["policyStatus"], "CREATING");
    let rev = r.body["revisionId"].as_str().unwrap().to_owned();
    t.settle().await;
    let r = t
        .call(
            Method::PUT,
            &path,
            Some(json!({"policyDocument": doc, "revisionId": "stale"})),
        )
        .await;
    assert_eq!(r.error_type(), "ConflictException");
    let r = t
        .call(
            Method::PUT,
            &path,
            Some(json!({"policyDocument": "not json"})),
        )
        .await;
    assert_eq!(r.error_type(), "ValidationException");
    let r = t.call(Method::GET, &path, None).await;
    assert_eq!(
        (
            r.body["policyDocument"].as_str(),
            r.body["revisionId"].as_str()
        ),
        (Some(doc), Some(rev.as_str()))
    );
    let r = t
        .call(Method::DELETE, &format!("{path}?revisionId={rev}"), None)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn scrapers_and_anomaly_detectors() {
    let t = test_app().await;
    let ws = t.active_workspace().await;
    let ws_arn = format!("arn:aws:aps:us-east-1:123456789012:workspace/{ws}");
    let scrape =
        b64("scrape_configs:\n- job_name: pods\n  kubernetes_sd_configs:\n  - role: pod\n");
    let body = json!({
        "alias": "eks-1",
        "scrapeConfiguration": {"configurationBlob": scrape},
        "source": {"eksConfiguration": {"clusterArn": "arn:aws:eks:us-east-1:123456789012:cluster/c1", "subnetIds": ["subnet-abc"]}},
        "destination": {"ampConfiguration": {"workspaceArn": ws_arn}},
    });
    let r = t.call(Method::POST, "/scrapers", Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let id = r.body["scraperId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("s-"));
    let mut two_sources = body.clone();
    two_sources["source"]["vpcConfiguration"] =
        json!({"securityGroupIds": ["sg-1"], "subnetIds": ["subnet-1"]});
    let r = t.call(Method::POST, "/scrapers", Some(two_sources)).await;
    assert_eq!(r.error_type(), "ValidationException");
    t.settle().await;
    let r = t.call(Method::GET, &format!("/scrapers/{id}"), None).await;
    let s = &r.body["scraper"];
    assert_eq!(s["status"]["statusCode"], "ACTIVE");
    assert_eq!(
        s["scrapeConfiguration"]["configurationBlob"],
        scrape.as_str()
    );
    assert!(
        s["roleArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:iam::123456789012:role/")
    );
    let r = t
        .call(
            Method::GET,
            "/scrapers?status=ACTIVE&status=CREATING&alias=eks-1",
            None,
        )
        .await;
    assert_eq!(r.body["scrapers"].as_array().unwrap().len(), 1);
    let r = t.call(Method::GET, "/scrapers?alias=other", None).await;
    assert!(r.body["scrapers"].as_array().unwrap().is_empty());
    let r = t.call(Method::GET, "/scraperconfiguration", None).await;
    let cfg = STANDARD
        .decode(r.body["configuration"].as_str().unwrap())
        .unwrap();
    assert!(String::from_utf8(cfg).unwrap().contains("scrape_configs"));
    let r = t
        .call(Method::DELETE, &format!("/scrapers/{id}"), None)
        .await;
    assert_eq!(r.body["status"]["statusCode"], "DELETING");

    let ad = json!({
        "alias": "cpu",
        "configuration": {"randomCutForest": {"query": "avg(rate(cpu_seconds_total[5m]))"}},
        "labels": {"team": "a"},
    });
    let path = format!("/workspaces/{ws}/anomalydetectors");
    let r = t.call(Method::POST, &path, Some(ad)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let ad_id = r.body["anomalyDetectorId"].as_str().unwrap().to_owned();
    assert!(
        r.body["arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!("anomalydetector/{ws}/{ad_id}"))
    );
    let r = t.call(Method::GET, &format!("{path}/{ad_id}"), None).await;
    let d = &r.body["anomalyDetector"];
    assert_eq!(d["evaluationIntervalInSeconds"], 60);
    assert_eq!(d["configuration"]["randomCutForest"]["shingleSize"], 8);
    let bad = json!({"alias": "x", "configuration": {"randomCutForest": {"query": "rate("}}});
    assert_eq!(
        t.call(Method::POST, &path, Some(bad)).await.error_type(),
        "ValidationException"
    );
    let r = t.call(Method::GET, &format!("{path}?alias=cp"), None).await;
    assert_eq!(r.body["anomalyDetectors"].as_array().unwrap().len(), 1);
}

/// Returns the text of the first `<name>` element of an XML body.
fn xml_text<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = xml.find(&open).unwrap() + open.len();
    let end = start + xml[start..].find('<').unwrap();
    &xml[start..end]
}

#[tokio::test]
async fn iam_users_keys_and_policies_authorize_control_plane_calls() {
    let t = test_app().await;
    let (s, body) = t
        .iam(&[("Action", "CreateUser"), ("UserName", "grafana")])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains("<Arn>arn:aws:iam::123456789012:user/grafana</Arn>"));
    let (s, body) = t
        .iam(&[("Action", "CreateUser"), ("UserName", "grafana")])
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(body.contains("<Code>EntityAlreadyExists</Code>"), "{body}");
    let (s, body) = t
        .iam(&[("Action", "CreateAccessKey"), ("UserName", "grafana")])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let key_id = xml_text(&body, "AccessKeyId").to_owned();
    let secret = xml_text(&body, "SecretAccessKey").to_owned();

    // No policy yet: everything is denied, with AWS's message.
    let r = t
        .call_as(&key_id, &secret, Method::GET, "/workspaces", None)
        .await;
    assert_eq!(r.error_type(), "AccessDeniedException");
    assert_eq!(
        r.body["message"],
        "User: arn:aws:iam::123456789012:user/grafana is not authorized to perform: \
         aps:ListWorkspaces because no identity-based policy allows the aps:ListWorkspaces action"
    );

    let (s, body) = t
        .iam(&[
            ("Action", "AttachUserPolicy"),
            ("UserName", "grafana"),
            (
                "PolicyArn",
                "arn:aws:iam::aws:policy/AmazonPrometheusFullAccess",
            ),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let prod = t
        .call(
            Method::POST,
            "/workspaces",
            Some(json!({"alias": "p", "tags": {"env": "prod"}})),
        )
        .await
        .body["workspaceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let dev = t.active_workspace().await;
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"aps:*",
        "Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}]}"#;
    let (s, body) = t
        .iam(&[
            ("Action", "PutUserPolicy"),
            ("UserName", "grafana"),
            ("PolicyName", "no-prod"),
            ("PolicyDocument", deny),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let r = t
        .call_as(
            &key_id,
            &secret,
            Method::GET,
            &format!("/workspaces/{dev}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t
        .call_as(
            &key_id,
            &secret,
            Method::GET,
            &format!("/workspaces/{prod}"),
            None,
        )
        .await;
    assert_eq!(r.error_type(), "AccessDeniedException");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .ends_with("with an explicit deny in an identity-based policy"),
        "{}",
        r.body
    );
    // Creating with a request tag is checked with aws:RequestTag too (and aps:TagResource).
    let r = t
        .call_as(
            &key_id,
            &secret,
            Method::POST,
            "/workspaces",
            Some(json!({"tags": {"env": "dev"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);

    let (s, body) = t
        .iam(&[
            ("Action", "GetUserPolicy"),
            ("UserName", "grafana"),
            ("PolicyName", "no-prod"),
        ])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(xml_text(&body, "PolicyDocument").starts_with("%7B%22Version%22"));
    let (s, _) = t
        .iam(&[
            ("Action", "UpdateAccessKey"),
            ("UserName", "grafana"),
            ("AccessKeyId", &key_id),
            ("Status", "Inactive"),
        ])
        .await;
    assert_eq!(s, StatusCode::OK);
    let r = t
        .call_as(
            &key_id,
            &secret,
            Method::GET,
            &format!("/workspaces/{dev}"),
            None,
        )
        .await;
    assert_eq!(r.error_type(), "UnrecognizedClientException");
    let (s, body) = t
        .iam(&[("Action", "DeleteUser"), ("UserName", "grafana")])
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(body.contains("<Code>DeleteConflict</Code>"));
    let (s, body) = t
        .iam(&[("Action", "GetUser"), ("UserName", "nobody")])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        body.contains("<Type>Sender</Type><Code>NoSuchEntity</Code>"),
        "{body}"
    );
    let (s, body) = t.iam(&[("Action", "Frobnicate")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("<Code>InvalidAction</Code>"));
}

#[tokio::test]
async fn source_ip_transport_and_iam_actions_are_authorized() {
    let t = test_app().await;
    for params in [
        &[("Action", "CreateUser"), ("UserName", "ops")][..],
        &[("Action", "CreateAccessKey"), ("UserName", "ops")],
    ] {
        let (s, body) = t.iam(params).await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    let (_, body) = t
        .iam(&[("Action", "ListAccessKeys"), ("UserName", "ops")])
        .await;
    assert!(body.contains("<Status>Active</Status>"), "{body}");
    let (_, created) = t
        .iam(&[("Action", "CreateAccessKey"), ("UserName", "ops")])
        .await;
    let (key_id, secret) = (
        xml_text(&created, "AccessKeyId").to_owned(),
        xml_text(&created, "SecretAccessKey").to_owned(),
    );
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"*",
         "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
        {"Effect":"Deny","Action":"aps:ListScrapers","Resource":"*",
         "Condition":{"Bool":{"aws:SecureTransport":"false"}}},
        {"Effect":"Allow","Action":"aps:ListScrapers","Resource":"*"}]}"#;
    let (s, body) = t
        .iam(&[
            ("Action", "PutUserPolicy"),
            ("UserName", "ops"),
            ("PolicyName", "net"),
            ("PolicyDocument", policy),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let from = |ip: [u8; 4]| {
        let t = &t;
        let (key_id, secret) = (&key_id, &secret);
        async move {
            let req = Request::get("/workspaces").body(Body::empty()).unwrap();
            let mut req = signed(req, key_id, secret, "aps").await;
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
            t.raw(req).await
        }
    };
    assert_eq!(from([10, 1, 2, 3]).await.status, StatusCode::OK);
    assert_eq!(
        from([192, 168, 0, 1]).await.error_type(),
        "AccessDeniedException"
    );
    let r = t
        .call_as(&key_id, &secret, Method::GET, "/scrapers", None)
        .await;
    assert_eq!(r.error_type(), "AccessDeniedException");

    // IAM calls of a user are authorized too, and denials use the query protocol's code.
    let form = "Action=CreateUser&Version=2010-05-08&UserName=mallory";
    let req = Request::post("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let res = t
        .app
        .clone()
        .oneshot(signed(req, &key_id, &secret, "iam").await)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(body.contains("iam:CreateUser on resource: arn:aws:iam::123456789012:user/mallory"));
    let (s, body) = t
        .iam(&[("Action", "CreateAccessKey"), ("UserName", "ops")])
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(body.contains("<Code>LimitExceeded</Code>"), "{body}");
    let (_, body) = t.iam(&[("Action", "ListPolicies"), ("Scope", "AWS")]).await;
    assert!(body.contains("<PolicyName>AmazonPrometheusQueryAccess</PolicyName>"));
    let (s, body) = t
        .iam(&[
            ("Action", "PutUserPolicy"),
            ("UserName", "ops"),
            ("PolicyName", "bad"),
            ("PolicyDocument", "{\"Statement\": 5}"),
        ])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("<Code>MalformedPolicyDocument</Code>"),
        "{body}"
    );
}

#[tokio::test]
async fn managed_policy_versions() {
    let t = test_app().await;
    let v1 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"*"}]}"#;
    let v2 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:List*","Resource":"*"}]}"#;
    let (s, body) = t
        .iam(&[
            ("Action", "CreatePolicy"),
            ("PolicyName", "lists"),
            ("PolicyDocument", v1),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let arn = xml_text(&body, "Arn").to_owned();
    assert_eq!(arn, "arn:aws:iam::123456789012:policy/lists");
    let (s, body) = t
        .iam(&[
            ("Action", "CreatePolicyVersion"),
            ("PolicyArn", &arn),
            ("PolicyDocument", v2),
            ("SetAsDefault", "true"),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(xml_text(&body, "VersionId"), "v2");
    let (_, body) = t.iam(&[("Action", "GetPolicy"), ("PolicyArn", &arn)]).await;
    assert_eq!(xml_text(&body, "DefaultVersionId"), "v2");
    let (_, body) = t
        .iam(&[
            ("Action", "GetPolicyVersion"),
            ("PolicyArn", &arn),
            ("VersionId", "v1"),
        ])
        .await;
    assert_eq!(xml_text(&body, "IsDefaultVersion"), "false");
    assert!(xml_text(&body, "Document").contains("aps%3AListWorkspaces"));
    let (_, body) = t
        .iam(&[("Action", "ListPolicyVersions"), ("PolicyArn", &arn)])
        .await;
    assert_eq!(body.matches("<VersionId>").count(), 2);
    let (s, body) = t
        .iam(&[("Action", "DeletePolicy"), ("PolicyArn", &arn)])
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(body.contains("<Code>DeleteConflict</Code>"));
    let (s, _) = t
        .iam(&[
            ("Action", "DeletePolicyVersion"),
            ("PolicyArn", &arn),
            ("VersionId", "v1"),
        ])
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = t
        .iam(&[("Action", "DeletePolicy"), ("PolicyArn", &arn)])
        .await;
    assert_eq!(s, StatusCode::OK);

    let aws = "arn:aws:iam::aws:policy/AmazonPrometheusRemoteWriteAccess";
    let (s, body) = t
        .iam(&[
            ("Action", "GetPolicyVersion"),
            ("PolicyArn", aws),
            ("VersionId", "v1"),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(xml_text(&body, "Document").contains("aps%3ARemoteWrite"));
    let (s, body) = t
        .iam(&[
            ("Action", "CreatePolicyVersion"),
            ("PolicyArn", aws),
            ("PolicyDocument", v1),
        ])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("<Code>InvalidInput</Code>"));
}

#[tokio::test]
async fn group_policies_apply_to_members() {
    let t = test_app().await;
    for params in [
        &[("Action", "CreateUser"), ("UserName", "dana")][..],
        &[("Action", "CreateGroup"), ("GroupName", "readers")],
        &[
            ("Action", "AddUserToGroup"),
            ("GroupName", "readers"),
            ("UserName", "dana"),
        ],
        &[
            ("Action", "PutGroupPolicy"),
            ("GroupName", "readers"),
            ("PolicyName", "list"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"*"}]}"#,
            ),
        ],
    ] {
        let (s, body) = t.iam(params).await;
        assert_eq!(s, StatusCode::OK, "{params:?}: {body}");
    }
    let (_, body) = t
        .iam(&[("Action", "GetGroup"), ("GroupName", "readers")])
        .await;
    assert!(body.contains("<GroupName>readers</GroupName>"), "{body}");
    assert!(body.contains("<UserName>dana</UserName>"), "{body}");
    let (_, body) = t
        .iam(&[("Action", "ListGroupsForUser"), ("UserName", "dana")])
        .await;
    assert!(
        body.contains("<Arn>arn:aws:iam::123456789012:group/readers</Arn>"),
        "{body}"
    );
    let (_, created) = t
        .iam(&[("Action", "CreateAccessKey"), ("UserName", "dana")])
        .await;
    let (key_id, secret) = (
        xml_text(&created, "AccessKeyId"),
        xml_text(&created, "SecretAccessKey"),
    );
    let r = t
        .call_as(key_id, secret, Method::GET, "/workspaces", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let (s, body) = t
        .iam(&[("Action", "DeleteGroup"), ("GroupName", "readers")])
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    let (s, _) = t
        .iam(&[
            ("Action", "RemoveUserFromGroup"),
            ("GroupName", "readers"),
            ("UserName", "dana"),
        ])
        .await;
    assert_eq!(s, StatusCode::OK);
    let r = t
        .call_as(key_id, secret, Method::GET, "/workspaces", None)
        .await;
    assert_eq!(r.error_type(), "AccessDeniedException");
    let (s, body) = t
        .iam(&[
            ("Action", "GetGroupPolicy"),
            ("GroupName", "readers"),
            ("PolicyName", "list"),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(xml_text(&body, "GroupName"), "readers");
}

#[tokio::test]
async fn request_tags_and_tag_keys_reach_conditions() {
    let t = test_app().await;
    let ws = t.active_workspace().await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["aps:TagResource","aps:UntagResource"],"Resource":"*"},
        {"Effect":"Deny","Action":"aps:TagResource","Resource":"*",
         "Condition":{"StringEquals":{"aws:RequestTag/env":"prod"}}},
        {"Effect":"Deny","Action":"aps:UntagResource","Resource":"*",
         "Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"owner"}}}]}"#;
    for params in [
        &[("Action", "CreateUser"), ("UserName", "tagger")][..],
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "tagger"),
            ("PolicyName", "tags"),
            ("PolicyDocument", policy),
        ],
    ] {
        let (s, body) = t.iam(params).await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    let (_, created) = t
        .iam(&[("Action", "CreateAccessKey"), ("UserName", "tagger")])
        .await;
    let (key_id, secret) = (
        xml_text(&created, "AccessKeyId"),
        xml_text(&created, "SecretAccessKey"),
    );
    let path = tag_path(&format!(
        "arn:aws:aps:us-east-1:123456789012:workspace/{ws}"
    ));
    let tag = |env: &'static str| {
        t.call_as(
            key_id,
            secret,
            Method::POST,
            &path,
            Some(json!({"tags": {"env": env}})),
        )
    };
    assert_eq!(tag("dev").await.status, StatusCode::OK);
    assert_eq!(tag("prod").await.error_type(), "AccessDeniedException");
    for (key, denied) in [("env", false), ("owner", true)] {
        let uri = format!("{path}?tagKeys={key}");
        let r = t.call_as(key_id, secret, Method::DELETE, &uri, None).await;
        assert_eq!(
            r.error_type() == "AccessDeniedException",
            denied,
            "{key}: {}",
            r.body
        );
    }
}
