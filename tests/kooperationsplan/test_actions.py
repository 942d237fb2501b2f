"""The explanation API: possible next actions, allowed or refused, with German reasons and sources."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.utils import timezone

from kooperationsplan import escalations
from kooperationsplan.actions import case_next_actions
from tests.factories import CaseFactory, KooperationsplanFactory, TeamLeadApprovalFactory, UserFactory
from tests.kooperationsplan.workflow_helpers import BERLIN, active_plan, at, complete_pa, in_days, key, new_case

pytestmark = pytest.mark.django_db


def by_name(case, on):
    return {action.name: action for action in case_next_actions(case, on=on)}


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=BERLIN), tick=False) as traveller:
        yield traveller


def test_kp_button_is_disabled_until_the_potenzialanalyse_is_complete(clock):
    case = new_case()
    action = by_name(case, date(2026, 3, 2))["kp_start"]
    assert not action.allowed
    assert action.reasons[0]["rule_id"] == "R-PA-1"
    assert "Potenzialanalyse" in action.reasons[0]["text"]
    assert action.reasons[0]["sources"] == ["§ 15 Abs. 1 SGB II", "Fachliche Hinweise KP, Nr. 3"]

    complete_pa(case)
    assert by_name(case, date(2026, 3, 2))["kp_start"].allowed


def test_first_invitation_is_offered_without_rfb_and_examination_with(clock):
    actions = by_name(new_case(), date(2026, 3, 2))
    assert actions["invite_erst"].label.endswith("(ohne RFB)")
    assert actions["invite_aerztlich"].label.endswith("(mit RFB)")
    assert actions["invite_aerztlich"].reasons[0]["rule_id"] == "R-INV-5"


def test_after_no_wichtiger_grund_the_aufforderung_is_proposed_and_explained(clock):
    case = new_case()
    active_plan(case)
    clock.move_to(datetime(2026, 4, 14, 9, tzinfo=BERLIN))
    escalation = escalations.breach_record(
        case_id=case.pk,
        actor=case.responsible,
        breach_kind="EB_FEHLEN",
        breach_date=date(2026, 4, 13),
        description="Nachweis für März fehlt.",
    )
    actions = by_name(case, date(2026, 4, 14))
    assert actions["intervention_invite"].allowed
    assert actions["intervention_invite"].target == {"escalation": escalation.pk}
    assert "aufforderung_15_5" not in actions  # a step cannot be skipped
    escalations.intervention_invite(
        escalation_id=escalation.pk,
        actor=case.responsible,
        starts_at=at(in_days(5)),
        location="Raum 1",
        idempotency_key=key(),
    )
    escalations.intervention_outcome(
        escalation_id=escalation.pk, actor=case.responsible, attended=True, wichtiger_grund=False
    )
    actions = by_name(case, date(2026, 4, 14))
    auff = actions["aufforderung_15_5"]
    assert auff.allowed
    assert [r["rule_id"] for r in auff.reasons] == ["R-ESC-2", "R-ESC-1"]
    assert "Rechtsfolgenbelehrung" in auff.reasons[0]["text"]
    assert "§ 15 Abs. 5 SGB II" in auff.reasons[0]["sources"]
    assert not actions["exempt_monitoring"].allowed
    assert actions["psych_skip"].allowed  # the IFK may decide case by case, with a Vermerk (R-ESC-5)


def test_R_ABB_6_a_schlichtung_after_a_failed_kp_is_offered_once_the_team_lead_approved(clock):
    case = CaseFactory(cooperation_mode="NO_KP_15_6")
    failed = KooperationsplanFactory(case=case, active=True, status="FAILED")
    refused = by_name(case, date(2026, 3, 2))["schlichtung_start"]
    assert not refused.allowed
    assert refused.reasons[0]["rule_id"] == "R-ABB-6"
    TeamLeadApprovalFactory(
        case=case,
        subject_type="kooperationsplan.Kooperationsplan",
        subject_id=failed.pk,
        status="APPROVED",
        decided_at=timezone.now(),
        decided_by=UserFactory(role="TL", team=case.team),
    )
    allowed = by_name(case, date(2026, 3, 2))["schlichtung_start"]
    assert allowed.allowed
    assert [reason["rule_id"] for reason in allowed.reasons] == ["R-SCH-1", "R-ABB-6"]
