//! The policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy.
//!
//! Both run the same evaluator the auth layer uses ([`evaluate`]) over every pair of
//! `ActionNames` and `ResourceArns`, with the entity's stored policies (principal simulation)
//! and any policies given in the request, and answer `EvaluationResults` as IAM does.

use std::sync::Arc;
use std::time::SystemTime;

use ampd_backends::PolicyOwner;
use ampd_iam::policy::{
    AttachedPolicy, AuthzRequest, Decision, Policy, PolicyKind, PolicySet, RequestContext, evaluate,
};
use ampd_iam::{Principal, PrincipalKind};
use axum::http::StatusCode;

use super::Identities;
use super::handlers::{IamOp, page};
use super::query::{Form, IamError, Xml};
use super::roles::missing;

/// What IAM calls the kind of a policy in `MatchedStatements` (`SourcePolicyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceType {
    User,
    Group,
    Role,
    AwsManaged,
    UserManaged,
    Input,
    Resource,
}

impl SourceType {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Role => "role",
            Self::AwsManaged => "aws-managed",
            Self::UserManaged => "user-managed",
            Self::Input => "IAM Policy",
            Self::Resource => "resource",
        }
    }
}

/// The policies of one simulation, each with its `SourcePolicyType`.
struct Simulation {
    principal: Principal,
    identity: Vec<AttachedPolicy>,
    sources: Vec<SourceType>,
    boundary: Option<AttachedPolicy>,
    resource: Option<AttachedPolicy>,
}

impl Simulation {
    fn add(&mut self, policies: Vec<AttachedPolicy>, inline: SourceType) {
        for p in policies {
            let source = if p.name.starts_with("arn:aws:iam::aws:policy/") {
                SourceType::AwsManaged
            } else if p.name.starts_with("arn:") {
                SourceType::UserManaged
            } else {
                inline
            };
            self.identity.push(p);
            self.sources.push(source);
        }
    }

    fn source_of(&self, name: &str, kind: PolicyKind) -> SourceType {
        match kind {
            PolicyKind::Resource => SourceType::Resource,
            PolicyKind::PermissionsBoundary => {
                if name.starts_with("arn:aws:iam::aws:policy/") {
                    SourceType::AwsManaged
                } else if name.starts_with("arn:") {
                    SourceType::UserManaged
                } else {
                    SourceType::Input
                }
            }
            _ => self
                .identity
                .iter()
                .position(|p| p.name == name)
                .map_or(SourceType::Input, |i| self.sources[i]),
        }
    }
}

/// Serves SimulatePrincipalPolicy and SimulateCustomPolicy.
pub(super) async fn run(op: IamOp, form: &Form, ids: &Identities) -> Result<Option<Xml>, IamError> {
    let mut sim = match op {
        IamOp::SimulatePrincipalPolicy => {
            principal_simulation(form.required("PolicySourceArn")?, ids).await?
        }
        _ => {
            let caller = form.get("CallerArn").map_or_else(
                || format!("arn:aws:iam::{}:user/SimulatedUser", ids.account_id()),
                str::to_owned,
            );
            let inputs = form.list("PolicyInputList");
            if inputs.is_empty() {
                return Err(missing("PolicyInputList"));
            }
            Simulation {
                principal: user_principal(ids, &caller, None),
                identity: Vec::new(),
                sources: Vec::new(),
                boundary: None,
                resource: None,
            }
        }
    };
    let inputs = parsed(form, "PolicyInputList", PolicyKind::Identity)?;
    sim.add(inputs, SourceType::Input);
    let mut boundaries = parsed(
        form,
        "PermissionsBoundaryPolicyInputList",
        PolicyKind::PermissionsBoundary,
    )?;
    if boundaries.len() > 1 {
        return Err(IamError::invalid_input(
            "PermissionsBoundaryPolicyInputList takes at most one policy.",
        ));
    }
    if let Some(b) = boundaries.pop() {
        sim.boundary = Some(b);
    }
    if let Some(doc) = form.get("ResourcePolicy") {
        let policy = Policy::parse_resource(doc).map_err(malformed)?;
        sim.resource = Some(AttachedPolicy::new(
            "ResourcePolicy",
            PolicyKind::Resource,
            Arc::new(policy),
        ));
    }

    let actions = form.list("ActionNames");
    if actions.is_empty() {
        return Err(missing("ActionNames"));
    }
    let mut resources = form.list("ResourceArns");
    if resources.is_empty() {
        resources.push("*".to_owned());
    }
    let mut context = RequestContext::for_principal(&sim.principal, SystemTime::now());
    context_entries(form, &mut context)?;

    let mut results = Vec::with_capacity(actions.len() * resources.len());
    for action in &actions {
        for resource in &resources {
            results.push(simulate(&sim, action, resource, &context));
        }
    }
    let mut x = Xml::new();
    page(&mut x, "EvaluationResults", &results, form, |m, r| {
        result_xml(m, &sim, r);
    })?;
    Ok(Some(x))
}

/// One row of `EvaluationResults`.
struct Outcome {
    action: String,
    resource: String,
    decision: Decision,
    boundary_allows: Option<bool>,
    missing: Vec<String>,
}

fn simulate(sim: &Simulation, action: &str, resource: &str, ctx: &RequestContext) -> Outcome {
    let request = AuthzRequest {
        principal: &sim.principal,
        action,
        resource,
        context: ctx,
    };
    let set = PolicySet {
        identity: &sim.identity,
        permissions_boundary: sim.boundary.as_ref(),
        session: None,
        resource: sim.resource.as_ref(),
    };
    // What the boundary says on its own, evaluated as if it granted.
    let boundary_allows = sim.boundary.as_ref().map(|b| {
        let alone = [AttachedPolicy::new(
            b.name.clone(),
            PolicyKind::Identity,
            b.policy.clone(),
        )];
        let only = PolicySet {
            identity: &alone,
            ..Default::default()
        };
        evaluate(&request, &only).is_allowed()
    });
    let mut missing: Vec<String> = Vec::new();
    let every = sim
        .identity
        .iter()
        .chain(&sim.boundary)
        .chain(&sim.resource);
    for p in every {
        for key in p.policy.missing_context_keys(action, resource, ctx) {
            if !missing.iter().any(|k| k.eq_ignore_ascii_case(&key)) {
                missing.push(key);
            }
        }
    }
    Outcome {
        action: action.to_owned(),
        resource: resource.to_owned(),
        decision: evaluate(&request, &set),
        boundary_allows,
        missing,
    }
}

fn result_xml(x: &mut Xml, sim: &Simulation, r: &Outcome) {
    x.leaf("EvalActionName", &r.action)
        .leaf("EvalResourceName", &r.resource)
        .leaf("EvalDecision", r.decision.eval_decision());
    let matched = match &r.decision {
        Decision::Allowed(Some(m)) | Decision::ExplicitDeny(m) => vec![m.clone()],
        _ => Vec::new(),
    };
    x.list("MatchedStatements", &matched, |m, s| {
        m.leaf("SourcePolicyId", &s.policy).leaf(
            "SourcePolicyType",
            sim.source_of(&s.policy, s.kind).as_str(),
        );
    });
    x.list("MissingContextValues", &r.missing, |m, key| {
        m.text(key);
    });
    if let Some(allowed) = r.boundary_allows {
        x.node("PermissionsBoundaryDecisionDetail", |d| {
            d.leaf(
                "AllowedByPermissionsBoundary",
                if allowed { "true" } else { "false" },
            );
        });
    }
    if sim.resource.is_some() {
        let resource_decision = match &r.decision {
            Decision::ExplicitDeny(m) if m.kind == PolicyKind::Resource => "explicitDeny",
            Decision::Allowed(Some(m)) if m.kind == PolicyKind::Resource => "allowed",
            _ => "implicitDeny",
        };
        x.node("ResourceSpecificResults", |rs| {
            rs.node("member", |m| {
                m.leaf("EvalResourceName", &r.resource)
                    .leaf("EvalResourceDecision", r.decision.eval_decision());
                m.node("EvalDecisionDetails", |d| {
                    d.node("entry", |e| {
                        e.leaf("key", "Resource Policy")
                            .leaf("value", resource_decision);
                    });
                });
            });
        });
    }
}

/// Builds the simulation of a user, group or role from its stored policies and boundary.
async fn principal_simulation(arn: &str, ids: &Identities) -> Result<Simulation, IamError> {
    let store = ids.store();
    let invalid = || IamError::invalid_input(format!("Invalid ARN for PolicySourceArn: {arn}"));
    let (_, resource) = arn.rsplit_once(':').ok_or_else(invalid)?;
    let name = resource.rsplit('/').next().unwrap_or_default();
    let mut sim = Simulation {
        principal: user_principal(ids, arn, None),
        identity: Vec::new(),
        sources: Vec::new(),
        boundary: None,
        resource: None,
    };
    match resource.split('/').next() {
        Some("user") => {
            let user = store.user(name).await?;
            sim.principal = user_principal(ids, &user.arn, Some((&user.name, &user.user_id)));
            sim.principal.tags = user.tags;
            sim.add(
                ids.owner_policies(&[PolicyOwner::User(&user.name)]).await?,
                SourceType::User,
            );
            for group in store.groups_for_user(&user.name).await? {
                sim.add(
                    ids.owner_policies(&[PolicyOwner::Group(&group.name)])
                        .await?,
                    SourceType::Group,
                );
            }
            if let Some(b) = &user.permissions_boundary {
                sim.boundary = Some(ids.boundary_policy(b).await?);
            }
        }
        Some("group") => {
            let group = store.group(name).await?;
            sim.add(
                ids.owner_policies(&[PolicyOwner::Group(&group.name)])
                    .await?,
                SourceType::Group,
            );
        }
        Some("role") => {
            let role = store.role(name).await?;
            sim.principal = Principal {
                account_id: ids.account_id().to_owned(),
                arn: role.arn.clone(),
                user_id: role.role_id.clone(),
                user_name: None,
                kind: PrincipalKind::AssumedRole {
                    role_arn: role.arn.clone(),
                    session_name: String::new(),
                },
                tags: role.tags.clone(),
            };
            sim.add(ids.role_policies(&role.name).await?, SourceType::Role);
            if let Some(b) = &role.permissions_boundary {
                sim.boundary = Some(ids.boundary_policy(b).await?);
            }
        }
        _ => return Err(invalid()),
    }
    Ok(sim)
}

/// A user principal of this account with `arn` (and name and id when it is a stored user).
fn user_principal(ids: &Identities, arn: &str, user: Option<(&str, &str)>) -> Principal {
    Principal {
        account_id: ids.account_id().to_owned(),
        arn: arn.to_owned(),
        user_id: user.map(|(_, id)| id.to_owned()).unwrap_or_default(),
        user_name: user.map(|(name, _)| name.to_owned()),
        kind: PrincipalKind::User,
        tags: Default::default(),
    }
}

/// Parses the policies of a `{name}.member.N` list.
fn parsed(form: &Form, name: &str, kind: PolicyKind) -> Result<Vec<AttachedPolicy>, IamError> {
    form.list(name)
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let policy = Policy::parse_identity(doc).map_err(malformed)?;
            Ok(AttachedPolicy::new(
                format!("{name}.{}", i + 1),
                kind,
                Arc::new(policy),
            ))
        })
        .collect()
}

/// Adds the `ContextEntries.member.N` to the context: list types as multi-valued keys.
fn context_entries(form: &Form, ctx: &mut RequestContext) -> Result<(), IamError> {
    for n in 1.. {
        let prefix = format!("ContextEntries.member.{n}");
        let Some(key) = form.get(&format!("{prefix}.ContextKeyName")) else {
            break;
        };
        let values = form.list(&format!("{prefix}.ContextKeyValues"));
        let kind = form
            .get(&format!("{prefix}.ContextKeyType"))
            .unwrap_or("string");
        if kind.ends_with("List") {
            ctx.insert_multi(key, values);
        } else {
            let value = values.into_iter().next().ok_or_else(|| {
                IamError::invalid_input(format!("Context key {key} has no value."))
            })?;
            ctx.insert(key, value);
        }
    }
    Ok(())
}

fn malformed(e: ampd_iam::policy::PolicyError) -> IamError {
    IamError::new(
        StatusCode::BAD_REQUEST,
        "MalformedPolicyDocument",
        e.to_string(),
    )
}
