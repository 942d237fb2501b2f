"""What the Celery integration tests share: the path of the `celery` program, the environment of the worker and
beat processes they start, switching this test process's Celery app to a real broker, and waiting for a
condition."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from config.celery import app
from letters import services as letter_services
from tests.database import database_url

ROOT = Path(__file__).resolve().parents[1]
CELERY = str(Path(sys.executable).with_name("celery"))


def worker_environment(broker_url: str, queue: str, **extra: str) -> dict[str, str]:
    """The environment of a worker or beat process: the test database and settings, the broker, the queue."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **extra,
    }


@contextmanager
def real_broker(url: str, queue: str) -> Iterator[None]:
    """Point this test process's Celery app at a real broker (the suite runs tasks eagerly otherwise)."""
    # The app reads Django's settings with the CELERY_ namespace, so the keys carry it here too.
    keys = {"CELERY_BROKER_URL": url, "CELERY_TASK_ALWAYS_EAGER": False, "CELERY_TASK_DEFAULT_QUEUE": queue}
    saved = {key: app.conf[key] for key in keys}

    def reset() -> None:
        # The connection pool and the routing (default queue) are built once per app; build them anew. The old
        # pool is not closed: kombu's global producer pools (also used in eager mode) keep referring to it.
        app._pool = None
        app.__dict__.pop("amqp", None)

    app.conf.update(keys)
    reset()
    try:
        yield
    finally:
        app.conf.update(saved)
        reset()
        letter_services.broker_breaker.reset()  # a refused publish in here must not pause the next tests


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, log: Path | None = None) -> None:
    """Poll `condition` until it holds; fail with `what` (and the end of the process log) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    tail = f"\n{log.read_text(errors='replace')[-4000:]}" if log is not None and log.exists() else ""
    pytest.fail(f"Zeitüberschreitung: {what}{tail}")
