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

/// What the loop last applied.
#[derive(Debug, Default)]
struct Applied {
    settings: HashMap<String, TenantSettings>,
    deleted: HashSet<String>,
}

/// Reconciles tenants with workspaces every `interval`, forever.
pub async fn sync_tenants(
    store: Arc<dyn MetadataStore>,
    metrics: Arc<dyn MetricsBackend>,
    interval: Duration,
) {
    let mut applied = Applied::default();
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

fn settings_of(ws: &Workspace) -> TenantSettings {
    let c = &ws.configuration;
    TenantSettings {
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
        let settings = settings_of(ws);
        if applied.settings.get(&ws.id) == Some(&settings) {
            continue;
        }
        match metrics.set_limits(&tenant, settings).await {
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
