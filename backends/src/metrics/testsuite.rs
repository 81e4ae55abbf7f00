//! Conformance suite every [`MetricsBackend`] implementation must pass.
//!
//! Each function takes a fresh, empty backend. [`crate::metrics_backend_conformance`] expands to
//! one `#[tokio::test]` per function for a given factory, so the local backend and any other
//! implementation run exactly the same assertions.

// This module only exists for tests: failing an assertion is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use ampd_promql::{PointValue, Value};
use ampd_remote_write::{
    BucketSpan, Histogram, HistogramCounts, Label, MetricKind, MetricMetadata, ResetHint, Sample,
    Series, WriteBatch,
};

use crate::metrics::{
    InstantQuery, MetricsBackend, MetricsErrorKind, QueryData, QueryLimits, RangeQuery, TenantId,
    TenantSettings, TimeRange,
};
use crate::model::LabelSetLimit;

/// A backend under test plus whatever must live as long as it (e.g. a temporary directory).
pub struct Harness {
    /// The backend.
    pub backend: Arc<dyn MetricsBackend>,
    /// Dropped with the harness.
    pub keep: Box<dyn std::any::Any + Send>,
}

/// Expands to one test per conformance check; `$make` is an async fn returning a [`Harness`].
#[macro_export]
macro_rules! metrics_backend_conformance {
    ($make:path) => {
        $crate::metrics_backend_conformance!(@tests $make;
            write_then_query, tenants_are_isolated, delete_tenant_removes_data,
            rejected_samples_are_counted, out_of_order_window_is_settable,
            series_and_labels_with_matchers, native_histograms_round_trip,
            staleness_marker_ends_series, metadata_is_recorded, bad_queries_are_bad_data,
            usage_is_metered, active_series_limits_refuse_new_series);
    };
    (@tests $make:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let h = $make().await;
                $crate::metrics_testsuite::$name(h.backend.clone()).await;
            }
        )*
    };
}

/// Minutes as ms, for readable timestamps.
const MIN: i64 = 60_000;

/// A float series with samples `(t, v)`.
pub fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> Series {
    Series {
        labels: labels.iter().map(|(n, v)| Label::new(*n, *v)).collect(),
        samples: samples
            .iter()
            .map(|&(timestamp, value)| Sample { timestamp, value })
            .collect(),
        ..Series::default()
    }
}

fn batch(series: Vec<Series>) -> WriteBatch {
    WriteBatch {
        series,
        metadata: vec![],
    }
}

fn tenant(id: &str) -> TenantId {
    TenantId::new(id)
}

async fn instant(b: &dyn MetricsBackend, t: &TenantId, expr: &str, at: i64) -> QueryData {
    b.query(
        t,
        InstantQuery {
            expr: expr.into(),
            time_ms: at,
            timeout: None,
            limits: QueryLimits::default(),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// The float values of an instant vector result, in result order.
fn floats(d: &QueryData) -> Vec<f64> {
    match &d.value {
        Value::Vector(v) => v
            .iter()
            .map(|s| match &s.value {
                PointValue::Float(f) => *f,
                PointValue::Histogram(_) => panic!("float expected"),
            })
            .collect(),
        Value::Scalar(s) => vec![s.v],
        other => panic!("vector expected, got {other:?}"),
    }
}

async fn write_up(b: &dyn MetricsBackend, t: &TenantId) {
    let out = b
        .write(
            t,
            batch(vec![
                series(
                    &[("__name__", "up"), ("job", "api")],
                    &[(0, 1.0), (MIN, 0.0), (2 * MIN, 1.0)],
                ),
                series(
                    &[("__name__", "up"), ("job", "web")],
                    &[(0, 1.0), (MIN, 1.0), (2 * MIN, 1.0)],
                ),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(out.samples, 6);
    assert_eq!(out.rejected(), 0);
}

pub async fn write_then_query(b: Arc<dyn MetricsBackend>) {
    let t = tenant("ws-write");
    write_up(&*b, &t).await;

    let d = instant(&*b, &t, "sum(up)", MIN).await;
    assert_eq!(floats(&d), vec![1.0]);
    assert!(d.stats.samples_processed > 0);

    let d = instant(&*b, &t, r#"up{job="api"}"#, 2 * MIN).await;
    assert_eq!(floats(&d), vec![1.0]);

    let d = b
        .query_range(
            &t,
            RangeQuery {
                expr: "sum(up)".into(),
                start_ms: 0,
                end_ms: 2 * MIN,
                step_ms: MIN,
                timeout: None,
                limits: QueryLimits::default(),
            },
        )
        .await
        .unwrap();
    let Value::Matrix(m) = &d.value else {
        panic!("matrix expected, got {:?}", d.value)
    };
    assert_eq!(m.len(), 1);
    let got: Vec<(i64, f64)> = m[0].floats.iter().map(|p| (p.t, p.f)).collect();
    assert_eq!(got, vec![(0, 2.0), (MIN, 1.0), (2 * MIN, 2.0)]);
}

pub async fn tenants_are_isolated(b: Arc<dyn MetricsBackend>) {
    let (a, other) = (tenant("ws-a"), tenant("ws-b"));
    write_up(&*b, &a).await;
    assert_eq!(floats(&instant(&*b, &a, "count(up)", MIN).await), vec![2.0]);
    assert!(floats(&instant(&*b, &other, "up", MIN).await).is_empty());
    let names = b.label_names(&other, &[], TimeRange::ALL).await.unwrap();
    assert!(names.is_empty(), "{names:?}");
}

pub async fn delete_tenant_removes_data(b: Arc<dyn MetricsBackend>) {
    let t = tenant("ws-delete");
    write_up(&*b, &t).await;
    b.delete_tenant(&t).await.unwrap();
    assert!(floats(&instant(&*b, &t, "up", MIN).await).is_empty());
    // The id can be used again from scratch.
    write_up(&*b, &t).await;
    assert_eq!(floats(&instant(&*b, &t, "count(up)", MIN).await), vec![2.0]);
    // Deleting a tenant that holds nothing succeeds.
    b.delete_tenant(&tenant("ws-never")).await.unwrap();
}

pub async fn rejected_samples_are_counted(b: Arc<dyn MetricsBackend>) {
    let t = tenant("ws-reject");
    b.set_limits(
        &t,
        TenantSettings {
            retention: Duration::from_secs(86_400),
            out_of_order_window: Duration::ZERO,
            max_active_series: None,
            label_set_limits: Vec::new(),
        },
    )
    .await
    .unwrap();
    let l = [("__name__", "m")];
    b.write(&t, batch(vec![series(&l, &[(10 * MIN, 1.0)])]))
        .await
        .unwrap();
    let out = b
        .write(
            &t,
            batch(vec![series(
                &l,
                &[(5 * MIN, 1.0), (10 * MIN, 2.0), (11 * MIN, 3.0)],
            )]),
        )
        .await
        .unwrap();
    assert_eq!(out.out_of_order, 1, "{out:?}");
    assert_eq!(out.duplicate, 1, "{out:?}");
    assert_eq!(out.samples, 1, "the valid sample is kept: {out:?}");
    assert!(out.rejection_message().is_some());
    assert_eq!(floats(&instant(&*b, &t, "m", 11 * MIN).await), vec![3.0]);
    // Writing the same value again is not a duplicate (idempotent retries).
    let out = b
        .write(&t, batch(vec![series(&l, &[(11 * MIN, 3.0)])]))
        .await
        .unwrap();
    assert_eq!(out.rejected(), 0, "{out:?}");
}

pub async fn out_of_order_window_is_settable(b: Arc<dyn MetricsBackend>) {
    let t = tenant("ws-ooo");
    let l = [("__name__", "m")];
    b.set_limits(
        &t,
        TenantSettings {
            retention: Duration::from_secs(86_400),
            out_of_order_window: Duration::from_secs(600),
            max_active_series: None,
            label_set_limits: Vec::new(),
        },
    )
    .await
    .unwrap();
    b.write(&t, batch(vec![series(&l, &[(10 * MIN, 1.0)])]))
        .await
        .unwrap();
    let out = b
        .write(&t, batch(vec![series(&l, &[(5 * MIN, 2.0)])]))
        .await
        .unwrap();
    assert_eq!(out.rejected(), 0, "{out:?}");
    assert_eq!(floats(&instant(&*b, &t, "m", 5 * MIN).await), vec![2.0]);
    b.set_limits(
        &t,
        TenantSettings {
            retention: Duration::from_secs(86_400),
            out_of_order_window: Duration::ZERO,
            max_active_series: None,
            label_set_limits: Vec::new(),
        },
    )
    .await
    .unwrap();
    let out = b
        .write(&t, batch(vec![series(&l, &[(6 * MIN, 2.0)])]))
        .await
        .unwrap();
    assert_eq!(out.out_of_order, 1, "{out:?}");
}

pub async fn series_and_labels_with_matchers(b: Arc<dyn MetricsBackend>) {
    let t = tenant("ws-labels");
    write_up(&*b, &t).await;
    b.write(
        &t,
        batch(vec![series(
            &[
                ("__name__", "http_requests_total"),
                ("job", "api"),
                ("code", "200"),
            ],
            &[(0, 1.0)],
        )]),
    )
    .await
    .unwrap();

    let s = b
        .series(&t, &[r#"up{job=~"a.*"}"#.into()], TimeRange::ALL)
        .await
        .unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].get("job"), Some("api"));
    // Several selectors are OR-ed and the result deduplicated.
    let s = b
        .series(
            &t,
            &[r#"{job="api"}"#.into(), "http_requests_total".into()],
            TimeRange::ALL,
        )
        .await
        .unwrap();
    assert_eq!(s.len(), 2);
    // A range without samples selects nothing.
    let later = TimeRange {
        start_ms: 60 * MIN,
        end_ms: 61 * MIN,
    };
    assert!(
        b.series(&t, &["up".into()], later)
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(
        b.label_names(&t, &[], TimeRange::ALL).await.unwrap(),
        vec!["__name__", "code", "job"]
    );
    assert_eq!(
        b.label_names(&t, &["up".into()], TimeRange::ALL)
            .await
            .unwrap(),
        vec!["__name__", "job"]
    );
    assert_eq!(
        b.label_values(&t, "job", &[], TimeRange::ALL)
            .await
            .unwrap(),
        vec!["api", "web"]
    );
    assert_eq!(
        b.label_values(&t, "__name__", &[r#"{job="api"}"#.into()], TimeRange::ALL)
            .await
            .unwrap(),
        vec!["http_requests_total", "up"]
    );
    let e = b
        .series(&t, &["up{".into()], TimeRange::ALL)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), MetricsErrorKind::BadData);
}

/// A native histogram with `n` observations of 1.0 in one positive bucket.
fn histogram(timestamp: i64, n: u64, float: bool) -> Histogram {
    let counts = if float {
        HistogramCounts::Float {
            count: n as f64,
            zero_count: 0.0,
            negative_counts: vec![],
            positive_counts: vec![n as f64],
        }
    } else {
        HistogramCounts::Int {
            count: n,
            zero_count: 0,
            negative_deltas: vec![],
            positive_deltas: vec![n as i64],
        }
    };
    Histogram {
        timestamp,
        counts,
        sum: n as f64,
        schema: 0,
        zero_threshold: 1e-128,
        negative_spans: vec![],
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: 1,
        }],
        reset_hint: ResetHint::Unknown,
        custom_values: vec![],
    }
}

pub async fn native_histograms_round_trip(b: Arc<dyn MetricsBackend>) {
    let t = tenant("ws-hist");
    let mut int = series(&[("__name__", "latency_seconds")], &[]);
    int.histograms = vec![histogram(0, 4, false), histogram(MIN, 10, false)];
    let mut float = series(&[("__name__", "latency_float")], &[]);
    float.histograms = vec![histogram(0, 3, true)];
    let out = b.write(&t, batch(vec![int, float])).await.unwrap();
    assert_eq!(out.histograms, 3, "{out:?}");
    let d = instant(&*b, &t, "histogram_count(latency_seconds)", MIN).await;
    assert_eq!(floats(&d), vec![10.0]);
    let d = instant(&*b, &t, "histogram_sum(latency_seconds)", MIN).await;
    assert_eq!(floats(&d), vec![10.0]);
    let d = instant(&*b, &t, "histogram_count(latency_float)", 0).await;
    assert_eq!(floats(&d), vec![3.0]);
    let d = instant(&*b, &t, "histogram_count(latency_seconds)", 0).await;
    assert_eq!(floats(&d), vec![4.0]);
    let d = instant(&*b, &t, "histogram_quantile(0.5, latency_seconds)", MIN).await;
    assert_eq!(floats(&d).len(), 1);
}

pub async fn staleness_marker_ends_series(b: Arc<dyn MetricsBackend>) {
    let t = tenant("ws-stale");
    let stale = f64::from_bits(ampd_remote_write::STALE_NAN_BITS);
    b.write(
        &t,
        batch(vec![series(
            &[("__name__", "m")],
            &[(0, 1.0), (MIN, stale)],
        )]),
    )
    .await
    .unwrap();
    assert_eq!(floats(&instant(&*b, &t, "m", 30_000).await), vec![1.0]);
    // Within the lookback window of the older sample, but after the marker: gone.
    assert!(floats(&instant(&*b, &t, "m", MIN + 30_000).await).is_empty());
}

pub async fn metadata_is_recorded(b: Arc<dyn MetricsBackend>) {
    let t = tenant("ws-meta");
    let mut w = batch(vec![series(&[("__name__", "reqs_total")], &[(0, 1.0)])]);
    for name in ["reqs_total", "temp"] {
        w.metadata.push(MetricMetadata {
            metric_family_name: name.into(),
            kind: if name == "temp" {
                MetricKind::Gauge
            } else {
                MetricKind::Counter
            },
            help: format!("{name} help"),
            unit: String::new(),
        });
    }
    b.write(&t, w).await.unwrap();
    let all = b.metadata(&t, None, None).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all["reqs_total"][0].metric_type, "counter");
    assert_eq!(all["temp"][0].help, "temp help");
    let one = b.metadata(&t, Some("temp"), None).await.unwrap();
    assert_eq!(one.keys().collect::<Vec<_>>(), vec!["temp"]);
    assert_eq!(b.metadata(&t, None, Some(1)).await.unwrap().len(), 1);
}

pub async fn bad_queries_are_bad_data(b: Arc<dyn MetricsBackend>) {
    let t = tenant("ws-bad");
    let e = b
        .query(
            &t,
            InstantQuery {
                expr: "sum(".into(),
                time_ms: 0,
                timeout: None,
                limits: QueryLimits::default(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), MetricsErrorKind::BadData);
    let e = b
        .query_range(
            &t,
            RangeQuery {
                expr: "up".into(),
                start_ms: 0,
                end_ms: MIN,
                step_ms: 0,
                timeout: None,
                limits: QueryLimits::default(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), MetricsErrorKind::BadData);
    write_up(&*b, &t).await;
    let e = b
        .query_range(
            &t,
            RangeQuery {
                expr: "up".into(),
                start_ms: 0,
                end_ms: 2 * MIN,
                step_ms: 1_000,
                timeout: None,
                limits: QueryLimits {
                    max_samples: Some(1),
                    ..QueryLimits::default()
                },
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), MetricsErrorKind::TooManySamples);
}

pub async fn usage_is_metered(b: Arc<dyn MetricsBackend>) {
    let t = tenant("ws-usage");
    assert_eq!(b.usage(&t).await.unwrap().samples_ingested, 0);
    write_up(&*b, &t).await;
    let d = instant(&*b, &t, "up", MIN).await;
    let u = b.usage(&t).await.unwrap();
    assert_eq!(u.active_series, 2);
    assert_eq!(u.samples_ingested, 6);
    assert_eq!(u.query_samples_processed, d.stats.samples_processed);
    assert!(u.query_samples_processed > 0);
}

pub async fn active_series_limits_refuse_new_series(b: Arc<dyn MetricsBackend>) {
    let t = tenant("ws-series-limits");
    let settings = |max_active_series| TenantSettings {
        retention: Duration::from_secs(86_400),
        out_of_order_window: Duration::ZERO,
        max_active_series,
        label_set_limits: vec![LabelSetLimit {
            label_set: [("team".to_owned(), "a".to_owned())].into(),
            max_series: Some(1),
        }],
    };
    b.set_limits(&t, settings(Some(3))).await.unwrap();
    let team = |name, team| [("__name__", name), ("team", team)];
    let out = b
        .write(
            &t,
            batch(vec![
                series(&team("x", "a"), &[(MIN, 1.0)]),
                series(&team("y", "a"), &[(MIN, 1.0)]),
                series(&team("x", "b"), &[(MIN, 1.0)]),
            ]),
        )
        .await
        .unwrap();
    assert_eq!((out.samples, out.series_limited), (2, 1), "{out:?}");
    let message = out.limit_message().unwrap();
    assert!(message.contains(r#"{team="a"}"#), "{message}");
    assert!(out.rejection_message().is_none(), "{out:?}");
    let out = b
        .write(
            &t,
            batch(vec![
                series(&team("y", "b"), &[(2 * MIN, 1.0)]),
                series(&team("z", "b"), &[(2 * MIN, 1.0)]),
                series(&team("x", "a"), &[(2 * MIN, 2.0)]),
            ]),
        )
        .await
        .unwrap();
    // The third series fits, the fourth is over the total; known series always pass.
    assert_eq!((out.samples, out.series_limited), (2, 1), "{out:?}");
    assert!(
        out.limit_message().unwrap().contains("limit of 3"),
        "{out:?}"
    );
    assert_eq!(
        floats(&instant(&*b, &t, "count({team!=\"\"})", 2 * MIN).await),
        vec![3.0]
    );
    b.set_limits(&t, settings(None)).await.unwrap();
    let out = b
        .write(&t, batch(vec![series(&team("z", "b"), &[(3 * MIN, 1.0)])]))
        .await
        .unwrap();
    assert_eq!((out.samples, out.series_limited), (1, 0), "{out:?}");
}
