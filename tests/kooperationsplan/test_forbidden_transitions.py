"""T11: forbidden transitions are refused, the state is unchanged, and no event is written."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from cases.models import TimelineEvent
from kooperationsplan import escalations, services
from kooperationsplan.models import Escalation, Kooperationsplan
from kooperationsplan.workflow import ConcurrentEdit, WorkflowRefused, freeze_letter
from letters.models import Letter
from rules.decision import Reason, allow
from rules.letters import LetterKind, RfbBlock
from tests.kooperationsplan.workflow_helpers import BERLIN, active_plan, complete_pa, fill_draft, key, new_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=BERLIN), tick=False) as traveller:
        yield traveller


def unchanged(case):
    return (
        list(Kooperationsplan.objects.filter(case=case).values_list("status", "lock_version")),
        list(Escalation.objects.filter(case=case).values_list("status")),
        Letter.objects.filter(case=case).count(),
        TimelineEvent.objects.filter(case=case).count(),
    )


def test_an_empty_draft_cannot_be_activated():
    case = new_case()
    complete_pa(case)
    draft = services.kooperationsplan_start(case_id=case.pk, actor=case.responsible)
    before = unchanged(case)
    with pytest.raises(WorkflowRefused) as refused:
        services.kooperationsplan_activate(plan_id=draft.pk, actor=case.responsible, lock_version=draft.lock_version)
    codes = refused.value.decision.codes
    assert {"kp.soll_missing", "kp.not_joint", "kp.infoblatt_missing"} <= set(codes)
    assert unchanged(case) == before


def test_the_anhoerung_cannot_skip_the_aufforderung():
    case = new_case()
    active_plan(case)
    escalation = escalations.breach_record(
        case_id=case.pk,
        actor=case.responsible,
        breach_kind="EB_FEHLEN",
        breach_date=date(2026, 3, 2),
        description="Nachweis fehlt.",
    )
    before = unchanged(case)
    for step in (
        lambda: escalations.anhoerung_issue(escalation_id=escalation.pk, actor=case.responsible, idempotency_key=key()),
        lambda: escalations.aufforderung_15_5_issue(
            escalation_id=escalation.pk,
            actor=case.responsible,
            duty="Nachweise vorlegen",
            deadline=date(2026, 3, 20),
            idempotency_key=key(),
        ),
    ):
        with pytest.raises(WorkflowRefused):
            step()
        assert unchanged(case) == before


def test_a_kp_document_never_takes_an_rfb_block():
    case = new_case()
    before = unchanged(case)
    rfb = RfbBlock(LetterKind.KP_DOKUMENT, "Bewerbungen", None, 10, 1, "§ 31 SGB II")
    with pytest.raises(WorkflowRefused) as refused:
        freeze_letter(
            case=case,
            kind=LetterKind.KP_DOKUMENT,
            actor=case.responsible,
            decision=allow(Reason("kp.no_rfb", "R-KP-2", ("000",))),
            idempotency_key=key(),
            content={},
            rfb=rfb,
        )
    assert refused.value.decision.codes == ("letter.rfb_mismatch",)
    assert unchanged(case) == before


def test_an_active_plan_cannot_be_superseded_without_a_review():
    case = new_case()
    plan = active_plan(case)
    draft = services.kooperationsplan_start(case_id=case.pk, actor=case.responsible)
    fill_draft(draft)
    draft.refresh_from_db()
    before = unchanged(case)
    with pytest.raises(WorkflowRefused) as refused:
        services.kooperationsplan_activate(plan_id=draft.pk, actor=case.responsible, lock_version=draft.lock_version)
    assert refused.value.decision.codes == ("transition.not_allowed",)
    assert unchanged(case) == before
    assert Kooperationsplan.objects.get(pk=plan.pk).status == "ACTIVE"


def test_a_stale_lock_version_is_a_conflict_and_changes_nothing():
    case = new_case()
    complete_pa(case)
    draft = services.kooperationsplan_start(case_id=case.pk, actor=case.responsible)
    args = {
        "plan_id": draft.pk,
        "actor": case.responsible,
        "naechstes_ziel": "Ziel",
        "items": {},
        "steps": [],
        "eigenbemuehungen": [],
        "checklist": {},
    }
    services.kooperationsplan_save_content(lock_version=draft.lock_version, **args)
    before = unchanged(case)
    with pytest.raises(ConcurrentEdit):
        services.kooperationsplan_save_content(lock_version=draft.lock_version, **{**args, "naechstes_ziel": "Anders"})
    assert unchanged(case) == before
    assert Kooperationsplan.objects.get(pk=draft.pk).naechstes_ziel == "Ziel"
