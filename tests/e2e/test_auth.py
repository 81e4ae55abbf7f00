"""SigV4 verification end to end: requests signed by botocore, then broken in one way each."""

import datetime
import json
import urllib.error
import urllib.request

import boto3
import botocore.auth
import botocore.exceptions
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ampd_harness import REGION
from conftest import ACCESS_KEY, SECRET_KEY


def signed(server, method, path, body=b"", secret=SECRET_KEY, presign_expires=None):
    """Returns a botocore-signed request (header auth, or a presigned URL)."""
    request = AWSRequest(
        method=method,
        url=server.url + path,
        data=body,
        headers={"Content-Type": "application/json"} if body else {},
    )
    credentials = Credentials(ACCESS_KEY, secret)
    if presign_expires is None:
        SigV4Auth(credentials, "aps", REGION).add_auth(request)
    else:
        SigV4QueryAuth(credentials, "aps", REGION, expires=presign_expires).add_auth(request)
    return request.prepare()


def send(prepared, body=None):
    """Sends a prepared request, optionally with another body; returns status, error type, JSON."""
    data = prepared.body if body is None else body
    headers = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
    req = urllib.request.Request(prepared.url, data=data, headers=headers, method=prepared.method)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, None, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("x-amzn-ErrorType"), json.loads(e.read() or b"null")


@pytest.fixture
def clock_offset(monkeypatch):
    """Shifts the clock botocore signs with by the given timedelta."""

    def shift(delta):
        real = botocore.auth.get_current_datetime
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: real() + delta)

    return shift


def test_correctly_signed_requests_pass(ampd):
    assert send(signed(ampd, "GET", "/workspaces"))[0] == 200
    assert send(signed(ampd, "GET", "/workspaces", presign_expires=300))[0] == 200


def test_wrong_secret_is_rejected(ampd):
    status, code, body = send(signed(ampd, "GET", "/workspaces", secret="not-the-secret"))
    assert (status, code) == (403, "InvalidSignatureException")
    assert "signature we calculated does not match" in body["message"]


def test_tampered_body_is_rejected(ampd):
    prepared = signed(ampd, "POST", "/workspaces", body=b'{"alias":"signed"}')
    status, code, _ = send(prepared, body=b'{"alias":"swapped"}')
    assert (status, code) == (403, "InvalidSignatureException")


def test_stale_date_is_rejected(ampd, clock_offset):
    clock_offset(-datetime.timedelta(minutes=20))
    status, code, body = send(signed(ampd, "GET", "/workspaces"))
    assert (status, code) == (403, "InvalidSignatureException")
    assert body["message"].startswith("Signature expired")


def test_expired_presigned_url_is_rejected(ampd, clock_offset):
    clock_offset(-datetime.timedelta(minutes=10))
    status, code, body = send(signed(ampd, "GET", "/workspaces", presign_expires=60))
    assert (status, code) == (403, "AccessDeniedException")
    assert body["message"] == "Request has expired"


def test_unknown_key_and_iam_errors_use_query_codes(ampd):
    iam = boto3.client(
        "iam",
        endpoint_url=ampd.url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key="not-the-secret",
    )
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.list_users()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    unknown = boto3.client(
        "amp",
        endpoint_url=ampd.url,
        region_name=REGION,
        aws_access_key_id="AKIAUNKNOWNKEY000000",
        aws_secret_access_key=SECRET_KEY,
    )
    with pytest.raises(botocore.exceptions.ClientError) as e:
        unknown.list_workspaces()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
