"""The workflow steps after the plan is in force, reached from the next-steps panel and run through the
services: appointment outcomes and the § 32 path (R-INV-7), Nachweise (R-EB-4), re-checks of exemptions
(D-02..D-04), the end of a Schlichtung (R-SCH-4), the review "angepasst" (R-FS-1), measure steps (5.3) and the
end of a Minderung (R-SAN-2)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html import unescape

import pytest
import time_machine

from cases.models import Case, TimelineEvent
from kooperationsplan import escalations, exemptions, measures, schlichtung, services
from kooperationsplan.actions import case_next_actions
from kooperationsplan.models import (
    Appointment,
    EigenbemuehungNachweis,
    Escalation,
    Exemption,
    Kooperationsplan,
    MassnahmeZuweisung,
)
from kooperationsplan.workflow import WorkflowRefused
from letters.models import Letter
from tests.conftest import client_for
from tests.factories import MassnahmeZuweisungFactory, ReminderFactory
from tests.kooperationsplan.workflow_helpers import BERLIN, active_plan, at, complete_pa, fill_draft, key, new_case

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 9, tzinfo=BERLIN)


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def actions(case) -> dict:
    return {action.name: action for action in case_next_actions(Case.objects.get(pk=case.pk), on=date.today())}


def post(user, case, action, data, **target):
    query = "&".join(f"{name}={value}" for name, value in target.items())
    return client_for(user).post(f"/faelle/{case.pk}/aktion/{action}/?{query}", data)


def last_event(case) -> TimelineEvent:
    return TimelineEvent.objects.filter(case=case).order_by("-id").first()


def invited(case, kind="FOLGE", starts_at=None) -> Appointment:
    return escalations.invitation_issue(
        case_id=case.pk,
        actor=case.responsible,
        kind=kind,
        starts_at=starts_at or at(date(2026, 3, 9)),
        location="Raum 2.14",
        meldezweck="Besprechung Ihrer Bewerbungssituation",
        idempotency_key=key("einladung"),
    )


# --- Appointments and the Meldeversäumnis (R-INV-7) --------------------------------------------------------


def test_a_missed_appointment_with_rfb_leads_to_the_anhoerung_32(clock):
    case = new_case()
    active_plan(case)
    appointment = invited(case)
    assert appointment.with_rfb  # P1: follow-up invitations carry an RFB
    assert "appointment_outcome" not in actions(case)  # the appointment lies ahead
    clock.move_to(datetime(2026, 3, 10, 9, tzinfo=BERLIN))
    offered = actions(case)["appointment_outcome"]
    assert offered.target == {"appointment": appointment.pk}

    response = post(
        case.responsible,
        case,
        "appointment_outcome",
        {"outcome": "NOT_ATTENDED", "dispatch_proven": "on"},
        appointment=appointment.pk,
    )
    assert response.status_code == 302
    escalation = Escalation.objects.get(case=case)
    assert (escalation.legal_basis, escalation.breach_kind, escalation.status) == (
        "P32",
        "MELDEVERSAEUMNIS",
        "BREACH_DETECTED",
    )
    assert "R-INV-7:melde.anhoerung_32" in last_event(case).reason_codes
    panel = actions(case)
    assert panel["anhoerung_32"].allowed
    assert "intervention_invite" not in panel  # § 32 is no breach of the KP

    response = post(case.responsible, case, "anhoerung_32", {"token": "t-1"}, escalation=escalation.pk)
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.status == "ANHOERUNG"
    letter = Letter.objects.get(case=case, kind="ANH_32")
    content = letter.context["content"]
    assert (content["percent"], content["months"]) == (10, 1)
    assert content["reference_number"] == appointment.letter.number
    assert content["answer_until"] == escalation.anhoerung_deadline.isoformat()
    assert (letter.with_rfb, letter.is_va) == (False, False)
    # T8: the same form again creates no second letter.
    post(case.responsible, case, "anhoerung_32", {"token": "t-1"}, escalation=escalation.pk)
    assert Letter.objects.filter(case=case, kind="ANH_32").count() == 1


@pytest.mark.parametrize(
    ("choice", "proven", "grund", "code"),
    [
        ("WITHOUT", True, False, "R-INV-7:melde.no_rfb_no_minderung"),
        ("DEFAULT", False, False, "R-INV-7:melde.zugang_not_proven"),
        ("DEFAULT", True, True, "R-INV-7:melde.wichtiger_grund"),
    ],
)
def test_a_missed_appointment_without_rfb_proof_or_with_a_reason_has_no_minderung_path(
    clock, choice, proven, grund, code
):
    case = new_case()
    active_plan(case)
    appointment = escalations.invitation_issue(
        case_id=case.pk,
        actor=case.responsible,
        kind="FOLGE",
        starts_at=at(date(2026, 3, 9)),
        location="Raum 2.14",
        meldezweck="Besprechung Ihrer Bewerbungssituation",
        idempotency_key=key(),
        choice=choice,
        deviation_reason="Auf Wunsch der eLb ohne Rechtsfolgenbelehrung" if choice == "WITHOUT" else "",
    )
    clock.move_to(datetime(2026, 3, 10, 9, tzinfo=BERLIN))
    escalations.appointment_outcome_record(
        appointment_id=appointment.pk,
        actor=case.responsible,
        outcome="NOT_ATTENDED",
        dispatch_proven=proven,
        wichtiger_grund=grund,
    )
    assert not Escalation.objects.filter(case=case).exists()
    assert code in last_event(case).reason_codes
    with pytest.raises(WorkflowRefused):  # recorded once
        escalations.appointment_outcome_record(
            appointment_id=appointment.pk, actor=case.responsible, outcome="ATTENDED"
        )


def test_the_intervention_appointment_and_future_appointments_are_refused(clock):
    case = new_case()
    active_plan(case)
    future = invited(case)
    with pytest.raises(WorkflowRefused) as refused:
        escalations.appointment_outcome_record(appointment_id=future.pk, actor=case.responsible, outcome="ATTENDED")
    assert refused.value.decision.codes == ("appointment.not_yet",)
    escalation = escalations.breach_record(
        case_id=case.pk,
        actor=case.responsible,
        breach_kind="EB_FEHLEN",
        breach_date=date(2026, 3, 1),
        description="Nachweis fehlt.",
    )
    bi = escalations.intervention_invite(
        escalation_id=escalation.pk,
        actor=case.responsible,
        starts_at=at(date(2026, 3, 4)),
        location="Raum 1",
        idempotency_key=key(),
    )
    clock.move_to(datetime(2026, 3, 5, 9, tzinfo=BERLIN))
    assert all(a.target.get("appointment") != bi.pk for a in case_next_actions(case, on=date(2026, 3, 5)))
    with pytest.raises(WorkflowRefused) as refused:
        escalations.appointment_outcome_record(appointment_id=bi.pk, actor=case.responsible, outcome="ATTENDED")
    assert refused.value.decision.codes == ("appointment.is_intervention",)


def test_an_appointment_of_another_case_is_404(clock, ifk_nord):
    case = new_case(ifk=ifk_nord)
    active_plan(case)
    other = new_case(ifk=ifk_nord)
    active_plan(other)
    foreign = invited(other)
    clock.move_to(datetime(2026, 3, 10, 9, tzinfo=BERLIN))
    response = post(ifk_nord, case, "appointment_outcome", {"outcome": "ATTENDED"}, appointment=foreign.pk)
    assert response.status_code == 404
    assert Appointment.objects.get(pk=foreign.pk).outcome == "PENDING"


# --- Nachweise of the Eigenbemühungen (D-07, R-EB-4) --------------------------------------------------------


def nachweis_for(plan) -> EigenbemuehungNachweis:
    """The evidence period March 2026, created with the plan's activation on 02.03. (R-EB-1, D-07)."""
    return EigenbemuehungNachweis.objects.get(eigenbemuehung__plan=plan, period_start=date(2026, 3, 2))


def test_activation_creates_the_evidence_periods_of_the_term(clock):
    plan = active_plan(new_case())
    periods = list(
        EigenbemuehungNachweis.objects.filter(eigenbemuehung__plan=plan)
        .order_by("period_start")
        .values_list("period_start", "period_end", "due_on")
    )
    # Term 02.03.–02.09.2026, monthly evidence "bis zum 5. des Folgemonats".
    assert periods[0] == (date(2026, 3, 2), date(2026, 3, 31), date(2026, 4, 5))
    assert periods[-1] == (date(2026, 9, 1), date(2026, 9, 2), date(2026, 10, 5))
    assert len(periods) == 7


def test_incomplete_evidence_is_recorded_and_named_incomplete(clock):
    case = new_case()
    plan = active_plan(case)
    nachweis = nachweis_for(plan)
    clock.move_to(datetime(2026, 4, 3, 9, tzinfo=BERLIN))
    assert actions(case)["nachweis_record"].target == {"nachweis": nachweis.pk}
    response = post(
        case.responsible,
        case,
        "nachweis_record",
        {"received_on": "2026-04-02", "count_reported": "3"},
        nachweis=nachweis.pk,
    )
    assert response.status_code == 302
    nachweis.refresh_from_db()
    assert (nachweis.received_on, nachweis.count_reported) == (date(2026, 4, 2), 3)
    assert "R-EB-4:eb.incomplete" in last_event(case).reason_codes
    assert "nachweis_record" not in actions(case)


def test_complete_evidence_closes_a_breach_record_that_waits_for_the_intervention(clock):
    case = new_case()
    plan = active_plan(case)
    nachweis = nachweis_for(plan)
    clock.move_to(datetime(2026, 4, 13, 9, tzinfo=BERLIN))
    escalation = escalations.breach_record(
        case_id=case.pk,
        actor=case.responsible,
        breach_kind="EB_FEHLEN",
        breach_date=date(2026, 4, 12),
        description="Nachweis März fehlt.",
        eigenbemuehung_id=nachweis.eigenbemuehung_id,
    )
    escalations.nachweis_record(
        nachweis_id=nachweis.pk, actor=case.responsible, received_on=date(2026, 4, 13), count_reported=5
    )
    escalation.refresh_from_db()
    assert escalation.status == "RESOLVED"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"received_on": "2026-05-01", "count_reported": "5"}, "nicht in der Zukunft"),
        ({"received_on": "2026-04-02", "count_reported": "-1"}, "größer oder gleich 0"),
        ({"received_on": "2026-04-02", "count_reported": "5\x00"}, "ganze Zahl"),
    ],
)
def test_bad_evidence_input_is_a_form_error_and_changes_nothing(clock, data, message):
    case = new_case()
    nachweis = nachweis_for(active_plan(case))
    clock.move_to(datetime(2026, 4, 3, 9, tzinfo=BERLIN))
    response = post(case.responsible, case, "nachweis_record", data, nachweis=nachweis.pk)
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    nachweis.refresh_from_db()
    assert nachweis.received_on is None


# --- Exemptions: re-check and Einstellungszusage (D-02, D-03, D-04) ------------------------------------------


def p10_exemption(case) -> Exemption:
    return exemptions.exemption_record(
        case_id=case.pk,
        actor=case.responsible,
        reason="PARAGRAPH_10",
        kennung_kp=True,
        kennung_reason="Elternzeit bis Ende August, Kinderbetreuung noch nicht gesichert",
        paragraph10={"kind": "ELTERNZEIT", "expected_end": None, "zukunftsziel": False},
    )


def test_a_paragraph_10_recheck_sets_the_next_one_or_ends_the_exemption(clock):
    case = new_case()
    exemption = p10_exemption(case)
    clock.move_to(datetime(2026, 8, 31, 9, tzinfo=BERLIN))
    assert actions(case)["exemption_recheck"].allowed
    response = post(case.responsible, case, "exemption_recheck", {"continues": "1", "note": "Elternzeit verlängert."})
    assert response.status_code == 302
    exemption.refresh_from_db()
    assert (exemption.status, exemption.recheck_due) == ("ACTIVE", date(2027, 2, 28))

    response = post(case.responsible, case, "exemption_recheck", {"continues": "0", "note": "Elternzeit beendet."})
    assert response.status_code == 302
    exemption.refresh_from_db()
    assert exemption.status == "LAPSED"
    assert exemption.kennung_removed_on == date(2026, 8, 31)
    assert Case.objects.get(pk=case.pk).cooperation_mode == "NO_KP_YET"
    assert "exemption_recheck" not in actions(case)


def ez_exemption(case, start: date) -> Exemption:
    return exemptions.exemption_record(
        case_id=case.pk,
        actor=case.responsible,
        reason="EINSTELLUNGSZUSAGE",
        kennung_kp=True,
        kennung_reason="Schriftliche Einstellungszusage der Muster GmbH liegt vor",
        einstellungszusage={"employer": "Muster GmbH", "start_date": start, "firm": True},
    )


@pytest.mark.parametrize(
    ("outcome", "on", "status", "mode"),
    [
        ("started", date(2026, 3, 16), "ACTIVE", "EXEMPT"),
        ("postponed", date(2026, 4, 20), "ACTIVE", "EXEMPT"),  # 49 days after the record: within 8 weeks
        ("postponed", date(2026, 5, 4), "LAPSED", "NO_KP_YET"),  # 63 days: beyond 8 weeks (R-EXC-1)
        ("withdrawn", date(2026, 3, 10), "LAPSED", "NO_KP_YET"),
    ],
)
def test_what_became_of_the_einstellungszusage(clock, outcome, on, status, mode):
    case = new_case()
    exemption = ez_exemption(case, date(2026, 3, 16))
    clock.move_to(datetime(2026, 3, 17, 9, tzinfo=BERLIN))
    response = post(case.responsible, case, "ez_outcome", {"outcome": outcome, "on": on.isoformat()})
    assert response.status_code == 302
    exemption.refresh_from_db()
    assert exemption.status == status
    assert Case.objects.get(pk=case.pk).cooperation_mode == mode
    if outcome == "started":
        assert exemption.einstellungszusage.start_confirmed_on == on
        # The job started: the nightly lapse (D-04) no longer applies.
        with pytest.raises(WorkflowRefused):
            exemptions.exemption_lapse(exemption_id=exemption.pk, actor=None, on=date(2026, 3, 30))


# --- Schlichtung: agreement or not (R-SCH-4) -----------------------------------------------------------------


def running_schlichtung(case):
    complete_pa(case)
    return schlichtung.schlichtung_start(
        case_id=case.pk,
        actor=case.responsible,
        requested_by="ELB",
        disagreement="Uneinig über die Zahl der Bewerbungen.",
        schlichter_name="Frau Neutral",
    )


def test_an_agreement_activates_the_kp_drawn_up_in_the_schlichtung(clock):
    case = new_case()
    running = running_schlichtung(case)
    assert not actions(case)["schlichtung_agreement"].allowed  # the agreed plan must be drafted first
    draft = services.kooperationsplan_start(case_id=case.pk, actor=case.responsible)
    fill_draft(draft)
    assert actions(case)["schlichtung_agreement"].allowed
    response = post(
        case.responsible,
        case,
        "schlichtung_agreement",
        {"proposal": "Drei Bewerbungen pro Monat.", "follows_proposal": "on", "deviation_justification": ""},
    )
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.outcome == "AGREEMENT"
    assert Kooperationsplan.objects.get(pk=draft.pk).status == "ACTIVE"
    assert Case.objects.get(pk=case.pk).cooperation_mode == "COOP_NO_RFB"


def test_no_agreement_moves_the_case_to_paragraph_15_6(clock):
    case = new_case()
    running = running_schlichtung(case)
    response = post(case.responsible, case, "schlichtung_no_agreement", {"proposal": ""})
    assert response.status_code == 400  # the proposal is stored even without agreement
    response = post(case.responsible, case, "schlichtung_no_agreement", {"proposal": "Zwei Bewerbungen pro Woche."})
    assert response.status_code == 302
    running.refresh_from_db()
    assert (running.outcome, running.proposal) == ("NO_AGREEMENT", "Zwei Bewerbungen pro Woche.")
    assert Case.objects.get(pk=case.pk).cooperation_mode == "NO_KP_15_6"
    assert actions(case)["aufforderung_15_6"].allowed


# --- Review "angepasst", measure steps, end of a Minderung ----------------------------------------------------


def test_a_review_ends_with_an_adapted_plan_of_the_same_version(clock):
    case = new_case()
    plan = active_plan(case)
    services.kooperationsplan_start_review(plan_id=plan.pk, actor=case.responsible)
    assert actions(case)["kp_adapt"].allowed
    assert post(case.responsible, case, "kp_adapt", {"note": ""}).status_code == 400
    response = post(case.responsible, case, "kp_adapt", {"note": "Schritt 2 erledigt, Termin verschoben."})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.version_number) == ("ACTIVE", 1)
    assert plan.review_due == plan.valid_to  # R-FS-1: again at the latest after 6 months, within the term
    assert last_event(case).data["note"] == "Schritt 2 erledigt, Termin verschoben."


def test_a_measure_is_reported_started_and_completed_from_the_panel(clock):
    case = new_case()
    plan = active_plan(case)
    assignment = MassnahmeZuweisungFactory(plan=plan)
    measures.zuweisungsschreiben_issue(assignment_id=assignment.pk, actor=case.responsible, idempotency_key=key())
    for step, status in (
        ("assignment_report", "REPORTED"),
        ("assignment_start", "STARTED"),
        ("assignment_complete", "COMPLETED"),
    ):
        assert actions(case)[step].target == {"assignment": assignment.pk}
        assert post(case.responsible, case, step, {}, assignment=assignment.pk).status_code == 302
        assert MassnahmeZuweisung.objects.get(pk=assignment.pk).status == status


def test_a_festgestellte_minderung_is_lifted_on_compliance(clock):
    case = new_case()
    active_plan(case)
    escalation = escalations.breach_record(
        case_id=case.pk,
        actor=case.responsible,
        breach_kind="EB_FEHLEN",
        breach_date=date(2026, 3, 1),
        description="Nachweis fehlt.",
    )
    escalations.intervention_invite(
        escalation_id=escalation.pk,
        actor=case.responsible,
        starts_at=at(date(2026, 3, 4)),
        location="Raum 1",
        idempotency_key=key(),
    )
    escalations.intervention_outcome(
        escalation_id=escalation.pk, actor=case.responsible, attended=True, wichtiger_grund=False
    )
    escalations.aufforderung_15_5_issue(
        escalation_id=escalation.pk,
        actor=case.responsible,
        duty="Fünf Bewerbungen nachweisen.",
        deadline=date(2026, 3, 20),
        idempotency_key=key(),
    )
    clock.move_to(datetime(2026, 3, 24, 9, tzinfo=BERLIN))
    escalations.anhoerung_issue(escalation_id=escalation.pk, actor=case.responsible, idempotency_key=key())
    clock.move_to(datetime(2026, 4, 15, 9, tzinfo=BERLIN))
    escalations.anhoerung_close(escalation_id=escalation.pk, actor=case.responsible)
    escalations.minderung_outcome(escalation_id=escalation.pk, actor=case.responsible, festgestellt=True)
    clock.move_to(datetime(2026, 5, 20, 9, tzinfo=BERLIN))
    assert actions(case)["minderung_lift"].target == {"escalation": escalation.pk}
    response = post(case.responsible, case, "minderung_lift", {"complied": "1"}, escalation=escalation.pk)
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.status == "AUFGEHOBEN"
    assert any(code.startswith("R-SAN-2:minderung.lift") for code in last_event(case).reason_codes)
    assert timedelta(0) <= date(2026, 5, 20) - escalation.minderung_start


# --- Preview of the letter a step will issue -----------------------------------------------------------------


def test_a_step_shows_the_letter_it_will_issue_and_saves_nothing(clock):
    case = new_case()
    active_plan(case)
    before = (Letter.objects.count(), Appointment.objects.count(), TimelineEvent.objects.count())
    data = {
        "kind": "FOLGE",
        "date": "2026-03-12",
        "time": "10:30",
        "location": "Raum 2.14",
        "meldezweck": "Besprechung Ihrer Bewerbungsunterlagen",
        "documents_to_bring": "Lebenslauf",
        "choice": "DEFAULT",
        "deviation_reason": "",
        "token": "form-token-1",
        "vorschau": "1",
    }
    response = post(case.responsible, case, "invitation", data)
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Vorschau: so wird das Schreiben ausgestellt" in html
    assert "Besprechung Ihrer Bewerbungsunterlagen" in html  # the Meldezweck in the letter itself
    assert "Rechtsfolgenbelehrung" in html  # P1: a follow-up invitation carries an RFB
    assert (Letter.objects.count(), Appointment.objects.count(), TimelineEvent.objects.count()) == before
    # The form keeps the input; issuing it for real creates the letter once.
    assert 'value="Raum 2.14"' in html
    response = post(
        case.responsible, case, "invitation", {key: value for key, value in data.items() if key != "vorschau"}
    )
    assert response.status_code == 302
    assert Letter.objects.filter(case=case, kind="EINL_RFB").count() == 1


def test_the_preview_of_a_refused_step_shows_the_reasons(clock):
    case = new_case()  # no Potenzialanalyse, no plan: no breach can be recorded, no Aufforderung § 15 Abs. 6
    response = post(
        case.responsible,
        case,
        "aufforderung_15_6",
        {
            "duty": "Bewerbungen nachweisen.",
            "deadline": "2026-03-30",
            "breach_description": "",
            "token": "t",
            "vorschau": "1",
        },
    )
    assert response.status_code == 422
    assert "Eine Aufforderung nach § 15 Abs. 6 setzt voraus" in unescape(response.content.decode())
    assert not Letter.objects.filter(case=case).exists()


# --- Closing a case and exemptions that start while a plan is in force (RULES.md 5.1 → ENDED) --------------


def test_closing_the_case_ends_the_plan_and_its_deadlines_and_nothing_more_happens(clock):
    case = new_case()
    plan = active_plan(case)
    reminder = ReminderFactory(
        case=case, kind="D01_REVIEW", subject_type="kooperationsplan.Kooperationsplan", subject_id=plan.pk
    )
    assert (
        post(case.responsible, case, "case_close", {"closed_on": "2026-03-03", "note": "Arbeitsaufnahme."}).status_code
        == 422
    )
    response = post(
        case.responsible, case, "case_close", {"closed_on": "2026-03-01", "note": "Arbeitsaufnahme mit Vollzeitstelle."}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    plan.refresh_from_db()
    reminder.refresh_from_db()
    assert (case.closed_on, plan.status, reminder.status) == (date(2026, 3, 1), "ENDED", "DONE")
    assert actions(case) == {}
    page = client_for(case.responsible).get(f"/faelle/{case.pk}/").content.decode()
    assert "Dieser Fall ist abgeschlossen" in page
    with pytest.raises(WorkflowRefused) as refused:
        escalations.breach_record(
            case_id=case.pk,
            actor=case.responsible,
            breach_kind="EB_FEHLEN",
            breach_date=date(2026, 3, 1),
            description="Nachweis fehlt.",
        )
    assert refused.value.decision.codes == ("case.is_closed",)


def test_closing_waits_for_a_running_schlichtung(clock):
    case = new_case()
    running_schlichtung(case)
    assert not actions(case)["case_close"].allowed
    response = post(
        case.responsible, case, "case_close", {"closed_on": "2026-03-02", "note": "Umzug in eine andere Stadt."}
    )
    assert response.status_code == 422
    assert Case.objects.get(pk=case.pk).closed_on is None


def test_an_exemption_ends_the_plan_in_force(clock):
    case = new_case()
    plan = active_plan(case)
    exemption = ez_exemption(case, date(2026, 3, 16))
    plan.refresh_from_db()
    assert (plan.status, exemption.status, Case.objects.get(pk=case.pk).cooperation_mode) == (
        "ENDED",
        "ACTIVE",
        "EXEMPT",
    )
    assert TimelineEvent.objects.filter(case=case, code="kooperationsplan.ended").exists()
