"""STS with the real aws CLI and boto3: assumed roles, source profiles and IRSA web identity.

The OIDC issuer is simulated locally: the test makes an RSA key pair, writes its JWKS to a file
that ampd is pointed at (--oidc-jwks), and signs ID tokens like the EKS token projector does.
"""

import base64
import json
import os
import subprocess
import time

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ampd_harness import REGION, Ampd
from conftest import ACCESS_KEY, SECRET_KEY

ACCOUNT = "000000000000"
ISSUER = "https://oidc.ampd.test/id/E2ECLUSTER"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.ampd.test/id/E2ECLUSTER"
SUBJECT = "system:serviceaccount:monitoring:prometheus"
AUDIENCE = "sts.amazonaws.com"
ROLE = "amp-reader"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
NO_RETRY = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    """An OIDC issuer: an RSA key with a kid, its JWKS, and RS256 ID tokens."""

    def __init__(self, kid: str):
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict:
        n = self.key.public_key().public_numbers()
        return {
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
            "n": b64url(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")),
            "e": b64url(n.e.to_bytes(3, "big")),
        }

    def token(self, **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER, "sub": SUBJECT, "aud": [AUDIENCE],
            "iat": now, "nbf": now, "exp": now + 3600,
        }
        claims.update(overrides)
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"


TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/dev"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        },
        {
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "oidc.ampd.test/id/E2ECLUSTER:sub": SUBJECT,
                    "oidc.ampd.test/id/E2ECLUSTER:aud": AUDIENCE,
                }
            },
        },
    ],
}
READ_WORKSPACES = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["aps:ListWorkspaces", "aps:DescribeWorkspace"], "Resource": "*"}
    ],
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A server trusting the local issuer, a role `amp-reader`, a user `dev` allowed to assume it."""
    tmp = tmp_path_factory.mktemp("sts")
    issuer = Issuer("e2e-key-1")
    jwks = tmp / "jwks.json"
    jwks.write_text(json.dumps({"keys": [issuer.jwk()]}))
    server = Ampd(extra_args=["--oidc-jwks", f"{ISSUER}={jwks}"]).start()
    iam = boto3.client(
        "iam", endpoint_url=server.url, region_name=REGION,
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=NO_RETRY,
    )
    iam.create_open_id_connect_provider(Url=ISSUER, ClientIDList=[AUDIENCE])
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(
        RoleName=ROLE, PolicyName="read-workspaces", PolicyDocument=json.dumps(READ_WORKSPACES)
    )
    iam.create_user(UserName="dev")
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    iam.create_user(UserName="stranger")
    stranger = iam.create_access_key(UserName="stranger")["AccessKey"]
    amp = boto3.client(
        "amp", endpoint_url=server.url, region_name=REGION,
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=NO_RETRY,
    )
    workspace = amp.create_workspace(alias="sts-e2e")["workspaceId"]
    yield {
        "server": server, "issuer": issuer, "tmp": tmp, "iam": iam, "workspace": workspace,
        "dev": (key["AccessKeyId"], key["SecretAccessKey"]),
        "stranger": (stranger["AccessKeyId"], stranger["SecretAccessKey"]),
    }
    server.close()


def client(env, service, creds=None, token=None):
    key_id, secret = creds or (ACCESS_KEY, SECRET_KEY)
    return boto3.client(
        service, endpoint_url=env["server"].url, region_name=REGION,
        aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token,
        config=NO_RETRY,
    )


def aws(env, *args, extra_env=None, expect_ok=True):
    """Runs the aws CLI with a private config; AWS_ENDPOINT_URL points every client (also the
    ones credential providers create for STS) at ampd."""
    home = env["tmp"]
    run_env = {
        k: v for k, v in os.environ.items()
        if not k.startswith("AWS_")
    }
    run_env.update({
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": env["server"].url,
        "AWS_MAX_ATTEMPTS": "1",
    })
    run_env.update(extra_env or {})
    proc = subprocess.run(
        ["aws", *args, "--output", "json"], env=run_env, capture_output=True, text=True, timeout=120,
    )
    if expect_ok:
        assert proc.returncode == 0, f"aws {' '.join(args)} failed:\n{proc.stderr}"
        return json.loads(proc.stdout) if proc.stdout.strip() else {}
    assert proc.returncode != 0, f"aws {' '.join(args)} unexpectedly succeeded"
    return proc.stderr


def keys_env(creds, token=None):
    out = {"AWS_ACCESS_KEY_ID": creds[0], "AWS_SECRET_ACCESS_KEY": creds[1]}
    if token:
        out["AWS_SESSION_TOKEN"] = token
    return out


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_get_caller_identity_names_root_and_users(env):
    root = aws(env, "sts", "get-caller-identity", extra_env=keys_env((ACCESS_KEY, SECRET_KEY)))
    assert root == {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:root"}
    dev = aws(env, "sts", "get-caller-identity", extra_env=keys_env(env["dev"]))
    assert dev["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/dev"
    assert dev["UserId"].startswith("AIDA")


def test_session_token_acts_as_the_user(env):
    creds = client(env, "sts", env["dev"]).get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    sts = client(env, "sts", (creds["AccessKeyId"], creds["SecretAccessKey"]), creds["SessionToken"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/dev"
    # The temporary key without its token, or with a forged one, is unknown.
    with pytest.raises(ClientError) as e:
        client(env, "sts", (creds["AccessKeyId"], creds["SecretAccessKey"])).get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"
    forged = creds["SessionToken"][:-8] + "AAAAAAAA"
    with pytest.raises(ClientError) as e:
        client(env, "sts", (creds["AccessKeyId"], creds["SecretAccessKey"]), forged).get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"
    with pytest.raises(ClientError) as e:
        client(env, "sts", env["dev"]).get_session_token(DurationSeconds=129601)
    assert error_code(e) == "ValidationError"


def test_assume_role_with_the_cli_grants_the_roles_permissions_and_no_more(env):
    out = aws(
        env, "sts", "assume-role", "--role-arn", ROLE_ARN, "--role-session-name", "cli",
        extra_env=keys_env(env["dev"]),
    )
    assumed = out["AssumedRoleUser"]
    assert assumed["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/cli"
    assert assumed["AssumedRoleId"].startswith("AROA") and assumed["AssumedRoleId"].endswith(":cli")
    c = out["Credentials"]
    session = keys_env((c["AccessKeyId"], c["SecretAccessKey"]), c["SessionToken"])
    me = aws(env, "sts", "get-caller-identity", extra_env=session)
    assert me["Arn"] == assumed["Arn"]
    listed = aws(env, "amp", "list-workspaces", extra_env=session)["workspaces"]
    assert env["workspace"] in {w["workspaceId"] for w in listed}
    err = aws(env, "amp", "create-workspace", "--alias", "nope", extra_env=session, expect_ok=False)
    assert "AccessDeniedException" in err
    assert f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/cli is not authorized" in err


def test_profile_with_role_arn_and_source_profile(env):
    (env["tmp"] / "credentials").write_text(
        f"[dev]\naws_access_key_id = {env['dev'][0]}\naws_secret_access_key = {env['dev'][1]}\n"
    )
    (env["tmp"] / "config").write_text(
        f"[profile reader]\nrole_arn = {ROLE_ARN}\nsource_profile = dev\nrole_session_name = profile\n"
    )
    profile = {"AWS_PROFILE": "reader"}
    me = aws(env, "sts", "get-caller-identity", extra_env=profile)
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/profile"
    aws(env, "amp", "describe-workspace", "--workspace-id", env["workspace"], extra_env=profile)
    err = aws(env, "amp", "create-workspace", extra_env=profile, expect_ok=False)
    assert "AccessDeniedException" in err


def test_irsa_environment_reaches_amp_with_the_roles_permissions(env):
    token_file = env["tmp"] / "irsa-token"
    token_file.write_text(env["issuer"].token())
    irsa = {
        "AWS_ROLE_ARN": ROLE_ARN,
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
        "AWS_ROLE_SESSION_NAME": "prometheus-0",
    }
    me = aws(env, "sts", "get-caller-identity", extra_env=irsa)
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/prometheus-0"
    listed = aws(env, "amp", "list-workspaces", extra_env=irsa)["workspaces"]
    assert env["workspace"] in {w["workspaceId"] for w in listed}
    err = aws(env, "amp", "create-workspace", extra_env=irsa, expect_ok=False)
    assert "AccessDeniedException" in err


def test_web_identity_tokens_are_checked(env):
    sts = boto3.client("sts", endpoint_url=env["server"].url, region_name=REGION, config=NO_RETRY)

    def assume(token):
        return sts.assume_role_with_web_identity(
            RoleArn=ROLE_ARN, RoleSessionName="pod", WebIdentityToken=token
        )

    ok = assume(env["issuer"].token())
    assert ok["SubjectFromWebIdentityToken"] == SUBJECT
    assert ok["Audience"] == AUDIENCE
    issuer = env["issuer"]
    cases = {
        "other issuer": (issuer.token(iss="https://elsewhere.test"), "InvalidIdentityToken"),
        "wrong audience": (issuer.token(aud="someone-else"), "InvalidIdentityToken"),
        "expired": (issuer.token(exp=int(time.time()) - 60), "ExpiredTokenException"),
        "bad signature": (Issuer(issuer.kid).token(), "InvalidIdentityToken"),
        "sub not trusted": (issuer.token(sub="system:serviceaccount:default:intruder"), "AccessDenied"),
    }
    for name, (token, code) in cases.items():
        with pytest.raises(ClientError) as e:
            assume(token)
        assert error_code(e) == code, name


def test_assume_role_refusals(env):
    with pytest.raises(ClientError) as e:
        client(env, "sts", env["stranger"]).assume_role(RoleArn=ROLE_ARN, RoleSessionName="s1")
    assert error_code(e) == "AccessDenied"
    assert "user/stranger is not authorized to perform: sts:AssumeRole" in str(e.value)
    with pytest.raises(ClientError) as e:
        client(env, "sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="s1")
    assert error_code(e) == "AccessDenied"
    dev = client(env, "sts", env["dev"])
    with pytest.raises(ClientError) as e:
        dev.assume_role(RoleArn=ROLE_ARN, RoleSessionName="s1", DurationSeconds=7200)
    assert error_code(e) == "ValidationError" and "MaxSessionDuration" in str(e.value)
    with pytest.raises(ClientError) as e:
        dev.assume_role(RoleArn=ROLE_ARN, RoleSessionName="has space")
    assert error_code(e) == "ValidationError"


def test_session_policy_narrows_the_role(env):
    only_describe = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "aps:DescribeWorkspace", "Resource": "*"}],
    }
    c = client(env, "sts", env["dev"]).assume_role(
        RoleArn=ROLE_ARN, RoleSessionName="narrow", Policy=json.dumps(only_describe),
        Tags=[{"Key": "team", "Value": "obs"}],
    )["Credentials"]
    amp = client(env, "amp", (c["AccessKeyId"], c["SecretAccessKey"]), c["SessionToken"])
    assert amp.describe_workspace(workspaceId=env["workspace"])["workspace"]["alias"] == "sts-e2e"
    with pytest.raises(ClientError) as e:
        amp.list_workspaces()
    assert error_code(e) == "AccessDeniedException"
    assert "because no session policy allows the aps:ListWorkspaces action" in str(e.value)
