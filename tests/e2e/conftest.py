"""Fixtures shared by the end-to-end tests: a running ampd and AWS clients pointed at it."""

import json
import os
import subprocess
from pathlib import Path

import boto3
import botocore.config
import pytest

from ampd_harness import REGION, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, Ampd

# The signing client uses the account root user's key, which the harness gives every server.
ACCESS_KEY = ROOT_ACCESS_KEY
SECRET_KEY = ROOT_SECRET_KEY


def client_for(server: Ampd, service: str = "amp"):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 2}),
    )


def aws_cli(url: str, home: Path):
    """Returns `run(*args, key=(id, secret), expect_ok=True)` driving the real aws CLI against
    `url`, with a home and config files of its own: the parsed JSON output when `expect_ok`
    (failing the test otherwise), else the finished process."""

    def run(*args, key=(ACCESS_KEY, SECRET_KEY), expect_ok=True):
        env = {
            **os.environ,
            "HOME": str(home),
            "AWS_ACCESS_KEY_ID": key[0],
            "AWS_SECRET_ACCESS_KEY": key[1],
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        }
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SESSION_TOKEN", None)
        proc = subprocess.run(
            ["aws", *args, "--endpoint-url", url, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if expect_ok:
            assert proc.returncode == 0, f"aws {' '.join(args)} failed:\n{proc.stderr}"
            return json.loads(proc.stdout) if proc.stdout.strip() else {}
        return proc

    return run


@pytest.fixture(scope="session")
def ampd():
    server = Ampd().start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def amp(ampd):
    return client_for(ampd)
