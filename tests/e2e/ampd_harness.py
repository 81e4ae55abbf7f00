"""Starts and stops a real ampd process for the end-to-end tests.

Every test talks to the binary over loopback with the same clients users have (boto3, the aws
CLI), so nothing here imports or imitates ampd internals.
"""

import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
# The account root user's access key every test server starts with (AMPD_ROOT_* variables).
ROOT_ACCESS_KEY = "AKIAAMPDE2ETESTKEY01"
ROOT_SECRET_KEY = "e2e-secret-key-not-used-for-anything-else"


def ampd_binary() -> Path:
    """The ampd binary under test: $AMPD_BIN, else the workspace's debug build."""
    explicit = os.environ.get("AMPD_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "ampd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ampd:
    """One ampd process with its own data folder and loopback port; restartable in place."""

    def __init__(
        self,
        data_dir: Path | None = None,
        extra_args: list[str] | None = None,
        tls: ssl.SSLContext | None = None,
    ):
        """`tls`: the server speaks HTTPS (its TLS flags are in `extra_args`); the context is
        what the readiness check connects with."""
        self._tmp = None
        self.tls = tls
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ampd-e2e-")
            data_dir = Path(self._tmp.name)
        self.data_dir = data_dir
        self.port = free_port()
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> "Ampd":
        args = [
            str(ampd_binary()),
            "serve",
            "--listen", f"127.0.0.1:{self.port}",
            "--data-dir", str(self.data_dir / "data"),
            "--region", REGION,
            *self.extra_args,
        ]
        log = open(self.log_path, "ab")
        env = {
            **os.environ,
            "AMPD_ROOT_ACCESS_KEY_ID": ROOT_ACCESS_KEY,
            "AMPD_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET_KEY,
        }
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ampd exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1, context=self.tls) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"ampd did not become healthy:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stops the process (SIGTERM by default, SIGKILL for crash tests); returns its exit code."""
        if self.proc is None:
            return 0
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code

    def restart(self) -> "Ampd":
        self.stop()
        return self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-20000:]
        except OSError:
            return ""

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
