"""HTTPS on ampd's listener, proven with the clients people use.

- The aws CLI (`--ca-bundle`) and boto3 (`verify=`) work over HTTPS against a server started
  with `--tls-self-signed`, on the control plane and IAM, and refuse it without its CA.
- `aws:SecureTransport` comes from the connection: a user whose policy denies `aps:*` when it is
  false is denied over plain HTTP and allowed the same call over TLS. Two ampd instances with
  separate data folders and the same root credentials serve the two transports, each with the
  same user and policy.
- Rotation: while ampd-bench pushes SigV4-signed remote write over HTTPS, the certificate files
  are replaced; new connections get the new certificate (checked by fingerprint), a connection
  opened before keeps working, and the load ends without a failed request. SIGHUP reloads too.
- Mutual TLS: a client certificate from the configured CA is accepted; none, or one from
  another CA, is refused.
- Start-up failures name the file and the problem.
- Prometheus from Debian (2.42) with `tls_config.ca_file`: that build accepts a `sigv4:` block
  but sends requests unsigned (its AWS signer is removed; test_remote_write.py writes through a
  re-signing relay for that reason), so its interop is proven as far as TLS goes: with the CA it
  completes the handshake and gets ampd's 403 for the unsigned request, which it logs as a
  non-recoverable error; without the CA it logs an x509 verification error. Signed remote write
  over HTTPS is what the rotation test does with ampd-bench.

Test certificates are made with the openssl command line tool.
"""

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import pytest

from ampd_harness import REGION, REPO, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, Ampd, ampd_binary, free_port

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"

# Clears any CA bundle the environment points clients at, so "without the CA" means it.
CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "AWS_PROFILE")
}


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


class Pki:
    """A test CA in a folder, issuing P-256 certificates with the openssl tool."""

    def __init__(self, root: Path, name: str):
        self.dir = root / name
        self.dir.mkdir()
        self.ca = self.dir / "ca.pem"
        self.ca_key = self.dir / "ca-key.pem"
        openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(self.ca_key), "-out", str(self.ca), "-subj", f"/CN={name}",
            "-days", "30",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=self.dir,
        )

    def issue(self, name: str, serial: int, usage: str = "serverAuth") -> tuple[Path, Path]:
        """A certificate for localhost/127.0.0.1 (or a client), and its key."""
        cert, key, csr, ext = (self.dir / f"{name}{s}" for s in (".pem", "-key.pem", ".csr", ".ext"))
        ext.write_text(
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
            f"extendedKeyUsage={usage}\n"
            "basicConstraints=CA:FALSE\n"
            "subjectKeyIdentifier=hash\n"
            "authorityKeyIdentifier=keyid\n"
        )
        openssl(
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}",
            cwd=self.dir,
        )
        openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(self.ca), "-CAkey", str(self.ca_key),
            "-set_serial", str(serial), "-days", "30", "-extfile", str(ext), "-out", str(cert),
            cwd=self.dir,
        )
        return cert, key

    def expired(self, name: str) -> tuple[Path, Path]:
        """A self-signed certificate that expired in 2020 (openssl ca sets both dates)."""
        work = self.dir / name
        work.mkdir()
        (work / "index.txt").write_text("")
        (work / "serial").write_text("01\n")
        (work / "ca.cnf").write_text(
            "[ca]\ndefault_ca = c\n[c]\ndatabase = index.txt\nnew_certs_dir = .\n"
            "serial = serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n"
        )
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem", cwd=work)
        openssl("req", "-new", "-key", "key.pem", "-subj", f"/CN={name}", "-out", "req.csr", cwd=work)
        openssl(
            "ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", "key.pem", "-in", "req.csr",
            "-out", "cert.pem", "-startdate", "20200101000000Z", "-enddate", "20200102000000Z",
            "-notext",
            cwd=work,
        )
        return work / "cert.pem", work / "key.pem"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"), "ampd-test-ca")


def unverified() -> ssl.SSLContext:
    """For readiness checks only; the tests verify with the CA."""
    return ssl._create_unverified_context()


def trusting(ca: Path, client: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    if client:
        ctx.load_cert_chain(str(client[0]), str(client[1]))
    return ctx


def fingerprint(pem: Path) -> str:
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.read_text())).hexdigest()


def full_log(server: Ampd) -> str:
    """The whole log (Ampd.log keeps only the tail, which request lines fill quickly)."""
    return server.log_path.read_text(errors="replace")


def served_fingerprint(server: Ampd, ca: Path) -> str:
    """SHA-256 of the certificate a new connection is given."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        with trusting(ca).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def client(server: Ampd, service: str, verify, key=ROOT_ACCESS_KEY, secret=ROOT_SECRET_KEY, **config):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        verify=verify,
        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}, **config),
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


@pytest.fixture(scope="module")
def secure():
    """ampd with --tls-self-signed; its CA is <data>/tls/ca.pem."""
    server = Ampd(extra_args=["--tls-self-signed"], tls=unverified()).start()
    server.ca = server.data_dir / "data" / "tls" / "ca.pem"
    yield server
    server.close()


def test_aws_cli_trusts_the_generated_ca(secure, tmp_path):
    env = {
        **CLEAN_ENV,
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": ROOT_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": ROOT_SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }

    def aws(*args, ca=True):
        tls = ["--ca-bundle", str(secure.ca)] if ca else []
        return subprocess.run(
            ["aws", *args, "--endpoint-url", secure.url, "--output", "json", *tls],
            env=env, capture_output=True, text=True, timeout=120,
        )

    created = aws("amp", "create-workspace", "--alias", "over-tls")
    assert created.returncode == 0, created.stderr
    ws_id = json.loads(created.stdout)["workspaceId"]
    described = aws("amp", "describe-workspace", "--workspace-id", ws_id)
    assert described.returncode == 0, described.stderr
    endpoint = json.loads(described.stdout)["workspace"]["prometheusEndpoint"]
    assert endpoint == f"{secure.url}/workspaces/{ws_id}/"
    assert endpoint.startswith("https://")
    user = aws("iam", "create-user", "--user-name", "cli-over-tls")
    assert user.returncode == 0, user.stderr
    assert json.loads(user.stdout)["User"]["UserName"] == "cli-over-tls"

    refused = aws("amp", "list-workspaces", ca=False)
    assert refused.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr, refused.stderr


def test_boto3_verifies_with_the_ca(secure):
    amp = client(secure, "amp", verify=str(secure.ca))
    ws = active_workspace(amp, "boto3-over-tls")
    assert ws["prometheusEndpoint"].startswith(f"https://127.0.0.1:{secure.port}/")
    iam = client(secure, "iam", verify=str(secure.ca))
    iam.create_user(UserName="boto3-over-tls")
    assert iam.get_user(UserName="boto3-over-tls")["User"]["UserName"] == "boto3-over-tls"

    for service, call in (("amp", "list_workspaces"), ("iam", "list_users")):
        with pytest.raises(botocore.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            getattr(client(secure, service, verify=True), call)()


TLS_ONLY_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "aps:*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "aps:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ],
})


def tls_only_user(server: Ampd, verify) -> tuple[str, str]:
    iam = client(server, "iam", verify=verify)
    iam.create_user(UserName="tls-only")
    iam.put_user_policy(UserName="tls-only", PolicyName="deny-plain-http", PolicyDocument=TLS_ONLY_POLICY)
    key = iam.create_access_key(UserName="tls-only")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_secure_transport_comes_from_the_connection(secure):
    plain = Ampd().start()
    try:
        key, secret = tls_only_user(plain, verify=None)
        with pytest.raises(botocore.exceptions.ClientError) as denied:
            client(plain, "amp", verify=None, key=key, secret=secret).list_workspaces()
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "aps:ListWorkspaces" in denied.value.response["Error"]["Message"]
    finally:
        plain.close()
    key, secret = tls_only_user(secure, verify=str(secure.ca))
    listed = client(secure, "amp", verify=str(secure.ca), key=key, secret=secret).list_workspaces()
    assert listed["ResponseMetadata"]["HTTPStatusCode"] == 200


def bench_binary() -> Path:
    """ampd-bench from $AMPD_BENCH_BIN, else the workspace's debug build (built if missing)."""
    explicit = os.environ.get("AMPD_BENCH_BIN")
    if explicit:
        return Path(explicit)
    path = ampd_binary().parent / "ampd-bench"
    if not path.exists():
        subprocess.run(
            ["cargo", "build", "-p", "ampd-bench", "--bin", "ampd-bench"], cwd=REPO, check=True, timeout=1200
        )
    return path


def replace(pair: tuple[Path, Path], cert: Path, key: Path) -> None:
    """Installs a new certificate the way tooling does: write aside, then rename over."""
    for source, target in ((pair[1], key), (pair[0], cert)):
        aside = target.with_suffix(".new")
        shutil.copyfile(source, aside)
        os.replace(aside, target)


def wait_for_fingerprint(server: Ampd, ca: Path, expected: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served_fingerprint(server, ca) == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"new connections did not get {expected}\n{server.log()}")


def test_rotation_during_ingestion(pki, tmp_path):
    first, second = pki.issue("rotate-1", 1001), pki.issue("rotate-2", 1002)
    cert, key = tmp_path / "server.pem", tmp_path / "server-key.pem"
    replace(first, cert, key)
    server = Ampd(
        extra_args=["--tls-cert", str(cert), "--tls-key", str(key), "--tls-reload-interval-ms", "200"],
        tls=trusting(pki.ca),
    ).start()
    try:
        assert served_fingerprint(server, pki.ca) == fingerprint(first[0])
        ws = active_workspace(client(server, "amp", verify=str(pki.ca)), "rotation")
        bench = subprocess.Popen(
            [
                str(bench_binary()),
                "--url", ws["prometheusEndpoint"] + "api/v1/remote_write",
                "--ca-cert", str(pki.ca),
                "--sigv4-region", REGION,
                "--access-key", ROOT_ACCESS_KEY,
                "--secret-key", ROOT_SECRET_KEY,
                "--series", "400", "--batch-size", "200", "--concurrency", "2",
                "--duration", "6s", "--json",
            ],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        # A connection made before the rotation, kept alive across it.
        kept = http.client.HTTPSConnection("127.0.0.1", server.port, context=trusting(pki.ca), timeout=10)
        kept.request("GET", "/healthz")
        assert kept.getresponse().read().strip() == b"ok"
        sock = kept.sock
        time.sleep(1.5)
        assert bench.poll() is None, bench.communicate()

        replace(second, cert, key)
        wait_for_fingerprint(server, pki.ca, fingerprint(second[0]))

        kept.request("GET", "/healthz")
        assert kept.getresponse().read().strip() == b"ok"
        assert kept.sock is sock
        assert hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest() == fingerprint(first[0])
        kept.close()

        out, err = bench.communicate(timeout=60)
        assert bench.returncode == 0, err
        report = json.loads(out)
        assert report["failed_requests"] == 0, report
        assert report["samples_sent"] > 0 and report["samples_failed"] == 0, report
        assert "reloaded the TLS certificate on file change" in full_log(server)
    finally:
        server.close()


def test_sighup_reloads(pki, tmp_path):
    first, second = pki.issue("hup-1", 2001), pki.issue("hup-2", 2002)
    cert, key = tmp_path / "server.pem", tmp_path / "server-key.pem"
    replace(first, cert, key)
    # No file polling: only SIGHUP can load the new files.
    server = Ampd(
        extra_args=["--tls-cert", str(cert), "--tls-key", str(key), "--tls-reload-interval-ms", "0"],
        tls=trusting(pki.ca),
    ).start()
    try:
        replace(second, cert, key)
        assert served_fingerprint(server, pki.ca) == fingerprint(first[0])
        server.proc.send_signal(signal.SIGHUP)
        wait_for_fingerprint(server, pki.ca, fingerprint(second[0]))
        assert "reloaded the TLS certificate on SIGHUP" in full_log(server)
        # A broken pair on SIGHUP is refused and the current certificate stays.
        shutil.copyfile(first[1], key)
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while "cannot reload the TLS certificate on SIGHUP" not in full_log(server):
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.1)
        assert f"the private key in {key} does not match the certificate in {cert}" in full_log(server)
        assert served_fingerprint(server, pki.ca) == fingerprint(second[0])
    finally:
        server.close()


def test_mutual_tls(pki, tmp_path):
    server_pair = pki.issue("mtls-server", 3001)
    clients = Pki(tmp_path, "clients-ca")
    good = clients.issue("good-client", 3002, usage="clientAuth")
    stranger = Pki(tmp_path, "stranger-ca").issue("stranger", 3003, usage="clientAuth")
    server = Ampd(
        extra_args=[
            "--tls-cert", str(server_pair[0]), "--tls-key", str(server_pair[1]),
            "--tls-client-ca", str(clients.ca),
        ],
        tls=trusting(pki.ca, good),
    ).start()
    try:
        amp = client(server, "amp", verify=str(pki.ca), client_cert=(str(good[0]), str(good[1])))
        assert amp.list_workspaces()["ResponseMetadata"]["HTTPStatusCode"] == 200
        for presented in (None, stranger):
            with pytest.raises(OSError):
                with urllib.request.urlopen(
                    server.url + "/healthz", timeout=5, context=trusting(pki.ca, presented)
                ) as r:
                    r.read()
        with pytest.raises(botocore.exceptions.SSLError):
            client(server, "amp", verify=str(pki.ca)).list_workspaces()
    finally:
        server.close()


def test_startup_failures_name_the_file(pki, tmp_path):
    cert, key = pki.issue("startup", 4001)
    _, other_key = pki.issue("startup-other", 4002)
    expired_cert, expired_key = pki.expired("expired")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    missing = tmp_path / "missing.pem"
    cases = [
        (["--tls-cert", str(missing), "--tls-key", str(key)], f"cannot read {missing}: No such file"),
        (["--tls-cert", str(cert), "--tls-key", str(folder)], f"cannot read {folder}: Is a directory"),
        (
            ["--tls-cert", str(cert), "--tls-key", str(other_key)],
            f"the private key in {other_key} does not match the certificate in {cert}",
        ),
        (
            ["--tls-cert", str(expired_cert), "--tls-key", str(expired_key)],
            f"the certificate in {expired_cert} expired on Jan  2 00:00:00 2020",
        ),
        (["--tls-cert", str(key), "--tls-key", str(key)], f"{key} holds no PEM certificate"),
        (["--tls-cert", str(cert), "--tls-key", str(cert)], f"{cert} holds no PEM private key"),
        (
            ["--tls-cert", str(cert), "--tls-key", str(key), "--tls-client-ca", str(key)],
            f"{key} holds no PEM certificate",
        ),
        (["--require-tls"], "invalid setting tls.require: TLS is required but not configured"),
        (["--tls-cert", str(cert)], "invalid setting tls.cert: give the certificate and its key together"),
    ]
    for args, message in cases:
        proc = subprocess.run(
            [
                str(ampd_binary()), "serve",
                "--listen", f"127.0.0.1:{free_port()}",
                "--data-dir", str(tmp_path / "data"),
                *args,
            ],
            env=CLEAN_ENV, capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode != 0, (args, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
        assert "listening on" not in proc.stderr


class Prometheus:
    """Debian's Prometheus scraping itself and remote-writing to `url`."""

    def __init__(self, url: str, ca: Path | None):
        self.dir = Path(tempfile.mkdtemp(prefix="ampd-e2e-prometheus-tls-"))
        port = free_port()
        remote = {
            "url": url,
            "sigv4": {"region": REGION, "access_key": ROOT_ACCESS_KEY, "secret_key": ROOT_SECRET_KEY},
            "queue_config": {"batch_send_deadline": "1s", "min_backoff": "100ms", "max_backoff": "500ms"},
        }
        if ca is not None:
            remote["tls_config"] = {"ca_file": str(ca)}
        config = {
            "global": {"scrape_interval": "1s"},
            "scrape_configs": [{"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}],
            "remote_write": [remote],
        }
        (self.dir / "prometheus.yml").write_text(json.dumps(config))
        self.log_path = self.dir / "prometheus.log"
        self.proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={self.dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
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


@pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="prometheus is not installed (tests/setup.sh)")
def test_prometheus_handshakes_with_the_ca_and_not_without(secure):
    ws = active_workspace(client(secure, "amp", verify=str(secure.ca)), "prometheus-tls")
    url = ws["prometheusEndpoint"] + "api/v1/remote_write"
    trusted, untrusted = Prometheus(url, secure.ca), Prometheus(url, None)
    try:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            with_ca, without_ca = trusted.log(), untrusted.log()
            if "non-recoverable error" in with_ca and "x509: certificate signed by unknown authority" in without_ca:
                break
            assert trusted.proc.poll() is None and untrusted.proc.poll() is None, with_ca + without_ca
            time.sleep(0.5)
        # Through TLS to ampd, which refuses the unsigned request.
        assert "non-recoverable error" in with_ca and "403 Forbidden" in with_ca, with_ca
        assert "MissingAuthenticationToken" in with_ca or "Missing Authentication Token" in with_ca, with_ca
        assert "x509" not in with_ca, with_ca
        # No handshake without the CA, so no answer from ampd (timestamps and ids in the log may
        # contain the digits 403, hence the status text).
        assert "x509: certificate signed by unknown authority" in without_ca, without_ca
        assert "403 Forbidden" not in without_ca, without_ca
    finally:
        trusted.close()
        untrusted.close()
