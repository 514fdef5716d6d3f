"""What every benchmark needs: gunicorn on the bench database, a small HTTP client with cookies, and wrk.

The client is `http.client` on purpose: one persistent connection, no redirects followed, so a timed POST is
exactly one request, and no extra package to install.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
VENV_BIN = Path(sys.executable).parent
LUA_REPORT = BENCH_DIR / "report.lua"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SECRET = "bench-secret-key-not-for-production"  # noqa: S105  (only the bench gunicorn uses it)
#: The bare endpoint's answer: 2,048 bytes of text (32 lines of 64), about the size of a small calendar feed.
FIXED_BODY = (b"x" * 63 + b"\n") * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(database_url: str, base_url: str = "http://127.0.0.1:8000", **extra: str) -> dict[str, str]:
    """The production configuration, as `make serve` runs it, pointed at the bench database."""
    return {
        **os.environ,
        "TAVOLI_CONFIG": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "BASE_URL": base_url,
        # the bench client speaks plain HTTP on loopback; production keeps secure cookies
        "SESSION_COOKIE_SECURE": "false",
        "RATELIMIT_STORAGE_URI": os.environ.get("BENCH_RATELIMIT_URI", "memory://"),
        "LOG_LEVEL": "WARNING",
        "TAVOLI_INSTANCE_PATH": str(OUT_DIR / "instance"),
        **extra,
    }


class Server:
    """gunicorn serving `bench.wsgi:app` on a free port; stopped (by its own pid) when the block ends."""

    def __init__(self, database_url: str, workers: int = 4, threads: int = 1, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.threads = threads
        self.env = app_env(database_url, self.base, **env)
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        OUT_DIR.mkdir(exist_ok=True)
        log = (OUT_DIR / "gunicorn.log").open("ab")
        command = [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                   "--backlog", "2048", "--timeout", "120"]
        if self.threads > 1:
            command += ["--worker-class", "gthread", "--threads", str(self.threads)]
        self.process = subprocess.Popen([*command, "bench.wsgi:app"], cwd=ROOT, env=self.env,  # noqa: S603
                                        stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {OUT_DIR / 'gunicorn.log'}")
            try:
                status, _, _ = Client(self.base).get("/health")
                if status == 200:
                    # every worker imports the app lazily on its first request: warm them all
                    for _ in range(self.workers * 4):
                        Client(self.base).get("/_bench/fixed")
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /health within 60 s")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Client:
    """One persistent HTTP/1.1 connection with a cookie jar, like one browser tab."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    connection: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.connection is None:
            host = self.base.removeprefix("http://")
            name, port = host.split(":")
            self.connection = http.client.HTTPConnection(name, int(port), timeout=120)
        return self.connection

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            connection = self._connection()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # sync gunicorn workers close the connection after each answer: reconnect once
                connection.close()
                self.connection = None
                if attempt:
                    raise
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.headers.get("Connection", "").lower() == "close":
            connection.close()
            self.connection = None
        return response.status, response.headers, data

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, form: dict[str, Any] | list[tuple[str, str]]) -> tuple[int, http.client.HTTPMessage,
                                                                                     bytes]:
        body = urlencode(form, doseq=True).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def csrf(self, path: str) -> str:
        status, _, body = self.get(path)
        match = CSRF.search(body.decode("utf-8", "replace"))
        if match is None:
            raise RuntimeError(f"no csrf token on {path} (status {status})")
        return match.group(1)

    def login_staff(self, email: str, password: str) -> None:
        token = self.csrf("/accedi")
        status, _, _ = self.post("/accedi", {"csrf_token": token, "email": email, "password": password,
                                            "next": ""})
        if status != 302:
            raise RuntimeError(f"staff sign-in answered {status}")

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


@dataclass
class WrkResult:
    """One wrk run: throughput, latency percentiles (ms), and what went wrong."""

    url: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    bad_status: int

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: `make bench-setup` (apt-get install -y wrk)")
    return path


def wrk(url: str, *, seconds: int = 10, connections: int = 8, threads: int = 2,
        headers: dict[str, str] | None = None) -> WrkResult:
    """Load `url` with wrk for `seconds`; the Lua script prints the summary as JSON on the last line."""
    command = [ensure_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s",
               "-s", str(LUA_REPORT)]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout  # noqa: S603
    data = json.loads(output.strip().splitlines()[-1])
    seconds_run = data["duration_us"] / 1e6
    return WrkResult(
        url=url, requests=data["requests"], seconds=round(seconds_run, 2),
        rps=round(data["requests"] / seconds_run, 1), p50_ms=round(data["p50_us"] / 1000, 2),
        p99_ms=round(data["p99_us"] / 1000, 2),
        errors=data["connect"] + data["read"] + data["write"] + data["timeout"], bad_status=data["status"],
    )
