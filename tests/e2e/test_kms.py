"""KMS with the real `aws kms` CLI, and workspaces sealed with customer managed keys.

Remote write bodies are built by the tests' own encoder (query_support), so the test knows every
label value and sample value it wrote, and can then search the raw bytes of the data folder for
them.
"""

import base64
import json
import struct
import time
from pathlib import Path

import pytest

from ampd_harness import REGION, Ampd
from conftest import ACCESS_KEY, SECRET_KEY, aws_cli
from query_support import Signer

METRIC = "kms_e2e_vault_requests_total"
SECRET_LABEL = "needle-e2e-label-6c1d9"
VALUE = 271828.182845


@pytest.fixture(scope="module")
def server():
    s = Ampd().start()
    yield s
    s.close()


@pytest.fixture(scope="module")
def aws(server, tmp_path_factory):
    return aws_cli(server.url, tmp_path_factory.mktemp("awshome"))


# --- remote write and queries, signed as Prometheus and Grafana sign them -----------------------

SIGNER = Signer(ACCESS_KEY, SECRET_KEY)


def remote_write(endpoint: str, ts_ms: int, value: float):
    series = [({"__name__": METRIC, "secret": SECRET_LABEL, "job": "vault"}, [(ts_ms, value)])]
    res = SIGNER.remote_write(endpoint, series)
    return res.status, dict(res.headers), res.body


def query(endpoint: str, at_ms: int):
    res = SIGNER.send(
        "GET", endpoint + "api/v1/query", params={"query": METRIC, "time": at_ms / 1000}
    )
    return res.status, dict(res.headers), json.loads(res.body or b"null")


def error_type(headers: dict) -> str:
    return {k.lower(): v for k, v in headers.items()}.get("x-amzn-errortype", "")


def active_workspace(aws, *args) -> dict:
    ws_id = aws("amp", "create-workspace", *args)["workspaceId"]
    aws("amp", "wait", "workspace-active", "--workspace-id", ws_id)
    return aws("amp", "describe-workspace", "--workspace-id", ws_id)["workspace"]


def no_secret_in(folder: Path) -> int:
    needles = [METRIC.encode(), SECRET_LABEL.encode(), struct.pack("<d", VALUE), struct.pack(">d", VALUE)]
    files = [p for p in folder.rglob("*") if p.is_file()]
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{path} holds {needle!r} in clear"
    return len(files)


# --- tests ----------------------------------------------------------------------------------


def test_kms_cli_round_trips(aws, tmp_path):
    key = aws("kms", "create-key", "--description", "e2e key", "--tags", "TagKey=team,TagValue=obs")
    meta = key["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and meta["KeyUsage"] == "ENCRYPT_DECRYPT"
    key_id = meta["KeyId"]
    aws("kms", "create-alias", "--alias-name", "alias/e2e", "--target-key-id", key_id)

    assert key_id in [k["KeyId"] for k in aws("kms", "list-keys")["Keys"]]
    aliases = aws("kms", "list-aliases", "--key-id", key_id)["Aliases"]
    assert [a["AliasName"] for a in aliases] == ["alias/e2e"]
    assert aws("kms", "describe-key", "--key-id", "alias/e2e")["KeyMetadata"]["Arn"] == meta["Arn"]
    tags = aws("kms", "list-resource-tags", "--key-id", key_id)["Tags"]
    assert tags == [{"TagKey": "team", "TagValue": "obs"}]

    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"attack at dawn")
    enc = aws(
        "kms", "encrypt", "--key-id", "alias/e2e", "--plaintext", f"fileb://{plain}",
        "--encryption-context", "purpose=e2e",
    )
    blob = tmp_path / "blob.bin"
    blob.write_bytes(base64.b64decode(enc["CiphertextBlob"]))
    dec = aws(
        "kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context", "purpose=e2e"
    )
    assert base64.b64decode(dec["Plaintext"]) == b"attack at dawn"
    assert dec["KeyId"] == meta["Arn"]
    wrong = aws(
        "kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context",
        "purpose=other", expect_ok=False,
    )
    assert wrong.returncode != 0 and "InvalidCiphertextException" in wrong.stderr

    dk = aws("kms", "generate-data-key", "--key-id", key_id, "--key-spec", "AES_256")
    assert len(base64.b64decode(dk["Plaintext"])) == 32
    dk_blob = tmp_path / "dk.bin"
    dk_blob.write_bytes(base64.b64decode(dk["CiphertextBlob"]))
    assert aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{dk_blob}")["Plaintext"] == dk["Plaintext"]
    bare = aws("kms", "generate-data-key-without-plaintext", "--key-id", key_id, "--number-of-bytes", "16")
    assert "Plaintext" not in bare and bare["KeyId"] == meta["Arn"]

    aws("kms", "enable-key-rotation", "--key-id", key_id)
    assert aws("kms", "get-key-rotation-status", "--key-id", key_id)["KeyRotationEnabled"] is True
    aws("kms", "rotate-key-on-demand", "--key-id", key_id)
    again = aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context", "purpose=e2e")
    assert base64.b64decode(again["Plaintext"]) == b"attack at dawn"

    sched = aws("kms", "schedule-key-deletion", "--key-id", key_id, "--pending-window-in-days", "7")
    assert sched["KeyState"] == "PendingDeletion"
    refused = aws("kms", "encrypt", "--key-id", key_id, "--plaintext", f"fileb://{plain}", expect_ok=False)
    assert "KMSInvalidStateException" in refused.stderr
    aws("kms", "cancel-key-deletion", "--key-id", key_id)
    assert aws("kms", "describe-key", "--key-id", key_id)["KeyMetadata"]["KeyState"] == "Disabled"


def test_create_workspace_refuses_unusable_keys(aws):
    missing = f"arn:aws:kms:{REGION}:000000000000:key/00000000-0000-4000-8000-000000000000"
    proc = aws("amp", "create-workspace", "--kms-key-arn", missing, expect_ok=False)
    assert proc.returncode != 0 and "ValidationException" in proc.stderr, proc.stderr
    key = aws("kms", "create-key")["KeyMetadata"]
    aws("kms", "disable-key", "--key-id", key["KeyId"])
    proc = aws("amp", "create-workspace", "--kms-key-arn", key["Arn"], expect_ok=False)
    assert "ValidationException" in proc.stderr and "Disabled" in proc.stderr, proc.stderr


def test_customer_key_gates_and_seals_workspace_data(server, aws):
    key = aws("kms", "create-key", "--description", "workspace key")["KeyMetadata"]
    ws = active_workspace(aws, "--alias", "sealed", "--kms-key-arn", key["Arn"])
    assert ws["kmsKeyArn"] == key["Arn"]
    endpoint = ws["prometheusEndpoint"]
    ts = int(time.time() * 1000) - 60_000

    status, _, body = remote_write(endpoint, ts, VALUE)
    assert status in (200, 204), body
    status, _, answer = query(endpoint, ts)
    assert status == 200, answer
    assert answer["data"]["result"][0]["value"][1] == repr(VALUE)

    aws("kms", "disable-key", "--key-id", key["KeyId"])
    status, headers, body = remote_write(endpoint, ts + 1000, VALUE)
    assert (status, error_type(headers)) == (400, "KMSDisabledException"), body
    assert key["Arn"] in json.loads(body)["message"]
    status, headers, _ = query(endpoint, ts)
    assert (status, error_type(headers)) == (400, "KMSDisabledException")

    aws("kms", "enable-key", "--key-id", key["KeyId"])
    status, _, answer = query(endpoint, ts)
    assert status == 200 and answer["data"]["result"][0]["value"][1] == repr(VALUE), answer

    aws("kms", "rotate-key-on-demand", "--key-id", key["KeyId"])
    status, _, body = remote_write(endpoint, ts + 2000, VALUE)
    assert status in (200, 204), body

    # Across a restart the data key is unwrapped again; nothing is in clear on disk.
    server.restart()
    status, _, answer = query(endpoint, ts + 2000)
    assert status == 200 and answer["data"]["result"][0]["value"][1] == repr(VALUE), answer
    assert no_secret_in(server.data_dir / "data") > 5

    aws("kms", "schedule-key-deletion", "--key-id", key["KeyId"], "--pending-window-in-days", "7")
    status, headers, _ = query(endpoint, ts)
    assert (status, error_type(headers)) == (400, "KMSInvalidStateException")
    aws("kms", "cancel-key-deletion", "--key-id", key["KeyId"])
    aws("kms", "enable-key", "--key-id", key["KeyId"])
    status, _, answer = query(endpoint, ts)
    assert status == 200 and answer["data"]["result"], answer


def test_default_key_workspace_is_sealed_and_deletion_shreds(server, aws):
    ws = active_workspace(aws, "--alias", "default-key")
    assert "kmsKeyArn" not in ws
    endpoint = ws["prometheusEndpoint"]
    ts = int(time.time() * 1000) - 60_000
    status, _, body = remote_write(endpoint, ts, VALUE)
    assert status in (200, 204), body
    managed = aws("kms", "describe-key", "--key-id", "alias/aws/prometheus")["KeyMetadata"]
    assert managed["KeyManager"] == "AWS"
    aws("amp", "delete-workspace", "--workspace-id", ws["workspaceId"])
    tenant = server.data_dir / "data" / "tsdb" / ws["workspaceId"]
    deadline = time.monotonic() + 20
    while tenant.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tenant.exists()
