//! `GET /workspaces/{id}/api/v1/rules` and `…/api/v1/alerts` in Prometheus' format, and the
//! loop that keeps the rule engine in step with the workspaces' rule groups namespaces and
//! alert manager definitions.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use ampd_backends::{MetadataStore, PageRequest, Status, StoreError, StoreResult};
use ampd_rules::{RuleEngine, RuleFilter, RuleType};
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::envelope::ApiError;
use super::{DataState, admit};

impl DataState {
    /// Serves `/api/v1/rules`, `/api/v1/alerts` and the Alertmanager API from `engine`.
    pub fn with_rules(mut self, engine: Arc<RuleEngine>) -> Self {
        self.rules = Some(engine);
        self
    }
}

fn query_pairs(req: &Request) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.uri().query().unwrap_or_default()).unwrap_or_default()
}

fn filter_of(pairs: &[(String, String)]) -> Result<RuleFilter, ApiError> {
    let all = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let kind = match pairs
        .iter()
        .find(|(k, _)| k == "type")
        .map(|(_, v)| v.as_str())
    {
        None | Some("") => None,
        Some(t) => Some(RuleType::from_param(t).ok_or_else(|| {
            ApiError::bad_data(format!(
                "unsupported type {t:?}: must be 'alert' or 'record'"
            ))
        })?),
    };
    let exclude_alerts = match pairs
        .iter()
        .find(|(k, _)| k == "exclude_alerts")
        .map(|(_, v)| v.as_str())
    {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_data(format!(
                "invalid exclude_alerts {other:?}: must be true or false"
            )));
        }
    };
    Ok(RuleFilter {
        kind,
        rule_names: all("rule_name[]"),
        group_names: all("rule_group[]"),
        files: all("file[]"),
        exclude_alerts,
    })
}

/// Lists rule groups with their rules' health and alerts.
pub(super) async fn rules(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let pairs = query_pairs(&req);
    let admitted = match admit(&state, &id, req).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let filter = match filter_of(&pairs) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let groups = state
        .rules
        .as_ref()
        .map(|e| e.rule_groups(admitted.tenant.as_str(), &filter))
        .unwrap_or_default();
    Json(json!({"status": "success", "data": {"groups": groups}})).into_response()
}

/// Lists pending and firing alerts.
pub(super) async fn alerts(
    State(state): State<DataState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let admitted = match admit(&state, &id, req).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let alerts = state
        .rules
        .as_ref()
        .map(|e| e.alerts(admitted.tenant.as_str()))
        .unwrap_or_default();
    Json(json!({"status": "success", "data": {"alerts": alerts}})).into_response()
}

/// Statuses whose rules are evaluated and whose definitions are served: the data of a
/// resource being created or updated is already the new one.
fn live(status: Status) -> bool {
    matches!(
        status,
        Status::Active | Status::Creating | Status::Updating | Status::UpdateFailed
    )
}

async fn namespaces(store: &dyn MetadataStore, ws: &str) -> StoreResult<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let p = store
            .list_rule_groups_namespaces(ws, None, page.clone())
            .await?;
        out.extend(
            p.items
                .into_iter()
                .filter(|n| live(n.status))
                .map(|n| (n.name, n.data)),
        );
        match p.next {
            Some(after) => page.after = Some(after),
            None => return Ok(out),
        }
    }
}

async fn sync_once(
    store: &dyn MetadataStore,
    engine: &RuleEngine,
    reported: &mut HashSet<String>,
) -> StoreResult<()> {
    let mut kept = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let p = store.list_workspaces(None, page.clone()).await?;
        for ws in p
            .items
            .iter()
            .filter(|w| w.status == Status::Active || w.status == Status::Updating)
        {
            kept.push(ws.id.clone());
            for e in engine.sync_rules(&ws.id, &namespaces(store, &ws.id).await?) {
                // Stored files were validated on upload; report a failure once, not every second.
                if reported.insert(format!("{}:{e}", ws.id)) {
                    tracing::warn!(workspace = %ws.id, error = %e, "cannot load rules: {e}");
                }
            }
            let definition = match store.alert_manager_definition(&ws.id).await {
                Ok(d) if live(d.status) => Some(d.data),
                Ok(_) | Err(StoreError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            if let Err(e) = engine.sync_alertmanager(&ws.id, definition.as_deref())
                && reported.insert(format!("{}:{e}", ws.id))
            {
                tracing::warn!(workspace = %ws.id, error = %e, "cannot load alertmanager: {e}");
            }
        }
        match p.next {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    engine.retain(&kept);
    Ok(())
}

/// Keeps `engine` in step with the store every `interval` and evaluates due groups every
/// `tick`, forever. Rule changes made through the control plane reach the engine within
/// `interval`, so they take effect on the next evaluation after that.
pub async fn run_rules(
    store: Arc<dyn MetadataStore>,
    engine: Arc<RuleEngine>,
    interval: Duration,
    tick: Duration,
) {
    let mut reported = HashSet::new();
    let mut sync_timer = tokio::time::interval(interval);
    sync_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tick_timer = tokio::time::interval(tick);
    tick_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = sync_timer.tick() => {
                if let Err(e) = sync_once(&*store, &engine, &mut reported).await {
                    tracing::warn!(error = %e, "cannot read rules and alertmanager definitions: {e}");
                }
            }
            // Evaluations run as their own tasks; a slow group never delays the others.
            _ = tick_timer.tick() => drop(engine.tick()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(q).unwrap()
    }

    #[test]
    fn rule_filters_follow_prometheus_parameters() {
        let f = filter_of(&pairs(
            "type=alert&rule_name[]=A&rule_name[]=B&rule_group[]=g&file[]=ns&exclude_alerts=true",
        ))
        .unwrap();
        assert_eq!(f.kind, Some(RuleType::Alerting));
        assert_eq!(f.rule_names, ["A", "B"]);
        assert_eq!(f.group_names, ["g"]);
        assert_eq!(f.files, ["ns"]);
        assert!(f.exclude_alerts);
        let f = filter_of(&pairs("type=record")).unwrap();
        assert_eq!(f.kind, Some(RuleType::Recording));
        assert!(filter_of(&pairs("")).unwrap().kind.is_none());
        assert!(filter_of(&pairs("type=other")).is_err());
        assert!(filter_of(&pairs("exclude_alerts=maybe")).is_err());
    }

    #[test]
    fn only_live_resources_are_loaded() {
        assert!(live(Status::Active) && live(Status::Creating) && live(Status::Updating));
        assert!(!live(Status::Deleting) && !live(Status::CreationFailed));
    }
}
