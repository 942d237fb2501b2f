"""Letters: issue (freeze the snapshot), render (PDF/A-3a + E-Akte), release (four-eyes) and the outbox.

Issue = freeze, then render (DESIGN.md "Letters"): `letter_issue` checks the snapshot against the catalogue
and the required fields (RULES.md 6.2) and writes the Letter row; rendering is dispatched after the commit.
The Letter row is the outbox (DESIGN.md "Jobs", T9): if the broker is down, the row stays ISSUED and
`letters_dispatch_pending` hands it over later. `letter_render` claims the row by compare-and-set, renders
the frozen snapshot only (never live data) and stores the bytes, the sha256 and one archive entry in one
transaction, so a second run or a redelivery after a killed worker stores nothing new (T14, R-ARC-1).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from cases.models import Case, Role, User
from cases.services import timeline_record
from letters import texts
from letters.models import ArchiveEntry, Letter, LetterKind
from letters.rendering import TEMPLATE_VERSION, LetterError, check_snapshot, render_letter_pdf
from rules.decision import Decision
from rules.letters import archive_needed
from rules.letters import letter_release as release_decision

__all__ = [
    "LetterError",
    "LetterReleaseRefused",
    "letter_dispatch",
    "letter_issue",
    "letter_release",
    "letter_render",
    "letters_dispatch_pending",
]

logger = logging.getLogger(__name__)

# R-ARC-1: the document type in the E-Akte ("Kooperationsplan" is the place named by 001 §6.6).
ARCHIVE_DOCUMENT_TYPES = {kind: texts.KIND_TITLES[kind] for kind in LetterKind.values}
# After this many claims a letter that keeps killing its worker (or never finishes) is given up (FAILED).
MAX_RENDER_ATTEMPTS = 5


class LetterReleaseRefused(LetterError):
    """The four-eyes release was refused; `decision` carries the reason (German sentence in reasons.py)."""

    def __init__(self, decision: Decision, message: str) -> None:
        super().__init__(message)
        self.decision = decision


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
    """Create the snapshot row. Idempotent: the same key returns the letter issued before (T8).

    RULES.md 6.2: the required fields are checked here, before anything is written; a missing one raises
    LetterError with a German message and nothing is issued. With the Jobcenter's four-eyes switch on, a
    letter with RFB waits for the team lead's release and is not rendered before it."""
    if kind not in LetterKind.values:
        raise LetterError(f"Unbekannte Schreibenart: {kind}")
    if not recipients:
        raise LetterError("Das Schreiben hat keine Empfängerin und keinen Empfänger.")
    existing = Letter.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    check_snapshot(context, kind=kind, recipients=recipients)
    four_eyes = with_rfb and case.team.jobcenter.four_eyes_rfb_letters
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
            status=Letter.Status.AWAITING_RELEASE if four_eyes else Letter.Status.ISSUED,
            issued_by=issued_by,
            # The application's clock, the same one the outbox sweep compares with.
            issued_at=timezone.now(),
            idempotency_key=idempotency_key,
        )
        letter.number = f"{letter_date.year}-{letter.pk:07d}"
        letter.save(update_fields=["number"])
        if not four_eyes:
            dispatch_on_commit(letter.pk)
    return letter


_deferred: ContextVar[bool] = ContextVar("letters_dispatch_deferred", default=False)


@contextmanager
def dispatch_deferred() -> Iterator[None]:
    """Letters issued inside stay in the outbox (ISSUED) instead of being handed to the renderer on commit:
    for bulk loads such as the demo data, whose letters `letters_render_pending` or the outbox sweep render
    afterwards."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def dispatch_on_commit(letter_id: int) -> None:
    if _deferred.get():
        return
    # robust: a failing dispatch never breaks the request that issued the letter (T9).
    transaction.on_commit(lambda: letter_dispatch(letter_id), robust=True)


def letters_render_pending(case_ids: Any) -> list[str]:
    """Render, in this process, every letter of these cases that waits in the outbox (e.g. `seed_demo --pdf`
    without a worker); each goes through `letter_render`, the same claim-render-store as the task."""
    pending = Letter.objects.filter(case_id__in=case_ids, status=Letter.Status.ISSUED).order_by("pk")
    return [letter_render(letter_id=letter_id) for letter_id in pending.values_list("pk", flat=True)]


class _BrokerBreaker:
    """After a failed publish, requests stop trying the broker for a while: a refused connection costs about
    the connect timeout (2 s), and a workflow step may issue several letters (T9). The outbox sweep ignores
    the breaker; it is the retry."""

    pause_seconds = 30.0

    def __init__(self) -> None:
        self.open_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self.open_until

    def trip(self) -> None:
        self.open_until = time.monotonic() + self.pause_seconds

    def reset(self) -> None:
        self.open_until = 0.0


broker_breaker = _BrokerBreaker()


def letter_dispatch(letter_id: int, *, sweep: bool = False) -> bool:
    """Hand the rendering job to the broker. Fails fast when the broker is down (T9): the letter stays
    ISSUED with no dispatch time, the page says "wird erzeugt", and the beat job hands it over later."""
    from letters.tasks import render_letter

    # Without a broker (eager mode) the task runs right here: there is no broker to pause for.
    eager = bool(render_letter.app.conf.task_always_eager)
    if broker_breaker.is_open() and not (sweep or eager):
        return False
    try:
        render_letter.apply_async((letter_id,), retry=False)
    except Exception:
        if not eager:
            broker_breaker.trip()
        logger.warning(
            "Schreiben %s: Übergabe an den Hintergrunddienst fehlgeschlagen, wird nachgeholt", letter_id, exc_info=True
        )
        return False
    broker_breaker.reset()
    Letter.objects.filter(pk=letter_id, status=Letter.Status.ISSUED).update(dispatched_at=timezone.now())
    return True


def letters_dispatch_pending(*, now: Any = None) -> list[int]:
    """The outbox sweep (beat, "dispatch-pending-letters"): ISSUED letters never handed over (broker down),
    or handed over so long ago that the job must have been lost, go to the broker again. A duplicate job is
    harmless: rendering claims the row by compare-and-set."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.LETTER_DISPATCH_GRACE_SECONDS)
    lost = timedelta(seconds=settings.LETTER_DISPATCH_LOST_SECONDS)
    pending = (
        Letter.objects.filter(status=Letter.Status.ISSUED)
        .filter(
            Q(dispatched_at__isnull=True, issued_at__lt=now - grace)
            | Q(dispatched_at__lt=now - lost, render_started_at__isnull=True)
            | Q(render_started_at__lt=now - lost)
        )
        .order_by("issued_at")
        .values_list("pk", flat=True)[: settings.LETTER_DISPATCH_BATCH]
    )
    dispatched: list[int] = []
    for letter_id in list(pending):
        if not letter_dispatch(letter_id, sweep=True):
            break  # the broker is still down; the next sweep tries again
        dispatched.append(letter_id)
    return dispatched


# --- Rendering ---------------------------------------------------------------------------------------------


def letter_render(*, letter_id: int) -> str:
    """Render one letter from its frozen snapshot and file it in the E-Akte; returns what happened.

    Claim by compare-and-set on (status ISSUED, render_attempts, expired lease); store by compare-and-set on
    (status ISSUED, the claimed attempt). Whatever is redelivered or run twice, the bytes and the archive
    entry are stored once. A snapshot that cannot be rendered is a permanent error: FAILED with the German
    reason. Database errors propagate, so that the task retries them with backoff."""
    letter = (
        Letter.objects.filter(pk=letter_id)
        .only("pk", "status", "render_attempts", "render_started_at", "case_id")
        .first()
    )
    if letter is None or letter.status != Letter.Status.ISSUED:
        return "nothing-to-do"
    now = timezone.now()
    lease = timedelta(seconds=settings.LETTER_RENDER_LEASE_SECONDS)
    if letter.render_started_at is not None and letter.render_started_at > now - lease:
        return "claimed-elsewhere"
    attempt = letter.render_attempts + 1
    claimed = (
        Letter.objects.filter(pk=letter_id, status=Letter.Status.ISSUED, render_attempts=letter.render_attempts)
        .filter(Q(render_started_at__isnull=True) | Q(render_started_at__lte=now - lease))
        .update(render_attempts=F("render_attempts") + 1, render_started_at=now)
    )
    if not claimed:
        return "claimed-elsewhere"
    if attempt > MAX_RENDER_ATTEMPTS:
        _fail(
            letter_id,
            attempt,
            f"Das Schreiben konnte nach {MAX_RENDER_ATTEMPTS} Versuchen nicht erzeugt werden. "
            "Bitte wenden Sie sich an die Fachadministration.",
        )
        return "failed"
    snapshot = Letter.objects.only("kind", "recipients", "context", "number", "template_version").get(pk=letter_id)
    try:
        pdf = render_letter_pdf(
            snapshot.context,
            kind=snapshot.kind,
            recipients=snapshot.recipients,
            letter_number=snapshot.number,
            template_version=snapshot.template_version,
        )
    except LetterError as error:
        _fail(letter_id, attempt, str(error))
        return "failed"
    return "rendered" if _store(letter_id, attempt, pdf) else "stored-elsewhere"


def _fail(letter_id: int, attempt: int, message: str) -> None:
    Letter.objects.filter(pk=letter_id, status=Letter.Status.ISSUED, render_attempts=attempt).update(
        status=Letter.Status.FAILED, render_error=message[:2000], render_started_at=None
    )


def _store(letter_id: int, attempt: int, pdf: bytes) -> bool:
    """Bytes, hash and E-Akte entry in one transaction, under the case lock (archive versions per case)."""
    sha256 = hashlib.sha256(pdf).hexdigest()
    with transaction.atomic():
        letter = Letter.objects.only("pk", "kind", "case_id", "context", "number").get(pk=letter_id)
        case = Case.objects.select_for_update(of=("self",)).get(pk=letter.case_id)
        stored = Letter.objects.filter(pk=letter_id, status=Letter.Status.ISSUED, render_attempts=attempt).update(
            status=Letter.Status.RENDERED, pdf=pdf, sha256=sha256, rendered_at=timezone.now(), render_error=""
        )
        if not stored:
            return False
        filed = frozenset(ArchiveEntry.objects.filter(case=case, sha256=sha256).values_list("sha256", flat=True))
        decision = archive_needed(sha256, filed)
        if decision.allowed:
            document_type = ARCHIVE_DOCUMENT_TYPES[letter.kind]
            entry = ArchiveEntry.objects.create(
                letter_id=letter_id,
                case=case,
                document_type=document_type,
                version=_archive_version(case, letter, document_type),
                sha256=sha256,
            )
            timeline_record(
                case=case,
                actor=None,
                code="letter.archived",
                summary=f"{document_type} (Schreiben-Nr. {letter.number}) erzeugt und in der E-Akte abgelegt, "
                f"Version {entry.version}",
                decision=decision,
                data={"letter": letter_id, "archive_entry": entry.pk, "sha256": sha256},
            )
    return True


def _archive_version(case: Case, letter: Letter, document_type: str) -> int:
    """R-ARC-1: the KP is filed with its version number; other documents count up per case and type."""
    latest = ArchiveEntry.objects.filter(case=case, document_type=document_type).aggregate(v=Max("version"))["v"] or 0
    kp_version = (letter.context.get("content") or {}).get("version") if letter.kind == "KP_DOKUMENT" else None
    if isinstance(kp_version, int) and kp_version > latest:
        return kp_version
    return latest + 1


# --- Four-eyes release ---------------------------------------------------------------------------------------


def letter_release(*, letter_id: int, actor: User) -> Letter:
    """The team lead releases a letter with RFB that waits for the four-eyes check (Jobcenter setting):
    another person than the issuer, role Teamleitung, same team. Then it is rendered (dispatched on commit).
    A refusal raises LetterReleaseRefused and changes nothing; another team's letter does not exist for the
    actor (Letter.DoesNotExist, the view answers 404)."""
    with transaction.atomic():
        letter = (
            Letter.objects.select_for_update(of=("self",))
            .select_related("case")
            .defer("pdf")
            .get(pk=letter_id, case__team_id=actor.team_id)
        )
        decision = release_decision(
            awaiting_release=letter.status == Letter.Status.AWAITING_RELEASE,
            actor_is_teamleitung=actor.role == Role.TEAMLEITUNG,
            actor_is_issuer=actor.pk == letter.issued_by_id,
        )
        if not decision.allowed:
            raise LetterReleaseRefused(decision, RELEASE_REFUSALS[decision.codes[0]])
        letter.status = Letter.Status.ISSUED
        letter.released_by = actor
        letter.released_at = timezone.now()
        letter.save(update_fields=["status", "released_by", "released_at"])
        timeline_record(
            case=letter.case,
            actor=actor,
            code="letter.released",
            summary=f"{texts.KIND_TITLES[letter.kind]} (Schreiben-Nr. {letter.number}) nach Vier-Augen-Prüfung "
            "freigegeben",
            decision=decision,
            data={"letter": letter.pk},
        )
        dispatch_on_commit(letter.pk)
    return letter


def letter_withdraw_unreleased(*, letter_id: int) -> bool:
    """Cancel a letter that still waits for the four-eyes release (the team lead returned it): it is never
    rendered nor sent; a corrected letter is a new one. Compare-and-set, so a second submit or a release in
    between changes nothing (False). The caller records the decision on the case timeline."""
    return bool(
        Letter.objects.filter(pk=letter_id, status=Letter.Status.AWAITING_RELEASE).update(
            status=Letter.Status.CANCELLED
        )
    )


# The German sentences of the refusals (the same as kooperationsplan/reasons.py, which letters may not import).
RELEASE_REFUSALS = {
    "letter.release_not_awaiting": "Dieses Schreiben wartet nicht auf eine Freigabe.",
    "letter.release_teamleitung_only": "Schreiben mit Rechtsfolgenbelehrung gibt nur die Teamleitung frei.",
    "letter.release_second_person": "Freigeben muss eine andere Person als die, die das Schreiben ausgestellt hat "
    "(Vier-Augen-Prinzip).",
}
