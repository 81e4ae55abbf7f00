"""IAM with the AWS CLI: the root user creates a user with limited rights, who then finds out."""

import json
import os
import subprocess

import pytest

from ampd_harness import REGION, Ampd
from conftest import ACCESS_KEY, SECRET_KEY

READ_WORKSPACES = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["aps:ListWorkspaces", "aps:DescribeWorkspace"],
            "Resource": "*",
        }
    ],
}
DENY_PROD = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Action": "aps:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/env": "prod"}},
        }
    ],
}


@pytest.fixture(scope="module")
def server():
    s = Ampd().start()
    yield s
    s.close()


@pytest.fixture(scope="module")
def cli(server, tmp_path_factory):
    """Returns `run(key_id, secret, *args, expect_ok=True)` driving the aws CLI."""
    home = tmp_path_factory.mktemp("awshome")

    def run(key_id, secret, *args, expect_ok=True):
        env = {
            **os.environ,
            "HOME": str(home),
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_MAX_ATTEMPTS": "1",
        }
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SESSION_TOKEN", None)
        proc = subprocess.run(
            ["aws", *args, "--endpoint-url", server.url, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if expect_ok:
            assert proc.returncode == 0, f"aws {' '.join(args)} failed:\n{proc.stderr}"
            return json.loads(proc.stdout) if proc.stdout.strip() else {}
        assert proc.returncode != 0, f"aws {' '.join(args)} unexpectedly succeeded"
        return proc.stderr

    return run


def test_user_rights_follow_policies_and_key_status(cli):
    def root(*args, **kw):
        return cli(ACCESS_KEY, SECRET_KEY, *args, **kw)

    user = root("iam", "create-user", "--user-name", "grafana")["User"]
    assert user["Arn"].endswith(":user/grafana")
    root(
        "iam", "attach-user-policy", "--user-name", "grafana",
        "--policy-arn", "arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess",
    )
    # AmazonPrometheusQueryAccess grants queries only; reading workspaces takes a policy of ours.
    policy = root(
        "iam", "create-policy", "--policy-name", "read-workspaces",
        "--policy-document", json.dumps(READ_WORKSPACES),
    )["Policy"]
    root("iam", "attach-user-policy", "--user-name", "grafana", "--policy-arn", policy["Arn"])
    attached = root("iam", "list-attached-user-policies", "--user-name", "grafana")
    assert sorted(p["PolicyName"] for p in attached["AttachedPolicies"]) == [
        "AmazonPrometheusQueryAccess",
        "read-workspaces",
    ]
    version = root(
        "iam", "get-policy-version", "--version-id", "v1",
        "--policy-arn", "arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess",
    )["PolicyVersion"]
    assert "aps:QueryMetrics" in version["Document"]["Statement"][0]["Action"]
    # The CLI follows Marker until IsTruncated is false.
    aws_policies = root("iam", "list-policies", "--scope", "AWS", "--page-size", "1")["Policies"]
    assert len(aws_policies) == 4
    assert "AmazonPrometheusRemoteWriteAccess" in {p["PolicyName"] for p in aws_policies}
    key = root("iam", "create-access-key", "--user-name", "grafana")["AccessKey"]
    assert key["Status"] == "Active" and len(key["SecretAccessKey"]) == 40

    def grafana(*args, **kw):
        return cli(key["AccessKeyId"], key["SecretAccessKey"], *args, **kw)

    prod = root("amp", "create-workspace", "--alias", "prod", "--tags", "env=prod")["workspaceId"]
    dev = root("amp", "create-workspace", "--alias", "dev", "--tags", "env=dev")["workspaceId"]

    listed = grafana("amp", "list-workspaces")["workspaces"]
    assert {w["workspaceId"] for w in listed} >= {prod, dev}
    err = grafana("amp", "create-workspace", "--alias", "nope", expect_ok=False)
    assert "AccessDeniedException" in err
    assert "is not authorized to perform: aps:CreateWorkspace" in err

    root(
        "iam", "put-user-policy", "--user-name", "grafana", "--policy-name", "no-prod",
        "--policy-document", json.dumps(DENY_PROD),
    )
    doc = root("iam", "get-user-policy", "--user-name", "grafana", "--policy-name", "no-prod")
    assert doc["PolicyDocument"] == DENY_PROD
    assert grafana("amp", "describe-workspace", "--workspace-id", dev)["workspace"]["alias"] == "dev"
    err = grafana("amp", "describe-workspace", "--workspace-id", prod, expect_ok=False)
    assert "AccessDeniedException" in err and "explicit deny" in err

    root(
        "iam", "update-access-key", "--user-name", "grafana",
        "--access-key-id", key["AccessKeyId"], "--status", "Inactive",
    )
    keys = root("iam", "list-access-keys", "--user-name", "grafana")["AccessKeyMetadata"]
    assert [k["Status"] for k in keys] == ["Inactive"]
    err = grafana("amp", "list-workspaces", expect_ok=False)
    assert "UnrecognizedClientException" in err

    err = root("iam", "delete-user", "--user-name", "grafana", expect_ok=False)
    assert "DeleteConflict" in err
    root("iam", "delete-access-key", "--user-name", "grafana", "--access-key-id", key["AccessKeyId"])
    root("iam", "delete-user-policy", "--user-name", "grafana", "--policy-name", "no-prod")
    for arn in (policy["Arn"], "arn:aws:iam::aws:policy/AmazonPrometheusQueryAccess"):
        root("iam", "detach-user-policy", "--user-name", "grafana", "--policy-arn", arn)
    root("iam", "delete-policy", "--policy-arn", policy["Arn"])
    root("iam", "delete-user", "--user-name", "grafana")
    assert root("iam", "list-users")["Users"] == []
