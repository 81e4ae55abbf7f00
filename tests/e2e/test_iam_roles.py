"""Roles, tags, permissions boundaries, workspace resource policies and the policy simulator,
driven with the real `aws` CLI (and botocore-signed data-plane queries) against ampd."""

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ampd_harness import REGION, Ampd
from conftest import ACCESS_KEY, SECRET_KEY, aws_cli, client_for

ACCOUNT_ROOT = "arn:aws:iam::000000000000:root"
QUERY_ACCESS = "arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess"
FULL_ACCESS = "arn:aws:iam::aws:policy/AmazonPrometheusFullAccess"


def trust(principal):
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
        ],
    }


READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["aps:List*", "aps:Describe*"], "Resource": "*"}
    ],
}


@pytest.fixture(scope="module")
def server():
    s = Ampd().start()
    yield s
    s.close()


@pytest.fixture(scope="module")
def cli(server, tmp_path_factory):
    """Returns `run(*args, key=(id, secret), expect_ok=True)` driving the aws CLI."""
    home = tmp_path_factory.mktemp("awshome")
    base = aws_cli(server.url, home)

    def run(*args, key=(ACCESS_KEY, SECRET_KEY), expect_ok=True):
        if expect_ok:
            return base(*args, key=key)
        proc = base(*args, key=key, expect_ok=False)
        assert proc.returncode != 0, f"aws {' '.join(args)} unexpectedly succeeded"
        return proc.stderr

    return run


# Setup that is not under test goes through boto3 in-process: each CLI call costs a second.
def user_with_key(server, name, *policy_arns):
    iam = client_for(server, "iam")
    iam.create_user(UserName=name)
    for arn in policy_arns:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def workspace(server, alias):
    amp = client_for(server)
    ws = amp.create_workspace(alias=alias)["workspaceId"]
    deadline = time.monotonic() + 30
    while amp.describe_workspace(workspaceId=ws)["workspace"]["status"]["statusCode"] != "ACTIVE":
        assert time.monotonic() < deadline, f"{ws} never became ACTIVE"
        time.sleep(0.1)
    return ws


def query(server, key, ws, promql="up"):
    """Runs an instant query signed with `key`; returns (status, error type, JSON body)."""
    url = f"{server.url}/workspaces/{ws}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(*key), "aps", REGION).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, headers=dict(prepared.headers), method="GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, None, json.loads(res.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("x-amzn-ErrorType"), json.loads(e.read() or b"null")


def test_roles_with_trust_policies_and_tags(server, cli):
    role = cli(
        "iam", "create-role", "--role-name", "remote-writer", "--path", "/metrics/",
        "--assume-role-policy-document", json.dumps(trust({"AWS": ACCOUNT_ROOT})),
        "--description", "writes samples", "--max-session-duration", "7200",
        "--tags", "Key=team,Value=obs",
    )["Role"]
    assert role["Arn"] == "arn:aws:iam::000000000000:role/metrics/remote-writer"
    assert role["RoleId"].startswith("AROA")
    err = cli(
        "iam", "create-role", "--role-name", "bad",
        "--assume-role-policy-document", json.dumps(READ_ONLY), expect_ok=False,
    )
    assert "MalformedPolicyDocument" in err

    service_trust = trust({"Service": "aps.amazonaws.com"})
    cli(
        "iam", "update-assume-role-policy", "--role-name", "remote-writer",
        "--policy-document", json.dumps(service_trust),
    )
    cli("iam", "update-role", "--role-name", "remote-writer", "--max-session-duration", "3600")
    got = cli("iam", "get-role", "--role-name", "remote-writer")["Role"]
    assert got["AssumeRolePolicyDocument"] == service_trust
    assert got["MaxSessionDuration"] == 3600
    assert got["Description"] == "writes samples"
    assert got["Tags"] == [{"Key": "team", "Value": "obs"}]

    cli(
        "iam", "tag-role", "--role-name", "remote-writer",
        "--tags", "Key=env,Value=dev", "Key=owner,Value=sre",
    )
    cli("iam", "untag-role", "--role-name", "remote-writer", "--tag-keys", "owner")
    tags = cli("iam", "list-role-tags", "--role-name", "remote-writer")["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "dev"), ("team", "obs")]

    cli(
        "iam", "put-role-policy", "--role-name", "remote-writer", "--policy-name", "read",
        "--policy-document", json.dumps(READ_ONLY),
    )
    cli("iam", "attach-role-policy", "--role-name", "remote-writer", "--policy-arn", QUERY_ACCESS)
    assert cli("iam", "list-role-policies", "--role-name", "remote-writer")["PolicyNames"] == ["read"]
    attached = cli("iam", "list-attached-role-policies", "--role-name", "remote-writer")
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [QUERY_ACCESS]
    entities = cli("iam", "list-entities-for-policy", "--policy-arn", QUERY_ACCESS)
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == ["remote-writer"]

    err = cli("iam", "delete-role", "--role-name", "remote-writer", expect_ok=False)
    assert "DeleteConflict" in err
    iam = client_for(server, "iam")
    iam.delete_role_policy(RoleName="remote-writer", PolicyName="read")
    iam.detach_role_policy(RoleName="remote-writer", PolicyArn=QUERY_ACCESS)
    cli("iam", "delete-role", "--role-name", "remote-writer")
    assert cli("iam", "list-roles")["Roles"] == []

    user = cli("iam", "create-user", "--user-name", "tagged", "--tags", "Key=team,Value=obs")["User"]
    assert user["Tags"] == [{"Key": "team", "Value": "obs"}]
    cli("iam", "tag-user", "--user-name", "tagged", "--tags", "Key=env,Value=prod")
    cli("iam", "untag-user", "--user-name", "tagged", "--tag-keys", "team")
    assert cli("iam", "list-user-tags", "--user-name", "tagged")["Tags"] == [
        {"Key": "env", "Value": "prod"}
    ]


def test_query_access_user_can_query_but_not_create(server, cli):
    key = user_with_key(server, "grafana", QUERY_ACCESS)
    ws = workspace(server, "queried")
    status, _, body = query(server, key, ws)
    assert status == 200 and body["status"] == "success", body
    err = cli("amp", "create-workspace", "--alias", "nope", key=key, expect_ok=False)
    assert "AccessDeniedException" in err
    assert "because no identity-based policy allows the aps:CreateWorkspace action" in err


def test_permissions_boundary_narrows_a_user(server, cli):
    boundary = cli(
        "iam", "create-policy", "--policy-name", "read-only-boundary",
        "--policy-document", json.dumps(READ_ONLY),
    )["Policy"]["Arn"]
    key = user_with_key(server, "bounded", FULL_ACCESS)
    cli(
        "iam", "put-user-permissions-boundary", "--user-name", "bounded",
        "--permissions-boundary", boundary,
    )
    user = cli("iam", "get-user", "--user-name", "bounded")["User"]
    assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary

    # AmazonPrometheusFullAccess allows aps:CreateWorkspace, the boundary does not.
    err = cli("amp", "create-workspace", "--alias", "bounded", key=key, expect_ok=False)
    assert "AccessDeniedException" in err
    assert "because no permissions boundary allows the aps:CreateWorkspace action" in err
    assert "workspaces" in cli("amp", "list-workspaces", key=key)

    sim = cli(
        "iam", "simulate-principal-policy",
        "--policy-source-arn", "arn:aws:iam::000000000000:user/bounded",
        "--action-names", "aps:ListWorkspaces", "aps:CreateWorkspace",
    )["EvaluationResults"]
    by_action = {r["EvalActionName"]: r for r in sim}
    assert by_action["aps:ListWorkspaces"]["EvalDecision"] == "allowed"
    assert by_action["aps:ListWorkspaces"]["MatchedStatements"][0]["SourcePolicyId"] == FULL_ACCESS
    created = by_action["aps:CreateWorkspace"]
    assert created["EvalDecision"] == "implicitDeny"
    assert created["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}

    err = cli("iam", "delete-policy", "--policy-arn", boundary, expect_ok=False)
    assert "DeleteConflict" in err
    cli("iam", "delete-user-permissions-boundary", "--user-name", "bounded")
    assert "PermissionsBoundary" not in cli("iam", "get-user", "--user-name", "bounded")["User"]
    ws = cli("amp", "create-workspace", "--alias", "unbounded", key=key)["workspaceId"]
    assert ws.startswith("ws-")


def test_workspace_resource_policy_grants_and_denies(server, cli):
    key = user_with_key(server, "viewer")
    granted = workspace(server, "shared")
    other = workspace(server, "private")
    viewer_arn = "arn:aws:iam::000000000000:user/viewer"
    assert query(server, key, granted)[:2] == (403, "AccessDeniedException")

    grant = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": viewer_arn},
            "Action": "aps:QueryMetrics",
            "Resource": f"arn:aws:aps:{REGION}:000000000000:workspace/{granted}",
        }],
    }
    cli(
        "amp", "put-resource-policy", "--workspace-id", granted,
        "--policy-document", json.dumps(grant),
    )
    status, _, body = query(server, key, granted)
    assert status == 200 and body["status"] == "success", body
    status, code, body = query(server, key, other)
    assert (status, code) == (403, "AccessDeniedException")
    # The grant is aps:QueryMetrics only: the control plane stays closed.
    err = cli("amp", "describe-workspace", "--workspace-id", granted, key=key, expect_ok=False)
    assert "AccessDeniedException" in err

    # An identity policy opens every workspace; a resource-policy Deny closes one again.
    client_for(server, "iam").attach_user_policy(UserName="viewer", PolicyArn=QUERY_ACCESS)
    assert query(server, key, other)[0] == 200
    deny = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "NoViewer",
            "Effect": "Deny",
            "Principal": {"AWS": viewer_arn},
            "Action": "aps:*",
            "Resource": "*",
        }],
    }
    cli(
        "amp", "put-resource-policy", "--workspace-id", other,
        "--policy-document", json.dumps(deny),
    )
    status, code, body = query(server, key, other)
    assert (status, code) == (403, "AccessDeniedException")
    assert body["message"].endswith("with an explicit deny in a resource-based policy"), body
    assert query(server, key, granted)[0] == 200

    sim = cli(
        "iam", "simulate-principal-policy", "--policy-source-arn", viewer_arn,
        "--action-names", "aps:QueryMetrics",
        "--resource-arns", f"arn:aws:aps:{REGION}:000000000000:workspace/{other}",
        "--resource-policy", json.dumps(deny),
    )["EvaluationResults"]
    assert sim[0]["EvalDecision"] == "explicitDeny"
    assert sim[0]["MatchedStatements"][0]["SourcePolicyType"] == "resource"
