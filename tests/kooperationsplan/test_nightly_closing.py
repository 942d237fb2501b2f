"""Acting on the subject closes its reminders (RULES.md section 7, reminder hygiene), through the real services;
a refused step closes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from kooperationsplan import escalations, measures, nightly, schlichtung, services
from kooperationsplan.models import Reminder, ReminderKind
from kooperationsplan.notifications import notifications_pending
from kooperationsplan.workflow import WorkflowRefused
from tests.factories import (
    AppointmentFactory,
    CaseFactory,
    EscalationFactory,
    KooperationsplanFactory,
    MassnahmeZuweisungFactory,
    TeamLeadApprovalFactory,
)
from tests.kooperationsplan.workflow_helpers import BERLIN, active_plan, complete_pa, fill_draft, new_case

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def statuses(kind: str) -> list[str]:
    return list(Reminder.objects.filter(kind=kind).order_by("remind_on").values_list("status", flat=True))


def test_R_FS_1_activating_the_fortschreibung_closes_the_review_reminders_of_the_old_plan(clock, ifk_nord):
    case = new_case(ifk=ifk_nord)
    plan = active_plan(case)
    assert plan.review_due == date(2026, 9, 2)
    nightly.d01_review(date(2026, 8, 5))
    nightly.d01_review(date(2026, 8, 26))
    assert statuses(ReminderKind.D01_REVIEW) == ["OPEN", "OPEN"]
    assert notifications_pending(ifk_nord, on=date(2026, 8, 26)).count() == 2
    clock.move_to(datetime(2026, 8, 27, 9, tzinfo=BERLIN))
    services.kooperationsplan_start_review(plan_id=plan.pk, actor=ifk_nord)
    draft = services.kooperationsplan_start(case_id=case.pk, actor=ifk_nord)
    fill_draft(draft)
    draft.refresh_from_db()
    services.kooperationsplan_activate(plan_id=draft.pk, actor=ifk_nord, lock_version=draft.lock_version)
    assert statuses(ReminderKind.D01_REVIEW) == ["DONE", "DONE"]
    assert all(reminder.done_at is not None for reminder in Reminder.objects.all())
    assert notifications_pending(ifk_nord, on=date(2026, 8, 27)).count() == 0
    nightly.d01_review(date(2026, 9, 2))  # the old plan is no longer current; the new one is due in 2027
    assert Reminder.objects.filter(kind=ReminderKind.D01_REVIEW).count() == 2


def test_R_FS_1_adapting_the_plan_closes_its_review_reminders(clock, ifk_nord):
    case = new_case(ifk=ifk_nord)
    plan = active_plan(case)
    nightly.d01_review(date(2026, 8, 5))
    services.kooperationsplan_start_review(plan_id=plan.pk, actor=ifk_nord, early_trigger=True)
    services.kooperationsplan_adapt(plan_id=plan.pk, actor=ifk_nord, change_note="Bewerbungszahl angepasst.")
    assert statuses(ReminderKind.D01_REVIEW) == ["DONE"]


def test_R_PA_2_and_R_KP_1_closed_by_completing_the_pa_and_starting_the_kp(clock, ifk_nord):
    case = new_case(ifk=ifk_nord)
    nightly.pa_faellig(date(2026, 3, 2))
    assert statuses(ReminderKind.PA_FAELLIG) == ["OPEN"]
    complete_pa(case)
    assert statuses(ReminderKind.PA_FAELLIG) == ["DONE"]
    nightly.kp_fehlt(date(2026, 3, 2))
    assert statuses(ReminderKind.KP_FEHLT) == ["OPEN"]
    services.kooperationsplan_start(case_id=case.pk, actor=ifk_nord)
    assert statuses(ReminderKind.KP_FEHLT) == ["DONE"]


def test_R_MON_1_recording_the_traeger_feedback_closes_d05(clock, ifk_nord):
    plan = KooperationsplanFactory(case=CaseFactory(responsible=ifk_nord), active=True)
    assignment = MassnahmeZuweisungFactory(
        plan=plan, status="SCHREIBEN_ISSUED", via="SCHREIBEN", rueckmeldung_due=date(2026, 3, 4)
    )
    nightly.d05_rueckmeldung(date(2026, 3, 2))
    assert statuses(ReminderKind.D05_RUECKMELDUNG) == ["OPEN"]
    measures.assignment_report(assignment_id=assignment.pk, actor=ifk_nord)
    assert statuses(ReminderKind.D05_RUECKMELDUNG) == ["DONE"]


def test_R_ESC_1_recording_the_intervention_outcome_closes_d08(clock, ifk_nord):
    plan = KooperationsplanFactory(case=CaseFactory(responsible=ifk_nord), active=True)
    escalation = EscalationFactory(case=plan.case, plan=plan, status="INTERVENTION_INVITED")
    AppointmentFactory(case=plan.case, kind="BI", escalation=escalation, starts_at=START - timedelta(days=5))
    nightly.d08_intervention(date(2026, 3, 2))
    assert statuses(ReminderKind.D08_BI_ERGEBNIS) == ["OPEN"]
    escalations.intervention_outcome(escalation_id=escalation.pk, actor=ifk_nord, attended=True, wichtiger_grund=False)
    assert statuses(ReminderKind.D08_BI_ERGEBNIS) == ["DONE"]


def test_R_ESC_3_a_refused_step_closes_nothing(clock, ifk_nord):
    escalation = EscalationFactory(
        case=CaseFactory(responsible=ifk_nord), status="AUFFORDERUNG_ISSUED", compliance_deadline=date(2026, 2, 20)
    )
    nightly.d09_mitwirkung(date(2026, 3, 2))
    with pytest.raises(WorkflowRefused):
        escalations.intervention_outcome(
            escalation_id=escalation.pk, actor=ifk_nord, attended=True, wichtiger_grund=False
        )
    assert statuses(ReminderKind.D09_MITWIRKUNG) == ["OPEN"]
    escalations.aufforderung_complied(escalation_id=escalation.pk, actor=ifk_nord)
    assert statuses(ReminderKind.D09_MITWIRKUNG) == ["DONE"]


def test_R_ABB_6_the_team_leads_decision_closes_d16_and_an_ifk_cannot(clock, ifk_nord, tl_nord):
    approval = TeamLeadApprovalFactory(case=CaseFactory(responsible=ifk_nord), requested_at=START)
    nightly.d16_tl_approval(date(2026, 3, 9))
    with pytest.raises(PermissionDenied):
        schlichtung.approval_decide(approval_id=approval.pk, actor=ifk_nord, approve=True)
    assert statuses(ReminderKind.D16_TL_SCHLICHTUNG) == ["OPEN"]
    schlichtung.approval_decide(approval_id=approval.pk, actor=tl_nord, approve=True)
    assert statuses(ReminderKind.D16_TL_SCHLICHTUNG) == ["DONE"]
    assert notifications_pending(tl_nord, on=date(2026, 3, 9)).count() == 0
