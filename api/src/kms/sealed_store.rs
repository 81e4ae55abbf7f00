//! Rule groups and alertmanager definitions sealed with the workspace's data key before they
//! reach the metadata store: a [`MetadataStore`] decorator, so every store gets it and the
//! handlers stay unaware.
//!
//! Definitions are sealed with AES-256-GCM under the workspace's data key, bound to the
//! workspace and namespace name. While the workspace's KMS key is not usable, reading or
//! writing them fails with a `ConflictException` naming the key; once the data key is
//! destroyed (workspace or key deleted) they cannot be read again.

use std::sync::Arc;
use std::time::Duration;

use ampd_backends::{
    AlertManagerDefinition, AnomalyDetector, ClientToken, LoggingConfiguration, LoggingKind,
    MetadataStore, NewAnomalyDetector, NewRuleGroupsNamespace, NewScraper, NewWorkspace, Page,
    PageRequest, ResourcePolicy, ResourceRef, ResourceType, RuleGroupsNamespace, Scraper,
    ScraperFilter, ScraperLoggingConfiguration, ScraperSpec, StoreError, StoreResult, Tags,
    Workspace, WorkspaceConfiguration, WorkspaceConfigurationUpdate,
};
use async_trait::async_trait;

use super::{KeyAccessError, WorkspaceKeys};

/// A metadata store whose rule groups and alertmanager definitions are sealed.
#[derive(Debug)]
pub struct SealedDefinitions {
    inner: Arc<dyn MetadataStore>,
    keys: Arc<WorkspaceKeys>,
}

fn rule_groups_aad(workspace_id: &str, name: &str) -> Vec<u8> {
    format!("ampd/rule-groups-namespace\0{workspace_id}\0{name}").into_bytes()
}

fn alert_manager_aad(workspace_id: &str) -> Vec<u8> {
    format!("ampd/alert-manager-definition\0{workspace_id}").into_bytes()
}

fn store_error(workspace_id: &str, e: KeyAccessError) -> StoreError {
    match e {
        KeyAccessError::KeyUnusable { message, .. } => StoreError::Conflict {
            message,
            resource_type: ResourceType::Workspace,
            resource_id: workspace_id.to_owned(),
        },
        KeyAccessError::Internal(e) => StoreError::Internal(e.into()),
    }
}

impl SealedDefinitions {
    /// Wraps `inner`, sealing definitions with the data keys `keys` manages.
    pub fn new(inner: Arc<dyn MetadataStore>, keys: Arc<WorkspaceKeys>) -> Self {
        Self { inner, keys }
    }

    async fn seal(&self, workspace_id: &str, aad: &[u8], plain: &[u8]) -> StoreResult<Vec<u8>> {
        let ws = self.inner.workspace(workspace_id).await?;
        self.keys
            .seal(&ws, aad, plain)
            .await
            .map_err(|e| store_error(workspace_id, e))
    }

    async fn open(&self, workspace_id: &str, aad: &[u8], sealed: &[u8]) -> StoreResult<Vec<u8>> {
        let ws = self.inner.workspace(workspace_id).await?;
        self.keys
            .open(&ws, aad, sealed)
            .await
            .map_err(|e| store_error(workspace_id, e))
    }

    async fn open_rgn(&self, mut rgn: RuleGroupsNamespace) -> StoreResult<RuleGroupsNamespace> {
        let aad = rule_groups_aad(&rgn.workspace_id, &rgn.name);
        rgn.data = self.open(&rgn.workspace_id, &aad, &rgn.data).await?;
        Ok(rgn)
    }

    async fn open_amd(
        &self,
        mut amd: AlertManagerDefinition,
    ) -> StoreResult<AlertManagerDefinition> {
        let aad = alert_manager_aad(&amd.workspace_id);
        amd.data = self.open(&amd.workspace_id, &aad, &amd.data).await?;
        Ok(amd)
    }
}

#[async_trait]
impl MetadataStore for SealedDefinitions {
    async fn create_rule_groups_namespace(
        &self,
        mut new: NewRuleGroupsNamespace,
        token: Option<&ClientToken>,
    ) -> StoreResult<RuleGroupsNamespace> {
        let aad = rule_groups_aad(&new.workspace_id, &new.name);
        new.data = self.seal(&new.workspace_id, &aad, &new.data).await?;
        let rgn = self.inner.create_rule_groups_namespace(new, token).await?;
        self.open_rgn(rgn).await
    }

    async fn put_rule_groups_namespace(
        &self,
        workspace_id: &str,
        name: &str,
        data: Vec<u8>,
        token: Option<&ClientToken>,
    ) -> StoreResult<RuleGroupsNamespace> {
        let sealed = self
            .seal(workspace_id, &rule_groups_aad(workspace_id, name), &data)
            .await?;
        let rgn = self
            .inner
            .put_rule_groups_namespace(workspace_id, name, sealed, token)
            .await?;
        self.open_rgn(rgn).await
    }

    async fn rule_groups_namespace(
        &self,
        workspace_id: &str,
        name: &str,
    ) -> StoreResult<RuleGroupsNamespace> {
        let rgn = self.inner.rule_groups_namespace(workspace_id, name).await?;
        self.open_rgn(rgn).await
    }

    async fn list_rule_groups_namespaces(
        &self,
        workspace_id: &str,
        name_prefix: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<RuleGroupsNamespace>> {
        let mut listed = self
            .inner
            .list_rule_groups_namespaces(workspace_id, name_prefix, page)
            .await?;
        let mut items = Vec::with_capacity(listed.items.len());
        for rgn in std::mem::take(&mut listed.items) {
            items.push(self.open_rgn(rgn).await?);
        }
        listed.items = items;
        Ok(listed)
    }

    async fn create_alert_manager_definition(
        &self,
        workspace_id: &str,
        data: Vec<u8>,
        token: Option<&ClientToken>,
    ) -> StoreResult<AlertManagerDefinition> {
        let sealed = self
            .seal(workspace_id, &alert_manager_aad(workspace_id), &data)
            .await?;
        let amd = self
            .inner
            .create_alert_manager_definition(workspace_id, sealed, token)
            .await?;
        self.open_amd(amd).await
    }

    async fn put_alert_manager_definition(
        &self,
        workspace_id: &str,
        data: Vec<u8>,
        token: Option<&ClientToken>,
    ) -> StoreResult<AlertManagerDefinition> {
        let sealed = self
            .seal(workspace_id, &alert_manager_aad(workspace_id), &data)
            .await?;
        let amd = self
            .inner
            .put_alert_manager_definition(workspace_id, sealed, token)
            .await?;
        self.open_amd(amd).await
    }

    async fn alert_manager_definition(
        &self,
        workspace_id: &str,
    ) -> StoreResult<AlertManagerDefinition> {
        let amd = self.inner.alert_manager_definition(workspace_id).await?;
        self.open_amd(amd).await
    }

    // Everything else holds no workspace data and passes through.

    async fn create_workspace(
        &self,
        new: NewWorkspace,
        token: Option<&ClientToken>,
        max_workspaces: u32,
    ) -> StoreResult<Workspace> {
        self.inner
            .create_workspace(new, token, max_workspaces)
            .await
    }

    async fn workspace(&self, id: &str) -> StoreResult<Workspace> {
        self.inner.workspace(id).await
    }

    async fn list_workspaces(
        &self,
        alias_prefix: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<Workspace>> {
        self.inner.list_workspaces(alias_prefix, page).await
    }

    async fn update_workspace_alias(
        &self,
        id: &str,
        alias: Option<String>,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        self.inner.update_workspace_alias(id, alias, token).await
    }

    async fn delete_workspace(&self, id: &str, token: Option<&ClientToken>) -> StoreResult<()> {
        self.inner.delete_workspace(id, token).await
    }

    async fn update_workspace_configuration(
        &self,
        id: &str,
        update: WorkspaceConfigurationUpdate,
        token: Option<&ClientToken>,
    ) -> StoreResult<WorkspaceConfiguration> {
        self.inner
            .update_workspace_configuration(id, update, token)
            .await
    }

    async fn tags(&self, resource: &ResourceRef) -> StoreResult<Tags> {
        self.inner.tags(resource).await
    }

    async fn tag_resource(
        &self,
        resource: &ResourceRef,
        tags: Tags,
        max_tags: usize,
    ) -> StoreResult<()> {
        self.inner.tag_resource(resource, tags, max_tags).await
    }

    async fn untag_resource(&self, resource: &ResourceRef, keys: &[String]) -> StoreResult<()> {
        self.inner.untag_resource(resource, keys).await
    }

    async fn delete_rule_groups_namespace(
        &self,
        workspace_id: &str,
        name: &str,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        self.inner
            .delete_rule_groups_namespace(workspace_id, name, token)
            .await
    }

    async fn delete_alert_manager_definition(
        &self,
        workspace_id: &str,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        self.inner
            .delete_alert_manager_definition(workspace_id, token)
            .await
    }

    async fn create_logging_configuration(
        &self,
        workspace_id: &str,
        kind: LoggingKind,
        document: serde_json::Value,
        token: Option<&ClientToken>,
    ) -> StoreResult<LoggingConfiguration> {
        self.inner
            .create_logging_configuration(workspace_id, kind, document, token)
            .await
    }

    async fn update_logging_configuration(
        &self,
        workspace_id: &str,
        kind: LoggingKind,
        document: serde_json::Value,
        token: Option<&ClientToken>,
    ) -> StoreResult<LoggingConfiguration> {
        self.inner
            .update_logging_configuration(workspace_id, kind, document, token)
            .await
    }

    async fn logging_configuration(
        &self,
        workspace_id: &str,
        kind: LoggingKind,
    ) -> StoreResult<LoggingConfiguration> {
        self.inner.logging_configuration(workspace_id, kind).await
    }

    async fn delete_logging_configuration(
        &self,
        workspace_id: &str,
        kind: LoggingKind,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        self.inner
            .delete_logging_configuration(workspace_id, kind, token)
            .await
    }

    async fn put_resource_policy(
        &self,
        workspace_id: &str,
        document: String,
        expected_revision: Option<&str>,
        token: Option<&ClientToken>,
    ) -> StoreResult<ResourcePolicy> {
        self.inner
            .put_resource_policy(workspace_id, document, expected_revision, token)
            .await
    }

    async fn resource_policy(&self, workspace_id: &str) -> StoreResult<ResourcePolicy> {
        self.inner.resource_policy(workspace_id).await
    }

    async fn delete_resource_policy(
        &self,
        workspace_id: &str,
        expected_revision: Option<&str>,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        self.inner
            .delete_resource_policy(workspace_id, expected_revision, token)
            .await
    }

    async fn create_scraper(
        &self,
        new: NewScraper,
        token: Option<&ClientToken>,
    ) -> StoreResult<Scraper> {
        self.inner.create_scraper(new, token).await
    }

    async fn scraper(&self, id: &str) -> StoreResult<Scraper> {
        self.inner.scraper(id).await
    }

    async fn list_scrapers(
        &self,
        filter: &ScraperFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Scraper>> {
        self.inner.list_scrapers(filter, page).await
    }

    async fn update_scraper(
        &self,
        id: &str,
        spec: ScraperSpec,
        token: Option<&ClientToken>,
    ) -> StoreResult<Scraper> {
        self.inner.update_scraper(id, spec, token).await
    }

    async fn delete_scraper(&self, id: &str, token: Option<&ClientToken>) -> StoreResult<Scraper> {
        self.inner.delete_scraper(id, token).await
    }

    async fn put_scraper_logging_configuration(
        &self,
        scraper_id: &str,
        document: serde_json::Value,
    ) -> StoreResult<ScraperLoggingConfiguration> {
        self.inner
            .put_scraper_logging_configuration(scraper_id, document)
            .await
    }

    async fn scraper_logging_configuration(
        &self,
        scraper_id: &str,
    ) -> StoreResult<ScraperLoggingConfiguration> {
        self.inner.scraper_logging_configuration(scraper_id).await
    }

    async fn delete_scraper_logging_configuration(
        &self,
        scraper_id: &str,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        self.inner
            .delete_scraper_logging_configuration(scraper_id, token)
            .await
    }

    async fn create_anomaly_detector(
        &self,
        new: NewAnomalyDetector,
        token: Option<&ClientToken>,
    ) -> StoreResult<AnomalyDetector> {
        self.inner.create_anomaly_detector(new, token).await
    }

    async fn put_anomaly_detector(
        &self,
        workspace_id: &str,
        id: &str,
        document: serde_json::Value,
        token: Option<&ClientToken>,
    ) -> StoreResult<AnomalyDetector> {
        self.inner
            .put_anomaly_detector(workspace_id, id, document, token)
            .await
    }

    async fn anomaly_detector(&self, workspace_id: &str, id: &str) -> StoreResult<AnomalyDetector> {
        self.inner.anomaly_detector(workspace_id, id).await
    }

    async fn list_anomaly_detectors(
        &self,
        workspace_id: &str,
        alias_prefix: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<AnomalyDetector>> {
        self.inner
            .list_anomaly_detectors(workspace_id, alias_prefix, page)
            .await
    }

    async fn delete_anomaly_detector(
        &self,
        workspace_id: &str,
        id: &str,
        token: Option<&ClientToken>,
    ) -> StoreResult<()> {
        self.inner
            .delete_anomaly_detector(workspace_id, id, token)
            .await
    }

    async fn settle(&self, min_age: Duration) -> StoreResult<u64> {
        self.inner.settle(min_age).await
    }
}
