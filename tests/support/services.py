"""Start and stop oncorelay's three services as real processes for integration tests."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "annotate", "notify")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(url: str, timeout: float = 2) -> int | None:
    """HTTP status of a GET; None when nothing answers within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


class ServiceProcesses:
    """The three services, each a `python -m services.<name>` process with its own port and log."""

    running: "list[ServiceProcesses]" = []  # every set with a started process, for failure reports

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.ports = {name: free_port() for name in SERVICES}
        for name, port in self.ports.items():
            self.env[f"ONCORELAY_{name.upper()}_PORT"] = str(port)
        self.env.setdefault("ONCORELAY_NOTIFY_API_PORT", str(free_port()))
        self.api_port = int(self.env["ONCORELAY_NOTIFY_API_PORT"])
        self.env.setdefault("ONCORELAY_INGEST_API_PORT", str(free_port()))
        self.lab_api_port = int(self.env["ONCORELAY_INGEST_API_PORT"])
        self.processes: dict[str, subprocess.Popen] = {}

    def url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def start(self, name: str) -> None:
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"], cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        if self not in ServiceProcesses.running:
            ServiceProcesses.running.append(self)

    def wait_ready(self, name: str, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited with {self.processes[name].returncode}:\n{self.log_tail(name)}")
            if http_status(self.url(name, "/readyz")) == 200:
                return
            time.sleep(0.2)
        raise TimeoutError(f"{name} not ready after {timeout_s} s:\n{self.log_tail(name)}")

    def start_all(self) -> None:
        """Start the three services and wait until each is ready; on failure, stop them all."""
        try:
            for name in SERVICES:
                self.start(name)
            for name in SERVICES:
                self.wait_ready(name)
        except BaseException:
            self.stop_all()
            raise

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send `sig` and wait for the process to end (SIGKILL after 30 s if it ignores SIGTERM)."""
        process = self.processes[name]
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_all(self) -> None:
        for name in self.processes:
            self.kill(name, signal.SIGTERM)
        if self in ServiceProcesses.running:
            ServiceProcesses.running.remove(self)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def base_env(**overrides: str) -> dict[str, str]:
    """The current environment (which points at the test broker and database) plus overrides."""
    env = {k: v for k, v in os.environ.items()}
    env.update(overrides)
    return env
