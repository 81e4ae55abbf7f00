//! End-to-end behaviour of the Alertmanager handle: grouping and timing on a manual clock,
//! suppression, restarts, and real HTTP deliveries to local webhook and SNS endpoints.
// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use ampd_rules::{
    AlertFilter, AlertState, Alertmanager, ManualClock, Matcher, NotifySettings, PostableAlert,
    PostableSilence, WireMatcher, validate_definition,
};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-11-24 10:00 UTC);

#[derive(Debug, Clone)]
struct Request {
    headers: HeaderMap,
    body: String,
}

#[derive(Debug, Default)]
struct Sink {
    requests: Mutex<Vec<Request>>,
    /// Statuses to answer with, in order; 200 once exhausted.
    statuses: Mutex<VecDeque<u16>>,
}

impl Sink {
    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    fn webhook_bodies(&self) -> Vec<Value> {
        self.requests()
            .iter()
            .map(|r| serde_json::from_str(&r.body).unwrap())
            .collect()
    }
}

async fn capture(State(sink): State<Arc<Sink>>, headers: HeaderMap, body: String) -> StatusCode {
    sink.requests
        .lock()
        .unwrap()
        .push(Request { headers, body });
    let status = sink.statuses.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

/// Starts a capturing HTTP server on 127.0.0.1 at a random port in 20000-60000.
async fn start_sink() -> (SocketAddr, Arc<Sink>) {
    let sink = Arc::new(Sink::default());
    let app = Router::new()
        .route("/{*path}", post(capture))
        .route("/", post(capture))
        .with_state(sink.clone());
    let random = RandomState::new();
    for attempt in 0u64.. {
        let port = 20_000 + (random.hash_one(attempt) % 40_000) as u16;
        if let Ok(listener) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            return (addr, sink);
        }
    }
    unreachable!()
}

fn settings() -> NotifySettings {
    NotifySettings {
        max_attempts: 3,
        initial_backoff: StdDuration::from_millis(1),
        max_backoff: StdDuration::from_millis(2),
        external_url: "http://ampd.test/workspaces/ws-1/alertmanager".into(),
        ..NotifySettings::default()
    }
}

fn alert(pairs: &[(&str, &str)]) -> PostableAlert {
    PostableAlert {
        labels: pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        annotations: [("summary".to_owned(), "something broke".to_owned())].into(),
        starts_at: None,
        ends_at: None,
        generator_url: Some("http://prometheus/graph".into()),
    }
}

fn resolved(pairs: &[(&str, &str)], at: OffsetDateTime) -> PostableAlert {
    PostableAlert {
        ends_at: Some(at),
        ..alert(pairs)
    }
}

struct Harness {
    am: Alertmanager,
    clock: Arc<ManualClock>,
    sink: Arc<Sink>,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn new(inner_config: &str) -> Self {
        let (addr, sink) = start_sink().await;
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let am = Alertmanager::new(
            definition(inner_config, addr),
            dir.path(),
            clock.clone(),
            settings(),
        )
        .unwrap();
        Self {
            am,
            clock,
            sink,
            _dir: dir,
        }
    }

    /// Moves the clock to `T0 + offset` and flushes.
    async fn tick_at(&self, offset: Duration) -> ampd_rules::TickReport {
        self.clock.set(T0 + offset);
        self.am.tick().await.unwrap()
    }
}

/// Wraps an inner config whose `{addr}` placeholders become the sink address.
fn definition(inner: &str, addr: SocketAddr) -> ampd_rules::Definition {
    let inner = inner.replace("{addr}", &addr.to_string());
    let indented: String = inner.lines().map(|l| format!("  {l}\n")).collect();
    validate_definition(format!("alertmanager_config: |\n{indented}").as_bytes()).unwrap()
}

const GROUPING: &str = r#"
global: {resolve_timeout: 24h}
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{url: 'http://{addr}/hook'}]
"#;

#[tokio::test]
async fn group_wait_interval_repeat_and_resolve() {
    let h = Harness::new(GROUPING).await;
    h.am.put_alerts(vec![alert(&[("alertname", "Disk"), ("instance", "a")])])
        .unwrap();
    assert_eq!(h.tick_at(Duration::ZERO).await.sent, 0);
    h.clock.set(T0 + Duration::seconds(10));
    h.am.put_alerts(vec![alert(&[("alertname", "Disk"), ("instance", "b")])])
        .unwrap();
    assert_eq!(h.tick_at(Duration::seconds(29)).await.flushed_groups, 0);

    // group_wait elapsed: one notification holding both alerts.
    assert_eq!(h.tick_at(Duration::seconds(30)).await.sent, 1);
    let bodies = h.sink.webhook_bodies();
    assert_eq!(bodies.len(), 1);
    let b = &bodies[0];
    assert_eq!(b["version"], "4");
    assert_eq!(b["status"], "firing");
    assert_eq!(b["receiver"], "hook");
    assert_eq!(b["groupKey"], r#"{}:{alertname="Disk"}"#);
    assert_eq!(b["groupLabels"], serde_json::json!({"alertname": "Disk"}));
    assert_eq!(b["commonLabels"], serde_json::json!({"alertname": "Disk"}));
    assert_eq!(
        b["commonAnnotations"],
        serde_json::json!({"summary": "something broke"})
    );
    assert_eq!(
        b["externalURL"],
        "http://ampd.test/workspaces/ws-1/alertmanager"
    );
    assert_eq!(b["truncatedAlerts"], 0);
    let alerts = b["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0]["labels"]["instance"], "a");
    assert_eq!(alerts[0]["status"], "firing");
    assert_eq!(alerts[0]["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(alerts[0]["startsAt"], "2026-11-24T10:00:00Z");
    assert_eq!(alerts[0]["generatorURL"], "http://prometheus/graph");
    assert_eq!(alerts[0]["fingerprint"].as_str().unwrap().len(), 16);
    assert_eq!(
        b["alerts"][0]["fingerprint"],
        h.am.alerts(&AlertFilter::default())[0].fingerprint
    );

    // Nothing new: flushes every group_interval stay quiet until repeat_interval.
    assert_eq!(h.tick_at(Duration::minutes(3)).await.flushed_groups, 0);
    let r = h
        .tick_at(Duration::seconds(30) + Duration::minutes(5))
        .await;
    assert_eq!((r.flushed_groups, r.sent), (1, 0));

    // A new alert in the group goes out at the next group_interval, not before.
    h.clock.set(T0 + Duration::minutes(6));
    h.am.put_alerts(vec![alert(&[("alertname", "Disk"), ("instance", "c")])])
        .unwrap();
    assert_eq!(h.tick_at(Duration::minutes(7)).await.sent, 0);
    assert_eq!(
        h.tick_at(Duration::seconds(30) + Duration::minutes(10))
            .await
            .sent,
        1
    );
    assert_eq!(
        h.sink.webhook_bodies()[1]["alerts"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // repeat_interval (1h) after the last notification, the same content is sent again.
    assert_eq!(
        h.tick_at(Duration::seconds(30) + Duration::minutes(65))
            .await
            .sent,
        0
    );
    assert_eq!(
        h.tick_at(Duration::seconds(30) + Duration::minutes(70))
            .await
            .sent,
        1
    );

    // Resolving everything sends a resolved notification, then the group disappears.
    h.clock.set(T0 + Duration::minutes(71));
    let now = T0 + Duration::minutes(71);
    h.am.put_alerts(
        ["a", "b", "c"]
            .iter()
            .map(|i| resolved(&[("alertname", "Disk"), ("instance", i)], now))
            .collect(),
    )
    .unwrap();
    assert!(h.am.alerts(&AlertFilter::default()).is_empty());
    assert_eq!(
        h.tick_at(Duration::seconds(30) + Duration::minutes(75))
            .await
            .sent,
        1
    );
    let last = h.sink.webhook_bodies().pop().unwrap();
    assert_eq!(last["status"], "resolved");
    assert_eq!(last["alerts"][0]["endsAt"], "2026-11-24T11:11:00Z");
    assert!(h.am.alert_groups(&AlertFilter::default()).is_empty());
    assert_eq!(
        h.tick_at(Duration::seconds(30) + Duration::minutes(80))
            .await
            .flushed_groups,
        0
    );
    assert_eq!(h.sink.requests().len(), 4);
}

#[tokio::test]
async fn alerts_resolve_after_resolve_timeout() {
    let h = Harness::new(&GROUPING.replace("resolve_timeout: 24h", "resolve_timeout: 5m")).await;
    h.am.put_alerts(vec![alert(&[("alertname", "Gone")])])
        .unwrap();
    assert_eq!(h.tick_at(Duration::seconds(30)).await.sent, 1);
    // Never re-sent by the client: resolved 5m after it was received.
    assert_eq!(h.am.alerts(&AlertFilter::default()).len(), 1);
    h.clock.set(T0 + Duration::minutes(5));
    assert!(h.am.alerts(&AlertFilter::default()).is_empty());
    assert_eq!(
        h.tick_at(Duration::seconds(30) + Duration::minutes(5))
            .await
            .sent,
        1
    );
    assert_eq!(h.sink.webhook_bodies()[1]["status"], "resolved");
}

const ROUTED: &str = r#"
global: {resolve_timeout: 24h}
route:
  receiver: default
  group_by: ['...']
  group_wait: 10s
  routes:
    - matchers: ['severity="page"']
      receiver: pager
      continue: true
    - matchers: ['team="db"']
      receiver: db
      mute_time_intervals: [always]
inhibit_rules:
  - source_matchers: ['severity="page"']
    target_matchers: ['severity="warning"']
    equal: [cluster]
receivers:
  - name: default
    webhook_configs: [{url: 'http://{addr}/default'}]
  - name: pager
    webhook_configs: [{url: 'http://{addr}/pager'}]
  - name: db
    webhook_configs: [{url: 'http://{addr}/db'}]
time_intervals:
  - name: always
    time_intervals: [{}]
"#;

#[tokio::test]
async fn silences_inhibition_and_time_muting_suppress_notifications() {
    let h = Harness::new(ROUTED).await;
    h.am.put_alerts(vec![
        alert(&[
            ("alertname", "Down"),
            ("severity", "page"),
            ("cluster", "c1"),
        ]),
        alert(&[
            ("alertname", "Slow"),
            ("severity", "warning"),
            ("cluster", "c1"),
        ]),
        alert(&[
            ("alertname", "Slow"),
            ("severity", "warning"),
            ("cluster", "c2"),
        ]),
        alert(&[("alertname", "Lag"), ("team", "db")]),
    ])
    .unwrap();
    let silence = PostableSilence {
        id: None,
        matchers: vec![WireMatcher {
            name: "cluster".into(),
            value: "c2".into(),
            is_regex: false,
            is_equal: true,
        }],
        starts_at: T0,
        ends_at: T0 + Duration::hours(1),
        created_by: "ops".into(),
        comment: "maintenance".into(),
    };
    let silence_id = h.am.put_silence(silence).unwrap();

    let all = h.am.alerts(&AlertFilter::default());
    assert_eq!(all.len(), 4);
    let by_name = |name: &str, cluster: Option<&str>| {
        all.iter()
            .find(|a| {
                a.labels["alertname"] == name
                    && cluster
                        .is_none_or(|c| a.labels.get("cluster").map(String::as_str) == Some(c))
            })
            .unwrap()
            .clone()
    };
    let down = by_name("Down", None);
    assert_eq!(down.status.state, AlertState::Active);
    let names: Vec<&str> = down.receivers.iter().map(|r| r.name.as_str()).collect();
    // `continue` tries later siblings, but the root is only a fallback when no child matched.
    assert_eq!(names, ["pager"]);
    let inhibited = by_name("Slow", Some("c1"));
    assert_eq!(inhibited.status.state, AlertState::Suppressed);
    assert_eq!(
        inhibited.status.inhibited_by,
        vec![down.fingerprint.clone()]
    );
    let silenced = by_name("Slow", Some("c2"));
    assert_eq!(silenced.status.silenced_by, vec![silence_id.clone()]);
    assert_eq!(
        by_name("Lag", None).status.muted_by,
        vec!["always".to_owned()]
    );

    let only_active = AlertFilter {
        silenced: false,
        inhibited: false,
        muted: false,
        ..AlertFilter::default()
    };
    assert_eq!(h.am.alerts(&only_active).len(), 1);
    let filtered = AlertFilter {
        matchers: Matcher::parse_list(r#"alertname=~"S.*""#).unwrap(),
        ..AlertFilter::default()
    };
    assert_eq!(h.am.alerts(&filtered).len(), 2);
    let to_db = AlertFilter {
        receiver: Some(AlertFilter::receiver_regex("d.").unwrap()),
        ..AlertFilter::default()
    };
    assert_eq!(h.am.alert_groups(&to_db).len(), 1);

    // Only the unsuppressed page goes out.
    assert_eq!(h.tick_at(Duration::seconds(10)).await.sent, 1);
    assert_eq!(h.sink.webhook_bodies()[0]["receiver"], "pager");

    // Expiring the silence lets its alert through at the group's next flush.
    h.clock.set(T0 + Duration::minutes(1));
    h.am.expire_silence(&silence_id).unwrap();
    let again = h.am.expire_silence(&silence_id).unwrap_err();
    assert_eq!(again.kind(), ampd_rules::ErrorKind::BadRequest);
    assert_eq!(
        h.am.expire_silence("no-such-id").unwrap_err().kind(),
        ampd_rules::ErrorKind::NotFound
    );
    let bad = h.am.put_alerts(vec![alert(&[])]).unwrap_err();
    assert_eq!(bad.kind(), ampd_rules::ErrorKind::BadRequest);
    assert_eq!(
        h.am.get_silence(&silence_id).unwrap().status.state,
        ampd_rules::SilenceState::Expired
    );
    assert_eq!(
        h.tick_at(Duration::seconds(10) + Duration::minutes(5))
            .await
            .sent,
        1
    );
    let last = h.sink.webhook_bodies().pop().unwrap();
    assert_eq!(last["receiver"], "default");
    assert_eq!(last["alerts"][0]["labels"]["cluster"], "c2");
}

#[tokio::test]
async fn notification_log_prevents_duplicates_after_restart() {
    let (addr, sink) = start_sink().await;
    let dir = tempfile::tempdir().unwrap();
    let open = |clock: Arc<ManualClock>| {
        Alertmanager::new(definition(GROUPING, addr), dir.path(), clock, settings()).unwrap()
    };
    let clock = Arc::new(ManualClock::new(T0));
    let am = open(clock.clone());
    am.put_alerts(vec![alert(&[("alertname", "Disk")])])
        .unwrap();
    clock.set(T0 + Duration::seconds(30));
    assert_eq!(am.tick().await.unwrap().sent, 1);
    drop(am);

    // The client re-sends the alert to the restarted Alertmanager; the group flushes at once
    // (the alert is older than group_wait) but the log shows it was already notified.
    let clock = Arc::new(ManualClock::new(T0 + Duration::minutes(2)));
    let am = open(clock.clone());
    let mut again = alert(&[("alertname", "Disk")]);
    again.starts_at = Some(T0);
    am.put_alerts(vec![again.clone()]).unwrap();
    let r = am.tick().await.unwrap();
    assert_eq!((r.flushed_groups, r.sent), (1, 0));
    assert_eq!(sink.requests().len(), 1);

    // A fresh state directory has no log, so the same alert is notified again.
    let other = tempfile::tempdir().unwrap();
    let am =
        Alertmanager::new(definition(GROUPING, addr), other.path(), clock, settings()).unwrap();
    am.put_alerts(vec![again]).unwrap();
    assert_eq!(am.tick().await.unwrap().sent, 1);
}

#[tokio::test]
async fn webhook_retries_server_errors_and_sends_auth() {
    let config = GROUPING.replace(
        "webhook_configs: [{url: 'http://{addr}/hook'}]",
        "webhook_configs: [{url: 'http://{addr}/hook', max_alerts: 1, http_config: {basic_auth: {username: u, password: p}}}]",
    );
    let h = Harness::new(&config).await;
    h.sink.statuses.lock().unwrap().extend([503, 500]);
    h.am.put_alerts(vec![
        alert(&[("alertname", "A"), ("i", "1")]),
        alert(&[("alertname", "A"), ("i", "2")]),
    ])
    .unwrap();
    let r = h.tick_at(Duration::seconds(30)).await;
    assert_eq!((r.sent, r.failed), (1, 0));
    let requests = h.sink.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2].headers["authorization"], "Basic dTpw");
    let body: Value = serde_json::from_str(&requests[2].body).unwrap();
    assert_eq!(body["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(body["truncatedAlerts"], 1);

    // A client error is not retried, and the failed group is tried again next interval.
    h.clock.set(T0 + Duration::minutes(1));
    h.am.put_alerts(vec![alert(&[("alertname", "A"), ("i", "3")])])
        .unwrap();
    h.sink.statuses.lock().unwrap().push_back(400);
    let r = h
        .tick_at(Duration::seconds(30) + Duration::minutes(5))
        .await;
    assert_eq!((r.sent, r.failed), (0, 1));
    assert_eq!(h.sink.requests().len(), 4);
    assert_eq!(
        h.tick_at(Duration::seconds(30) + Duration::minutes(10))
            .await
            .sent,
        1
    );
}

#[tokio::test]
async fn sns_publish_is_form_encoded_and_sigv4_signed() {
    let config = r#"
route: {receiver: sns, group_by: [alertname], group_wait: 0s}
receivers:
  - name: sns
    sns_configs:
      - topic_arn: arn:aws:sns:eu-west-1:123456789012:alerts
        api_url: 'http://{addr}/'
        sigv4: {access_key: AKIDEXAMPLE, secret_key: wJalrXUtnFEMI}
        subject: '{{ .Status | toUpper }} {{ .GroupLabels.alertname }}'
        attributes: {team: infra}
"#;
    let h = Harness::new(config).await;
    h.am.put_alerts(vec![alert(&[("alertname", "CPU"), ("instance", "a")])])
        .unwrap();
    assert_eq!(h.tick_at(Duration::seconds(1)).await.sent, 1);
    let req = h.sink.requests().pop().unwrap();
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&req.body).unwrap();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("Action"), Some("Publish"));
    assert_eq!(get("Version"), Some("2010-03-31"));
    assert_eq!(
        get("TopicArn"),
        Some("arn:aws:sns:eu-west-1:123456789012:alerts")
    );
    assert_eq!(get("Subject"), Some("FIRING CPU"));
    assert!(get("Message").unwrap().contains(" - instance = a"));
    assert_eq!(get("MessageAttributes.entry.1.Name"), Some("team"));
    assert_eq!(
        get("MessageAttributes.entry.1.Value.StringValue"),
        Some("infra")
    );
    assert_eq!(
        req.headers["content-type"],
        "application/x-www-form-urlencoded; charset=utf-8"
    );
    assert_eq!(req.headers["x-amz-date"], "20261124T100001Z");
    let auth = req.headers["authorization"].to_str().unwrap();
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/eu-west-1/sns/aws4_request, SignedHeaders=").unwrap();
    let (signed, signature) = rest.split_once(", Signature=").unwrap();
    let signed: Vec<&str> = signed.split(';').collect();
    assert!(
        signed.contains(&"host")
            && signed.contains(&"x-amz-date")
            && signed.contains(&"content-type"),
        "{signed:?}"
    );
    assert_eq!(signature.len(), 64);
    assert!(
        signature
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert!(!auth.contains("wJalrXUtnFEMI"));
    assert_eq!(
        signature,
        expected_signature(&req, &signed, "wJalrXUtnFEMI", "20261124", "eu-west-1")
    );
}

/// Recomputes the SigV4 signature of a captured `POST /` from the SigV4 specification, as an
/// independent check of what the signing library produced.
fn expected_signature(
    req: &Request,
    signed: &[&str],
    secret: &str,
    date: &str,
    region: &str,
) -> String {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let hmac = |key: &[u8], data: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    };
    let canonical_headers: String = signed
        .iter()
        .map(|h| format!("{h}:{}\n", req.headers[*h].to_str().unwrap().trim()))
        .collect();
    let canonical = format!(
        "POST\n/\n\n{canonical_headers}\n{}\n{}",
        signed.join(";"),
        hex::encode(Sha256::digest(req.body.as_bytes()))
    );
    let amz_date = req.headers["x-amz-date"].to_str().unwrap();
    let scope = format!("{date}/{region}/sns/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), date);
    for part in [region, "sns", "aws4_request"] {
        key = hmac(&key, part);
    }
    hex::encode(hmac(&key, &to_sign))
}

#[tokio::test]
async fn apply_keeps_alerts_and_silences_and_reroutes() {
    let h = Harness::new(GROUPING).await;
    h.am.put_alerts(vec![alert(&[("alertname", "Disk"), ("team", "db")])])
        .unwrap();
    let silence_id =
        h.am.put_silence(PostableSilence {
            id: None,
            matchers: vec![WireMatcher {
                name: "team".into(),
                value: "web".into(),
                is_regex: false,
                is_equal: true,
            }],
            starts_at: T0,
            ends_at: T0 + Duration::hours(1),
            created_by: "a".into(),
            comment: "c".into(),
        })
        .unwrap();
    assert_eq!(h.tick_at(Duration::seconds(30)).await.sent, 1);

    let (addr, _other) = start_sink().await;
    let rerouted = GROUPING.replace(
        "repeat_interval: 1h",
        "repeat_interval: 1h\n  routes: [{matchers: ['team=\"db\"'], receiver: db}]",
    ) + "  - name: db\n    webhook_configs: [{url: 'http://{addr}/db'}]\n";
    h.am.apply(definition(&rerouted, addr)).unwrap();
    let alerts = h.am.alerts(&AlertFilter::default());
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].receivers[0].name, "db");
    assert_eq!(h.am.silences(&[])[0].id, silence_id);
    let names: Vec<String> = h.am.receivers().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["hook", "db"]);
    assert!(h.am.status().config.original.contains("name: db"));
}

#[tokio::test]
async fn active_time_intervals_hold_notifications_until_the_window_opens() {
    let config = r#"
global: {resolve_timeout: 48h}
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  routes:
    - matchers: [team=office]
      receiver: hook
      active_time_intervals: [office-hours]
receivers:
  - name: hook
    webhook_configs: [{url: 'http://{addr}/hook'}]
time_intervals:
  - name: office-hours
    time_intervals:
      - times: [{start_time: '09:00', end_time: '12:00'}]
        location: Europe/Paris
"#;
    let h = Harness::new(config).await;
    // T0 is 10:00 UTC = 11:00 in Paris: inside the window.
    h.am.put_alerts(vec![alert(&[("alertname", "A"), ("team", "office")])])
        .unwrap();
    assert_eq!(h.tick_at(Duration::ZERO).await.sent, 1);

    // 11:30 UTC = 12:30 in Paris: outside, so the new group flushes without notifying.
    h.clock.set(T0 + Duration::minutes(90));
    h.am.put_alerts(vec![alert(&[("alertname", "B"), ("team", "office")])])
        .unwrap();
    let muted = h.am.alerts(&AlertFilter {
        muted: false,
        ..AlertFilter::default()
    });
    assert!(muted.is_empty());
    let b =
        h.am.alerts(&AlertFilter::default())
            .into_iter()
            .find(|a| a.labels["alertname"] == "B")
            .unwrap();
    assert_eq!(b.status.muted_by, vec!["office-hours".to_owned()]);
    let r = h.tick_at(Duration::minutes(90)).await;
    assert_eq!((r.flushed_groups, r.sent), (2, 0));

    // Next morning at 08:30 UTC = 09:30 in Paris the window is open again and B goes out.
    let r = h.tick_at(Duration::hours(22) + Duration::minutes(30)).await;
    assert_eq!(
        r.sent, 2,
        "B is new; A is due again after its 4h repeat interval"
    );
    let groups: Vec<String> = h
        .sink
        .webhook_bodies()
        .iter()
        .map(|b| b["groupLabels"]["alertname"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(groups.len(), 3);
    assert!(groups[1..].contains(&"B".to_owned()));
}
