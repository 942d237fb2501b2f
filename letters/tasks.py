"""Celery tasks of the letters app: thin, they take ids and call one service (DESIGN.md "Jobs")."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from letters import services

# Only transient errors are retried: the database restarting or unreachable. A snapshot that cannot be
# rendered is permanent and ends as FAILED with a German reason inside the service.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    acks_late=True,  # idempotent (claim and store by compare-and-set), so a redelivery is safe (T14)
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def render_letter(letter_id: int) -> str:
    return services.letter_render(letter_id=letter_id)


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=5, max_retries=3)
def dispatch_pending_letters() -> int:
    """Beat "dispatch-pending-letters": the outbox sweep (T9)."""
    return len(services.letters_dispatch_pending())
