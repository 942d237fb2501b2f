"""The letter pipeline against a REAL Redis and a REAL Celery worker (QUALITY.md T9, T14).

Each worker is `celery -A config worker` in a subprocess on a queue of its own, connected to the test
database (the tests are transactional, so the worker sees the committed rows). T14 uses Redis db 5 of the
test Redis (tests/redis_server.py); T9 starts a private redis-server on a free port, so that it can be
stopped and started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from config.celery import app
from letters import services
from letters.models import ArchiveEntry, Letter
from letters.rendering import render_letter_pdf
from rules.ruleset import CURRENT
from tests.celery_processes import CELERY, ROOT, real_broker, wait_for, worker_environment
from tests.conftest import client_for
from tests.factories import CaseFactory
from tests.kooperationsplan.workflow_helpers import active_plan, new_case
from tests.letters.snapshots import recipients, snapshot
from tests.redis_server import free_port, redis_url, start_redis_server

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("celery-letters")]


VISIBILITY_TIMEOUT = 3  # seconds until Redis gives an unacknowledged message to another worker


class Worker:
    def __init__(self, broker_url: str, queue: str, log: Path, **env: str) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                CELERY,
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{queue}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=worker_environment(
                broker_url,
                queue,
                CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
                LETTER_RENDER_LEASE_SECONDS="2",
                **env,
            ),
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.log = log

    def kill(self) -> None:
        """SIGKILL: the worker dies at once, without acknowledging the message it works on."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(tmp_path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(broker_url: str, queue: str, **env: str) -> Worker:
        worker = Worker(broker_url, queue, tmp_path / "worker.log", **env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def queue() -> str:
    return f"letters-test-{os.getpid()}-{time.monotonic_ns()}"


def status(letter_id: int) -> tuple[str, int]:
    letter = Letter.objects.only("status", "render_attempts").get(pk=letter_id)
    return letter.status, letter.render_attempts


def test_t14_worker_killed_while_rendering_letter_is_stored_once_after_redelivery(workers, queue, ifk_nord):
    """T14: SIGKILL during the render; Redis redelivers the unacknowledged job (acks_late) to the next worker,
    which takes over the expired claim; the letter and its E-Akte entry are stored exactly once."""
    case = CaseFactory(responsible=ifk_nord)
    snap = snapshot("AUFF_15_5")
    snap["content"]["breach"] = "Die vereinbarten Bewerbungsnachweise fehlen. " * 900  # a long letter: seconds
    shared_broker = redis_url(5)
    with real_broker(shared_broker, queue):
        first = workers(shared_broker, queue)
        letter = services.letter_issue(
            case=case,
            kind="AUFF_15_5",
            letter_date=date(2026, 5, 12),
            recipients=recipients("AUFF_15_5"),
            context=snap,
            with_rfb=True,
            is_va=True,
            issued_by=ifk_nord,
            idempotency_key=f"t14-{queue}",
            rule_set=CURRENT.id,
        )
        wait_for(lambda: status(letter.pk) == ("ISSUED", 1), timeout=60, what="der erste Worker beginnt")
        first.kill()
        # kombu gives unacknowledged messages back when a worker starts, then only every 100 s: the next worker
        # starts once the visibility timeout has passed, so that its start-up restores the message.
        time.sleep(VISIBILITY_TIMEOUT + 1)
        assert status(letter.pk) == ("ISSUED", 1)
        assert not ArchiveEntry.objects.filter(letter_id=letter.pk).exists()

        workers(shared_broker, queue)
        wait_for(lambda: status(letter.pk)[0] == "RENDERED", timeout=90, what="Zustellung an den zweiten Worker")
        letter.refresh_from_db()
        assert letter.render_attempts == 2
        (entry,) = ArchiveEntry.objects.filter(letter=letter)
        assert entry.sha256 == letter.sha256
        expected = render_letter_pdf(
            letter.context, kind=letter.kind, recipients=letter.recipients, letter_number=letter.number
        )
        assert bytes(letter.pdf) == expected  # the frozen snapshot, rendered deterministically

        # A further delivery of the same job (e.g. the outbox sweep) stores nothing new.
        assert services.letter_dispatch(letter.pk) is True
        time.sleep(3)
        letter.refresh_from_db()
        assert (letter.render_attempts, ArchiveEntry.objects.filter(letter=letter).count()) == (2, 1)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[Callable[[], subprocess.Popen]]:
    """A Redis of this test alone, which it can stop and start again on the same port."""
    port = free_port()
    running: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        server = start_redis_server(port, str(tmp_path))
        running.append(server)
        return server

    start.url = f"redis://127.0.0.1:{port}/0"  # type: ignore[attr-defined]
    yield start
    for server in running:
        server.terminate()
        server.wait(timeout=10)


def test_t9_redis_down_issuing_succeeds_fast_and_the_beat_sweep_dispatches_later(
    workers, queue, private_redis, ifk_nord
):
    """T9: with Redis down the invitation is saved at once (the Letter row is the outbox), the page says
    "wird erzeugt"; once Redis is back, the beat job hands the letter to the worker and it is rendered."""
    case = new_case(ifk=ifk_nord)
    active_plan(case)
    url = private_redis.url  # type: ignore[attr-defined]
    client = client_for(ifk_nord)
    with real_broker(url, queue):
        started = time.monotonic()
        response = client.post(
            f"/faelle/{case.pk}/aktion/invitation/",
            {
                "token": f"t9-{queue}",
                "kind": "FOLGE",
                "date": (timezone.localdate() + timedelta(days=10)).isoformat(),
                "time": "10:00",
                "location": "Raum 1.07",
                "meldezweck": "Gespräch über Ihre Bewerbungen",
                "choice": "DEFAULT",
            },
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 302, response.content.decode()[:2000]
        assert elapsed < 10, elapsed
        print(f"T9: Anfrage bei ausgefallenem Redis in {elapsed:.2f} s")
        letter = Letter.objects.get(case=case, kind="EINL_RFB")
        assert (letter.status, letter.dispatched_at) == ("ISSUED", None)
        page = client.get(f"/faelle/{case.pk}/schreiben/").content.decode()
        assert "wird erzeugt" in page
        assert "die Erzeugung wird automatisch nachgeholt" in page

        private_redis()  # Redis is back
        workers(url, queue, LETTER_DISPATCH_GRACE_SECONDS="0")
        app.send_task("letters.tasks.dispatch_pending_letters", queue=queue)  # what beat sends every 5 minutes
        wait_for(lambda: status(letter.pk)[0] == "RENDERED", timeout=90, what="Erzeugung nach der Rückkehr")
        letter.refresh_from_db()
        assert letter.dispatched_at is not None
        assert ArchiveEntry.objects.filter(letter=letter).count() == 1
        assert "PDF herunterladen" in client.get(f"/faelle/{case.pk}/schreiben/").content.decode()
