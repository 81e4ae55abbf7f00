//! The store of IAM OpenID Connect identity providers (`CreateOpenIDConnectProvider` …).
//!
//! A trait of its own next to [`crate::IamStore`], with the same error type: providers are
//! addressed by ARN and have nothing to do with users, groups or policies.

use async_trait::async_trait;

use crate::iam::IamResult;
use crate::model::{Tags, Timestamp};

/// OIDC providers one account may register (IAM's quota).
pub const MAX_OIDC_PROVIDERS: usize = 100;

/// A registered OIDC identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProviderRecord {
    /// `arn:aws:iam::<acct>:oidc-provider/<host/path>`.
    pub arn: String,
    /// The issuer URL (`https://host/path`).
    pub url: String,
    /// Accepted audiences (`ClientIDList`).
    pub client_ids: Vec<String>,
    /// Server certificate thumbprints (`ThumbprintList`).
    pub thumbprints: Vec<String>,
    /// Tags.
    pub tags: Tags,
    /// Creation time.
    pub created_at: Timestamp,
}

/// Persistence of OIDC identity providers.
#[async_trait]
pub trait OidcProviderStore: std::fmt::Debug + Send + Sync + 'static {
    /// Registers a provider; `AlreadyExists` if its URL is registered, `LimitExceeded` beyond
    /// [`MAX_OIDC_PROVIDERS`].
    async fn create_oidc_provider(&self, provider: OidcProviderRecord) -> IamResult<()>;
    /// Returns a provider by ARN.
    async fn oidc_provider(&self, arn: &str) -> IamResult<OidcProviderRecord>;
    /// Lists all providers, by ARN.
    async fn list_oidc_providers(&self) -> IamResult<Vec<OidcProviderRecord>>;
    /// Deletes a provider.
    async fn delete_oidc_provider(&self, arn: &str) -> IamResult<()>;
}
