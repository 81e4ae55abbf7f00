//! The metadata store contract.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::StoreResult;
use crate::model::{
    AlertManagerDefinition, AnomalyDetector, ClientToken, LoggingConfiguration, LoggingKind,
    NewAnomalyDetector, NewRuleGroupsNamespace, NewScraper, NewWorkspace, Page, PageRequest,
    ResourcePolicy, ResourceRef, RuleGroupsNamespace, Scraper, ScraperFilter,
    ScraperLoggingConfiguration, ScraperSpec, Tags, Workspace, WorkspaceConfiguration,
    WorkspaceConfigurationUpdate,
};

/// Control-plane metadata: every mutation is one transaction, and idempotency and optimistic
/// concurrency are checked inside it, so several nodes on one database act as one service.
///
/// Mutations that take a [`ClientToken`] record it with the outcome; a retry with the same token
/// and fingerprint returns the recorded outcome without a second side effect, a retry with a
/// different fingerprint fails with [`crate::StoreError::Conflict`].
///
/// Creates and updates leave the resource in a transitional status (`CREATING`, `UPDATING`,
/// `DELETING`); [`MetadataStore::settle`] completes transitions older than a minimum age.
#[async_trait]
pub trait MetadataStore: fmt::Debug + Send + Sync + 'static {
    /// Creates a workspace in `CREATING` unless `max_workspaces` exist already.
    async fn create_workspace(
        &self,
        new: NewWorkspace,
        token: Option<&ClientToken>,
        max_workspaces: u32,
    ) -> StoreResult<Workspace>;
    /// Returns one workspace.
    async fn workspace(&self, id: &str) -> StoreResult<Workspace>;
    /// Lists workspaces whose alias starts with `alias_prefix`, oldest first.
    async fn list_workspaces(
        &self,
        alias_prefix: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<Workspace>>;
    /// Sets (or clears) the alias of an `ACTIVE` workspace, moving it to `UPDATING`.
    async fn update_workspace_alias(
        &self,
        id: &str,
        alias: Option<String>,
        token: Option<&ClientToken>,
    ) -> StoreResult<()>;
    /// Moves a workspace to `DELETING`; it and everything under it go away on settle.
    async fn delete_workspace(&self, id: &str, token: Option<&ClientToken>) -> StoreResult<()>;
    /// Applies a configuration change, moving the configuration to `UPDATING`.
    async fn update_workspace_configuration(
        &self,
        id: &str,
        update: WorkspaceConfigurationUpdate,
        token: Option<&ClientToken>,
    ) -> StoreResult<WorkspaceConfiguration>;

    /// Returns the tags of a resource.
    async fn tags(&self, resource: &ResourceRef) -> StoreResult<Tags>;
    /// Merges tags into a resource, refusing a result above `max_tags`.
    async fn tag_resource(
        &self,
        resource: &ResourceRef,
        tags: Tags,
        max_tags: usize,
    ) -> StoreResult<()>;
    /// Removes tag keys from a resource (absent keys are ignored).
    async fn untag_resource(&self, resource: &ResourceRef, keys: &[String]) -> StoreResult<()>;

    /// Creates a rule groups namespace in `CREATING`.
    async fn create_rule_groups_namespace(
        &self,
        new: NewRuleGroupsNamespace,
        token: Option<&ClientToken>,
    ) -> StoreResult<RuleGroupsNamespace>;
    /// Replaces the rules of an existing namespace, moving it to `UPDATING`.
    async fn put_rule_groups_namespace(
        &self,
        workspace_id: &str,
        name: &str,
        data: Vec<u8>,
        token: Option<&ClientToken>,
    ) -> StoreResult<RuleGroupsNamespace>;
    /// Returns one rule groups namespace.
    async fn rule_groups_namespace(
        &self,
        workspace_id: &str,
        name: &str,
    ) -> StoreResult<RuleGroupsNamespace>;
    /// Lists namespaces whose name starts with `name_prefix`, by name.
    async fn list_rule_groups_namespaces(
        &self,
        workspace_id: &str,
        name_prefix: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<RuleGroupsNamespace>>;
    /// Moves a namespace to `DELETING`.
    async fn delete_rule_groups_namespace(
        &self,
        workspace_id: &str,
        name: &str,
        token: Option<&ClientToken>,
    ) -> StoreResult<()>;

    /// Creates the alert manager definition of a workspace in `CREATING`.
    async fn create_alert_manager_definition(
        &self,
        workspace_id: &str,
        data: Vec<u8>,
        token: Option<&ClientToken>,
    ) -> StoreResult<AlertManagerDefinition>;
    /// Replaces an existing definition, moving it to `UPDATING`.
    async fn put_alert_manager_definition(
        &self,
        workspace_id: &str,
        data: Vec<u8>,
        token: Option<&ClientToken>,
    ) -> StoreResult<AlertManagerDefinition>;
    /// Returns the definition of a workspace.
    async fn alert_manager_definition(
        &self,
        workspace_id: &str,
    ) -> StoreResult<AlertManagerDefinition>;
    /// Moves the definition to `DELETING`.
    async fn delete_alert_manager_definition(
        &self,
        workspace_id: &str,
        token: Option<&ClientToken>,
    ) -> StoreResult<()>;

    /// Creates a logging configuration in `CREATING`.
    async fn create_logging_configuration(
        &self,
        workspace_id: &str,
        kind: LoggingKind,
        document: serde_json::Value,
        token: Option<&ClientToken>,
    ) -> StoreResult<LoggingConfiguration>;
    /// Replaces an existing logging configuration, moving it to `UPDATING`.
    async fn update_logging_configuration(
        &self,
        workspace_id: &str,
        kind: LoggingKind,
        document: serde_json::Value,
        token: Option<&ClientToken>,
    ) -> StoreResult<LoggingConfiguration>;
    /// Returns a logging configuration.
    async fn logging_configuration(
        &self,
        workspace_id: &str,
        kind: LoggingKind,
    ) -> StoreResult<LoggingConfiguration>;
    /// Moves a logging configuration to `DELETING`.
    async fn delete_logging_configuration(
        &self,
        workspace_id: &str,
        kind: LoggingKind,
        token: Option<&ClientToken>,
    ) -> StoreResult<()>;

    /// Creates or replaces the resource policy if `expected_revision` matches the current one
    /// (`None`: no check; [`crate::NO_POLICY`]: no policy may exist yet).
    async fn put_resource_policy(
        &self,
        workspace_id: &str,
        document: String,
        expected_revision: Option<&str>,
        token: Option<&ClientToken>,
    ) -> StoreResult<ResourcePolicy>;
    /// Returns the resource policy of a workspace.
    async fn resource_policy(&self, workspace_id: &str) -> StoreResult<ResourcePolicy>;
    /// Moves the policy to `DELETING` if `expected_revision` (when given) matches.
    async fn delete_resource_policy(
        &self,
        workspace_id: &str,
        expected_revision: Option<&str>,
        token: Option<&ClientToken>,
    ) -> StoreResult<()>;

    /// Creates a scraper in `CREATING`.
    async fn create_scraper(
        &self,
        new: NewScraper,
        token: Option<&ClientToken>,
    ) -> StoreResult<Scraper>;
    /// Returns one scraper.
    async fn scraper(&self, id: &str) -> StoreResult<Scraper>;
    /// Lists scrapers matching `filter`, oldest first.
    async fn list_scrapers(
        &self,
        filter: &ScraperFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Scraper>>;
    /// Replaces the spec of an `ACTIVE` scraper, moving it to `UPDATING`.
    async fn update_scraper(
        &self,
        id: &str,
        spec: ScraperSpec,
        token: Option<&ClientToken>,
    ) -> StoreResult<Scraper>;
    /// Moves a scraper to `DELETING` and returns it.
    async fn delete_scraper(&self, id: &str, token: Option<&ClientToken>) -> StoreResult<Scraper>;
    /// Creates or replaces the logging configuration of a scraper.
    async fn put_scraper_logging_configuration(
        &self,
        scraper_id: &str,
        document: serde_json::Value,
    ) -> StoreResult<ScraperLoggingConfiguration>;
    /// Returns the logging configuration of a scraper.
    async fn scraper_logging_configuration(
        &self,
        scraper_id: &str,
    ) -> StoreResult<ScraperLoggingConfiguration>;
    /// Moves the logging configuration of a scraper to `DELETING`.
    async fn delete_scraper_logging_configuration(
        &self,
        scraper_id: &str,
        token: Option<&ClientToken>,
    ) -> StoreResult<()>;

    /// Creates an anomaly detector in `CREATING`.
    async fn create_anomaly_detector(
        &self,
        new: NewAnomalyDetector,
        token: Option<&ClientToken>,
    ) -> StoreResult<AnomalyDetector>;
    /// Creates (alias = id) or replaces the document of an anomaly detector.
    async fn put_anomaly_detector(
        &self,
        workspace_id: &str,
        id: &str,
        document: serde_json::Value,
        token: Option<&ClientToken>,
    ) -> StoreResult<AnomalyDetector>;
    /// Returns one anomaly detector.
    async fn anomaly_detector(&self, workspace_id: &str, id: &str) -> StoreResult<AnomalyDetector>;
    /// Lists the detectors of a workspace whose alias starts with `alias_prefix`, oldest first.
    async fn list_anomaly_detectors(
        &self,
        workspace_id: &str,
        alias_prefix: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<Page<AnomalyDetector>>;
    /// Moves a detector to `DELETING`.
    async fn delete_anomaly_detector(
        &self,
        workspace_id: &str,
        id: &str,
        token: Option<&ClientToken>,
    ) -> StoreResult<()>;

    /// Completes every transition that started at least `min_age` ago: `CREATING`/`UPDATING`
    /// become `ACTIVE`, `DELETING` resources are removed (a workspace with all it owns), and
    /// idempotency records older than a day are forgotten. Returns how many rows changed.
    async fn settle(&self, min_age: Duration) -> StoreResult<u64>;
}
