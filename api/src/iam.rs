//! IAM of the account: who may sign requests (credential lookup for SigV4) and which identity
//! policies and permissions boundaries apply to them (users, their groups, roles), plus the IAM
//! query-protocol API ([`handle`], reached on `POST /`).

mod handlers;
mod oidc;
pub(crate) mod query;
mod roles;
mod root;
mod secrets;
mod simulate;

use std::sync::Arc;

use ampd_backends::{AccessKeyStatus, IamRole, IamStore, IamStoreError, IamUser, PolicyOwner};
use ampd_iam::aps::managed_policy;
use ampd_iam::policy::{AttachedPolicy, Policy, PolicyKind};
use ampd_iam::sts::{SessionClaims, SessionError, SessionIdentity};
use ampd_iam::{
    AccessKeyKind, CredentialStore, CredentialStoreError, KeyStatus, Principal, PrincipalKind,
    SessionBinding, SessionToken, StoredCredential,
};
use async_trait::async_trait;

use crate::sts::Sts;

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
    sts: Option<Arc<Sts>>,
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
            sts: None,
        }
    }

    /// Adds STS: temporary credentials it issued are then accepted (without it, `ASIA…` keys
    /// are unknown).
    pub fn with_sts(mut self, sts: Arc<Sts>) -> Self {
        self.sts = Some(sts);
        self
    }

    /// Returns the STS service, if configured.
    pub(crate) fn sts(&self) -> Option<&Sts> {
        self.sts.as_deref()
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

    /// Returns the identity policies of `principal`: for a user its inline and attached
    /// managed policies, then those of each of its groups; for a role session those of the
    /// role ([`Identities::role_policies`]); none for root, or once the user or role is gone
    /// (a session outliving its role keeps no permissions).
    pub async fn identity_policies(
        &self,
        principal: &Principal,
    ) -> Result<Vec<AttachedPolicy>, IamStoreError> {
        let found = match &principal.kind {
            PrincipalKind::User => match principal.user_name.as_deref() {
                Some(name) => self.user_policies(name).await,
                None => Ok(Vec::new()),
            },
            PrincipalKind::AssumedRole { role_arn, .. } => match role_name(role_arn) {
                Some(name) => self.role_policies(name).await,
                None => Ok(Vec::new()),
            },
            PrincipalKind::Root => Ok(Vec::new()),
        };
        match found {
            Err(IamStoreError::NoSuchEntity(_)) => Ok(Vec::new()),
            other => other,
        }
    }

    /// Returns a user's inline and attached managed policies, then those of each of its
    /// groups.
    pub async fn user_policies(&self, name: &str) -> Result<Vec<AttachedPolicy>, IamStoreError> {
        let groups = self.store.groups_for_user(name).await?;
        let owners: Vec<PolicyOwner<'_>> = std::iter::once(PolicyOwner::User(name))
            .chain(groups.iter().map(|g| PolicyOwner::Group(&g.name)))
            .collect();
        self.owner_policies(&owners).await
    }

    /// Returns a role's identity policies: its inline policies, then its attached managed
    /// policies (AWS managed ones resolved from the built-in catalogue). A role session's
    /// permissions start from these (then boundary and session policies narrow them).
    pub async fn role_policies(
        &self,
        role_name: &str,
    ) -> Result<Vec<AttachedPolicy>, IamStoreError> {
        self.owner_policies(&[PolicyOwner::Role(role_name)]).await
    }

    /// Returns a group's inline and attached managed policies.
    pub async fn group_policies(
        &self,
        group_name: &str,
    ) -> Result<Vec<AttachedPolicy>, IamStoreError> {
        self.owner_policies(&[PolicyOwner::Group(group_name)]).await
    }

    /// Returns a role by name (trust policy, maximum session duration, tags, boundary).
    pub async fn role(&self, name: &str) -> Result<IamRole, IamStoreError> {
        self.store.role(name).await
    }

    /// Returns the permissions boundary of `principal` (a user's, or the role's for a role
    /// session), if one is set. A boundary naming a policy that no longer resolves allows
    /// nothing: failing closed keeps a broken boundary from widening access.
    pub async fn permissions_boundary(
        &self,
        principal: &Principal,
    ) -> Result<Option<AttachedPolicy>, IamStoreError> {
        let found = match &principal.kind {
            PrincipalKind::User => match principal.user_name.as_deref() {
                Some(name) => self.store.user(name).await.map(|u| u.permissions_boundary),
                None => Ok(None),
            },
            PrincipalKind::AssumedRole { role_arn, .. } => match role_name(role_arn) {
                Some(name) => self.store.role(name).await.map(|r| r.permissions_boundary),
                None => Ok(None),
            },
            PrincipalKind::Root => Ok(None),
        };
        let arn = match found {
            Ok(arn) => arn,
            // Gone users and roles have no identity policies either (see identity_policies).
            Err(IamStoreError::NoSuchEntity(_)) => None,
            Err(e) => return Err(e),
        };
        match arn {
            Some(arn) => self.boundary_policy(&arn).await.map(Some),
            None => Ok(None),
        }
    }

    /// Resolves a managed policy ARN used as a permissions boundary.
    pub async fn boundary_policy(&self, arn: &str) -> Result<AttachedPolicy, IamStoreError> {
        let policy = match self.managed_document(arn).await? {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                tracing::warn!(policy = %arn, error = %e, "unreadable boundary {arn} allows nothing");
                Policy::empty()
            }
            None => {
                tracing::warn!(policy = %arn, "missing boundary {arn} allows nothing");
                Policy::empty()
            }
        };
        Ok(AttachedPolicy::new(
            arn,
            PolicyKind::PermissionsBoundary,
            Arc::new(policy),
        ))
    }

    /// Returns the default version of a managed policy (AWS or customer), parsed; `None` when
    /// no such policy exists.
    pub(crate) async fn managed_document(
        &self,
        arn: &str,
    ) -> Result<Option<Result<Policy, ampd_iam::policy::PolicyError>>, IamStoreError> {
        if let Some(aws) = managed_policy(arn).filter(|p| p.arn == arn) {
            return Ok(Some(aws.policy()));
        }
        match self.store.policy(arn).await {
            Ok(p) => Ok(Some(Policy::parse_identity(&p.document))),
            Err(IamStoreError::NoSuchEntity(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Collects the inline and attached policies of `owners`, in order. A stored document
    /// that no longer parses is skipped with a warning: it was validated when put.
    async fn owner_policies(
        &self,
        owners: &[PolicyOwner<'_>],
    ) -> Result<Vec<AttachedPolicy>, IamStoreError> {
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
        for &owner in owners {
            for (policy_name, document) in self.store.list_inline_policies(owner).await? {
                add(policy_name, Policy::parse_identity(&document));
            }
            for arn in self.store.attached_policies(owner).await? {
                if let Some(document) = self.managed_document(&arn).await? {
                    add(arn, document);
                }
            }
        }
        Ok(out)
    }
}

/// Returns the name of the role an ARN names (`arn:aws:iam::<acct>:role/<path><name>`).
pub fn role_name(role_arn: &str) -> Option<&str> {
    let (_, resource) = role_arn.split_once(":role/")?;
    resource.rsplit('/').next().filter(|n| !n.is_empty())
}

#[async_trait]
impl CredentialStore for Identities {
    async fn lookup(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
    ) -> Result<Option<StoredCredential>, CredentialStoreError> {
        if AccessKeyKind::of(access_key_id) == Some(AccessKeyKind::Temporary) {
            return self
                .session_credential(access_key_id, session_token)
                .await
                .map_err(|e| CredentialStoreError(e.into()));
        }
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

/// Why a session's credential could not be resolved (other than being invalid).
#[derive(Debug, thiserror::Error)]
enum SessionLookupError {
    #[error(transparent)]
    Store(#[from] IamStoreError),
}

impl Identities {
    /// Resolves a temporary key: opens its session token, then finds who the session acts as
    /// now (the user, or the role with its current tags) and compiles its session policies.
    /// An unreadable token, or a user or role deleted since, makes the key unknown.
    async fn session_credential(
        &self,
        access_key_id: &str,
        token: Option<&str>,
    ) -> Result<Option<StoredCredential>, SessionLookupError> {
        let (Some(sts), Some(token)) = (self.sts(), token) else {
            return Ok(None);
        };
        let (claims, secret) = match sts.sealer().open(access_key_id, token) {
            Ok(opened) => opened,
            Err(SessionError::InvalidToken | SessionError::Crypto) => return Ok(None),
        };
        let principal = match &claims.identity {
            SessionIdentity::Root => self.root_principal(),
            SessionIdentity::User { name } => match self.store.user(name).await {
                Ok(user) => self.user_principal(user),
                Err(IamStoreError::NoSuchEntity(_)) => return Ok(None),
                Err(e) => return Err(e.into()),
            },
            SessionIdentity::AssumedRole {
                role_name, role_id, ..
            } => {
                let role = match self.store.role(role_name).await {
                    Ok(role) if role.role_id == *role_id => role,
                    Ok(_) | Err(IamStoreError::NoSuchEntity(_)) => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                let Some(mut p) = claims.assumed_role_principal(&self.account_id) else {
                    return Ok(None);
                };
                // Session tags win over the role's tags of the same key.
                let mut tags = role.tags;
                tags.append(&mut p.tags);
                p.tags = tags;
                p
            }
        };
        Ok(Some(StoredCredential {
            secret,
            principal,
            status: KeyStatus::Active,
            session: Some(SessionBinding {
                token: SessionToken::new(token),
                expires_at: claims.expiration(),
                policies: self.session_policies(&claims).await?,
            }),
        }))
    }

    /// Compiles the session policies of a session (`None` when it has none). A policy that
    /// no longer exists or parses allows nothing, so the session only loses permissions.
    async fn session_policies(
        &self,
        claims: &SessionClaims,
    ) -> Result<Option<Vec<AttachedPolicy>>, IamStoreError> {
        if !claims.has_session_policies() {
            return Ok(None);
        }
        let mut out = Vec::new();
        if let Some(Ok(p)) = claims.policy.as_deref().map(Policy::parse_identity) {
            out.push(AttachedPolicy::new(
                "session policy",
                PolicyKind::Session,
                Arc::new(p),
            ));
        }
        for arn in &claims.policy_arns {
            if let Some(Ok(p)) = self.managed_document(arn).await? {
                out.push(AttachedPolicy::new(
                    arn.clone(),
                    PolicyKind::Session,
                    Arc::new(p),
                ));
            }
        }
        Ok(Some(out))
    }
}
