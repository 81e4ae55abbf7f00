//! HTTP front of ampd: routers per AWS protocol, the auth/audit middleware stack, and the ampd binary.
//!
//! # Modules
//! - `control`: the AMP control plane (rest-json, 44 operations) — [`control_router`].
//! - `auth`: the single authentication layer of AWS-style requests — [`Authenticator`],
//!   [`Caller`].
//! - `ops`: `/healthz` and `/readyz`.
//! - `server`: assembling the app ([`app`]) and running it ([`run`]).
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

mod auth;
mod config;
mod control;
mod error;
mod extract;
mod openapi;
mod operation;
mod ops;
mod pagination;
mod server;
mod trace;

pub use auth::{AuthContext, Authenticator, Caller};
pub use config::{Cli, Command, Config, ConfigError, ServeArgs};
pub use control::{ControlSettings, ControlState, router as control_router, unknown_operation};
pub use error::{AwsError, FieldIssue, ValidationReason};
pub use openapi::openapi;
pub use operation::Operation;
pub use pagination::{KeyError, PageTokens};
pub use server::{app, open_store, run, serve};
pub use trace::RequestId;

#[cfg(test)]
mod tests;
