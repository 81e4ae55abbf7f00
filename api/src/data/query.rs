//! `GET|POST /workspaces/{id}/api/v1/query` and `query_range`.
//!
//! A query holds one of its workspace's read slots while it runs, carries the configured
//! sample and series limits and a timeout (the `timeout` parameter may shorten it), and its
//! samples processed are metered by the backend. `stats=<anything>` adds Prometheus' `stats`
//! object to `data`; `stats=all` also lists the samples processed per step. `limit` keeps the
//! first series of a vector or matrix and warns that the result was truncated. AMP's
//! `max_samples_processed_error_threshold` stops a query once it has processed more samples;
//! `max_samples_processed_warning_threshold` adds a warning to an answer that processed more.

use std::time::{Duration, Instant};

use ampd_backends::{InstantQuery, MetricsErrorKind, QueryData, RangeQuery};
use ampd_promql::QueryStats;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as JsonValue, json};

use super::envelope::{ApiError, query_data, render_annotations, respond, time};
use super::gate::QuerySettings;
use super::params::{Params, duration, now_ms, timestamp};
use super::{DataState, admit};

/// Most points a range query may return per series.
const MAX_POINTS: i64 = 11_000;

/// AMP's query parameter that fails a query processing more samples.
const ERROR_THRESHOLD: &str = "max_samples_processed_error_threshold";
/// AMP's query parameter that warns about a query processing more samples.
const WARNING_THRESHOLD: &str = "max_samples_processed_warning_threshold";

/// Parses a samples-processed threshold parameter.
fn threshold(params: &Params, name: &str) -> Result<Option<u64>, ApiError> {
    match params.non_empty(name) {
        None => Ok(None),
        Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
            ApiError::bad_data(format!(
                "invalid parameter \"{name}\": cannot parse \"{v}\" to a valid number"
            ))
        }),
    }
}

/// The query's limits: the configured ones plus the request's error threshold.
fn limits(
    params: &Params,
    settings: &QuerySettings,
) -> Result<ampd_backends::QueryLimits, ApiError> {
    Ok(ampd_backends::QueryLimits {
        max_samples_processed: threshold(params, ERROR_THRESHOLD)?,
        ..settings.limits()
    })
}

/// Evaluates an instant query.
pub(super) async fn instant(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let admitted = match admit(&state, &id, req).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let params = Params::of(&admitted);
    let settings = *state.gate.settings();
    let query = match instant_query(&params, now_ms(), &settings) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let slot = match state.gate.enter(&admitted.tenant).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let expr = query.expr.clone();
    let steps = (query.time_ms, 1);
    let started = Instant::now();
    let result = state.metrics.query(&admitted.tenant, query).await;
    answer(
        result,
        &expr,
        &params,
        slot.queued,
        started.elapsed(),
        steps,
    )
}

/// Evaluates a range query.
pub(super) async fn range(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let admitted = match admit(&state, &id, req).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let params = Params::of(&admitted);
    let settings = *state.gate.settings();
    let query = match range_query(&params, &settings) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let slot = match state.gate.enter(&admitted.tenant).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let expr = query.expr.clone();
    let steps = (query.start_ms, query.step_ms);
    let started = Instant::now();
    let result = state.metrics.query_range(&admitted.tenant, query).await;
    answer(
        result,
        &expr,
        &params,
        slot.queued,
        started.elapsed(),
        steps,
    )
}

/// Renders a query result or error; `steps` is `(first evaluation time, step)` in ms.
fn answer(
    result: ampd_backends::MetricsResult<QueryData>,
    expr: &str,
    params: &Params,
    queued: Duration,
    took: Duration,
    steps: (i64, i64),
) -> Response {
    let (limit, warn_above) = match (params.limit(), threshold(params, WARNING_THRESHOLD)) {
        (Ok(l), Ok(w)) => (l, w),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let mut data = match result {
        Ok(d) => d,
        Err(e) => {
            let bad_query = e.kind() == MetricsErrorKind::BadData;
            let mut e = ApiError::from(e);
            // Prometheus reports parse and type errors as a bad `query` parameter.
            if bad_query {
                e.message = format!("invalid parameter \"query\": {}", e.message);
            }
            return e.into_response();
        }
    };
    let truncated = limit.is_some_and(|n| truncate_series(&mut data.value, n));
    let mut body = query_data(&data.value);
    if let Some(level) = params.non_empty("stats") {
        let per_step = (level == "all").then_some(steps);
        body.insert(
            "stats".into(),
            stats_json(&data.stats, queued, took, per_step),
        );
    }
    let (mut warnings, infos) = render_annotations(&data.annotations, expr);
    if truncated {
        warnings.push("results truncated due to limit".to_owned());
    }
    if let Some(w) = warn_above.filter(|w| data.stats.samples_processed > *w) {
        warnings.push(format!(
            "query processed {} samples, more than the warning threshold of {w} \
             ({WARNING_THRESHOLD})",
            data.stats.samples_processed
        ));
    }
    respond(JsonValue::Object(body), warnings, infos)
}

/// Keeps the first `limit` series of a vector or matrix (the `limit` parameter); tells whether
/// any were cut.
fn truncate_series(value: &mut ampd_promql::Value, limit: usize) -> bool {
    let len = match value {
        ampd_promql::Value::Vector(v) => {
            let len = v.len();
            v.truncate(limit);
            len
        }
        ampd_promql::Value::Matrix(m) => {
            let len = m.len();
            m.truncate(limit);
            len
        }
        ampd_promql::Value::Scalar(_) | ampd_promql::Value::String(_) => 0,
    };
    len > limit
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Prometheus' query stats object; `per_step` is `(first step, step)` for `stats=all`.
fn stats_json(
    stats: &QueryStats,
    queued: Duration,
    took: Duration,
    per_step: Option<(i64, i64)>,
) -> JsonValue {
    let eval_total = stats.preparation_time + stats.eval_time;
    let mut samples = serde_json::Map::new();
    if let Some((start, step)) = per_step {
        let steps: Vec<JsonValue> = stats
            .samples_per_step
            .iter()
            .enumerate()
            .map(|(i, n)| json!([time(start + i as i64 * step), n]))
            .collect();
        samples.insert("totalQueryableSamplesPerStep".into(), steps.into());
    }
    samples.insert(
        "totalQueryableSamples".into(),
        json!(stats.samples_processed),
    );
    samples.insert("peakSamples".into(), json!(stats.peak_samples));
    json!({
        "timings": {
            "evalTotalTime": secs(eval_total),
            // Results are sorted during evaluation, within innerEvalTime.
            "resultSortTime": 0.0,
            "queryPreparationTime": secs(stats.preparation_time),
            "innerEvalTime": secs(stats.eval_time),
            "execQueueTime": secs(queued),
            "execTotalTime": secs(queued + took),
        },
        "samples": samples,
    })
}

/// The `query` parameter; Prometheus answers a missing one as an unparsable empty query.
fn expr(params: &Params) -> String {
    params.get("query").unwrap_or_default().to_owned()
}

fn instant_query(
    params: &Params,
    now_ms: i64,
    settings: &QuerySettings,
) -> Result<InstantQuery, ApiError> {
    let time_ms = match params.non_empty("time") {
        Some(t) => timestamp("time", t)?,
        None => now_ms,
    };
    Ok(InstantQuery {
        expr: expr(params),
        time_ms,
        timeout: Some(settings.timeout(params.timeout()?)),
        limits: limits(params, settings)?,
    })
}

fn range_query(params: &Params, settings: &QuerySettings) -> Result<RangeQuery, ApiError> {
    let start_ms = timestamp("start", params.get("start").unwrap_or_default())?;
    let end_ms = timestamp("end", params.get("end").unwrap_or_default())?;
    if end_ms < start_ms {
        return Err(ApiError::bad_data(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    let step_ms = duration("step", params.get("step").unwrap_or_default())?;
    if step_ms <= 0 {
        return Err(ApiError::bad_data(
            "invalid parameter \"step\": zero or negative query resolution step widths are not \
             accepted. Try a positive integer",
        ));
    }
    if (end_ms - start_ms) / step_ms > MAX_POINTS {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the \
             query resolution (?step=XX)",
        ));
    }
    Ok(RangeQuery {
        expr: expr(params),
        start_ms,
        end_ms,
        step_ms,
        timeout: Some(settings.timeout(params.timeout()?)),
        limits: limits(params, settings)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs)
    }

    #[test]
    fn range_limits() {
        let s = QuerySettings::default();
        let q = range_query(
            &params(&[
                ("query", "up"),
                ("start", "0"),
                ("end", "60"),
                ("step", "15s"),
            ]),
            &s,
        )
        .unwrap();
        assert_eq!((q.start_ms, q.end_ms, q.step_ms), (0, 60_000, 15_000));
        assert_eq!(q.limits, s.limits());
        let too_many = range_query(
            &params(&[("start", "0"), ("end", "11001"), ("step", "1")]),
            &s,
        );
        assert!(
            too_many
                .unwrap_err()
                .message
                .starts_with("exceeded maximum resolution of 11,000 points per timeseries")
        );
        let backwards = range_query(&params(&[("start", "10"), ("end", "5"), ("step", "1")]), &s);
        assert!(backwards.is_err());
        let zero = range_query(&params(&[("start", "0"), ("end", "5"), ("step", "0")]), &s);
        assert!(zero.unwrap_err().message.contains("zero or negative"));
    }

    #[test]
    fn instant_time_defaults_to_now_and_timeout_is_capped() {
        let s = QuerySettings::default();
        let q = instant_query(&params(&[("query", "up"), ("timeout", "5s")]), 42, &s).unwrap();
        assert_eq!((q.expr.as_str(), q.time_ms), ("up", 42));
        assert_eq!(q.timeout, Some(Duration::from_secs(5)));
        let q = instant_query(&params(&[("query", "up"), ("timeout", "1h")]), 42, &s).unwrap();
        assert_eq!(q.timeout, Some(s.timeout));
        assert_eq!(q.limits.max_samples_processed, None);
        let q = instant_query(&params(&[("query", "up"), (ERROR_THRESHOLD, "10")]), 0, &s);
        assert_eq!(q.unwrap().limits.max_samples_processed, Some(10));
        assert!(instant_query(&params(&[(ERROR_THRESHOLD, "many")]), 0, &s).is_err());
    }

    #[test]
    fn limit_truncates_series() {
        let sample = |job: &str| ampd_promql::Sample {
            labels: ampd_promql::Labels::from_pairs([("job", job)]),
            t: 0,
            value: ampd_promql::PointValue::Float(1.0),
            drop_name: false,
        };
        let mut v = ampd_promql::Value::Vector(vec![sample("a"), sample("b")]);
        assert!(!truncate_series(&mut v, 2));
        assert!(truncate_series(&mut v, 1));
        assert!(matches!(&v, ampd_promql::Value::Vector(v) if v.len() == 1));
        let mut s = ampd_promql::Value::Scalar(ampd_promql::Scalar { t: 0, v: 1.0 });
        assert!(!truncate_series(&mut s, 1));
    }

    #[test]
    fn stats_take_prometheus_shape() {
        let stats = QueryStats {
            samples_processed: 6,
            samples_per_step: vec![2, 4],
            peak_samples: 4,
            ..QueryStats::default()
        };
        let v = stats_json(
            &stats,
            Duration::ZERO,
            Duration::from_millis(3),
            Some((1_000, 500)),
        );
        assert_eq!(v["samples"]["totalQueryableSamples"], json!(6));
        assert_eq!(v["samples"]["peakSamples"], json!(4));
        assert_eq!(
            v["samples"]["totalQueryableSamplesPerStep"],
            json!([[1, 2], [1.5, 4]])
        );
        assert_eq!(v["timings"]["execTotalTime"], json!(0.003));
        let basic = stats_json(&stats, Duration::ZERO, Duration::ZERO, None);
        assert!(
            basic["samples"]
                .get("totalQueryableSamplesPerStep")
                .is_none()
        );
    }
}
