//! Wire types of the AMP control plane (JSON member names as in the botocore `amp` model).
//!
//! Blobs travel as base64 strings and timestamps as epoch seconds (JSON numbers). Absent
//! optional members are omitted from responses. Reference:
//! <https://docs.aws.amazon.com/prometheus/latest/APIReference/API_Operations.html>.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Tags of a resource.
pub type TagMap = BTreeMap<String, String>;

/// Status of a resource: `statusCode` plus an optional reason.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, `CREATION_FAILED`, `UPDATE_FAILED`, …
    pub status_code: String,
    /// Why the resource is in a failed state.
    pub status_reason: Option<String>,
}

// ---- workspaces -------------------------------------------------------------------------------

/// [CreateWorkspace](https://docs.aws.amazon.com/prometheus/latest/APIReference/API_CreateWorkspace.html) body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateWorkspaceRequest {
    /// Friendly name (not unique), 1..100 characters.
    pub alias: Option<String>,
    /// Idempotency token.
    pub client_token: Option<String>,
    /// Initial tags.
    pub tags: Option<TagMap>,
    /// Customer managed KMS key ARN.
    pub kms_key_arn: Option<String>,
}

/// CreateWorkspace response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateWorkspaceResponse {
    /// `ws-…` id.
    pub workspace_id: String,
    /// Workspace ARN.
    pub arn: String,
    /// Status (`CREATING`).
    pub status: ResourceStatus,
    /// Tags.
    pub tags: Option<TagMap>,
    /// KMS key ARN.
    pub kms_key_arn: Option<String>,
}

/// A workspace in DescribeWorkspace.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceDescription {
    /// `ws-…` id.
    pub workspace_id: String,
    /// Alias.
    pub alias: Option<String>,
    /// ARN.
    pub arn: String,
    /// Status.
    pub status: ResourceStatus,
    /// Base URL of the workspace's Prometheus-compatible endpoints.
    pub prometheus_endpoint: Option<String>,
    /// Creation time (epoch seconds).
    pub created_at: f64,
    /// Tags.
    pub tags: Option<TagMap>,
    /// KMS key ARN.
    pub kms_key_arn: Option<String>,
}

/// DescribeWorkspace response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeWorkspaceResponse {
    /// The workspace.
    pub workspace: WorkspaceDescription,
}

/// A workspace in ListWorkspaces.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSummary {
    /// `ws-…` id.
    pub workspace_id: String,
    /// Alias.
    pub alias: Option<String>,
    /// ARN.
    pub arn: String,
    /// Status.
    pub status: ResourceStatus,
    /// Creation time (epoch seconds).
    pub created_at: f64,
    /// Tags.
    pub tags: Option<TagMap>,
    /// KMS key ARN.
    pub kms_key_arn: Option<String>,
}

/// ListWorkspaces response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListWorkspacesResponse {
    /// One page of workspaces.
    pub workspaces: Vec<WorkspaceSummary>,
    /// Token of the next page.
    pub next_token: Option<String>,
}

/// UpdateWorkspaceAlias body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateWorkspaceAliasRequest {
    /// New alias; absent clears it.
    pub alias: Option<String>,
    /// Idempotency token.
    pub client_token: Option<String>,
}

/// Limits of one label set.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitsPerLabelSetEntry {
    /// Maximum active series (0 = not enforced).
    pub max_series: Option<i64>,
}

/// A `limitsPerLabelSet` entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitsPerLabelSet {
    /// The limits.
    pub limits: LimitsPerLabelSetEntry,
    /// Label name/value pairs.
    pub label_set: BTreeMap<String, String>,
}

/// The configuration of a workspace.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceConfigurationDescription {
    /// Status of the configuration.
    pub status: ResourceStatus,
    /// Label-set limits.
    pub limits_per_label_set: Option<Vec<LimitsPerLabelSet>>,
    /// Retention in days.
    pub retention_period_in_days: Option<i64>,
    /// Out-of-order ingestion window.
    pub out_of_order_time_window_in_seconds: Option<i64>,
    /// Rule query offset.
    pub rule_query_offset_in_seconds: Option<i64>,
}

/// DescribeWorkspaceConfiguration response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeWorkspaceConfigurationResponse {
    /// The configuration.
    pub workspace_configuration: WorkspaceConfigurationDescription,
}

/// UpdateWorkspaceConfiguration body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateWorkspaceConfigurationRequest {
    /// Idempotency token.
    pub client_token: Option<String>,
    /// Replacement label-set limits.
    pub limits_per_label_set: Option<Vec<LimitsPerLabelSet>>,
    /// Retention in days (1..1095).
    pub retention_period_in_days: Option<i64>,
    /// Out-of-order ingestion window.
    pub out_of_order_time_window_in_seconds: Option<i64>,
    /// Rule query offset.
    pub rule_query_offset_in_seconds: Option<i64>,
}

/// Response carrying only a status (many mutations).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusResponse {
    /// Status after the request.
    pub status: ResourceStatus,
}

// ---- tags -------------------------------------------------------------------------------------

/// TagResource body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceRequest {
    /// Tags to add or overwrite.
    pub tags: TagMap,
}

/// ListTagsForResource response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceResponse {
    /// All tags of the resource.
    pub tags: Option<TagMap>,
}

// ---- rule groups namespaces -------------------------------------------------------------------

/// CreateRuleGroupsNamespace body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRuleGroupsNamespaceRequest {
    /// Namespace name.
    pub name: String,
    /// Prometheus rules file, base64.
    #[schema(format = Byte)]
    pub data: String,
    /// Idempotency token.
    pub client_token: Option<String>,
    /// Initial tags.
    pub tags: Option<TagMap>,
}

/// PutRuleGroupsNamespace body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutRuleGroupsNamespaceRequest {
    /// Prometheus rules file, base64.
    #[schema(format = Byte)]
    pub data: String,
    /// Idempotency token.
    pub client_token: Option<String>,
}

/// CreateRuleGroupsNamespace / PutRuleGroupsNamespace response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroupsNamespaceResponse {
    /// Namespace name.
    pub name: String,
    /// Namespace ARN.
    pub arn: String,
    /// Status.
    pub status: ResourceStatus,
    /// Tags.
    pub tags: Option<TagMap>,
}

/// A namespace in DescribeRuleGroupsNamespace.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroupsNamespaceDescription {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Status.
    pub status: ResourceStatus,
    /// Rules file, base64.
    #[schema(format = Byte)]
    pub data: String,
    /// Creation time.
    pub created_at: f64,
    /// Last change.
    pub modified_at: f64,
    /// Tags.
    pub tags: Option<TagMap>,
}

/// DescribeRuleGroupsNamespace response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRuleGroupsNamespaceResponse {
    /// The namespace.
    pub rule_groups_namespace: RuleGroupsNamespaceDescription,
}

/// A namespace in ListRuleGroupsNamespaces.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroupsNamespaceSummary {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Status.
    pub status: ResourceStatus,
    /// Creation time.
    pub created_at: f64,
    /// Last change.
    pub modified_at: f64,
    /// Tags.
    pub tags: Option<TagMap>,
}

/// ListRuleGroupsNamespaces response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListRuleGroupsNamespacesResponse {
    /// One page of namespaces.
    pub rule_groups_namespaces: Vec<RuleGroupsNamespaceSummary>,
    /// Token of the next page.
    pub next_token: Option<String>,
}

// ---- alert manager definitions ----------------------------------------------------------------

/// CreateAlertManagerDefinition / PutAlertManagerDefinition body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertManagerDefinitionRequest {
    /// Alertmanager definition YAML, base64.
    #[schema(format = Byte)]
    pub data: String,
    /// Idempotency token.
    pub client_token: Option<String>,
}

/// The definition in DescribeAlertManagerDefinition.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertManagerDefinitionDescription {
    /// Status.
    pub status: ResourceStatus,
    /// Definition YAML, base64.
    #[schema(format = Byte)]
    pub data: String,
    /// Creation time.
    pub created_at: f64,
    /// Last change.
    pub modified_at: f64,
}

/// DescribeAlertManagerDefinition response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeAlertManagerDefinitionResponse {
    /// The definition.
    pub alert_manager_definition: AlertManagerDefinitionDescription,
}

// ---- logging ----------------------------------------------------------------------------------

/// CreateLoggingConfiguration / UpdateLoggingConfiguration body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggingConfigurationRequest {
    /// CloudWatch log group ARN (ends with `:*`).
    pub log_group_arn: String,
    /// Idempotency token.
    pub client_token: Option<String>,
}

/// The configuration in DescribeLoggingConfiguration.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggingConfigurationMetadata {
    /// Status.
    pub status: ResourceStatus,
    /// Workspace id.
    pub workspace: String,
    /// Log group ARN.
    pub log_group_arn: String,
    /// Creation time.
    pub created_at: f64,
    /// Last change.
    pub modified_at: f64,
}

/// DescribeLoggingConfiguration response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLoggingConfigurationResponse {
    /// The configuration.
    pub logging_configuration: LoggingConfigurationMetadata,
}

/// A CloudWatch Logs destination.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchLogDestination {
    /// Log group ARN.
    pub log_group_arn: String,
}

/// Which queries are logged.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggingFilter {
    /// Queries processing at least this many query samples are logged.
    pub qsp_threshold: i64,
}

/// A query logging destination.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggingDestination {
    /// Where to log.
    pub cloud_watch_logs: CloudWatchLogDestination,
    /// What to log.
    pub filters: LoggingFilter,
}

/// CreateQueryLoggingConfiguration / UpdateQueryLoggingConfiguration body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryLoggingConfigurationRequest {
    /// Exactly one destination.
    pub destinations: Vec<LoggingDestination>,
    /// Idempotency token.
    pub client_token: Option<String>,
}

/// The configuration in DescribeQueryLoggingConfiguration.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryLoggingConfigurationMetadata {
    /// Status.
    pub status: ResourceStatus,
    /// Workspace id.
    pub workspace: String,
    /// Destinations.
    pub destinations: Vec<LoggingDestination>,
    /// Creation time.
    pub created_at: f64,
    /// Last change.
    pub modified_at: f64,
}

/// DescribeQueryLoggingConfiguration response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueryLoggingConfigurationResponse {
    /// The configuration.
    pub query_logging_configuration: QueryLoggingConfigurationMetadata,
}

// ---- resource policies ------------------------------------------------------------------------

/// PutResourcePolicy body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutResourcePolicyRequest {
    /// IAM policy JSON.
    pub policy_document: String,
    /// Idempotency token.
    pub client_token: Option<String>,
    /// Expected current revision (`NO_POLICY` when none should exist).
    pub revision_id: Option<String>,
}

/// PutResourcePolicy response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutResourcePolicyResponse {
    /// `CREATING` or `UPDATING`.
    pub policy_status: String,
    /// New revision.
    pub revision_id: String,
}

/// DescribeResourcePolicy response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeResourcePolicyResponse {
    /// IAM policy JSON.
    pub policy_document: String,
    /// Status.
    pub policy_status: String,
    /// Current revision.
    pub revision_id: String,
}

// ---- scrapers ---------------------------------------------------------------------------------

/// Scrape configuration (union).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScrapeConfiguration {
    /// Prometheus scrape configuration YAML, base64.
    #[schema(format = Byte)]
    pub configuration_blob: Option<String>,
}

/// An EKS cluster source.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EksConfiguration {
    /// EKS cluster ARN.
    pub cluster_arn: String,
    /// 1..5 security groups.
    pub security_group_ids: Option<Vec<String>>,
    /// 1..5 subnets.
    pub subnet_ids: Vec<String>,
}

/// A VPC source.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VpcConfiguration {
    /// 1..5 security groups.
    pub security_group_ids: Vec<String>,
    /// 1..5 subnets.
    pub subnet_ids: Vec<String>,
}

/// Scraper source (union).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// EKS source.
    pub eks_configuration: Option<EksConfiguration>,
    /// VPC source.
    pub vpc_configuration: Option<VpcConfiguration>,
}

/// An AMP workspace destination.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmpConfiguration {
    /// Workspace ARN.
    pub workspace_arn: String,
}

/// A CloudWatch destination.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchConfiguration {
    /// CloudWatch dataset ARN.
    pub dataset_arn: String,
}

/// Scraper destination (union).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    /// AMP workspace.
    pub amp_configuration: Option<AmpConfiguration>,
    /// CloudWatch dataset.
    pub cloud_watch_configuration: Option<CloudWatchConfiguration>,
}

/// Cross-account roles.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleConfiguration {
    /// Role in the source account.
    pub source_role_arn: Option<String>,
    /// Role in the target account.
    pub target_role_arn: Option<String>,
}

/// OpenSearch exporter.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenSearchExporterConfiguration {
    /// Domain ARN.
    pub domain_arn: String,
}

/// Kafka exporter.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaExporterConfiguration {
    /// MSK cluster ARN.
    pub cluster_arn: String,
    /// Topic filter.
    pub topic_filter: Option<String>,
    /// Consumer group filter.
    pub consumer_group_filter: Option<String>,
}

/// Exporter (union).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExporterConfiguration {
    /// OpenSearch exporter.
    pub open_search_configuration: Option<OpenSearchExporterConfiguration>,
    /// Kafka exporter.
    pub kafka_configuration: Option<KafkaExporterConfiguration>,
}

/// CreateScraper body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateScraperRequest {
    /// Alias.
    pub alias: Option<String>,
    /// What to scrape.
    pub scrape_configuration: ScrapeConfiguration,
    /// Where to scrape.
    pub source: Source,
    /// Where to send samples.
    pub destination: Destination,
    /// Cross-account roles.
    pub role_configuration: Option<RoleConfiguration>,
    /// Idempotency token.
    pub client_token: Option<String>,
    /// Initial tags.
    pub tags: Option<TagMap>,
    /// At most one exporter.
    pub exporters: Option<Vec<ExporterConfiguration>>,
}

/// CreateScraper / UpdateScraper response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScraperResponse {
    /// `s-…` id.
    pub scraper_id: String,
    /// ARN.
    pub arn: String,
    /// Status.
    pub status: ResourceStatus,
    /// Tags.
    pub tags: Option<TagMap>,
}

/// The parts of a scraper kept as one document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScraperDocument {
    /// What to scrape.
    pub scrape_configuration: ScrapeConfiguration,
    /// Where to scrape.
    pub source: Source,
    /// Where to send samples.
    pub destination: Destination,
    /// Cross-account roles.
    pub role_configuration: Option<RoleConfiguration>,
    /// Exporters.
    pub exporters: Option<Vec<ExporterConfiguration>>,
}

/// A scraper in DescribeScraper.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScraperDescription {
    /// Alias.
    pub alias: Option<String>,
    /// `s-…` id.
    pub scraper_id: String,
    /// ARN.
    pub arn: String,
    /// Role the scraper uses.
    pub role_arn: String,
    /// Status.
    pub status: ResourceStatus,
    /// Creation time.
    pub created_at: f64,
    /// Last change.
    pub last_modified_at: f64,
    /// Tags.
    pub tags: Option<TagMap>,
    /// Reason for a failed status.
    pub status_reason: Option<String>,
    /// What to scrape.
    pub scrape_configuration: ScrapeConfiguration,
    /// Where to scrape.
    pub source: Source,
    /// Where samples go.
    pub destination: Destination,
    /// Cross-account roles.
    pub role_configuration: Option<RoleConfiguration>,
    /// Exporters.
    pub exporters: Option<Vec<ExporterConfiguration>>,
}

/// DescribeScraper response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeScraperResponse {
    /// The scraper.
    pub scraper: ScraperDescription,
}

/// A scraper in ListScrapers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScraperSummary {
    /// Alias.
    pub alias: Option<String>,
    /// `s-…` id.
    pub scraper_id: String,
    /// ARN.
    pub arn: String,
    /// Role the scraper uses.
    pub role_arn: String,
    /// Status.
    pub status: ResourceStatus,
    /// Creation time.
    pub created_at: f64,
    /// Last change.
    pub last_modified_at: f64,
    /// Tags.
    pub tags: Option<TagMap>,
    /// Reason for a failed status.
    pub status_reason: Option<String>,
    /// Where to scrape.
    pub source: Source,
    /// Where samples go.
    pub destination: Destination,
    /// Cross-account roles.
    pub role_configuration: Option<RoleConfiguration>,
    /// Exporters.
    pub exporters: Option<Vec<ExporterConfiguration>>,
}

/// ListScrapers response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListScrapersResponse {
    /// One page of scrapers.
    pub scrapers: Vec<ScraperSummary>,
    /// Token of the next page.
    pub next_token: Option<String>,
}

/// UpdateScraper body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateScraperRequest {
    /// New alias.
    pub alias: Option<String>,
    /// New scrape configuration.
    pub scrape_configuration: Option<ScrapeConfiguration>,
    /// New destination.
    pub destination: Option<Destination>,
    /// New roles.
    pub role_configuration: Option<RoleConfiguration>,
    /// Idempotency token.
    pub client_token: Option<String>,
    /// New exporters.
    pub exporters: Option<Vec<ExporterConfiguration>>,
}

/// DeleteScraper response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteScraperResponse {
    /// `s-…` id.
    pub scraper_id: String,
    /// Status (`DELETING`).
    pub status: ResourceStatus,
}

/// GetDefaultScraperConfiguration response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetDefaultScraperConfigurationResponse {
    /// Default scrape configuration YAML, base64.
    #[schema(format = Byte)]
    pub configuration: String,
}

/// Scraper logging destination (union).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScraperLoggingDestination {
    /// CloudWatch Logs.
    pub cloud_watch_logs: Option<CloudWatchLogDestination>,
}

/// Options of a scraper component.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentConfig {
    /// Free-form options.
    pub options: Option<BTreeMap<String, String>>,
}

/// A scraper component whose logs are collected.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScraperComponent {
    /// `SERVICE_DISCOVERY`, `COLLECTOR` or `EXPORTER`.
    #[serde(rename = "type")]
    pub component_type: String,
    /// Options.
    pub config: Option<ComponentConfig>,
}

/// UpdateScraperLoggingConfiguration body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateScraperLoggingConfigurationRequest {
    /// Where to log.
    pub logging_destination: ScraperLoggingDestination,
    /// Which components log.
    pub scraper_components: Option<Vec<ScraperComponent>>,
}

/// DescribeScraperLoggingConfiguration response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeScraperLoggingConfigurationResponse {
    /// Status.
    pub status: ResourceStatus,
    /// `s-…` id.
    pub scraper_id: String,
    /// Where to log.
    pub logging_destination: ScraperLoggingDestination,
    /// Which components log.
    pub scraper_components: Vec<ScraperComponent>,
    /// Last change.
    pub modified_at: f64,
}

// ---- anomaly detectors ------------------------------------------------------------------------

/// Tolerance band (union).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreNearExpected {
    /// Absolute amount.
    pub amount: Option<f64>,
    /// Ratio.
    pub ratio: Option<f64>,
}

/// Random cut forest settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RandomCutForestConfiguration {
    /// PromQL query.
    pub query: String,
    /// Shingle size (2..1024, default 8).
    pub shingle_size: Option<i64>,
    /// Sample size (256..1024, default 256).
    pub sample_size: Option<i64>,
    /// Tolerance above.
    pub ignore_near_expected_from_above: Option<IgnoreNearExpected>,
    /// Tolerance below.
    pub ignore_near_expected_from_below: Option<IgnoreNearExpected>,
}

/// Anomaly detector algorithm (union).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyDetectorConfiguration {
    /// Random cut forest.
    pub random_cut_forest: Option<RandomCutForestConfiguration>,
}

/// What to do without data (union).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyDetectorMissingDataAction {
    /// Mark the point as an anomaly.
    pub mark_as_anomaly: Option<bool>,
    /// Skip the point.
    pub skip: Option<bool>,
}

/// CreateAnomalyDetector body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateAnomalyDetectorRequest {
    /// Alias.
    pub alias: String,
    /// Evaluation interval (30..86400, default 60).
    pub evaluation_interval_in_seconds: Option<i64>,
    /// Missing-data behaviour.
    pub missing_data_action: Option<AnomalyDetectorMissingDataAction>,
    /// Algorithm.
    pub configuration: AnomalyDetectorConfiguration,
    /// Labels added to results.
    pub labels: Option<BTreeMap<String, String>>,
    /// Idempotency token.
    pub client_token: Option<String>,
    /// Initial tags.
    pub tags: Option<TagMap>,
}

/// PutAnomalyDetector body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutAnomalyDetectorRequest {
    /// Evaluation interval.
    pub evaluation_interval_in_seconds: Option<i64>,
    /// Missing-data behaviour.
    pub missing_data_action: Option<AnomalyDetectorMissingDataAction>,
    /// Algorithm.
    pub configuration: AnomalyDetectorConfiguration,
    /// Labels added to results.
    pub labels: Option<BTreeMap<String, String>>,
    /// Idempotency token.
    pub client_token: Option<String>,
}

/// The parts of an anomaly detector kept as one document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyDetectorDocument {
    /// Evaluation interval.
    pub evaluation_interval_in_seconds: i64,
    /// Missing-data behaviour.
    pub missing_data_action: Option<AnomalyDetectorMissingDataAction>,
    /// Algorithm.
    pub configuration: AnomalyDetectorConfiguration,
    /// Labels.
    pub labels: Option<BTreeMap<String, String>>,
}

/// CreateAnomalyDetector / PutAnomalyDetector response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyDetectorResponse {
    /// `ad-…` id.
    pub anomaly_detector_id: String,
    /// ARN.
    pub arn: String,
    /// Status.
    pub status: ResourceStatus,
    /// Tags.
    pub tags: Option<TagMap>,
}

/// A detector in DescribeAnomalyDetector.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyDetectorDescription {
    /// ARN.
    pub arn: String,
    /// `ad-…` id.
    pub anomaly_detector_id: String,
    /// Alias.
    pub alias: String,
    /// Evaluation interval.
    pub evaluation_interval_in_seconds: Option<i64>,
    /// Missing-data behaviour.
    pub missing_data_action: Option<AnomalyDetectorMissingDataAction>,
    /// Algorithm.
    pub configuration: Option<AnomalyDetectorConfiguration>,
    /// Labels.
    pub labels: Option<BTreeMap<String, String>>,
    /// Status.
    pub status: ResourceStatus,
    /// Creation time.
    pub created_at: f64,
    /// Last change.
    pub modified_at: f64,
    /// Tags.
    pub tags: Option<TagMap>,
}

/// DescribeAnomalyDetector response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeAnomalyDetectorResponse {
    /// The detector.
    pub anomaly_detector: AnomalyDetectorDescription,
}

/// A detector in ListAnomalyDetectors.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyDetectorSummary {
    /// ARN.
    pub arn: String,
    /// `ad-…` id.
    pub anomaly_detector_id: String,
    /// Alias.
    pub alias: String,
    /// Status.
    pub status: ResourceStatus,
    /// Creation time.
    pub created_at: f64,
    /// Last change.
    pub modified_at: f64,
    /// Tags.
    pub tags: Option<TagMap>,
}

/// ListAnomalyDetectors response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListAnomalyDetectorsResponse {
    /// One page of detectors.
    pub anomaly_detectors: Vec<AnomalyDetectorSummary>,
    /// Token of the next page.
    pub next_token: Option<String>,
}

// ---- errors -----------------------------------------------------------------------------------

/// One `fieldList` entry of a ValidationException.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationExceptionField {
    /// Member name.
    pub name: String,
    /// Problem.
    pub message: String,
}

/// Body of every error response (members beyond `message` depend on the error code, which is
/// sent in the `x-amzn-ErrorType` header).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Human-readable message.
    pub message: String,
    /// ValidationException: reason.
    pub reason: Option<String>,
    /// ValidationException: offending members.
    pub field_list: Option<Vec<ValidationExceptionField>>,
    /// ResourceNotFound/Conflict/ServiceQuotaExceeded: resource id.
    pub resource_id: Option<String>,
    /// ResourceNotFound/Conflict/ServiceQuotaExceeded: resource type.
    pub resource_type: Option<String>,
    /// ServiceQuotaExceeded/Throttling: service code.
    pub service_code: Option<String>,
    /// ServiceQuotaExceeded/Throttling: quota code.
    pub quota_code: Option<String>,
}
