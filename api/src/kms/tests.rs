//! The KMS API and sealed workspaces through the whole app, with a KMS clock the tests move.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ampd_backends::{MetadataStore, MetricsBackend, SqliteStore, TenantKeys};
use ampd_iam::SecretKey;
use ampd_iam::sigv4::{SigningCredentials, sign_request};
use ampd_kms::{RootKey, TestClock};
use ampd_remote_write::{Label, Protocol, Sample, Series, WriteBatch, encode};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::macros::datetime;
use tower::ServiceExt;

use super::*;
use crate::{
    ControlSettings, ControlState, DataState, Identities, PageTokens, RootAccessKey, SecretSealer,
    app, open_sealed_metrics,
};

const ACCOUNT: &str = "123456789012";
const ROOT_ID: &str = "AKIAKMSTESTROOT00001";
const ROOT_SECRET: &str = "kms-test-root-secret";

struct Harness {
    app: Router,
    store: SqliteStore,
    keys: Arc<WorkspaceKeys>,
    tenants: Arc<TenantKeys>,
    clock: Arc<TestClock>,
    dir: tempfile::TempDir,
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    code: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("metadata.db"))
        .await
        .unwrap();
    let store: Arc<dyn MetadataStore> = Arc::new(sqlite.clone());
    let root = RootKey::generate().unwrap();
    let identities = Arc::new(Identities::new(
        Arc::new(sqlite.clone()),
        SecretSealer::from_root(&root).unwrap(),
        RootAccessKey {
            access_key_id: ROOT_ID.into(),
            secret: SecretKey::new(ROOT_SECRET),
        },
        ACCOUNT,
    ));
    let authenticator = Arc::new(Authenticator::new("us-east-1", identities, store.clone()));
    let clock = Arc::new(TestClock::new(datetime!(2026-03-01 12:00 UTC)));
    let kms = open_service(dir.path(), "us-east-1", root, clock.clone())
        .await
        .unwrap();
    let tenants = Arc::new(TenantKeys::new());
    let local = Arc::new(open_sealed_metrics(dir.path(), tenants.clone()).unwrap());
    let keys = Arc::new(WorkspaceKeys::new(
        kms,
        Arc::new(sqlite.clone()),
        tenants.clone(),
        local.clone(),
        ACCOUNT,
    ));
    let metrics: Arc<dyn MetricsBackend> = local;
    let store: Arc<dyn MetadataStore> = Arc::new(SealedDefinitions::new(store, keys.clone()));
    let data = DataState::new(
        authenticator.clone(),
        store.clone(),
        metrics,
        "us-east-1",
        ACCOUNT,
    )
    .with_workspace_keys(keys.clone());
    let settings = ControlSettings {
        region: "us-east-1".into(),
        account_id: ACCOUNT.into(),
        external_url: "http://ampd.test".into(),
        max_workspaces: 10,
    };
    let control = ControlState::new(
        settings,
        authenticator,
        store.clone(),
        PageTokens::from_key([2; 32]),
    )
    .with_workspace_keys(keys.clone());
    let trail = ampd_audit::Trail::open(ampd_audit::TrailConfig::new(
        dir.path().join("audit"),
        ACCOUNT,
        "us-east-1",
    ))
    .await
    .unwrap();
    Harness {
        app: app(
            store,
            control,
            data,
            crate::Auditor::new(trail, "us-east-1", ACCOUNT),
        ),
        store: sqlite,
        keys,
        tenants,
        clock,
        dir,
    }
}

impl Harness {
    async fn send(&self, req: Request<Body>, key: (&str, &str), service: &str) -> Reply {
        let (mut parts, body) = req.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        parts
            .headers
            .insert("host", HeaderValue::from_static("ampd.test"));
        let creds = SigningCredentials {
            access_key_id: key.0.into(),
            secret: SecretKey::new(key.1),
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
        let res = self
            .app
            .clone()
            .oneshot(Request::from_parts(parts, Body::from(bytes)))
            .await
            .unwrap();
        let status = res.status();
        let code = res
            .headers()
            .get("x-amzn-ErrorType")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            code,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    async fn kms_as(&self, key: (&str, &str), op: &str, body: Value) -> Reply {
        let req = Request::post("/")
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("TrentService.{op}"))
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req, key, "kms").await
    }

    async fn kms(&self, op: &str, body: Value) -> Reply {
        self.kms_as((ROOT_ID, ROOT_SECRET), op, body).await
    }

    async fn ok(&self, op: &str, body: Value) -> Value {
        let r = self.kms(op, body).await;
        assert_eq!(r.status, StatusCode::OK, "{op}: {}", r.body);
        r.json()
    }

    async fn aps(&self, method: &str, uri: &str, body: Option<Value>) -> Reply {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        self.send(req, (ROOT_ID, ROOT_SECRET), "aps").await
    }

    async fn iam(&self, params: &[(&str, &str)]) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("Version", "2010-05-08");
        for (k, v) in params {
            form.append_pair(k, v);
        }
        let req = Request::post("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form.finish()))
            .unwrap();
        let r = self.send(req, (ROOT_ID, ROOT_SECRET), "iam").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
    }

    async fn create_workspace(&self, kms_key_arn: Option<&str>) -> Result<String, Reply> {
        let body = match kms_key_arn {
            Some(arn) => json!({"kmsKeyArn": arn}),
            None => json!({}),
        };
        let r = self.aps("POST", "/workspaces", Some(body)).await;
        if r.status != StatusCode::ACCEPTED {
            return Err(r);
        }
        self.store.settle(Duration::ZERO).await.unwrap();
        Ok(r.json()["workspaceId"].as_str().unwrap().to_owned())
    }

    async fn write(&self, ws: &str, value: f64, ts: i64) -> Reply {
        let batch = WriteBatch {
            series: vec![Series {
                labels: vec![
                    Label::new("__name__", "kms_sealed_metric"),
                    Label::new("job", "vault"),
                ],
                samples: vec![Sample {
                    timestamp: ts,
                    value,
                }],
                ..Series::default()
            }],
            metadata: vec![],
        };
        let req = Request::post(format!("/workspaces/{ws}/api/v1/remote_write"))
            .header("content-type", Protocol::V1.content_type())
            .header("content-encoding", "snappy")
            .header("x-prometheus-remote-write-version", "0.1.0")
            .body(Body::from(encode(&batch, Protocol::V1).unwrap()))
            .unwrap();
        self.send(req, (ROOT_ID, ROOT_SECRET), "aps").await
    }

    async fn query(&self, ws: &str, ts: i64) -> Reply {
        let uri = format!(
            "/workspaces/{ws}/api/v1/query?query=kms_sealed_metric&time={}",
            ts / 1000
        );
        self.aps("GET", &uri, None).await
    }

    async fn values(&self, ws: &str, ts: i64) -> Vec<String> {
        let r = self.query(ws, ts).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["value"][1].as_str().unwrap().to_owned())
            .collect()
    }
}

fn recent_ms() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(now.as_secs()).unwrap() * 1000 - 120_000
}

#[tokio::test]
async fn kms_api_answers_json_and_round_trips() {
    let h = harness().await;
    let key = h.ok("CreateKey", json!({"Description": "k"})).await;
    let arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    h.ok(
        "CreateAlias",
        json!({"AliasName": "alias/app", "TargetKeyId": arn}),
    )
    .await;
    let sealed = h
        .ok(
            "Encrypt",
            json!({"KeyId": "alias/app", "Plaintext": "aGVsbG8=", "EncryptionContext": {"a": "b"}}),
        )
        .await;
    let opened = h
        .ok(
            "Decrypt",
            json!({"CiphertextBlob": sealed["CiphertextBlob"], "EncryptionContext": {"a": "b"}}),
        )
        .await;
    assert_eq!(opened["Plaintext"], "aGVsbG8=");
    assert_eq!(opened["KeyId"], arn);
    let keys = h.ok("ListKeys", json!({})).await;
    assert_eq!(keys["Keys"].as_array().unwrap().len(), 1);

    let r = h
        .kms(
            "Decrypt",
            json!({"CiphertextBlob": sealed["CiphertextBlob"]}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["__type"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "InvalidCiphertextException")
    );
    let r = h.kms("CreateGrant", json!({})).await;
    assert_eq!(r.json()["__type"], "UnknownOperationException");
    let r = h.kms_as((ROOT_ID, "wrong"), "ListKeys", json!({})).await;
    assert_eq!(
        (r.status, r.json()["__type"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "InvalidSignatureException")
    );
    assert_eq!(r.code, "InvalidSignatureException");
}

#[tokio::test]
async fn users_need_identity_policies_for_kms_actions() {
    let h = harness().await;
    let key = h.ok("CreateKey", json!({})).await;
    let arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    h.iam(&[("Action", "CreateUser"), ("UserName", "app")])
        .await;
    let created = h
        .iam(&[("Action", "CreateAccessKey"), ("UserName", "app")])
        .await;
    let field = |name: &str| {
        let start = created.find(&format!("<{name}>")).unwrap() + name.len() + 2;
        let end = created.find(&format!("</{name}>")).unwrap();
        created[start..end].to_owned()
    };
    let (id, secret) = (field("AccessKeyId"), field("SecretAccessKey"));
    let user = (id.as_str(), secret.as_str());

    let r = h
        .kms_as(user, "Encrypt", json!({"KeyId": arn, "Plaintext": "eA=="}))
        .await;
    assert_eq!(r.json()["__type"], "AccessDeniedException", "{}", r.body);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("kms:Encrypt")
    );

    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:DescribeKey"], "Resource": arn},
    ]});
    h.iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "app"),
        ("PolicyName", "use-key"),
        ("PolicyDocument", &policy.to_string()),
    ])
    .await;
    let r = h
        .kms_as(user, "Encrypt", json!({"KeyId": arn, "Plaintext": "eA=="}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = h.kms_as(user, "DisableKey", json!({"KeyId": arn})).await;
    assert_eq!(r.json()["__type"], "AccessDeniedException");
    let r = h.kms_as(user, "ListKeys", json!({})).await;
    assert_eq!(r.json()["__type"], "AccessDeniedException");

    // A workspace with a customer key needs the caller's own right to use the key.
    let aps = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "aps:CreateWorkspace", "Resource": "*"},
    ]});
    h.iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "app"),
        ("PolicyName", "aps"),
        ("PolicyDocument", &aps.to_string()),
    ])
    .await;
    let create = || async {
        let req = Request::post("/workspaces")
            .header("content-type", "application/json")
            .body(Body::from(json!({"kmsKeyArn": arn}).to_string()))
            .unwrap();
        h.send(req, user, "aps").await
    };
    let r = create().await;
    assert_eq!(r.code, "AccessDeniedException", "{}", r.body);
    assert!(r.body.contains("kms:GenerateDataKey"), "{}", r.body);
    let more = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:DescribeKey", "kms:GenerateDataKey"], "Resource": arn},
    ]});
    h.iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "app"),
        ("PolicyName", "use-key"),
        ("PolicyDocument", &more.to_string()),
    ])
    .await;
    let r = create().await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
}

#[tokio::test]
async fn kms_key_arn_is_validated_on_create_workspace() {
    let h = harness().await;
    let missing =
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-4000-8000-000000000000");
    let err = h.create_workspace(Some(&missing)).await.unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str()),
        (StatusCode::BAD_REQUEST, "ValidationException")
    );
    assert!(err.body.contains("does not exist"), "{}", err.body);

    let key = h.ok("CreateKey", json!({})).await;
    let arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    let elsewhere = arn.replace("us-east-1", "eu-west-1");
    let err = h.create_workspace(Some(&elsewhere)).await.unwrap_err();
    assert_eq!(err.code, "ValidationException", "{}", err.body);

    h.ok("DisableKey", json!({"KeyId": arn})).await;
    let err = h.create_workspace(Some(&arn)).await.unwrap_err();
    assert!(err.body.contains("Disabled"), "{}", err.body);
    h.ok("EnableKey", json!({"KeyId": arn})).await;
    let ws = h.create_workspace(Some(&arn)).await.unwrap();
    let described = h.aps("GET", &format!("/workspaces/{ws}"), None).await;
    assert_eq!(described.json()["workspace"]["kmsKeyArn"], arn);
}

#[tokio::test]
async fn key_state_gates_the_data_plane_and_deletion_shreds() {
    let h = harness().await;
    let key = h.ok("CreateKey", json!({})).await;
    let arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    let ws = h.create_workspace(Some(&arn)).await.unwrap();
    let ts = recent_ms();
    let r = h.write(&ws, 42.0, ts).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(h.values(&ws, ts).await, vec!["42"]);

    // Disabled: writes and queries refused with a KMS error, and no plaintext key is kept.
    h.ok("DisableKey", json!({"KeyId": arn})).await;
    let r = h.write(&ws, 43.0, ts + 1000).await;
    assert_eq!(
        (r.status, r.code.as_str()),
        (StatusCode::BAD_REQUEST, "KMSDisabledException")
    );
    assert!(
        r.json()["message"].as_str().unwrap().contains(&arn),
        "{}",
        r.body
    );
    let r = h.query(&ws, ts).await;
    assert_eq!(r.code, "KMSDisabledException");
    h.keys.refresh().await.unwrap();
    assert!(!h.tenants.is_installed(&ws));

    // Enabled again: the data is back; rotation keeps it readable.
    h.ok("EnableKey", json!({"KeyId": arn})).await;
    assert_eq!(h.values(&ws, ts).await, vec!["42"]);
    h.ok("RotateKeyOnDemand", json!({"KeyId": arn})).await;
    h.keys.revoke(&ws).await;
    assert_eq!(h.values(&ws, ts).await, vec!["42"]);
    let r = h.write(&ws, 44.0, ts + 2000).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Pending deletion refuses like disabled; after the window the data is gone for good.
    h.ok(
        "ScheduleKeyDeletion",
        json!({"KeyId": arn, "PendingWindowInDays": 7}),
    )
    .await;
    let r = h.query(&ws, ts).await;
    assert_eq!(r.code, "KMSInvalidStateException", "{}", r.body);
    h.clock.advance(time::Duration::days(7));
    h.keys.refresh().await.unwrap();
    assert!(
        !h.dir.path().join("tsdb").join(&ws).try_exists().unwrap(),
        "tenant files remain"
    );
    assert!(
        ampd_backends::DataKeyStore::data_key(&h.store, &ws)
            .await
            .unwrap()
            .is_none()
    );
    let r = h.query(&ws, ts).await;
    assert_eq!(r.code, "KMSNotFoundException", "{}", r.body);
}

#[tokio::test]
async fn default_keys_are_service_owned_and_workspace_deletion_shreds() {
    let h = harness().await;
    let ws = h.create_workspace(None).await.unwrap();
    let ts = recent_ms();
    assert_eq!(h.write(&ws, 7.0, ts).await.status, StatusCode::OK);
    assert_eq!(h.values(&ws, ts).await, vec!["7"]);
    let aliases = h.ok("ListAliases", json!({})).await;
    assert!(aliases.to_string().contains("alias/aws/prometheus"));
    let stored = ampd_backends::DataKeyStore::data_key(&h.store, &ws)
        .await
        .unwrap()
        .unwrap();
    let managed = h
        .ok("DescribeKey", json!({"KeyId": "alias/aws/prometheus"}))
        .await;
    assert_eq!(managed["KeyMetadata"]["Arn"], stored.kms_key_arn.as_str());
    assert_eq!(managed["KeyMetadata"]["KeyManager"], "AWS");

    let r = h.aps("DELETE", &format!("/workspaces/{ws}"), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert!(
        ampd_backends::DataKeyStore::data_key(&h.store, &ws)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!h.tenants.is_installed(&ws));
    // A deleting workspace never gets a fresh data key.
    let row = h.store.workspace(&ws).await.unwrap();
    assert!(matches!(
        h.keys.unlock(&row).await,
        Err(KeyAccessError::KeyUnusable { .. })
    ));
    assert!(
        ampd_backends::DataKeyStore::data_key(&h.store, &ws)
            .await
            .unwrap()
            .is_none()
    );
}

const RULES: &str = "groups:\n  - name: vault\n    rules:\n      - record: job:vault_secret_reads:rate5m\n        expr: sum by (job) (rate(vault_secret_reads_total[5m]))\n";
const ALERTMANAGER: &str = "alertmanager_config: |\n  route:\n    receiver: vault-oncall-receiver\n  receivers:\n    - name: vault-oncall-receiver\n";

#[tokio::test]
async fn definitions_are_sealed_in_the_metadata_store() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let h = harness().await;
    let key = h.ok("CreateKey", json!({})).await;
    let arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    let ws = h.create_workspace(Some(&arn)).await.unwrap();
    let r = h
        .aps(
            "POST",
            &format!("/workspaces/{ws}/rulegroupsnamespaces"),
            Some(json!({"name": "vault", "data": b64(RULES)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let r = h
        .aps(
            "POST",
            &format!("/workspaces/{ws}/alertmanager/definition"),
            Some(json!({"data": b64(ALERTMANAGER)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    h.store.settle(Duration::ZERO).await.unwrap();

    let rules = format!("/workspaces/{ws}/rulegroupsnamespaces/vault");
    let r = h.aps("GET", &rules, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["ruleGroupsNamespace"]["data"], b64(RULES));
    let am = format!("/workspaces/{ws}/alertmanager/definition");
    let r = h.aps("GET", &am, None).await;
    assert_eq!(
        r.json()["alertManagerDefinition"]["data"],
        b64(ALERTMANAGER)
    );

    // The database files hold neither document in clear.
    let mut scanned = 0;
    for entry in std::fs::read_dir(h.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("metadata.db")
        {
            let bytes = std::fs::read(&path).unwrap();
            for needle in ["vault_secret_reads_total", "vault-oncall-receiver"] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{} holds {needle}",
                    path.display()
                );
            }
            scanned += 1;
        }
    }
    assert!(scanned >= 1);

    h.ok("DisableKey", json!({"KeyId": arn})).await;
    let r = h.aps("GET", &rules, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("is disabled"), "{}", r.body);
    h.ok("EnableKey", json!({"KeyId": arn})).await;
    let r = h.aps("GET", &rules, None).await;
    assert_eq!(r.json()["ruleGroupsNamespace"]["data"], b64(RULES));
}

#[tokio::test]
async fn key_policies_delegate_to_iam_or_name_the_caller() {
    let h = harness().await;
    let key = h.ok("CreateKey", json!({})).await;
    let arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    h.iam(&[("Action", "CreateUser"), ("UserName", "ops")])
        .await;
    let created = h
        .iam(&[("Action", "CreateAccessKey"), ("UserName", "ops")])
        .await;
    let field = |name: &str| {
        let start = created.find(&format!("<{name}>")).unwrap() + name.len() + 2;
        let end = created.find(&format!("</{name}>")).unwrap();
        created[start..end].to_owned()
    };
    let (id, secret) = (field("AccessKeyId"), field("SecretAccessKey"));
    let user = (id.as_str(), secret.as_str());
    let identity = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"},
    ]});
    h.iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "ops"),
        ("PolicyName", "encrypt"),
        ("PolicyDocument", &identity.to_string()),
    ])
    .await;
    let encrypt = json!({"KeyId": arn, "Plaintext": "eA=="});
    assert_eq!(
        h.kms_as(user, "Encrypt", encrypt.clone()).await.status,
        StatusCode::OK
    );

    // Without the delegation to the account, identity policies no longer count.
    let user_arn = format!("arn:aws:iam::{ACCOUNT}:user/ops");
    let direct = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "kms:DescribeKey", "Resource": "*"},
    ]});
    h.ok(
        "PutKeyPolicy",
        json!({"KeyId": arn, "PolicyName": "default", "Policy": direct.to_string(),
               "BypassPolicyLockoutSafetyCheck": true}),
    )
    .await;
    let r = h.kms_as(user, "Encrypt", encrypt.clone()).await;
    assert_eq!(r.json()["__type"], "AccessDeniedException", "{}", r.body);
    // The key policy alone lets the user describe the key, with no identity policy for it.
    let r = h.kms_as(user, "DescribeKey", json!({"KeyId": arn})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The root user is never locked out.
    assert_eq!(h.kms("Encrypt", encrypt).await.status, StatusCode::OK);
}
