//! The IAM operations on `POST /` (query protocol, signing name `iam`).
//!
//! Every request is authenticated and authorized through the shared [`Authenticator`]
//! (`iam:<Action>` on the addressed user, group or policy ARN) before it is dispatched.
//! Listings page with `MaxItems` and `Marker` like IAM's.

use ampd_backends::{
    AccessKeyRecord, AccessKeyStatus, IamGroup, IamUser, ManagedPolicyRecord, PolicyOwner,
    PolicyVersion, Timestamp,
};
use ampd_iam::aps::{MANAGED_POLICIES, ManagedPolicy, managed_policy};
use ampd_iam::policy::Policy;
use ampd_iam::{
    AccessKeyKind, UniqueIdKind, generate_access_key_id, generate_secret_key, generate_unique_id,
};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

use super::Identities;
use super::query::{Form, IamError, VERSION, Xml, respond};
use super::roles::{self, user_summary_xml, user_xml};
use super::simulate;
use crate::auth::{Authenticator, Caller, Check, read_body};
use crate::trace::RequestId;

/// Characters IAM percent-encodes in policy documents (RFC 3986: all but unreserved).
const DOCUMENT_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Largest inline user policy, counted without whitespace (IAM's quota).
const MAX_USER_INLINE_POLICY: usize = 2048;
/// Largest inline group policy, counted without whitespace (IAM's quota).
const MAX_GROUP_INLINE_POLICY: usize = 5120;
/// Largest inline role policy, counted without whitespace (IAM's quota).
const MAX_ROLE_INLINE_POLICY: usize = 10_240;
/// Largest managed policy document, counted without whitespace (IAM's quota).
const MAX_MANAGED_POLICY: usize = 6144;

macro_rules! iam_operations {
    ($($op:ident),* $(,)?) => {
        /// One supported IAM operation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(super) enum IamOp { $($op),* }

        impl IamOp {
            fn parse(action: &str) -> Option<Self> {
                match action { $(stringify!($op) => Some(Self::$op),)* _ => None }
            }

            /// Returns the wire name (`CreateRole`).
            pub(super) fn name(self) -> &'static str {
                match self { $(Self::$op => stringify!($op)),* }
            }

            fn iam_action(self) -> &'static str {
                match self { $(Self::$op => concat!("iam:", stringify!($op))),* }
            }
        }
    };
}

iam_operations! {
    CreateUser, GetUser, ListUsers, DeleteUser,
    CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey,
    PutUserPolicy, GetUserPolicy, ListUserPolicies, DeleteUserPolicy,
    CreatePolicy, GetPolicy, ListPolicies, DeletePolicy,
    CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion,
    SetDefaultPolicyVersion,
    AttachUserPolicy, DetachUserPolicy, ListAttachedUserPolicies,
    CreateGroup, GetGroup, ListGroups, DeleteGroup,
    AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser,
    PutGroupPolicy, GetGroupPolicy, ListGroupPolicies, DeleteGroupPolicy,
    AttachGroupPolicy, DetachGroupPolicy, ListAttachedGroupPolicies,
    // Roles (roles.rs).
    CreateRole, GetRole, ListRoles, DeleteRole,
    UpdateRole, UpdateRoleDescription, UpdateAssumeRolePolicy,
    PutRolePolicy, GetRolePolicy, ListRolePolicies, DeleteRolePolicy,
    AttachRolePolicy, DetachRolePolicy, ListAttachedRolePolicies,
    ListEntitiesForPolicy,
    // Tags and permissions boundaries of users and roles (roles.rs).
    TagUser, UntagUser, ListUserTags, TagRole, UntagRole, ListRoleTags,
    PutUserPermissionsBoundary, DeleteUserPermissionsBoundary,
    PutRolePermissionsBoundary, DeleteRolePermissionsBoundary,
    // The policy simulator (simulate.rs).
    SimulatePrincipalPolicy, SimulateCustomPolicy,
}

/// Serves one IAM request (a form-encoded `Action` on `POST /`).
pub async fn handle(auth: &Authenticator, req: Request) -> Response {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    match serve(auth, req).await {
        Ok((name, result)) => respond(name, result, &request_id),
        Err(e) => e.into_response_with(&request_id),
    }
}

async fn serve(
    auth: &Authenticator,
    req: Request,
) -> Result<(&'static str, Option<Xml>), IamError> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(body)
        .await
        .map_err(|e| IamError::validation(e.to_string()))?;
    let caller = auth.authenticate(&parts, &bytes, "iam").await?;
    let form = Form::parse(&bytes);
    let action = form.required("Action")?;
    if let Some(op) = super::oidc::OidcOp::parse(action) {
        return super::oidc::serve(op, auth, &parts, &form, &caller).await;
    }
    let op = IamOp::parse(action).ok_or_else(|| {
        IamError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("Could not find operation {action} for version {VERSION}"),
        )
    })?;
    if form.get("Version") != Some(VERSION) {
        return Err(IamError::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
            format!("Version must be {VERSION}"),
        ));
    }
    let ids = auth.identities();
    let resource = resource(op, &form, ids, &caller).await?;
    let mut context = auth.base_context(&parts, &caller.principal);
    roles::add_context(op, &form, ids, &mut context).await?;
    let check = Check {
        action: op.iam_action(),
        resource,
        context,
    };
    auth.authorize(&caller, &[check]).await?;
    Ok((op.name(), run(op, &form, ids, &caller).await?))
}

/// Returns the ARN an operation is authorized on.
async fn resource(
    op: IamOp,
    form: &Form,
    ids: &Identities,
    caller: &Caller,
) -> Result<String, IamError> {
    use IamOp as O;
    let account = ids.account_id();
    Ok(match op {
        O::ListUsers | O::ListPolicies | O::ListGroups | O::ListRoles | O::SimulateCustomPolicy => {
            "*".to_owned()
        }
        O::SimulatePrincipalPolicy => form.required("PolicySourceArn")?.to_owned(),
        O::CreateRole => {
            let path = form.get("Path").unwrap_or("/");
            format!(
                "arn:aws:iam::{account}:role{path}{}",
                form.required("RoleName")?
            )
        }
        O::GetRole
        | O::DeleteRole
        | O::UpdateRole
        | O::UpdateRoleDescription
        | O::UpdateAssumeRolePolicy
        | O::PutRolePolicy
        | O::GetRolePolicy
        | O::ListRolePolicies
        | O::DeleteRolePolicy
        | O::AttachRolePolicy
        | O::DetachRolePolicy
        | O::ListAttachedRolePolicies
        | O::TagRole
        | O::UntagRole
        | O::ListRoleTags
        | O::PutRolePermissionsBoundary
        | O::DeleteRolePermissionsBoundary => {
            let name = form.required("RoleName")?;
            match ids.store().role(name).await {
                Ok(r) => r.arn,
                Err(_) => format!("arn:aws:iam::{account}:role/{name}"),
            }
        }
        O::ListEntitiesForPolicy => form.required("PolicyArn")?.to_owned(),
        O::CreateGroup => {
            let path = form.get("Path").unwrap_or("/");
            format!(
                "arn:aws:iam::{account}:group{path}{}",
                form.required("GroupName")?
            )
        }
        O::GetGroup
        | O::DeleteGroup
        | O::AddUserToGroup
        | O::RemoveUserFromGroup
        | O::PutGroupPolicy
        | O::GetGroupPolicy
        | O::ListGroupPolicies
        | O::DeleteGroupPolicy
        | O::AttachGroupPolicy
        | O::DetachGroupPolicy
        | O::ListAttachedGroupPolicies => {
            let name = form.required("GroupName")?;
            match ids.store().group(name).await {
                Ok(g) => g.arn,
                Err(_) => format!("arn:aws:iam::{account}:group/{name}"),
            }
        }
        O::CreateUser => {
            let path = form.get("Path").unwrap_or("/");
            format!(
                "arn:aws:iam::{account}:user{path}{}",
                form.required("UserName")?
            )
        }
        O::CreatePolicy => {
            let path = form.get("Path").unwrap_or("/");
            format!(
                "arn:aws:iam::{account}:policy{path}{}",
                form.required("PolicyName")?
            )
        }
        O::GetPolicy
        | O::DeletePolicy
        | O::CreatePolicyVersion
        | O::GetPolicyVersion
        | O::ListPolicyVersions
        | O::DeletePolicyVersion
        | O::SetDefaultPolicyVersion => form.required("PolicyArn")?.to_owned(),
        _ => match form.get("UserName") {
            Some(name) => match ids.store().user(name).await {
                Ok(u) => u.arn,
                // Authorize on the ARN the user would have; the operation reports NoSuchEntity.
                Err(_) => format!("arn:aws:iam::{account}:user/{name}"),
            },
            None => caller.principal.arn.clone(),
        },
    })
}

/// The user an operation addresses: `UserName`, or the calling user when it is optional.
fn target_user<'a>(form: &'a Form, caller: &'a Caller) -> Result<&'a str, IamError> {
    match form.get("UserName") {
        Some(name) => Ok(name),
        None => caller.principal.user_name.as_deref().ok_or_else(|| {
            IamError::validation("UserName is required when the caller is not an IAM user")
        }),
    }
}

async fn run(
    op: IamOp,
    form: &Form,
    ids: &Identities,
    caller: &Caller,
) -> Result<Option<Xml>, IamError> {
    use IamOp as O;
    let store = ids.store();
    let mut x = Xml::new();
    match op {
        O::CreateRole
        | O::GetRole
        | O::ListRoles
        | O::DeleteRole
        | O::UpdateRole
        | O::UpdateRoleDescription
        | O::UpdateAssumeRolePolicy
        | O::ListEntitiesForPolicy
        | O::TagUser
        | O::UntagUser
        | O::ListUserTags
        | O::TagRole
        | O::UntagRole
        | O::ListRoleTags
        | O::PutUserPermissionsBoundary
        | O::DeleteUserPermissionsBoundary
        | O::PutRolePermissionsBoundary
        | O::DeleteRolePermissionsBoundary => return roles::run(op, form, ids).await,
        O::SimulatePrincipalPolicy | O::SimulateCustomPolicy => {
            return simulate::run(op, form, ids).await;
        }
        O::CreateUser => {
            let name = valid_name("userName", form.required("UserName")?, 64)?;
            let path = valid_path(form.get("Path").unwrap_or("/"))?;
            let permissions_boundary = match form.get("PermissionsBoundary") {
                Some(arn) => Some(roles::boundary_arn(ids, arn).await?),
                None => None,
            };
            let user = store
                .create_user(IamUser {
                    arn: format!("arn:aws:iam::{}:user{path}{name}", ids.account_id()),
                    name: name.to_owned(),
                    user_id: generate_unique_id(UniqueIdKind::User).map_err(internal)?,
                    path: path.to_owned(),
                    tags: roles::request_tags(form)?,
                    permissions_boundary,
                    created_at: Timestamp::now(),
                })
                .await?;
            x.node("User", |u| user_xml(u, &user));
        }
        O::GetUser => match form.get("UserName") {
            Some(name) => {
                let user = store.user(name).await?;
                x.node("User", |u| user_xml(u, &user));
            }
            None if caller.principal.is_root() => {
                x.node("User", |u| {
                    u.leaf("UserId", &caller.principal.user_id)
                        .leaf("Arn", &caller.principal.arn);
                });
            }
            None => {
                let user = store.user(target_user(form, caller)?).await?;
                x.node("User", |u| user_xml(u, &user));
            }
        },
        O::ListUsers => {
            let users = store
                .list_users(form.get("PathPrefix").unwrap_or("/"))
                .await?;
            page(&mut x, "Users", &users, form, user_summary_xml)?;
        }
        O::DeleteUser => {
            store.delete_user(form.required("UserName")?).await?;
            return Ok(None);
        }
        O::CreateAccessKey => {
            let user = store.user(target_user(form, caller)?).await?;
            let id = generate_access_key_id(AccessKeyKind::LongTerm).map_err(internal)?;
            let secret = generate_secret_key().map_err(internal)?;
            let record = AccessKeyRecord {
                sealed_secret: ids.sealer().seal(&id, &secret).map_err(internal)?,
                access_key_id: id,
                user_name: user.name,
                status: AccessKeyStatus::Active,
                created_at: Timestamp::now(),
            };
            store.create_access_key(record.clone()).await?;
            x.node("AccessKey", |k| {
                key_xml(k, &record);
                k.leaf("SecretAccessKey", secret.expose());
            });
        }
        O::ListAccessKeys => {
            let keys = store.list_access_keys(target_user(form, caller)?).await?;
            page(&mut x, "AccessKeyMetadata", &keys, form, key_xml)?;
        }
        O::UpdateAccessKey => {
            let status = form.required("Status")?;
            let status = AccessKeyStatus::parse(status).ok_or_else(|| {
                IamError::validation(format!(
                    "1 validation error detected: Value '{status}' at 'status' failed to satisfy \
                     constraint: Member must satisfy enum value set: [Active, Inactive]"
                ))
            })?;
            let id = form.required("AccessKeyId")?;
            store
                .update_access_key(target_user(form, caller)?, id, status)
                .await?;
            return Ok(None);
        }
        O::DeleteAccessKey => {
            let id = form.required("AccessKeyId")?;
            store
                .delete_access_key(target_user(form, caller)?, id)
                .await?;
            return Ok(None);
        }
        O::PutUserPolicy | O::PutGroupPolicy | O::PutRolePolicy => {
            let owner = owner(op, form)?;
            let name = valid_name("policyName", form.required("PolicyName")?, 128)?;
            let document = form.required("PolicyDocument")?;
            let max = match owner {
                PolicyOwner::User(_) => MAX_USER_INLINE_POLICY,
                PolicyOwner::Group(_) => MAX_GROUP_INLINE_POLICY,
                PolicyOwner::Role(_) => MAX_ROLE_INLINE_POLICY,
            };
            check_document(document, max)?;
            store.put_inline_policy(owner, name, document).await?;
            return Ok(None);
        }
        O::GetUserPolicy | O::GetGroupPolicy | O::GetRolePolicy => {
            let (member, stored) = match owner(op, form)? {
                PolicyOwner::User(n) => ("UserName", store.user(n).await?.name),
                PolicyOwner::Group(n) => ("GroupName", store.group(n).await?.name),
                PolicyOwner::Role(n) => ("RoleName", store.role(n).await?.name),
            };
            let owner = match op {
                O::GetUserPolicy => PolicyOwner::User(&stored),
                O::GetRolePolicy => PolicyOwner::Role(&stored),
                _ => PolicyOwner::Group(&stored),
            };
            let name = form.required("PolicyName")?;
            let document = store.inline_policy(owner, name).await?;
            x.leaf(member, &stored)
                .leaf("PolicyName", name)
                .leaf("PolicyDocument", &encode_document(&document));
        }
        O::ListUserPolicies | O::ListGroupPolicies | O::ListRolePolicies => {
            let names: Vec<String> = store
                .list_inline_policies(owner(op, form)?)
                .await?
                .into_iter()
                .map(|(n, _)| n)
                .collect();
            page(&mut x, "PolicyNames", &names, form, |m, n| {
                m.text(n);
            })?;
        }
        O::DeleteUserPolicy | O::DeleteGroupPolicy | O::DeleteRolePolicy => {
            store
                .delete_inline_policy(owner(op, form)?, form.required("PolicyName")?)
                .await?;
            return Ok(None);
        }
        O::CreateGroup => {
            let name = valid_name("groupName", form.required("GroupName")?, 128)?;
            let path = valid_path(form.get("Path").unwrap_or("/"))?;
            let group = store
                .create_group(IamGroup {
                    arn: format!("arn:aws:iam::{}:group{path}{name}", ids.account_id()),
                    name: name.to_owned(),
                    group_id: generate_unique_id(UniqueIdKind::Group).map_err(internal)?,
                    path: path.to_owned(),
                    created_at: Timestamp::now(),
                })
                .await?;
            x.node("Group", |g| group_xml(g, &group));
        }
        O::GetGroup => {
            let group = store.group(form.required("GroupName")?).await?;
            let users = store.group_members(&group.name).await?;
            x.node("Group", |g| group_xml(g, &group));
            page(&mut x, "Users", &users, form, user_summary_xml)?;
        }
        O::ListGroups => {
            let groups = store
                .list_groups(form.get("PathPrefix").unwrap_or("/"))
                .await?;
            page(&mut x, "Groups", &groups, form, group_xml)?;
        }
        O::DeleteGroup => {
            store.delete_group(form.required("GroupName")?).await?;
            return Ok(None);
        }
        O::AddUserToGroup => {
            store
                .add_user_to_group(form.required("GroupName")?, form.required("UserName")?)
                .await?;
            return Ok(None);
        }
        O::RemoveUserFromGroup => {
            store
                .remove_user_from_group(form.required("GroupName")?, form.required("UserName")?)
                .await?;
            return Ok(None);
        }
        O::ListGroupsForUser => {
            let groups = store.groups_for_user(form.required("UserName")?).await?;
            page(&mut x, "Groups", &groups, form, group_xml)?;
        }
        O::CreatePolicy => {
            let name = valid_name("policyName", form.required("PolicyName")?, 128)?;
            let path = valid_path(form.get("Path").unwrap_or("/"))?;
            let document = form.required("PolicyDocument")?;
            check_document(document, MAX_MANAGED_POLICY)?;
            let now = Timestamp::now();
            let policy = store
                .create_policy(ManagedPolicyRecord {
                    arn: format!("arn:aws:iam::{}:policy{path}{name}", ids.account_id()),
                    name: name.to_owned(),
                    policy_id: generate_unique_id(UniqueIdKind::Policy).map_err(internal)?,
                    path: path.to_owned(),
                    description: form.get("Description").map(str::to_owned),
                    default_version_id: String::new(),
                    document: document.to_owned(),
                    created_at: now,
                    updated_at: now,
                })
                .await?;
            let unused = Usage {
                attachments: 0,
                boundaries: 0,
            };
            x.node("Policy", |p| customer_policy_xml(p, &policy, unused));
        }
        O::GetPolicy => {
            let arn = form.required("PolicyArn")?;
            let count = Usage::of(store, arn).await?;
            if let Some(aws) = managed_policy(arn).filter(|p| p.arn == arn) {
                x.node("Policy", |p| aws_policy_xml(p, aws, count));
            } else {
                let policy = store.policy(arn).await?;
                x.node("Policy", |p| customer_policy_xml(p, &policy, count));
            }
        }
        O::ListPolicies => {
            let scope = form.get("Scope").unwrap_or("All");
            if !matches!(scope, "All" | "AWS" | "Local") {
                return Err(IamError::validation(format!(
                    "1 validation error detected: Value '{scope}' at 'scope' failed to satisfy \
                     constraint: Member must satisfy enum value set: [All, AWS, Local]"
                )));
            }
            let only_attached = form.get("OnlyAttached") == Some("true");
            let prefix = form.get("PathPrefix").unwrap_or("/");
            let mut entries: Vec<(PolicyEntry, Usage)> = Vec::new();
            if scope != "Local" && "/".starts_with(prefix) {
                for aws in MANAGED_POLICIES {
                    entries.push((PolicyEntry::Aws(aws), Usage::of(store, aws.arn).await?));
                }
            }
            if scope != "AWS" {
                for p in store.list_policies(prefix).await? {
                    let usage = Usage::of(store, &p.arn).await?;
                    entries.push((PolicyEntry::Customer(p), usage));
                }
            }
            // OnlyAttached counts the uses PolicyUsageFilter names (by default both).
            let usage = form.get("PolicyUsageFilter");
            entries.retain(|(_, n)| {
                let used = match usage {
                    Some("PermissionsPolicy") => n.attachments,
                    Some("PermissionsBoundary") => n.boundaries,
                    _ => n.attachments + n.boundaries,
                };
                !only_attached || used > 0
            });
            page(
                &mut x,
                "Policies",
                &entries,
                form,
                |m, (entry, n)| match entry {
                    PolicyEntry::Aws(aws) => aws_policy_xml(m, aws, *n),
                    PolicyEntry::Customer(p) => customer_policy_xml(m, p, *n),
                },
            )?;
        }
        O::DeletePolicy => {
            store.delete_policy(customer_policy_arn(form)?).await?;
            return Ok(None);
        }
        O::CreatePolicyVersion => {
            let arn = customer_policy_arn(form)?;
            let document = form.required("PolicyDocument")?;
            check_document(document, MAX_MANAGED_POLICY)?;
            let set_default = form.get("SetAsDefault") == Some("true");
            let version = store
                .create_policy_version(arn, document, set_default, Timestamp::now())
                .await?;
            x.node("PolicyVersion", |v| version_xml(v, &version, false));
        }
        O::GetPolicyVersion => {
            let arn = form.required("PolicyArn")?;
            let version_id = form.required("VersionId")?;
            let version = match managed_policy(arn).filter(|p| p.arn == arn) {
                Some(aws) if aws.default_version == version_id => PolicyVersion {
                    version_id: version_id.to_owned(),
                    document: aws.document.to_owned(),
                    is_default: true,
                    created_at: Timestamp(0),
                },
                _ => store.policy_version(arn, version_id).await?,
            };
            x.node("PolicyVersion", |v| version_xml(v, &version, true));
        }
        O::ListPolicyVersions => {
            let arn = form.required("PolicyArn")?;
            let versions = match managed_policy(arn).filter(|p| p.arn == arn) {
                Some(aws) => vec![PolicyVersion {
                    version_id: aws.default_version.to_owned(),
                    document: aws.document.to_owned(),
                    is_default: true,
                    created_at: Timestamp(0),
                }],
                None => store.list_policy_versions(arn).await?,
            };
            page(&mut x, "Versions", &versions, form, |m, v| {
                version_xml(m, v, false)
            })?;
        }
        O::DeletePolicyVersion => {
            let arn = customer_policy_arn(form)?;
            store
                .delete_policy_version(arn, form.required("VersionId")?)
                .await?;
            return Ok(None);
        }
        O::SetDefaultPolicyVersion => {
            let arn = customer_policy_arn(form)?;
            store
                .set_default_policy_version(arn, form.required("VersionId")?, Timestamp::now())
                .await?;
            return Ok(None);
        }
        O::AttachUserPolicy | O::AttachGroupPolicy | O::AttachRolePolicy => {
            let owner = owner(op, form)?;
            let arn = form.required("PolicyArn")?;
            let exists = managed_policy(arn).is_some_and(|p| p.arn == arn)
                || store.policy(arn).await.is_ok();
            if !exists {
                return Err(IamError::no_such_entity(format!(
                    "Policy {arn} does not exist or is not attachable."
                )));
            }
            store.attach_policy(owner, arn).await?;
            return Ok(None);
        }
        O::DetachUserPolicy | O::DetachGroupPolicy | O::DetachRolePolicy => {
            store
                .detach_policy(owner(op, form)?, form.required("PolicyArn")?)
                .await?;
            return Ok(None);
        }
        O::ListAttachedUserPolicies
        | O::ListAttachedGroupPolicies
        | O::ListAttachedRolePolicies => {
            let arns = store.attached_policies(owner(op, form)?).await?;
            page(&mut x, "AttachedPolicies", &arns, form, |m, arn| {
                let name = arn.rsplit('/').next().unwrap_or(arn);
                m.leaf("PolicyName", name).leaf("PolicyArn", arn);
            })?;
        }
    }
    Ok(Some(x))
}

/// Largest and default `MaxItems` of a listing.
const MAX_ITEMS: (usize, usize) = (1000, 100);

/// Writes one page of a listing: at most `MaxItems` items after `Marker`, then `IsTruncated`
/// and, if more follow, the `Marker` of the next page. Listings are sorted, and a marker is the
/// offset of the next item in them.
pub(super) fn page<T>(
    x: &mut Xml,
    name: &str,
    items: &[T],
    form: &Form,
    each: impl Fn(&mut Xml, &T),
) -> Result<(), IamError> {
    let max = match form.get("MaxItems") {
        None => MAX_ITEMS.1,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_ITEMS.0).contains(n))
            .ok_or_else(|| {
                IamError::validation(format!(
                    "1 validation error detected: Value '{v}' at 'maxItems' failed to satisfy \
                     constraint: Member must have value between 1 and {}",
                    MAX_ITEMS.0
                ))
            })?,
    };
    let start = match form.get("Marker") {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= items.len())
            .ok_or_else(|| IamError::validation(format!("Invalid Marker: {m}")))?,
    };
    let end = start.saturating_add(max).min(items.len());
    x.list(name, &items[start..end], each);
    if end < items.len() {
        x.leaf("IsTruncated", "true")
            .leaf("Marker", &end.to_string());
    } else {
        x.leaf("IsTruncated", "false");
    }
    Ok(())
}

/// Returns the user, group or role a policy operation addresses (`UserName`, `GroupName` or
/// `RoleName`).
fn owner(op: IamOp, form: &Form) -> Result<PolicyOwner<'_>, IamError> {
    Ok(if op.name().contains("Group") {
        PolicyOwner::Group(form.required("GroupName")?)
    } else if op.name().contains("Role") {
        PolicyOwner::Role(form.required("RoleName")?)
    } else {
        PolicyOwner::User(form.required("UserName")?)
    })
}

/// Returns `PolicyArn`, refusing AWS managed policies, which cannot change.
fn customer_policy_arn(form: &Form) -> Result<&str, IamError> {
    let arn = form.required("PolicyArn")?;
    if managed_policy(arn).is_some_and(|p| p.arn == arn) {
        return Err(IamError::invalid_input(
            "AWS managed policies cannot be changed.",
        ));
    }
    Ok(arn)
}

enum PolicyEntry {
    Aws(&'static ManagedPolicy),
    Customer(ManagedPolicyRecord),
}

pub(super) fn internal(e: impl std::error::Error + Send + Sync + 'static) -> IamError {
    IamError::internal(anyhow::Error::new(e))
}

/// Checks an entity name against IAM's `[\w+=,.@-]+` pattern and length.
pub(super) fn valid_name<'a>(member: &str, name: &'a str, max: usize) -> Result<&'a str, IamError> {
    let ok = !name.is_empty()
        && name.chars().count() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(name)
    } else {
        Err(IamError::validation(format!(
            "1 validation error detected: Value '{name}' at '{member}' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have \
             length at most {max}"
        )))
    }
}

/// Checks a path: `/` or `/segments/`, printable ASCII, at most 512 characters.
pub(super) fn valid_path(path: &str) -> Result<&str, IamError> {
    let ok = path.len() <= 512
        && path.starts_with('/')
        && path.ends_with('/')
        && path.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if ok {
        Ok(path)
    } else {
        Err(IamError::validation(format!(
            "1 validation error detected: Value '{path}' at 'path' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
        )))
    }
}

/// Parses an identity policy and checks its size without whitespace.
fn check_document(document: &str, max: usize) -> Result<(), IamError> {
    Policy::parse_identity(document).map_err(|e| {
        IamError::new(
            StatusCode::BAD_REQUEST,
            "MalformedPolicyDocument",
            e.to_string(),
        )
    })?;
    let size = document.chars().filter(|c| !c.is_whitespace()).count();
    if size > max {
        return Err(IamError::new(
            StatusCode::CONFLICT,
            "LimitExceeded",
            format!("Maximum policy size of {max} bytes exceeded."),
        ));
    }
    Ok(())
}

/// Percent-encodes a policy document the way IAM returns it.
pub(super) fn encode_document(document: &str) -> String {
    utf8_percent_encode(document, DOCUMENT_ENCODE).to_string()
}

/// Formats a store timestamp as ISO 8601 UTC (`2025-01-02T03:04:05Z`).
pub(super) fn iso8601(t: Timestamp) -> String {
    let secs = t.0.div_euclid(1000);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn group_xml(x: &mut Xml, group: &IamGroup) {
    x.leaf("Path", &group.path)
        .leaf("GroupName", &group.name)
        .leaf("GroupId", &group.group_id)
        .leaf("Arn", &group.arn)
        .leaf("CreateDate", &iso8601(group.created_at));
}

fn key_xml(x: &mut Xml, key: &AccessKeyRecord) {
    x.leaf("UserName", &key.user_name)
        .leaf("AccessKeyId", &key.access_key_id)
        .leaf("Status", key.status.as_str())
        .leaf("CreateDate", &iso8601(key.created_at));
}

/// Writes a policy version; `Document` only where IAM returns it (GetPolicyVersion).
fn version_xml(x: &mut Xml, v: &PolicyVersion, with_document: bool) {
    if with_document {
        x.leaf("Document", &encode_document(&v.document));
    }
    x.leaf("VersionId", &v.version_id).leaf(
        "IsDefaultVersion",
        if v.is_default { "true" } else { "false" },
    );
    // AWS managed policies come from the built-in catalogue, which has no creation time.
    if v.created_at.0 > 0 {
        x.leaf("CreateDate", &iso8601(v.created_at));
    }
}

/// Counts of where a managed policy is used: attachments and permissions boundaries.
#[derive(Debug, Clone, Copy)]
struct Usage {
    attachments: u64,
    boundaries: u64,
}

impl Usage {
    async fn of(store: &dyn ampd_backends::IamStore, arn: &str) -> Result<Self, IamError> {
        Ok(Self {
            attachments: store.attachment_count(arn).await?,
            boundaries: store.boundary_usage_count(arn).await?,
        })
    }
}

fn customer_policy_xml(x: &mut Xml, p: &ManagedPolicyRecord, usage: Usage) {
    x.leaf("PolicyName", &p.name)
        .leaf("PolicyId", &p.policy_id)
        .leaf("Arn", &p.arn)
        .leaf("Path", &p.path)
        .leaf("DefaultVersionId", &p.default_version_id)
        .leaf("AttachmentCount", &usage.attachments.to_string())
        .leaf(
            "PermissionsBoundaryUsageCount",
            &usage.boundaries.to_string(),
        )
        .leaf("IsAttachable", "true");
    if let Some(d) = &p.description {
        x.leaf("Description", d);
    }
    x.leaf("CreateDate", &iso8601(p.created_at))
        .leaf("UpdateDate", &iso8601(p.updated_at));
}

fn aws_policy_xml(x: &mut Xml, p: &ManagedPolicy, usage: Usage) {
    // AWS managed policies have fixed ids; derive a stable one from the ARN.
    let digest = hex::encode_upper(Sha256::digest(p.arn.as_bytes()));
    x.leaf("PolicyName", p.name)
        .leaf("PolicyId", &format!("ANPA{}", &digest[..17]))
        .leaf("Arn", p.arn)
        .leaf("Path", "/")
        .leaf("DefaultVersionId", p.default_version)
        .leaf("AttachmentCount", &usage.attachments.to_string())
        .leaf(
            "PermissionsBoundaryUsageCount",
            &usage.boundaries.to_string(),
        )
        .leaf("IsAttachable", "true")
        .leaf("Description", p.description);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_rfc3986_encoded() {
        assert_eq!(
            encode_document(r#"{"A": "b-c.d_e~f/g"}"#),
            "%7B%22A%22%3A%20%22b-c.d_e~f%2Fg%22%7D"
        );
    }

    #[test]
    fn names_and_paths_are_checked() {
        assert!(valid_name("userName", "alice+ops@x.y", 64).is_ok());
        assert!(valid_name("userName", "bad name", 64).is_err());
        assert!(valid_name("userName", &"a".repeat(65), 64).is_err());
        assert!(valid_path("/").is_ok());
        assert!(valid_path("/team/obs/").is_ok());
        assert!(valid_path("team/").is_err());
    }

    #[test]
    fn listings_page_with_markers() {
        let items: Vec<String> = (0..5).map(|i| format!("n{i}")).collect();
        let write = |query: &[u8]| {
            let mut x = Xml::new();
            page(&mut x, "L", &items, &Form::parse(query), |m, n| {
                m.text(n);
            })
            .map(|()| x)
        };
        let first = write(b"MaxItems=2").unwrap();
        assert_eq!(
            first.into_string(),
            "<L><member>n0</member><member>n1</member></L>\
             <IsTruncated>true</IsTruncated><Marker>2</Marker>"
        );
        let last = write(b"MaxItems=3&Marker=2").unwrap();
        assert_eq!(
            last.into_string(),
            "<L><member>n2</member><member>n3</member><member>n4</member></L>\
             <IsTruncated>false</IsTruncated>"
        );
        for bad in [
            &b"MaxItems=0"[..],
            b"MaxItems=1001",
            b"Marker=6",
            b"Marker=x",
        ] {
            assert_eq!(write(bad).unwrap_err().code, "ValidationError");
        }
    }

    #[test]
    fn operations_map_to_iam_actions() {
        let op = IamOp::parse("CreateAccessKey").unwrap();
        assert_eq!(op.iam_action(), "iam:CreateAccessKey");
        assert!(IamOp::parse("AssumeRole").is_none());
        assert_eq!(
            iso8601(Timestamp(1_735_787_045_000)),
            "2025-01-02T03:04:05Z"
        );
    }
}
