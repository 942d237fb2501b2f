"""Writes of the cases app: the timeline. Every workflow transition leaves exactly one event here."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from cases.models import Case, Elb, Role, TimelineEvent, User
from rules.decision import Decision
from rules.plan import pa_due_on_case_creation
from rules.teamdesk import reassign_decision


class CaseActionRefused(Exception):
    """A rule refused a change of the case. Nothing was changed; `decision` says why."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(", ".join(decision.codes))
        self.decision = decision


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


def case_reassign(*, case_id: int, actor: User, new_responsible_id: int, reason: str) -> Case:
    """A team lead hands the case to another IFK of the same team; the reason goes on the timeline.

    Only the team lead of the case's team may do this (T4: anyone else gets PermissionDenied and
    nothing changes). The case never leaves its team (§ 35 SGB I), so the new IFK must belong to it.
    """
    if actor.role != Role.TEAMLEITUNG:
        raise PermissionDenied("Nur die Teamleitung darf Fälle neu zuweisen.")
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("responsible", "elb").get(pk=case_id)
        if case.team_id != actor.team_id:
            raise PermissionDenied("Nur die Teamleitung des Teams darf Fälle neu zuweisen.")
        target = User.objects.filter(pk=new_responsible_id).first()
        decision = reassign_decision(
            reason=reason,
            target_in_team=target is not None and target.team_id == case.team_id,
            target_is_ifk=target is not None and target.role == Role.IFK,
            target_active=target is not None and target.is_active,
            target_is_current=target is not None and target.pk == case.responsible_id,
        )
        if not decision.allowed or target is None:
            raise CaseActionRefused(decision)
        previous = case.responsible
        case.responsible = target
        case.save(update_fields=["responsible"])
        timeline_record(
            case=case,
            actor=actor,
            code="case.reassigned",
            summary=f"Fall an {_name(target)} übertragen (bisher {_name(previous)}). Grund: {reason.strip()}",
            decision=decision,
            data={"from": previous.pk, "to": target.pk, "reason": reason.strip()},
        )
        return case


def _name(user: User) -> str:
    return user.get_full_name() or user.username
