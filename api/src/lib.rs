//! HTTP front of ampd: routers per AWS protocol, the auth/audit middleware stack, and the ampd binary.
//!
//! # Modules
//! - `control`: the AMP control plane (rest-json, 44 operations) — [`control_router`].
//! - `auth`: the single authentication and authorization layer of AWS-style requests —
//!   [`Authenticator`], [`Caller`].
//! - `iam`: the account's users, access keys and policies ([`Identities`]) and the root access
//!   key ([`RootAccessKey`]).
//! - `services`: `POST /`, where IAM, STS and the JSON 1.1 services are told apart
//!   ([`services_router`]).
//! - `sts`: STS — temporary credentials, assumed roles, web identity ([`Sts`]).
//! - `data`: the AMP data plane — remote write and the PromQL query API per workspace
//!   ([`data_router`], [`DataState`]), and the loop keeping tenant settings in step with
//!   workspaces ([`sync_tenants`]).
//! - `audit`: the layer that records one CloudTrail event per AWS call before answering it
//!   ([`Auditor`]), `LookupEvents`, and the offline trail validation of `ampd audit`.
//! - `kms`: the KMS API on `POST /` and the workspace data keys it wraps ([`WorkspaceKeys`]).
//! - `ops`: `/healthz` and `/readyz`.
//! - `server`: assembling the app ([`app`]) and running it ([`run`]), over HTTPS when
//!   configured (`tls`: [`TlsSettings`], [`TlsError`]).
//!
//! Every AMP operation is named once in [`Operation`] (IAM action, CloudTrail event name,
//! metrics label, OpenAPI operation id). Errors use the AWS rest-json envelope ([`AwsError`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let config = ampd_api::Config::default();
//! ampd_api::run(config).await
//! # }
//! ```

mod audit;
mod auth;
mod config;
mod control;
mod data;
mod error;
mod extract;
mod iam;
mod kms;
mod openapi;
mod operation;
mod ops;
mod pagination;
mod server;
mod services;
mod sts;
mod tls;
mod trace;

pub use audit::{AUDIT_DIR, Auditor, parse_time, public_key_pem, validate_folder};
pub use auth::{AuthContext, Authenticator, AuthzError, Caller, Check};
pub use config::{
    AuditArgs, AuditCommand, AuditDirArgs, Cli, Command, Config, ConfigError, QueryConfig,
    ServeArgs, ValidateArgs,
};
pub use control::{ControlSettings, ControlState, router as control_router, unknown_operation};
pub use data::{DataState, QuerySettings, router as data_router, sync_tenants};
pub use error::{AwsError, FieldIssue, ValidationReason};
pub use iam::{
    Identities, ROOT_CREDENTIALS_FILE, ROOT_KEY_FILE, RootAccessKey, RootCredentialsError,
    SealerError, SecretSealer,
};
pub use kms::{
    KMS_DIR, KeyAccessError, WorkspaceKeys, handle as kms_handle, open_service as open_kms_service,
};
pub use openapi::openapi;
pub use operation::Operation;
pub use pagination::{KeyError, PageTokens};
pub use server::{app, open_metrics, open_sealed_metrics, open_store, run, serve};
pub use services::router as services_router;
pub use sts::{JwksSources, Sts};
pub use tls::{TlsError, TlsSettings};
pub use trace::RequestId;

#[cfg(test)]
mod tests;
