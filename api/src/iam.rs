//! IAM of the account: who may sign requests (credential lookup for SigV4) and which identity
//! policies apply to them, plus the IAM query-protocol API ([`handle`], reached on `POST /`).

mod handlers;
mod query;
mod root;
mod secrets;

use std::sync::Arc;

use ampd_backends::{AccessKeyStatus, IamStore, IamStoreError, IamUser, PolicyOwner};
use ampd_iam::aps::managed_policy;
use ampd_iam::policy::{AttachedPolicy, Policy, PolicyKind};
use ampd_iam::{
    CredentialStore, CredentialStoreError, KeyStatus, Principal, PrincipalKind, StoredCredential,
};
use async_trait::async_trait;

pub use handlers::handle;
pub use root::{ROOT_CREDENTIALS_FILE, RootAccessKey, RootCredentialsError};
pub use secrets::{ROOT_KEY_FILE, SealerError, SecretSealer};

/// Users, keys and policies of the one account this endpoint serves.
#[derive(Debug)]
pub struct Identities {
    store: Arc<dyn IamStore>,
    sealer: SecretSealer,
    root: RootAccessKey,
    account_id: String,
}

impl Identities {
    /// Bundles the IAM store, the secret sealer, the root access key and the account id.
    pub fn new(
        store: Arc<dyn IamStore>,
        sealer: SecretSealer,
        root: RootAccessKey,
        account_id: impl Into<String>,
    ) -> Self {
        Self {
            store,
            sealer,
            root,
            account_id: account_id.into(),
        }
    }

    /// Returns the account id.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    fn store(&self) -> &dyn IamStore {
        &*self.store
    }

    fn sealer(&self) -> &SecretSealer {
        &self.sealer
    }

    /// Returns the root principal of the account.
    pub fn root_principal(&self) -> Principal {
        Principal {
            account_id: self.account_id.clone(),
            arn: format!("arn:aws:iam::{}:root", self.account_id),
            user_id: self.account_id.clone(),
            user_name: None,
            kind: PrincipalKind::Root,
            tags: Default::default(),
        }
    }

    fn user_principal(&self, user: IamUser) -> Principal {
        Principal {
            account_id: self.account_id.clone(),
            arn: user.arn,
            user_id: user.user_id,
            user_name: Some(user.name),
            kind: PrincipalKind::User,
            tags: user.tags,
        }
    }

    /// Returns the identity policies of `principal`: its inline and attached managed policies,
    /// then those of each of its groups (AWS managed ones resolved from the built-in catalogue). A stored
    /// document that no longer parses is skipped with a warning: it was validated when put.
    pub async fn identity_policies(
        &self,
        principal: &Principal,
    ) -> Result<Vec<AttachedPolicy>, IamStoreError> {
        let Some(name) = principal.user_name.as_deref() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut add = |label: String, document: Result<Policy, _>| match document {
            Ok(p) => out.push(AttachedPolicy::new(
                label,
                PolicyKind::Identity,
                Arc::new(p),
            )),
            Err(e) => {
                tracing::warn!(policy = %label, error = %e, "skipping unreadable policy {label}")
            }
        };
        let groups = self.store.groups_for_user(name).await?;
        let owners = std::iter::once(PolicyOwner::User(name))
            .chain(groups.iter().map(|g| PolicyOwner::Group(&g.name)));
        for owner in owners {
            for (policy_name, document) in self.store.list_inline_policies(owner).await? {
                add(policy_name, Policy::parse_identity(&document));
            }
            for arn in self.store.attached_policies(owner).await? {
                if let Some(aws) = managed_policy(&arn) {
                    add(arn, aws.policy());
                } else {
                    match self.store.policy(&arn).await {
                        Ok(p) => add(arn, Policy::parse_identity(&p.document)),
                        Err(IamStoreError::NoSuchEntity(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl CredentialStore for Identities {
    async fn lookup(
        &self,
        access_key_id: &str,
        _session_token: Option<&str>,
    ) -> Result<Option<StoredCredential>, CredentialStoreError> {
        if access_key_id == self.root.access_key_id {
            return Ok(Some(StoredCredential {
                secret: self.root.secret.clone(),
                principal: self.root_principal(),
                status: KeyStatus::Active,
                session: None,
            }));
        }
        let found = self
            .store
            .access_key(access_key_id)
            .await
            .map_err(|e| CredentialStoreError(Box::new(e)))?;
        let Some((key, user)) = found else {
            return Ok(None);
        };
        let secret = self
            .sealer
            .open(&key.access_key_id, &key.sealed_secret)
            .map_err(|e| CredentialStoreError(Box::new(e)))?;
        Ok(Some(StoredCredential {
            secret,
            principal: self.user_principal(user),
            status: match key.status {
                AccessKeyStatus::Active => KeyStatus::Active,
                AccessKeyStatus::Inactive => KeyStatus::Inactive,
            },
            session: None,
        }))
    }
}
