"""Celery tasks of the nightly jobs: thin, they take a date or a scan name and call one service.

Beat (config/celery.py) sends `nightly_scans` at 01:30 Europe/Berlin and `notification_digest` at 06:30.
`nightly_scans` fixes the day once and chains one task per scan, so a retried or delayed scan still
works for that day. Every scan is idempotent (kooperationsplan.nightly), so acks_late is safe: a scan
redelivered after a worker died writes nothing twice. Only transient errors are retried.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from smtplib import SMTPException
from typing import Any

from celery import chain, shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from kooperationsplan import nightly, notifications

TRANSIENT_ERRORS = (OperationalError, InterfaceError)
RETRY = {"retry_backoff": 10, "retry_backoff_max": 600, "retry_jitter": True, "max_retries": 6}


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, **RETRY)
def nightly_scan(key: str, on: str) -> dict[str, Any]:
    """One scan of kooperationsplan.nightly.SCANS, by its key, for the day `on` (ISO date)."""
    return asdict(nightly.scan_run(nightly.scan_get(key), date.fromisoformat(on)))


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, **RETRY)
def nightly_scans(on: str | None = None) -> str:
    """Beat "nightly-scans": every scan for today (Berlin), one after the other."""
    day = on or timezone.localdate().isoformat()
    chain(*(nightly_scan.si(scan.key, day) for scan in nightly.SCANS)).apply_async()
    return day


@shared_task(acks_late=True, autoretry_for=(*TRANSIENT_ERRORS, SMTPException, ConnectionError), **RETRY)
def notification_digest(on: str | None = None) -> int:
    """Beat "notification-digest": the daily e-mail per person; a second delivery sends nothing."""
    return notifications.digest_send(date.fromisoformat(on) if on else timezone.localdate())
