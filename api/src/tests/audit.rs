//! The audit layer over the whole app: what each kind of call leaves in the trail.

use ampd_audit::{LookupAttribute, LookupEventsRequest};

use super::*;

/// Returns the records of the events named `name`, newest first.
async fn events(t: &TestApp, name: &str) -> Vec<Value> {
    t.trail.flush_index().await.unwrap();
    let response = t
        .trail
        .lookup_events(&LookupEventsRequest {
            lookup_attributes: Some(vec![LookupAttribute {
                attribute_key: "EventName".into(),
                attribute_value: name.into(),
            }]),
            ..Default::default()
        })
        .await
        .unwrap();
    response
        .events
        .iter()
        .map(|e| serde_json::from_str(&e.cloud_trail_event).unwrap())
        .collect()
}

/// Creates an IAM user with an access key and no policy; returns the key id and secret.
async fn powerless_user(t: &TestApp, name: &str) -> (String, String) {
    let (s, body) = t.iam(&[("Action", "CreateUser"), ("UserName", name)]).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = t
        .iam(&[("Action", "CreateAccessKey"), ("UserName", name)])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    (
        xml_text(&body, "AccessKeyId").to_owned(),
        xml_text(&body, "SecretAccessKey").to_owned(),
    )
}

#[tokio::test]
async fn control_plane_calls_are_recorded_before_the_answer() {
    let t = test_app().await;
    let req = Request::post("/workspaces")
        .header("content-type", "application/json")
        .header("user-agent", "aws-cli/1.46.3")
        .extension(ConnectInfo(SocketAddr::from(([203, 0, 113, 7], 40000))))
        .extension(ampd_audit::TlsDetails {
            tls_version: "TLSv1.3".into(),
            cipher_suite: "TLS_AES_128_GCM_SHA256".into(),
            client_provided_host_header: "ampd.test".into(),
        })
        .body(Body::from(r#"{"alias":"prod","tags":{"team":"obs"}}"#))
        .unwrap();
    let r = t
        .raw(signed(req, ROOT_KEY_ID, ROOT_SECRET, "aps").await)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let ws = r.body["workspaceId"].as_str().unwrap();
    let found = events(&t, "CreateWorkspace").await;
    assert_eq!(found.len(), 1);
    let e = &found[0];
    assert_eq!(e["eventSource"], "aps.amazonaws.com");
    assert_eq!(e["userIdentity"]["type"], "Root");
    assert_eq!(e["userIdentity"]["accessKeyId"], ROOT_KEY_ID);
    assert_eq!(e["userIdentity"]["arn"], "arn:aws:iam::123456789012:root");
    assert_eq!(e["sourceIPAddress"], "203.0.113.7");
    assert_eq!(e["userAgent"], "aws-cli/1.46.3");
    assert_eq!(e["tlsDetails"]["tlsVersion"], "TLSv1.3");
    assert_eq!(
        e["requestID"],
        r.headers["x-amzn-RequestId"].to_str().unwrap()
    );
    assert_eq!(e["requestParameters"]["alias"], "prod");
    assert_eq!(e["responseElements"]["workspaceId"], ws);
    assert_eq!(e["readOnly"], false);
    assert_eq!(
        e["resources"][0]["ARN"],
        format!("arn:aws:aps:us-east-1:123456789012:workspace/{ws}")
    );
    assert!(e.get("errorCode").is_none());

    // Reads are recorded without response elements; path labels become parameters.
    t.call(Method::GET, &format!("/workspaces/{ws}"), None)
        .await;
    let e = &events(&t, "DescribeWorkspace").await[0];
    assert_eq!(e["readOnly"], true);
    assert_eq!(e["requestParameters"]["workspaceId"], ws);
    assert_eq!(e["responseElements"], Value::Null);
    // Health checks are not AWS calls.
    let health = Request::get("/healthz").body(Body::empty()).unwrap();
    t.app.clone().oneshot(health).await.unwrap();
    t.trail.flush_index().await.unwrap();
    let all = t
        .trail
        .lookup_events(&LookupEventsRequest::default())
        .await
        .unwrap();
    assert_eq!(all.events.len(), 2);
}

#[tokio::test]
async fn denied_unauthenticated_and_failed_calls_are_recorded() {
    let t = test_app().await;
    let (key_id, secret) = powerless_user(&t, "alice").await;
    let r = t
        .call_as(
            &key_id,
            &secret,
            Method::POST,
            "/workspaces",
            Some(json!({})),
        )
        .await;
    assert_eq!(r.error_type(), "AccessDeniedException");
    let e = &events(&t, "CreateWorkspace").await[0];
    assert_eq!(e["errorCode"], "AccessDeniedException");
    assert_eq!(e["userIdentity"]["type"], "IAMUser");
    assert_eq!(e["userIdentity"]["userName"], "alice");
    assert_eq!(e["userIdentity"]["accessKeyId"], key_id.as_str());
    assert!(
        e["errorMessage"]
            .as_str()
            .unwrap()
            .contains("aps:CreateWorkspace")
    );

    // The same user on IAM: a query-protocol denial.
    let req = Request::post("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("Action=ListUsers&Version=2010-05-08"))
        .unwrap();
    let res = t
        .app
        .clone()
        .oneshot(signed(req, &key_id, &secret, "iam").await)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let e = &events(&t, "ListUsers").await[0];
    assert_eq!(e["eventSource"], "iam.amazonaws.com");
    assert_eq!(e["errorCode"], "AccessDenied");
    assert_eq!(e["userIdentity"]["userName"], "alice");

    // Unsigned and wrongly signed calls: the caller is unknown, the claimed key is kept.
    let unsigned = Request::get("/workspaces").body(Body::empty()).unwrap();
    assert_eq!(t.raw(unsigned).await.status, StatusCode::FORBIDDEN);
    let r = t
        .call_as(&key_id, "wrong-secret", Method::GET, "/workspaces", None)
        .await;
    assert_eq!(r.error_type(), "InvalidSignatureException");
    // Events of one second come in no particular order.
    let found = events(&t, "ListWorkspaces").await;
    let with_code = |code: &str| found.iter().find(|e| e["errorCode"] == code).unwrap();
    let bad = with_code("InvalidSignatureException");
    assert_eq!(bad["userIdentity"]["type"], "Unknown");
    assert_eq!(bad["userIdentity"]["accessKeyId"], key_id.as_str());
    let missing = with_code("MissingAuthenticationTokenException");
    assert!(missing["userIdentity"].get("accessKeyId").is_none());

    // A handler failure.
    let r = t.call(Method::GET, "/workspaces/ws-nope", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        events(&t, "DescribeWorkspace").await[0]["errorCode"],
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn secrets_and_blobs_stay_out_of_the_trail() {
    let t = test_app().await;
    let (key_id, secret) = powerless_user(&t, "bob").await;
    let e = &events(&t, "CreateAccessKey").await[0];
    assert_eq!(e["requestParameters"]["userName"], "bob");
    assert_eq!(e["resources"][1]["ARN"], key_id.as_str());
    let ws = t.active_workspace().await;
    let rules = b64("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n");
    let r = t
        .call(
            Method::POST,
            &format!("/workspaces/{ws}/rulegroupsnamespaces"),
            Some(json!({"name": "node", "data": rules})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let e = &events(&t, "CreateRuleGroupsNamespace").await[0];
    assert_eq!(e["requestParameters"]["data"], ampd_audit::REDACTED);
    assert_eq!(e["resources"][1]["type"], "AWS::APS::RuleGroupsNamespace");
    t.trail.roll().await.unwrap();
    let dir = t._dir.path().join("audit");
    let mut files = 0;
    for path in walk(&dir) {
        let raw = std::fs::read(&path).unwrap();
        let text = if path.extension().is_some_and(|e| e == "gz") {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out)
                .unwrap();
            out
        } else {
            raw
        };
        assert!(
            !text.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{} holds the secret",
            path.display()
        );
        files += 1;
    }
    assert!(files >= 3, "{files} files");
}

/// Delivers pending events and returns every record of the trail's log files.
async fn logged(t: &TestApp) -> Vec<Value> {
    t.trail.roll().await.unwrap();
    let mut out = Vec::new();
    for path in walk(&t.trail.logs_root()) {
        let mut text = Vec::new();
        let raw = std::fs::read(&path).unwrap();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut text).unwrap();
        let doc: Value = serde_json::from_slice(&text).unwrap();
        if let Some(records) = doc["Records"].as_array() {
            out.extend(records.iter().cloned());
        }
    }
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn data_events_are_recorded_only_when_enabled() {
    let t = test_app().await;
    let ws = t.active_workspace().await;
    let query = || {
        Request::get(format!("/workspaces/{ws}/api/v1/query?query=up"))
            .body(Body::empty())
            .unwrap()
    };
    let req = signed(query(), ROOT_KEY_ID, ROOT_SECRET, "aps").await;
    assert_eq!(t.raw(req).await.status, StatusCode::OK);
    let queries = |records: Vec<Value>| {
        records
            .into_iter()
            .filter(|r| r["eventName"] == "QueryMetrics")
            .collect::<Vec<_>>()
    };
    assert!(queries(logged(&t).await).is_empty());
    t.trail.set_data_events(true);
    let req = signed(query(), ROOT_KEY_ID, ROOT_SECRET, "aps").await;
    assert_eq!(t.raw(req).await.status, StatusCode::OK);
    // Like CloudTrail's event history, lookups show management events only.
    assert!(events(&t, "QueryMetrics").await.is_empty());
    let found = queries(logged(&t).await);
    assert_eq!(found.len(), 1);
    let e = &found[0];
    assert_eq!(e["eventCategory"], "Data");
    assert_eq!(e["managementEvent"], false);
    assert_eq!(e["readOnly"], true);
    assert_eq!(
        e["requestParameters"],
        json!({"workspaceId": ws, "query": "up"})
    );
    assert_eq!(e["userIdentity"]["type"], "Root");
}

#[tokio::test]
async fn a_call_that_cannot_be_recorded_fails() {
    let t = test_app().await;
    t.trail.close().await.unwrap();
    let r = t
        .call(Method::POST, "/workspaces", Some(json!({"alias": "x"})))
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.error_type(), "InternalServerException");
    // Refused before it ran: nothing was created.
    let page = t
        .store
        .list_workspaces(None, ampd_backends::PageRequest::first(10))
        .await
        .unwrap();
    assert!(page.items.is_empty());
    let (status, body) = t.iam(&[("Action", "ListUsers")]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("<Code>ServiceFailure</Code>"), "{body}");
}

/// Calls CloudTrail on `POST /` as awsJson 1.1.
async fn cloudtrail(t: &TestApp, key: (&str, &str), op: &str, body: Value) -> (StatusCode, Value) {
    let req = Request::post("/")
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.{op}"),
        )
        .body(Body::from(body.to_string()))
        .unwrap();
    let r = t.raw(signed(req, key.0, key.1, "cloudtrail").await).await;
    (r.status, r.body)
}

#[tokio::test]
async fn lookup_events_on_the_wire() {
    let t = test_app().await;
    t.active_workspace().await;
    let (status, body) = cloudtrail(
        &t,
        (ROOT_KEY_ID, ROOT_SECRET),
        "LookupEvents",
        json!({"MaxResults": 5, "LookupAttributes": [
            {"AttributeKey": "EventName", "AttributeValue": "CreateWorkspace"}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events_found = body["Events"].as_array().unwrap();
    assert_eq!(events_found.len(), 1);
    assert_eq!(events_found[0]["Username"], "root");
    assert_eq!(events_found[0]["EventSource"], "aps.amazonaws.com");
    let (status, body) = cloudtrail(
        &t,
        (ROOT_KEY_ID, ROOT_SECRET),
        "LookupEvents",
        json!({"MaxResults": 99}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "InvalidMaxResultsException");
    let (status, body) =
        cloudtrail(&t, (ROOT_KEY_ID, ROOT_SECRET), "ListPublicKeys", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["PublicKeyList"][0]["Fingerprint"],
        t.trail.public_keys()[0].fingerprint()
    );

    // Authorized by IAM like any other call, and recorded itself.
    let (key_id, secret) = powerless_user(&t, "carol").await;
    let (status, body) = cloudtrail(&t, (&key_id, &secret), "LookupEvents", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "AccessDeniedException");
    let recorded = events(&t, "LookupEvents").await;
    assert_eq!(recorded.len(), 3);
    assert!(
        recorded
            .iter()
            .all(|e| e["eventSource"] == "cloudtrail.amazonaws.com")
    );
    let denied = recorded
        .iter()
        .find(|e| e["errorCode"] == "AccessDeniedException")
        .unwrap();
    assert_eq!(denied["userIdentity"]["userName"], "carol");
}

/// A stand-in for a service added later on `POST /`: it authenticates like every handler and
/// knows nothing of auditing.
async fn fake_service(
    axum::extract::State(auth): axum::extract::State<Arc<Authenticator>>,
    req: Request<Body>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = req.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let target = parts
        .headers
        .get("x-amz-target")
        .map(|v| v.to_str().unwrap().to_owned());
    let service = if target.is_some() { "kms" } else { "sts" };
    if auth.authenticate(&parts, &bytes, service).await.is_err() {
        return (StatusCode::FORBIDDEN, "denied").into_response();
    }
    match target.as_deref() {
        Some("TrentService.CreateKey") => axum::Json(json!({"KeyMetadata": {
            "KeyId": "k1", "Arn": "arn:aws:kms:us-east-1:123456789012:key/k1"}}))
        .into_response(),
        Some(_) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"__type": "NotFoundException", "message": "no key k2"})),
        )
            .into_response(),
        None => "<GetCallerIdentityResponse/>".into_response(),
    }
}

#[tokio::test]
async fn services_added_later_are_recorded_without_audit_code() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("metadata.db"))
        .await
        .unwrap();
    let store: Arc<dyn MetadataStore> = Arc::new(sqlite.clone());
    let identities = Arc::new(Identities::new(
        Arc::new(sqlite),
        SecretSealer::from_root(&ampd_kms::RootKey::generate().unwrap()).unwrap(),
        RootAccessKey {
            access_key_id: ROOT_KEY_ID.into(),
            secret: SecretKey::new(ROOT_SECRET),
        },
        "123456789012",
    ));
    let auth = Arc::new(Authenticator::new("us-east-1", identities, store));
    let trail = ampd_audit::Trail::open(ampd_audit::TrailConfig::new(
        dir.path().join("audit"),
        "123456789012",
        "us-east-1",
    ))
    .await
    .unwrap();
    let auditor = crate::Auditor::new(trail.clone(), "us-east-1", "123456789012");
    let app = Router::new()
        .route("/", axum::routing::post(fake_service))
        .with_state(auth)
        .layer(axum::middleware::from_fn_with_state(
            auditor,
            crate::audit::record,
        ))
        .layer(axum::middleware::from_fn(crate::trace::log_request));
    let kms = |op: &str, body: Value| {
        Request::post("/")
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("TrentService.{op}"))
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let send = |req| async {
        let req = signed(req, ROOT_KEY_ID, ROOT_SECRET, "kms").await;
        app.clone().oneshot(req).await.unwrap().status()
    };
    assert_eq!(send(kms("CreateKey", json!({}))).await, StatusCode::OK);
    let status = send(kms(
        "Encrypt",
        json!({"KeyId": "k2", "Plaintext": "c2VjcmV0"}),
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let sts = Request::post("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("Action=GetCallerIdentity&Version=2011-06-15"))
        .unwrap();
    let sts = signed(sts, ROOT_KEY_ID, ROOT_SECRET, "sts").await;
    assert_eq!(
        app.clone().oneshot(sts).await.unwrap().status(),
        StatusCode::OK
    );

    trail.flush_index().await.unwrap();
    let all = trail
        .lookup_events(&LookupEventsRequest::default())
        .await
        .unwrap();
    let record = |name: &str| -> Value {
        let e = all.events.iter().find(|e| e.event_name == name).unwrap();
        serde_json::from_str(&e.cloud_trail_event).unwrap()
    };
    let created = record("CreateKey");
    assert_eq!(created["eventSource"], "kms.amazonaws.com");
    assert_eq!(created["userIdentity"]["type"], "Root");
    assert_eq!(created["responseElements"]["KeyMetadata"]["KeyId"], "k1");
    assert_eq!(
        created["resources"][0]["ARN"],
        "arn:aws:kms:us-east-1:123456789012:key/k1"
    );
    let failed = record("Encrypt");
    assert_eq!(failed["errorCode"], "NotFoundException");
    assert_eq!(failed["readOnly"], true);
    assert_eq!(
        failed["requestParameters"]["plaintext"],
        ampd_audit::REDACTED
    );
    assert_eq!(failed["requestParameters"]["keyId"], "k2");
    let sts = record("GetCallerIdentity");
    assert_eq!(sts["eventSource"], "sts.amazonaws.com");
    assert_eq!(sts["userIdentity"]["accessKeyId"], ROOT_KEY_ID);
}
