//! Evaluation of a role's trust policy for `sts:AssumeRole*` (and `sts:TagSession`,
//! `sts:SetSourceIdentity`).
//!
//! Unlike other resource policies, a trust policy is always required: without a statement that
//! allows the caller, nothing else can. When it names the caller itself (user or session ARN,
//! or `*`) that is enough within the account; when it names the caller's role, the caller's
//! boundary and session policies still apply; when it names the account, the caller's own
//! policies must allow the action too. Web identity callers are named by their provider
//! (`"Federated": "arn:aws:iam::<acct>:oidc-provider/<host/path>"`) and have no policies of
//! their own. An applicable `Deny` anywhere wins.

use super::context::RequestContext;
use super::document::{Effect, PrincipalMatch, Statement};
use super::evaluate::{
    AttachedPolicy, AuthzRequest, Decision, ImplicitDenyReason, MatchedStatement, PolicySet,
    evaluate,
};
use crate::principal::Principal;

/// Who asks to assume a role.
#[derive(Debug, Clone, Copy)]
pub enum TrustCaller<'a> {
    /// An IAM user or role session, with the policies that apply to it.
    Principal {
        /// The caller.
        principal: &'a Principal,
        /// Its identity policies, boundary and session policies (no resource policy).
        policies: PolicySet<'a>,
    },
    /// A web identity, named by the ARN of the OIDC provider that vouched for it.
    Federated(&'a str),
}

fn matched(trust: &AttachedPolicy, index: usize, st: &Statement) -> MatchedStatement {
    MatchedStatement {
        policy: trust.name.clone(),
        kind: trust.kind,
        index,
        sid: st.sid().map(str::to_owned),
    }
}

/// Evaluates `action` (`sts:AssumeRole`, …) by `caller` on the role `role_arn` whose trust
/// policy is `trust`, with condition keys `ctx`.
pub fn evaluate_trust(
    caller: &TrustCaller<'_>,
    trust: &AttachedPolicy,
    action: &str,
    role_arn: &str,
    ctx: &RequestContext,
) -> Decision {
    let lower = action.to_ascii_lowercase();
    let names = |st: &Statement| -> Option<PrincipalMatch> {
        match caller {
            TrustCaller::Principal { principal, .. } => st.principal_match(principal),
            TrustCaller::Federated(provider) => st
                .names_federated(provider)
                .then_some(PrincipalMatch::Direct),
        }
    };
    let statements = trust.policy.statements();
    for (i, st) in statements.iter().enumerate() {
        if st.effect() == Effect::Deny && names(st).is_some() && st.applies(&lower, role_arn, ctx) {
            return Decision::ExplicitDeny(matched(trust, i, st));
        }
    }
    let best = statements
        .iter()
        .enumerate()
        .filter(|(_, st)| st.effect() == Effect::Allow)
        .filter_map(|(i, st)| Some((names(st)?, i, st)))
        .filter(|(_, _, st)| st.applies(&lower, role_arn, ctx))
        .max_by_key(|(m, _, _)| *m);
    let Some((how, index, st)) = best else {
        return Decision::ImplicitDeny(ImplicitDenyReason::NoResourcePolicy);
    };
    let TrustCaller::Principal {
        principal,
        policies,
    } = caller
    else {
        return Decision::Allowed(Some(matched(trust, index, st)));
    };
    let request = AuthzRequest {
        principal,
        action,
        resource: role_arn,
        context: ctx,
    };
    let resource = match how {
        // The account delegates to its identities: their own policies decide.
        PrincipalMatch::Account => None,
        PrincipalMatch::Role | PrincipalMatch::Direct => Some(trust),
    };
    evaluate(
        &request,
        &PolicySet {
            resource,
            ..*policies
        },
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::policy::{Policy, PolicyKind};
    use crate::principal::PrincipalKind;

    const ROLE: &str = "arn:aws:iam::123456789012:role/writer";
    const PROVIDER: &str = "arn:aws:iam::123456789012:oidc-provider/oidc.example.test/id/C1";

    fn user(name: &str) -> Principal {
        Principal {
            account_id: "123456789012".into(),
            arn: format!("arn:aws:iam::123456789012:user/{name}"),
            user_id: format!("AIDA{name}"),
            user_name: Some(name.into()),
            kind: PrincipalKind::User,
            tags: BTreeMap::new(),
        }
    }

    fn session(role: &str) -> Principal {
        Principal {
            account_id: "123456789012".into(),
            arn: format!("arn:aws:sts::123456789012:assumed-role/{role}/s1"),
            user_id: "AROAX:s1".into(),
            user_name: None,
            kind: PrincipalKind::AssumedRole {
                role_arn: format!("arn:aws:iam::123456789012:role/{role}"),
                session_name: "s1".into(),
            },
            tags: BTreeMap::new(),
        }
    }

    fn trust(json: &str) -> AttachedPolicy {
        AttachedPolicy::new(
            "trust",
            PolicyKind::Resource,
            Arc::new(Policy::parse_resource(json).unwrap()),
        )
    }

    fn identity(json: &str) -> AttachedPolicy {
        AttachedPolicy::new(
            "id",
            PolicyKind::Identity,
            Arc::new(Policy::parse_identity(json).unwrap()),
        )
    }

    fn allow_principal(principal: &str, extra: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"{extra}}}]}}"#
        )
    }

    fn ctx() -> RequestContext {
        RequestContext::for_principal(&user("alice"), UNIX_EPOCH + Duration::from_secs(1))
    }

    fn decide(
        p: &Principal,
        ids: &[AttachedPolicy],
        t: &AttachedPolicy,
        c: &RequestContext,
    ) -> Decision {
        let caller = TrustCaller::Principal {
            principal: p,
            policies: PolicySet {
                identity: ids,
                ..Default::default()
            },
        };
        evaluate_trust(&caller, t, "sts:AssumeRole", ROLE, c)
    }

    const ALLOW_ASSUME: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    const DENY_ASSUME: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"*"}]}"#;

    #[test]
    fn naming_the_caller_is_enough_naming_the_account_needs_its_policies() {
        let alice = user("alice");
        let direct = trust(&allow_principal("arn:aws:iam::123456789012:user/alice", ""));
        assert!(decide(&alice, &[], &direct, &ctx()).is_allowed());
        let account = trust(&allow_principal("arn:aws:iam::123456789012:root", ""));
        assert_eq!(
            decide(&alice, &[], &account, &ctx()),
            Decision::ImplicitDeny(ImplicitDenyReason::NoIdentityPolicy)
        );
        assert!(decide(&alice, &[identity(ALLOW_ASSUME)], &account, &ctx()).is_allowed());
        // An explicit deny in the caller's policies wins over a direct trust.
        assert!(matches!(
            decide(&alice, &[identity(DENY_ASSUME)], &direct, &ctx()),
            Decision::ExplicitDeny(_)
        ));
    }

    #[test]
    fn the_trust_policy_is_always_required() {
        let bob = user("bob");
        let only_alice = trust(&allow_principal("arn:aws:iam::123456789012:user/alice", ""));
        let d = decide(&bob, &[identity(ALLOW_ASSUME)], &only_alice, &ctx());
        assert_eq!(
            d,
            Decision::ImplicitDeny(ImplicitDenyReason::NoResourcePolicy)
        );
        let msg = d
            .access_denied_message(&bob.arn, "sts:AssumeRole", ROLE)
            .unwrap();
        assert_eq!(
            msg,
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: \
             sts:AssumeRole on resource: arn:aws:iam::123456789012:role/writer because no \
             resource-based policy allows the sts:AssumeRole action"
        );
    }

    #[test]
    fn external_id_and_deny_statements_are_conditions_like_any_other() {
        let alice = user("alice");
        let t = trust(&allow_principal(
            "arn:aws:iam::123456789012:user/alice",
            r#","Condition":{"StringEquals":{"sts:ExternalId":"ext-42"}}"#,
        ));
        assert!(!decide(&alice, &[], &t, &ctx()).is_allowed());
        let with_id = ctx().with("sts:ExternalId", "ext-42");
        assert!(decide(&alice, &[], &t, &with_id).is_allowed());
        let wrong = ctx().with("sts:ExternalId", "ext-43");
        assert!(!decide(&alice, &[], &t, &wrong).is_allowed());
        let denying = trust(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"},
                {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:*"}]}"#,
        );
        assert!(matches!(
            decide(&alice, &[], &denying, &ctx()),
            Decision::ExplicitDeny(_)
        ));
        assert!(decide(&user("carol"), &[], &denying, &ctx()).is_allowed());
    }

    #[test]
    fn role_sessions_are_named_by_role_and_still_need_their_session_policy() {
        let s = session("reader");
        let t = trust(&allow_principal(
            "arn:aws:iam::123456789012:role/reader",
            "",
        ));
        assert!(decide(&s, &[], &t, &ctx()).is_allowed());
        let narrow = [identity(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"*"}]}"#,
        )];
        let caller = TrustCaller::Principal {
            principal: &s,
            policies: PolicySet {
                session: Some(&narrow),
                ..Default::default()
            },
        };
        assert_eq!(
            evaluate_trust(&caller, &t, "sts:AssumeRole", ROLE, &ctx()),
            Decision::ImplicitDeny(ImplicitDenyReason::NoSessionPolicy)
        );
    }

    #[test]
    fn web_identities_are_named_by_provider_with_claim_conditions() {
        let t = trust(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},
              "Action":"sts:AssumeRoleWithWebIdentity",
              "Condition":{{"StringEquals":{{"oidc.example.test/id/C1:aud":"sts.amazonaws.com"}},
                            "StringLike":{{"oidc.example.test/id/C1:sub":"system:serviceaccount:monitoring:*"}}}}}}]}}"#
        ));
        let claims = |sub: &str| {
            RequestContext::new()
                .with("oidc.example.test/id/C1:aud", "sts.amazonaws.com")
                .with("oidc.example.test/id/C1:sub", sub)
        };
        let web = TrustCaller::Federated(PROVIDER);
        let action = "sts:AssumeRoleWithWebIdentity";
        assert!(
            evaluate_trust(
                &web,
                &t,
                action,
                ROLE,
                &claims("system:serviceaccount:monitoring:prom")
            )
            .is_allowed()
        );
        assert!(
            !evaluate_trust(
                &web,
                &t,
                action,
                ROLE,
                &claims("system:serviceaccount:default:x")
            )
            .is_allowed()
        );
        let other = TrustCaller::Federated("arn:aws:iam::123456789012:oidc-provider/other.test");
        assert!(
            !evaluate_trust(
                &other,
                &t,
                action,
                ROLE,
                &claims("system:serviceaccount:monitoring:prom")
            )
            .is_allowed()
        );
        // The web identity action is not AssumeRole.
        assert!(
            !evaluate_trust(
                &web,
                &t,
                "sts:AssumeRole",
                ROLE,
                &claims("system:serviceaccount:monitoring:prom")
            )
            .is_allowed()
        );
        // A user is not a federated provider.
        assert!(!decide(&user("alice"), &[identity(ALLOW_ASSUME)], &t, &ctx()).is_allowed());
    }
}
