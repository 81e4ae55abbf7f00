"""The audit trail with the AWS CLI: lookups, secrets, tamper detection, and kill -9."""

import gzip
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import botocore.config
import pytest

from ampd_harness import REGION, ROOT_ACCESS_KEY, Ampd, ampd_binary
from conftest import ACCESS_KEY, SECRET_KEY

# Log files roll every second and digests close every two, so a test sees both within seconds.
FAST_TRAIL = ["--audit-roll-interval-seconds", "1", "--audit-digest-interval-seconds", "2"]


def aws_cli(server, home, key_id, secret, *args, expect_ok=True):
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
        env=env, capture_output=True, text=True, timeout=120,
    )
    if expect_ok:
        assert proc.returncode == 0, f"aws {' '.join(args)} failed:\n{proc.stderr}"
        return json.loads(proc.stdout) if proc.stdout.strip() else {}
    assert proc.returncode != 0, f"aws {' '.join(args)} unexpectedly succeeded"
    return proc.stderr


def client(server, service):
    return boto3.client(
        service, endpoint_url=server.url, region_name=REGION,
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )


def ampd_audit(*args):
    return subprocess.run(
        [str(ampd_binary()), "audit", *args], capture_output=True, text=True, timeout=60
    )


def every_file(folder: Path):
    """Yields (path, content) for every file under folder, .gz files decompressed."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        yield path, data


def wait_for(what, predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def server():
    s = Ampd(extra_args=FAST_TRAIL).start()
    yield s
    s.close()


def lookup(server, home, attribute, value):
    out = aws_cli(
        server, home, ACCESS_KEY, SECRET_KEY, "cloudtrail", "lookup-events",
        "--lookup-attributes", f"AttributeKey={attribute},AttributeValue={value}",
    )
    return [(e, json.loads(e["CloudTrailEvent"])) for e in out["Events"]]


def test_lookup_events_finds_callers_denials_and_no_secrets(server, tmp_path):
    def root(*args, **kw):
        return aws_cli(server, tmp_path, ACCESS_KEY, SECRET_KEY, *args, **kw)

    ws = root("amp", "create-workspace", "--alias", "audited")["workspaceId"]
    root("iam", "create-user", "--user-name", "auditee")
    key = root("iam", "create-access-key", "--user-name", "auditee")["AccessKey"]
    secret = key["SecretAccessKey"]

    def auditee(*args):
        return aws_cli(server, tmp_path, key["AccessKeyId"], secret, *args, expect_ok=False)

    assert "AccessDeniedException" in auditee("amp", "create-workspace", "--alias", "no")
    assert "AccessDenied" in auditee("iam", "list-users")

    created = lookup(server, tmp_path, "EventName", "CreateWorkspace")
    mine = [r for e, r in created if r.get("responseElements", {}) and
            r["responseElements"]["workspaceId"] == ws]
    assert len(mine) == 1
    record = mine[0]
    assert record["eventSource"] == "aps.amazonaws.com"
    assert record["userIdentity"]["type"] == "Root"
    assert record["userIdentity"]["accessKeyId"] == ROOT_ACCESS_KEY
    assert record["userIdentity"]["arn"] == "arn:aws:iam::000000000000:root"
    assert record["requestParameters"]["alias"] == "audited"
    assert record["userAgent"].startswith("aws-cli/")
    assert record["sourceIPAddress"] == "127.0.0.1"
    assert record["resources"][0]["ARN"].endswith(f":workspace/{ws}")

    denied = [r for _, r in created if r.get("errorCode")]
    assert len(denied) == 1
    assert denied[0]["errorCode"] == "AccessDeniedException"
    assert denied[0]["userIdentity"]["userName"] == "auditee"
    assert denied[0]["userIdentity"]["accessKeyId"] == key["AccessKeyId"]

    by_user = lookup(server, tmp_path, "Username", "auditee")
    iam_denied = [r for _, r in by_user if r["eventName"] == "ListUsers"]
    assert iam_denied[0]["errorCode"] == "AccessDenied"
    assert iam_denied[0]["eventSource"] == "iam.amazonaws.com"

    by_key = lookup(server, tmp_path, "ResourceName", key["AccessKeyId"])
    assert [r["eventName"] for _, r in by_key] == ["CreateAccessKey"]
    assert secret not in by_key[0][0]["CloudTrailEvent"]

    # Once the events are in log files, the secret is in no file of the data folder.
    logs = server.data_dir / "data" / "audit" / "logs"
    wait_for("a log file with CreateAccessKey", lambda: any(
        b"CreateAccessKey" in data for _, data in every_file(logs)))
    checked = 0
    for path, data in every_file(server.data_dir / "data"):
        assert secret.encode() not in data, f"{path} holds the secret access key"
        checked += 1
    assert checked > 5

    # The digest signing key, from the API and from the data folder, agree.
    pem = ampd_audit("public-key", "--data-dir", str(server.data_dir / "data"))
    assert pem.returncode == 0, pem.stderr
    assert "-----BEGIN PUBLIC KEY-----" in pem.stdout
    keys = root("cloudtrail", "list-public-keys")["PublicKeyList"]
    assert f"# fingerprint {keys[0]['Fingerprint']}" in pem.stdout


def digests(audit: Path):
    """Returns (key, digest JSON) of every digest file, oldest first."""
    found = []
    for path in sorted((audit / "logs").rglob("*.json.gz")):
        key = str(path.relative_to(audit / "logs"))
        if "/CloudTrail-Digest/" in key:
            found.append((key, json.loads(gzip.decompress(path.read_bytes()))))
    return found


def validate(data_dir: Path, start: datetime):
    proc = ampd_audit(
        "validate", "--data-dir", str(data_dir),
        "--start-time", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, proc.stdout


def test_validation_names_every_tampered_file(tmp_path):
    start = datetime.now(timezone.utc) - timedelta(minutes=10)
    s = Ampd(extra_args=FAST_TRAIL).start()
    try:
        amp = client(s, "amp")
        audit = s.data_dir / "data" / "audit"
        # Three digest periods with calls in them, each listing the log files of its calls.
        def with_files():
            return len([d for _, d in digests(audit) if d["logFiles"]])
        for n in range(1, 4):
            amp.list_workspaces()
            wait_for(f"{n} digests listing log files", lambda: with_files() >= n)
        s.stop()
    except BaseException:
        print(s.log())
        s.close()
        raise
    try:
        check_tampering(s, audit, start, tmp_path)
    finally:
        s.close()


def check_tampering(s, audit, start, tmp_path):
    chain = digests(audit)
    listed = [(k, d) for k, d in chain if d["logFiles"]]
    middle_key = listed[1][0]
    assert any(d["previousDigestS3Object"] == middle_key for _, d in chain)

    def scenario(name):
        copy = tmp_path / name
        shutil.copytree(s.data_dir / "data" / "audit", copy / "audit")
        return copy, copy / "audit" / "logs"

    code, out = validate(scenario("clean")[0], start)
    assert code == 0, out
    assert f"{len(chain)}/{len(chain)} digest files valid" in out

    edited_key = listed[0][1]["logFiles"][0]["s3Object"]
    folder, logs = scenario("edited")
    path = logs / edited_key
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    code, out = validate(folder, start)
    assert code == 1 and f"Log file {edited_key} INVALID: hash value doesn't match" in out, out

    deleted_key = listed[1][1]["logFiles"][0]["s3Object"]
    folder, logs = scenario("deleted-log")
    (logs / deleted_key).unlink()
    code, out = validate(folder, start)
    assert code == 1 and f"Log file {deleted_key} INVALID: not found" in out, out

    folder, logs = scenario("deleted-digest")
    (logs / middle_key).unlink()
    code, out = validate(folder, start)
    assert code == 1 and f"Digest file {middle_key} INVALID: not found" in out, out

    # A well-formed log file with a name inside the digested time, listed by no digest.
    first_end = datetime.strptime(chain[0][1]["digestEndTime"], "%Y-%m-%dT%H:%M:%SZ")
    written = (first_end - timedelta(minutes=2)).strftime("%Y%m%dT%H%MZ")
    day = (first_end - timedelta(minutes=2)).strftime("%Y/%m/%d")
    forged_key = (f"AWSLogs/000000000000/CloudTrail/{REGION}/{day}/"
                  f"000000000000_CloudTrail_{REGION}_{written}_ForgedForgedForg.json.gz")
    folder, logs = scenario("forged")
    (logs / forged_key).parent.mkdir(parents=True, exist_ok=True)
    (logs / forged_key).write_bytes(gzip.compress(json.dumps({"Records": [{
        "eventVersion": "1.11", "eventName": "DeleteWorkspace",
        "eventTime": first_end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }]}).encode()))
    code, out = validate(folder, start)
    assert code == 1 and f"Log file {forged_key} INVALID: not listed in any digest" in out, out


def test_kill_9_under_a_burst_loses_no_answered_call():
    s = Ampd(extra_args=FAST_TRAIL).start()
    answered, lock = [], threading.Lock()
    stop = threading.Event()

    def burst(n):
        amp, iam = client(s, "amp"), client(s, "iam")
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if i % 3 == 0:
                    r = iam.list_users()
                else:
                    r = amp.list_workspaces(alias=f"t{n}-{i}")
            except Exception:  # the server died mid-call: nothing was acknowledged
                continue
            with lock:
                answered.append(r["ResponseMetadata"]["RequestId"])

    threads = [threading.Thread(target=burst, args=(n,)) for n in range(6)]
    try:
        for t in threads:
            t.start()
        wait_for("a burst of answered calls", lambda: len(answered) >= 100, timeout=20)
        time.sleep(2)
        s.stop(signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        acknowledged = set(answered)
        s.start()
        cloudtrail = client(s, "cloudtrail")
        recorded = set()
        for page in cloudtrail.get_paginator("lookup_events").paginate():
            for e in page["Events"]:
                recorded.add(json.loads(e["CloudTrailEvent"])["requestID"])
        missing = acknowledged - recorded
        assert len(acknowledged) >= 100
        assert not missing, f"{len(missing)} of {len(acknowledged)} answered calls have no event"
        print(f"{len(acknowledged)} answered calls before kill -9, {len(recorded)} events after")
    except BaseException:
        print(s.log())
        raise
    finally:
        stop.set()
        s.close()
