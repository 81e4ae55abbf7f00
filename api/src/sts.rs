//! STS on `POST /` (query protocol, signing name `sts`): `GetCallerIdentity`,
//! `GetSessionToken`, `AssumeRole` and `AssumeRoleWithWebIdentity`.
//!
//! Sessions are not stored: [`Sts`] seals each one into its session token (see
//! [`ampd_iam::sts::SessionSealer`]) under a key derived from the root key, and
//! [`crate::Identities`] opens the token again when a temporary key signs a request. Role
//! sessions are evaluated as `arn:aws:sts::<acct>:assumed-role/<role>/<session>` with the
//! role's policies, its permissions boundary and the session policies. Web identity tokens are
//! checked against the account's OIDC providers (IAM `CreateOpenIDConnectProvider`) and the
//! issuer's keys ([`JwksSources`]).

mod jwks;
mod operations;
mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;

use ampd_backends::OidcProviderStore;
use ampd_iam::sts::SessionSealer;
use ampd_kms::RootKey;
use anyhow::Context;

pub use jwks::JwksSources;
pub use operations::{handle, is_unsigned_sts_action};

/// HKDF purpose of the session-token key; no other key is derived with it.
const PURPOSE: &[u8] = b"ampd/sts/session-tokens/v1";

/// The STS service of the account: the session sealer, the OIDC providers and their keys.
#[derive(Debug)]
pub struct Sts {
    sealer: SessionSealer,
    providers: Arc<dyn OidcProviderStore>,
    jwks: JwksSources,
}

impl Sts {
    /// Derives the session-token key from `root` and sets up the JWKS sources
    /// (issuer URL → file path or URL; other issuers are discovered).
    pub fn new(
        root: &RootKey,
        providers: Arc<dyn OidcProviderStore>,
        jwks: &BTreeMap<String, String>,
    ) -> anyhow::Result<Self> {
        let key = root
            .derive_key(PURPOSE)
            .context("cannot derive the session-token key")?;
        Ok(Self {
            sealer: SessionSealer::new(&key).context("cannot set up session sealing")?,
            providers,
            jwks: JwksSources::new(jwks)?,
        })
    }

    /// Returns the session sealer.
    pub fn sealer(&self) -> &SessionSealer {
        &self.sealer
    }

    /// Returns the OIDC provider store.
    pub fn providers(&self) -> &dyn OidcProviderStore {
        &*self.providers
    }

    /// Returns the JWKS sources.
    pub fn jwks(&self) -> &JwksSources {
        &self.jwks
    }
}

#[cfg(test)]
mod tests;
