//! Records the metadata store keeps, and the inputs of its operations.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Tags of a resource, ordered by key.
pub type Tags = BTreeMap<String, String>;

/// The `revisionId` a caller passes to say "I expect no policy to exist yet".
pub const NO_POLICY: &str = "NO_POLICY";

/// A point in time, in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Returns the current wall-clock time.
    pub fn now() -> Self {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self(ms)
    }

    /// Returns this instant moved back by `d` (saturating).
    pub fn minus(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    /// Returns seconds since the epoch with millisecond fraction, the AWS JSON timestamp form.
    pub fn as_epoch_seconds(self) -> f64 {
        // Millisecond values stay far below 2^53, so the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let ms = self.0 as f64;
        ms / 1000.0
    }
}

/// Lifecycle status shared by every AMP resource (each wire enum uses a subset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Being created; becomes [`Status::Active`] asynchronously.
    Creating,
    /// Ready.
    Active,
    /// Being changed; becomes [`Status::Active`] asynchronously.
    Updating,
    /// Being deleted; disappears asynchronously.
    Deleting,
    /// Creation failed.
    CreationFailed,
    /// The last update failed.
    UpdateFailed,
    /// Deletion failed.
    DeletionFailed,
}

impl Status {
    /// Returns the AWS wire spelling (`CREATING`, `ACTIVE`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "CREATING",
            Self::Active => "ACTIVE",
            Self::Updating => "UPDATING",
            Self::Deleting => "DELETING",
            Self::CreationFailed => "CREATION_FAILED",
            Self::UpdateFailed => "UPDATE_FAILED",
            Self::DeletionFailed => "DELETION_FAILED",
        }
    }

    /// Parses the AWS wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "CREATING" => Self::Creating,
            "ACTIVE" => Self::Active,
            "UPDATING" => Self::Updating,
            "DELETING" => Self::Deleting,
            "CREATION_FAILED" => Self::CreationFailed,
            "UPDATE_FAILED" => Self::UpdateFailed,
            "DELETION_FAILED" => Self::DeletionFailed,
            _ => return None,
        })
    }

    /// Tells whether a change is in flight (a new mutation must wait).
    pub fn is_transitional(self) -> bool {
        matches!(self, Self::Creating | Self::Updating | Self::Deleting)
    }
}

/// An idempotency token with a digest of the parameters it was sent with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientToken {
    /// The caller's `clientToken`.
    pub token: String,
    /// A digest of every other request parameter; a replay must match it.
    pub fingerprint: String,
}

/// Where a listing starts and how many items it returns at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Opaque position returned as [`Page::next`] by the previous page.
    pub after: Option<String>,
    /// Maximum number of items (at least 1).
    pub limit: u32,
}

impl PageRequest {
    /// Returns the first page of at most `limit` items.
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, in a stable order.
    pub items: Vec<T>,
    /// Position of the next page, if there is one.
    pub next: Option<String>,
}

/// One `limitsPerLabelSet` entry of a workspace configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSetLimit {
    /// Label name/value pairs a series must carry to count against this limit.
    pub label_set: BTreeMap<String, String>,
    /// Maximum active series matching the set (`None` or 0: not enforced).
    pub max_series: Option<u64>,
}

/// The settings of a workspace (`DescribeWorkspaceConfiguration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceConfiguration {
    /// Status of the configuration (not of the workspace).
    #[serde(skip, default = "active")]
    pub status: Status,
    /// Days samples are kept.
    pub retention_period_in_days: u32,
    /// How far behind the newest sample an older sample may still be ingested.
    pub out_of_order_time_window_in_seconds: Option<u64>,
    /// Offset subtracted from the evaluation time of every rule query.
    pub rule_query_offset_in_seconds: Option<u64>,
    /// Active-series limits per label set.
    pub limits_per_label_set: Vec<LabelSetLimit>,
}

fn active() -> Status {
    Status::Active
}

impl WorkspaceConfiguration {
    /// AMP's default retention, in days.
    pub const DEFAULT_RETENTION_DAYS: u32 = 150;
}

impl Default for WorkspaceConfiguration {
    fn default() -> Self {
        Self {
            status: Status::Active,
            retention_period_in_days: Self::DEFAULT_RETENTION_DAYS,
            out_of_order_time_window_in_seconds: None,
            rule_query_offset_in_seconds: None,
            limits_per_label_set: Vec::new(),
        }
    }
}

/// The members of `UpdateWorkspaceConfiguration`; `None` leaves a setting unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WorkspaceConfigurationUpdate {
    /// New retention in days.
    pub retention_period_in_days: Option<u32>,
    /// New out-of-order window.
    pub out_of_order_time_window_in_seconds: Option<u64>,
    /// New rule query offset.
    pub rule_query_offset_in_seconds: Option<u64>,
    /// Replacement list of label-set limits.
    pub limits_per_label_set: Option<Vec<LabelSetLimit>>,
}

/// A workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    /// `ws-…` identifier.
    pub id: String,
    /// Optional, non-unique friendly name.
    pub alias: Option<String>,
    /// Customer managed KMS key ARN, if any.
    pub kms_key_arn: Option<String>,
    /// Lifecycle status.
    pub status: Status,
    /// Tags.
    pub tags: Tags,
    /// Creation time.
    pub created_at: Timestamp,
    /// Workspace settings and their own status.
    pub configuration: WorkspaceConfiguration,
}

/// Input of [`crate::MetadataStore::create_workspace`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewWorkspace {
    /// Identifier chosen by the caller (`ws-…`).
    pub id: String,
    /// Optional alias.
    pub alias: Option<String>,
    /// Optional KMS key ARN.
    pub kms_key_arn: Option<String>,
    /// Initial tags.
    pub tags: Tags,
}

/// A rule groups namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroupsNamespace {
    /// Owning workspace.
    pub workspace_id: String,
    /// Namespace name.
    pub name: String,
    /// The Prometheus rules file (YAML bytes).
    pub data: Vec<u8>,
    /// Lifecycle status.
    pub status: Status,
    /// Tags.
    pub tags: Tags,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub modified_at: Timestamp,
}

/// Input of [`crate::MetadataStore::create_rule_groups_namespace`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewRuleGroupsNamespace {
    /// Owning workspace.
    pub workspace_id: String,
    /// Namespace name.
    pub name: String,
    /// The rules file.
    pub data: Vec<u8>,
    /// Initial tags.
    pub tags: Tags,
}

/// The alert manager definition of a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertManagerDefinition {
    /// Owning workspace.
    pub workspace_id: String,
    /// The definition YAML.
    pub data: Vec<u8>,
    /// Lifecycle status.
    pub status: Status,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub modified_at: Timestamp,
}

/// Which logging configuration of a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoggingKind {
    /// Rules and alertmanager logs (`/logging`).
    Workspace,
    /// Query logs (`/logging/query`).
    Query,
}

impl LoggingKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Workspace => "workspace",
            Self::Query => "query",
        }
    }

    pub(crate) fn resource_type(self) -> crate::ResourceType {
        match self {
            Self::Workspace => crate::ResourceType::LoggingConfiguration,
            Self::Query => crate::ResourceType::QueryLoggingConfiguration,
        }
    }
}

/// A logging configuration; `document` is the wire-level settings the API layer defines.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggingConfiguration {
    /// Owning workspace.
    pub workspace_id: String,
    /// Which configuration this is.
    pub kind: LoggingKind,
    /// Settings (JSON).
    pub document: serde_json::Value,
    /// Lifecycle status.
    pub status: Status,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub modified_at: Timestamp,
}

/// The resource policy of a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePolicy {
    /// Owning workspace.
    pub workspace_id: String,
    /// The IAM policy JSON text.
    pub document: String,
    /// Revision for optimistic concurrency; changes on every write.
    pub revision_id: String,
    /// Lifecycle status.
    pub status: Status,
}

/// What the store needs to know about a scraper besides its wire document.
#[derive(Debug, Clone, PartialEq)]
pub struct ScraperSpec {
    /// Optional alias (filterable).
    pub alias: Option<String>,
    /// ARN of the scraped source (filterable).
    pub source_arn: String,
    /// ARN of the destination (filterable).
    pub destination_arn: String,
    /// Role the scraper uses.
    pub role_arn: String,
    /// Everything else (scrape configuration, source, destination, …) as JSON.
    pub document: serde_json::Value,
}

/// A managed scraper.
#[derive(Debug, Clone, PartialEq)]
pub struct Scraper {
    /// `s-…` identifier.
    pub id: String,
    /// Indexed fields and the wire document.
    pub spec: ScraperSpec,
    /// Tags.
    pub tags: Tags,
    /// Lifecycle status.
    pub status: Status,
    /// Reason for a failed status.
    pub status_reason: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub modified_at: Timestamp,
}

/// Input of [`crate::MetadataStore::create_scraper`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewScraper {
    /// Identifier chosen by the caller (`s-…`).
    pub id: String,
    /// Indexed fields and document.
    pub spec: ScraperSpec,
    /// Initial tags.
    pub tags: Tags,
}

/// `ListScrapers` filters: values OR within a key, AND across keys; empty means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScraperFilter {
    /// Accepted status spellings.
    pub status: Vec<String>,
    /// Accepted aliases.
    pub alias: Vec<String>,
    /// Accepted source ARNs.
    pub source_arn: Vec<String>,
    /// Accepted destination ARNs.
    pub destination_arn: Vec<String>,
}

impl ScraperFilter {
    pub(crate) fn matches(&self, s: &Scraper) -> bool {
        fn any(values: &[String], v: &str) -> bool {
            values.is_empty() || values.iter().any(|x| x == v)
        }
        any(&self.status, s.status.as_str())
            && any(&self.alias, s.spec.alias.as_deref().unwrap_or(""))
            && any(&self.source_arn, &s.spec.source_arn)
            && any(&self.destination_arn, &s.spec.destination_arn)
    }
}

/// The logging configuration of a scraper.
#[derive(Debug, Clone, PartialEq)]
pub struct ScraperLoggingConfiguration {
    /// Owning scraper.
    pub scraper_id: String,
    /// Destination and components (JSON).
    pub document: serde_json::Value,
    /// Lifecycle status.
    pub status: Status,
    /// Last change.
    pub modified_at: Timestamp,
}

/// What the store needs to know about an anomaly detector besides its wire document.
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyDetectorSpec {
    /// Alias (filterable).
    pub alias: String,
    /// Configuration, interval, labels, missing-data action (JSON).
    pub document: serde_json::Value,
}

/// An anomaly detector.
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyDetector {
    /// Owning workspace.
    pub workspace_id: String,
    /// `ad-…` identifier.
    pub id: String,
    /// Alias and document.
    pub spec: AnomalyDetectorSpec,
    /// Tags.
    pub tags: Tags,
    /// Lifecycle status.
    pub status: Status,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub modified_at: Timestamp,
}

/// Input of [`crate::MetadataStore::create_anomaly_detector`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewAnomalyDetector {
    /// Owning workspace.
    pub workspace_id: String,
    /// Identifier chosen by the caller (`ad-…`).
    pub id: String,
    /// Alias and document.
    pub spec: AnomalyDetectorSpec,
    /// Initial tags.
    pub tags: Tags,
}

/// A taggable resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceRef {
    /// A workspace by id.
    Workspace(String),
    /// A rule groups namespace.
    RuleGroupsNamespace {
        /// Owning workspace.
        workspace_id: String,
        /// Namespace name.
        name: String,
    },
    /// A scraper by id.
    Scraper(String),
    /// An anomaly detector.
    AnomalyDetector {
        /// Owning workspace.
        workspace_id: String,
        /// Detector id.
        id: String,
    },
}

impl ResourceRef {
    pub(crate) fn resource_type(&self) -> crate::ResourceType {
        match self {
            Self::Workspace(_) => crate::ResourceType::Workspace,
            Self::RuleGroupsNamespace { .. } => crate::ResourceType::RuleGroupsNamespace,
            Self::Scraper(_) => crate::ResourceType::Scraper,
            Self::AnomalyDetector { .. } => crate::ResourceType::AnomalyDetector,
        }
    }

    pub(crate) fn display_id(&self) -> String {
        match self {
            Self::Workspace(id) | Self::Scraper(id) => id.clone(),
            Self::RuleGroupsNamespace { workspace_id, name } => format!("{workspace_id}/{name}"),
            Self::AnomalyDetector { workspace_id, id } => format!("{workspace_id}/{id}"),
        }
    }
}
