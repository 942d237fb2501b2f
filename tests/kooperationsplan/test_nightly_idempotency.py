"""QUALITY.md T12 and T13 for the nightly job: two runs, two threads and two processes at once create each
reminder, notification, transition and e-mail exactly once; a crash after k of n items followed by a rerun
leaves no gaps and no duplicates."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection, connections

from cases.models import TimelineEvent
from kooperationsplan import nightly, notifications, reminders
from kooperationsplan import schlichtung as schlichtung_services
from kooperationsplan.models import Notification, NotificationDigest, Reminder, ReminderKind, Schlichtung
from rules.dates import add_months
from tests.database import database_url
from tests.factories import (
    CaseFactory,
    KooperationsplanFactory,
    MassnahmeZuweisungFactory,
    PotenzialanalyseFactory,
    SchlichtungFactory,
)

ROOT = Path(__file__).resolve().parents[2]
ON = date(2026, 3, 16)
PLANS = 12
SCHLICHTUNGEN = 4


def scenario(ifk) -> None:
    """Twelve reviews in their reminder phase and four Schlichtungen on day 28, all for one IFK."""
    for index in range(PLANS):
        case = CaseFactory(responsible=ifk, cooperation_mode="COOP_NO_RFB")
        PotenzialanalyseFactory(case=case, complete=True)
        due = ON + timedelta(days=index * 3 - 10)
        KooperationsplanFactory(case=case, active=True, valid_from=add_months(due, -6), valid_to=due, review_due=due)
    for _ in range(SCHLICHTUNGEN):
        started = ON - timedelta(days=28)
        SchlichtungFactory(
            case=CaseFactory(responsible=ifk, cooperation_mode="SCHLICHTUNG_PENDING"),
            started_on=started,
            ends_on=started + timedelta(days=28),
        )


def totals() -> tuple[int, int, int]:
    return (
        Reminder.objects.count(),
        Notification.objects.count(),
        TimelineEvent.objects.filter(code="schlichtung.expired").count(),
    )


def created(results: list[nightly.ScanResult]) -> tuple[int, int, int]:
    return (
        sum(result.reminders for result in results),
        sum(result.notifications for result in results),
        sum(result.transitions for result in results),
    )


@pytest.mark.django_db
def test_T12_a_second_run_creates_nothing(ifk_nord):
    scenario(ifk_nord)
    first = created(nightly.nightly_run(ON))
    assert first == totals() == (PLANS, PLANS, SCHLICHTUNGEN)
    assert created(nightly.nightly_run(ON)) == (0, 0, 0)
    assert totals() == first


def in_parallel(*targets) -> list[object]:
    """Run the callables at the same moment in threads, each with its own database connection."""
    barrier = threading.Barrier(len(targets))
    results: list[object] = [None] * len(targets)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = targets[index]()
        except BaseException as error:  # the assertion below shows it
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
def test_T12_two_runs_at_once_create_everything_exactly_once(ifk_nord):
    scenario(ifk_nord)
    first, second = in_parallel(lambda: nightly.nightly_run(ON), lambda: nightly.nightly_run(ON))
    assert isinstance(first, list), first
    assert isinstance(second, list), second
    together = [a + b for a, b in zip(created(first), created(second), strict=True)]
    assert together == [PLANS, PLANS, SCHLICHTUNGEN]
    assert totals() == (PLANS, PLANS, SCHLICHTUNGEN)
    assert Schlichtung.objects.filter(outcome="RUNNING").count() == 0


@pytest.mark.django_db(transaction=True)
def test_T12_two_digests_at_once_send_one_mail(ifk_nord, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    scenario(ifk_nord)
    nightly.nightly_run(ON)
    first, second = in_parallel(lambda: notifications.digest_send(ON), lambda: notifications.digest_send(ON))
    assert sorted([first, second]) == [0, 1]
    assert len(mail.outbox) == 1
    assert NotificationDigest.objects.get().notification_count == PLANS
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def run_nightly_process(database: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
    }
    return subprocess.Popen(  # noqa: S603 (our own manage.py with fixed arguments)
        [sys.executable, "manage.py", "run_nightly", "--date", ON.isoformat(), "--ohne-mail"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def reported_total(output: str) -> tuple[int, int, int]:
    line = next(line for line in output.splitlines() if line.startswith("Gesamt:"))
    numbers = [int(word) for word in line.replace(",", " ").split() if word.isdigit()]
    return numbers[0], numbers[1], numbers[2]


@pytest.mark.django_db(transaction=True)
def test_T12_two_processes_at_once_create_everything_exactly_once(ifk_nord):
    scenario(ifk_nord)
    processes = [run_nightly_process(connection.settings_dict["NAME"]) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    reports = [reported_total(out) for out, _ in outputs]
    assert [a + b for a, b in zip(*reports, strict=True)] == [PLANS, PLANS, SCHLICHTUNGEN]
    assert totals() == (PLANS, PLANS, SCHLICHTUNGEN)


# --- T13: a crash after k of n items, then a rerun -------------------------------------------------------


class Crash(Exception):
    pass


@pytest.mark.django_db
def test_T13_crash_after_two_of_four_schlichtungen_then_rerun(ifk_nord, monkeypatch):
    scenario(ifk_nord)
    real = schlichtung_services.schlichtung_no_agreement
    calls = {"n": 0}

    def crashing(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash("Worker beendet")
        return real(**kwargs)

    monkeypatch.setattr(schlichtung_services, "schlichtung_no_agreement", crashing)
    with pytest.raises(Crash):
        nightly.nightly_run(ON)
    assert Schlichtung.objects.filter(outcome="NO_AGREEMENT").count() == 2
    monkeypatch.setattr(schlichtung_services, "schlichtung_no_agreement", real)
    nightly.nightly_run(ON)
    assert totals() == (PLANS, PLANS, SCHLICHTUNGEN)
    for schlichtung in Schlichtung.objects.all():
        assert TimelineEvent.objects.filter(case=schlichtung.case, code="schlichtung.expired").count() == 1


@pytest.mark.django_db
def test_T13_crash_after_the_first_batch_of_reminders_then_rerun(ifk_nord, monkeypatch):
    plan = KooperationsplanFactory(case=CaseFactory(responsible=ifk_nord), active=True)
    for _ in range(5):
        MassnahmeZuweisungFactory(plan=plan, status="SCHREIBEN_ISSUED", via="SCHREIBEN", rueckmeldung_due=ON)
    monkeypatch.setattr(nightly, "BATCH_SIZE", 2)
    real = reminders.reminders_write
    batches = {"n": 0}

    def crashing(**kwargs):
        batches["n"] += 1
        if batches["n"] == 2:
            raise Crash("Datenbankverbindung verloren")
        return real(**kwargs)

    monkeypatch.setattr(nightly, "reminders_write", crashing)
    with pytest.raises(Crash):
        nightly.d05_rueckmeldung(ON)
    assert Reminder.objects.filter(kind=ReminderKind.D05_RUECKMELDUNG).count() == 2
    monkeypatch.setattr(nightly, "reminders_write", real)
    rerun = nightly.d05_rueckmeldung(ON)
    assert (rerun.reminders, rerun.notifications) == (3, 3)
    assert Reminder.objects.filter(kind=ReminderKind.D05_RUECKMELDUNG).count() == 5
    assert Notification.objects.filter(reminder__kind=ReminderKind.D05_RUECKMELDUNG).count() == 5


@pytest.mark.django_db
def test_T13_crash_between_two_scans_then_rerun(ifk_nord, monkeypatch):
    scenario(ifk_nord)
    real_scans = nightly.SCANS

    def broken(on):
        raise Crash("Abbruch nach D-01")

    crashing = tuple(
        nightly.Scan(scan.name, scan.label, broken, scan.counts) if scan.name == "D-02" else scan for scan in real_scans
    )
    monkeypatch.setattr(nightly, "SCANS", crashing)
    with pytest.raises(Crash):
        nightly.nightly_run(ON)
    assert totals() == (PLANS, PLANS, SCHLICHTUNGEN)  # everything up to D-01 was written
    monkeypatch.setattr(nightly, "SCANS", real_scans)
    assert created(nightly.nightly_run(ON)) == (0, 0, 0)
    assert totals() == (PLANS, PLANS, SCHLICHTUNGEN)
