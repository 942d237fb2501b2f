"""Mass letter run (T20): invitations to the review talk for the team's KP due within 4 weeks.

Progress is visible, every other case is produced once, the failures are listed with German reasons, and
"nur Fehlgeschlagene wiederholen" touches only the failed ones.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from kooperationsplan import massrun
from kooperationsplan.models import Appointment, Kooperationsplan
from letters.models import Letter, LetterRun, LetterRunItem
from rules.dates import add_months
from tests.conftest import client_for
from tests.kooperationsplan.workflow_helpers import BERLIN, active_plan, new_case

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=BERLIN), tick=False) as traveller:
        yield traveller


def plan_due_in(ifk, days: int, *, minor: bool = False) -> Kooperationsplan:
    """An active KP whose review is due `days` from today (started 6 months minus `days` ago)."""
    case = new_case(ifk=ifk, minor=minor)
    plan = active_plan(case, valid_from=add_months(TODAY + timedelta(days=days), -6))
    assert plan.review_due == TODAY + timedelta(days=days)
    return plan


def params(**overrides):
    return {
        "first_appointment": datetime(2026, 3, 10, 9, tzinfo=BERLIN).isoformat(),
        "slot_minutes": 30,
        "per_day": 2,
        "location": "Raum 1.07",
        "meldezweck": massrun.DEFAULT_MELDEZWECK,
        "documents_to_bring": "",
        **overrides,
    }


def test_selection_is_the_teams_active_kp_due_within_four_weeks(clock, ifk_nord, ifk_nord2, ifk_sued):
    due = [plan_due_in(ifk_nord, 3), plan_due_in(ifk_nord2, 28)]
    plan_due_in(ifk_nord, 30)  # too late
    plan_due_in(ifk_nord, -1)  # overdue: not "due in the next 4 weeks"
    plan_due_in(ifk_sued, 5)  # another team
    invited = plan_due_in(ifk_nord, 10)
    run = massrun.massrun_start(actor=ifk_nord, parameters=params(), on=TODAY)
    massrun.massrun_process(run_id=run.pk)
    assert set(LetterRunItem.objects.filter(run=run).values_list("case_id", flat=True)) == {
        *(plan.case_id for plan in due),
        invited.case_id,
    }
    # A case with an upcoming review appointment is not selected again.
    assert invited.case_id not in {plan.case_id for plan in massrun.massrun_candidates(ifk_nord, on=TODAY)}
    assert [p.case_id for p in massrun.massrun_candidates(ifk_nord, on=TODAY)] == []


def test_appointment_slots_skip_weekends_and_holidays_and_keep_the_local_time_across_dst():
    first = datetime(2026, 3, 27, 9, tzinfo=BERLIN)  # Friday before the change to summer time (29.03.)
    slots = massrun.appointment_slots(first, 5, slot_minutes=30, per_day=2, bundesland="NW")
    assert [slot.strftime("%d.%m. %H:%M %Z") for slot in slots] == [
        "27.03. 09:00 CET",
        "27.03. 09:30 CET",
        "30.03. 09:00 CEST",
        "30.03. 09:30 CEST",
        "31.03. 09:00 CEST",
    ]
    easter = massrun.appointment_slots(
        datetime(2026, 4, 2, 9, tzinfo=BERLIN), 2, slot_minutes=30, per_day=1, bundesland="NW"
    )
    assert [slot.date() for slot in easter] == [date(2026, 4, 2), date(2026, 4, 7)]  # Karfreitag, Ostermontag


def test_t20_failures_listed_others_produced_once_and_only_failed_retried(clock, ifk_nord):
    plans = [plan_due_in(ifk_nord, days) for days in (3, 7, 14, 21)]
    broken = plans[1].case.elb
    broken.street = ""  # RULES.md 6.2: the invitation cannot be issued without the address
    broken.save()

    run = massrun.massrun_start(actor=ifk_nord, parameters=params(), on=TODAY)
    assert massrun.massrun_progress(run) == massrun.Progress(total=4, done=0, failed=0, pending=4)

    # The worker dies after two items: those two stay done, the rest is open (T13-like).
    assert massrun._process_next(run)
    assert massrun._process_next(run)
    progress = massrun.massrun_progress(run)
    assert (progress.processed, progress.pending, progress.percent) == (2, 2, 50)

    assert massrun.massrun_process(run_id=run.pk) == 2
    assert massrun.massrun_process(run_id=run.pk) == 0  # a second run of the task issues nothing
    run.refresh_from_db()
    assert run.finished_at is not None
    assert massrun.massrun_progress(run) == massrun.Progress(total=4, done=3, failed=1, pending=0)

    failed = LetterRunItem.objects.get(run=run, status="FAILED")
    assert failed.case_id == broken.cases.get().pk
    (reason,) = failed.errors
    assert reason["rule_id"] == "RULES-6.2"
    assert "Straße und Hausnummer der Anschrift 1" in reason["text"]
    done = LetterRunItem.objects.filter(run=run, status="DONE")
    letters = Letter.objects.filter(pk__in=done.values("letter"))
    assert sorted(letters.values_list("kind", flat=True)) == ["EINL_RFB"] * 3  # R-INV-2 default (P1)
    assert Appointment.objects.filter(kind="REVIEW").count() == 3

    broken.street = "Lindenweg 4"
    broken.save()
    assert massrun.massrun_retry_failed(run_id=run.pk, actor=ifk_nord) == 1
    assert massrun.massrun_process(run_id=run.pk) == 1
    assert massrun.massrun_progress(run) == massrun.Progress(total=4, done=4, failed=0, pending=0)
    assert Appointment.objects.filter(kind="REVIEW").count() == 4
    assert Letter.objects.filter(kind="EINL_RFB").count() == 4
    assert massrun.massrun_retry_failed(run_id=run.pk, actor=ifk_nord) == 0


def test_the_000_practice_invites_without_rfb(clock, ifk_nord):
    """P1 switched off: while cooperation works, the review invitation carries no RFB (R-KP-9)."""
    jobcenter = ifk_nord.team.jobcenter
    jobcenter.followup_invitation_rfb = False
    jobcenter.save()
    plan_due_in(ifk_nord, 5)
    run = massrun.massrun_start(actor=ifk_nord, parameters=params(), on=TODAY)
    massrun.massrun_process(run_id=run.pk)
    item = LetterRunItem.objects.get(run=run)
    assert item.letter.kind == "EINL_OHNE_RFB"


def test_run_pages_over_http(clock, ifk_nord, ifk_sued, fachadmin):
    plan_due_in(ifk_nord, 5)
    client = client_for(ifk_nord)
    index = client.get("/serienbriefe/")
    assert index.status_code == 200
    assert "Auswahl (1 Fälle)" in index.content.decode()

    bad = client.post(
        "/serienbriefe/",
        {
            "first_date": "2026-03-01",
            "first_time": "09:00",
            "slot_minutes": 30,
            "per_day": 8,
            "location": "Raum\x00",
            "meldezweck": "x" * 100_000,
        },
    )
    assert bad.status_code == 400
    assert not LetterRun.objects.exists()

    response = client.post(
        "/serienbriefe/",
        {
            "first_date": "2026-03-10",
            "first_time": "09:00",
            "slot_minutes": 30,
            "per_day": 8,
            "location": "Raum 1.07",
            "meldezweck": massrun.DEFAULT_MELDEZWECK,
        },
    )
    run = LetterRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/serienbriefe/{run.pk}/"
    page = client.get(f"/serienbriefe/{run.pk}/").content.decode()
    assert "Fortschritt: 0 von 1 Fällen verarbeitet" in page  # on_commit does not run in this test
    assert 'hx-trigger="every 2s"' in page

    massrun.massrun_process(run_id=run.pk)
    fragment = client.get(f"/serienbriefe/{run.pk}/fortschritt/").content.decode()
    assert "Fortschritt: 1 von 1 Fällen verarbeitet (100 %)" in fragment
    assert "hx-trigger" not in fragment

    assert client_for(ifk_sued).get(f"/serienbriefe/{run.pk}/").status_code == 404
    assert client_for(ifk_sued).post(f"/serienbriefe/{run.pk}/wiederholen/").status_code == 404
    assert client_for(fachadmin).get("/serienbriefe/").status_code == 403


def test_preview_before_issuing_changes_nothing(clock, ifk_nord):
    plan = plan_due_in(ifk_nord, 5)
    counts = (Letter.objects.count(), Appointment.objects.count())
    html = client_for(ifk_nord).get(f"/serienbriefe/vorschau/{plan.case_id}/").content.decode()
    assert "Vorschau vor dem Ausstellen" in html
    assert "Einladung (Meldeaufforderung) mit Rechtsfolgenbelehrung" in html
    assert "Entwurf" in html
    assert "Rechtsfolgenbelehrung" in html
    assert (Letter.objects.count(), Appointment.objects.count()) == counts


def test_run_page_runs_a_fixed_number_of_queries(clock, ifk_nord):
    client = client_for(ifk_nord)

    def count(run: LetterRun) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/serienbriefe/{run.pk}/").status_code == 200
        return len(ctx)

    plan_due_in(ifk_nord, 5)
    small = massrun.massrun_start(actor=ifk_nord, parameters=params(), on=TODAY)
    massrun.massrun_process(run_id=small.pk)
    few = count(small)
    for days in (6, 7, 8, 9):
        plan_due_in(ifk_nord, days)
    large = massrun.massrun_start(actor=ifk_nord, parameters=params(), on=TODAY)
    massrun.massrun_process(run_id=large.pk)
    assert LetterRunItem.objects.filter(run=large).count() == 4
    assert count(large) == few


def test_index_runs_a_fixed_number_of_queries(clock, ifk_nord):
    client = client_for(ifk_nord)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/serienbriefe/").status_code == 200
        return len(ctx)

    plan_due_in(ifk_nord, 5)
    massrun.massrun_start(actor=ifk_nord, parameters=params(), on=TODAY)
    few = count()
    for days in (6, 7, 8):
        plan_due_in(ifk_nord, days)
    massrun.massrun_start(actor=ifk_nord, parameters=params(), on=TODAY)
    assert LetterRun.objects.count() == 2
    assert count() == few


def test_continue_hands_open_items_to_the_worker_again(clock, ifk_nord):
    """After the broker was down, "Lauf fortsetzen" processes the open items (in-process without a broker)."""
    plan_due_in(ifk_nord, 5)
    run = massrun.massrun_start(actor=ifk_nord, parameters=params(), on=TODAY)  # on_commit not run here
    assert massrun.massrun_progress(run).pending == 1
    response = client_for(ifk_nord).post(f"/serienbriefe/{run.pk}/fortsetzen/")
    assert response.status_code == 302
    assert massrun.massrun_progress(run) == massrun.Progress(total=1, done=1, failed=0, pending=0)


def test_progress_bar_numbers_are_not_localised():
    run = LetterRun(pk=1)
    html = render_to_string(
        "kooperationsplan/massrun/_progress.html",
        {"run": run, "progress": massrun.Progress(total=1500, done=1200, failed=0, pending=300)},
    )
    assert 'max="1500" value="1200"' in html
    assert "1.200 von 1.500 Fällen" in html  # German digit grouping in the text
