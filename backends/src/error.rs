//! Typed errors of the metadata store.

use std::fmt;

/// Result alias used by every store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// The kind of resource an error is about; its wire spelling is [`ResourceType::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    /// A workspace.
    Workspace,
    /// The configuration of a workspace.
    WorkspaceConfiguration,
    /// A rule groups namespace.
    RuleGroupsNamespace,
    /// The alert manager definition of a workspace.
    AlertManagerDefinition,
    /// The (rules and alertmanager) logging configuration of a workspace.
    LoggingConfiguration,
    /// The query logging configuration of a workspace.
    QueryLoggingConfiguration,
    /// The resource policy of a workspace.
    ResourcePolicy,
    /// A managed scraper.
    Scraper,
    /// The logging configuration of a scraper.
    ScraperLoggingConfiguration,
    /// An anomaly detector.
    AnomalyDetector,
}

impl ResourceType {
    /// Returns the stable upper-case name sent as `resourceType` in error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Workspace => "WORKSPACE",
            Self::WorkspaceConfiguration => "WORKSPACE_CONFIGURATION",
            Self::RuleGroupsNamespace => "RULE_GROUPS_NAMESPACE",
            Self::AlertManagerDefinition => "ALERT_MANAGER_DEFINITION",
            Self::LoggingConfiguration => "LOGGING_CONFIGURATION",
            Self::QueryLoggingConfiguration => "QUERY_LOGGING_CONFIGURATION",
            Self::ResourcePolicy => "RESOURCE_POLICY",
            Self::Scraper => "SCRAPER",
            Self::ScraperLoggingConfiguration => "SCRAPER_LOGGING_CONFIGURATION",
            Self::AnomalyDetector => "ANOMALY_DETECTOR",
        }
    }

    /// Returns a human-readable name for messages ("Workspace", "Rule groups namespace", …).
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Workspace => "Workspace",
            Self::WorkspaceConfiguration => "Workspace configuration",
            Self::RuleGroupsNamespace => "Rule groups namespace",
            Self::AlertManagerDefinition => "Alert manager definition",
            Self::LoggingConfiguration => "Logging configuration",
            Self::QueryLoggingConfiguration => "Query logging configuration",
            Self::ResourcePolicy => "Resource policy",
            Self::Scraper => "Scraper",
            Self::ScraperLoggingConfiguration => "Scraper logging configuration",
            Self::AnomalyDetector => "Anomaly detector",
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The addressed resource (or its parent) does not exist.
    #[error("{resource_type} not found: {resource_id}")]
    NotFound {
        /// Kind of the missing resource.
        resource_type: ResourceType,
        /// Identifier of the missing resource.
        resource_id: String,
    },
    /// The resource exists already, is in a state that forbids the change, a revision did not
    /// match, or a client token was reused with different parameters.
    #[error("{message}")]
    Conflict {
        /// Human-readable reason.
        message: String,
        /// Kind of the conflicting resource.
        resource_type: ResourceType,
        /// Identifier of the conflicting resource.
        resource_id: String,
    },
    /// A per-account quota would be exceeded.
    #[error("{message}")]
    QuotaExceeded {
        /// Human-readable reason.
        message: String,
        /// Kind of resource the quota counts.
        resource_type: ResourceType,
        /// Identifier of the resource that was refused.
        resource_id: String,
    },
    /// A request would break a limit on a single resource (e.g. too many tags).
    #[error("{message}")]
    LimitExceeded {
        /// Human-readable reason.
        message: String,
    },
    /// The database failed or holds data this version cannot read.
    #[error("metadata store failure: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub(crate) fn not_found(resource_type: ResourceType, resource_id: impl Into<String>) -> Self {
        Self::NotFound {
            resource_type,
            resource_id: resource_id.into(),
        }
    }

    pub(crate) fn conflict(
        resource_type: ResourceType,
        resource_id: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Conflict {
            message: message.into(),
            resource_type,
            resource_id: resource_id.into(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Internal(Box::new(e))
    }
}
