"""The Redis of the Celery integration tests (QUALITY.md: "Celery tests against a real Redis").

`make test` must work on a machine where no Redis service runs: the tests use the server at REDIS_URL
(default redis://127.0.0.1:6379, the service that .ci/run starts) when it answers, and otherwise start a
private `redis-server` (Debian package redis-server, installed by scripts/install-system-packages.sh) on a
free port for this test process. Each test module uses a database number of its own.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from functools import cache
from urllib.parse import urlsplit

import pytest


def _accepts(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@cache
def _server() -> str:
    configured = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
    host, port = configured.hostname or "127.0.0.1", configured.port or 6379
    if _accepts(host, port):
        return f"redis://{host}:{port}"
    if shutil.which("redis-server") is None:
        pytest.fail("Kein Redis erreichbar und redis-server fehlt (Debian-Paket redis-server).")
    port = _free_port()
    folder = tempfile.mkdtemp(prefix="kp-redis-")
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            folder,
        ],
        stdout=subprocess.DEVNULL,
    )
    atexit.register(server.terminate)
    deadline = time.monotonic() + 10
    while not _accepts("127.0.0.1", port):
        if time.monotonic() > deadline:
            pytest.fail("redis-server startet nicht.")
        time.sleep(0.05)
    return f"redis://127.0.0.1:{port}"


def redis_url(db: int) -> str:
    """The URL of database `db` on the test Redis (started on first use if no server answers)."""
    return f"{_server()}/{db}"
