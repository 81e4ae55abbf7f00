//! Evaluation of a role's trust policy for `sts:AssumeRoleWithWebIdentity`.
//!
//! A web identity caller is no IAM principal: it is named in trust policies by the OIDC provider
//! that vouched for it (`"Federated": "arn:aws:iam::<acct>:oidc-provider/<host/path>"`) and has
//! no policies of its own, so the trust policy alone decides. IAM callers go through
//! [`super::evaluate_trust`].

use super::context::RequestContext;
use super::document::{Effect, Statement};
use super::evaluate::{AttachedPolicy, Decision, ImplicitDenyReason, MatchedStatement};

fn matched(trust: &AttachedPolicy, index: usize, st: &Statement) -> MatchedStatement {
    MatchedStatement {
        policy: trust.name.clone(),
        kind: trust.kind,
        index,
        sid: st.sid().map(str::to_owned),
    }
}

/// Evaluates `action` by the web identity of `provider_arn` on the role `role_arn` whose trust
/// policy is `trust`, with the token's claims among the condition keys `ctx`: an applicable
/// `Deny` naming the provider wins, else an applicable `Allow` naming it is needed.
pub fn evaluate_web_identity_trust(
    trust: &AttachedPolicy,
    provider_arn: &str,
    action: &str,
    role_arn: &str,
    ctx: &RequestContext,
) -> Decision {
    let lower = action.to_ascii_lowercase();
    let applicable = |effect: Effect| {
        trust
            .policy
            .statements()
            .iter()
            .enumerate()
            .find(|(_, st)| {
                st.effect() == effect
                    && st.names_federated(provider_arn)
                    && st.applies(&lower, role_arn, ctx)
            })
            .map(|(i, st)| matched(trust, i, st))
    };
    if let Some(deny) = applicable(Effect::Deny) {
        return Decision::ExplicitDeny(deny);
    }
    match applicable(Effect::Allow) {
        Some(allow) => Decision::Allowed(Some(allow)),
        None => Decision::ImplicitDeny(ImplicitDenyReason::NoResourcePolicy),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::policy::{Policy, PolicyKind};

    const ROLE: &str = "arn:aws:iam::123456789012:role/writer";
    const PROVIDER: &str = "arn:aws:iam::123456789012:oidc-provider/oidc.example.test/id/C1";
    const ACTION: &str = "sts:AssumeRoleWithWebIdentity";

    fn trust(json: &str) -> AttachedPolicy {
        AttachedPolicy::new(
            "trust",
            PolicyKind::Resource,
            Arc::new(Policy::parse_trust(json).unwrap()),
        )
    }

    fn claims(sub: &str) -> RequestContext {
        RequestContext::new()
            .with("oidc.example.test/id/C1:aud", "sts.amazonaws.com")
            .with("oidc.example.test/id/C1:sub", sub)
    }

    fn eks_trust() -> AttachedPolicy {
        trust(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},
              "Action":"sts:AssumeRoleWithWebIdentity",
              "Condition":{{"StringEquals":{{"oidc.example.test/id/C1:aud":"sts.amazonaws.com"}},
                            "StringLike":{{"oidc.example.test/id/C1:sub":"system:serviceaccount:monitoring:*"}}}}}}]}}"#
        ))
    }

    #[test]
    fn the_provider_and_the_claims_must_match() {
        let t = eks_trust();
        let prom = claims("system:serviceaccount:monitoring:prom");
        assert!(evaluate_web_identity_trust(&t, PROVIDER, ACTION, ROLE, &prom).is_allowed());
        let other_sub = claims("system:serviceaccount:default:x");
        assert_eq!(
            evaluate_web_identity_trust(&t, PROVIDER, ACTION, ROLE, &other_sub),
            Decision::ImplicitDeny(ImplicitDenyReason::NoResourcePolicy)
        );
        let other = "arn:aws:iam::123456789012:oidc-provider/other.test";
        assert!(!evaluate_web_identity_trust(&t, other, ACTION, ROLE, &prom).is_allowed());
        // The web identity action is not AssumeRole.
        assert!(
            !evaluate_web_identity_trust(&t, PROVIDER, "sts:AssumeRole", ROLE, &prom).is_allowed()
        );
        // Missing claims fail the conditions.
        assert!(
            !evaluate_web_identity_trust(&t, PROVIDER, ACTION, ROLE, &RequestContext::new())
                .is_allowed()
        );
    }

    #[test]
    fn denies_win_and_aws_principals_do_not_name_providers() {
        let t = trust(&format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},"Action":"sts:AssumeRoleWithWebIdentity"}},
                {{"Effect":"Deny","Principal":{{"Federated":"{PROVIDER}"}},"Action":"sts:*",
                  "Condition":{{"StringEquals":{{"oidc.example.test/id/C1:sub":"system:serviceaccount:kube-system:admin"}}}}}}]}}"#
        ));
        assert!(
            evaluate_web_identity_trust(&t, PROVIDER, ACTION, ROLE, &claims("a:b")).is_allowed()
        );
        assert!(matches!(
            evaluate_web_identity_trust(
                &t,
                PROVIDER,
                ACTION,
                ROLE,
                &claims("system:serviceaccount:kube-system:admin")
            ),
            Decision::ExplicitDeny(_)
        ));
        let aws_only = trust(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#,
        );
        assert!(
            !evaluate_web_identity_trust(&aws_only, PROVIDER, ACTION, ROLE, &claims("a:b"))
                .is_allowed()
        );
    }
}
