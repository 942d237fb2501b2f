"""Case pages and workflow actions in the browser's HTTP terms: scoping, access log, queries, refusals, input."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import AccessLog, Case, Potenzialanalyse
from kooperationsplan.models import Escalation, TeamLeadApproval
from letters.models import Letter
from tests.conftest import client_for
from tests.factories import (
    AppointmentFactory,
    CaseFactory,
    ElbFactory,
    EscalationFactory,
    LetterFactory,
    MassnahmeZuweisungFactory,
    TimelineEventFactory,
)
from tests.kooperationsplan.workflow_helpers import BERLIN, active_plan, new_case

pytestmark = pytest.mark.django_db

TABS = [
    "",
    "zeitstrahl/",
    "potenzialanalyse/",
    "plaene/",
    "massnahmen/",
    "termine/",
    "schreiben/",
    "aktion/breach_record/",
    "aktion/invitation/",
]


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=BERLIN), tick=False) as traveller:
        yield traveller


@pytest.mark.parametrize("tab", TABS)
def test_every_case_page_is_scoped_and_logged(ifk_nord, ifk_sued, tab):
    """T1/T2: own case 200 with one access-log row; another team's case 404 with a denied row."""
    own = CaseFactory(responsible=ifk_nord)
    foreign = CaseFactory(responsible=ifk_sued)
    client = client_for(ifk_nord)
    assert client.get(f"/faelle/{own.pk}/{tab}").status_code == 200
    assert client.get(f"/faelle/{foreign.pk}/{tab}").status_code == 404
    rows = list(AccessLog.objects.order_by("id").values_list("case_id_accessed", "outcome"))
    assert rows == [(own.pk, "granted"), (foreign.pk, "denied")]


@pytest.mark.parametrize("tab", TABS)
def test_every_case_page_reads_the_cases_rows_once_with_the_case(ifk_nord, tab, settings):
    """The header, the next actions and an action's verdict all read the case's rows (facts.CaseData): every case
    page reads them once, in the statement of the case and its access-log row (facts.case_data_for_view)."""
    settings.DB_PREPARED_STATEMENTS = True  # the statements are told apart by their prepared names
    case = new_case(ifk=ifk_nord)
    active_plan(case)
    client = client_for(ifk_nord)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/faelle/{case.pk}/{tab}").status_code == 200
    statements = [query["sql"] for query in ctx.captured_queries]
    assert sum("EXECUTE kp_case_data_" in sql for sql in statements) == 1, tab
    assert not any("EXECUTE kp_case_rows_" in sql or "EXECUTE kp_case_for_view_" in sql for sql in statements), tab


@pytest.mark.parametrize("tab", ["", "zeitstrahl/", "schreiben/", "plaene/", "termine/", "massnahmen/"])
def test_case_pages_run_a_fixed_number_of_queries(ifk_nord, tab, clock):
    case = new_case(ifk=ifk_nord)
    active_plan(case)
    client = client_for(ifk_nord)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/faelle/{case.pk}/{tab}").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    plan = case.plans.get()
    for index in range(6):
        TimelineEventFactory(case=case)
        LetterFactory(case=case)
        MassnahmeZuweisungFactory(plan=plan)
        AppointmentFactory(case=case, starts_at=datetime(2026, 2, 20 + index, 9, tzinfo=BERLIN))
        EscalationFactory(case=case, plan=plan)
    assert count() == few == TAB_QUERIES[tab], (tab, few)


# Pinned per tab. Every tab: session and user (2), the scoped case with its access-log row and, in the same
# statement, the header's facts from the case's tables (plans with content items and Eigenbemühungen,
# Schlichtungen, exemption, escalations, measures, Nachweise, appointments, Vorlagen, PA and counts) and the page
# header's team with the notification badge (1: facts.case_data_for_view), the session renewal (3); then the tab's
# own list (1; the timeline's page and its count: 2). The overview's own rows come with the shared case data
# (CASE_OVERVIEW).
TAB_QUERIES = {"": 6, "zeitstrahl/": 8, "schreiben/": 7, "plaene/": 7, "termine/": 7, "massnahmen/": 7}


def test_case_overview_reads_each_table_once(ifk_nord, clock):
    """The header, the next actions and the escalation list share the case's rows (facts.CaseData)."""
    case = new_case(ifk=ifk_nord)
    plan = active_plan(case)
    for _ in range(3):
        MassnahmeZuweisungFactory(plan=plan)
        EscalationFactory(case=case, plan=plan)
    client = client_for(ifk_nord)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/faelle/{case.pk}/").status_code == 200
    assert len(ctx.captured_queries) == CASE_OVERVIEW_QUERIES


# Session and user (2); case and access-log row, and in the same statement the case's rows (plans in force and
# draft with content items and Eigenbemühungen, Schlichtungen, active exemption, escalations, open assignments,
# open Nachweise, appointments without an outcome, open Vorlagen, the counts and flags with the Jobcenter's
# settings) and the page header's team and badge (1: facts.case_data_for_view); the session renewal (3). A minor's legal
# representatives add one; after a failed KP (§ 15 Abs. 6) the failed plan and the team lead's approval add two.
CASE_OVERVIEW_QUERIES = 6


def test_header_says_whether_an_rfb_applies_and_why(ifk_nord, clock):
    case = new_case(ifk=ifk_nord)
    plan = active_plan(case)
    html = client_for(ifk_nord).get(f"/faelle/{case.pk}/").content.decode()
    assert "gilt derzeit nicht" in html
    assert "Die Zusammenarbeit funktioniert" in html
    assert "R-KP-9" in html
    assert f"Überprüfung KP v1: {plan.review_due:%d.%m.%Y}" in html


def test_refused_actions_are_shown_disabled_with_reason_and_source(ifk_nord, clock):
    case = new_case(ifk=ifk_nord)
    html = client_for(ifk_nord).get(f"/faelle/{case.pk}/").content.decode()
    assert 'disabled aria-describedby="why-' in html
    assert "Zuerst muss die Potenzialanalyse vollständig sein" in html
    assert "Fachliche Hinweise KP, Nr. 3" in html


def test_an_action_runs_the_service_and_a_refused_one_changes_nothing(ifk_nord, clock):
    case = new_case(ifk=ifk_nord)
    active_plan(case)
    client = client_for(ifk_nord)
    response = client.post(
        f"/faelle/{case.pk}/aktion/breach_record/",
        {"breach_kind": "EB_FEHLEN", "breach_date": "2026-03-01", "description": "Nachweis fehlt."},
    )
    assert response.status_code == 302
    escalation = Escalation.objects.get(case=case)
    letters = Letter.objects.count()
    refused = client.post(f"/faelle/{case.pk}/aktion/anhoerung/?escalation={escalation.pk}", {"token": "t1"})
    assert refused.status_code == 422
    assert "Der Schritt wurde nicht ausgeführt" in refused.content.decode()
    assert Escalation.objects.get(pk=escalation.pk).status == "BREACH_DETECTED"
    assert Letter.objects.count() == letters


def test_double_submit_of_an_invitation_creates_one_letter(ifk_nord, clock):
    """T8: the form's one-time token makes the second POST a no-op."""
    case = new_case(ifk=ifk_nord)
    data = {
        "token": "same-token",
        "kind": "ERST",
        "date": "2026-03-20",
        "time": "10:00",
        "location": "Raum 1.07",
        "meldezweck": "Erstgespräch zur Potenzialanalyse",
        "documents_to_bring": "",
        "choice": "DEFAULT",
        "deviation_reason": "",
    }
    client = client_for(ifk_nord)
    assert client.post(f"/faelle/{case.pk}/aktion/invitation/", data).status_code == 302
    assert client.post(f"/faelle/{case.pk}/aktion/invitation/", data).status_code == 302
    letter = Letter.objects.get(case=case)
    assert (letter.kind, letter.with_rfb) == ("EINL_KP_ERST", False)


@pytest.mark.parametrize("bad", ["a\x00b", "x" * 100_000])
def test_bad_input_in_action_and_pa_forms_is_a_form_error(ifk_nord, bad, clock):
    """T21: NUL bytes and 100k-character fields give a form error (400), never a 500; nothing changes."""
    case = new_case(ifk=ifk_nord)
    active_plan(case)
    client = client_for(ifk_nord)
    response = client.post(
        f"/faelle/{case.pk}/aktion/breach_record/",
        {"breach_kind": "EB_FEHLEN", "breach_date": "2026-03-01", "description": bad},
    )
    assert response.status_code == 400
    assert not Escalation.objects.filter(case=case).exists()
    pa = Potenzialanalyse.objects.get(case=case)
    response = client.post(f"/faelle/{case.pk}/potenzialanalyse/", {"version": pa.version, "strengths": bad})
    assert response.status_code == 400
    assert Potenzialanalyse.objects.get(case=case).strengths == pa.strengths


def test_extra_post_fields_are_ignored(ifk_nord, team_sued, clock):
    """T6: fields like team or status in a POST change nothing."""
    client = client_for(ifk_nord)
    response = client.post(
        "/faelle/neu/",
        {
            "kundennummer": "123A456789",
            "salutation": "FRAU",
            "first_name": "Petra",
            "last_name": "Probe",
            "birth_date": "1990-05-04",
            "street": "Weg 1",
            "postal_code": "12345",
            "city": "Musterstadt",
            "leistungsbeginn": "2026-02-01",
            "team": team_sued.pk,
            "cooperation_mode": "EXEMPT",
            "responsible": 999,
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(elb__kundennummer="123A456789")
    assert (case.team, case.responsible, case.cooperation_mode) == (ifk_nord.team, ifk_nord, "NO_KP_YET")
    pa_response = client.post(f"/faelle/{case.pk}/potenzialanalyse/", {"version": 1, "status": "COMPLETE"})
    assert pa_response.status_code == 302
    assert Potenzialanalyse.objects.get(case=case).status == "IN_PROGRESS"


def test_duplicate_kundennummer_is_refused_with_a_clear_message(ifk_nord):
    ElbFactory(kundennummer="123A456789")
    response = client_for(ifk_nord).post(
        "/faelle/neu/",
        {
            "kundennummer": "123a456789",
            "salutation": "HERR",
            "first_name": "Paul",
            "last_name": "Probe",
            "birth_date": "1990-05-04",
            "street": "Weg 1",
            "postal_code": "12345",
            "city": "Musterstadt",
            "leistungsbeginn": "2026-02-01",
        },
    )
    assert response.status_code == 400
    assert "Diese Kundennummer ist bereits vergeben" in response.content.decode()
    assert Case.objects.count() == 0


def test_pa_conflict_page_keeps_the_input(ifk_nord, ifk_nord2, clock):
    """T7: two people save the same PA version; the second sees both versions and nothing is overwritten."""
    case = new_case(ifk=ifk_nord)
    first, second = client_for(ifk_nord), client_for(ifk_nord2)
    second.get(f"/faelle/{case.pk}/potenzialanalyse/")
    assert first.post(f"/faelle/{case.pk}/potenzialanalyse/", {"version": 1, "strengths": "Erste"}).status_code == 302
    response = second.post(f"/faelle/{case.pk}/potenzialanalyse/", {"version": 1, "strengths": "Zweite"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Bearbeitungskonflikt" in html
    assert "Erste" in html
    assert "Zweite" in html
    assert Potenzialanalyse.objects.get(case=case).strengths == "Erste"


def test_a_vorlage_on_the_case_page_links_the_team_lead_to_the_desk(ifk_nord, tl_nord, clock):
    """The decision itself is taken on the team lead's desk (T4 is tested there); the case page only links it."""
    case = new_case(ifk=ifk_nord)
    approval = TeamLeadApproval.objects.create(
        case=case,
        kind="SCHLICHTUNG",
        subject_type="kooperationsplan.Kooperationsplan",
        subject_id=1,
        requested_by=ifk_nord,
    )
    link = f'href="/team/vorlage/{approval.pk}/"'
    assert link in client_for(tl_nord).get(f"/faelle/{case.pk}/").content.decode()
    ifk_page = client_for(ifk_nord).get(f"/faelle/{case.pk}/").content.decode()
    assert "Schlichtung nach gescheitertem KP" in ifk_page
    assert link not in ifk_page


def test_ids_above_999_stay_plain_numbers_in_links_and_forms(ifk_nord, clock):
    """German digit grouping must not reach ids: "12.345" in a hidden field or link would break the step."""
    case = new_case(ifk=ifk_nord)
    plan = active_plan(case)
    escalation = EscalationFactory(id=12345, case=case, plan=plan)
    page = client_for(ifk_nord).get(f"/faelle/{case.pk}/aktion/intervention_invite/?escalation=12345")
    assert page.status_code == 200
    assert 'name="escalation" value="12345"' in page.content.decode()
    assert f"?escalation={escalation.pk}" in client_for(ifk_nord).get(f"/faelle/{case.pk}/").content.decode()
