//! `format_query` and `status/buildinfo` under `/workspaces/{id}/api/v1/`.
//!
//! AMP itself answers neither; Grafana asks for build information when a data source is
//! saved and tolerates its absence, but with an answer it enables the features of the
//! Prometheus version given.

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::envelope::{ApiError, respond};
use super::params::Params;
use ampd_iam::aps::ApsAction;

use super::{DataState, admit_as};

/// The Prometheus release whose query API and PromQL semantics ampd implements; clients such
/// as Grafana gate features on this version.
const PROMETHEUS_API_VERSION: &str = "3.0.0";

/// `GET|POST format_query`: the query printed in canonical form.
pub(super) async fn format_query(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let admitted = match admit_as(&state, &id, req, Some(ApsAction::QueryMetrics)).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let params = Params::of(&admitted);
    match ampd_promql::parse(params.get("query").unwrap_or_default()) {
        Ok(expr) => respond(json!(expr.to_string()), Vec::new(), Vec::new()),
        Err(e) => ApiError::bad_data(format!("invalid parameter \"query\": {e}")).into_response(),
    }
}

/// `GET status/buildinfo`: the implemented Prometheus version and ampd's own.
pub(super) async fn buildinfo(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    if let Err(res) = admit_as(&state, &id, req, Some(ApsAction::QueryMetrics)).await {
        return res;
    }
    respond(
        json!({
            "version": PROMETHEUS_API_VERSION,
            "revision": format!("ampd-{}", env!("CARGO_PKG_VERSION")),
            "branch": "",
            "buildUser": "",
            "buildDate": "",
            "goVersion": "",
        }),
        Vec::new(),
        Vec::new(),
    )
}
