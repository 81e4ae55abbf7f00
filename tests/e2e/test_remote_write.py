"""Real Prometheus remote-writes into a workspace with SigV4, and its data comes back over the
query API; a key without aps:RemoteWrite is refused with 403.

Debian's Prometheus build accepts the `sigv4:` block but sends requests unsigned (its AWS
client is removed), so Prometheus writes through a small signing proxy here, the way
deployments use aws-sigv4-proxy; the signature is botocore's, the payload Prometheus'.
"""

import http.server
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ampd_harness import REGION, free_port
from conftest import ACCESS_KEY, SECRET_KEY, client_for

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"

pytestmark = pytest.mark.skipif(
    not Path(PROMETHEUS).exists(), reason="prometheus is not installed (tests/setup.sh)"
)


def active_workspace(amp) -> dict:
    ws_id = amp.create_workspace(alias="remote-write")["workspaceId"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ws = amp.describe_workspace(workspaceId=ws_id)["workspace"]
        if ws["status"]["statusCode"] == "ACTIVE":
            return ws
        time.sleep(0.1)
    raise AssertionError(f"workspace {ws_id} did not become ACTIVE")


class SigningProxy:
    """Forwards each request to `target` + path, SigV4-signed (service `aps`) with a key."""

    def __init__(self, target: str, access_key: str, secret_key: str):
        credentials = Credentials(access_key, secret_key)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                keep = ("content-type", "content-encoding", "user-agent", "x-prometheus-remote-write-version")
                request = AWSRequest(
                    method="POST",
                    url=target + self.path,
                    data=body,
                    headers={k: v for k, v in self.headers.items() if k.lower() in keep},
                )
                SigV4Auth(credentials, "aps", REGION).add_auth(request)
                prepared = request.prepare()
                req = urllib.request.Request(
                    prepared.url, data=body, headers=dict(prepared.headers), method="POST"
                )
                try:
                    with urllib.request.urlopen(req, timeout=10) as res:
                        status, answer = res.status, res.read()
                except urllib.error.HTTPError as e:
                    status, answer = e.code, e.read()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Prometheus:
    """A Prometheus process scraping itself and remote-writing to `url` with SigV4."""

    def __init__(self, url: str, access_key: str, secret_key: str):
        self.dir = Path(tempfile.mkdtemp(prefix="ampd-e2e-prometheus-"))
        self.port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{self.port}"]}]}
            ],
            "remote_write": [
                {
                    "url": url,
                    "sigv4": {"region": REGION, "access_key": access_key, "secret_key": secret_key},
                    "queue_config": {"batch_send_deadline": "1s", "min_backoff": "100ms", "max_backoff": "1s"},
                }
            ],
        }
        # JSON is YAML, so the configuration needs no YAML library.
        (self.dir / "prometheus.yml").write_text(json.dumps(config))
        self.log_path = self.dir / "prometheus.log"
        self.proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={self.dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.log_path, "wb"),
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_prometheus(ampd, endpoint: str, access_key: str, secret_key: str):
    """Prometheus writing to the workspace's remote_write URL through the signing proxy."""
    proxy = SigningProxy(ampd.url, access_key, secret_key)
    path = urllib.parse.urlparse(endpoint).path
    return proxy, Prometheus(proxy.url + path + "api/v1/remote_write", access_key, secret_key)


def query(endpoint: str, promql: str) -> tuple[int, dict]:
    url = endpoint + "api/v1/query?" + urllib.parse.urlencode({"query": promql})
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "aps", REGION).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, headers=dict(prepared.headers), method="GET")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_prometheus_remote_writes_with_sigv4(ampd, amp):
    ws = active_workspace(amp)
    endpoint = ws["prometheusEndpoint"]
    proxy, prometheus = start_prometheus(ampd, endpoint, ACCESS_KEY, SECRET_KEY)
    try:
        deadline = time.monotonic() + 60
        result = []
        while time.monotonic() < deadline and not result:
            assert prometheus.proc.poll() is None, prometheus.log()
            status, body = query(endpoint, 'up{job="prometheus"}')
            assert status == 200, body
            assert body["status"] == "success"
            result = body["data"]["result"]
            time.sleep(0.5)
        assert result, f"no samples arrived\n{prometheus.log()}\n{ampd.log()}"
        series = result[0]
        assert series["metric"]["instance"] == f"127.0.0.1:{prometheus.port}"
        assert series["value"][1] == "1"
    finally:
        prometheus.close()
        proxy.close()


def test_key_without_remote_write_is_refused(ampd, amp):
    ws = active_workspace(amp)
    iam = client_for(ampd, "iam")
    iam.create_user(UserName="no-remote-write")
    key = iam.create_access_key(UserName="no-remote-write")["AccessKey"]
    proxy, prometheus = start_prometheus(
        ampd, ws["prometheusEndpoint"], key["AccessKeyId"], key["SecretAccessKey"]
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "403 Forbidden" not in prometheus.log():
            assert prometheus.proc.poll() is None, prometheus.log()
            time.sleep(0.5)
        log = prometheus.log()
        assert "non-recoverable error" in log and "403 Forbidden" in log, log
        assert f"aps:RemoteWrite on resource: {ws['arn']}" in log, log
    finally:
        prometheus.close()
        proxy.close()
