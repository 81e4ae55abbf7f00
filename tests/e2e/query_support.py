"""Helpers of the query API tests: remote write 1.0 requests and SigV4-signed HTTP calls.

The remote write body is encoded here rather than with protobuf and snappy libraries so the
tests need no extra Python packages: a `prometheus.WriteRequest` needs only varints and
length-delimited fields, and snappy's block format allows a body made of one literal.
"""

import json
import struct
import time
import urllib.error
import urllib.parse
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ampd_harness import REGION


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _label(name: str, value: str) -> bytes:
    return _field(1, name.encode()) + _field(2, value.encode())


def _sample(t_ms: int, value: float) -> bytes:
    # Sample: double value = 1 (fixed64), int64 timestamp = 2 (varint).
    return b"\x09" + struct.pack("<d", value) + b"\x10" + _varint(t_ms)


def _metadata(family: str, kind: int, help_text: str, unit: str) -> bytes:
    return (
        b"\x08" + _varint(kind) + _field(2, family.encode()) + _field(4, help_text.encode())
        + _field(5, unit.encode())
    )


METRIC_TYPES = {"counter": 1, "gauge": 2, "histogram": 3, "summary": 5}


def _exemplar(labels: dict, value: float, t_ms: int) -> bytes:
    out = b"".join(_field(1, _label(k, v)) for k, v in sorted(labels.items()))
    return out + b"\x11" + struct.pack("<d", value) + b"\x18" + _varint(t_ms)


def write_request(series, metadata=(), exemplars=None) -> bytes:
    """snappy(protobuf WriteRequest) of `series`: [(labels dict, [(t_ms, value)])], with
    `metadata`: [(family, type name, help, unit)] and `exemplars`: {series index: [(labels,
    value, t_ms)]}."""
    body = bytearray()
    for i, (labels, samples) in enumerate(series):
        ts = b"".join(_field(1, _label(k, v)) for k, v in sorted(labels.items()))
        ts += b"".join(_field(2, _sample(t, v)) for t, v in samples)
        ts += b"".join(_field(3, _exemplar(*e)) for e in (exemplars or {}).get(i, ()))
        body += _field(1, ts)
    for family, kind, help_text, unit in metadata:
        body += _field(3, _metadata(family, METRIC_TYPES[kind], help_text, unit))
    return snappy_block(bytes(body))


def snappy_block(data: bytes) -> bytes:
    """Snappy block format holding `data` as literals (valid, uncompressed)."""
    out = bytearray(_varint(len(data)))
    for i in range(0, len(data), 1 << 16):
        chunk = data[i:i + (1 << 16)]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        else:
            out.append(61 << 2)  # two length bytes follow
            out += struct.pack("<H", n)
        out += chunk
    return bytes(out)


class Response:
    def __init__(self, status: int, body: bytes, headers):
        self.status = status
        self.body = body
        self.headers = headers

    def json(self):
        return json.loads(self.body)


def http(method: str, url: str, body: bytes | None = None, headers=None, timeout=60) -> Response:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return Response(res.status, res.read(), res.headers)
    except urllib.error.HTTPError as e:
        return Response(e.code, e.read(), e.headers)


class Signer:
    """Sends SigV4-signed requests (service `aps`), as Grafana's SigV4 middleware does."""

    def __init__(self, access_key: str, secret_key: str):
        self.credentials = Credentials(access_key, secret_key)

    def send(self, method: str, url: str, params=None, form=None, body=None, headers=None,
             timeout=60) -> Response:
        if params:
            # Percent-encoded as SigV4's canonical query string is (space as %20, not `+`),
            # so botocore's signature covers the query exactly as sent.
            query = urllib.parse.urlencode(
                params, doseq=True, quote_via=lambda v, *_: urllib.parse.quote(v, safe="-_.~")
            )
            url = url + "?" + query
        headers = dict(headers or {})
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
        SigV4Auth(self.credentials, "aps", REGION).add_auth(request)
        prepared = request.prepare()
        return http(method, prepared.url, body, dict(prepared.headers), timeout)

    def remote_write(self, workspace_url: str, series, metadata=(), exemplars=None) -> Response:
        return self.send(
            "POST",
            workspace_url + "api/v1/remote_write",
            body=write_request(series, metadata, exemplars),
            headers={
                "Content-Type": "application/x-protobuf",
                "Content-Encoding": "snappy",
                "X-Prometheus-Remote-Write-Version": "0.1.0",
            },
        )


def active_workspace(amp, alias: str) -> dict:
    ws_id = amp.create_workspace(alias=alias)["workspaceId"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ws = amp.describe_workspace(workspaceId=ws_id)["workspace"]
        if ws["status"]["statusCode"] == "ACTIVE":
            return ws
        time.sleep(0.1)
    raise AssertionError(f"workspace {ws_id} did not become ACTIVE")
