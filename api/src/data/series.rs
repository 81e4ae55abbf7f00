//! Series metadata endpoints: `series`, `labels`, `label/{name}/values`, `metadata` and
//! `query_exemplars` under `/workspaces/{id}/api/v1/`.
//!
//! `match[]` selectors are OR-ed; `start`/`end` default to all of time; `limit` truncates the
//! answer and adds Prometheus' "results truncated due to limit" warning.

use ampd_backends::{MetricsErrorKind, MetricsResult};
use ampd_iam::aps::ApsAction;
use ampd_promql::{Expr, VectorSelector, parse, quote};
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as JsonValue, json};

use super::envelope::{ApiError, float, metric, respond, time};
use super::params::Params;
use super::{Admitted, DataState, admit_as};

/// Prometheus' warning when `limit` cut an answer short.
const TRUNCATED: &str = "results truncated due to limit";

/// Admits the request and takes a read slot, then runs `read` over its parameters.
async fn read<F, Fut>(state: DataState, id: &str, req: Request, read: F) -> Response
where
    F: FnOnce(DataState, Admitted, Params) -> Fut,
    Fut: Future<Output = Result<Response, ApiError>>,
{
    read_as(state, id, req, None, read).await
}

/// [`read`] authorized as `action` (see [`super::admit_as`]).
async fn read_as<F, Fut>(
    state: DataState,
    id: &str,
    req: Request,
    action: Option<ApsAction>,
    read: F,
) -> Response
where
    F: FnOnce(DataState, Admitted, Params) -> Fut,
    Fut: Future<Output = Result<Response, ApiError>>,
{
    let admitted = match admit_as(&state, id, req, action).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let params = Params::of(&admitted);
    let _slot = match state.gate.enter(&admitted.tenant).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    read(state, admitted, params)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// Maps a backend error; bad selectors are reported against the `match[]` parameter.
fn selector_error(e: ampd_backends::MetricsError) -> ApiError {
    let bad = e.kind() == MetricsErrorKind::BadData;
    let mut e = ApiError::from(e);
    if bad {
        e.message = format!("invalid parameter \"match[]\": {}", e.message);
    }
    e
}

/// Truncates `items` to `limit`, returning the warnings to send.
fn truncate<T>(items: &mut Vec<T>, limit: Option<usize>) -> Vec<String> {
    match limit {
        Some(n) if items.len() > n => {
            items.truncate(n);
            vec![TRUNCATED.to_owned()]
        }
        _ => Vec::new(),
    }
}

fn checked<T>(r: MetricsResult<T>) -> Result<T, ApiError> {
    r.map_err(selector_error)
}

/// `GET|POST series`: the label sets of the matching series.
pub(super) async fn series(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    read(state, &id, req, |state, req, params| async move {
        let selectors = params.all("match[]");
        if selectors.is_empty() {
            return Err(ApiError::bad_data("no match[] parameter provided"));
        }
        let range = params.time_range()?;
        let limit = params.limit()?;
        let mut found = checked(state.metrics.series(&req.tenant, &selectors, range).await)?;
        let warnings = truncate(&mut found, limit);
        let data: Vec<JsonValue> = found.iter().map(metric).collect();
        Ok(respond(data.into(), warnings, Vec::new()))
    })
    .await
}

/// `GET|POST labels`: the label names of the matching series (all when no `match[]`).
pub(super) async fn labels(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    read(state, &id, req, |state, req, params| async move {
        let selectors = params.all("match[]");
        let range = params.time_range()?;
        let limit = params.limit()?;
        let mut names = checked(
            state
                .metrics
                .label_names(&req.tenant, &selectors, range)
                .await,
        )?;
        let warnings = truncate(&mut names, limit);
        Ok(respond(json!(names), warnings, Vec::new()))
    })
    .await
}

/// Whether `name` is a label name in Prometheus' classic syntax.
fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `GET label/{name}/values`: the values of one label over the matching series.
pub(super) async fn label_values(
    State(state): State<DataState>,
    Path((id, name)): Path<(String, String)>,
    req: Request,
) -> Response {
    read(state, &id, req, |state, req, params| async move {
        if !valid_label_name(&name) {
            return Err(ApiError::bad_data(format!(
                "invalid label name: {}",
                quote(&name)
            )));
        }
        let selectors = params.all("match[]");
        let range = params.time_range()?;
        let limit = params.limit()?;
        let mut values = checked(
            state
                .metrics
                .label_values(&req.tenant, &name, &selectors, range)
                .await,
        )?;
        let warnings = truncate(&mut values, limit);
        Ok(respond(json!(values), warnings, Vec::new()))
    })
    .await
}

/// Parses an optional non-negative count parameter (`limit_per_metric`).
fn count(params: &Params, name: &str) -> Result<Option<usize>, ApiError> {
    match params.non_empty(name) {
        None => Ok(None),
        Some(v) => v.parse::<usize>().map(Some).map_err(|_| {
            ApiError::bad_data(format!(
                "invalid parameter \"{name}\": cannot parse \"{v}\" to a valid number"
            ))
        }),
    }
}

/// `GET metadata`: metric metadata by family, as remote write delivered it.
pub(super) async fn metadata(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    read(state, &id, req, |state, req, params| async move {
        let limit = params.limit()?;
        let per_metric = count(&params, "limit_per_metric")?.filter(|n| *n > 0);
        let metric = params.non_empty("metric");
        let found = state
            .metrics
            .metadata(&req.tenant, metric, limit)
            .await
            .map_err(ApiError::from)?;
        let data: Map<String, JsonValue> = found
            .into_iter()
            .map(|(name, entries)| {
                let entries: Vec<JsonValue> = entries
                    .iter()
                    .take(per_metric.unwrap_or(usize::MAX))
                    .map(|m| json!({"type": m.metric_type, "help": m.help, "unit": m.unit}))
                    .collect();
                (name, JsonValue::Array(entries))
            })
            .collect();
        Ok(respond(JsonValue::Object(data), Vec::new(), Vec::new()))
    })
    .await
}

/// The series selector of `vs` without modifiers, as `match[]` takes it.
fn selector(vs: &VectorSelector) -> String {
    let matchers: Vec<String> = vs
        .matchers
        .iter()
        .map(|m| {
            let name = if valid_label_name(&m.name) {
                m.name.clone()
            } else {
                quote(&m.name)
            };
            format!("{name}{}{}", m.op.as_str(), quote(&m.value))
        })
        .collect();
    format!("{{{}}}", matchers.join(","))
}

/// The selectors of every vector and matrix selector in `expr`.
fn selectors(expr: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    expr.walk(&mut |e| match e {
        Expr::VectorSelector(vs) => out.push(selector(vs)),
        Expr::MatrixSelector(m) => out.push(selector(&m.selector)),
        _ => {}
    });
    out
}

/// `GET|POST query_exemplars`: the exemplars of the series the query selects.
pub(super) async fn exemplars(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let action = Some(ApsAction::QueryMetrics);
    read_as(state, &id, req, action, |state, req, params| async move {
        let range = params.time_range()?;
        let query = params.get("query").unwrap_or_default();
        let expr = parse(query)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
        let selectors = selectors(&expr);
        if selectors.is_empty() {
            return Ok(respond(json!([]), Vec::new(), Vec::new()));
        }
        let found = state
            .metrics
            .exemplars(&req.tenant, &selectors, range)
            .await
            .map_err(ApiError::from)?;
        let data: Vec<JsonValue> = found
            .iter()
            .map(|s| {
                let exemplars: Vec<JsonValue> = s
                    .exemplars
                    .iter()
                    .map(|e| {
                        json!({
                            "labels": metric(&e.labels),
                            "value": float(e.value),
                            "timestamp": time(e.timestamp_ms),
                        })
                    })
                    .collect();
                json!({"seriesLabels": metric(&s.series), "exemplars": exemplars})
            })
            .collect();
        Ok(respond(data.into(), Vec::new(), Vec::new()))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_use_the_classic_syntax() {
        assert!(valid_label_name("__name__"));
        assert!(valid_label_name("job_2"));
        assert!(!valid_label_name("2job"));
        assert!(!valid_label_name("a-b"));
        assert!(!valid_label_name(""));
    }

    #[test]
    fn exemplar_queries_select_every_selector() {
        let expr = parse(r#"rate(a{job="x"}[5m] offset 1m) / on() b"#).unwrap();
        assert_eq!(
            selectors(&expr),
            [
                r#"{job="x",__name__="a"}"#.to_owned(),
                r#"{__name__="b"}"#.to_owned()
            ]
        );
        for s in selectors(&expr) {
            assert!(ampd_promql::parse_metric_selector(&s).is_ok(), "{s}");
        }
    }

    #[test]
    fn truncation_warns() {
        let mut v = vec![1, 2, 3];
        assert!(truncate(&mut v, None).is_empty());
        assert!(truncate(&mut v, Some(3)).is_empty());
        assert_eq!(truncate(&mut v, Some(2)), [TRUNCATED]);
        assert_eq!(v, [1, 2]);
    }
}
