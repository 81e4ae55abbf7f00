//! Table-driven policy evaluation: every condition operator family, set qualifiers, variables,
//! Action/NotAction, Resource/NotResource, deny precedence, permissions boundaries, session
//! policies, resource policies and cross-account access.

// Test-harness helpers outside `#[test]` functions may fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ampd_iam::policy::{
    AttachedPolicy, AuthzRequest, Decision, ImplicitDenyReason, Policy, PolicyKind, PolicySet,
    RequestContext, evaluate, evaluate_trust,
};
use ampd_iam::{Principal, PrincipalKind};

const ACCOUNT: &str = "111122223333";
const WS: &str = "arn:aws:aps:us-east-1:111122223333:workspace/ws-1";

fn alice() -> Principal {
    Principal {
        account_id: ACCOUNT.into(),
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        user_id: "AIDAALICE".into(),
        user_name: Some("alice".into()),
        kind: PrincipalKind::User,
        tags: BTreeMap::from([("team".to_owned(), "obs".to_owned())]),
    }
}

fn session() -> Principal {
    Principal {
        account_id: ACCOUNT.into(),
        arn: "arn:aws:sts::111122223333:assumed-role/writer/s1".into(),
        user_id: "AROAWRITER:s1".into(),
        user_name: None,
        kind: PrincipalKind::AssumedRole {
            role_arn: "arn:aws:iam::111122223333:role/writer".into(),
            session_name: "s1".into(),
        },
        tags: BTreeMap::new(),
    }
}

fn root() -> Principal {
    Principal {
        account_id: ACCOUNT.into(),
        arn: "arn:aws:iam::111122223333:root".into(),
        user_id: ACCOUNT.into(),
        user_name: None,
        kind: PrincipalKind::Root,
        tags: BTreeMap::new(),
    }
}

fn outsider() -> Principal {
    Principal {
        account_id: "444455556666".into(),
        arn: "arn:aws:iam::444455556666:user/bob".into(),
        user_id: "AIDABOB".into(),
        user_name: Some("bob".into()),
        kind: PrincipalKind::User,
        tags: BTreeMap::new(),
    }
}

/// Builds a context from `key=value` and `key=[a,b]` entries.
fn context(entries: &[&str]) -> RequestContext {
    let mut ctx = RequestContext::new();
    for entry in entries {
        let (k, v) = entry.split_once('=').expect("key=value");
        if let Some(list) = v.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let values = list
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            ctx.insert_multi(k, values);
        } else {
            ctx.insert(k, v);
        }
    }
    ctx
}

fn identity(json: &str) -> AttachedPolicy {
    let policy = Policy::parse_identity(json).unwrap_or_else(|e| panic!("{json}: {e}"));
    AttachedPolicy::new("inline", PolicyKind::Identity, Arc::new(policy))
}

fn attached(json: &str, kind: PolicyKind) -> AttachedPolicy {
    let policy = match kind {
        PolicyKind::Resource => Policy::parse_resource(json),
        _ => Policy::parse_identity(json),
    };
    AttachedPolicy::new(format!("{kind:?}"), kind, Arc::new(policy.unwrap()))
}

fn allow_all_with(condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"aps:*","Resource":"*","Condition":{condition}}}]}}"#
    )
}

#[test]
fn condition_operators() {
    // (condition block, context, allowed)
    let cases: &[(&str, &[&str], bool)] = &[
        // String
        (
            r#"{"StringEquals":{"aws:username":"alice"}}"#,
            &["aws:username=alice"],
            true,
        ),
        (
            r#"{"StringEquals":{"aws:username":"alice"}}"#,
            &["aws:username=bob"],
            false,
        ),
        (r#"{"StringEquals":{"aws:username":"alice"}}"#, &[], false),
        (
            r#"{"StringEquals":{"aws:username":["bob","alice"]}}"#,
            &["aws:username=alice"],
            true,
        ),
        (
            r#"{"StringEquals":{"aws:username":"Alice"}}"#,
            &["aws:username=alice"],
            false,
        ),
        (
            r#"{"StringEquals":{"aws:username":"*"}}"#,
            &["aws:username=alice"],
            false,
        ),
        (
            r#"{"StringEquals":{"AWS:UserName":"alice"}}"#,
            &["aws:username=alice"],
            true,
        ),
        (
            r#"{"StringEquals":{"aws:username":"alice"}}"#,
            &["AWS:USERNAME=alice"],
            true,
        ),
        (
            r#"{"StringNotEquals":{"aws:username":"alice"}}"#,
            &["aws:username=bob"],
            true,
        ),
        (
            r#"{"StringNotEquals":{"aws:username":"alice"}}"#,
            &["aws:username=alice"],
            false,
        ),
        (r#"{"StringNotEquals":{"aws:username":"alice"}}"#, &[], true),
        (
            r#"{"StringNotEquals":{"aws:username":["a","b"]}}"#,
            &["aws:username=b"],
            false,
        ),
        (
            r#"{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}"#,
            &["aws:username=alice"],
            true,
        ),
        (
            r#"{"StringEqualsIgnoreCase":{"aws:username":"bob"}}"#,
            &["aws:username=alice"],
            false,
        ),
        (
            r#"{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}"#,
            &["aws:username=alice"],
            false,
        ),
        (
            r#"{"StringNotEqualsIgnoreCase":{"aws:username":"bob"}}"#,
            &["aws:username=alice"],
            true,
        ),
        (
            r#"{"StringLike":{"aws:username":"al*"}}"#,
            &["aws:username=alice"],
            true,
        ),
        (
            r#"{"StringLike":{"aws:username":"a?ice"}}"#,
            &["aws:username=alice"],
            true,
        ),
        (
            r#"{"StringLike":{"aws:username":"b*"}}"#,
            &["aws:username=alice"],
            false,
        ),
        (r#"{"StringLike":{"aws:username":"al*"}}"#, &[], false),
        (
            r#"{"StringNotLike":{"aws:username":"b*"}}"#,
            &["aws:username=alice"],
            true,
        ),
        (
            r#"{"StringNotLike":{"aws:username":"a*"}}"#,
            &["aws:username=alice"],
            false,
        ),
        (r#"{"StringNotLike":{"aws:username":"a*"}}"#, &[], true),
        (
            r#"{"StringEqualsIfExists":{"aws:username":"alice"}}"#,
            &[],
            true,
        ),
        (
            r#"{"StringEqualsIfExists":{"aws:username":"alice"}}"#,
            &["aws:username=bob"],
            false,
        ),
        (
            r#"{"StringLikeIfExists":{"aws:username":"a*"}}"#,
            &["aws:username=alice"],
            true,
        ),
        (
            r#"{"StringNotEqualsIfExists":{"aws:username":"alice"}}"#,
            &["aws:username=alice"],
            false,
        ),
        // Numeric
        (r#"{"NumericEquals":{"k":"10"}}"#, &["k=10"], true),
        (r#"{"NumericEquals":{"k":10}}"#, &["k=10.0"], true),
        (r#"{"NumericEquals":{"k":["1","2"]}}"#, &["k=2"], true),
        (r#"{"NumericNotEquals":{"k":"10"}}"#, &["k=11"], true),
        (r#"{"NumericNotEquals":{"k":"10"}}"#, &["k=10"], false),
        (r#"{"NumericLessThan":{"k":"10"}}"#, &["k=9"], true),
        (r#"{"NumericLessThan":{"k":"10"}}"#, &["k=10"], false),
        (r#"{"NumericLessThanEquals":{"k":"10"}}"#, &["k=10"], true),
        (
            r#"{"NumericLessThanEquals":{"k":"10"}}"#,
            &["k=10.5"],
            false,
        ),
        (r#"{"NumericGreaterThan":{"k":"10"}}"#, &["k=11"], true),
        (r#"{"NumericGreaterThan":{"k":"10"}}"#, &["k=10"], false),
        (
            r#"{"NumericGreaterThanEquals":{"k":"10"}}"#,
            &["k=10"],
            true,
        ),
        (
            r#"{"NumericGreaterThanEquals":{"k":"10"}}"#,
            &["k=-3"],
            false,
        ),
        (r#"{"NumericEquals":{"k":"10"}}"#, &["k=abc"], false),
        (r#"{"NumericEquals":{"k":"10"}}"#, &[], false),
        (r#"{"NumericNotEquals":{"k":"10"}}"#, &[], true),
        (r#"{"NumericLessThanIfExists":{"k":"10"}}"#, &[], true),
        (
            r#"{"NumericLessThanIfExists":{"k":"10"}}"#,
            &["k=20"],
            false,
        ),
        // Date
        (
            r#"{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#,
            &["aws:CurrentTime=2025-01-01T00:00:00Z"],
            true,
        ),
        (
            r#"{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#,
            &["aws:CurrentTime=2025-01-01T00:00:00Z"],
            false,
        ),
        (
            r#"{"DateEquals":{"aws:EpochTime":"2025-01-01T00:00:00Z"}}"#,
            &["aws:EpochTime=1735689600"],
            true,
        ),
        (
            r#"{"DateNotEquals":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}"#,
            &["aws:CurrentTime=2025-01-02T00:00:00Z"],
            true,
        ),
        (
            r#"{"DateNotEquals":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}"#,
            &["aws:CurrentTime=2025-01-01T00:00:00Z"],
            false,
        ),
        (
            r#"{"DateLessThanEquals":{"aws:CurrentTime":"2025-01-01"}}"#,
            &["aws:CurrentTime=2025-01-01T00:00:00Z"],
            true,
        ),
        (
            r#"{"DateGreaterThanEquals":{"aws:CurrentTime":1735689600}}"#,
            &["aws:CurrentTime=2025-01-01T00:00:01Z"],
            true,
        ),
        (
            r#"{"DateGreaterThanEquals":{"aws:CurrentTime":1735689600}}"#,
            &["aws:CurrentTime=2024-12-31T23:59:59Z"],
            false,
        ),
        (
            r#"{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#,
            &[],
            false,
        ),
        (
            r#"{"DateNotEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#,
            &[],
            true,
        ),
        (
            r#"{"DateGreaterThanIfExists":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#,
            &[],
            true,
        ),
        (
            r#"{"DateEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#,
            &["aws:CurrentTime=garbage"],
            false,
        ),
        // Bool
        (
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            &["aws:SecureTransport=true"],
            true,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            &["aws:SecureTransport=false"],
            false,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":true}}"#,
            &["aws:SecureTransport=TRUE"],
            true,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":"false"}}"#,
            &["aws:SecureTransport=false"],
            true,
        ),
        (r#"{"Bool":{"aws:SecureTransport":"false"}}"#, &[], false),
        (
            r#"{"BoolIfExists":{"aws:SecureTransport":"false"}}"#,
            &[],
            true,
        ),
        // Binary
        (
            r#"{"BinaryEquals":{"k":"QmluYXJ5"}}"#,
            &["k=QmluYXJ5"],
            true,
        ),
        (
            r#"{"BinaryEquals":{"k":"QmluYXJ5"}}"#,
            &["k=QmluYXJ6"],
            false,
        ),
        (r#"{"BinaryEquals":{"k":"QmluYXJ5"}}"#, &[], false),
        (r#"{"BinaryEqualsIfExists":{"k":"QmluYXJ5"}}"#, &[], true),
        // IP
        (
            r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &["aws:SourceIp=10.1.2.3"],
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &["aws:SourceIp=192.168.0.1"],
            false,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"192.168.0.1"}}"#,
            &["aws:SourceIp=192.168.0.1"],
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"192.168.0.1"}}"#,
            &["aws:SourceIp=192.168.0.2"],
            false,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#,
            &["aws:SourceIp=2001:db8::1"],
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#,
            &["aws:SourceIp=2001:db9::1"],
            false,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"::1"}}"#,
            &["aws:SourceIp=::1"],
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}"#,
            &["aws:SourceIp=192.168.5.5"],
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &["aws:SourceIp=::ffff:1.2.3.4"],
            false,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &["aws:SourceIp=not-an-ip"],
            false,
        ),
        (r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, &[], false),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &["aws:SourceIp=192.168.0.1"],
            true,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &["aws:SourceIp=10.0.0.1"],
            false,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &[],
            true,
        ),
        (
            r#"{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &[],
            true,
        ),
        // ARN
        (
            r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/alice"}}"#,
            &["aws:PrincipalArn=arn:aws:iam::111122223333:user/alice"],
            true,
        ),
        (
            r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/a*"}}"#,
            &["aws:PrincipalArn=arn:aws:iam::111122223333:user/alice"],
            true,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/*"}}"#,
            &["aws:PrincipalArn=arn:aws:iam::111122223333:user/alice"],
            true,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}"#,
            &["aws:PrincipalArn=arn:aws:iam::111122223333:user/alice"],
            false,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:*:user/alice"}}"#,
            &["aws:PrincipalArn=arn:aws:iam::111122223333:user/alice"],
            false,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/*"}}"#,
            &[],
            false,
        ),
        (
            r#"{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/bob"}}"#,
            &["aws:PrincipalArn=arn:aws:iam::111122223333:user/alice"],
            true,
        ),
        (
            r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/*"}}"#,
            &["aws:PrincipalArn=arn:aws:iam::111122223333:user/alice"],
            false,
        ),
        (
            r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/*"}}"#,
            &[],
            true,
        ),
        (
            r#"{"ArnLikeIfExists":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}"#,
            &[],
            true,
        ),
        // Null
        (r#"{"Null":{"aws:username":"true"}}"#, &[], true),
        (
            r#"{"Null":{"aws:username":"true"}}"#,
            &["aws:username=alice"],
            false,
        ),
        (
            r#"{"Null":{"aws:username":"false"}}"#,
            &["aws:username=alice"],
            true,
        ),
        (r#"{"Null":{"aws:username":false}}"#, &[], false),
        (
            r#"{"Null":{"aws:TagKeys":"true"}}"#,
            &["aws:TagKeys=[]"],
            true,
        ),
        // Set qualifiers
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#,
            &["aws:TagKeys=[team]"],
            true,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#,
            &["aws:TagKeys=[team,env]"],
            true,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#,
            &["aws:TagKeys=[team,owner]"],
            false,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#,
            &[],
            true,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#,
            &["aws:TagKeys=[]"],
            true,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}"#,
            &["aws:TagKeys=[owner,team]"],
            true,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}"#,
            &["aws:TagKeys=[owner]"],
            false,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}"#,
            &[],
            false,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}"#,
            &["aws:TagKeys=[]"],
            false,
        ),
        (
            r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"team"}}"#,
            &[],
            true,
        ),
        (
            r#"{"ForAllValues:StringLike":{"aws:TagKeys":"team*"}}"#,
            &["aws:TagKeys=[team1,team2]"],
            true,
        ),
        (
            r#"{"ForAllValues:StringLike":{"aws:TagKeys":"team*"}}"#,
            &["aws:TagKeys=[team1,env]"],
            false,
        ),
        (
            r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":"secret"}}"#,
            &["aws:TagKeys=[a,b]"],
            true,
        ),
        (
            r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":"secret"}}"#,
            &["aws:TagKeys=[a,secret]"],
            false,
        ),
        (
            r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"secret"}}"#,
            &["aws:TagKeys=[secret]"],
            false,
        ),
        (
            r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"secret"}}"#,
            &["aws:TagKeys=[secret,a]"],
            true,
        ),
        (
            r#"{"ForAllValues:StringEqualsIgnoreCase":{"aws:TagKeys":"TEAM"}}"#,
            &["aws:TagKeys=[team,Team]"],
            true,
        ),
        (
            r#"{"ForAnyValue:StringLike":{"aws:TagKeys":"env*"}}"#,
            &["aws:TagKeys=[team,environment]"],
            true,
        ),
        (
            r#"{"ForAnyValue:NumericGreaterThan":{"k":"5"}}"#,
            &["k=[1,9]"],
            true,
        ),
        (
            r#"{"ForAllValues:NumericGreaterThan":{"k":"5"}}"#,
            &["k=[1,9]"],
            false,
        ),
        (
            r#"{"ForAnyValue:IpAddress":{"k":"10.0.0.0/8"}}"#,
            &["k=[1.1.1.1,10.0.0.1]"],
            true,
        ),
        (
            r#"{"ForAllValues:ArnLike":{"k":"arn:aws:iam::*:role/*"}}"#,
            &["k=[arn:aws:iam::1:role/a,arn:aws:iam::2:role/b]"],
            true,
        ),
        // A plain operator on a multi-valued key behaves like ForAnyValue.
        (
            r#"{"StringEquals":{"aws:TagKeys":"team"}}"#,
            &["aws:TagKeys=[a,team]"],
            true,
        ),
        // Several keys and operators are ANDed; several values are ORed.
        (
            r#"{"StringEquals":{"a":"1","b":"2"}}"#,
            &["a=1", "b=2"],
            true,
        ),
        (
            r#"{"StringEquals":{"a":"1","b":"2"}}"#,
            &["a=1", "b=3"],
            false,
        ),
        (
            r#"{"StringEquals":{"a":"1"},"Bool":{"b":"true"}}"#,
            &["a=1", "b=true"],
            true,
        ),
        (
            r#"{"StringEquals":{"a":"1"},"Bool":{"b":"true"}}"#,
            &["a=1", "b=false"],
            false,
        ),
        (r#"{"StringEquals":{"a":["1","2","3"]}}"#, &["a=3"], true),
        // Policy variables in condition values
        (
            r#"{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}"#,
            &["aws:ResourceTag/owner=alice", "aws:username=alice"],
            true,
        ),
        (
            r#"{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}"#,
            &["aws:ResourceTag/owner=bob", "aws:username=alice"],
            false,
        ),
        (
            r#"{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}"#,
            &["aws:ResourceTag/owner=alice"],
            false,
        ),
        (
            r#"{"StringNotEquals":{"aws:ResourceTag/owner":"${aws:username}"}}"#,
            &["aws:ResourceTag/owner=alice"],
            false,
        ),
        (
            r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team, 'none'}"}}"#,
            &["aws:ResourceTag/team=none"],
            true,
        ),
        (
            r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team, 'none'}"}}"#,
            &["aws:ResourceTag/team=obs", "aws:PrincipalTag/team=obs"],
            true,
        ),
        (
            r#"{"StringLike":{"k":"${aws:username}-*"}}"#,
            &["k=alice-1", "aws:username=alice"],
            true,
        ),
        (
            r#"{"StringLike":{"k":"${aws:username}-*"}}"#,
            &["k=bob-1", "aws:username=alice"],
            false,
        ),
        (r#"{"StringLike":{"k":"a${*}b"}}"#, &["k=a*b"], true),
        (r#"{"StringLike":{"k":"a${*}b"}}"#, &["k=axb"], false),
        (r#"{"StringEquals":{"k":"${$}{x}"}}"#, &["k=${x}"], true),
        (r#"{"StringLike":{"k":"q${?}"}}"#, &["k=q?"], true),
        (r#"{"StringLike":{"k":"q${?}"}}"#, &["k=qx"], false),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/${aws:username}"}}"#,
            &[
                "aws:PrincipalArn=arn:aws:iam::111122223333:user/alice",
                "aws:username=alice",
            ],
            true,
        ),
    ];
    let principal = alice();
    let mut failures = Vec::new();
    for (condition, entries, want) in cases {
        let policy = identity(&allow_all_with(condition));
        let ctx = context(entries);
        let req = AuthzRequest {
            principal: &principal,
            action: "aps:QueryMetrics",
            resource: WS,
            context: &ctx,
        };
        let policies = PolicySet {
            identity: std::slice::from_ref(&policy),
            ..PolicySet::default()
        };
        let got = evaluate(&req, &policies).is_allowed();
        if got != *want {
            failures.push(format!(
                "{condition} with {entries:?}: got {got}, want {want}"
            ));
        }
    }
    assert!(cases.len() >= 120, "{}", cases.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn legacy_version_keeps_variables_literal() {
    let json = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"aps:*","Resource":"*","Condition":{"StringEquals":{"k":"${aws:username}"}}}}"#;
    let policy = identity(json);
    let principal = alice();
    for (value, want) in [("${aws:username}", true), ("alice", false)] {
        let ctx = context(&["aws:username=alice"]).with("k", value);
        let req = AuthzRequest {
            principal: &principal,
            action: "aps:QueryMetrics",
            resource: WS,
            context: &ctx,
        };
        let set = PolicySet {
            identity: std::slice::from_ref(&policy),
            ..PolicySet::default()
        };
        assert_eq!(evaluate(&req, &set).is_allowed(), want, "{value}");
    }
}

#[test]
fn actions_and_resources() {
    // (Action or NotAction element, Resource or NotResource element, action, resource, allowed)
    let ws2 = "arn:aws:aps:us-east-1:111122223333:workspace/ws-2";
    let cases: &[(&str, &str, &str, &str, bool)] = &[
        (
            r#""Action":"aps:*""#,
            r#""Resource":"*""#,
            "aps:CreateWorkspace",
            "*",
            true,
        ),
        (
            r#""Action":"*""#,
            r#""Resource":"*""#,
            "aps:CreateWorkspace",
            "*",
            true,
        ),
        (
            r#""Action":"aps:create*""#,
            r#""Resource":"*""#,
            "aps:CreateWorkspace",
            "*",
            true,
        ),
        (
            r#""Action":"APS:CreateWorkspace""#,
            r#""Resource":"*""#,
            "aps:CreateWorkspace",
            "*",
            true,
        ),
        (
            r#""Action":"aps:CreateWorkspace""#,
            r#""Resource":"*""#,
            "APS:createworkspace",
            "*",
            true,
        ),
        (
            r#""Action":"aps:Describe*""#,
            r#""Resource":"*""#,
            "aps:DeleteWorkspace",
            WS,
            false,
        ),
        (
            r#""Action":"aps:?escribeWorkspace""#,
            r#""Resource":"*""#,
            "aps:DescribeWorkspace",
            WS,
            true,
        ),
        (
            r#""Action":"aps:*Workspace""#,
            r#""Resource":"*""#,
            "aps:DescribeWorkspaceConfiguration",
            WS,
            false,
        ),
        (
            r#""Action":"iam:*""#,
            r#""Resource":"*""#,
            "aps:CreateWorkspace",
            "*",
            false,
        ),
        (
            r#""Action":"ap:*""#,
            r#""Resource":"*""#,
            "aps:CreateWorkspace",
            "*",
            false,
        ),
        (
            r#""Action":["aps:QueryMetrics","aps:RemoteWrite"]"#,
            r#""Resource":"*""#,
            "aps:RemoteWrite",
            WS,
            true,
        ),
        (
            r#""Action":["aps:QueryMetrics","aps:RemoteWrite"]"#,
            r#""Resource":"*""#,
            "aps:GetSeries",
            WS,
            false,
        ),
        (
            r#""NotAction":"aps:DeleteWorkspace""#,
            r#""Resource":"*""#,
            "aps:CreateWorkspace",
            "*",
            true,
        ),
        (
            r#""NotAction":"aps:DeleteWorkspace""#,
            r#""Resource":"*""#,
            "aps:DeleteWorkspace",
            WS,
            false,
        ),
        (
            r#""NotAction":["aps:Delete*","iam:*"]"#,
            r#""Resource":"*""#,
            "aps:DeleteRuleGroupsNamespace",
            WS,
            false,
        ),
        (
            r#""NotAction":["aps:Delete*","iam:*"]"#,
            r#""Resource":"*""#,
            "kms:Decrypt",
            "*",
            true,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:us-east-1:111122223333:workspace/*""#,
            "aps:DescribeWorkspace",
            WS,
            true,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:us-east-1:111122223333:workspace/ws-1""#,
            "aps:DescribeWorkspace",
            ws2,
            false,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:us-east-1:999999999999:workspace/*""#,
            "aps:DescribeWorkspace",
            WS,
            false,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:eu-west-1:111122223333:workspace/*""#,
            "aps:DescribeWorkspace",
            WS,
            false,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:*:111122223333:workspace/*""#,
            "aps:DescribeWorkspace",
            WS,
            true,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:us-east-1:111122223333:Workspace/*""#,
            "aps:DescribeWorkspace",
            WS,
            false,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:us-east-1:111122223333:workspace/*""#,
            "aps:DescribeRuleGroupsNamespace",
            "arn:aws:aps:us-east-1:111122223333:rulegroupsnamespace/ws-1/ns",
            false,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:us-east-1:111122223333:rulegroupsnamespace/ws-1/*""#,
            "aps:DescribeRuleGroupsNamespace",
            "arn:aws:aps:us-east-1:111122223333:rulegroupsnamespace/ws-1/ns",
            true,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":["arn:aws:aps:*:*:workspace/ws-2",  "arn:aws:aps:*:*:workspace/ws-1"]"#,
            "aps:QueryMetrics",
            WS,
            true,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:us-east-1:111122223333:workspace/*""#,
            "aps:CreateWorkspace",
            "*",
            false,
        ),
        (
            r#""Action":"aps:*""#,
            r#""NotResource":"arn:aws:aps:us-east-1:111122223333:workspace/ws-1""#,
            "aps:QueryMetrics",
            ws2,
            true,
        ),
        (
            r#""Action":"aps:*""#,
            r#""NotResource":"arn:aws:aps:us-east-1:111122223333:workspace/ws-1""#,
            "aps:QueryMetrics",
            WS,
            false,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:*:*:workspace/${aws:username}""#,
            "aps:QueryMetrics",
            "arn:aws:aps:us-east-1:111122223333:workspace/alice",
            true,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:*:*:workspace/${aws:username}""#,
            "aps:QueryMetrics",
            WS,
            false,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:*:*:workspace/${aws:PrincipalTag/team}-*""#,
            "aps:QueryMetrics",
            "arn:aws:aps:us-east-1:111122223333:workspace/obs-1",
            true,
        ),
        (
            r#""Action":"aps:*""#,
            r#""Resource":"arn:aws:aps:*:*:workspace/${aws:PrincipalTag/missing}""#,
            "aps:QueryMetrics",
            WS,
            false,
        ),
    ];
    let principal = alice();
    let ctx = RequestContext::for_principal(&principal, SystemTime::UNIX_EPOCH);
    let mut failures = Vec::new();
    for (action, resource, req_action, req_resource, want) in cases {
        let json = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow",{action},{resource}}}}}"#
        );
        let policy = identity(&json);
        let req = AuthzRequest {
            principal: &principal,
            action: req_action,
            resource: req_resource,
            context: &ctx,
        };
        let set = PolicySet {
            identity: std::slice::from_ref(&policy),
            ..PolicySet::default()
        };
        let got = evaluate(&req, &set).is_allowed();
        if got != *want {
            failures.push(format!(
                "{action} {resource} for {req_action} on {req_resource}: got {got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What a structural case expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Allowed(Option<PolicyKind>),
    ExplicitDeny(PolicyKind),
    Implicit(ImplicitDenyReason),
}

struct Case {
    name: &'static str,
    principal: Principal,
    identity: Vec<&'static str>,
    boundary: Option<&'static str>,
    session: Option<Vec<&'static str>>,
    resource_policy: Option<&'static str>,
    action: &'static str,
    resource: &'static str,
    want: Want,
}

impl Case {
    fn new(name: &'static str, want: Want) -> Self {
        Self {
            name,
            principal: alice(),
            identity: Vec::new(),
            boundary: None,
            session: None,
            resource_policy: None,
            action: "aps:QueryMetrics",
            resource: WS,
            want,
        }
    }
    fn who(mut self, p: Principal) -> Self {
        self.principal = p;
        self
    }
    fn id(mut self, json: &'static str) -> Self {
        self.identity.push(json);
        self
    }
    fn boundary(mut self, json: &'static str) -> Self {
        self.boundary = Some(json);
        self
    }
    fn session(mut self, json: &'static str) -> Self {
        self.session.get_or_insert_with(Vec::new).push(json);
        self
    }
    fn resource_policy(mut self, json: &'static str) -> Self {
        self.resource_policy = Some(json);
        self
    }
    fn on(mut self, action: &'static str, resource: &'static str) -> Self {
        self.action = action;
        self.resource = resource;
        self
    }
}

const ALLOW_APS: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","Resource":"*"}}"#;
const ALLOW_QUERY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:QueryMetrics","Resource":"*"}}"#;
const ALLOW_WRITE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:RemoteWrite","Resource":"*"}}"#;
const DENY_APS: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"aps:*","Resource":"*"}}"#;
const DENY_DELETE: &str = r#"{"Version":"2012-10-17","Statement":{"Sid":"NoDelete","Effect":"Deny","Action":"aps:Delete*","Resource":"*"}}"#;
const DENY_OFF_NETWORK: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}"#;
const DENY_NOT_DESCRIBE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"aps:Describe*","Resource":"*"}}"#;
const RP_ALICE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"aps:QueryMetrics","Resource":"*"}}"#;
const RP_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"aps:QueryMetrics","Resource":"*"}}"#;
const RP_ACCOUNT_ROOT_ARN: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"aps:*","Resource":"*"}}"#;
const RP_OUTSIDER_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"aps:QueryMetrics","Resource":"*"}}"#;
const RP_ROLE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/writer"},"Action":"aps:RemoteWrite","Resource":"*"}}"#;
const RP_SESSION: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/writer/s1"},"Action":"aps:RemoteWrite","Resource":"*"}}"#;
const RP_EVERYONE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"aps:QueryMetrics","Resource":"*"}}"#;
const RP_BOB: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"aps:QueryMetrics","Resource":"*"}}"#;
const RP_DENY_ALL: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"aps:*","Resource":"*"}}"#;
const RP_DENY_BOB: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"aps:*","Resource":"*"}}"#;
const RP_DENY_NOT_ADMIN: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/admin"},"Action":"aps:*","Resource":"*"}}"#;
const RP_SERVICE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"aps.amazonaws.com"},"Action":"aps:QueryMetrics","Resource":"*"}}"#;
const ALLOW_TEAM_TAG: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}}"#;
const ALLOW_ASSUMED_ROLE_TYPE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalType":"AssumedRole"},"StringLike":{"aws:userid":"AROAWRITER:*"}}}}"#;
const ALLOW_ROLE_ARN_COND: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/writer"}}}}"#;
const ALLOW_OWN_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}}"#;

const BOUNDARY_QUERY_WILDCARD: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:Query*","Resource":"*"}}"#;
const BOUNDARY_NOT_DELETE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"aps:Delete*","Resource":"*"}}"#;
const BOUNDARY_TEAM_TAG: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"obs"}}}}"#;
const BOUNDARY_OTHER_TEAM: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"billing"}}}}"#;
const BOUNDARY_NOT_WS1: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","NotResource":"arn:aws:aps:us-east-1:111122223333:workspace/ws-1"}}"#;
const BOUNDARY_DENY_TAGGED: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"aps:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"obs"}}}]}"#;
const ALLOW_OTHER_WS: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","Resource":"arn:aws:aps:us-east-1:111122223333:workspace/ws-2"}}"#;
const RP_ALICE_WILDCARD: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/bob","arn:aws:iam::111122223333:user/alice"]},"Action":"aps:Query*","Resource":"*"}}"#;
const RP_ALICE_OTHER_WS: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"aps:QueryMetrics","Resource":"arn:aws:aps:us-east-1:111122223333:workspace/ws-2"}}"#;
const RP_ALICE_NOT_ACTION: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"NotAction":"aps:RemoteWrite","Resource":"*"}}"#;
const RP_ALICE_FROM_NETWORK: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"aps:QueryMetrics","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}"#;
const RP_ALICE_TEAM_TAG: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"aps:QueryMetrics","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"obs"}}}}"#;
const RP_DENY_OFF_NETWORK: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"aps:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"billing"}}}}"#;
const RP_ALLOW_AND_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"aps:*","Resource":"*"},{"Sid":"NoWrite","Effect":"Deny","Principal":"*","Action":"aps:RemoteWrite","Resource":"*"}]}"#;

const ROLE: &str = "arn:aws:iam::111122223333:role/writer";
const TRUST_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}}"#;
const TRUST_ALICE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":["sts:AssumeRole","sts:TagSession"]}}"#;
const TRUST_SERVICE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"aps.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
const DENY_ALL_STS: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"sts:*","Resource":"*"}}"#;
const ALLOW_ASSUME: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/*"}}"#;

#[test]
fn evaluation_logic() {
    use ImplicitDenyReason::*;
    use PolicyKind::*;
    use Want::*;
    let outsider_ws = "arn:aws:aps:us-east-1:999999999999:workspace/ws-x";
    let cases = vec![
        Case::new("nothing attached", Implicit(NoIdentityPolicy)),
        Case::new("identity allow", Allowed(Some(Identity))).id(ALLOW_APS),
        Case::new("allow other action", Implicit(NoIdentityPolicy)).id(ALLOW_WRITE),
        Case::new("allow in second policy", Allowed(Some(Identity)))
            .id(ALLOW_WRITE)
            .id(ALLOW_QUERY),
        Case::new("deny beats allow", ExplicitDeny(Identity))
            .id(ALLOW_APS)
            .id(DENY_APS),
        Case::new("deny first beats allow", ExplicitDeny(Identity))
            .id(DENY_APS)
            .id(ALLOW_APS),
        Case::new("deny other action", Allowed(Some(Identity)))
            .id(ALLOW_APS)
            .id(DENY_DELETE),
        Case::new("deny matching action", ExplicitDeny(Identity))
            .id(ALLOW_APS)
            .id(DENY_DELETE)
            .on("aps:DeleteWorkspace", WS),
        Case::new(
            "conditional deny applies without source ip",
            ExplicitDeny(Identity),
        )
        .id(ALLOW_APS)
        .id(DENY_OFF_NETWORK),
        Case::new("deny NotAction hits others", ExplicitDeny(Identity))
            .id(ALLOW_APS)
            .id(DENY_NOT_DESCRIBE),
        Case::new("deny NotAction spares listed", Allowed(Some(Identity)))
            .id(ALLOW_APS)
            .id(DENY_NOT_DESCRIBE)
            .on("aps:DescribeWorkspace", WS),
        Case::new("root without policies", Allowed(None)).who(root()),
        Case::new("root not bound by identity deny-less", Allowed(None))
            .who(root())
            .on("aps:DeleteWorkspace", WS),
        Case::new("root and resource-policy deny", ExplicitDeny(Resource))
            .who(root())
            .resource_policy(RP_DENY_ALL),
        Case::new("boundary allows", Allowed(Some(Identity)))
            .id(ALLOW_APS)
            .boundary(ALLOW_QUERY),
        Case::new("boundary does not allow", Implicit(NoPermissionsBoundary))
            .id(ALLOW_APS)
            .boundary(ALLOW_WRITE),
        Case::new("boundary deny", ExplicitDeny(PermissionsBoundary))
            .id(ALLOW_APS)
            .boundary(DENY_APS),
        Case::new("boundary alone grants nothing", Implicit(NoIdentityPolicy)).boundary(ALLOW_APS),
        Case::new("session policy allows", Allowed(Some(Identity)))
            .who(session())
            .id(ALLOW_APS)
            .session(ALLOW_QUERY),
        Case::new("session policy does not allow", Implicit(NoSessionPolicy))
            .who(session())
            .id(ALLOW_APS)
            .session(ALLOW_WRITE),
        Case::new(
            "one of two session policies allows",
            Allowed(Some(Identity)),
        )
        .who(session())
        .id(ALLOW_APS)
        .session(ALLOW_WRITE)
        .session(ALLOW_QUERY),
        Case::new("session policy deny", ExplicitDeny(Session))
            .who(session())
            .id(ALLOW_APS)
            .session(DENY_APS),
        Case::new(
            "session policy alone grants nothing",
            Implicit(NoIdentityPolicy),
        )
        .who(session())
        .session(ALLOW_APS),
        Case::new("boundary and session both allow", Allowed(Some(Identity)))
            .who(session())
            .id(ALLOW_APS)
            .boundary(ALLOW_APS)
            .session(ALLOW_QUERY),
        Case::new("boundary allows, session not", Implicit(NoSessionPolicy))
            .who(session())
            .id(ALLOW_APS)
            .boundary(ALLOW_APS)
            .session(ALLOW_WRITE),
        Case::new("resource policy names user", Allowed(Some(Resource))).resource_policy(RP_ALICE),
        Case::new(
            "resource policy for user ignores boundary",
            Allowed(Some(Resource)),
        )
        .boundary(ALLOW_WRITE)
        .resource_policy(RP_ALICE),
        Case::new(
            "resource policy names account only",
            Implicit(NoIdentityPolicy),
        )
        .resource_policy(RP_ACCOUNT),
        Case::new(
            "resource policy names account root ARN",
            Implicit(NoIdentityPolicy),
        )
        .resource_policy(RP_ACCOUNT_ROOT_ARN),
        Case::new("account delegation plus identity", Allowed(Some(Identity)))
            .id(ALLOW_QUERY)
            .resource_policy(RP_ACCOUNT),
        Case::new("resource policy names role", Allowed(Some(Resource)))
            .who(session())
            .resource_policy(RP_ROLE)
            .on("aps:RemoteWrite", WS),
        Case::new(
            "role grant filtered by session policy",
            Implicit(NoSessionPolicy),
        )
        .who(session())
        .resource_policy(RP_ROLE)
        .session(ALLOW_QUERY)
        .on("aps:RemoteWrite", WS),
        Case::new(
            "role grant filtered by boundary",
            Implicit(NoPermissionsBoundary),
        )
        .who(session())
        .resource_policy(RP_ROLE)
        .boundary(ALLOW_QUERY)
        .on("aps:RemoteWrite", WS),
        Case::new("session grant not filtered", Allowed(Some(Resource)))
            .who(session())
            .resource_policy(RP_SESSION)
            .session(ALLOW_QUERY)
            .on("aps:RemoteWrite", WS),
        Case::new("resource policy for everyone", Allowed(Some(Resource)))
            .resource_policy(RP_EVERYONE),
        Case::new(
            "resource policy for someone else",
            Implicit(NoIdentityPolicy),
        )
        .resource_policy(RP_BOB),
        Case::new("resource policy for a service", Implicit(NoIdentityPolicy))
            .resource_policy(RP_SERVICE),
        Case::new("resource policy other action", Implicit(NoIdentityPolicy))
            .resource_policy(RP_ALICE)
            .on("aps:RemoteWrite", WS),
        Case::new("resource deny beats identity allow", ExplicitDeny(Resource))
            .id(ALLOW_APS)
            .resource_policy(RP_DENY_ALL),
        Case::new("resource deny for someone else", Allowed(Some(Identity)))
            .id(ALLOW_APS)
            .resource_policy(RP_DENY_BOB),
        Case::new("NotPrincipal deny hits others", ExplicitDeny(Resource))
            .id(ALLOW_APS)
            .resource_policy(RP_DENY_NOT_ADMIN),
        Case::new(
            "NotPrincipal deny spares the named",
            Allowed(Some(Identity)),
        )
        .who(Principal {
            arn: "arn:aws:iam::111122223333:user/admin".into(),
            ..alice()
        })
        .id(ALLOW_APS)
        .resource_policy(RP_DENY_NOT_ADMIN),
        Case::new(
            "cross-account without resource policy",
            Implicit(NoResourcePolicy),
        )
        .id(ALLOW_APS)
        .on("aps:QueryMetrics", outsider_ws),
        Case::new(
            "cross-account caller without resource policy",
            Implicit(NoResourcePolicy),
        )
        .who(outsider())
        .id(ALLOW_APS),
        Case::new("cross-account with account grant", Allowed(Some(Identity)))
            .who(outsider())
            .id(ALLOW_APS)
            .resource_policy(RP_OUTSIDER_ACCOUNT),
        Case::new(
            "cross-account grant needs identity",
            Implicit(NoIdentityPolicy),
        )
        .who(outsider())
        .resource_policy(RP_OUTSIDER_ACCOUNT),
        Case::new(
            "cross-account grant to other account",
            Implicit(NoResourcePolicy),
        )
        .who(outsider())
        .id(ALLOW_APS)
        .resource_policy(RP_ACCOUNT),
        Case::new("principal tag variable", Allowed(Some(Identity))).id(ALLOW_TEAM_TAG),
        Case::new("principal type and userid", Allowed(Some(Identity)))
            .who(session())
            .id(ALLOW_ASSUMED_ROLE_TYPE),
        Case::new("principal type for users", Implicit(NoIdentityPolicy))
            .id(ALLOW_ASSUMED_ROLE_TYPE),
        Case::new(
            "principal arn of a session is the role",
            Allowed(Some(Identity)),
        )
        .who(session())
        .id(ALLOW_ROLE_ARN_COND),
        Case::new("principal account", Allowed(Some(Identity))).id(ALLOW_OWN_ACCOUNT),
        // Trust policies: a role's resource policy, evaluated for sts:AssumeRole on the role.
        Case::new("trust names the account only", Implicit(NoIdentityPolicy))
            .resource_policy(TRUST_ACCOUNT)
            .on("sts:AssumeRole", ROLE),
        Case::new(
            "trust names the account, identity allows",
            Allowed(Some(Identity)),
        )
        .id(ALLOW_ASSUME)
        .resource_policy(TRUST_ACCOUNT)
        .on("sts:AssumeRole", ROLE),
        Case::new("trust names the user", Allowed(Some(Resource)))
            .resource_policy(TRUST_ALICE)
            .on("sts:AssumeRole", ROLE),
        Case::new("trust names a service", Implicit(NoIdentityPolicy))
            .resource_policy(TRUST_SERVICE)
            .on("sts:AssumeRole", ROLE),
        // Permissions boundaries.
        Case::new("boundary wildcard action", Allowed(Some(Identity)))
            .id(ALLOW_APS)
            .boundary(BOUNDARY_QUERY_WILDCARD),
        Case::new("boundary wildcard misses", Implicit(NoPermissionsBoundary))
            .id(ALLOW_APS)
            .boundary(BOUNDARY_QUERY_WILDCARD)
            .on("aps:CreateWorkspace", "*"),
        Case::new("boundary NotAction allows others", Allowed(Some(Identity)))
            .id(ALLOW_APS)
            .boundary(BOUNDARY_NOT_DELETE),
        Case::new(
            "boundary NotAction leaves listed out",
            Implicit(NoPermissionsBoundary),
        )
        .id(ALLOW_APS)
        .boundary(BOUNDARY_NOT_DELETE)
        .on("aps:DeleteWorkspace", WS),
        Case::new("boundary condition holds", Allowed(Some(Identity)))
            .id(ALLOW_APS)
            .boundary(BOUNDARY_TEAM_TAG),
        Case::new("boundary condition fails", Implicit(NoPermissionsBoundary))
            .id(ALLOW_APS)
            .boundary(BOUNDARY_OTHER_TEAM),
        Case::new(
            "boundary NotResource excludes",
            Implicit(NoPermissionsBoundary),
        )
        .id(ALLOW_APS)
        .boundary(BOUNDARY_NOT_WS1),
        Case::new(
            "boundary NotResource includes others",
            Allowed(Some(Identity)),
        )
        .id(ALLOW_APS)
        .boundary(BOUNDARY_NOT_WS1)
        .on(
            "aps:QueryMetrics",
            "arn:aws:aps:us-east-1:111122223333:workspace/ws-2",
        ),
        Case::new(
            "boundary conditional deny",
            ExplicitDeny(PermissionsBoundary),
        )
        .id(ALLOW_APS)
        .boundary(BOUNDARY_DENY_TAGGED),
        Case::new(
            "boundary deny beats resource grant",
            ExplicitDeny(PermissionsBoundary),
        )
        .boundary(DENY_APS)
        .resource_policy(RP_ALICE),
        Case::new("identity deny with boundary", ExplicitDeny(Identity))
            .id(ALLOW_APS)
            .id(DENY_APS)
            .boundary(ALLOW_APS),
        Case::new(
            "boundary on account delegation",
            Implicit(NoPermissionsBoundary),
        )
        .id(ALLOW_APS)
        .boundary(ALLOW_WRITE)
        .resource_policy(RP_ACCOUNT),
        Case::new("boundary does not bind root", Allowed(None))
            .who(root())
            .boundary(ALLOW_WRITE),
        // Workspace resource policies in the same account.
        Case::new("resource policy principal list", Allowed(Some(Resource)))
            .resource_policy(RP_ALICE_WILDCARD),
        Case::new(
            "resource policy on another workspace",
            Implicit(NoIdentityPolicy),
        )
        .resource_policy(RP_ALICE_OTHER_WS),
        Case::new("identity on another workspace", Implicit(NoIdentityPolicy)).id(ALLOW_OTHER_WS),
        Case::new(
            "identity elsewhere, resource policy here",
            Allowed(Some(Resource)),
        )
        .id(ALLOW_OTHER_WS)
        .resource_policy(RP_ALICE),
        Case::new("resource policy NotAction", Allowed(Some(Resource)))
            .resource_policy(RP_ALICE_NOT_ACTION),
        Case::new(
            "resource policy NotAction leaves listed out",
            Implicit(NoIdentityPolicy),
        )
        .resource_policy(RP_ALICE_NOT_ACTION)
        .on("aps:RemoteWrite", WS),
        Case::new(
            "resource policy condition without source ip",
            Implicit(NoIdentityPolicy),
        )
        .resource_policy(RP_ALICE_FROM_NETWORK),
        Case::new("resource policy principal tag", Allowed(Some(Resource)))
            .resource_policy(RP_ALICE_TEAM_TAG),
        Case::new("identity deny beats resource grant", ExplicitDeny(Identity))
            .id(DENY_APS)
            .resource_policy(RP_ALICE),
        Case::new("resource deny condition not met", Allowed(Some(Identity)))
            .id(ALLOW_APS)
            .resource_policy(RP_DENY_OFF_NETWORK),
        Case::new(
            "resource allow and deny, allowed action",
            Allowed(Some(Resource)),
        )
        .resource_policy(RP_ALLOW_AND_DENY),
        Case::new(
            "resource allow and deny, denied action",
            ExplicitDeny(Resource),
        )
        .id(ALLOW_APS)
        .resource_policy(RP_ALLOW_AND_DENY)
        .on("aps:RemoteWrite", WS),
        Case::new("resource policy either suffices", Allowed(Some(Resource)))
            .id(ALLOW_WRITE)
            .resource_policy(RP_ALICE),
        Case::new(
            "session grant by resource policy with session deny",
            ExplicitDeny(Session),
        )
        .who(session())
        .session(DENY_APS)
        .resource_policy(RP_SESSION)
        .on("aps:RemoteWrite", WS),
        Case::new("principal account of outsider", Implicit(NoIdentityPolicy))
            .who(outsider())
            .id(ALLOW_OWN_ACCOUNT)
            .resource_policy(RP_OUTSIDER_ACCOUNT),
    ];
    assert!(cases.len() >= 50);
    let mut failures = Vec::new();
    for case in &cases {
        let identity: Vec<AttachedPolicy> = case
            .identity
            .iter()
            .map(|j| attached(j, PolicyKind::Identity))
            .collect();
        let boundary = case
            .boundary
            .map(|j| attached(j, PolicyKind::PermissionsBoundary));
        let session: Option<Vec<AttachedPolicy>> = case
            .session
            .as_ref()
            .map(|s| s.iter().map(|j| attached(j, PolicyKind::Session)).collect());
        let resource = case
            .resource_policy
            .map(|j| attached(j, PolicyKind::Resource));
        let mut ctx = RequestContext::for_principal(
            &case.principal,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600),
        );
        ctx.insert("aws:ResourceTag/team", "obs");
        let req = AuthzRequest {
            principal: &case.principal,
            action: case.action,
            resource: case.resource,
            context: &ctx,
        };
        let set = PolicySet {
            identity: &identity,
            permissions_boundary: boundary.as_ref(),
            session: session.as_deref(),
            resource: resource.as_ref(),
        };
        let decision = evaluate(&req, &set);
        let got = match &decision {
            Decision::Allowed(m) => Want::Allowed(m.as_ref().map(|m| m.kind)),
            Decision::ExplicitDeny(m) => Want::ExplicitDeny(m.kind),
            Decision::ImplicitDeny(r) => Want::Implicit(*r),
        };
        if got != case.want {
            failures.push(format!("{}: got {got:?}, want {:?}", case.name, case.want));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn decisions_explain_themselves() {
    let principal = alice();
    let ctx = RequestContext::for_principal(&principal, SystemTime::UNIX_EPOCH);
    let deny = attached(DENY_DELETE, PolicyKind::Identity);
    let allow = attached(ALLOW_APS, PolicyKind::Identity);
    let policies = [allow, deny];
    let set = PolicySet {
        identity: &policies,
        ..PolicySet::default()
    };
    let req = AuthzRequest {
        principal: &principal,
        action: "aps:DeleteWorkspace",
        resource: WS,
        context: &ctx,
    };
    let decision = evaluate(&req, &set);
    let Decision::ExplicitDeny(m) = &decision else {
        panic!("{decision:?}")
    };
    assert_eq!((m.index, m.sid.as_deref()), (0, Some("NoDelete")));
    assert_eq!(decision.eval_decision(), "explicitDeny");
    assert_eq!(
        decision
            .access_denied_message(&principal.arn, "aps:DeleteWorkspace", WS)
            .unwrap(),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: aps:DeleteWorkspace on resource: arn:aws:aps:us-east-1:111122223333:workspace/ws-1 with an explicit deny in an identity-based policy"
    );

    let empty = PolicySet::default();
    let create = AuthzRequest {
        principal: &principal,
        action: "aps:CreateWorkspace",
        resource: "arn:aws:aps:us-east-1:111122223333:workspace/*",
        context: &ctx,
    };
    let decision = evaluate(&create, &empty);
    assert_eq!(decision.eval_decision(), "implicitDeny");
    assert_eq!(
        decision
            .access_denied_message(&principal.arn, "aps:CreateWorkspace", create.resource)
            .unwrap(),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: aps:CreateWorkspace on resource: arn:aws:aps:us-east-1:111122223333:workspace/* because no identity-based policy allows the aps:CreateWorkspace action"
    );
    let boundary = Decision::ImplicitDeny(ImplicitDenyReason::NoPermissionsBoundary);
    assert_eq!(
        boundary
            .access_denied_message("arn:x", "aps:ListWorkspaces", "*")
            .unwrap(),
        "User: arn:x is not authorized to perform: aps:ListWorkspaces because no permissions boundary allows the aps:ListWorkspaces action"
    );
    let session_deny = Decision::ImplicitDeny(ImplicitDenyReason::NoSessionPolicy);
    assert!(
        session_deny
            .access_denied_message("arn:x", "a:b", "*")
            .unwrap()
            .ends_with("because no session policy allows the a:b action")
    );
    assert!(
        Decision::Allowed(None)
            .access_denied_message("arn:x", "a:b", "*")
            .is_none()
    );
}

#[test]
fn trust_policies_must_allow_the_caller() {
    use ImplicitDenyReason::*;
    // (identity policies, trust policy, caller, decision)
    let cases: &[(&[&str], &str, Principal, &str)] = &[
        (&[], TRUST_ALICE, alice(), "allowed"),
        (&[], TRUST_ACCOUNT, alice(), "implicitDeny"),
        (&[ALLOW_ASSUME], TRUST_ACCOUNT, alice(), "allowed"),
        (&[ALLOW_ASSUME], TRUST_SERVICE, alice(), "implicitDeny"),
        (&[ALLOW_ASSUME], TRUST_ALICE, outsider(), "implicitDeny"),
        (
            &[ALLOW_ASSUME, DENY_ALL_STS],
            TRUST_ALICE,
            alice(),
            "explicitDeny",
        ),
    ];
    for (i, (ids, trust, who, want)) in cases.iter().enumerate() {
        let identity: Vec<AttachedPolicy> = ids
            .iter()
            .map(|j| attached(j, PolicyKind::Identity))
            .collect();
        let trust = AttachedPolicy::new(
            "trust",
            PolicyKind::Resource,
            Arc::new(Policy::parse_trust(trust).unwrap()),
        );
        let ctx = RequestContext::for_principal(who, SystemTime::UNIX_EPOCH);
        let req = AuthzRequest {
            principal: who,
            action: "sts:AssumeRole",
            resource: ROLE,
            context: &ctx,
        };
        let set = PolicySet {
            identity: &identity,
            resource: Some(&trust),
            ..Default::default()
        };
        let decision = evaluate_trust(&req, &set);
        assert_eq!(decision.eval_decision(), *want, "case {i}: {decision:?}");
    }
    // An identity allow alone, which `evaluate` accepts for a workspace, does not let a caller
    // into a role whose trust policy names someone else.
    let identity = [attached(ALLOW_ASSUME, PolicyKind::Identity)];
    let trust = attached(TRUST_SERVICE, PolicyKind::Resource);
    let who = alice();
    let ctx = RequestContext::for_principal(&who, SystemTime::UNIX_EPOCH);
    let req = AuthzRequest {
        principal: &who,
        action: "sts:AssumeRole",
        resource: ROLE,
        context: &ctx,
    };
    let set = PolicySet {
        identity: &identity,
        resource: Some(&trust),
        ..Default::default()
    };
    assert!(evaluate(&req, &set).is_allowed());
    assert_eq!(
        evaluate_trust(&req, &set),
        Decision::ImplicitDeny(NoResourcePolicy)
    );
}
