"""Writes of the cases app: the timeline. Every workflow transition leaves exactly one event here."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from cases.models import Case, Elb, TimelineEvent, User
from rules.decision import Decision
from rules.plan import pa_due_on_case_creation


def timeline_record(
    *, case: Case, actor: User | None, code: str, summary: str, decision: Decision, data: dict[str, Any] | None = None
) -> TimelineEvent:
    """One timeline event with the decision's reason codes, rule IDs and legal sources."""
    return TimelineEvent.objects.create(
        case=case,
        actor=actor,
        code=code,
        summary=summary[:300],
        reason_codes=[f"{reason.rule_id}:{reason.code}" for reason in decision.reasons],
        sources=list(decision.sources),
        rule_set=decision.rule_set,
        data={
            **(data or {}),
            "reasons": [
                {"code": reason.code, "rule_id": reason.rule_id, "params": dict(reason.params)}
                for reason in decision.reasons
            ],
        },
    )


def case_create(*, actor: User, elb_data: dict[str, Any], leistungsbeginn: date) -> Case:
    """A new eLb with an open case in the actor's team; the PA is due at once (R-PA-2)."""
    if actor.team_id is None:
        raise ValueError("Nur Mitarbeitende eines Teams legen Fälle an.")
    with transaction.atomic():
        elb = Elb.objects.create(**elb_data)
        case = Case.objects.create(elb=elb, team_id=actor.team_id, responsible=actor, leistungsbeginn=leistungsbeginn)
        timeline_record(
            case=case,
            actor=actor,
            code="case.created",
            summary="Fall angelegt; Potenzialanalyse unverzüglich erstellen",
            decision=Decision(True, pa_due_on_case_creation(leistungsbeginn).reasons),
        )
        return case
