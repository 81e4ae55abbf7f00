//! Roles, tags, permissions boundaries and workspace resource policies through the router.

use super::*;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
const ALLOW_APS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:*","Resource":"*"}]}"#;
const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["aps:List*","aps:Describe*"],"Resource":"*"}]}"#;

impl TestApp {
    /// Runs IAM calls as root, each of which must succeed.
    async fn iam_ok(&self, calls: &[&[(&str, &str)]]) {
        for params in calls {
            let (s, body) = self.iam(params).await;
            assert_eq!(s, StatusCode::OK, "{params:?}: {body}");
        }
    }

    /// Creates a user with an access key; returns `(key id, secret)`.
    async fn user_with_key(&self, name: &str) -> (String, String) {
        self.iam_ok(&[&[("Action", "CreateUser"), ("UserName", name)]])
            .await;
        let (_, created) = self
            .iam(&[("Action", "CreateAccessKey"), ("UserName", name)])
            .await;
        (
            xml_text(&created, "AccessKeyId").to_owned(),
            xml_text(&created, "SecretAccessKey").to_owned(),
        )
    }

    /// The account's identities over a second connection to the test database.
    async fn identities(&self) -> Identities {
        let sqlite = SqliteStore::open(&self._dir.path().join("metadata.db"))
            .await
            .unwrap();
        Identities::new(
            Arc::new(sqlite),
            SecretSealer::from_root(&ampd_kms::RootKey::generate().unwrap()).unwrap(),
            RootAccessKey {
                access_key_id: ROOT_KEY_ID.into(),
                secret: SecretKey::new(ROOT_SECRET),
            },
            "123456789012",
        )
    }
}

#[tokio::test]
async fn roles_hold_trust_and_identity_policies() {
    let t = test_app().await;
    let (s, body) = t
        .iam(&[
            ("Action", "CreateRole"),
            ("RoleName", "writer"),
            ("Path", "/metrics/"),
            ("AssumeRolePolicyDocument", TRUST),
            ("Description", "remote write"),
            ("MaxSessionDuration", "7200"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "obs"),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        xml_text(&body, "Arn"),
        "arn:aws:iam::123456789012:role/metrics/writer"
    );
    assert!(xml_text(&body, "RoleId").starts_with("AROA"));
    assert_eq!(xml_text(&body, "MaxSessionDuration"), "7200");
    for (params, code) in [
        (
            &[
                ("Action", "CreateRole"),
                ("RoleName", "writer"),
                ("AssumeRolePolicyDocument", TRUST),
            ][..],
            "EntityAlreadyExists",
        ),
        (
            &[
                ("Action", "CreateRole"),
                ("RoleName", "bad"),
                ("AssumeRolePolicyDocument", ALLOW_APS),
            ],
            "MalformedPolicyDocument",
        ),
        (
            &[
                ("Action", "CreateRole"),
                ("RoleName", "long"),
                ("AssumeRolePolicyDocument", TRUST),
                ("MaxSessionDuration", "60"),
            ],
            "ValidationError",
        ),
        (
            &[
                ("Action", "CreateRole"),
                ("RoleName", "bounded"),
                ("AssumeRolePolicyDocument", TRUST),
                (
                    "PermissionsBoundary",
                    "arn:aws:iam::123456789012:policy/none",
                ),
            ],
            "NoSuchEntity",
        ),
        (
            &[("Action", "GetRole"), ("RoleName", "nobody")],
            "NoSuchEntity",
        ),
    ] {
        let (_, body) = t.iam(params).await;
        assert_eq!(xml_text(&body, "Code"), code, "{params:?}");
    }

    let full = "arn:aws:iam::aws:policy/AmazonPrometheusFullAccess";
    t.iam_ok(&[
        &[
            ("Action", "PutRolePolicy"),
            ("RoleName", "writer"),
            ("PolicyName", "read"),
            ("PolicyDocument", READ_ONLY),
        ],
        &[
            ("Action", "AttachRolePolicy"),
            ("RoleName", "writer"),
            ("PolicyArn", full),
        ],
        &[
            ("Action", "UpdateRole"),
            ("RoleName", "writer"),
            ("MaxSessionDuration", "3600"),
        ],
        &[
            ("Action", "UpdateAssumeRolePolicy"),
            ("RoleName", "writer"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"aps.amazonaws.com"},"Action":"sts:AssumeRole"}}"#,
            ),
        ],
    ])
    .await;
    let (_, body) = t
        .iam(&[("Action", "GetRole"), ("RoleName", "WRITER")])
        .await;
    assert_eq!(xml_text(&body, "MaxSessionDuration"), "3600");
    assert_eq!(xml_text(&body, "Description"), "remote write");
    assert!(xml_text(&body, "AssumeRolePolicyDocument").contains("aps.amazonaws.com"));
    assert!(body.contains("<Key>team</Key><Value>obs</Value>"), "{body}");
    let (_, body) = t.iam(&[("Action", "ListRoles")]).await;
    assert!(body.contains("<RoleName>writer</RoleName>"), "{body}");
    let (_, body) = t
        .iam(&[("Action", "ListEntitiesForPolicy"), ("PolicyArn", full)])
        .await;
    assert!(
        body.contains("<PolicyRoles><member><RoleName>writer</RoleName>"),
        "{body}"
    );
    let (_, body) = t
        .iam(&[("Action", "ListRolePolicies"), ("RoleName", "writer")])
        .await;
    assert!(body.contains("<member>read</member>"), "{body}");

    // What STS builds sessions from: the role and its identity policies.
    let ids = t.identities().await;
    let role = ids.role("writer").await.unwrap();
    assert_eq!(role.max_session_duration, 3600);
    let names: Vec<String> = ids
        .role_policies("writer")
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["read", full]);
    // A session of the role gets the role's policies.
    let session = ampd_iam::Principal {
        account_id: "123456789012".into(),
        arn: "arn:aws:sts::123456789012:assumed-role/writer/s".into(),
        user_id: format!("{}:s", role.role_id),
        user_name: None,
        kind: ampd_iam::PrincipalKind::AssumedRole {
            role_arn: role.arn.clone(),
            session_name: "s".into(),
        },
        tags: role.tags.clone(),
    };
    assert_eq!(ids.identity_policies(&session).await.unwrap().len(), 2);

    let (s, body) = t
        .iam(&[("Action", "DeleteRole"), ("RoleName", "writer")])
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert_eq!(xml_text(&body, "Code"), "DeleteConflict");
    t.iam_ok(&[
        &[
            ("Action", "DeleteRolePolicy"),
            ("RoleName", "writer"),
            ("PolicyName", "read"),
        ],
        &[
            ("Action", "DetachRolePolicy"),
            ("RoleName", "writer"),
            ("PolicyArn", full),
        ],
        &[("Action", "DeleteRole"), ("RoleName", "writer")],
    ])
    .await;

    // A session of the deleted role resolves to no permissions rather than an error.
    assert!(ids.identity_policies(&session).await.unwrap().is_empty());
    assert!(ids.permissions_boundary(&session).await.unwrap().is_none());
}

#[tokio::test]
async fn principal_tags_reach_conditions() {
    let t = test_app().await;
    let (key_id, secret) = t.user_with_key("tagged").await;
    let by_team = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"obs"}}}]}"#;
    t.iam_ok(&[
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "tagged"),
            ("PolicyName", "team"),
            ("PolicyDocument", by_team),
        ],
        &[
            ("Action", "TagUser"),
            ("UserName", "tagged"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "obs"),
        ],
    ])
    .await;
    let (_, body) = t
        .iam(&[("Action", "ListUserTags"), ("UserName", "tagged")])
        .await;
    assert!(body.contains("<Key>team</Key><Value>obs</Value>"), "{body}");
    let r = t
        .call_as(&key_id, &secret, Method::GET, "/workspaces", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    t.iam_ok(&[&[
        ("Action", "UntagUser"),
        ("UserName", "tagged"),
        ("TagKeys.member.1", "team"),
    ]])
    .await;
    let r = t
        .call_as(&key_id, &secret, Method::GET, "/workspaces", None)
        .await;
    assert_eq!(r.error_type(), "AccessDeniedException");

    // IAM checks its own calls against the addressed user's tags.
    t.iam_ok(&[
        &[
            ("Action", "TagUser"),
            ("UserName", "tagged"),
            ("Tags.member.1.Key", "protected"),
            ("Tags.member.1.Value", "yes"),
        ],
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "tagged"),
            ("PolicyName", "iam"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"StringEquals":{"iam:ResourceTag/protected":"yes"}}}]}"#,
            ),
        ],
    ])
    .await;
    let form = "Action=ListUserTags&UserName=tagged&Version=2010-05-08";
    let req = Request::post("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let res = t
        .app
        .clone()
        .oneshot(signed(req, &key_id, &secret, "iam").await)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    t.iam_ok(&[
        &[
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", TRUST),
        ],
        &[
            ("Action", "TagRole"),
            ("RoleName", "r"),
            ("Tags.member.1.Key", "env"),
            ("Tags.member.1.Value", "dev"),
        ],
        &[
            ("Action", "UntagRole"),
            ("RoleName", "r"),
            ("TagKeys.member.1", "absent"),
        ],
    ])
    .await;
    let (_, body) = t
        .iam(&[("Action", "ListRoleTags"), ("RoleName", "r")])
        .await;
    assert!(body.contains("<Key>env</Key><Value>dev</Value>"), "{body}");
    let (_, body) = t
        .iam(&[
            ("Action", "TagRole"),
            ("RoleName", "r"),
            ("Tags.member.1.Key", "aws:reserved"),
            ("Tags.member.1.Value", "x"),
        ])
        .await;
    assert_eq!(xml_text(&body, "Code"), "InvalidInput");
}

#[tokio::test]
async fn permissions_boundaries_narrow_identity_policies() {
    let t = test_app().await;
    let (key_id, secret) = t.user_with_key("bounded").await;
    let (_, created) = t
        .iam(&[
            ("Action", "CreatePolicy"),
            ("PolicyName", "read-only"),
            ("PolicyDocument", READ_ONLY),
        ])
        .await;
    let boundary = xml_text(&created, "Arn").to_owned();
    t.iam_ok(&[
        &[
            ("Action", "AttachUserPolicy"),
            ("UserName", "bounded"),
            (
                "PolicyArn",
                "arn:aws:iam::aws:policy/AmazonPrometheusFullAccess",
            ),
        ],
        &[
            ("Action", "PutUserPermissionsBoundary"),
            ("UserName", "bounded"),
            ("PermissionsBoundary", &boundary),
        ],
    ])
    .await;
    let (_, body) = t
        .iam(&[("Action", "GetUser"), ("UserName", "bounded")])
        .await;
    assert_eq!(xml_text(&body, "PermissionsBoundaryArn"), boundary);
    let (_, body) = t
        .iam(&[("Action", "GetPolicy"), ("PolicyArn", &boundary)])
        .await;
    assert_eq!(xml_text(&body, "PermissionsBoundaryUsageCount"), "1");
    let (_, body) = t
        .iam(&[
            ("Action", "ListPolicies"),
            ("Scope", "Local"),
            ("OnlyAttached", "true"),
            ("PolicyUsageFilter", "PermissionsBoundary"),
        ])
        .await;
    assert!(
        body.contains("<PolicyName>read-only</PolicyName>"),
        "{body}"
    );
    let (_, body) = t
        .iam(&[
            ("Action", "ListPolicies"),
            ("OnlyAttached", "true"),
            ("PolicyUsageFilter", "PermissionsPolicy"),
        ])
        .await;
    assert!(
        !body.contains("<PolicyName>read-only</PolicyName>"),
        "{body}"
    );
    let (s, _) = t
        .iam(&[("Action", "DeletePolicy"), ("PolicyArn", &boundary)])
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    let create = || {
        t.call_as(
            &key_id,
            &secret,
            Method::POST,
            "/workspaces",
            Some(json!({"alias": "b"})),
        )
    };
    let r = create().await;
    assert_eq!(r.error_type(), "AccessDeniedException");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .ends_with("because no permissions boundary allows the aps:CreateWorkspace action"),
        "{}",
        r.body
    );
    let r = t
        .call_as(&key_id, &secret, Method::GET, "/workspaces", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    t.iam_ok(&[&[
        ("Action", "DeleteUserPermissionsBoundary"),
        ("UserName", "bounded"),
    ]])
    .await;
    assert_eq!(create().await.status, StatusCode::ACCEPTED);

    // A role's boundary is stored and shown the same way.
    t.iam_ok(&[
        &[
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", TRUST),
            ("PermissionsBoundary", &boundary),
        ],
        &[
            ("Action", "DeleteRolePermissionsBoundary"),
            ("RoleName", "r"),
        ],
        &[
            ("Action", "PutRolePermissionsBoundary"),
            ("RoleName", "r"),
            (
                "PermissionsBoundary",
                "arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess",
            ),
        ],
    ])
    .await;
    let (_, body) = t.iam(&[("Action", "GetRole"), ("RoleName", "r")]).await;
    assert_eq!(
        xml_text(&body, "PermissionsBoundaryArn"),
        "arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess"
    );
}

#[tokio::test]
async fn workspace_resource_policies_grant_and_deny() {
    let app = test_app().await;
    let t = &app;
    let (key_id, secret) = t.user_with_key("reader").await;
    let granted = t.active_workspace().await;
    let other = t.active_workspace().await;
    let (k, sk) = (key_id.as_str(), secret.as_str());
    let query = |ws: &str| {
        let uri = format!("/workspaces/{ws}/api/v1/query?query=up");
        async move { t.call_as(k, sk, Method::GET, &uri, None).await }
    };
    assert_eq!(query(&granted).await.error_type(), "AccessDeniedException");

    let grant = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:user/reader"},
        "Action": ["aps:QueryMetrics", "aps:DescribeWorkspace"],
        "Resource": format!("arn:aws:aps:us-east-1:123456789012:workspace/{granted}"),
    }]});
    let put = |ws: String, doc: Value| async move {
        let body = json!({"policyDocument": doc.to_string()});
        t.call(Method::PUT, &format!("/workspaces/{ws}/policy"), Some(body))
            .await
    };
    let r = put(granted.clone(), grant).await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = query(&granted).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(query(&other).await.error_type(), "AccessDeniedException");
    // As in AMP, a workspace policy shares only the Prometheus-compatible APIs: its grant of
    // aps:DescribeWorkspace counts for nothing.
    let describe = |ws: &str| {
        let uri = format!("/workspaces/{ws}");
        async move { t.call_as(k, sk, Method::GET, &uri, None).await }
    };
    assert_eq!(
        describe(&granted).await.error_type(),
        "AccessDeniedException"
    );

    // An explicit deny in the resource policy beats an identity grant.
    t.iam_ok(&[&[
        ("Action", "PutUserPolicy"),
        ("UserName", "reader"),
        ("PolicyName", "all"),
        ("PolicyDocument", ALLOW_APS),
    ]])
    .await;
    assert_eq!(query(&other).await.status, StatusCode::OK);
    let deny = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["aps:QueryMetrics", "aps:DescribeWorkspace"],
        "Resource": "*",
    }]});
    let r = put(other.clone(), deny).await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = query(&other).await;
    assert_eq!(r.error_type(), "AccessDeniedException");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .ends_with("with an explicit deny in a resource-based policy"),
        "{}",
        r.body
    );
    // Its denies reach the control plane too.
    assert_eq!(describe(&granted).await.status, StatusCode::OK);
    assert_eq!(describe(&other).await.error_type(), "AccessDeniedException");
    // The root user keeps access to its own workspace.
    let r = t
        .call(
            Method::GET,
            &format!("/workspaces/{other}/api/v1/query?query=up"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn the_simulator_explains_decisions() {
    let app = test_app().await;
    let t = &app;
    let query_access = "arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess";
    t.iam_ok(&[
        &[("Action", "CreateUser"), ("UserName", "sim")],
        &[
            ("Action", "AttachUserPolicy"),
            ("UserName", "sim"),
            ("PolicyArn", query_access),
        ],
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "sim"),
            ("PolicyName", "no-delete"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Action":"aps:Delete*","Resource":"*"}]}"#,
            ),
        ],
    ])
    .await;
    let ws = "arn:aws:aps:us-east-1:123456789012:workspace/ws-1";
    let (s, body) = t
        .iam(&[
            ("Action", "SimulatePrincipalPolicy"),
            ("PolicySourceArn", "arn:aws:iam::123456789012:user/sim"),
            ("ActionNames.member.1", "aps:QueryMetrics"),
            ("ActionNames.member.2", "aps:CreateWorkspace"),
            ("ActionNames.member.3", "aps:DeleteWorkspace"),
            ("ResourceArns.member.1", ws),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let results: Vec<&str> = body.split("<EvalActionName>").skip(1).collect();
    assert_eq!(results.len(), 3, "{body}");
    assert!(results[0].contains("<EvalDecision>allowed</EvalDecision>"));
    assert!(results[0].contains(&format!(
        "<SourcePolicyId>{query_access}</SourcePolicyId><SourcePolicyType>aws-managed</SourcePolicyType>"
    )));
    assert!(results[1].contains("<EvalDecision>implicitDeny</EvalDecision>"));
    assert!(results[2].contains("<EvalDecision>explicitDeny</EvalDecision>"));
    assert!(results[2].contains(
        "<SourcePolicyId>no-delete</SourcePolicyId><SourcePolicyType>user</SourcePolicyType>"
    ));

    // A boundary given in the request narrows what the stored policies allow.
    let (_, body) = t
        .iam(&[
            ("Action", "SimulatePrincipalPolicy"),
            ("PolicySourceArn", "arn:aws:iam::123456789012:user/sim"),
            ("ActionNames.member.1", "aps:QueryMetrics"),
            ("PermissionsBoundaryPolicyInputList.member.1", READ_ONLY),
        ])
        .await;
    assert!(
        body.contains("<EvalDecision>implicitDeny</EvalDecision>"),
        "{body}"
    );
    assert!(
        body.contains("<AllowedByPermissionsBoundary>false</AllowedByPermissionsBoundary>"),
        "{body}"
    );

    // Custom policies with context entries and a resource policy.
    let by_ip = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:RemoteWrite","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
    let custom = |ip: &'static str, resource_policy: Option<&'static str>| {
        let mut params = vec![
            ("Action", "SimulateCustomPolicy"),
            ("PolicyInputList.member.1", by_ip),
            ("ActionNames.member.1", "aps:RemoteWrite"),
            ("ResourceArns.member.1", ws),
            ("ContextEntries.member.1.ContextKeyName", "aws:SourceIp"),
            ("ContextEntries.member.1.ContextKeyValues.member.1", ip),
            ("ContextEntries.member.1.ContextKeyType", "ip"),
        ];
        if let Some(p) = resource_policy {
            params.push(("ResourcePolicy", p));
            params.push(("CallerArn", "arn:aws:iam::123456789012:user/sim"));
        }
        async move { t.iam(&params).await.1 }
    };
    assert!(
        custom("10.1.2.3", None)
            .await
            .contains("<EvalDecision>allowed</EvalDecision>")
    );
    assert!(
        custom("192.0.2.1", None)
            .await
            .contains("<EvalDecision>implicitDeny</EvalDecision>")
    );
    let (_, body) = t
        .iam(&[
            ("Action", "SimulateCustomPolicy"),
            ("PolicyInputList.member.1", by_ip),
            ("ActionNames.member.1", "aps:RemoteWrite"),
        ])
        .await;
    assert!(
        body.contains("<MissingContextValues><member>aws:SourceIp</member></MissingContextValues>"),
        "{body}"
    );
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"aps:RemoteWrite","Resource":"*"}]}"#;
    let body = custom("10.1.2.3", Some(deny)).await;
    assert!(
        body.contains("<EvalDecision>explicitDeny</EvalDecision>"),
        "{body}"
    );
    assert!(
        body.contains("<SourcePolicyType>resource</SourcePolicyType>"),
        "{body}"
    );

    // Roles and groups are simulated from their own policies.
    t.iam_ok(&[
        &[
            ("Action", "CreateRole"),
            ("RoleName", "sim-role"),
            ("AssumeRolePolicyDocument", TRUST),
        ],
        &[
            ("Action", "PutRolePolicy"),
            ("RoleName", "sim-role"),
            ("PolicyName", "all"),
            ("PolicyDocument", ALLOW_APS),
        ],
        &[("Action", "CreateGroup"), ("GroupName", "sim-group")],
        &[
            ("Action", "AttachGroupPolicy"),
            ("GroupName", "sim-group"),
            ("PolicyArn", query_access),
        ],
    ])
    .await;
    for (arn, want) in [
        (
            "arn:aws:iam::123456789012:role/sim-role",
            "<SourcePolicyId>all</SourcePolicyId><SourcePolicyType>role</SourcePolicyType>",
        ),
        (
            "arn:aws:iam::123456789012:group/sim-group",
            "<SourcePolicyType>aws-managed</SourcePolicyType>",
        ),
    ] {
        let (_, body) = t
            .iam(&[
                ("Action", "SimulatePrincipalPolicy"),
                ("PolicySourceArn", arn),
                ("ActionNames.member.1", "aps:QueryMetrics"),
            ])
            .await;
        assert!(
            body.contains("<EvalDecision>allowed</EvalDecision>"),
            "{body}"
        );
        assert!(body.contains(want), "{arn}: {body}");
    }

    let (_, body) = t
        .iam(&[
            ("Action", "SimulatePrincipalPolicy"),
            ("PolicySourceArn", "arn:aws:iam::123456789012:user/nobody"),
            ("ActionNames.member.1", "aps:QueryMetrics"),
        ])
        .await;
    assert_eq!(xml_text(&body, "Code"), "NoSuchEntity");
}
