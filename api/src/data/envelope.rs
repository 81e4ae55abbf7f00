//! The Prometheus HTTP API envelope: `{"status":"success","data":…}` or
//! `{"status":"error","errorType":…,"error":…}`, with Prometheus' value encoding.

use ampd_backends::{MetricsError, MetricsErrorKind};
use ampd_promql::{AnnotationKind, Annotations, FloatHistogram, Labels, PointValue, Value};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value as JsonValue, json};

/// A Prometheus API error type, which fixes the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ErrorType {
    /// Invalid parameters or query (400).
    BadData,
    /// The query failed while running (422).
    Execution,
    /// The query was canceled (499).
    Canceled,
    /// The query ran out of time (503).
    Timeout,
    /// The tenant cannot serve now (503).
    Unavailable,
    /// Anything else (500).
    Internal,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            Self::BadData => "bad_data",
            Self::Execution => "execution",
            Self::Canceled => "canceled",
            Self::Timeout => "timeout",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::BadData => StatusCode::BAD_REQUEST,
            Self::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Canceled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            Self::Timeout | Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error answer of the Prometheus API (kept apart from [`crate::AwsError`]: Prometheus
/// clients parse this shape, AWS SDKs the other).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ApiError {
    /// Error type.
    pub kind: ErrorType,
    /// Message.
    pub message: String,
}

impl ApiError {
    /// A `bad_data` error.
    pub fn bad_data(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorType::BadData,
            message: message.into(),
        }
    }
}

impl From<MetricsError> for ApiError {
    fn from(e: MetricsError) -> Self {
        let kind = match e.kind() {
            MetricsErrorKind::BadData => ErrorType::BadData,
            MetricsErrorKind::Execution | MetricsErrorKind::TooManySamples => ErrorType::Execution,
            MetricsErrorKind::Timeout => ErrorType::Timeout,
            MetricsErrorKind::Canceled => ErrorType::Canceled,
            MetricsErrorKind::TenantUnavailable => ErrorType::Unavailable,
            MetricsErrorKind::Internal => ErrorType::Internal,
        };
        if kind == ErrorType::Internal {
            tracing::error!(error = %e, "query failed: {e}");
        }
        Self {
            kind,
            message: e.to_string(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    status: &'static str,
    error_type: &'static str,
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            status: "error",
            error_type: self.kind.as_str(),
            error: &self.message,
        };
        (self.kind.status(), Json(body)).into_response()
    }
}

#[derive(Serialize)]
struct SuccessBody {
    status: &'static str,
    data: JsonValue,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    infos: Vec<String>,
}

/// A success answer: `data` plus warnings and infos (left out when empty).
pub(super) fn respond(data: JsonValue, warnings: Vec<String>, infos: Vec<String>) -> Response {
    let body = SuccessBody {
        status: "success",
        data,
        warnings,
        infos,
    };
    Json(body).into_response()
}

/// Splits annotations into warnings and infos, rendered against `query`.
pub(super) fn render_annotations(
    annotations: &Annotations,
    query: &str,
) -> (Vec<String>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut infos = Vec::new();
    for a in annotations.iter() {
        match a.kind {
            AnnotationKind::Warning => warnings.push(a.render(query)),
            AnnotationKind::Info => infos.push(a.render(query)),
        }
    }
    (warnings, infos)
}

/// The `data` of a query answer: `{"resultType": …, "result": …}`.
pub(super) fn query_data(value: &Value) -> Map<String, JsonValue> {
    let mut data = Map::new();
    data.insert("resultType".into(), json!(value.type_name()));
    data.insert("result".into(), result(value));
    data
}

fn result(value: &Value) -> JsonValue {
    match value {
        Value::Scalar(s) => json!([time(s.t), float(s.v)]),
        Value::String(s) => json!([time(s.t), s.v]),
        Value::Vector(v) => v
            .iter()
            .map(|s| {
                let mut item = Map::new();
                item.insert("metric".into(), metric(&s.labels));
                match &s.value {
                    PointValue::Float(f) => {
                        item.insert("value".into(), json!([time(s.t), float(*f)]))
                    }
                    PointValue::Histogram(h) => {
                        item.insert("histogram".into(), json!([time(s.t), histogram(h)]))
                    }
                };
                JsonValue::Object(item)
            })
            .collect(),
        Value::Matrix(m) => m
            .iter()
            .map(|series| {
                let mut item = Map::new();
                item.insert("metric".into(), metric(&series.labels));
                if !series.floats.is_empty() {
                    let values = series.floats.iter().map(|p| json!([time(p.t), float(p.f)]));
                    item.insert("values".into(), values.collect());
                }
                if !series.histograms.is_empty() {
                    let values = series
                        .histograms
                        .iter()
                        .map(|p| json!([time(p.t), histogram(&p.h)]));
                    item.insert("histograms".into(), values.collect());
                }
                JsonValue::Object(item)
            })
            .collect(),
    }
}

/// A label set as a JSON object.
pub(super) fn metric(labels: &Labels) -> JsonValue {
    JsonValue::Object(
        labels
            .iter()
            .map(|l| (l.name.clone(), JsonValue::String(l.value.clone())))
            .collect(),
    )
}

/// A timestamp in Unix seconds with millisecond precision, integral when it is whole.
pub(super) fn time(ms: i64) -> JsonValue {
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        // ms are exact in an f64 for any realistic date, and division by 1000 gives the
        // shortest decimal with at most three fraction digits.
        json!(ms as f64 / 1000.0)
    }
}

/// A sample value as Prometheus writes it: a string, `+Inf`/`-Inf`/`NaN` spelled out, else
/// the shortest decimal that round-trips, without an exponent (Rust's `Display` for `f64`
/// prints exactly that form).
pub(super) fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        v.to_string()
    }
}

/// A native histogram as `{count, sum, buckets: [[boundaryRule, lower, upper, count], …]}`;
/// the rule is 0 open-left, 1 open-right, 2 open both, 3 closed both; empty buckets are left
/// out.
fn histogram(h: &FloatHistogram) -> JsonValue {
    let buckets: Vec<JsonValue> = h
        .all_buckets()
        .iter()
        .filter(|b| b.count != 0.0)
        .map(|b| {
            let rule = match (b.lower_inclusive, b.upper_inclusive) {
                (false, true) => 0,
                (true, false) => 1,
                (false, false) => 2,
                (true, true) => 3,
            };
            json!([rule, float(b.lower), float(b.upper), float(b.count)])
        })
        .collect();
    let mut out = Map::new();
    out.insert("count".into(), JsonValue::String(float(h.count)));
    out.insert("sum".into(), JsonValue::String(float(h.sum)));
    if !buckets.is_empty() {
        out.insert("buckets".into(), JsonValue::Array(buckets));
    }
    JsonValue::Object(out)
}

#[cfg(test)]
mod tests {
    use ampd_promql::{FPoint, Sample, Scalar, Series};

    use super::*;

    #[test]
    fn floats_use_prometheus_spelling() {
        assert_eq!(float(f64::INFINITY), "+Inf");
        assert_eq!(float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(float(1.5), "1.5");
        assert_eq!(float(1.0), "1");
        assert_eq!(float(0.1), "0.1");
        assert_eq!(float(1e21), "1000000000000000000000");
        assert_eq!(float(-2.5e-7), "-0.00000025");
    }

    #[test]
    fn times_are_seconds() {
        assert_eq!(time(1_700_000_000_000), json!(1_700_000_000));
        assert_eq!(time(1_700_000_000_123), json!(1_700_000_000.123));
    }

    #[test]
    fn results_take_prometheus_shapes() {
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "p")]);
        let vector = Value::Vector(vec![Sample {
            labels: labels.clone(),
            t: 2_000,
            value: PointValue::Float(1.0),
            drop_name: false,
        }]);
        assert_eq!(
            result(&vector),
            json!([{"metric": {"__name__": "up", "job": "p"}, "value": [2, "1"]}])
        );
        let matrix = Value::Matrix(vec![Series {
            labels,
            floats: vec![FPoint {
                t: 1_500,
                f: f64::NAN,
            }],
            ..Series::default()
        }]);
        assert_eq!(
            result(&matrix),
            json!([{"metric": {"__name__": "up", "job": "p"}, "values": [[1.5, "NaN"]]}])
        );
        assert_eq!(
            result(&Value::Scalar(Scalar { t: 0, v: 2.0 })),
            json!([0, "2"])
        );
    }

    #[test]
    fn errors_map_to_prometheus_statuses() {
        let e = ApiError::from(MetricsError::Execution("boom".into()));
        assert_eq!(e.kind, ErrorType::Execution);
        assert_eq!(e.kind.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            ApiError::from(MetricsError::Timeout).kind.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(ErrorType::Canceled.status().as_u16(), 499);
    }
}
