"""The nightly job end to end: the REAL beat entry of config/celery.py, a REAL `celery beat` and a REAL
`celery -A config worker`, Redis db 6 and a queue of this test's own, on the test database.

Beat starts with a schedule file in which "nightly-scans" last ran yesterday before 01:30 Berlin time, so
the entry is due at once and beat sends it as it would at 01:30. The worker fixes the day, chains the 21
scans, and writes the reminders; the digest task then sends the e-mail (console backend: into the log).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
from celery.beat import PersistentScheduler
from django.utils import timezone

from config.celery import app
from kooperationsplan.models import Notification, NotificationDigest, Reminder, ReminderKind
from kooperationsplan.tasks import notification_digest
from rules.dates import add_months
from tests.celery_processes import CELERY, ROOT, real_broker, wait_for, worker_environment
from tests.factories import SYNTHETIC_LAST_NAME, CaseFactory, KooperationsplanFactory, PotenzialanalyseFactory
from tests.redis_server import redis_url

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("celery-nightly")]

QUEUE = f"kp-nightly-test-{os.getpid()}"


@contextmanager
def process(arguments: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    started = subprocess.Popen(  # noqa: S603 - fixed arguments
        [CELERY, "-A", "config", *arguments],
        cwd=ROOT,
        env=worker_environment(redis_url(6), QUEUE),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield started
    finally:
        if started.poll() is None:
            os.killpg(started.pid, signal.SIGTERM)
            try:
                started.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(started.pid, signal.SIGKILL)
                started.wait(timeout=5)


def schedule_due_now(path: Path) -> None:
    """A beat schedule file in which the real "nightly-scans" entry last ran yesterday at 01:29 Berlin."""
    scheduler = PersistentScheduler(app=app, schedule_filename=str(path), lazy=True)
    scheduler.setup_schedule()
    yesterday = timezone.localdate() - timedelta(days=1)
    scheduler.schedule["nightly-scans"].last_run_at = timezone.make_aware(
        datetime.combine(yesterday, clock_time(1, 29))
    )
    scheduler.close()


def test_beat_sends_the_nightly_entry_and_a_worker_runs_every_scan(tmp_path):
    entry = app.conf.beat_schedule["nightly-scans"]
    assert entry["task"] == "kooperationsplan.tasks.nightly_scans"
    case = CaseFactory(cooperation_mode="COOP_NO_RFB", elb__last_name=SYNTHETIC_LAST_NAME)
    PotenzialanalyseFactory(case=case, complete=True)
    due = timezone.localdate() + timedelta(days=14)
    KooperationsplanFactory(case=case, active=True, valid_from=add_months(due, -6), valid_to=due, review_due=due)
    schedule = tmp_path / "beat-schedule"
    log = tmp_path / "celery.log"
    with real_broker(redis_url(6), QUEUE):
        schedule_due_now(schedule)
        worker_args = [
            "worker",
            "--pool=solo",
            "-Q",
            QUEUE,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{QUEUE}@%h",
            "-l",
            "info",
        ]
        beat_args = ["beat", "-s", str(schedule), "--pidfile", str(tmp_path / "beat.pid"), "-l", "info"]
        with process(worker_args, log), process(beat_args, log):
            wait_for(
                lambda: "Sending due task nightly-scans" in log.read_text(errors="replace"),
                timeout=25,
                what="beat sendet nightly-scans",
                log=log,
            )
            wait_for(
                lambda: Reminder.objects.filter(kind=ReminderKind.D01_REVIEW, case=case).exists(),
                timeout=25,
                what="Erinnerung D-01 durch den Worker",
                log=log,
            )
            wait_for(
                lambda: log.read_text(errors="replace").count("kooperationsplan.tasks.nightly_scan[") >= 21 * 2,
                timeout=25,
                what="alle 21 Prüfungen empfangen und erledigt",
                log=log,
            )
            notification_digest.apply_async()
            wait_for(
                lambda: NotificationDigest.objects.filter(user=case.responsible).exists(),
                timeout=25,
                what="E-Mail-Zusammenfassung",
                log=log,
            )
    text = log.read_text(errors="replace")
    assert "Traceback" not in text
    reminder = Reminder.objects.get(kind=ReminderKind.D01_REVIEW)
    assert (reminder.due_on, reminder.remind_on) == (due, due - timedelta(days=28))
    assert Notification.objects.get().emailed_at is not None
    assert f"To: {case.responsible.email}" in text
    assert case.elb.kundennummer in text
    assert SYNTHETIC_LAST_NAME not in text
