//! Keeps the metrics backend's tenants in step with the workspaces of the metadata store.
//!
//! Following the store rather than hooking each control-plane handler means one place sees
//! every change, whichever node or transition made it: a workspace's retention and
//! out-of-order window are applied when first seen (so at startup too) and whenever its
//! configuration changes; its data is deleted once it is `DELETING` or has disappeared.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ampd_backends::{
    MetadataStore, MetricsBackend, PageRequest, Status, StoreResult, TenantId, TenantSettings,
    Workspace,
};

/// AMP's out-of-order window when a workspace configuration sets none.
const DEFAULT_OUT_OF_ORDER_WINDOW: Duration = Duration::from_secs(60);

/// What the loop last applied, and the server-wide cap it applies with.
#[derive(Debug, Default)]
struct Applied {
    max_active_series: Option<u64>,
    settings: HashMap<String, TenantSettings>,
    deleted: HashSet<String>,
}

/// Reconciles tenants with workspaces every `interval`, forever; every workspace may hold
/// at most `max_active_series` active series.
pub async fn sync_tenants(
    store: Arc<dyn MetadataStore>,
    metrics: Arc<dyn MetricsBackend>,
    interval: Duration,
    max_active_series: Option<u64>,
) {
    let mut applied = Applied {
        max_active_series,
        ..Applied::default()
    };
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match all_workspaces(&*store).await {
            Ok(workspaces) => reconcile(&*metrics, &workspaces, &mut applied).await,
            Err(e) => tracing::warn!(error = %e, "cannot list workspaces for tenant settings"),
        }
    }
}

async fn all_workspaces(store: &dyn MetadataStore) -> StoreResult<Vec<Workspace>> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let p = store.list_workspaces(None, page.clone()).await?;
        out.extend(p.items);
        match p.next {
            Some(after) => page.after = Some(after),
            None => return Ok(out),
        }
    }
}

fn settings_of(ws: &Workspace, max_active_series: Option<u64>) -> TenantSettings {
    let c = &ws.configuration;
    TenantSettings {
        max_active_series,
        label_set_limits: c.limits_per_label_set.clone(),
        retention: Duration::from_secs(u64::from(c.retention_period_in_days) * 86_400),
        out_of_order_window: c
            .out_of_order_time_window_in_seconds
            .map_or(DEFAULT_OUT_OF_ORDER_WINDOW, Duration::from_secs),
    }
}

async fn reconcile(metrics: &dyn MetricsBackend, workspaces: &[Workspace], applied: &mut Applied) {
    let mut present = HashSet::new();
    for ws in workspaces {
        present.insert(ws.id.clone());
        let tenant = TenantId::new(&ws.id);
        if ws.status == Status::Deleting {
            if !applied.deleted.contains(&ws.id) {
                delete(metrics, &tenant, applied).await;
            }
            continue;
        }
        let settings = settings_of(ws, applied.max_active_series);
        if applied.settings.get(&ws.id) == Some(&settings) {
            continue;
        }
        match metrics.set_limits(&tenant, settings.clone()).await {
            Ok(()) => {
                applied.settings.insert(ws.id.clone(), settings);
            }
            Err(e) => tracing::warn!(%tenant, error = %e, "cannot apply tenant settings: {e}"),
        }
    }
    let gone: Vec<String> = applied
        .settings
        .keys()
        .filter(|id| !present.contains(*id) && !applied.deleted.contains(*id))
        .cloned()
        .collect();
    for id in gone {
        delete(metrics, &TenantId::new(id), applied).await;
    }
    applied.deleted.retain(|id| present.contains(id));
    applied.settings.retain(|id, _| present.contains(id));
}

async fn delete(metrics: &dyn MetricsBackend, tenant: &TenantId, applied: &mut Applied) {
    match metrics.delete_tenant(tenant).await {
        Ok(()) => {
            tracing::info!(%tenant, "deleted the data of workspace {tenant}");
            applied.deleted.insert(tenant.to_string());
            applied.settings.remove(tenant.as_str());
        }
        Err(e) => tracing::warn!(%tenant, error = %e, "cannot delete tenant data: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use ampd_backends::{
        InstantQuery, NewWorkspace, QueryLimits, SqliteStore, WorkspaceConfigurationUpdate,
    };
    use ampd_promql::Value;
    use ampd_remote_write::{Label, Sample, Series, WriteBatch};

    use super::*;

    fn batch(t: i64) -> WriteBatch {
        WriteBatch {
            series: vec![Series {
                labels: vec![Label::new("__name__", "up"), Label::new("job", "a")],
                samples: vec![Sample {
                    timestamp: t,
                    value: 1.0,
                }],
                ..Series::default()
            }],
            metadata: vec![],
        }
    }

    async fn sync(store: &SqliteStore, metrics: &dyn MetricsBackend, applied: &mut Applied) {
        let workspaces = all_workspaces(store).await.unwrap();
        reconcile(metrics, &workspaces, applied).await;
    }

    #[tokio::test]
    async fn tenants_follow_configuration_and_deletion() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("metadata.db"))
            .await
            .unwrap();
        let metrics = crate::server::open_metrics(dir.path()).unwrap();
        let new = NewWorkspace {
            id: "ws-tenant".into(),
            alias: None,
            kms_key_arn: None,
            tags: Default::default(),
        };
        store.create_workspace(new, None, 10).await.unwrap();
        store.settle(Duration::ZERO).await.unwrap();
        let update = WorkspaceConfigurationUpdate {
            retention_period_in_days: None,
            out_of_order_time_window_in_seconds: Some(0),
            rule_query_offset_in_seconds: None,
            limits_per_label_set: None,
        };
        store
            .update_workspace_configuration("ws-tenant", update, None)
            .await
            .unwrap();
        store.settle(Duration::ZERO).await.unwrap();
        let mut applied = Applied::default();
        sync(&store, &metrics, &mut applied).await;

        // With the window set to 0 an older sample of the series is refused.
        let tenant = TenantId::new("ws-tenant");
        let t = 1_000 * i64::from(u32::MAX);
        let first = metrics.write(&tenant, batch(t)).await.unwrap();
        assert_eq!(first.samples, 1);
        let late = metrics.write(&tenant, batch(t - 1_000)).await.unwrap();
        assert_eq!(late.samples, 0);
        assert!(late.rejected() > 0, "{late:?}");
        // Widened, the same kind of sample is taken.
        let update = WorkspaceConfigurationUpdate {
            retention_period_in_days: None,
            out_of_order_time_window_in_seconds: Some(3600),
            rule_query_offset_in_seconds: None,
            limits_per_label_set: None,
        };
        store
            .update_workspace_configuration("ws-tenant", update, None)
            .await
            .unwrap();
        sync(&store, &metrics, &mut applied).await;
        let late = metrics.write(&tenant, batch(t - 2_000)).await.unwrap();
        assert_eq!((late.samples, late.rejected()), (1, 0));

        store.delete_workspace("ws-tenant", None).await.unwrap();
        sync(&store, &metrics, &mut applied).await;
        assert!(applied.deleted.contains("ws-tenant"));
        let query = InstantQuery {
            expr: "up".into(),
            time_ms: t,
            timeout: None,
            limits: QueryLimits::default(),
        };
        let data = metrics.query(&tenant, query).await.unwrap();
        assert_eq!(data.value, Value::Vector(vec![]));
        store.settle(Duration::ZERO).await.unwrap();
        sync(&store, &metrics, &mut applied).await;
        assert!(applied.deleted.is_empty() && applied.settings.is_empty());
    }
}
