//! The IAM store contract: users, groups, roles, access keys, inline and managed policies,
//! attachments, tags and permissions boundaries.
//!
//! Kept apart from [`crate::MetadataStore`] because IAM entities have their own identifiers,
//! errors (`NoSuchEntity`, `EntityAlreadyExists`, `DeleteConflict`, `LimitExceeded`) and
//! quotas. Secrets cross this boundary only sealed: the store never sees a plaintext key.

#[cfg(any(test, feature = "testsuite"))]
pub mod testsuite;

use std::fmt;

use async_trait::async_trait;

use crate::model::{Tags, Timestamp};

/// Result alias of every [`IamStore`] operation.
pub type IamResult<T> = Result<T, IamStoreError>;

/// Why an IAM store operation failed; each variant is one IAM wire error.
#[derive(Debug, thiserror::Error)]
pub enum IamStoreError {
    /// The entity does not exist (`NoSuchEntity`).
    #[error("{0}")]
    NoSuchEntity(String),
    /// The entity exists already (`EntityAlreadyExists`).
    #[error("{0}")]
    AlreadyExists(String),
    /// The entity still has dependents (`DeleteConflict`).
    #[error("{0}")]
    DeleteConflict(String),
    /// A quota would be exceeded (`LimitExceeded`).
    #[error("{0}")]
    LimitExceeded(String),
    /// The database failed or holds unreadable data.
    #[error("IAM store failure: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<sqlx::Error> for IamStoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl From<serde_json::Error> for IamStoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Internal(Box::new(e))
    }
}

/// Access keys allowed per user (IAM's quota).
pub const MAX_ACCESS_KEYS_PER_USER: usize = 2;
/// Versions a customer managed policy may have (IAM's quota).
pub const MAX_POLICY_VERSIONS: usize = 5;
/// Managed policies attachable to one user, group or role (IAM's default quota).
pub const MAX_ATTACHED_POLICIES: usize = 10;
/// Groups one user may belong to (IAM's quota).
pub const MAX_GROUPS_PER_USER: usize = 10;
/// Tags one user or role may carry (IAM's quota).
pub const MAX_TAGS_PER_ENTITY: usize = 50;

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamUser {
    /// User name (unique, case-insensitive).
    pub name: String,
    /// Unique id (`AIDA…`).
    pub user_id: String,
    /// Path (`/` or `/team/`).
    pub path: String,
    /// ARN (`arn:aws:iam::<acct>:user<path><name>`).
    pub arn: String,
    /// Tags.
    pub tags: Tags,
    /// ARN of the managed policy bounding the user's permissions, if any.
    pub permissions_boundary: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// An IAM role: an identity without long-term keys that trusted principals assume (STS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamRole {
    /// Role name (unique, case-insensitive).
    pub name: String,
    /// Unique id (`AROA…`).
    pub role_id: String,
    /// Path (`/` or `/service/`).
    pub path: String,
    /// ARN (`arn:aws:iam::<acct>:role<path><name>`).
    pub arn: String,
    /// The trust policy (`AssumeRolePolicyDocument`), a resource policy naming who may assume
    /// the role; JSON text as given.
    pub assume_role_policy: String,
    /// Description.
    pub description: Option<String>,
    /// Longest session AssumeRole may grant, in seconds (3600 to 43200).
    pub max_session_duration: u32,
    /// Tags (the principal tags of the role's sessions).
    pub tags: Tags,
    /// ARN of the managed policy bounding the role's permissions, if any.
    pub permissions_boundary: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// What UpdateRole changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleUpdate {
    /// New description.
    pub description: Option<String>,
    /// New maximum session duration, in seconds.
    pub max_session_duration: Option<u32>,
}

/// A user or role: the entities that carry tags and a permissions boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity<'a> {
    /// A user, by name.
    User(&'a str),
    /// A role, by name.
    Role(&'a str),
}

/// The kind of an entity a managed policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    /// An IAM user.
    User,
    /// An IAM group.
    Group,
    /// An IAM role.
    Role,
}

/// One user, group or role a managed policy is attached to (ListEntitiesForPolicy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEntity {
    /// User, group or role.
    pub kind: EntityKind,
    /// Its name.
    pub name: String,
    /// Its unique id (`AIDA…`, `AGPA…`, `AROA…`).
    pub id: String,
}

/// An IAM group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamGroup {
    /// Group name (unique, case-insensitive).
    pub name: String,
    /// Unique id (`AGPA…`).
    pub group_id: String,
    /// Path.
    pub path: String,
    /// ARN (`arn:aws:iam::<acct>:group<path><name>`).
    pub arn: String,
    /// Creation time.
    pub created_at: Timestamp,
}

/// The user, group or role an inline policy or a managed-policy attachment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyOwner<'a> {
    /// A user, by name.
    User(&'a str),
    /// A group, by name.
    Group(&'a str),
    /// A role, by name.
    Role(&'a str),
}

impl<'a> From<Entity<'a>> for PolicyOwner<'a> {
    fn from(e: Entity<'a>) -> Self {
        match e {
            Entity::User(n) => Self::User(n),
            Entity::Role(n) => Self::Role(n),
        }
    }
}

/// Whether an access key may sign requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKeyStatus {
    /// Usable.
    Active,
    /// Disabled.
    Inactive,
}

impl AccessKeyStatus {
    /// Returns the IAM spelling (`Active`, `Inactive`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Inactive => "Inactive",
        }
    }

    /// Parses the IAM spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Active" => Some(Self::Active),
            "Inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// A long-term access key with its secret sealed by the caller.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    /// Access key id (`AKIA…`).
    pub access_key_id: String,
    /// Owner.
    pub user_name: String,
    /// The secret access key, sealed; opaque to the store.
    pub sealed_secret: Vec<u8>,
    /// Active or inactive.
    pub status: AccessKeyStatus,
    /// Creation time.
    pub created_at: Timestamp,
}

impl fmt::Debug for AccessKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKeyRecord")
            .field("access_key_id", &self.access_key_id)
            .field("user_name", &self.user_name)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A customer managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicyRecord {
    /// ARN (`arn:aws:iam::<acct>:policy<path><name>`).
    pub arn: String,
    /// Name (unique, case-insensitive).
    pub name: String,
    /// Unique id (`ANPA…`).
    pub policy_id: String,
    /// Path.
    pub path: String,
    /// Description.
    pub description: Option<String>,
    /// Id of the default version (`v1`, `v2`, …).
    pub default_version_id: String,
    /// The document of the default version (JSON text as given).
    pub document: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// When the default version last changed.
    pub updated_at: Timestamp,
}

/// One version of a customer managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    /// Version id (`v1`, `v2`, …).
    pub version_id: String,
    /// The document (JSON text as given).
    pub document: String,
    /// Whether this is the default version.
    pub is_default: bool,
    /// Creation time.
    pub created_at: Timestamp,
}

/// Persistence of IAM entities; every mutation is one transaction.
#[async_trait]
pub trait IamStore: fmt::Debug + Send + Sync + 'static {
    /// Creates a user; `AlreadyExists` if the name is taken.
    async fn create_user(&self, user: IamUser) -> IamResult<IamUser>;
    /// Returns a user by name.
    async fn user(&self, name: &str) -> IamResult<IamUser>;
    /// Lists users whose path starts with `path_prefix`, by name.
    async fn list_users(&self, path_prefix: &str) -> IamResult<Vec<IamUser>>;
    /// Deletes a user that has no access keys, inline policies, attachments or groups left.
    async fn delete_user(&self, name: &str) -> IamResult<()>;

    /// Adds an access key to its user, at most [`MAX_ACCESS_KEYS_PER_USER`] per user.
    async fn create_access_key(&self, key: AccessKeyRecord) -> IamResult<()>;
    /// Returns an access key and its owner, or `None` if unknown.
    async fn access_key(
        &self,
        access_key_id: &str,
    ) -> IamResult<Option<(AccessKeyRecord, IamUser)>>;
    /// Lists the access keys of a user, oldest first.
    async fn list_access_keys(&self, user_name: &str) -> IamResult<Vec<AccessKeyRecord>>;
    /// Sets the status of one of the user's keys.
    async fn update_access_key(
        &self,
        user_name: &str,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> IamResult<()>;
    /// Deletes one of the user's keys.
    async fn delete_access_key(&self, user_name: &str, access_key_id: &str) -> IamResult<()>;

    /// Creates a group; `AlreadyExists` if the name is taken.
    async fn create_group(&self, group: IamGroup) -> IamResult<IamGroup>;
    /// Returns a group by name.
    async fn group(&self, name: &str) -> IamResult<IamGroup>;
    /// Lists groups whose path starts with `path_prefix`, by name.
    async fn list_groups(&self, path_prefix: &str) -> IamResult<Vec<IamGroup>>;
    /// Deletes a group that has no members, inline policies or attachments left.
    async fn delete_group(&self, name: &str) -> IamResult<()>;
    /// Adds a user to a group (at most [`MAX_GROUPS_PER_USER`] groups); a no-op if a member.
    async fn add_user_to_group(&self, group: &str, user: &str) -> IamResult<()>;
    /// Removes a user from a group.
    async fn remove_user_from_group(&self, group: &str, user: &str) -> IamResult<()>;
    /// Lists the members of a group, by name.
    async fn group_members(&self, group: &str) -> IamResult<Vec<IamUser>>;
    /// Lists the groups of a user, by name.
    async fn groups_for_user(&self, user: &str) -> IamResult<Vec<IamGroup>>;

    /// Creates a role; `AlreadyExists` if the name is taken.
    async fn create_role(&self, role: IamRole) -> IamResult<IamRole>;
    /// Returns a role by name.
    async fn role(&self, name: &str) -> IamResult<IamRole>;
    /// Lists roles whose path starts with `path_prefix`, by name.
    async fn list_roles(&self, path_prefix: &str) -> IamResult<Vec<IamRole>>;
    /// Changes a role's description and maximum session duration.
    async fn update_role(&self, name: &str, update: RoleUpdate) -> IamResult<()>;
    /// Replaces a role's trust policy.
    async fn update_assume_role_policy(&self, name: &str, document: &str) -> IamResult<()>;
    /// Deletes a role that has no inline policies or attachments left.
    async fn delete_role(&self, name: &str) -> IamResult<()>;

    /// Adds tags to a user or role, replacing the values of keys it has; at most
    /// [`MAX_TAGS_PER_ENTITY`] in all.
    async fn tag_entity(&self, entity: Entity<'_>, tags: &Tags) -> IamResult<()>;
    /// Removes the tags with these keys from a user or role; unknown keys are ignored.
    async fn untag_entity(&self, entity: Entity<'_>, keys: &[String]) -> IamResult<()>;
    /// Sets (`Some`) or removes (`None`) the permissions boundary of a user or role.
    async fn set_permissions_boundary(
        &self,
        entity: Entity<'_>,
        policy_arn: Option<&str>,
    ) -> IamResult<()>;
    /// Returns how many users and roles use a policy as their permissions boundary.
    async fn boundary_usage_count(&self, policy_arn: &str) -> IamResult<u64>;
    /// Lists the users, groups and roles a managed policy is attached to, by kind and name.
    async fn policy_entities(&self, policy_arn: &str) -> IamResult<Vec<PolicyEntity>>;

    /// Creates or replaces an inline policy of a user, group or role.
    async fn put_inline_policy(
        &self,
        owner: PolicyOwner<'_>,
        name: &str,
        document: &str,
    ) -> IamResult<()>;
    /// Returns the document of an inline policy.
    async fn inline_policy(&self, owner: PolicyOwner<'_>, name: &str) -> IamResult<String>;
    /// Lists the inline policies of a user, group or role as `(name, document)`, by name.
    async fn list_inline_policies(
        &self,
        owner: PolicyOwner<'_>,
    ) -> IamResult<Vec<(String, String)>>;
    /// Deletes an inline policy.
    async fn delete_inline_policy(&self, owner: PolicyOwner<'_>, name: &str) -> IamResult<()>;

    /// Creates a customer managed policy whose `document` becomes version `v1`, the default
    /// (`default_version_id` is ignored); `AlreadyExists` if the name is taken.
    async fn create_policy(&self, policy: ManagedPolicyRecord) -> IamResult<ManagedPolicyRecord>;
    /// Adds a version (at most [`MAX_POLICY_VERSIONS`]), optionally making it the default.
    async fn create_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_as_default: bool,
        now: Timestamp,
    ) -> IamResult<PolicyVersion>;
    /// Returns one version of a policy.
    async fn policy_version(&self, arn: &str, version_id: &str) -> IamResult<PolicyVersion>;
    /// Lists the versions of a policy, newest first.
    async fn list_policy_versions(&self, arn: &str) -> IamResult<Vec<PolicyVersion>>;
    /// Deletes a version that is not the default.
    async fn delete_policy_version(&self, arn: &str, version_id: &str) -> IamResult<()>;
    /// Makes a version the default.
    async fn set_default_policy_version(
        &self,
        arn: &str,
        version_id: &str,
        now: Timestamp,
    ) -> IamResult<()>;
    /// Returns a customer managed policy by ARN.
    async fn policy(&self, arn: &str) -> IamResult<ManagedPolicyRecord>;
    /// Lists customer managed policies whose path starts with `path_prefix`, by name.
    async fn list_policies(&self, path_prefix: &str) -> IamResult<Vec<ManagedPolicyRecord>>;
    /// Returns how many users, groups and roles a policy is attached to.
    async fn attachment_count(&self, arn: &str) -> IamResult<u64>;
    /// Deletes a customer managed policy that is attached nowhere, bounds no user or role and
    /// has only its default version left.
    async fn delete_policy(&self, arn: &str) -> IamResult<()>;

    /// Attaches a managed policy (customer or AWS) to a user, group or role, at most
    /// [`MAX_ATTACHED_POLICIES`]; attaching twice is a no-op.
    async fn attach_policy(&self, owner: PolicyOwner<'_>, policy_arn: &str) -> IamResult<()>;
    /// Detaches a managed policy from a user, group or role.
    async fn detach_policy(&self, owner: PolicyOwner<'_>, policy_arn: &str) -> IamResult<()>;
    /// Lists the ARNs of the managed policies attached to a user, group or role, sorted.
    async fn attached_policies(&self, owner: PolicyOwner<'_>) -> IamResult<Vec<String>>;
}
