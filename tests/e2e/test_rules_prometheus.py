"""The same rule set evaluated by Prometheus 2.42 and by ampd over the same data.

Prometheus scrapes a small exporter whose `demo_up` gauge the test flips, evaluates the rules
itself, and remote-writes the raw samples (not its rule results) into an ampd workspace, which
evaluates the same rules. Both must record the same series and take the alert through the same
transitions (pending, firing, resolved) with the same labels and annotations.
"""

import http.server
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from ampd_harness import REGION, free_port
from conftest import ACCESS_KEY, SECRET_KEY
from test_remote_write import SigningProxy, active_workspace
from test_rules import signed, wait_for

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"

pytestmark = pytest.mark.skipif(
    not Path(PROMETHEUS).exists(), reason="prometheus is not installed (tests/setup.sh)"
)

RULES = """
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


def test_prometheus_and_ampd_agree(ampd, amp):
    ws = active_workspace(amp)
    endpoint = ws["prometheusEndpoint"]
    exporter = Exporter()
    proxy = SigningProxy(ampd.url, ACCESS_KEY, SECRET_KEY)
    workdir = Path(tempfile.mkdtemp(prefix="ampd-e2e-rules-prom-"))
    port = free_port()
    (workdir / "rules.yaml").write_text(RULES)
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
        amp.create_rule_groups_namespace(workspaceId=ws["workspaceId"], name="parity", data=RULES.encode())

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
