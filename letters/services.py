"""Issuing letters: freeze the full context into a Letter row. Rendering (issue: letters) reads only
that snapshot; a sent letter is never re-rendered from live data (DESIGN.md "Letters")."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from cases.models import Case, User
from letters.models import Letter, LetterKind

TEMPLATE_VERSION = "2026.1"


class LetterError(Exception):
    """A letter cannot be issued; the message is German and shown to the user."""


def letter_issue(
    *,
    case: Case,
    kind: str,
    letter_date: date,
    recipients: list[dict[str, str]],
    context: dict[str, Any],
    with_rfb: bool,
    is_va: bool,
    issued_by: User,
    idempotency_key: str,
    rule_set: str,
) -> Letter:
    """Create the snapshot row. Idempotent: the same key returns the letter issued before (T8)."""
    if kind not in LetterKind.values:
        raise LetterError(f"Unbekannte Schreibenart: {kind}")
    if not recipients:
        raise LetterError("Das Schreiben hat keine Empfängerin und keinen Empfänger.")
    existing = Letter.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        letter = Letter.objects.create(
            case=case,
            kind=kind,
            number=f"tmp-{idempotency_key[:24]}",
            letter_date=letter_date,
            recipients=recipients,
            context=context,
            template_version=TEMPLATE_VERSION,
            rule_set=rule_set,
            with_rfb=with_rfb,
            is_va=is_va,
            issued_by=issued_by,
            idempotency_key=idempotency_key,
        )
        letter.number = f"{letter_date.year}-{letter.pk:07d}"
        letter.save(update_fields=["number"])
    return letter
