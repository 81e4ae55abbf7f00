//! Roles with trust policies, tags on users and roles, and permissions boundaries.
//!
//! A role is stored with its trust policy (validated as a resource policy whose principals may
//! assume it); STS issues sessions of it, whose permissions are the role's identity policies
//! ([`super::Identities::role_policies`]) within its boundary.

use ampd_backends::{Entity, IamRole, IamUser, PolicyEntity, RoleUpdate, Tags, Timestamp};
use ampd_iam::policy::{Policy, RequestContext};
use ampd_iam::{UniqueIdKind, generate_unique_id};
use axum::http::StatusCode;

use super::Identities;
use super::handlers::{IamOp, encode_document, internal, iso8601, page, valid_name, valid_path};
use super::query::{Form, IamError, Xml};

/// Largest trust policy, counted without whitespace (IAM's default quota).
const MAX_TRUST_POLICY: usize = 2048;
/// Bounds of a role's `MaxSessionDuration`, seconds.
const SESSION_DURATION: (u32, u32) = (3600, 43_200);
/// Longest role description.
const MAX_DESCRIPTION: usize = 1000;

/// Serves the role, tag and permissions-boundary operations.
pub(super) async fn run(op: IamOp, form: &Form, ids: &Identities) -> Result<Option<Xml>, IamError> {
    use IamOp as O;
    let store = ids.store();
    let mut x = Xml::new();
    match op {
        O::CreateRole => {
            let name = valid_name("roleName", form.required("RoleName")?, 64)?;
            let path = valid_path(form.get("Path").unwrap_or("/"))?;
            let trust = form.required("AssumeRolePolicyDocument")?;
            check_trust_policy(trust)?;
            let boundary = match form.get("PermissionsBoundary") {
                Some(arn) => Some(boundary_arn(ids, arn).await?),
                None => None,
            };
            let role = store
                .create_role(IamRole {
                    arn: format!("arn:aws:iam::{}:role{path}{name}", ids.account_id()),
                    name: name.to_owned(),
                    role_id: generate_unique_id(UniqueIdKind::Role).map_err(internal)?,
                    path: path.to_owned(),
                    assume_role_policy: trust.to_owned(),
                    description: description(form)?,
                    max_session_duration: max_session_duration(form)?.unwrap_or(SESSION_DURATION.0),
                    tags: request_tags(form)?,
                    permissions_boundary: boundary,
                    created_at: Timestamp::now(),
                })
                .await?;
            x.node("Role", |r| role_xml(r, &role, true));
        }
        O::GetRole => {
            let role = store.role(form.required("RoleName")?).await?;
            x.node("Role", |r| role_xml(r, &role, true));
        }
        O::ListRoles => {
            let roles = store
                .list_roles(form.get("PathPrefix").unwrap_or("/"))
                .await?;
            page(&mut x, "Roles", &roles, form, |m, r| role_xml(m, r, false))?;
        }
        O::DeleteRole => {
            store.delete_role(form.required("RoleName")?).await?;
            return Ok(None);
        }
        O::UpdateRole | O::UpdateRoleDescription => {
            let name = form.required("RoleName")?;
            let update = RoleUpdate {
                description: description(form)?,
                max_session_duration: max_session_duration(form)?,
            };
            store.update_role(name, update).await?;
            if op == O::UpdateRoleDescription {
                let role = store.role(name).await?;
                x.node("Role", |r| role_xml(r, &role, true));
            }
        }
        O::UpdateAssumeRolePolicy => {
            let document = form.required("PolicyDocument")?;
            check_trust_policy(document)?;
            store
                .update_assume_role_policy(form.required("RoleName")?, document)
                .await?;
            return Ok(None);
        }
        O::TagUser | O::TagRole => {
            let tags = request_tags(form)?;
            if tags.is_empty() {
                return Err(missing("Tags"));
            }
            store.tag_entity(entity(op, form)?, &tags).await?;
            return Ok(None);
        }
        O::UntagUser | O::UntagRole => {
            let keys = form.list("TagKeys");
            if keys.is_empty() {
                return Err(missing("TagKeys"));
            }
            store.untag_entity(entity(op, form)?, &keys).await?;
            return Ok(None);
        }
        O::ListUserTags | O::ListRoleTags => {
            let tags = match entity(op, form)? {
                Entity::User(n) => store.user(n).await?.tags,
                Entity::Role(n) => store.role(n).await?.tags,
            };
            let tags: Vec<(String, String)> = tags.into_iter().collect();
            page(&mut x, "Tags", &tags, form, |m, (k, v)| {
                m.leaf("Key", k).leaf("Value", v);
            })?;
        }
        O::PutUserPermissionsBoundary | O::PutRolePermissionsBoundary => {
            let arn = boundary_arn(ids, form.required("PermissionsBoundary")?).await?;
            store
                .set_permissions_boundary(entity(op, form)?, Some(&arn))
                .await?;
            return Ok(None);
        }
        O::DeleteUserPermissionsBoundary | O::DeleteRolePermissionsBoundary => {
            store
                .set_permissions_boundary(entity(op, form)?, None)
                .await?;
            return Ok(None);
        }
        O::ListEntitiesForPolicy => {
            let arn = form.required("PolicyArn")?;
            if ids.managed_document(arn).await?.is_none() {
                return Err(IamError::no_such_entity(format!(
                    "Policy {arn} was not found."
                )));
            }
            let entities = store.policy_entities(arn).await?;
            let filter = form.get("EntityFilter").unwrap_or("All");
            let of = |kind: ampd_backends::EntityKind, name: &str| -> Vec<PolicyEntity> {
                if filter == "All" || filter == name {
                    entities
                        .iter()
                        .filter(|e| e.kind == kind)
                        .cloned()
                        .collect()
                } else {
                    Vec::new()
                }
            };
            use ampd_backends::EntityKind as K;
            x.list("PolicyGroups", &of(K::Group, "Group"), |m, e| {
                m.leaf("GroupName", &e.name).leaf("GroupId", &e.id);
            });
            x.list("PolicyUsers", &of(K::User, "User"), |m, e| {
                m.leaf("UserName", &e.name).leaf("UserId", &e.id);
            });
            x.list("PolicyRoles", &of(K::Role, "Role"), |m, e| {
                m.leaf("RoleName", &e.name).leaf("RoleId", &e.id);
            });
            x.leaf("IsTruncated", "false");
        }
        other => {
            return Err(IamError::internal(anyhow::anyhow!(
                "{} is not a role, tag or boundary operation",
                other.name()
            )));
        }
    }
    Ok(Some(x))
}

/// Adds the IAM condition keys of a request on a user or role: `aws:RequestTag/*` and
/// `aws:TagKeys` for tags it sets or removes, `aws:ResourceTag/*` and `iam:ResourceTag/*` from
/// the addressed user's or role's tags, `iam:PermissionsBoundary` and `iam:PolicyARN`.
pub(super) async fn add_context(
    op: IamOp,
    form: &Form,
    ids: &Identities,
    ctx: &mut RequestContext,
) -> Result<(), IamError> {
    use IamOp as O;
    match op {
        O::CreateUser | O::CreateRole | O::TagUser | O::TagRole => {
            let tags = request_tags(form)?;
            if !tags.is_empty() {
                ctx.set_request_tags(&tags);
            }
        }
        O::UntagUser | O::UntagRole => ctx.set_tag_keys(form.list("TagKeys")),
        _ => {}
    }
    if let Some(arn) = form.get("PermissionsBoundary") {
        ctx.insert("iam:PermissionsBoundary", arn);
    }
    if let Some(arn) = form.get("PolicyArn") {
        ctx.insert("iam:PolicyARN", arn);
    }
    if matches!(op, O::CreateUser | O::CreateRole) {
        return Ok(());
    }
    let tags = if let Some(name) = form.get("RoleName") {
        ids.store().role(name).await.map(|r| r.tags).ok()
    } else if let Some(name) = form.get("UserName") {
        ids.store().user(name).await.map(|u| u.tags).ok()
    } else {
        None
    };
    for (k, v) in tags.unwrap_or_default() {
        ctx.insert(&format!("aws:ResourceTag/{k}"), v.clone());
        ctx.insert(&format!("iam:ResourceTag/{k}"), v);
    }
    Ok(())
}

/// Returns the user or role a tag or boundary operation addresses.
fn entity(op: IamOp, form: &Form) -> Result<Entity<'_>, IamError> {
    Ok(if op.name().contains("Role") {
        Entity::Role(form.required("RoleName")?)
    } else {
        Entity::User(form.required("UserName")?)
    })
}

/// The error for a required list parameter that is absent or empty.
pub(super) fn missing(member: &str) -> IamError {
    let mut chars = member.chars();
    let lower: String = chars
        .next()
        .map(|c| c.to_ascii_lowercase())
        .into_iter()
        .chain(chars)
        .collect();
    IamError::validation(format!(
        "1 validation error detected: Value null at '{lower}' failed to satisfy constraint: \
         Member must not be null"
    ))
}

/// Parses a trust policy and checks its size without whitespace.
fn check_trust_policy(document: &str) -> Result<(), IamError> {
    Policy::parse_trust(document).map_err(|e| {
        IamError::new(
            StatusCode::BAD_REQUEST,
            "MalformedPolicyDocument",
            e.to_string(),
        )
    })?;
    let size = document.chars().filter(|c| !c.is_whitespace()).count();
    if size > MAX_TRUST_POLICY {
        return Err(IamError::new(
            StatusCode::CONFLICT,
            "LimitExceeded",
            format!("Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_POLICY}"),
        ));
    }
    Ok(())
}

/// Checks that a permissions boundary names an existing managed policy.
pub(super) async fn boundary_arn(ids: &Identities, arn: &str) -> Result<String, IamError> {
    match ids.managed_document(arn).await? {
        Some(_) => Ok(arn.to_owned()),
        None => Err(IamError::no_such_entity(format!(
            "Scope ARN: {arn} does not exist or is not attachable."
        ))),
    }
}

/// Returns `Description`, at most [`MAX_DESCRIPTION`] characters.
fn description(form: &Form) -> Result<Option<String>, IamError> {
    match form.get("Description") {
        Some(d) if d.chars().count() > MAX_DESCRIPTION => Err(IamError::validation(format!(
            "1 validation error detected: Value at 'description' failed to satisfy constraint: \
             Member must have length less than or equal to {MAX_DESCRIPTION}"
        ))),
        d => Ok(d.map(str::to_owned)),
    }
}

/// Returns `MaxSessionDuration` in seconds, within IAM's bounds.
fn max_session_duration(form: &Form) -> Result<Option<u32>, IamError> {
    let Some(raw) = form.get("MaxSessionDuration") else {
        return Ok(None);
    };
    raw.parse::<u32>()
        .ok()
        .filter(|s| (SESSION_DURATION.0..=SESSION_DURATION.1).contains(s))
        .map(Some)
        .ok_or_else(|| {
            IamError::validation(format!(
                "1 validation error detected: Value '{raw}' at 'maxSessionDuration' failed to \
                 satisfy constraint: Member must have value between {} and {}",
                SESSION_DURATION.0, SESSION_DURATION.1
            ))
        })
}

/// Returns the `Tags.member.N` of a request, checked against IAM's rules: keys of 1 to 128
/// characters not starting with `aws:`, values of at most 256, no key twice.
pub(super) fn request_tags(form: &Form) -> Result<Tags, IamError> {
    let mut tags = Tags::new();
    for (key, value) in form.tags() {
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            return Err(IamError::validation(format!(
                "1 validation error detected: Value '{key}' at 'tags' failed to satisfy \
                 constraint: Tag keys must have 1 to 128 characters and values at most 256"
            )));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(IamError::invalid_input(
                "User-defined tag keys can't start with 'aws:'",
            ));
        }
        if tags.insert(key.clone(), value).is_some() {
            return Err(IamError::invalid_input(format!("Duplicate tag key: {key}")));
        }
    }
    Ok(tags)
}

/// Writes a role; `full` adds what only GetRole returns (boundary, tags, last use).
pub(super) fn role_xml(x: &mut Xml, role: &IamRole, full: bool) {
    x.leaf("Path", &role.path)
        .leaf("RoleName", &role.name)
        .leaf("RoleId", &role.role_id)
        .leaf("Arn", &role.arn)
        .leaf("CreateDate", &iso8601(role.created_at))
        .leaf(
            "AssumeRolePolicyDocument",
            &encode_document(&role.assume_role_policy),
        );
    if let Some(d) = &role.description {
        x.leaf("Description", d);
    }
    x.leaf("MaxSessionDuration", &role.max_session_duration.to_string());
    if full {
        boundary_xml(x, role.permissions_boundary.as_deref());
        tags_xml(x, &role.tags);
    }
}

/// Writes the `PermissionsBoundary` element of a user or role, if it has one.
pub(super) fn boundary_xml(x: &mut Xml, arn: Option<&str>) {
    if let Some(arn) = arn {
        x.node("PermissionsBoundary", |b| {
            b.leaf("PermissionsBoundaryType", "PermissionsBoundaryPolicy")
                .leaf("PermissionsBoundaryArn", arn);
        });
    }
}

/// Writes the `Tags` element, if there are any.
pub(super) fn tags_xml(x: &mut Xml, tags: &Tags) {
    if !tags.is_empty() {
        let tags: Vec<(&String, &String)> = tags.iter().collect();
        x.list("Tags", &tags, |m, (k, v)| {
            m.leaf("Key", k).leaf("Value", v);
        });
    }
}

/// Writes a user as GetUser and CreateUser return it.
pub(super) fn user_xml(x: &mut Xml, user: &IamUser) {
    user_summary_xml(x, user);
    boundary_xml(x, user.permissions_boundary.as_deref());
    tags_xml(x, &user.tags);
}

/// Writes a user as listings return it: without boundary and tags, as IAM does.
pub(super) fn user_summary_xml(x: &mut Xml, user: &IamUser) {
    x.leaf("Path", &user.path)
        .leaf("UserName", &user.name)
        .leaf("UserId", &user.user_id)
        .leaf("Arn", &user.arn)
        .leaf("CreateDate", &iso8601(user.created_at));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_durations_are_checked() {
        let ok = Form::parse(b"Tags.member.1.Key=team&Tags.member.1.Value=obs");
        assert_eq!(request_tags(&ok).unwrap()["team"], "obs");
        for bad in [
            &b"Tags.member.1.Key=aws:x&Tags.member.1.Value=v"[..],
            b"Tags.member.1.Key=&Tags.member.1.Value=v",
            b"Tags.member.1.Key=a&Tags.member.2.Key=a",
        ] {
            assert!(request_tags(&Form::parse(bad)).is_err());
        }
        assert_eq!(
            max_session_duration(&Form::parse(b"MaxSessionDuration=7200")).unwrap(),
            Some(7200)
        );
        for bad in [&b"MaxSessionDuration=3599"[..], b"MaxSessionDuration=43201"] {
            assert!(max_session_duration(&Form::parse(bad)).is_err());
        }
        assert!(
            description(&Form::parse(
                format!("Description={}", "d".repeat(1001)).as_bytes()
            ))
            .is_err()
        );
    }

    #[test]
    fn trust_policies_are_resource_policies() {
        assert!(
            check_trust_policy(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#
            )
            .is_ok()
        );
        let e = check_trust_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, "MalformedPolicyDocument");
    }
}
