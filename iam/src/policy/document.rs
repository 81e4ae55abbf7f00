//! The policy grammar: JSON parsed with serde, validated, and compiled for evaluation.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use super::arn::ArnPattern;
use super::condition::Condition;
use super::context::RequestContext;
use super::error::PolicyError;
use super::variables::Template;
use crate::principal::Principal;

/// The current policy language version; only it substitutes policy variables.
pub const VERSION_2012: &str = "2012-10-17";
/// The legacy version (and the meaning of a missing `Version`).
pub const VERSION_2008: &str = "2008-10-17";

/// Which grammar a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// Identity-based, permissions boundary or session policy: no `Principal`, `Resource`
    /// required, `Sid` alphanumeric.
    Identity,
    /// Resource-based policy (workspace resource policy, key policy): `Principal` required.
    Resource,
    /// A role's trust policy: a resource policy on the role itself, so `Principal` is required,
    /// `Resource` is prohibited and only `sts:` actions may appear.
    Trust,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Denies, overriding every allow.
    Deny,
}

/// A JSON element that is one value or an array of them (`Many` first: `serde_json::Value`
/// would also accept an array as `One`).
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            Self::One(t) => vec![t],
            Self::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(rename = "Version")]
    version: Option<String>,
    #[serde(rename = "Id")]
    id: Option<String>,
    #[serde(rename = "Statement")]
    statement: OneOrMany<RawStatement>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawPrincipal {
    Star(String),
    Map(BTreeMap<String, OneOrMany<String>>),
}

type RawConditions = BTreeMap<String, BTreeMap<String, OneOrMany<serde_json::Value>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    #[serde(rename = "Sid")]
    sid: Option<String>,
    #[serde(rename = "Effect")]
    effect: String,
    #[serde(rename = "Action")]
    action: Option<OneOrMany<String>>,
    #[serde(rename = "NotAction")]
    not_action: Option<OneOrMany<String>>,
    #[serde(rename = "Resource")]
    resource: Option<OneOrMany<String>>,
    #[serde(rename = "NotResource")]
    not_resource: Option<OneOrMany<String>>,
    #[serde(rename = "Principal")]
    principal: Option<RawPrincipal>,
    #[serde(rename = "NotPrincipal")]
    not_principal: Option<RawPrincipal>,
    #[serde(rename = "Condition")]
    condition: Option<RawConditions>,
}

/// How a resource-policy principal entry matched the caller; the evaluator treats these
/// differently (see [`super::evaluate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PrincipalMatch {
    /// The whole account is named: a delegation to the account's identity policies.
    Account,
    /// The role behind a session is named: the allow is still filtered by boundary/session.
    Role,
    /// The caller itself (user ARN, session ARN) or `*`.
    Direct,
}

/// One entry of a `Principal` element.
#[derive(Debug, Clone, PartialEq)]
enum PrincipalEntry {
    Everyone,
    Account(String),
    Arn(String),
    Service(String),
    Federated(String),
    CanonicalUser(String),
}

impl PrincipalEntry {
    fn parse(kind: &str, value: &str) -> Result<Self, PolicyError> {
        let invalid = || {
            PolicyError::new(format!(
                "Invalid principal in policy: \"{kind}\":\"{value}\""
            ))
        };
        match kind {
            "AWS" if value == "*" => Ok(Self::Everyone),
            "AWS" if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Self::Account(value.to_owned()))
            }
            // Wildcards are not allowed in principal ARNs (only `*` alone).
            "AWS" if value.contains('*') || value.contains('?') => Err(invalid()),
            "AWS" => {
                let parts: Vec<&str> = value.splitn(6, ':').collect();
                match parts.as_slice() {
                    ["arn", _, "iam", "", account, "root"] => {
                        Ok(Self::Account((*account).to_owned()))
                    }
                    ["arn", _, "iam" | "sts", "", _, resource] if !resource.is_empty() => {
                        Ok(Self::Arn(value.to_owned()))
                    }
                    _ => Err(invalid()),
                }
            }
            "Service" if !value.is_empty() => Ok(Self::Service(value.to_owned())),
            "Federated" if !value.is_empty() => Ok(Self::Federated(value.to_owned())),
            "CanonicalUser" if !value.is_empty() => Ok(Self::CanonicalUser(value.to_owned())),
            _ => Err(invalid()),
        }
    }

    fn matches(&self, p: &Principal) -> Option<PrincipalMatch> {
        match self {
            Self::Everyone => Some(PrincipalMatch::Direct),
            Self::Account(a) if *a == p.account_id => Some(PrincipalMatch::Account),
            Self::Arn(arn) if *arn == p.arn => Some(PrincipalMatch::Direct),
            Self::Arn(arn) if Some(arn.as_str()) == p.role_arn() => Some(PrincipalMatch::Role),
            _ => None,
        }
    }
}

/// A compiled `Principal` / `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq)]
struct PrincipalSet {
    entries: Vec<PrincipalEntry>,
    negated: bool,
}

impl PrincipalSet {
    fn compile(raw: RawPrincipal, negated: bool) -> Result<Self, PolicyError> {
        let entries = match raw {
            RawPrincipal::Star(s) if s == "*" => vec![PrincipalEntry::Everyone],
            RawPrincipal::Star(s) => {
                return Err(PolicyError::new(format!(
                    "Invalid principal in policy: \"{s}\""
                )));
            }
            RawPrincipal::Map(map) => {
                let mut entries = Vec::new();
                for (kind, values) in map {
                    for value in values.into_vec() {
                        entries.push(PrincipalEntry::parse(&kind, &value)?);
                    }
                }
                entries
            }
        };
        if entries.is_empty() {
            return Err(PolicyError::new(
                "Invalid principal in policy: empty principal",
            ));
        }
        Ok(Self { entries, negated })
    }

    /// Whether the element names the identity provider `provider` (a web identity caller),
    /// or everyone.
    fn matches_federated(&self, provider: &str) -> bool {
        let named = self.entries.iter().any(|e| match e {
            PrincipalEntry::Everyone => true,
            PrincipalEntry::Federated(f) => f == provider,
            _ => false,
        });
        named != self.negated
    }

    fn matches(&self, p: &Principal) -> Option<PrincipalMatch> {
        let best = self.entries.iter().filter_map(|e| e.matches(p)).max();
        match (self.negated, best) {
            (false, m) => m,
            (true, Some(_)) => None,
            (true, None) => Some(PrincipalMatch::Direct),
        }
    }
}

/// A compiled `Action`/`NotAction` element (patterns stored lower-case).
#[derive(Debug, Clone, PartialEq)]
struct ActionSet {
    patterns: Vec<Template>,
    negated: bool,
}

impl ActionSet {
    fn compile(values: Vec<String>, negated: bool) -> Result<Self, PolicyError> {
        let mut patterns = Vec::with_capacity(values.len());
        for action in values {
            let valid = action == "*"
                || action
                    .split_once(':')
                    .is_some_and(|(vendor, name)| !vendor.is_empty() && !name.is_empty());
            if !valid {
                return Err(PolicyError::new(
                    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
                ));
            }
            patterns.push(Template::compile(&action, true, false, true));
        }
        Ok(Self { patterns, negated })
    }

    /// `action` must already be lower-case.
    fn matches(&self, action: &str, ctx: &RequestContext) -> bool {
        let any = self
            .patterns
            .iter()
            .any(|p| p.matches(action, ctx, true) == Some(true));
        any != self.negated
    }
}

/// A compiled `Resource`/`NotResource` element.
#[derive(Debug, Clone, PartialEq)]
struct ResourceSet {
    patterns: Vec<ArnPattern>,
    negated: bool,
}

impl ResourceSet {
    fn compile(values: Vec<String>, negated: bool, variables: bool) -> Result<Self, PolicyError> {
        let mut patterns = Vec::with_capacity(values.len());
        for resource in values {
            if resource != "*" && !resource.starts_with("arn:") {
                return Err(PolicyError::new(format!(
                    "Resource {resource} must be in ARN format or \"*\"."
                )));
            }
            patterns.push(ArnPattern::compile(&resource, variables));
        }
        Ok(Self { patterns, negated })
    }

    fn matches(&self, resource: &str, ctx: &RequestContext) -> bool {
        // An unresolved variable makes that pattern not match, for Resource and NotResource.
        let mut any = false;
        for pattern in &self.patterns {
            match pattern.matches(resource, ctx) {
                Some(true) => any = true,
                Some(false) => {}
                None => return false,
            }
        }
        any != self.negated
    }
}

/// One compiled statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    actions: ActionSet,
    resources: Option<ResourceSet>,
    principals: Option<PrincipalSet>,
    conditions: Vec<Condition>,
}

impl Statement {
    /// Returns the statement id.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// Returns the effect.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// Whether action, resource and conditions apply (principal not considered). `action`
    /// must be lower-case.
    pub(crate) fn applies(&self, action: &str, resource: &str, ctx: &RequestContext) -> bool {
        self.actions.matches(action, ctx)
            && self
                .resources
                .as_ref()
                .is_none_or(|r| r.matches(resource, ctx))
            && self.conditions.iter().all(|c| c.evaluate(ctx))
    }

    /// Whether the statement's principal element names the federated identity provider
    /// `provider` (trust policies of roles for web identity).
    pub(crate) fn names_federated(&self, provider: &str) -> bool {
        self.principals
            .as_ref()
            .is_some_and(|set| set.matches_federated(provider))
    }

    /// Returns whether action and resource match, conditions aside. `action` must be
    /// lower-case.
    fn targets(&self, action: &str, resource: &str, ctx: &RequestContext) -> bool {
        self.actions.matches(action, ctx)
            && self
                .resources
                .as_ref()
                .is_none_or(|r| r.matches(resource, ctx))
    }

    /// How the statement's principal element matches the caller (`Direct` when it has none).
    pub(crate) fn principal_match(&self, p: &Principal) -> Option<PrincipalMatch> {
        match &self.principals {
            Some(set) => set.matches(p),
            None => Some(PrincipalMatch::Direct),
        }
    }
}

/// A parsed, validated and compiled policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    version: String,
    id: Option<String>,
    statements: Vec<Statement>,
    source: String,
}

impl Policy {
    /// Parses and validates a JSON policy document of the given kind.
    pub fn parse(json: &str, kind: DocumentKind) -> Result<Self, PolicyError> {
        let raw: RawPolicy = serde_json::from_str(json).map_err(|_| PolicyError::syntax())?;
        let version = raw.version.unwrap_or_else(|| VERSION_2008.to_owned());
        if version != VERSION_2012 && version != VERSION_2008 {
            return Err(PolicyError::new("The policy failed legacy parsing"));
        }
        let variables = version == VERSION_2012;
        let raw_statements = raw.statement.into_vec();
        if raw_statements.is_empty() {
            return Err(PolicyError::syntax());
        }
        let mut sids = HashSet::new();
        let mut statements = Vec::with_capacity(raw_statements.len());
        for raw in raw_statements {
            if let Some(sid) = &raw.sid {
                if kind == DocumentKind::Identity && !sid.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(PolicyError::new(
                        "Statement IDs (SID) must be alpha-numeric. Check that your input \
                         satisfies the regular expression [0-9A-Za-z]*",
                    ));
                }
                if !sid.is_empty() && !sids.insert(sid.clone()) {
                    return Err(PolicyError::new(
                        "Statement IDs (SID) in a single policy must be unique.",
                    ));
                }
            }
            statements.push(compile_statement(raw, kind, variables)?);
        }
        Ok(Self {
            version,
            id: raw.id,
            statements,
            source: json.to_owned(),
        })
    }

    /// Parses an identity-based policy (also boundaries and session policies).
    pub fn parse_identity(json: &str) -> Result<Self, PolicyError> {
        Self::parse(json, DocumentKind::Identity)
    }

    /// Parses a resource-based policy.
    pub fn parse_resource(json: &str) -> Result<Self, PolicyError> {
        Self::parse(json, DocumentKind::Resource)
    }

    /// Returns a policy without statements, which allows nothing: what a permissions boundary
    /// that cannot be resolved amounts to.
    pub fn empty() -> Self {
        Self {
            version: VERSION_2012.to_owned(),
            id: None,
            statements: Vec::new(),
            source: String::new(),
        }
    }

    /// Parses a role's trust policy (`AssumeRolePolicyDocument`).
    pub fn parse_trust(json: &str) -> Result<Self, PolicyError> {
        Self::parse(json, DocumentKind::Trust)
    }

    /// Returns the `Version`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Returns the `Id`.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Returns the statements.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Returns the condition keys that statements about `action` on `resource` test but
    /// `ctx` lacks, as the policy spells them, without repeats (SimulatePrincipalPolicy's
    /// `MissingContextValues`).
    pub fn missing_context_keys(
        &self,
        action: &str,
        resource: &str,
        ctx: &RequestContext,
    ) -> Vec<String> {
        let action = action.to_ascii_lowercase();
        let mut out: Vec<String> = Vec::new();
        for st in &self.statements {
            if !st.targets(&action, resource, ctx) {
                continue;
            }
            for key in st.conditions.iter().filter_map(|c| c.missing_key(ctx)) {
                if !out.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                    out.push(key.to_owned());
                }
            }
        }
        out
    }

    /// Returns the JSON text the policy was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }
}

fn compile_statement(
    raw: RawStatement,
    kind: DocumentKind,
    variables: bool,
) -> Result<Statement, PolicyError> {
    let effect = match raw.effect.as_str() {
        "Allow" => Effect::Allow,
        "Deny" => Effect::Deny,
        other => return Err(PolicyError::new(format!("Invalid effect: {other}"))),
    };
    let (action, not_action) = (
        raw.action.map(OneOrMany::into_vec),
        raw.not_action.map(OneOrMany::into_vec),
    );
    if kind == DocumentKind::Trust
        && action
            .iter()
            .chain(&not_action)
            .flatten()
            .any(|a| !a.to_ascii_lowercase().starts_with("sts:"))
    {
        return Err(PolicyError::new(
            "AssumeRolepolicy contained an invalid action",
        ));
    }
    let actions = match (action, not_action) {
        (Some(a), None) => ActionSet::compile(a, false)?,
        (None, Some(a)) => ActionSet::compile(a, true)?,
        (None, None) => return Err(PolicyError::new("Policy statement must contain actions.")),
        (Some(_), Some(_)) => return Err(PolicyError::syntax()),
    };
    if actions.patterns.is_empty() {
        return Err(PolicyError::new("Policy statement must contain actions."));
    }
    let resources = match (raw.resource, raw.not_resource) {
        (Some(_), _) | (_, Some(_)) if kind == DocumentKind::Trust => {
            return Err(PolicyError::new("Has prohibited field Resource"));
        }
        (Some(r), None) => Some(ResourceSet::compile(r.into_vec(), false, variables)?),
        (None, Some(r)) => Some(ResourceSet::compile(r.into_vec(), true, variables)?),
        (None, None) if kind == DocumentKind::Identity => {
            return Err(PolicyError::new("Policy statement must contain resources."));
        }
        (None, None) => None,
        (Some(_), Some(_)) => return Err(PolicyError::syntax()),
    };
    if resources.as_ref().is_some_and(|r| r.patterns.is_empty()) {
        return Err(PolicyError::new("Policy statement must contain resources."));
    }
    let principals = match (raw.principal, raw.not_principal) {
        (None, None) if kind != DocumentKind::Identity => {
            return Err(PolicyError::new("Missing required field Principal"));
        }
        (None, None) => None,
        (Some(_), _) | (_, Some(_)) if kind == DocumentKind::Identity => {
            return Err(PolicyError::new(
                "Policy document should not specify a principal.",
            ));
        }
        (Some(p), None) => Some(PrincipalSet::compile(p, false)?),
        (None, Some(p)) => Some(PrincipalSet::compile(p, true)?),
        (Some(_), Some(_)) => return Err(PolicyError::syntax()),
    };
    let mut conditions = Vec::new();
    for (operator, keys) in raw.condition.unwrap_or_default() {
        for (key, values) in keys {
            conditions.push(Condition::compile(
                &operator,
                &key,
                &values.into_vec(),
                variables,
            )?);
        }
    }
    Ok(Statement {
        sid: raw.sid,
        effect,
        actions,
        resources,
        principals,
        conditions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str, kind: DocumentKind) -> String {
        Policy::parse(json, kind).unwrap_err().to_string()
    }

    #[test]
    fn accepts_the_grammar() {
        let policy = Policy::parse_identity(
            r#"{"Version":"2012-10-17","Id":"p1","Statement":{"Sid":"A1","Effect":"Allow",
                "Action":"aps:*","Resource":["*"],"Condition":{"Bool":{"aws:SecureTransport":true}}}}"#,
        )
        .unwrap();
        assert_eq!(policy.version(), "2012-10-17");
        assert_eq!(policy.id(), Some("p1"));
        assert_eq!(policy.statements().len(), 1);
        assert_eq!(policy.statements()[0].sid(), Some("A1"));
        assert_eq!(policy.statements()[0].effect(), Effect::Allow);
        let legacy = Policy::parse_identity(
            r#"{"Statement":[{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:iam::*:*"}]}"#,
        )
        .unwrap();
        assert_eq!(legacy.version(), VERSION_2008);
        let resource = Policy::parse_resource(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"allow remote write","Effect":"Allow",
                "Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:role/r"]},
                "Action":"aps:RemoteWrite","Resource":"*"}]}"#,
        )
        .unwrap();
        assert_eq!(resource.statements()[0].sid(), Some("allow remote write"));
    }

    #[test]
    fn lists_missing_context_keys() {
        let policy = Policy::parse_identity(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"aps:QueryMetrics","Resource":"*","Condition":{
                    "IpAddress":{"aws:SourceIp":"10.0.0.0/8"},
                    "StringEqualsIfExists":{"aws:RequestTag/env":"dev"},
                    "Null":{"aws:TagKeys":"true"},
                    "StringEquals":{"aws:username":"alice","aws:PrincipalTag/team":"obs"}}},
                {"Effect":"Deny","Action":"aps:RemoteWrite","Resource":"*","Condition":{
                    "Bool":{"aws:SecureTransport":"false"}}}]}"#,
        )
        .unwrap();
        let ctx = RequestContext::new().with("aws:username", "alice");
        assert_eq!(
            policy.missing_context_keys("aps:querymetrics", "*", &ctx),
            ["aws:SourceIp", "aws:PrincipalTag/team"]
        );
        assert_eq!(
            policy.missing_context_keys("aps:RemoteWrite", "*", &ctx),
            ["aws:SecureTransport"]
        );
        assert!(
            policy
                .missing_context_keys("aps:ListWorkspaces", "*", &ctx)
                .is_empty()
        );
    }

    #[test]
    fn reports_iam_style_errors() {
        use DocumentKind::{Identity, Resource};
        let cases = [
            ("not json", Identity, "Syntax errors in policy."),
            (
                r#"{"Version":"2012-10-17"}"#,
                Identity,
                "Syntax errors in policy.",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[]}"#,
                Identity,
                "Syntax errors in policy.",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[],"Extra":1}"#,
                Identity,
                "Syntax errors in policy.",
            ),
            (
                r#"{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"a:b","Resource":"*"}}"#,
                Identity,
                "The policy failed legacy parsing",
            ),
            (
                r#"{"Statement":{"Effect":"Alow","Action":"a:b","Resource":"*"}}"#,
                Identity,
                "Invalid effect: Alow",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
                Identity,
                "Policy statement must contain actions.",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#,
                Identity,
                "Policy statement must contain actions.",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","NotAction":"a:c","Resource":"*"}}"#,
                Identity,
                "Syntax errors in policy.",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b"}}"#,
                Identity,
                "Policy statement must contain resources.",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"CreateWorkspace","Resource":"*"}}"#,
                Identity,
                "Actions/Conditions must be prefaced by a vendor",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"workspace/x"}}"#,
                Identity,
                "Resource workspace/x must be in ARN format or \"*\".",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Principal":"*"}}"#,
                Identity,
                "Policy document should not specify a principal.",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*"}}"#,
                Resource,
                "Missing required field Principal",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","Principal":{"AWS":"bob"}}}"#,
                Resource,
                "Invalid principal in policy: \"AWS\":\"bob\"",
            ),
            (
                r#"{"Statement":{"Sid":"a b","Effect":"Allow","Action":"a:b","Resource":"*"}}"#,
                Identity,
                "Statement IDs (SID) must be alpha-numeric",
            ),
            (
                r#"{"Statement":[{"Sid":"a","Effect":"Allow","Action":"a:b","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"a:b","Resource":"*"}]}"#,
                Identity,
                "Statement IDs (SID) in a single policy must be unique.",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEqualz":{"k":"v"}}}}"#,
                Identity,
                "Invalid Condition type : StringEqualz.",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Foo":1}}"#,
                Identity,
                "Syntax errors in policy.",
            ),
        ];
        let trust = [
            (
                r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole","Resource":"*"}}"#,
                "Has prohibited field Resource",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"aps:QueryMetrics"}}"#,
                "AssumeRolepolicy contained an invalid action",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#,
                "Missing required field Principal",
            ),
        ];
        for (json, want) in trust {
            assert_eq!(err(json, DocumentKind::Trust), want, "{json}");
        }
        assert!(
            Policy::parse_trust(
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"aps.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}}"#
            )
            .is_ok()
        );
        for (json, kind, want) in cases {
            let got = err(json, kind);
            assert!(got.starts_with(want), "{json}: {got}");
        }
        let e = Policy::parse_identity("{").unwrap_err();
        assert_eq!(e.aws_code(), "MalformedPolicyDocument");
    }
}
