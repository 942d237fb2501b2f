"""The letter pipeline through the real services (issue 5): issue-time checks (RULES.md 6.2), dispatch on
commit, rendering by compare-and-set into one E-Akte entry (R-ARC-1, T14 in-process), the outbox when the
broker is down (T9), the four-eyes release, and P5 for minors.

Rendering runs in-process here (CELERY_TASK_ALWAYS_EAGER without a broker); tests/letters/test_celery.py
runs the same against a real Redis and a real worker.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pikepdf
import pypdf
import pytest
import time_machine
from django.utils import timezone

from cases.models import TimelineEvent
from kooperationsplan import escalations
from kooperationsplan.models import Appointment
from kooperationsplan.reasons import TEXTS
from kooperationsplan.workflow import WorkflowRefused
from letters import services, tasks
from letters.models import ArchiveEntry, Letter
from letters.selectors import letters_awaiting_release
from letters.services import RELEASE_REFUSALS, LetterReleaseRefused, letter_release, letter_render
from tests.factories import UserFactory
from tests.kooperationsplan.workflow_helpers import BERLIN, active_plan, at, in_days, key, new_case

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def invite(case, *, kind="FOLGE", **overrides):
    data = {
        "case_id": case.pk,
        "actor": case.responsible,
        "kind": kind,
        "starts_at": at(in_days(10)),
        "location": "Raum 1.07",
        "meldezweck": "Gespräch über Ihre Bewerbungen",
        "idempotency_key": key("inv"),
        **overrides,
    }
    return escalations.invitation_issue(**data)


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


# --- RULES.md 6.2 at issue time ---------------------------------------------------------------------------------


def test_missing_required_field_refuses_the_step_with_a_german_reason_and_changes_nothing(clock):
    case = new_case()
    active_plan(case)
    case.elb.street = ""
    case.elb.save()
    letters, appointments, events = Letter.objects.count(), Appointment.objects.count(), TimelineEvent.objects.count()

    with pytest.raises(WorkflowRefused) as refused:
        invite(case)

    (reason,) = refused.value.decision.reasons
    assert (reason.code, reason.rule_id) == ("letter.not_issuable", "RULES-6.2")
    sentence = TEXTS[reason.code].format(**reason.params)
    assert "Pflichtangaben fehlen" in sentence
    assert "Straße und Hausnummer der Anschrift 1" in sentence
    assert (Letter.objects.count(), Appointment.objects.count(), TimelineEvent.objects.count()) == (
        letters,
        appointments,
        events,
    )


def test_every_issued_letter_of_a_workflow_passes_the_render_checks(clock):
    """The same checks at issue and at render time: what was issued can be rendered."""
    case = new_case()
    active_plan(case)
    invite(case)
    for letter in Letter.objects.filter(case=case):
        services.check_snapshot(letter.context, kind=letter.kind, recipients=letter.recipients)


# --- Dispatch on commit and rendering -------------------------------------------------------------------------


def test_issue_dispatches_rendering_on_commit_and_files_one_archive_entry(clock, django_capture_on_commit_callbacks):
    case = new_case()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        active_plan(case)
    assert len(callbacks) == 1  # the KP document
    kp = Letter.objects.get(case=case, kind="KP_DOKUMENT")
    assert kp.status == Letter.Status.RENDERED
    assert bytes(kp.pdf).startswith(b"%PDF-1.7")
    entry = ArchiveEntry.objects.get(letter=kp)
    assert (entry.case_id, entry.document_type, entry.version, entry.sha256) == (
        case.pk,
        "Kooperationsplan",
        1,
        kp.sha256,
    )
    event = TimelineEvent.objects.get(case=case, code="letter.archived")
    assert event.reason_codes == ["R-ARC-1:archive.file"]
    assert "Version 1" in event.summary


def test_second_run_and_redelivery_store_nothing_new(clock, django_capture_on_commit_callbacks):
    """T14 in-process: the render job run again (a redelivery) finds the letter rendered and stores nothing."""
    case = new_case()
    with django_capture_on_commit_callbacks(execute=True):
        active_plan(case)
    kp = Letter.objects.get(case=case, kind="KP_DOKUMENT")
    before = (kp.sha256, kp.rendered_at, kp.render_attempts)

    assert tasks.render_letter.apply(args=(kp.pk,)).get() == "nothing-to-do"
    assert letter_render(letter_id=kp.pk) == "nothing-to-do"

    kp.refresh_from_db()
    assert (kp.sha256, kp.rendered_at, kp.render_attempts) == before
    assert ArchiveEntry.objects.filter(letter=kp).count() == 1
    assert TimelineEvent.objects.filter(case=case, code="letter.archived").count() == 1


def test_a_running_claim_is_respected_and_an_expired_one_is_taken_over(clock, settings):
    """A worker that died mid-render leaves its claim; after the lease another worker takes over (T14)."""
    case = new_case()
    active_plan(case)
    kp = Letter.objects.get(case=case, kind="KP_DOKUMENT")
    Letter.objects.filter(pk=kp.pk).update(render_attempts=1, render_started_at=timezone.now())

    assert letter_render(letter_id=kp.pk) == "claimed-elsewhere"
    clock.shift(timedelta(seconds=settings.LETTER_RENDER_LEASE_SECONDS + 1))
    assert letter_render(letter_id=kp.pk) == "rendered"

    kp.refresh_from_db()
    assert (kp.status, kp.render_attempts) == (Letter.Status.RENDERED, 2)
    assert ArchiveEntry.objects.filter(letter=kp).count() == 1


def test_a_slow_worker_that_lost_its_claim_stores_nothing(clock, settings, monkeypatch):
    """Two renders of one letter: the one whose claim was taken over must not store (compare-and-set)."""
    case = new_case()
    active_plan(case)
    kp = Letter.objects.get(case=case, kind="KP_DOKUMENT")
    real_render = services.render_letter_pdf

    def overtaken(*args, **kwargs):
        pdf = real_render(*args, **kwargs)
        # While this worker rendered, its lease ran out and another worker claimed and stored the letter.
        clock.shift(timedelta(seconds=settings.LETTER_RENDER_LEASE_SECONDS + 1))
        monkeypatch.setattr(services, "render_letter_pdf", real_render)
        assert letter_render(letter_id=kp.pk) == "rendered"
        return pdf

    monkeypatch.setattr(services, "render_letter_pdf", overtaken)
    assert letter_render(letter_id=kp.pk) == "stored-elsewhere"
    assert ArchiveEntry.objects.filter(letter=kp).count() == 1
    assert Letter.objects.get(pk=kp.pk).render_attempts == 2


def test_a_snapshot_that_cannot_be_rendered_fails_permanently_with_a_german_reason(clock):
    case = new_case()
    active_plan(case)
    kp = Letter.objects.get(case=case, kind="KP_DOKUMENT")
    context = dict(kp.context, rfb={"kind": "KP_DOKUMENT", "duty": "x", "percent": 10, "months": 1})
    Letter.objects.filter(pk=kp.pk).update(context=context)

    assert letter_render(letter_id=kp.pk) == "failed"

    kp.refresh_from_db()
    assert kp.status == Letter.Status.FAILED
    assert kp.render_error == "R-KP-2: Ein Kooperationsplan enthält nie eine Rechtsfolgenbelehrung."
    assert not ArchiveEntry.objects.filter(letter=kp).exists()
    assert letter_render(letter_id=kp.pk) == "nothing-to-do"


def test_a_letter_that_keeps_killing_its_worker_is_given_up(clock):
    case = new_case()
    active_plan(case)
    kp = Letter.objects.get(case=case, kind="KP_DOKUMENT")
    Letter.objects.filter(pk=kp.pk).update(render_attempts=services.MAX_RENDER_ATTEMPTS)

    assert letter_render(letter_id=kp.pk) == "failed"
    kp.refresh_from_db()
    assert kp.status == Letter.Status.FAILED
    assert "nach 5 Versuchen" in kp.render_error


def test_only_transient_errors_are_retried():
    from django.db import OperationalError

    assert tasks.render_letter.autoretry_for == (OperationalError, tasks.InterfaceError)
    assert tasks.render_letter.acks_late is True
    assert tasks.render_letter.reject_on_worker_lost is True


# --- T9: broker down --------------------------------------------------------------------------------------------


@pytest.fixture
def broker_down(monkeypatch):
    attempts: list[int] = []

    def refuse(args, **kwargs):
        attempts.append(args[0])
        raise ConnectionRefusedError(111, "Connection refused")

    # A broker is configured (no eager mode), and it refuses the connection.
    monkeypatch.setitem(tasks.render_letter.app.conf, "CELERY_TASK_ALWAYS_EAGER", False)
    monkeypatch.setattr(tasks.render_letter, "apply_async", refuse)
    yield attempts
    services.broker_breaker.reset()


def test_t9_after_a_failed_publish_requests_stop_trying_the_broker_for_a_while(
    clock, broker_down, django_capture_on_commit_callbacks
):
    """A refused connection costs the connect timeout; the next letters go straight to the outbox."""
    case = new_case()
    with django_capture_on_commit_callbacks(execute=True):
        active_plan(case)
        invite(case)
        invite(case)
    assert len(broker_down) == 1
    assert Letter.objects.filter(case=case, status="ISSUED", dispatched_at__isnull=True).count() == 3
    # The sweep is the retry: it ignores the pause, and stops at the first failure.
    clock.shift(timedelta(minutes=5))
    assert services.letters_dispatch_pending() == []
    assert len(broker_down) == 2


def test_t9_broker_down_issuing_succeeds_and_the_sweep_dispatches_later(
    clock, broker_down, django_capture_on_commit_callbacks, monkeypatch, settings
):
    case = new_case()
    active_plan(case)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = invite(case)
    letter = Letter.objects.get(pk=appointment.letter_id)
    assert (letter.status, letter.dispatched_at, letter.render_attempts) == (Letter.Status.ISSUED, None, 0)
    kp_id = Letter.objects.get(case=case, kind="KP_DOKUMENT").pk

    # Within the grace time nothing is re-dispatched (the dispatch on commit may still be on its way).
    assert services.letters_dispatch_pending() == []
    clock.shift(timedelta(seconds=settings.LETTER_DISPATCH_GRACE_SECONDS + 1))
    assert services.letters_dispatch_pending() == []  # broker still down: stays in the outbox

    monkeypatch.undo()  # the broker is back
    pending = set(Letter.objects.filter(status=Letter.Status.ISSUED).values_list("pk", flat=True))
    assert set(services.letters_dispatch_pending()) == pending == {letter.pk, kp_id}
    letter.refresh_from_db()
    assert letter.status == Letter.Status.RENDERED
    assert tasks.dispatch_pending_letters.apply().get() == 0


def test_a_lost_job_is_dispatched_again_after_the_lost_time(clock, settings, monkeypatch):
    case = new_case()
    active_plan(case)
    kp = Letter.objects.get(case=case, kind="KP_DOKUMENT")
    Letter.objects.filter(pk=kp.pk).update(dispatched_at=timezone.now())
    sent: list[int] = []
    monkeypatch.setattr(tasks.render_letter, "apply_async", lambda args, **kwargs: sent.append(args[0]))

    clock.shift(timedelta(seconds=settings.LETTER_DISPATCH_GRACE_SECONDS + 1))
    assert services.letters_dispatch_pending() == []
    clock.shift(timedelta(seconds=settings.LETTER_DISPATCH_LOST_SECONDS))
    assert services.letters_dispatch_pending() == [kp.pk]
    assert sent == [kp.pk]


# --- Four-eyes release --------------------------------------------------------------------------------------------


@pytest.fixture
def four_eyes_case(clock):
    case = new_case()
    jobcenter = case.team.jobcenter
    jobcenter.four_eyes_rfb_letters = True
    jobcenter.save()
    active_plan(case)
    return case


def test_four_eyes_rfb_letter_waits_for_release_and_is_not_rendered(four_eyes_case, django_capture_on_commit_callbacks):
    case = four_eyes_case
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        appointment = invite(case)
    letter = Letter.objects.get(pk=appointment.letter_id)
    assert (letter.kind, letter.status) == ("EINL_RFB", Letter.Status.AWAITING_RELEASE)
    assert callbacks == []
    assert letter_render(letter_id=letter.pk) == "nothing-to-do"
    assert list(letters_awaiting_release(case.team)) == [letter]
    # Letters without RFB are not held back.
    assert Letter.objects.get(case=case, kind="KP_DOKUMENT").status == Letter.Status.ISSUED


@pytest.mark.parametrize(
    ("who", "code"),
    [("issuer_tl", "letter.release_second_person"), ("ifk", "letter.release_teamleitung_only")],
)
def test_four_eyes_release_refused_changes_nothing(four_eyes_case, who, code):
    case = four_eyes_case
    actor = UserFactory(tl=True, team=case.team) if who == "issuer_tl" else UserFactory(team=case.team)
    appointment = invite(case, actor=actor)
    with pytest.raises(LetterReleaseRefused) as refused:
        letter_release(letter_id=appointment.letter_id, actor=actor)
    assert refused.value.decision.codes == (code,)
    assert str(refused.value) == RELEASE_REFUSALS[code] == TEXTS[code]
    letter = Letter.objects.get(pk=appointment.letter_id)
    assert (letter.status, letter.released_by) == (Letter.Status.AWAITING_RELEASE, None)
    assert not TimelineEvent.objects.filter(case=case, code="letter.released").exists()


def test_four_eyes_release_by_another_team_lead_of_the_team(four_eyes_case, django_capture_on_commit_callbacks):
    case = four_eyes_case
    appointment = invite(case)
    tl = UserFactory(tl=True, team=case.team)
    foreign_tl = UserFactory(tl=True)
    with pytest.raises(Letter.DoesNotExist):
        letter_release(letter_id=appointment.letter_id, actor=foreign_tl)
    assert list(letters_awaiting_release(foreign_tl.team)) == []

    with django_capture_on_commit_callbacks(execute=True):
        letter_release(letter_id=appointment.letter_id, actor=tl)

    letter = Letter.objects.get(pk=appointment.letter_id)
    assert (letter.status, letter.released_by, letter.released_at is not None) == (Letter.Status.RENDERED, tl, True)
    assert ArchiveEntry.objects.filter(letter=letter).count() == 1
    assert TimelineEvent.objects.get(case=case, code="letter.released").reason_codes == ["R-LET-1:letter.released"]
    with pytest.raises(LetterReleaseRefused, match="wartet nicht"):
        letter_release(letter_id=letter.pk, actor=tl)
    assert list(letters_awaiting_release(case.team)) == []


# --- P5: minors -----------------------------------------------------------------------------------------------------


def test_p5_letters_go_to_each_gesetzliche_vertretung_with_a_copy_to_the_minor(
    clock, django_capture_on_commit_callbacks
):
    case = new_case(minor=True)
    active_plan(case)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = invite(case)
    letter = Letter.objects.get(pk=appointment.letter_id)
    assert letter.kind == "EINL_RFB"
    assert [r["role"] for r in letter.recipients] == ["gesetzliche_vertretung", "gesetzliche_vertretung", "kopie_elb"]
    text = text_of(bytes(letter.pdf))
    for recipient in letter.recipients:
        assert recipient["name"] in text
    assert text.count("Kopie zur Kenntnis") == 1
    assert text.count("als gesetzliche Vertretung von") == 2
    pdf = pikepdf.open(io.BytesIO(bytes(letter.pdf)))
    assert str(pdf.Root.Lang) == "de"
