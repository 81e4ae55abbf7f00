//! `GET|POST /workspaces/{id}/api/v1/query` and `query_range`.
//!
//! Parameters come from the URL and, for POST, from an `application/x-www-form-urlencoded`
//! body (both are merged, URL first, as Prometheus does).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ampd_backends::{InstantQuery, QueryLimits, RangeQuery};
use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::envelope::{ApiError, success};
use super::{Admitted, DataState, admit};

/// Most points a range query may return per series.
const MAX_POINTS: i64 = 11_000;

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
    let query = match instant_query(&params, now_ms()) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let expr = query.expr.clone();
    match state.metrics.query(&admitted.tenant, query).await {
        Ok(data) => success(&data.value, &data.annotations, &expr),
        Err(e) => ApiError::from(e).into_response(),
    }
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
    let query = match range_query(&params) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let expr = query.expr.clone();
    match state.metrics.query_range(&admitted.tenant, query).await {
        Ok(data) => success(&data.value, &data.annotations, &expr),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Request parameters, URL ones first.
struct Params(Vec<(String, String)>);

impl Params {
    fn of(req: &Admitted) -> Self {
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.parts.uri.query().unwrap_or_default())
                .unwrap_or_default();
        let form = req
            .parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if form {
            pairs.extend(
                serde_urlencoded::from_bytes::<Vec<(String, String)>>(&req.body)
                    .unwrap_or_default(),
            );
        }
        Self(pairs)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn instant_query(params: &Params, now_ms: i64) -> Result<InstantQuery, ApiError> {
    let time_ms = match params.get("time") {
        Some(t) if !t.is_empty() => timestamp("time", t)?,
        _ => now_ms,
    };
    Ok(InstantQuery {
        expr: params.get("query").unwrap_or_default().to_owned(),
        time_ms,
        timeout: timeout(params)?,
        limits: QueryLimits::default(),
    })
}

fn range_query(params: &Params) -> Result<RangeQuery, ApiError> {
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
        expr: params.get("query").unwrap_or_default().to_owned(),
        start_ms,
        end_ms,
        step_ms,
        timeout: timeout(params)?,
        limits: QueryLimits::default(),
    })
}

fn timeout(params: &Params) -> Result<Option<Duration>, ApiError> {
    match params.get("timeout") {
        Some(t) if !t.is_empty() => {
            let ms = duration("timeout", t)?;
            Ok(Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0))))
        }
        _ => Ok(None),
    }
}

/// Parses a time given as Unix seconds (fractions allowed) or RFC 3339, into ms.
fn timestamp(name: &str, value: &str) -> Result<i64, ApiError> {
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
    {
        return Ok((secs * 1000.0).round() as i64);
    }
    OffsetDateTime::parse(value, &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .ok_or_else(|| {
            ApiError::bad_data(format!(
                "invalid parameter \"{name}\": cannot parse \"{value}\" to a valid timestamp"
            ))
        })
}

/// Parses a duration given as float seconds or in Prometheus syntax (`5m`), into ms.
fn duration(name: &str, value: &str) -> Result<i64, ApiError> {
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
    {
        return Ok((secs * 1000.0).round() as i64);
    }
    ampd_promql::parse_duration_ms(value).map_err(|_| {
        ApiError::bad_data(format!(
            "invalid parameter \"{name}\": cannot parse \"{value}\" to a valid duration"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn times_and_durations_parse_both_forms() {
        assert_eq!(timestamp("t", "1700000000.5").unwrap(), 1_700_000_000_500);
        assert_eq!(
            timestamp("t", "2023-11-14T22:13:20.5Z").unwrap(),
            1_700_000_000_500
        );
        assert_eq!(
            timestamp("start", "yesterday").unwrap_err().message,
            "invalid parameter \"start\": cannot parse \"yesterday\" to a valid timestamp"
        );
        assert_eq!(duration("step", "15").unwrap(), 15_000);
        assert_eq!(duration("step", "1m30s").unwrap(), 90_000);
        assert!(duration("step", "soon").is_err());
    }

    #[test]
    fn range_limits() {
        let q = range_query(&params(&[
            ("query", "up"),
            ("start", "0"),
            ("end", "60"),
            ("step", "15s"),
        ]))
        .unwrap();
        assert_eq!((q.start_ms, q.end_ms, q.step_ms), (0, 60_000, 15_000));
        let too_many = range_query(&params(&[("start", "0"), ("end", "11001"), ("step", "1")]));
        assert!(
            too_many
                .unwrap_err()
                .message
                .starts_with("exceeded maximum resolution of 11,000 points per timeseries")
        );
        let backwards = range_query(&params(&[("start", "10"), ("end", "5"), ("step", "1")]));
        assert!(backwards.is_err());
        let zero = range_query(&params(&[("start", "0"), ("end", "5"), ("step", "0")]));
        assert!(zero.unwrap_err().message.contains("zero or negative"));
    }

    #[test]
    fn instant_time_defaults_to_now() {
        let q = instant_query(&params(&[("query", "up")]), 42).unwrap();
        assert_eq!((q.expr.as_str(), q.time_ms), ("up", 42));
    }
}
