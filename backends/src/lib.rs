//! Storage contracts of ampd (metadata store, metrics backend) and their implementations.
//!
//! The control plane talks to a [`MetadataStore`]: workspaces and everything attached to them
//! (configuration, tags, rule groups namespaces, alert manager definitions, logging and query
//! logging configurations, resource policies, scrapers, anomaly detectors). Optimistic
//! concurrency (`revisionId`), idempotency (`clientToken`) and the asynchronous status
//! transitions live behind the trait, so several ampd nodes sharing one database behave like one
//! service. [`SqliteStore`] is the embedded default. IAM users, groups, access keys and
//! policies, roles, tags and permissions boundaries live behind the separate [`IamStore`] trait,
//! which [`SqliteStore`] implements too; `iam_store_conformance!` (feature `testsuite`) runs
//! its conformance suite.
//!
//! The data plane talks to a [`MetricsBackend`], per tenant (= workspace): write a decoded
//! remote-write batch, run PromQL given as a string (so a remote engine could take the whole
//! query), list series, labels and metadata, delete a tenant, apply its retention and
//! out-of-order window. [`LocalBackend`] is the embedded default: `ampd-tsdb` for storage and
//! `ampd-promql` for evaluation, joined by an adapter to the engine's `Queryable` trait
//! ([`TsdbQueryable`], public so the PromQL test corpus can run over a real tsdb).
//!
//! Encryption at rest: [`TenantKeys`] is the tsdb's sealer provider over workspace data keys
//! that the key management layer installs and revokes, and [`DataKeyStore`] (implemented by
//! [`SqliteStore`]) keeps those data keys wrapped by KMS, destroyed with their workspace.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ampd_backends::StoreError> {
//! use ampd_backends::{MetadataStore, SqliteStore};
//! let store = SqliteStore::open(std::path::Path::new("./ampd-data/metadata.db")).await?;
//! let page = store.list_workspaces(None, ampd_backends::PageRequest::first(100)).await?;
//! # let _ = page; Ok(()) }
//! ```

mod data_keys;
mod error;
mod iam;
mod local;
mod metrics;
mod model;
mod oidc;
mod sqlite;
mod store;
#[cfg(any(test, feature = "testsuite"))]
pub mod testsuite;

pub use data_keys::{DataKeyStore, WrappedDataKey};
pub use error::{ResourceType, StoreError, StoreResult};
#[cfg(any(test, feature = "testsuite"))]
pub use iam::testsuite as iam_testsuite;
pub use iam::{
    AccessKeyRecord, AccessKeyStatus, Entity, EntityKind, IamGroup, IamResult, IamRole, IamStore,
    IamStoreError, IamUser, MAX_ACCESS_KEYS_PER_USER, MAX_ATTACHED_POLICIES, MAX_GROUPS_PER_USER,
    MAX_POLICY_VERSIONS, MAX_TAGS_PER_ENTITY, ManagedPolicyRecord, PolicyEntity, PolicyOwner,
    PolicyVersion, RoleUpdate,
};
pub use local::{LocalBackend, LocalOptions, MaintenanceTask, TenantKeys, TsdbQueryable};
#[cfg(any(test, feature = "testsuite"))]
pub use metrics::testsuite as metrics_testsuite;
pub use metrics::{
    ExemplarData, InstantQuery, MetricMetadata, MetricsBackend, MetricsError, MetricsErrorKind,
    MetricsResult, QueryData, QueryLimits, RangeQuery, SeriesExemplars, TenantId, TenantSettings,
    TenantUsage, TimeRange, WriteOutcome,
};
pub use model::{
    AlertManagerDefinition, AnomalyDetector, AnomalyDetectorSpec, ClientToken, LabelSetLimit,
    LoggingConfiguration, LoggingKind, NO_POLICY, NewAnomalyDetector, NewRuleGroupsNamespace,
    NewScraper, NewWorkspace, Page, PageRequest, ResourcePolicy, ResourceRef, RuleGroupsNamespace,
    Scraper, ScraperFilter, ScraperLoggingConfiguration, ScraperSpec, Status, Tags, Timestamp,
    Workspace, WorkspaceConfiguration, WorkspaceConfigurationUpdate,
};
pub use oidc::{MAX_OIDC_PROVIDERS, OidcProviderRecord, OidcProviderStore};
pub use sqlite::SqliteStore;
pub use store::MetadataStore;
