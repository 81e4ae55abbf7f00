//! Plain, unauthenticated operational endpoints: `/healthz` (the process answers) and
//! `/readyz` (the metadata store answers).

use std::sync::Arc;

use ampd_backends::{MetadataStore, PageRequest};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

/// Builds the router of the operational endpoints.
pub fn router(store: Arc<dyn MetadataStore>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(store)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(store): State<Arc<dyn MetadataStore>>) -> (StatusCode, &'static str) {
    match store.list_workspaces(None, PageRequest::first(1)).await {
        Ok(_) => (StatusCode::OK, "ready\n"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "metadata store unavailable\n",
            )
        }
    }
}
