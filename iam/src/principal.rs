//! Who a request comes from, and the trait that resolves an access key into that principal.

use std::collections::BTreeMap;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::policy::AttachedPolicy;
use crate::secret::{SecretKey, SessionToken};

/// The kind of identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account root user (`arn:aws:iam::<acct>:root`).
    Root,
    /// An IAM user.
    User,
    /// An STS session of a role (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`).
    AssumedRole {
        /// ARN of the role the session was issued for (`arn:aws:iam::<acct>:role/<path><name>`).
        role_arn: String,
        /// Name of the session.
        session_name: String,
    },
}

/// An authenticated identity, as the policy evaluator and the audit trail see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// 12-digit account id.
    pub account_id: String,
    /// ARN of the identity (`…:user/alice`, `…:assumed-role/r/s`, `…:root`).
    pub arn: String,
    /// Unique id: `AIDA…` for users, `AROA…:<session>` for sessions, the account id for root.
    pub user_id: String,
    /// User name (`aws:username`); `None` for roles and root.
    pub user_name: Option<String>,
    /// Root, user or assumed role.
    pub kind: PrincipalKind,
    /// Principal tags (user tags, or role tags merged with session tags).
    pub tags: BTreeMap<String, String>,
}

impl Principal {
    /// Returns the `aws:PrincipalType` value (`Account`, `User`, `AssumedRole`).
    pub fn principal_type(&self) -> &'static str {
        match self.kind {
            PrincipalKind::Root => "Account",
            PrincipalKind::User => "User",
            PrincipalKind::AssumedRole { .. } => "AssumedRole",
        }
    }

    /// Returns the ARN of the role behind a session, if this is one.
    pub fn role_arn(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::AssumedRole { role_arn, .. } => Some(role_arn),
            _ => None,
        }
    }

    /// Returns whether this is the account root user.
    pub fn is_root(&self) -> bool {
        self.kind == PrincipalKind::Root
    }
}

/// Whether an access key may be used (IAM `Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// The key signs requests.
    Active,
    /// The key is disabled; requests signed with it are rejected like unknown keys.
    Inactive,
}

/// The STS session a temporary access key belongs to.
#[derive(Debug, Clone)]
pub struct SessionBinding {
    /// The token that must accompany every request signed with the key.
    pub token: SessionToken,
    /// When the session's credentials stop working.
    pub expires_at: SystemTime,
    /// Session policies (`Policy`, `PolicyArns` of the STS call); `None` when the session was
    /// created without any, so that only the identity's own policies apply.
    pub policies: Option<Vec<AttachedPolicy>>,
}

/// What a [`CredentialStore`] knows about one access key.
#[derive(Debug, Clone)]
pub struct StoredCredential {
    /// The secret access key used to verify signatures.
    pub secret: SecretKey,
    /// The identity the key belongs to.
    pub principal: Principal,
    /// Active or inactive.
    pub status: KeyStatus,
    /// Set for temporary (`ASIA…`) keys.
    pub session: Option<SessionBinding>,
}

/// A credential store failed for a reason other than "key unknown".
#[derive(Debug, thiserror::Error)]
#[error("credential store failure: {0}")]
pub struct CredentialStoreError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Resolves access key ids to secrets and principals (metadata store, STS sessions, static config).
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Returns the credential for `access_key_id`, or `None` when the key is unknown.
    ///
    /// `session_token` is the `X-Amz-Security-Token` the request carried; stores that index STS
    /// sessions by token may use it, but need not check it: the verifier compares it with
    /// [`StoredCredential::session`] in constant time.
    async fn lookup(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
    ) -> Result<Option<StoredCredential>, CredentialStoreError>;
}

/// An in-memory [`CredentialStore`]: bootstrap credentials from configuration, and tests.
#[derive(Debug, Default)]
pub struct StaticCredentialStore {
    keys: std::sync::RwLock<std::collections::HashMap<String, StoredCredential>>,
}

impl StaticCredentialStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the credential of `access_key_id`.
    pub fn insert(&self, access_key_id: impl Into<String>, credential: StoredCredential) {
        self.keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(access_key_id.into(), credential);
    }

    /// Removes the credential of `access_key_id`.
    pub fn remove(&self, access_key_id: &str) {
        self.keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(access_key_id);
    }
}

#[async_trait]
impl CredentialStore for StaticCredentialStore {
    async fn lookup(
        &self,
        access_key_id: &str,
        _session_token: Option<&str>,
    ) -> Result<Option<StoredCredential>, CredentialStoreError> {
        Ok(self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(access_key_id)
            .cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Principal {
        Principal {
            account_id: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/alice".into(),
            user_id: "AIDAALICE".into(),
            user_name: Some("alice".into()),
            kind: PrincipalKind::User,
            tags: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn static_store_resolves_what_was_inserted() {
        let store = StaticCredentialStore::new();
        store.insert(
            "AKIAALICE",
            StoredCredential {
                secret: SecretKey::new("s"),
                principal: user(),
                status: KeyStatus::Active,
                session: None,
            },
        );
        let found = store.lookup("AKIAALICE", None).await.unwrap().unwrap();
        assert_eq!(found.principal.arn, "arn:aws:iam::123456789012:user/alice");
        assert!(store.lookup("AKIAOTHER", None).await.unwrap().is_none());
        store.remove("AKIAALICE");
        assert!(store.lookup("AKIAALICE", None).await.unwrap().is_none());
    }

    #[test]
    fn principal_types() {
        let mut p = user();
        assert_eq!(p.principal_type(), "User");
        assert!(p.role_arn().is_none() && !p.is_root());
        p.kind = PrincipalKind::AssumedRole {
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            session_name: "s".into(),
        };
        assert_eq!(p.principal_type(), "AssumedRole");
        assert_eq!(p.role_arn(), Some("arn:aws:iam::123456789012:role/r"));
        p.kind = PrincipalKind::Root;
        assert_eq!(p.principal_type(), "Account");
        assert!(p.is_root());
    }
}
