//! Data-plane routes: remote write and the query API, their answers and error shapes.

use std::time::{SystemTime, UNIX_EPOCH};

use ampd_remote_write::{Label, Protocol, Sample, Series, WriteBatch, encode};

use super::*;

struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

async fn send(t: &TestApp, req: Request<Body>, key_id: &str, secret: &str) -> Raw {
    let req = signed(req, key_id, secret, "aps").await;
    let res = t.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Raw {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn write_request(ws: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(format!("/workspaces/{ws}/api/v1/remote_write"))
        .header("content-type", content_type)
        .header("content-encoding", "snappy")
        .header("x-prometheus-remote-write-version", "0.1.0")
        .body(Body::from(body))
        .unwrap()
}

/// A whole second close to now, so the sample is inside any writable range.
fn recent_ms() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(now.as_secs()).unwrap() * 1000 - 60_000
}

fn batch(value: f64, t: i64) -> WriteBatch {
    WriteBatch {
        series: vec![Series {
            labels: vec![Label::new("__name__", "up"), Label::new("job", "node")],
            samples: vec![Sample {
                timestamp: t,
                value,
            }],
            ..Series::default()
        }],
        metadata: vec![],
    }
}

#[tokio::test]
async fn remote_write_then_query() {
    let t = test_app().await;
    let ws = t.active_workspace().await;
    let ts = recent_ms();
    let body = encode(&batch(1.0, ts), Protocol::V1).unwrap();
    let r = send(
        &t,
        write_request(&ws, Protocol::V1.content_type(), body),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let uri = format!("/workspaces/{ws}/api/v1/query?query=up&time={}", ts / 1000);
    let r = send(
        &t,
        Request::get(uri).body(Body::empty()).unwrap(),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"__name__": "up", "job": "node"}, "value": [ts / 1000, "1"]}
        ]}})
    );

    // Form POST of a range query.
    let form = format!(
        "query=up&start={}&end={}&step=30s",
        ts / 1000 - 30,
        ts / 1000
    );
    let req = Request::post(format!("/workspaces/{ws}/api/v1/query_range"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let r = send(&t, req, ROOT_KEY_ID, ROOT_SECRET).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["data"]["resultType"], "matrix");
    assert_eq!(
        r.json()["data"]["result"][0]["values"],
        json!([[ts / 1000, "1"]])
    );

    // The same timestamp with another value is rejected; v2 answers carry the counts.
    let body = encode(&batch(2.0, ts), Protocol::V2).unwrap();
    let r = send(
        &t,
        write_request(&ws, Protocol::V2.content_type(), body),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.body,
        "1 samples rejected: duplicate sample for timestamp (1)\n"
    );
    assert_eq!(r.headers["x-prometheus-remote-write-samples-written"], "0");
    let body = encode(&batch(3.0, ts + 1000), Protocol::V2).unwrap();
    let r = send(
        &t,
        write_request(&ws, Protocol::V2.content_type(), body),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(r.headers["x-prometheus-remote-write-samples-written"], "1");
    assert_eq!(
        r.headers["x-prometheus-remote-write-exemplars-written"],
        "0"
    );
}

#[tokio::test]
async fn remote_write_errors_are_plain_text() {
    let t = test_app().await;
    let ws = t.active_workspace().await;
    let r = send(
        &t,
        write_request(&ws, "text/plain", b"x".to_vec()),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let r = send(
        &t,
        write_request(&ws, "application/x-protobuf", b"not snappy".to_vec()),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(!r.body.trim().is_empty());

    // Unknown workspace and unauthorized callers get AWS-style errors.
    let r = send(
        &t,
        write_request(
            "ws-00000000-0000-0000-0000-000000000000",
            "application/x-protobuf",
            vec![],
        ),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(r.headers["x-amzn-errortype"], "ResourceNotFoundException");

    let (s, _) = t
        .iam(&[("Action", "CreateUser"), ("UserName", "reader")])
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = t
        .iam(&[("Action", "CreateAccessKey"), ("UserName", "reader")])
        .await;
    assert_eq!(s, StatusCode::OK);
    let key_id = xml_text(&body, "AccessKeyId").to_owned();
    let secret = xml_text(&body, "SecretAccessKey").to_owned();
    let r = send(
        &t,
        write_request(&ws, "application/x-protobuf", vec![]),
        &key_id,
        &secret,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.headers["x-amzn-errortype"], "AccessDeniedException");
    assert!(
        r.json()["message"].as_str().unwrap().contains(&format!(
            "aps:RemoteWrite on resource: arn:aws:aps:us-east-1:123456789012:workspace/{ws}"
        )),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn query_errors_use_the_prometheus_envelope() {
    let t = test_app().await;
    let ws = t.active_workspace().await;
    let get = |q: &str| {
        Request::get(format!("/workspaces/{ws}/api/v1/{q}"))
            .body(Body::empty())
            .unwrap()
    };
    let r = send(&t, get("query?query=sum(up"), ROOT_KEY_ID, ROOT_SECRET).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.json()["status"], "error");
    assert_eq!(r.json()["errorType"], "bad_data");
    let r = send(
        &t,
        get("query_range?query=up&start=0&end=100000&step=1"),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["error"],
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query \
         resolution (?step=XX)"
    );
    let r = send(
        &t,
        get("query?query=up&time=later"),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    assert_eq!(r.json()["errorType"], "bad_data");
}

#[tokio::test]
async fn workspaces_being_created_cannot_take_data() {
    let t = test_app().await;
    let r = t
        .call(Method::POST, "/workspaces", Some(json!({"alias": "new"})))
        .await;
    let ws = r.body["workspaceId"].as_str().unwrap().to_owned();
    let r = send(
        &t,
        write_request(&ws, "application/x-protobuf", vec![]),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.headers["x-amzn-errortype"], "ConflictException");
}

#[tokio::test]
async fn series_endpoints_answer_in_prometheus_shapes() {
    let t = test_app().await;
    let ws = t.active_workspace().await;
    let ts = recent_ms();
    let mut b = batch(1.0, ts);
    b.metadata = vec![ampd_remote_write::MetricMetadata {
        kind: ampd_remote_write::MetricKind::Gauge,
        metric_family_name: "up".into(),
        help: "Target is up.".into(),
        unit: String::new(),
    }];
    let body = encode(&b, Protocol::V1).unwrap();
    let r = send(
        &t,
        write_request(&ws, Protocol::V1.content_type(), body),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let get = |q: &str| {
        Request::get(format!("/workspaces/{ws}/api/v1/{q}"))
            .body(Body::empty())
            .unwrap()
    };
    let data = |r: Raw| {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["status"], "success");
        r.json()["data"].clone()
    };
    let r = send(&t, get("series?match[]=up"), ROOT_KEY_ID, ROOT_SECRET).await;
    assert_eq!(data(r), json!([{"__name__": "up", "job": "node"}]));
    let r = send(&t, get("labels"), ROOT_KEY_ID, ROOT_SECRET).await;
    assert_eq!(data(r), json!(["__name__", "job"]));
    let r = send(&t, get("label/job/values"), ROOT_KEY_ID, ROOT_SECRET).await;
    assert_eq!(data(r), json!(["node"]));
    let r = send(&t, get("metadata"), ROOT_KEY_ID, ROOT_SECRET).await;
    assert_eq!(
        data(r),
        json!({"up": [{"type": "gauge", "help": "Target is up.", "unit": ""}]})
    );
    let r = send(&t, get("status/buildinfo"), ROOT_KEY_ID, ROOT_SECRET).await;
    assert_eq!(data(r)["version"], "3.0.0");
    let r = send(
        &t,
        get("format_query?query=sum(up)by(job)"),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    assert_eq!(data(r), json!("sum by (job) (up)"));
    let r = send(
        &t,
        get(&format!("query?query=up&time={}&stats=all", ts / 1000)),
        ROOT_KEY_ID,
        ROOT_SECRET,
    )
    .await;
    let samples = data(r)["stats"]["samples"].clone();
    assert_eq!(samples["totalQueryableSamples"], 1);
    assert_eq!(
        samples["totalQueryableSamplesPerStep"],
        json!([[ts / 1000, 1]])
    );
    let r = send(&t, get("series"), ROOT_KEY_ID, ROOT_SECRET).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "no match[] parameter provided");
}
