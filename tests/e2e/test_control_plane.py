"""AMP control-plane conformance: boto3 against a running ampd, walking the botocore `amp` model.

Every operation of the model is called at least once (see `test_every_model_operation_was_called`,
which runs last in this module), with its happy path and its modeled error cases.
"""

import json
import re
import time
import urllib.error
import urllib.request
import uuid

import botocore.exceptions
import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ampd_harness import REGION
from conftest import ACCESS_KEY, SECRET_KEY

MODEL = botocore.session.get_session().get_service_model("amp")
CALLED: set[str] = set()

UNKNOWN_WS = "ws-00000000-0000-4000-8000-000000000000"
UNKNOWN_SCRAPER = "s-00000000-0000-4000-8000-000000000000"
UNKNOWN_AD = "ad-00000000-0000-4000-8000-000000000000"
ACCOUNT_RE = r"[0-9]{12}"

RULES = b"""groups:
  - name: node
    interval: 30s
    rules:
      - record: job:node_cpu_seconds:rate5m
        expr: sum by (job) (rate(node_cpu_seconds_total[5m]))
      - alert: HighLoad
        expr: node_load1 > 4
        for: 5m
        labels:
          severity: page
        annotations:
          summary: "load is {{ $value }}"
"""

ALERTMANAGER = b"""alertmanager_config: |
  route:
    receiver: default
    group_by: [alertname]
  receivers:
    - name: default
      sns_configs:
        - topic_arn: arn:aws:sns:us-east-1:123456789012:alerts
          sigv4:
            region: us-east-1
template_files:
  default.tmpl: '{{ define "x" }}hello{{ end }}'
"""

LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/ampd/e2e:*"
CLUSTER = "arn:aws:eks:us-east-1:123456789012:cluster/e2e"
SCRAPE_CONFIG = b"""global:
  scrape_interval: 30s
scrape_configs:
  - job_name: pods
    kubernetes_sd_configs:
      - role: pod
"""


@pytest.fixture(scope="module", autouse=True)
def record_operations(amp):
    def on_call(model, **_):
        CALLED.add(model.name)

    amp.meta.events.register("before-call.amp.*", on_call)
    yield
    amp.meta.events.unregister("before-call.amp.*", on_call)


def error_code(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def new_workspace(amp, **kwargs) -> dict:
    created = amp.create_workspace(**kwargs)
    amp.get_waiter("workspace_active").wait(
        workspaceId=created["workspaceId"], WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    return created


@pytest.fixture(scope="module")
def ws(amp):
    return new_workspace(amp, alias="conformance", tags={"team": "e2e"})


# --- workspaces -------------------------------------------------------------------------------


def test_workspace_lifecycle(amp, ampd):
    created = amp.create_workspace(alias="lifecycle", tags={"env": "test"})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    ws_id = created["workspaceId"]
    assert re.fullmatch(r"ws-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", ws_id)
    assert re.fullmatch(rf"arn:aws:aps:{REGION}:{ACCOUNT_RE}:workspace/{ws_id}", created["arn"])
    assert created["status"]["statusCode"] in ("CREATING", "ACTIVE")
    assert created["tags"] == {"env": "test"}
    assert created["ResponseMetadata"]["RequestId"]

    amp.get_waiter("workspace_active").wait(
        workspaceId=ws_id, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    desc = amp.describe_workspace(workspaceId=ws_id)["workspace"]
    assert desc["workspaceId"] == ws_id
    assert desc["alias"] == "lifecycle"
    assert desc["status"]["statusCode"] == "ACTIVE"
    assert desc["prometheusEndpoint"] == f"{ampd.url}/workspaces/{ws_id}/"
    assert desc["tags"] == {"env": "test"}
    assert abs(desc["createdAt"].timestamp() - time.time()) < 600

    amp.update_workspace_alias(workspaceId=ws_id, alias="lifecycle-renamed")
    amp.get_waiter("workspace_active").wait(
        workspaceId=ws_id, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    assert amp.describe_workspace(workspaceId=ws_id)["workspace"]["alias"] == "lifecycle-renamed"

    listed = amp.list_workspaces(alias="lifecycle-ren")["workspaces"]
    assert [w["workspaceId"] for w in listed] == [ws_id]
    assert "prometheusEndpoint" not in listed[0]

    deleted = amp.delete_workspace(workspaceId=ws_id)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    amp.get_waiter("workspace_deleted").wait(
        workspaceId=ws_id, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    with pytest.raises(amp.exceptions.ResourceNotFoundException) as e:
        amp.describe_workspace(workspaceId=ws_id)
    assert ws_id in str(e.value)
    assert all(w["workspaceId"] != ws_id for w in amp.list_workspaces()["workspaces"])


def test_create_workspace_is_idempotent_by_client_token(amp):
    token = str(uuid.uuid4())
    first = amp.create_workspace(alias="idem", clientToken=token)
    again = amp.create_workspace(alias="idem", clientToken=token)
    assert again["workspaceId"] == first["workspaceId"]
    assert len(amp.list_workspaces(alias="idem")["workspaces"]) == 1
    with pytest.raises(amp.exceptions.ConflictException):
        amp.create_workspace(alias="idem-but-different", clientToken=token)


def test_list_workspaces_paginates_with_opaque_tokens(amp):
    prefix = f"page-{uuid.uuid4().hex[:8]}"
    ids = {amp.create_workspace(alias=f"{prefix}-{i}")["workspaceId"] for i in range(5)}
    first = amp.list_workspaces(alias=prefix, maxResults=2)
    assert len(first["workspaces"]) == 2
    token = first["nextToken"]
    assert prefix not in token and "ws-" not in token

    pages = amp.get_paginator("list_workspaces").paginate(
        alias=prefix, PaginationConfig={"PageSize": 2}
    )
    seen = [w["workspaceId"] for page in pages for w in page["workspaces"]]
    assert sorted(seen) == sorted(ids)

    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(amp.exceptions.ValidationException):
        amp.list_workspaces(alias=prefix, maxResults=2, nextToken=tampered)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"alias": "a" * 101}, "alias"),
        ({"tags": {"aws:reserved": "x"}}, "tags"),
        ({"tags": {"AWS:Reserved": "x"}}, "tags"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "tags"),
        ({"tags": {"bad\u0001key": "v"}}, "tags"),
        ({"tags": {"k" * 129: "v"}}, "tags"),
        ({"tags": {"k": "v" * 257}}, "tags"),
        ({"kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:alias/not-a-key"}, "kmsKeyArn"),
        ({"clientToken": "has space"}, "clientToken"),
    ],
)
def test_create_workspace_rejects_invalid_input(amp, kwargs, field):
    with pytest.raises(amp.exceptions.ValidationException) as e:
        amp.create_workspace(**kwargs)
    body = e.value.response
    assert body["Error"]["Message"]
    assert body["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert field in json.dumps(body.get("fieldList", [])) + body["Error"]["Message"]


# --- workspace configuration ------------------------------------------------------------------


def test_workspace_configuration(amp, ws):
    ws_id = ws["workspaceId"]
    conf = amp.describe_workspace_configuration(workspaceId=ws_id)["workspaceConfiguration"]
    assert conf["status"]["statusCode"] == "ACTIVE"
    assert conf["retentionPeriodInDays"] == 150

    limits = [{"labelSet": {"team": "a", "env": "prod"}, "limits": {"maxSeries": 1000}}]
    updated = amp.update_workspace_configuration(
        workspaceId=ws_id, retentionPeriodInDays=30, limitsPerLabelSet=limits
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert updated["status"]["statusCode"] in ("UPDATING", "ACTIVE")
    conf = wait_for(
        lambda: amp.describe_workspace_configuration(workspaceId=ws_id)["workspaceConfiguration"],
        lambda c: c["status"]["statusCode"] == "ACTIVE",
    )
    assert conf["retentionPeriodInDays"] == 30
    assert conf["limitsPerLabelSet"] == limits

    # Members left out keep their value.
    amp.update_workspace_configuration(workspaceId=ws_id, outOfOrderTimeWindowInSeconds=120)
    conf = wait_for(
        lambda: amp.describe_workspace_configuration(workspaceId=ws_id)["workspaceConfiguration"],
        lambda c: c["status"]["statusCode"] == "ACTIVE",
    )
    assert conf["retentionPeriodInDays"] == 30
    assert conf["outOfOrderTimeWindowInSeconds"] == 120

    for bad in (
        {},
        {"retentionPeriodInDays": 100000},
        {"limitsPerLabelSet": [{"labelSet": {"0bad": "x"}, "limits": {"maxSeries": 1}}]},
        {"limitsPerLabelSet": [{"labelSet": {"__name__": "not a metric"}, "limits": {}}]},
    ):
        with pytest.raises(amp.exceptions.ValidationException):
            amp.update_workspace_configuration(workspaceId=ws_id, **bad)


def wait_for(get, done, attempts=60):
    for _ in range(attempts):
        value = get()
        if done(value):
            return value
        time.sleep(0.25)
    raise AssertionError(f"condition not reached; last value: {value!r}")


# --- tags -------------------------------------------------------------------------------------


def test_tags_on_workspace(amp, ws):
    arn = ws["arn"]
    assert amp.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "e2e"}
    amp.tag_resource(resourceArn=arn, tags={"env": "prod", "team": "core"})
    assert amp.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "core", "env": "prod"}
    amp.untag_resource(resourceArn=arn, tagKeys=["team", "absent"])
    assert amp.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "prod"}
    assert amp.describe_workspace(workspaceId=ws["workspaceId"])["workspace"]["tags"] == {
        "env": "prod"
    }

    with pytest.raises(amp.exceptions.ValidationException):
        amp.tag_resource(resourceArn=arn, tags={f"t{i}": "v" for i in range(50)})
    with pytest.raises(amp.exceptions.ValidationException):
        amp.tag_resource(resourceArn=arn, tags={"aws:cloudformation": "x"})
    with pytest.raises(amp.exceptions.ValidationException):
        amp.list_tags_for_resource(resourceArn="not-an-arn")
    missing = arn.replace(ws["workspaceId"], UNKNOWN_WS)
    for call in (
        lambda: amp.list_tags_for_resource(resourceArn=missing),
        lambda: amp.tag_resource(resourceArn=missing, tags={"a": "b"}),
        lambda: amp.untag_resource(resourceArn=missing, tagKeys=["a"]),
    ):
        with pytest.raises(amp.exceptions.ResourceNotFoundException):
            call()


# --- rule groups namespaces -------------------------------------------------------------------


def test_rule_groups_namespaces(amp, ws):
    ws_id = ws["workspaceId"]
    created = amp.create_rule_groups_namespace(
        workspaceId=ws_id, name="node-rules", data=RULES, tags={"kind": "rules"}
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert re.fullmatch(
        rf"arn:aws:aps:{REGION}:{ACCOUNT_RE}:rulegroupsnamespace/{ws_id}/node-rules", created["arn"]
    )
    rgn = wait_for(
        lambda: amp.describe_rule_groups_namespace(workspaceId=ws_id, name="node-rules")[
            "ruleGroupsNamespace"
        ],
        lambda r: r["status"]["statusCode"] == "ACTIVE",
    )
    assert rgn["data"] == RULES
    assert rgn["tags"] == {"kind": "rules"}
    assert rgn["createdAt"] <= rgn["modifiedAt"]

    with pytest.raises(amp.exceptions.ConflictException):
        amp.create_rule_groups_namespace(workspaceId=ws_id, name="node-rules", data=RULES)

    amp.create_rule_groups_namespace(workspaceId=ws_id, name="other", data=RULES)
    names = [
        r["name"]
        for r in amp.list_rule_groups_namespaces(workspaceId=ws_id, name="node")[
            "ruleGroupsNamespaces"
        ]
    ]
    assert names == ["node-rules"]
    pages = amp.get_paginator("list_rule_groups_namespaces").paginate(
        workspaceId=ws_id, PaginationConfig={"PageSize": 1}
    )
    assert sorted(r["name"] for p in pages for r in p["ruleGroupsNamespaces"]) == [
        "node-rules",
        "other",
    ]

    # The ARN has two slashes; tagging by it must still find the namespace.
    amp.tag_resource(resourceArn=created["arn"], tags={"extra": "1"})
    assert amp.list_tags_for_resource(resourceArn=created["arn"])["tags"] == {
        "kind": "rules",
        "extra": "1",
    }

    new_rules = RULES.replace(b"node_load1 > 4", b"node_load1 > 8")
    wait_for(
        lambda: amp.describe_rule_groups_namespace(workspaceId=ws_id, name="other"),
        lambda r: r["ruleGroupsNamespace"]["status"]["statusCode"] == "ACTIVE",
    )
    amp.put_rule_groups_namespace(workspaceId=ws_id, name="other", data=new_rules)
    rgn = wait_for(
        lambda: amp.describe_rule_groups_namespace(workspaceId=ws_id, name="other")[
            "ruleGroupsNamespace"
        ],
        lambda r: r["status"]["statusCode"] == "ACTIVE",
    )
    assert rgn["data"] == new_rules

    with pytest.raises(amp.exceptions.ResourceNotFoundException):
        amp.put_rule_groups_namespace(workspaceId=ws_id, name="absent", data=RULES)

    amp.delete_rule_groups_namespace(workspaceId=ws_id, name="other")
    wait_for(
        lambda: [r["name"] for r in amp.list_rule_groups_namespaces(workspaceId=ws_id)[
            "ruleGroupsNamespaces"
        ]],
        lambda names: "other" not in names,
    )
    with pytest.raises(amp.exceptions.ResourceNotFoundException):
        amp.describe_rule_groups_namespace(workspaceId=ws_id, name="other")


@pytest.mark.parametrize(
    "data, needle",
    [
        (b"groups: [unclosed", "groups"),
        (b"groups:\n  - name: a\n   bad: [1, 2\n", "line"),
        (b"not_groups: []\n", "groups"),
        (b"groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(rate(x[5m])\n", "expr"),
        (b"groups:\n  - name: g\n    rules:\n      - record: 'bad metric'\n        expr: up\n", "record"),
        (b"groups:\n  - name: g\n    rules:\n      - alert: A\n        record: B\n        expr: up\n", "alert"),
        (b"groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n", "g"),
        (b"groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels:\n          0bad: x\n", "0bad"),
    ],
)
def test_rule_groups_namespace_rejects_bad_rule_files(amp, ws, data, needle):
    with pytest.raises(amp.exceptions.ValidationException) as e:
        amp.create_rule_groups_namespace(workspaceId=ws["workspaceId"], name="bad", data=data)
    assert needle.lower() in e.value.response["Error"]["Message"].lower()


# --- alert manager definitions ----------------------------------------------------------------


def test_alert_manager_definition(amp):
    ws_id = new_workspace(amp, alias="alertmanager")["workspaceId"]
    with pytest.raises(amp.exceptions.ResourceNotFoundException):
        amp.describe_alert_manager_definition(workspaceId=ws_id)
    with pytest.raises(amp.exceptions.ResourceNotFoundException):
        amp.put_alert_manager_definition(workspaceId=ws_id, data=ALERTMANAGER)

    created = amp.create_alert_manager_definition(workspaceId=ws_id, data=ALERTMANAGER)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    desc = wait_for(
        lambda: amp.describe_alert_manager_definition(workspaceId=ws_id)["alertManagerDefinition"],
        lambda d: d["status"]["statusCode"] == "ACTIVE",
    )
    assert desc["data"] == ALERTMANAGER
    with pytest.raises(amp.exceptions.ConflictException):
        amp.create_alert_manager_definition(workspaceId=ws_id, data=ALERTMANAGER)

    changed = ALERTMANAGER.replace(b"[alertname]", b"[alertname, job]")
    amp.put_alert_manager_definition(workspaceId=ws_id, data=changed)
    desc = wait_for(
        lambda: amp.describe_alert_manager_definition(workspaceId=ws_id)["alertManagerDefinition"],
        lambda d: d["status"]["statusCode"] == "ACTIVE",
    )
    assert desc["data"] == changed

    for bad in (
        b"alertmanager_config: [",
        b"template_files: {}\n",
        b"alertmanager_config: |\n  receivers:\n    - name: x\n",
        b"alertmanager_config: |\n  route:\n    receiver: missing\n  receivers:\n    - name: x\n",
        b"alertmanager_config: |\n  route:\n    receiver: x\n  receivers:\n"
        b"    - name: x\n      email_configs:\n        - to: a@example.com\n",
    ):
        with pytest.raises(amp.exceptions.ValidationException):
            amp.put_alert_manager_definition(workspaceId=ws_id, data=bad)

    amp.delete_alert_manager_definition(workspaceId=ws_id)
    wait_for(
        lambda: not_found(lambda: amp.describe_alert_manager_definition(workspaceId=ws_id)),
        bool,
    )


def not_found(call) -> bool:
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] == "ResourceNotFoundException"
    return False


# --- logging configurations -------------------------------------------------------------------


def test_logging_configuration(amp, ws):
    ws_id = ws["workspaceId"]
    with pytest.raises(amp.exceptions.ResourceNotFoundException):
        amp.describe_logging_configuration(workspaceId=ws_id)
    created = amp.create_logging_configuration(workspaceId=ws_id, logGroupArn=LOG_GROUP)
    assert created["status"]["statusCode"] in ("CREATING", "ACTIVE")
    desc = wait_for(
        lambda: amp.describe_logging_configuration(workspaceId=ws_id)["loggingConfiguration"],
        lambda d: d["status"]["statusCode"] == "ACTIVE",
    )
    assert desc["logGroupArn"] == LOG_GROUP and desc["workspace"] == ws_id
    with pytest.raises(amp.exceptions.ValidationException):
        amp.update_logging_configuration(workspaceId=ws_id, logGroupArn="arn:aws:logs:nope")
    other = LOG_GROUP.replace("e2e", "e2e-2")
    amp.update_logging_configuration(workspaceId=ws_id, logGroupArn=other)
    desc = wait_for(
        lambda: amp.describe_logging_configuration(workspaceId=ws_id)["loggingConfiguration"],
        lambda d: d["status"]["statusCode"] == "ACTIVE",
    )
    assert desc["logGroupArn"] == other
    amp.delete_logging_configuration(workspaceId=ws_id)
    wait_for(lambda: not_found(lambda: amp.describe_logging_configuration(workspaceId=ws_id)), bool)


def test_query_logging_configuration(amp, ws):
    ws_id = ws["workspaceId"]
    dest = [{"cloudWatchLogs": {"logGroupArn": LOG_GROUP}, "filters": {"qspThreshold": 1000}}]
    amp.create_query_logging_configuration(workspaceId=ws_id, destinations=dest)
    desc = wait_for(
        lambda: amp.describe_query_logging_configuration(workspaceId=ws_id)[
            "queryLoggingConfiguration"
        ],
        lambda d: d["status"]["statusCode"] == "ACTIVE",
    )
    assert desc["destinations"] == dest
    with pytest.raises(amp.exceptions.ConflictException):
        amp.create_query_logging_configuration(workspaceId=ws_id, destinations=dest)
    dest[0]["filters"]["qspThreshold"] = 5
    amp.update_query_logging_configuration(workspaceId=ws_id, destinations=dest)
    desc = wait_for(
        lambda: amp.describe_query_logging_configuration(workspaceId=ws_id)[
            "queryLoggingConfiguration"
        ],
        lambda d: d["status"]["statusCode"] == "ACTIVE",
    )
    assert desc["destinations"][0]["filters"]["qspThreshold"] == 5
    amp.delete_query_logging_configuration(workspaceId=ws_id)
    wait_for(
        lambda: not_found(lambda: amp.describe_query_logging_configuration(workspaceId=ws_id)),
        bool,
    )


# --- resource policies ------------------------------------------------------------------------


def test_resource_policy_revisions(amp, ws):
    ws_id = ws["workspaceId"]
    with pytest.raises(amp.exceptions.ResourceNotFoundException):
        amp.describe_resource_policy(workspaceId=ws_id)
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": ["aps:RemoteWrite", "aps:QueryMetrics"],
                    "Resource": ws["arn"],
                }
            ],
        }
    )
    first = amp.put_resource_policy(workspaceId=ws_id, policyDocument=policy)
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 202
    rev1 = first["revisionId"]
    desc = wait_for(
        lambda: amp.describe_resource_policy(workspaceId=ws_id),
        lambda d: d["policyStatus"] == "ACTIVE",
    )
    assert json.loads(desc["policyDocument"]) == json.loads(policy)
    assert desc["revisionId"] == rev1

    second = amp.put_resource_policy(workspaceId=ws_id, policyDocument=policy, revisionId=rev1)
    rev2 = second["revisionId"]
    assert rev2 != rev1
    with pytest.raises(amp.exceptions.ConflictException):
        amp.put_resource_policy(workspaceId=ws_id, policyDocument=policy, revisionId=rev1)
    with pytest.raises(amp.exceptions.ConflictException):
        amp.delete_resource_policy(workspaceId=ws_id, revisionId=rev1)
    with pytest.raises(amp.exceptions.ValidationException):
        amp.put_resource_policy(workspaceId=ws_id, policyDocument="{not json", revisionId=rev2)

    wait_for(
        lambda: amp.describe_resource_policy(workspaceId=ws_id),
        lambda d: d["policyStatus"] == "ACTIVE",
    )
    amp.delete_resource_policy(workspaceId=ws_id, revisionId=rev2)
    wait_for(lambda: not_found(lambda: amp.describe_resource_policy(workspaceId=ws_id)), bool)


# --- scrapers ---------------------------------------------------------------------------------


def test_scrapers(amp, ws):
    default = amp.get_default_scraper_configuration()["configuration"]
    assert b"scrape_configs" in default

    created = amp.create_scraper(
        alias="e2e-scraper",
        scrapeConfiguration={"configurationBlob": SCRAPE_CONFIG},
        source={"eksConfiguration": {"clusterArn": CLUSTER, "subnetIds": ["subnet-0123abcd"]}},
        destination={"ampConfiguration": {"workspaceArn": ws["arn"]}},
        tags={"owner": "e2e"},
    )
    scraper_id = created["scraperId"]
    assert re.fullmatch(rf"arn:aws:aps:{REGION}:{ACCOUNT_RE}:scraper/{scraper_id}", created["arn"])
    amp.get_waiter("scraper_active").wait(
        scraperId=scraper_id, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    desc = amp.describe_scraper(scraperId=scraper_id)["scraper"]
    assert desc["alias"] == "e2e-scraper"
    assert desc["source"]["eksConfiguration"]["clusterArn"] == CLUSTER
    assert desc["destination"]["ampConfiguration"]["workspaceArn"] == ws["arn"]
    assert desc["scrapeConfiguration"]["configurationBlob"] == SCRAPE_CONFIG
    assert desc["tags"] == {"owner": "e2e"}

    listed = amp.list_scrapers(filters={"alias": ["e2e-scraper"], "status": ["ACTIVE"]})
    assert [s["scraperId"] for s in listed["scrapers"]] == [scraper_id]
    assert amp.list_scrapers(filters={"alias": ["nobody"]})["scrapers"] == []

    amp.update_scraper(scraperId=scraper_id, alias="e2e-scraper-2")
    amp.get_waiter("scraper_active").wait(
        scraperId=scraper_id, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    assert amp.describe_scraper(scraperId=scraper_id)["scraper"]["alias"] == "e2e-scraper-2"

    amp.update_scraper_logging_configuration(
        scraperId=scraper_id,
        loggingDestination={"cloudWatchLogs": {"logGroupArn": LOG_GROUP}},
        scraperComponents=[{"type": "SERVICE_DISCOVERY"}],
    )
    logging_conf = wait_for(
        lambda: amp.describe_scraper_logging_configuration(scraperId=scraper_id),
        lambda d: d["status"]["statusCode"] == "ACTIVE",
    )
    assert logging_conf["loggingDestination"]["cloudWatchLogs"]["logGroupArn"] == LOG_GROUP
    amp.delete_scraper_logging_configuration(scraperId=scraper_id)

    for bad in (
        {"source": {}},
        {"source": {"eksConfiguration": {"clusterArn": "arn:aws:eks:x", "subnetIds": ["s"]}}},
        {"scrapeConfiguration": {"configurationBlob": b"scrape_configs: ["}},
    ):
        args = {
            "scrapeConfiguration": {"configurationBlob": SCRAPE_CONFIG},
            "source": {"eksConfiguration": {"clusterArn": CLUSTER, "subnetIds": ["subnet-1"]}},
            "destination": {"ampConfiguration": {"workspaceArn": ws["arn"]}},
        }
        args.update(bad)
        with pytest.raises((amp.exceptions.ValidationException, botocore.exceptions.ParamValidationError)):
            amp.create_scraper(**args)

    amp.delete_scraper(scraperId=scraper_id)
    amp.get_waiter("scraper_deleted").wait(
        scraperId=scraper_id, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )


# --- anomaly detectors ------------------------------------------------------------------------


def test_anomaly_detectors(amp, ws):
    ws_id = ws["workspaceId"]
    config = {"randomCutForest": {"query": "sum(rate(http_requests_total[5m]))"}}
    created = amp.create_anomaly_detector(
        workspaceId=ws_id, alias="latency", configuration=config, evaluationIntervalInSeconds=60
    )
    ad_id = created["anomalyDetectorId"]
    assert ad_id.startswith("ad-")
    assert re.fullmatch(
        rf"arn:aws:aps:{REGION}:{ACCOUNT_RE}:anomalydetector/{ws_id}/{ad_id}", created["arn"]
    )
    amp.get_waiter("anomaly_detector_active").wait(
        workspaceId=ws_id, anomalyDetectorId=ad_id, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    desc = amp.describe_anomaly_detector(workspaceId=ws_id, anomalyDetectorId=ad_id)[
        "anomalyDetector"
    ]
    assert desc["alias"] == "latency"
    assert desc["configuration"]["randomCutForest"]["query"] == config["randomCutForest"]["query"]
    listed = amp.list_anomaly_detectors(workspaceId=ws_id, alias="lat")["anomalyDetectors"]
    assert [a["anomalyDetectorId"] for a in listed] == [ad_id]

    amp.put_anomaly_detector(
        workspaceId=ws_id,
        anomalyDetectorId=ad_id,
        configuration=config,
        evaluationIntervalInSeconds=120,
    )
    amp.get_waiter("anomaly_detector_active").wait(
        workspaceId=ws_id, anomalyDetectorId=ad_id, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    desc = amp.describe_anomaly_detector(workspaceId=ws_id, anomalyDetectorId=ad_id)
    assert desc["anomalyDetector"]["evaluationIntervalInSeconds"] == 120

    with pytest.raises(amp.exceptions.ValidationException):
        amp.create_anomaly_detector(
            workspaceId=ws_id,
            alias="bad",
            configuration={"randomCutForest": {"query": "sum(rate(x[5m]"}},
        )
    with pytest.raises(amp.exceptions.ValidationException):
        amp.create_anomaly_detector(
            workspaceId=ws_id, alias="bad", configuration=config, evaluationIntervalInSeconds=100000
        )

    amp.delete_anomaly_detector(workspaceId=ws_id, anomalyDetectorId=ad_id)
    amp.get_waiter("anomaly_detector_deleted").wait(
        workspaceId=ws_id, anomalyDetectorId=ad_id, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )


# --- unknown ids: every operation that models ResourceNotFoundException -----------------------

UNKNOWN_CALLS = {
    "CreateAlertManagerDefinition": {"workspaceId": UNKNOWN_WS, "data": ALERTMANAGER},
    "CreateAnomalyDetector": {
        "workspaceId": UNKNOWN_WS,
        "alias": "x",
        "configuration": {"randomCutForest": {"query": "sum(up)"}},
    },
    "CreateLoggingConfiguration": {"workspaceId": UNKNOWN_WS, "logGroupArn": LOG_GROUP},
    "CreateQueryLoggingConfiguration": {
        "workspaceId": UNKNOWN_WS,
        "destinations": [
            {"cloudWatchLogs": {"logGroupArn": LOG_GROUP}, "filters": {"qspThreshold": 1}}
        ],
    },
    "CreateRuleGroupsNamespace": {"workspaceId": UNKNOWN_WS, "name": "n", "data": RULES},
    "CreateScraper": {
        "scrapeConfiguration": {"configurationBlob": SCRAPE_CONFIG},
        "source": {"eksConfiguration": {"clusterArn": CLUSTER, "subnetIds": ["subnet-1"]}},
        "destination": {
            "ampConfiguration": {
                "workspaceArn": f"arn:aws:aps:{REGION}:123456789012:workspace/{UNKNOWN_WS}"
            }
        },
    },
    "DeleteAlertManagerDefinition": {"workspaceId": UNKNOWN_WS},
    "DeleteAnomalyDetector": {"workspaceId": UNKNOWN_WS, "anomalyDetectorId": UNKNOWN_AD},
    "DeleteLoggingConfiguration": {"workspaceId": UNKNOWN_WS},
    "DeleteQueryLoggingConfiguration": {"workspaceId": UNKNOWN_WS},
    "DeleteResourcePolicy": {"workspaceId": UNKNOWN_WS},
    "DeleteRuleGroupsNamespace": {"workspaceId": UNKNOWN_WS, "name": "n"},
    "DeleteScraper": {"scraperId": UNKNOWN_SCRAPER},
    "DeleteScraperLoggingConfiguration": {"scraperId": UNKNOWN_SCRAPER},
    "DeleteWorkspace": {"workspaceId": UNKNOWN_WS},
    "DescribeAlertManagerDefinition": {"workspaceId": UNKNOWN_WS},
    "DescribeAnomalyDetector": {"workspaceId": UNKNOWN_WS, "anomalyDetectorId": UNKNOWN_AD},
    "DescribeLoggingConfiguration": {"workspaceId": UNKNOWN_WS},
    "DescribeQueryLoggingConfiguration": {"workspaceId": UNKNOWN_WS},
    "DescribeResourcePolicy": {"workspaceId": UNKNOWN_WS},
    "DescribeRuleGroupsNamespace": {"workspaceId": UNKNOWN_WS, "name": "n"},
    "DescribeScraper": {"scraperId": UNKNOWN_SCRAPER},
    "DescribeScraperLoggingConfiguration": {"scraperId": UNKNOWN_SCRAPER},
    "DescribeWorkspace": {"workspaceId": UNKNOWN_WS},
    "DescribeWorkspaceConfiguration": {"workspaceId": UNKNOWN_WS},
    "ListAnomalyDetectors": {"workspaceId": UNKNOWN_WS},
    "ListRuleGroupsNamespaces": {"workspaceId": UNKNOWN_WS},
    "ListTagsForResource": {
        "resourceArn": f"arn:aws:aps:{REGION}:123456789012:workspace/{UNKNOWN_WS}"
    },
    "PutAlertManagerDefinition": {"workspaceId": UNKNOWN_WS, "data": ALERTMANAGER},
    "PutAnomalyDetector": {
        "workspaceId": UNKNOWN_WS,
        "anomalyDetectorId": UNKNOWN_AD,
        "configuration": {"randomCutForest": {"query": "sum(up)"}},
    },
    "PutResourcePolicy": {
        "workspaceId": UNKNOWN_WS,
        "policyDocument": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "aps:QueryMetrics", "Resource": "*"}],
            }
        ),
    },
    "PutRuleGroupsNamespace": {"workspaceId": UNKNOWN_WS, "name": "n", "data": RULES},
    "TagResource": {
        "resourceArn": f"arn:aws:aps:{REGION}:123456789012:workspace/{UNKNOWN_WS}",
        "tags": {"a": "b"},
    },
    "UntagResource": {
        "resourceArn": f"arn:aws:aps:{REGION}:123456789012:workspace/{UNKNOWN_WS}",
        "tagKeys": ["a"],
    },
    "UpdateLoggingConfiguration": {"workspaceId": UNKNOWN_WS, "logGroupArn": LOG_GROUP},
    "UpdateQueryLoggingConfiguration": {
        "workspaceId": UNKNOWN_WS,
        "destinations": [
            {"cloudWatchLogs": {"logGroupArn": LOG_GROUP}, "filters": {"qspThreshold": 1}}
        ],
    },
    "UpdateScraper": {"scraperId": UNKNOWN_SCRAPER, "alias": "x"},
    "UpdateScraperLoggingConfiguration": {
        "scraperId": UNKNOWN_SCRAPER,
        "loggingDestination": {"cloudWatchLogs": {"logGroupArn": LOG_GROUP}},
    },
    "UpdateWorkspaceAlias": {"workspaceId": UNKNOWN_WS, "alias": "x"},
    "UpdateWorkspaceConfiguration": {"workspaceId": UNKNOWN_WS, "retentionPeriodInDays": 10},
}


def operations_with_not_found() -> list[str]:
    names = []
    for name in MODEL.operation_names:
        errors = {e.name for e in MODEL.operation_model(name).error_shapes}
        # Anomaly-detector writes model no ResourceNotFoundException, yet an unknown workspace
        # can only be answered with it; they are checked here as well.
        if "ResourceNotFoundException" in errors or name in UNKNOWN_CALLS:
            names.append(name)
    return names


@pytest.mark.parametrize("operation", operations_with_not_found())
def test_unknown_ids_are_resource_not_found(amp, operation):
    assert operation in UNKNOWN_CALLS, f"no unknown-id call written for {operation}"
    method = getattr(amp, botocore.xform_name(operation))
    with pytest.raises(amp.exceptions.ResourceNotFoundException) as e:
        method(**UNKNOWN_CALLS[operation])
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert e.value.response["Error"]["Message"]


# --- raw HTTP: authentication and error shapes ------------------------------------------------


def raw(ampd, method, path, body=None, headers=None, sign_service=None):
    data = body.encode() if isinstance(body, str) else body
    hdrs = dict(headers or {})
    if sign_service:
        req = AWSRequest(method=method, url=ampd.url + path, data=data or b"", headers=hdrs)
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), sign_service, REGION).add_auth(req)
        hdrs = dict(req.headers.items())
    req = urllib.request.Request(ampd.url + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def assert_aws_error(status, headers, body, expected_status, expected_type):
    assert status == expected_status, body
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered.get("x-amzn-errortype", "").split(":")[0] == expected_type
    assert lowered.get("content-type", "").startswith("application/json")
    assert json.loads(body)["message"]
    assert lowered.get("x-amzn-requestid")


def test_unsigned_request_is_rejected_in_aws_shape(ampd):
    assert_aws_error(*raw(ampd, "GET", "/workspaces"), 403, "MissingAuthenticationTokenException")


def test_malformed_authorization_is_rejected(ampd):
    result = raw(ampd, "GET", "/workspaces", headers={"Authorization": "AWS4-HMAC-SHA256 garbage"})
    assert_aws_error(*result, 400, "IncompleteSignatureException")


def test_request_signed_for_another_service_is_rejected(ampd):
    status, headers, body = raw(ampd, "GET", "/workspaces", sign_service="execute-api")
    assert status in (400, 403), body
    assert {k.lower() for k in headers} >= {"x-amzn-errortype"}
    assert json.loads(body)["message"]


def test_malformed_json_is_a_validation_exception(ampd):
    status, headers, body = raw(
        ampd,
        "POST",
        "/workspaces",
        body="{not json",
        headers={"Content-Type": "application/json"},
        sign_service="aps",
    )
    assert_aws_error(status, headers, body, 400, "ValidationException")


def test_non_base64_blob_is_a_validation_exception(ampd, ws):
    body = json.dumps({"name": "b64", "data": "***not base64***"})
    status, headers, resp = raw(
        ampd,
        "POST",
        f"/workspaces/{ws['workspaceId']}/rulegroupsnamespaces",
        body=body,
        headers={"Content-Type": "application/json"},
        sign_service="aps",
    )
    assert_aws_error(status, headers, resp, 400, "ValidationException")


def test_unknown_route_is_an_aws_error(ampd):
    status, headers, body = raw(ampd, "GET", "/no-such-route", sign_service="aps")
    assert 400 <= status < 500
    assert json.loads(body)["message"]
    assert {k.lower() for k in headers} >= {"x-amzn-errortype"}


def test_request_id_header_on_success(ampd):
    status, headers, body = raw(ampd, "GET", "/workspaces", sign_service="aps")
    assert status == 200, body
    assert {k.lower() for k in headers} >= {"x-amzn-requestid"}
    assert "workspaces" in json.loads(body)


# --- coverage of the model (keep last) --------------------------------------------------------


def test_every_model_operation_was_called():
    missing = sorted(set(MODEL.operation_names) - CALLED)
    assert not missing, f"operations never exercised: {missing}"
    assert len(MODEL.operation_names) >= 44
