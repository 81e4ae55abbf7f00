"""Rules and alerting end to end.

- A rule group uploaded with the AWS CLI fires alerts that the workspace's Alertmanager routes to
  a webhook and to an SNS-compatible endpoint, grouped by alertname; a silence made through the
  SigV4-signed Alertmanager v2 API and an inhibition rule keep their alerts quiet; after kill -9
  and a restart nothing is notified twice and firing alerts keep their activeAt.
- Prometheus 2.42 and ampd evaluate the same rules over the same scraped, remote-written data
  and record the same series and alert transitions.
- ampd's rule file validation (CreateRuleGroupsNamespace) accepts and rejects the same files of
  `tests/rules-corpus/` as `promtool check rules` (Prometheus 2.42, Debian's `prometheus`).
"""

import http.server
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import botocore.exceptions
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ampd_harness import REGION, Ampd, free_port
from conftest import ACCESS_KEY, SECRET_KEY, client_for
from test_remote_write import SigningProxy, active_workspace

CORPUS = Path(__file__).resolve().parents[1] / "rules-corpus"
PROMTOOL = shutil.which("promtool")

# Files on which ampd's upload validation and promtool 2.42 disagree, and why.
KNOWN_DIVERGENCES = {
    # promtool parses annotation and label templates; ampd's upload validation does not yet
    # (the evaluator reports a broken template in the alert's annotation text instead).
    "bad/template_syntax.yaml",
    # Prometheus allows a group without rules; ampd's validation refuses it.
    "good/no_rules.yaml",
}

TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"

RULES = """
groups:
  - name: fast
    interval: 1s
    rules:
      - record: answer:vector
        expr: vector(42)
        labels: {source: rule}
      - alert: HighLoad
        expr: vector(1)
        labels: {severity: critical, service: api}
        annotations: {summary: "load is {{ $value | humanize }}"}
      - alert: HighLoad
        expr: vector(1)
        labels: {severity: warning, service: api}
      - alert: Quiet
        expr: vector(1)
        labels: {severity: critical, service: db}
"""


def alertmanager_definition(receiver_url: str) -> str:
    config = {
        "route": {
            "receiver": "team",
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["service"],
            }
        ],
        "receivers": [
            {
                "name": "team",
                "webhook_configs": [{"url": receiver_url + "/webhook", "send_resolved": False}],
                "sns_configs": [
                    {
                        "api_url": receiver_url + "/sns",
                        "topic_arn": TOPIC,
                        "send_resolved": False,
                        "sigv4": {"region": REGION, "access_key": "AKIASNSTEST", "secret_key": "sns-secret"},
                    }
                ],
            }
        ],
    }
    # The inner document is YAML; JSON is valid YAML.
    return "alertmanager_config: |\n" + "".join(f"  {line}\n" for line in json.dumps(config, indent=1).splitlines())


class Receiver:
    """Records webhook notifications and SNS Publish calls."""

    def __init__(self):
        self.webhooks: list[dict] = []
        self.publishes: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/webhook":
                    receiver.webhooks.append(json.loads(body))
                    answer = b"{}"
                else:
                    form = dict(urllib.parse.parse_qsl(body.decode()))
                    form["_authorization"] = self.headers.get("Authorization", "")
                    receiver.publishes.append(form)
                    answer = b"<PublishResponse><PublishResult><MessageId>1</MessageId></PublishResult></PublishResponse>"
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def signed(method: str, url: str, body: bytes | None = None) -> tuple[int, object]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "aps", REGION).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers), method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            raw = res.read()
            return res.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw else None


def wait_for(what: str, check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def aws_cli(server: Ampd, *args: str) -> dict:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_PAGER": "",
    }
    out = subprocess.run(
        ["aws", "amp", *args, "--endpoint-url", server.url, "--output", "json"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else {}


@pytest.fixture()
def server():
    s = Ampd().start()
    yield s
    s.close()


def test_alerts_route_group_silence_inhibit_and_survive_kill(server):
    receiver = Receiver()
    try:
        amp = client_for(server)
        ws_id = amp.create_workspace(alias="rules")["workspaceId"]
        wait_for("workspace", lambda: amp.describe_workspace(workspaceId=ws_id)["workspace"]["status"]["statusCode"] == "ACTIVE")
        endpoint = f"{server.url}/workspaces/{ws_id}/"
        am = endpoint + "alertmanager/api/v2/"
        with tempfile.TemporaryDirectory() as tmp:
            definition = Path(tmp) / "alertmanager.yaml"
            definition.write_text(alertmanager_definition(receiver.url))
            aws_cli(server, "create-alert-manager-definition", "--workspace-id", ws_id, "--data", f"fileb://{definition}")
            wait_for("alertmanager", lambda: signed("GET", am + "status")[0] == 200)

            now = datetime.now(timezone.utc)
            silence = {
                "matchers": [{"name": "alertname", "value": "Quiet", "isRegex": False, "isEqual": True}],
                "startsAt": now.isoformat(),
                "endsAt": (now + timedelta(hours=1)).isoformat(),
                "createdBy": "e2e",
                "comment": "maintenance",
            }
            status, created = signed("POST", am + "silences", json.dumps(silence).encode())
            assert status == 200, created
            silence_id = created["silenceID"]

            rules = Path(tmp) / "rules.yaml"
            rules.write_text(RULES)
            aws_cli(server, "create-rule-groups-namespace", "--workspace-id", ws_id, "--name", "fast", "--data", f"fileb://{rules}")

        # Grouped by alertname: one HighLoad notification holding only the critical alert (the
        # warning one is inhibited), and nothing for the silenced Quiet alert.
        first = wait_for("webhook notification", lambda: list(receiver.webhooks))
        wait_for("sns publish", lambda: list(receiver.publishes))
        time.sleep(3)
        assert len(receiver.webhooks) == 1, receiver.webhooks
        note = receiver.webhooks[0]
        assert note == first[0]
        assert note["groupLabels"] == {"alertname": "HighLoad"}
        assert note["status"] == "firing"
        assert [a["labels"]["severity"] for a in note["alerts"]] == ["critical"]
        assert note["alerts"][0]["annotations"]["summary"] == "load is 1"
        assert len(receiver.publishes) == 1, receiver.publishes
        publish = receiver.publishes[0]
        assert publish["Action"] == "Publish" and publish["TopicArn"] == TOPIC
        assert "HighLoad" in publish["Message"]
        assert publish["_authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIASNSTEST/")
        assert "/us-east-1/sns/aws4_request" in publish["_authorization"]

        # The v2 API shows why the others are quiet.
        status, alerts = signed("GET", am + "alerts")
        assert status == 200, alerts
        by_key = {(a["labels"]["alertname"], a["labels"]["severity"]): a["status"] for a in alerts}
        assert by_key[("Quiet", "critical")]["silencedBy"] == [silence_id]
        assert by_key[("HighLoad", "warning")]["inhibitedBy"]
        assert by_key[("HighLoad", "critical")]["state"] == "active"
        status, groups = signed("GET", am + "alerts/groups")
        assert status == 200 and {g["labels"]["alertname"] for g in groups} == {"HighLoad", "Quiet"}
        assert signed("GET", am + f"silence/{silence_id}")[1]["status"]["state"] == "active"
        assert [r["name"] for r in signed("GET", am + "receivers")[1]] == ["team"]

        # Prometheus' rules and alerts APIs.
        status, body = signed("GET", endpoint + "api/v1/rules?type=alert")
        assert status == 200, body
        [group] = body["data"]["groups"]
        assert group["file"] == "fast" and group["interval"] == 1
        assert {r["health"] for r in group["rules"]} == {"ok"}
        assert {r["type"] for r in group["rules"]} == {"alerting"}
        status, body = signed("GET", endpoint + "api/v1/query?" + urllib.parse.urlencode({"query": "answer:vector"}))
        assert status == 200, body
        assert body["data"]["result"][0]["metric"] == {"__name__": "answer:vector", "source": "rule"}
        status, body = signed("GET", endpoint + "api/v1/alerts")
        before = {(a["labels"]["alertname"], a["labels"]["severity"]): a["activeAt"] for a in body["data"]["alerts"]}
        assert len(before) == 3 and all(a["state"] == "firing" for a in body["data"]["alerts"])

        # Crash and restart: alerts come back firing with their activeAt, and the notification
        # log keeps the group from being notified again.
        time.sleep(1)
        server.stop(signal.SIGKILL)
        server.start()

        def restored():
            status, body = signed("GET", endpoint + "api/v1/alerts")
            alerts = body["data"]["alerts"] if status == 200 else []
            return len(alerts) == 3 and alerts

        after = wait_for("restored alerts", restored)
        for a in after:
            key = (a["labels"]["alertname"], a["labels"]["severity"])
            assert a["state"] == "firing"
            assert a["activeAt"][:19] == before[key][:19], (a, before[key])
        wait_for("alertmanager after restart", lambda: signed("GET", am + "alerts")[1])
        time.sleep(4)
        assert len(receiver.webhooks) == 1, receiver.webhooks
        assert len(receiver.publishes) == 1, receiver.publishes

        # Expiring the silence lets the Quiet alert through.
        assert signed("DELETE", am + f"silence/{silence_id}")[0] == 200
        quiet = wait_for(
            "Quiet notification",
            lambda: [n for n in receiver.webhooks if n["groupLabels"] == {"alertname": "Quiet"}],
        )
        assert quiet[0]["alerts"][0]["labels"]["service"] == "db"
    finally:
        receiver.close()


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian package prometheus)")
def test_rule_file_validation_matches_promtool(ampd, amp):
    ws_id = amp.create_workspace(alias="rules-corpus")["workspaceId"]
    wait_for("workspace", lambda: amp.describe_workspace(workspaceId=ws_id)["workspace"]["status"]["statusCode"] == "ACTIVE")
    files = sorted(CORPUS.glob("*/*.yaml"))
    assert len(files) > 20
    disagreements = set()
    for i, path in enumerate(files):
        name = f"{path.parent.name}/{path.name}"
        promtool_ok = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True).returncode == 0
        assert promtool_ok == (path.parent.name == "good"), f"{name}: corpus folder disagrees with promtool"
        try:
            amp.create_rule_groups_namespace(workspaceId=ws_id, name=f"corpus-{i}", data=path.read_bytes())
            ampd_ok = True
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "ValidationException", e.response
            ampd_ok = False
        if ampd_ok != promtool_ok:
            disagreements.add(name)
    assert disagreements == KNOWN_DIVERGENCES


PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"

PARITY_RULES = """
groups:
  - name: parity
    interval: 1s
    rules:
      - record: job:demo_up:sum
        expr: sum by (job) (demo_up)
      - alert: DemoDown
        expr: demo_up == 0
        for: 3s
        labels: {severity: page}
        annotations: {summary: "{{ $labels.instance }} is down ({{ $value }})"}
"""


class Exporter:
    """Serves `demo_up{instance="a"}` with a value the test sets."""

    def __init__(self):
        self.value = 1
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = f'demo_up{{instance="a"}} {exporter.value}\n'.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.target = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def prom_get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return json.loads(r.read())


def states(alerts: list[dict]) -> list[tuple]:
    return sorted(
        (a["state"], tuple(sorted(a["labels"].items())), tuple(sorted(a["annotations"].items()))) for a in alerts
    )


@pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="prometheus is not installed (tests/setup.sh)")
def test_prometheus_and_ampd_agree(ampd, amp):
    """Prometheus scrapes an exporter whose `demo_up` the test flips, evaluates the rules itself
    and remote-writes the raw samples (not its rule results) to ampd, which evaluates the same
    rules: both record the same series and take the alert through the same transitions."""
    ws = active_workspace(amp)
    endpoint = ws["prometheusEndpoint"]
    exporter = Exporter()
    proxy = SigningProxy(ampd.url, ACCESS_KEY, SECRET_KEY)
    workdir = Path(tempfile.mkdtemp(prefix="ampd-e2e-rules-prom-"))
    port = free_port()
    (workdir / "rules.yaml").write_text(PARITY_RULES)
    config = {
        "global": {"scrape_interval": "500ms", "evaluation_interval": "1s"},
        "rule_files": [str(workdir / "rules.yaml")],
        "scrape_configs": [{"job_name": "demo", "honor_labels": True, "static_configs": [{"targets": [exporter.target]}]}],
        "remote_write": [
            {
                "url": proxy.url + urllib.parse.urlparse(endpoint).path + "api/v1/remote_write",
                "queue_config": {"batch_send_deadline": "200ms", "min_backoff": "100ms", "max_backoff": "1s"},
                # ampd evaluates the rules itself; only raw samples go over.
                "write_relabel_configs": [
                    {"source_labels": ["__name__"], "regex": "demo_up", "action": "keep"}
                ],
            }
        ],
    }
    (workdir / "prometheus.yml").write_text(json.dumps(config))
    log = open(workdir / "prometheus.log", "wb")
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        amp.create_rule_groups_namespace(workspaceId=ws["workspaceId"], name="parity", data=PARITY_RULES.encode())

        def ampd_get(path: str) -> dict:
            status, body = signed("GET", endpoint + path)
            assert status == 200, body
            return body

        def recorded(get) -> list:
            body = get("api/v1/query?" + urllib.parse.urlencode({"query": "job:demo_up:sum"}))
            return [(r["metric"], r["value"][1]) for r in body["data"]["result"]]

        prom = lambda path: prom_get(port, "/" + path)  # noqa: E731

        def ready():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_for("prometheus", ready)
        expected = [({"__name__": "job:demo_up:sum", "job": "demo"}, "1")]
        wait_for("prometheus recording", lambda: recorded(prom) == expected)
        wait_for("ampd recording", lambda: recorded(ampd_get) == expected)

        # Flip the target down: both go pending, then firing, then resolve when it comes back.
        seen = {"prometheus": [], "ampd": []}

        def observe():
            for name, get in (("prometheus", prom), ("ampd", ampd_get)):
                now = states(get("api/v1/alerts")["data"]["alerts"])
                if not seen[name] or seen[name][-1] != now:
                    seen[name].append(now)

        exporter.value = 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(s and s[-1] and s[-1][0][0] == "firing" for s in seen.values()):
            observe()
            time.sleep(0.1)
        exporter.value = 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(s[-1] == [] for s in seen.values()):
            observe()
            time.sleep(0.1)
        assert seen["ampd"] == seen["prometheus"], (seen, ampd.log())
        assert [s[0][0] if s else None for s in seen["ampd"]] == [None, "pending", "firing", None]
        labels = dict(seen["ampd"][2][0][1])
        assert labels == {"alertname": "DemoDown", "instance": "a", "job": "demo", "severity": "page"}
        assert dict(seen["ampd"][2][0][2]) == {"summary": "a is down (0)"}
        expected = [({"__name__": "job:demo_up:sum", "job": "demo"}, "1")]
        wait_for("both recordings back to 1", lambda: recorded(prom) == expected == recorded(ampd_get))
    finally:
        proc.kill()
        proc.wait()
        proxy.close()
        exporter.close()
        shutil.rmtree(workdir, ignore_errors=True)
