//! Parity with Prometheus' own rule engine: ampd evaluates a rule set over input series, and
//! `promtool test rules` (Prometheus 2.42 from Debian) checks every recorded sample and every
//! firing alert ampd produced, minute by minute. Skipped when promtool is not installed.
//!
//! Range selectors use windows that no sample sits on the left edge of: Prometheus 3 (whose
//! semantics ampd's engine follows) made ranges left-open, 2.42's are closed, and this test is
//! about rule evaluation, not that change.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use ampd_backends::{InstantQuery, LocalBackend, LocalOptions, MetricsBackend, TenantId};
use ampd_promql::{PointValue, Value};
use ampd_remote_write::{Label, Sample, Series, WriteBatch};

use super::file::parse_rule_file;
use super::group::{AlertRuleState, EvalContext, Group};

const RULES: &str = r#"groups:
  - name: parity
    interval: 1m
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - record: job:requests:rate2m
        expr: sum by (job) (rate(requests_total[90s]))
        labels: {source: rules}
      - alert: InstanceDown
        expr: up == 0
        for: 2m
        labels: {severity: page, host: "{{ $labels.instance }}"}
        annotations:
          summary: "{{ $labels.instance }} of {{ $labels.job }} is down"
          value: "{{ $value }}"
      - alert: HighRate
        expr: job:requests:rate2m > 1
        keep_firing_for: 2m
        annotations:
          rate: "{{ $value | humanize }} req/s"
          pct: "{{ humanizePercentage 0.25 }}"
"#;

/// Input series in promtool's expanding notation, one value per minute from 0 to 12m.
const INPUT: &[(&str, &str)] = &[
    (r#"up{job="api",instance="a"}"#, "1 1 0 0 0 0 1 1 0 0 0 1 1"),
    (r#"up{job="api",instance="b"}"#, "1 1 1 1 1 1 1 1 1 1 1 1 1"),
    (r#"up{job="db",instance="c"}"#, "0 0 0 0 1 1 1 0 0 0 0 0 0"),
    (r#"requests_total{job="api"}"#, "0+30x5 150+200x3 750+10x4"),
];

const MINUTES: i64 = 12;

fn expand_values(spec: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for item in spec.split_whitespace() {
        match item.split_once('+') {
            Some((start, rest)) => {
                let (step, times) = rest.split_once('x').unwrap();
                let (start, step, times): (f64, f64, usize) = (
                    start.parse().unwrap(),
                    step.parse().unwrap(),
                    times.parse().unwrap(),
                );
                for i in 0..=times {
                    out.push(start + step * i as f64);
                }
            }
            None => out.push(item.parse().unwrap()),
        }
    }
    out
}

fn series_labels(selector: &str) -> Vec<Label> {
    let (name, rest) = selector.split_once('{').unwrap();
    let mut labels = vec![Label::new("__name__", name)];
    for pair in rest.trim_end_matches('}').split(',') {
        let (k, v) = pair.split_once('=').unwrap();
        labels.push(Label::new(k, v.trim_matches('"')));
    }
    labels.sort();
    labels
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

#[tokio::test]
async fn promtool_agrees_with_ampd_evaluation() {
    if std::process::Command::new("promtool")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("promtool is not installed; skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let metrics: Arc<dyn MetricsBackend> = Arc::new(
        LocalBackend::new(
            &dir.path().join("tsdb"),
            LocalOptions::default(),
            Arc::new(ampd_tsdb::IdentitySealer),
        )
        .unwrap(),
    );
    let tenant = TenantId::new("ws-parity");
    let batch = WriteBatch {
        series: INPUT
            .iter()
            .map(|(sel, values)| Series {
                labels: series_labels(sel),
                samples: expand_values(values)
                    .into_iter()
                    .enumerate()
                    .map(|(i, value)| Sample {
                        timestamp: i as i64 * 60_000,
                        value,
                    })
                    .collect(),
                ..Series::default()
            })
            .collect(),
        metadata: Vec::new(),
    };
    metrics.write(&tenant, batch).await.unwrap();

    let spec = parse_rule_file(RULES.as_bytes()).unwrap().remove(0);
    let group = Group::new("parity".into(), spec, None);
    let ctx = EvalContext {
        external_labels: Default::default(),
        external_url: String::new(),
        resend_delay_ms: 60_000,
        outage_tolerance_ms: 3_600_000,
    };
    let mut exprs = String::new();
    let mut alerts = String::new();
    for minute in 0..=MINUTES {
        let ts = minute * 60_000;
        group.evaluate(&*metrics, &tenant, ts, &ctx).await;
        for record in ["job:up:sum", "job:requests:rate2m"] {
            let data = metrics
                .query(
                    &tenant,
                    InstantQuery {
                        expr: record.into(),
                        time_ms: ts,
                        timeout: None,
                        limits: Default::default(),
                    },
                )
                .await
                .unwrap();
            let Value::Vector(samples) = data.value else {
                panic!("not a vector")
            };
            let _ = writeln!(
                exprs,
                "      - expr: {record}\n        eval_time: {minute}m\n        exp_samples:"
            );
            for s in samples {
                let PointValue::Float(v) = s.value else {
                    panic!("histogram")
                };
                let _ = writeln!(
                    exprs,
                    "          - labels: {}\n            value: {v}",
                    quote(&s.labels.to_string())
                );
            }
            if exprs.ends_with("exp_samples:\n") {
                exprs.push_str("          []\n");
            }
        }
        let st = group.lock();
        for (i, rule) in st.rules.iter().enumerate() {
            let super::file::RuleKind::Alerting { alert, .. } = &rule.spec.kind else {
                continue;
            };
            assert_eq!(
                rule.health,
                super::group::RuleHealth::Ok,
                "rule {i}: {:?}",
                rule.last_error
            );
            let _ = writeln!(
                alerts,
                "      - eval_time: {minute}m\n        alertname: {alert}\n        exp_alerts:"
            );
            for a in rule
                .active
                .values()
                .filter(|a| a.state == AlertRuleState::Firing)
            {
                let map = |m: &BTreeMap<String, String>| {
                    m.iter()
                        .map(|(k, v)| format!("{k}: {}", quote(v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let _ = writeln!(
                    alerts,
                    "          - exp_labels: {{{}}}\n            exp_annotations: {{{}}}",
                    // promtool adds `alertname` itself.
                    map(&a
                        .labels
                        .iter()
                        .filter(|(k, _)| *k != "alertname")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()),
                    map(&a.annotations)
                );
            }
            if alerts.ends_with("exp_alerts:\n") {
                alerts.push_str("          []\n");
            }
        }
    }
    assert!(
        alerts.contains("HighRate") && alerts.contains("exp_labels"),
        "{alerts}"
    );
    let input: String = INPUT
        .iter()
        .map(|(s, v)| {
            format!(
                "      - series: {}\n        values: {}\n",
                quote(s),
                quote(v)
            )
        })
        .collect();
    let test = format!(
        "rule_files: [rules.yaml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{input}    promql_expr_test:\n{exprs}    alert_rule_test:\n{alerts}"
    );
    std::fs::write(dir.path().join("rules.yaml"), RULES).unwrap();
    std::fs::write(dir.path().join("test.yaml"), &test).unwrap();
    let out = std::process::Command::new("promtool")
        .args(["test", "rules", "test.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool disagrees:\n{}\n{}\n{test}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
