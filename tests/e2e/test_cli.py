"""The AWS CLI end to end: the commands a user types, against a real ampd, across a restart."""

import base64
import time

import pytest

from ampd_harness import Ampd
from conftest import aws_cli
from test_control_plane import ALERTMANAGER, RULES


@pytest.fixture(scope="module")
def server():
    s = Ampd().start()
    yield s
    s.close()


@pytest.fixture(scope="module")
def aws(server, tmp_path_factory):
    return aws_cli(server.url, tmp_path_factory.mktemp("awshome"))


def test_workspace_walkthrough_with_restart(server, aws, tmp_path):
    created = aws("amp", "create-workspace", "--alias", "cli-demo", "--tags", "team=obs")
    ws_id = created["workspaceId"]
    aws("amp", "wait", "workspace-active", "--workspace-id", ws_id)

    desc = aws("amp", "describe-workspace", "--workspace-id", ws_id)["workspace"]
    assert desc["status"]["statusCode"] == "ACTIVE"
    assert desc["alias"] == "cli-demo"
    assert desc["prometheusEndpoint"].endswith(f"/workspaces/{ws_id}/")

    listed = aws("amp", "list-workspaces", "--alias", "cli-")["workspaces"]
    assert [w["workspaceId"] for w in listed] == [ws_id]

    arn = desc["arn"]
    aws("amp", "tag-resource", "--resource-arn", arn, "--tags", "env=dev,tier=2")
    aws("amp", "untag-resource", "--resource-arn", arn, "--tag-keys", "tier")
    tags = aws("amp", "list-tags-for-resource", "--resource-arn", arn)["tags"]
    assert tags == {"team": "obs", "env": "dev"}

    rules = tmp_path / "rules.yaml"
    rules.write_bytes(RULES)
    rgn = aws(
        "amp", "create-rule-groups-namespace", "--workspace-id", ws_id,
        "--name", "cli-rules", "--data", f"fileb://{rules}",
    )
    assert rgn["name"] == "cli-rules"

    am = tmp_path / "alertmanager.yaml"
    am.write_bytes(ALERTMANAGER)
    aws("amp", "create-alert-manager-definition", "--workspace-id", ws_id, "--data", f"fileb://{am}")
    wait_status(lambda: aws("amp", "describe-alert-manager-definition", "--workspace-id", ws_id)
                ["alertManagerDefinition"]["status"]["statusCode"])
    am.write_bytes(ALERTMANAGER.replace(b"[alertname]", b"[alertname, cluster]"))
    aws("amp", "put-alert-manager-definition", "--workspace-id", ws_id, "--data", f"fileb://{am}")

    aws(
        "amp", "update-workspace-configuration", "--workspace-id", ws_id,
        "--retention-period-in-days", "45",
    )
    wait_status(lambda: aws("amp", "describe-workspace-configuration", "--workspace-id", ws_id)
                ["workspaceConfiguration"]["status"]["statusCode"])

    # A restart in the middle loses nothing; SIGTERM ends the process cleanly.
    assert server.stop() == 0
    log = server.log()
    assert "request method=POST path=/workspaces status=202" in log
    assert "shutting down" in log
    server.start()

    desc = aws("amp", "describe-workspace", "--workspace-id", ws_id)["workspace"]
    assert desc["alias"] == "cli-demo" and desc["tags"] == {"team": "obs", "env": "dev"}
    rgn = aws("amp", "describe-rule-groups-namespace", "--workspace-id", ws_id, "--name", "cli-rules")
    assert rgn["ruleGroupsNamespace"]["status"]["statusCode"] == "ACTIVE"
    conf = aws("amp", "describe-workspace-configuration", "--workspace-id", ws_id)
    assert conf["workspaceConfiguration"]["retentionPeriodInDays"] == 45
    am_desc = aws("amp", "describe-alert-manager-definition", "--workspace-id", ws_id)
    assert b"cluster" in base64.b64decode(am_desc["alertManagerDefinition"]["data"])

    unknown = "ws-00000000-0000-4000-8000-000000000000"
    missing = aws("amp", "describe-workspace", "--workspace-id", unknown, expect_ok=False)
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr

    aws("amp", "delete-workspace", "--workspace-id", ws_id)
    aws("amp", "wait", "workspace-deleted", "--workspace-id", ws_id)
    assert aws("amp", "list-workspaces")["workspaces"] == []


def wait_status(get, want="ACTIVE", attempts=60):
    for _ in range(attempts):
        status = get()
        if status == want:
            return
        time.sleep(0.25)
    raise AssertionError(f"status stayed {status}")
