"""Fixtures shared by the end-to-end tests: a running ampd and AWS clients pointed at it."""

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


@pytest.fixture(scope="session")
def ampd():
    server = Ampd().start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def amp(ampd):
    return client_for(ampd)
