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


def accepts(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis_server(port: int, folder: str) -> subprocess.Popen[bytes]:
    """A private redis-server on 127.0.0.1:`port` without persistence, once it accepts connections."""
    program = shutil.which("redis-server")
    if program is None:
        pytest.fail("redis-server fehlt (Debian-Paket redis-server).")
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not accepts("127.0.0.1", port):
        if time.monotonic() > deadline:
            server.terminate()
            pytest.fail("redis-server startet nicht.")
        time.sleep(0.05)
    return server


@cache
def _server() -> str:
    configured = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
    host, port = configured.hostname or "127.0.0.1", configured.port or 6379
    if accepts(host, port):
        return f"redis://{host}:{port}"
    port = free_port()
    server = start_redis_server(port, tempfile.mkdtemp(prefix="kp-redis-"))
    atexit.register(server.terminate)
    return f"redis://127.0.0.1:{port}"


def redis_url(db: int) -> str:
    """The URL of database `db` on the test Redis (started on first use if no server answers)."""
    return f"{_server()}/{db}"
