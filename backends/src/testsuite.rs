//! Conformance suite every [`MetadataStore`] implementation must pass.
//!
//! Each function takes a fresh, empty store. [`crate::metadata_store_conformance`] expands to one
//! `#[tokio::test]` per function for a given factory, so the SQLite and future PostgreSQL stores
//! run exactly the same assertions.

// This module only exists for tests: failing an assertion is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use crate::{
    ClientToken, LabelSetLimit, LoggingKind, MetadataStore, NO_POLICY, NewAnomalyDetector,
    NewRuleGroupsNamespace, NewScraper, NewWorkspace, PageRequest, ResourceRef, ScraperFilter,
    ScraperSpec, Status, StoreError, Tags, WorkspaceConfigurationUpdate,
};

/// A store under test plus whatever must live as long as it (e.g. a temporary directory).
pub struct Harness {
    /// The store.
    pub store: Arc<dyn MetadataStore>,
    /// Dropped with the harness.
    pub keep: Box<dyn std::any::Any + Send>,
}

/// Expands to one test per conformance check; `$make` is an async fn returning a [`Harness`].
#[macro_export]
macro_rules! metadata_store_conformance {
    ($make:path) => {
        $crate::metadata_store_conformance!(@tests $make;
            workspace_lifecycle, create_workspace_is_idempotent,
            concurrent_retries_create_one_workspace, workspace_quota, list_workspaces_pages,
            workspace_alias_update, workspace_configuration, tags_merge_limit_and_remove,
            rule_groups_namespaces, alert_manager_definition, logging_configurations,
            resource_policy_revisions, scrapers, anomaly_detectors, delete_cascades);
    };
    (@tests $make:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let h = $make().await;
                $crate::testsuite::$name(h.store.clone()).await;
            }
        )*
    };
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn token(t: &str, fp: &str) -> ClientToken {
    ClientToken {
        token: t.to_owned(),
        fingerprint: fp.to_owned(),
    }
}

fn new_ws(id: &str, alias: Option<&str>) -> NewWorkspace {
    NewWorkspace {
        id: id.to_owned(),
        alias: alias.map(str::to_owned),
        kms_key_arn: None,
        tags: Tags::new(),
    }
}

async fn active_ws(store: &dyn MetadataStore, id: &str) {
    store
        .create_workspace(new_ws(id, None), None, 100)
        .await
        .unwrap();
    store.settle(Duration::ZERO).await.unwrap();
}

fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::NotFound { .. })),
        "expected NotFound, got {r:?}"
    );
}

fn assert_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::Conflict { .. })),
        "expected Conflict, got {r:?}"
    );
}

pub async fn workspace_lifecycle(store: Arc<dyn MetadataStore>) {
    let mut new = new_ws("ws-1", Some("prod"));
    new.tags = tags(&[("team", "a")]);
    new.kms_key_arn = Some("arn:aws:kms:us-east-1:123456789012:key/abcd".into());
    let ws = store.create_workspace(new, None, 10).await.unwrap();
    assert_eq!(ws.status, Status::Creating);
    assert_eq!(ws.alias.as_deref(), Some("prod"));
    assert_eq!(ws.tags, tags(&[("team", "a")]));
    assert_eq!(ws.configuration.retention_period_in_days, 150);
    assert_conflict(store.delete_workspace("ws-1", None).await);

    // A transition younger than the minimum age stays put.
    store.settle(Duration::from_secs(3600)).await.unwrap();
    assert_eq!(
        store.workspace("ws-1").await.unwrap().status,
        Status::Creating
    );
    store.settle(Duration::ZERO).await.unwrap();
    let ws = store.workspace("ws-1").await.unwrap();
    assert_eq!(ws.status, Status::Active);
    assert_eq!(
        ws.kms_key_arn.as_deref(),
        Some("arn:aws:kms:us-east-1:123456789012:key/abcd")
    );

    store.delete_workspace("ws-1", None).await.unwrap();
    assert_eq!(
        store.workspace("ws-1").await.unwrap().status,
        Status::Deleting
    );
    assert_conflict(store.delete_workspace("ws-1", None).await);
    store.settle(Duration::ZERO).await.unwrap();
    assert_not_found(store.workspace("ws-1").await);
    assert_not_found(store.delete_workspace("ws-1", None).await);
}

pub async fn create_workspace_is_idempotent(store: Arc<dyn MetadataStore>) {
    let t = token("tok-1", "fp-a");
    let a = store
        .create_workspace(new_ws("ws-a", Some("x")), Some(&t), 10)
        .await
        .unwrap();
    // A retry carries a freshly generated id but the same token: the first result comes back.
    let b = store
        .create_workspace(new_ws("ws-b", Some("x")), Some(&t), 10)
        .await
        .unwrap();
    assert_eq!(a.id, b.id);
    let all = store
        .list_workspaces(None, PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    let other = token("tok-1", "fp-b");
    assert_conflict(
        store
            .create_workspace(new_ws("ws-c", None), Some(&other), 10)
            .await,
    );

    // Deletes replay as successes, even after the workspace is gone.
    store.settle(Duration::ZERO).await.unwrap();
    let d = token("del-1", "fp");
    store.delete_workspace("ws-a", Some(&d)).await.unwrap();
    store.settle(Duration::ZERO).await.unwrap();
    store.delete_workspace("ws-a", Some(&d)).await.unwrap();
    assert_not_found(
        store
            .delete_workspace("ws-a", Some(&token("del-2", "fp")))
            .await,
    );
}

pub async fn concurrent_retries_create_one_workspace(store: Arc<dyn MetadataStore>) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let t = token("same", "fp");
            store
                .create_workspace(new_ws(&format!("ws-{i}"), None), Some(&t), 10)
                .await
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap().id);
    }
    ids.dedup();
    assert_eq!(
        ids.len(),
        1,
        "all retries must see the same workspace: {ids:?}"
    );
    let all = store
        .list_workspaces(None, PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
}

pub async fn workspace_quota(store: Arc<dyn MetadataStore>) {
    store
        .create_workspace(new_ws("ws-1", None), None, 2)
        .await
        .unwrap();
    store
        .create_workspace(new_ws("ws-2", None), None, 2)
        .await
        .unwrap();
    let r = store.create_workspace(new_ws("ws-3", None), None, 2).await;
    assert!(matches!(r, Err(StoreError::QuotaExceeded { .. })), "{r:?}");
}

pub async fn list_workspaces_pages(store: Arc<dyn MetadataStore>) {
    for i in 0..7 {
        let alias = if i % 2 == 0 { "prod-eu" } else { "dev" };
        store
            .create_workspace(new_ws(&format!("ws-{i}"), Some(alias)), None, 100)
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_workspaces(None, PageRequest { after, limit: 3 })
            .await
            .unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.into_iter().map(|w| w.id));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 7, "every workspace exactly once: {seen:?}");
    let prod = store
        .list_workspaces(Some("prod"), PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(prod.items.len(), 4);
    assert!(prod.next.is_none());
    let none = store
        .list_workspaces(Some("staging"), PageRequest::first(100))
        .await
        .unwrap();
    assert!(none.items.is_empty());
}

pub async fn workspace_alias_update(store: Arc<dyn MetadataStore>) {
    store
        .create_workspace(new_ws("ws-1", Some("old")), None, 10)
        .await
        .unwrap();
    assert_conflict(
        store
            .update_workspace_alias("ws-1", Some("new".into()), None)
            .await,
    );
    store.settle(Duration::ZERO).await.unwrap();
    store
        .update_workspace_alias("ws-1", Some("new".into()), None)
        .await
        .unwrap();
    let ws = store.workspace("ws-1").await.unwrap();
    assert_eq!(
        (ws.alias.as_deref(), ws.status),
        (Some("new"), Status::Updating)
    );
    store.settle(Duration::ZERO).await.unwrap();
    assert_eq!(
        store.workspace("ws-1").await.unwrap().status,
        Status::Active
    );
    assert_not_found(store.update_workspace_alias("ws-x", None, None).await);
}

pub async fn workspace_configuration(store: Arc<dyn MetadataStore>) {
    active_ws(&*store, "ws-1").await;
    let limit = LabelSetLimit {
        label_set: [("team".to_owned(), "a".to_owned())].into(),
        max_series: Some(1000),
    };
    let update = WorkspaceConfigurationUpdate {
        retention_period_in_days: Some(30),
        limits_per_label_set: Some(vec![limit.clone()]),
        ..Default::default()
    };
    let c = store
        .update_workspace_configuration("ws-1", update.clone(), None)
        .await
        .unwrap();
    assert_eq!(c.status, Status::Updating);
    assert_conflict(
        store
            .update_workspace_configuration("ws-1", update, None)
            .await,
    );
    // The workspace itself stays ACTIVE while its configuration updates.
    assert_eq!(
        store.workspace("ws-1").await.unwrap().status,
        Status::Active
    );
    store.settle(Duration::ZERO).await.unwrap();
    let update = WorkspaceConfigurationUpdate {
        out_of_order_time_window_in_seconds: Some(600),
        ..Default::default()
    };
    store
        .update_workspace_configuration("ws-1", update, None)
        .await
        .unwrap();
    store.settle(Duration::ZERO).await.unwrap();
    let c = store.workspace("ws-1").await.unwrap().configuration;
    assert_eq!(c.status, Status::Active);
    assert_eq!(c.retention_period_in_days, 30);
    assert_eq!(c.out_of_order_time_window_in_seconds, Some(600));
    assert_eq!(c.limits_per_label_set, vec![limit]);
}

pub async fn tags_merge_limit_and_remove(store: Arc<dyn MetadataStore>) {
    active_ws(&*store, "ws-1").await;
    let ws = ResourceRef::Workspace("ws-1".into());
    store
        .tag_resource(&ws, tags(&[("a", "1"), ("b", "2")]), 3)
        .await
        .unwrap();
    store
        .tag_resource(&ws, tags(&[("b", "3")]), 3)
        .await
        .unwrap();
    assert_eq!(
        store.tags(&ws).await.unwrap(),
        tags(&[("a", "1"), ("b", "3")])
    );
    let r = store
        .tag_resource(&ws, tags(&[("c", ""), ("d", "")]), 3)
        .await;
    assert!(matches!(r, Err(StoreError::LimitExceeded { .. })), "{r:?}");
    store
        .untag_resource(&ws, &["a".into(), "zz".into()])
        .await
        .unwrap();
    assert_eq!(store.tags(&ws).await.unwrap(), tags(&[("b", "3")]));
    assert_not_found(store.tags(&ResourceRef::Workspace("ws-x".into())).await);
    let rgn = ResourceRef::RuleGroupsNamespace {
        workspace_id: "ws-1".into(),
        name: "n".into(),
    };
    assert_not_found(store.tag_resource(&rgn, tags(&[("a", "1")]), 50).await);
}

pub async fn rule_groups_namespaces(store: Arc<dyn MetadataStore>) {
    let new = |name: &str| NewRuleGroupsNamespace {
        workspace_id: "ws-1".into(),
        name: name.into(),
        data: b"groups: []".to_vec(),
        tags: tags(&[("k", "v")]),
    };
    assert_not_found(store.create_rule_groups_namespace(new("a"), None).await);
    store
        .create_workspace(new_ws("ws-1", None), None, 10)
        .await
        .unwrap();
    assert_conflict(store.create_rule_groups_namespace(new("a"), None).await);
    store.settle(Duration::ZERO).await.unwrap();

    let t = token("t", "fp");
    let a = store
        .create_rule_groups_namespace(new("alpha"), Some(&t))
        .await
        .unwrap();
    assert_eq!(a.status, Status::Creating);
    assert_eq!(
        store
            .create_rule_groups_namespace(new("alpha"), Some(&t))
            .await
            .unwrap(),
        a
    );
    assert_conflict(store.create_rule_groups_namespace(new("alpha"), None).await);
    assert_conflict(
        store
            .put_rule_groups_namespace("ws-1", "alpha", vec![1], None)
            .await,
    );
    assert_not_found(
        store
            .put_rule_groups_namespace("ws-1", "nope", vec![1], None)
            .await,
    );
    store
        .create_rule_groups_namespace(new("alpine"), None)
        .await
        .unwrap();
    store
        .create_rule_groups_namespace(new("beta"), None)
        .await
        .unwrap();
    store.settle(Duration::ZERO).await.unwrap();

    let p = store
        .put_rule_groups_namespace("ws-1", "alpha", b"new".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(
        (p.status, p.data.as_slice()),
        (Status::Updating, &b"new"[..])
    );
    assert_eq!(p.tags, tags(&[("k", "v")]));

    let first = store.list_rule_groups_namespaces("ws-1", Some("al"), PageRequest::first(1));
    let first = first.await.unwrap();
    assert_eq!(first.items[0].name, "alpha");
    let second = store
        .list_rule_groups_namespaces(
            "ws-1",
            Some("al"),
            PageRequest {
                after: first.next,
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(second.items[0].name, "alpine");
    assert!(second.next.is_none());
    assert_not_found(
        store
            .list_rule_groups_namespaces("ws-x", None, PageRequest::first(5))
            .await,
    );

    store
        .delete_rule_groups_namespace("ws-1", "beta", None)
        .await
        .unwrap();
    store.settle(Duration::ZERO).await.unwrap();
    assert_not_found(store.rule_groups_namespace("ws-1", "beta").await);
    assert_eq!(
        store
            .rule_groups_namespace("ws-1", "alpha")
            .await
            .unwrap()
            .status,
        Status::Active
    );
}

pub async fn alert_manager_definition(store: Arc<dyn MetadataStore>) {
    active_ws(&*store, "ws-1").await;
    assert_not_found(store.alert_manager_definition("ws-1").await);
    assert_not_found(
        store
            .put_alert_manager_definition("ws-1", vec![1], None)
            .await,
    );
    let d = store
        .create_alert_manager_definition("ws-1", b"one".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(d.status, Status::Creating);
    assert_conflict(
        store
            .create_alert_manager_definition("ws-1", vec![2], None)
            .await,
    );
    store.settle(Duration::ZERO).await.unwrap();
    store
        .put_alert_manager_definition("ws-1", b"two".to_vec(), None)
        .await
        .unwrap();
    store.settle(Duration::ZERO).await.unwrap();
    let d = store.alert_manager_definition("ws-1").await.unwrap();
    assert_eq!((d.status, d.data.as_slice()), (Status::Active, &b"two"[..]));
    store
        .delete_alert_manager_definition("ws-1", None)
        .await
        .unwrap();
    store.settle(Duration::ZERO).await.unwrap();
    assert_not_found(store.alert_manager_definition("ws-1").await);
}

pub async fn logging_configurations(store: Arc<dyn MetadataStore>) {
    active_ws(&*store, "ws-1").await;
    let doc =
        serde_json::json!({"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:a:*"});
    let c = store
        .create_logging_configuration("ws-1", LoggingKind::Workspace, doc.clone(), None)
        .await
        .unwrap();
    assert_eq!(c.status, Status::Creating);
    assert_not_found(
        store
            .logging_configuration("ws-1", LoggingKind::Query)
            .await,
    );
    assert_conflict(
        store
            .create_logging_configuration("ws-1", LoggingKind::Workspace, doc.clone(), None)
            .await,
    );
    store
        .create_logging_configuration("ws-1", LoggingKind::Query, doc, None)
        .await
        .unwrap();
    store.settle(Duration::ZERO).await.unwrap();
    let doc2 = serde_json::json!({"logGroupArn": "other"});
    store
        .update_logging_configuration("ws-1", LoggingKind::Workspace, doc2.clone(), None)
        .await
        .unwrap();
    let c = store
        .logging_configuration("ws-1", LoggingKind::Workspace)
        .await
        .unwrap();
    assert_eq!((c.status, c.document), (Status::Updating, doc2));
    store
        .delete_logging_configuration("ws-1", LoggingKind::Query, None)
        .await
        .unwrap();
    store.settle(Duration::ZERO).await.unwrap();
    assert_not_found(
        store
            .logging_configuration("ws-1", LoggingKind::Query)
            .await,
    );
    assert!(
        store
            .logging_configuration("ws-1", LoggingKind::Workspace)
            .await
            .is_ok()
    );
}

pub async fn resource_policy_revisions(store: Arc<dyn MetadataStore>) {
    active_ws(&*store, "ws-1").await;
    assert_not_found(store.resource_policy("ws-1").await);
    assert_conflict(
        store
            .put_resource_policy("ws-1", "{}".into(), Some("r0"), None)
            .await,
    );
    let p1 = store
        .put_resource_policy("ws-1", "{}".into(), Some(NO_POLICY), None)
        .await
        .unwrap();
    assert_eq!(p1.status, Status::Creating);
    store.settle(Duration::ZERO).await.unwrap();
    assert_conflict(
        store
            .put_resource_policy("ws-1", "{}".into(), Some(NO_POLICY), None)
            .await,
    );
    let p2 = store
        .put_resource_policy("ws-1", "{\"a\":1}".into(), Some(&p1.revision_id), None)
        .await
        .unwrap();
    assert_ne!(p1.revision_id, p2.revision_id);
    store.settle(Duration::ZERO).await.unwrap();
    assert_conflict(
        store
            .delete_resource_policy("ws-1", Some(&p1.revision_id), None)
            .await,
    );
    let current = store.resource_policy("ws-1").await.unwrap();
    assert_eq!(
        (current.document.as_str(), current.status),
        ("{\"a\":1}", Status::Active)
    );
    store
        .delete_resource_policy("ws-1", Some(&p2.revision_id), None)
        .await
        .unwrap();
    store.settle(Duration::ZERO).await.unwrap();
    assert_not_found(store.resource_policy("ws-1").await);
}

pub async fn scrapers(store: Arc<dyn MetadataStore>) {
    let spec = |alias: &str, src: &str| ScraperSpec {
        alias: Some(alias.into()),
        source_arn: src.into(),
        destination_arn: "arn:aws:aps:us-east-1:123456789012:workspace/ws-1".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        document: serde_json::json!({"k": alias}),
    };
    let new = |id: &str, alias: &str, src: &str| NewScraper {
        id: id.into(),
        spec: spec(alias, src),
        tags: Tags::new(),
    };
    store
        .create_scraper(new("s-1", "one", "eks/a"), None)
        .await
        .unwrap();
    store.settle(Duration::ZERO).await.unwrap();
    store
        .create_scraper(new("s-2", "two", "eks/b"), None)
        .await
        .unwrap();
    let f = ScraperFilter {
        status: vec!["ACTIVE".into()],
        ..Default::default()
    };
    let page = store
        .list_scrapers(&f, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["s-1"]
    );
    let f = ScraperFilter {
        alias: vec!["one".into(), "two".into()],
        source_arn: vec!["eks/b".into()],
        ..Default::default()
    };
    let page = store
        .list_scrapers(&f, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["s-2"]
    );
    let all = store
        .list_scrapers(&ScraperFilter::default(), PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    assert!(all.next.is_some());

    let s = store
        .update_scraper("s-1", spec("renamed", "eks/a"), None)
        .await
        .unwrap();
    assert_eq!(
        (s.status, s.spec.alias.as_deref()),
        (Status::Updating, Some("renamed"))
    );
    assert_conflict(
        store
            .update_scraper("s-1", spec("again", "eks/a"), None)
            .await,
    );
    store.settle(Duration::ZERO).await.unwrap();

    let doc = serde_json::json!({"loggingDestination": {}});
    let c = store
        .put_scraper_logging_configuration("s-1", doc)
        .await
        .unwrap();
    assert_eq!(c.status, Status::Creating);
    assert_not_found(store.scraper_logging_configuration("s-2").await);
    let d = store.delete_scraper("s-1", None).await.unwrap();
    assert_eq!(d.status, Status::Deleting);
    store.settle(Duration::ZERO).await.unwrap();
    assert_not_found(store.scraper("s-1").await);
    assert_not_found(store.scraper_logging_configuration("s-1").await);
}

pub async fn anomaly_detectors(store: Arc<dyn MetadataStore>) {
    active_ws(&*store, "ws-1").await;
    let new = |id: &str, alias: &str| NewAnomalyDetector {
        workspace_id: "ws-1".into(),
        id: id.into(),
        spec: crate::AnomalyDetectorSpec {
            alias: alias.into(),
            document: serde_json::json!({}),
        },
        tags: tags(&[("t", "1")]),
    };
    let a = store
        .create_anomaly_detector(new("ad-1", "cpu"), None)
        .await
        .unwrap();
    assert_eq!(a.status, Status::Creating);
    assert_conflict(
        store
            .create_anomaly_detector(new("ad-1", "cpu"), None)
            .await,
    );
    store
        .create_anomaly_detector(new("ad-2", "mem"), None)
        .await
        .unwrap();
    // Put creates a detector that does not exist yet.
    let p = store
        .put_anomaly_detector("ws-1", "ad-3", serde_json::json!({"x": 1}), None)
        .await
        .unwrap();
    assert_eq!(
        (p.status, p.spec.alias.as_str()),
        (Status::Creating, "ad-3")
    );
    store.settle(Duration::ZERO).await.unwrap();
    let p = store
        .put_anomaly_detector("ws-1", "ad-1", serde_json::json!({"x": 2}), None)
        .await
        .unwrap();
    assert_eq!((p.status, p.spec.alias.as_str()), (Status::Updating, "cpu"));
    let cpu = store
        .list_anomaly_detectors("ws-1", Some("cp"), PageRequest::first(10))
        .await;
    assert_eq!(cpu.unwrap().items.len(), 1);
    let paged = store
        .list_anomaly_detectors("ws-1", None, PageRequest::first(2))
        .await
        .unwrap();
    assert_eq!(paged.items.len(), 2);
    let rest = store
        .list_anomaly_detectors(
            "ws-1",
            None,
            PageRequest {
                after: paged.next,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    store
        .delete_anomaly_detector("ws-1", "ad-2", None)
        .await
        .unwrap();
    assert_conflict(store.delete_anomaly_detector("ws-1", "ad-2", None).await);
    store.settle(Duration::ZERO).await.unwrap();
    assert_not_found(store.anomaly_detector("ws-1", "ad-2").await);
}

pub async fn delete_cascades(store: Arc<dyn MetadataStore>) {
    active_ws(&*store, "ws-1").await;
    let rgn = NewRuleGroupsNamespace {
        workspace_id: "ws-1".into(),
        name: "n".into(),
        data: vec![],
        tags: Tags::new(),
    };
    store.create_rule_groups_namespace(rgn, None).await.unwrap();
    store
        .create_alert_manager_definition("ws-1", vec![], None)
        .await
        .unwrap();
    store
        .put_resource_policy("ws-1", "{}".into(), None, None)
        .await
        .unwrap();
    store.settle(Duration::ZERO).await.unwrap();
    store.delete_workspace("ws-1", None).await.unwrap();
    store.settle(Duration::ZERO).await.unwrap();
    // A new workspace with the same id must not inherit anything.
    active_ws(&*store, "ws-1").await;
    assert_not_found(store.rule_groups_namespace("ws-1", "n").await);
    assert_not_found(store.alert_manager_definition("ws-1").await);
    assert_not_found(store.resource_policy("ws-1").await);
}
