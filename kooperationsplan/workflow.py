"""Shared machinery of the workflow services: locking, refusals, state transitions, letter snapshots.

Every service follows one pattern (DESIGN.md "Services and the workflow"): lock the case row, load
the facts, ask rules/, and only if allowed change state in the same transaction, write one timeline
event with the decision's reasons and sources, and freeze the letters the step requires.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from django.utils import timezone

from cases.models import Case, User
from cases.services import timeline_record
from letters.models import Letter
from letters.services import LetterError, letter_issue
from rules.decision import Decision, Reason, refuse
from rules.letters import LETTER_SPECS, LetterKind, RfbBlock, recipients_for
from rules.states import Transition, find_transition


class WorkflowRefused(Exception):
    """The rule engine refused the step. Nothing was changed; `decision` says why."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(", ".join(decision.codes))
        self.decision = decision


class ConcurrentEdit(Exception):
    """The record was saved by someone else since it was loaded (T7)."""


def require(decision: Decision) -> Decision:
    if not decision.allowed:
        raise WorkflowRefused(decision)
    return decision


def lock_case(case_id: int) -> Case:
    """Row lock on the case: all transitions of one case are serialised. A closed case (the Leistungsbezug
    ended, RULES.md 5.1) takes no further step."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("elb", "team__jobcenter", "responsible")
        .get(pk=case_id)
    )
    if case.closed_on is not None:
        raise WorkflowRefused(
            refuse(Reason("case.is_closed", "RULES-5.1", ("RULES.md 5.1",), {"closed_on": case.closed_on.isoformat()}))
        )
    return case


def transition(table: tuple[Transition, ...], section: str, source: str, event: str) -> Transition:
    """The row of a state table for (source, event), or a refusal naming the state machine."""
    found = find_transition(table, source, event)
    if found is None:
        raise WorkflowRefused(
            refuse(
                Reason(
                    "transition.not_allowed",
                    f"RULES-{section}",
                    (f"RULES.md {section}",),
                    {"from": source, "event": event},
                )
            )
        )
    return found


def record(case: Case, actor: User | None, code: str, summary: str, *decisions: Decision, **data: Any) -> None:
    """One timeline event carrying the reasons of all decisions that allowed the step."""
    reasons = tuple(reason for decision in decisions for reason in decision.reasons)
    timeline_record(
        case=case,
        actor=actor,
        code=code,
        summary=summary,
        decision=Decision(True, reasons),
        data=data,
    )


def today() -> date:
    return timezone.localdate()


def _address(person: Any) -> dict[str, str]:
    return {
        "salutation": person.get_salutation_display(),
        "name": f"{person.first_name} {person.last_name}",
        "street": person.street,
        "postal_code": person.postal_code,
        "city": person.city,
    }


def letter_recipients(case: Case, kind: LetterKind, letter_date: date) -> tuple[list[dict[str, str]], Reason]:
    """P5, R-MIN-1, R-MIN-2: addressees by the age on the letter date."""
    vertretungen = list(case.elb.vertretungen.filter(valid_to__isnull=True).order_by("pk"))
    plan = recipients_for(kind, birth_date=case.elb.birth_date, letter_date=letter_date, vertretungen=len(vertretungen))
    recipients: list[dict[str, str]] = []
    if plan.to_elb:
        recipients.append({"role": "elb", **_address(case.elb)})
    if plan.to_vertretungen:
        recipients += [{"role": "gesetzliche_vertretung", **_address(gv)} for gv in vertretungen]
    if plan.copy_to_elb:
        recipients.append({"role": "kopie_elb", **_address(case.elb)})
    return recipients, plan.reason


def _reasons_json(decision: Decision) -> list[dict[str, Any]]:
    return [
        {
            "code": reason.code,
            "rule_id": reason.rule_id,
            "sources": list(reason.sources),
            "params": dict(reason.params),
            "needs_legal_review": reason.needs_legal_review,
        }
        for reason in decision.reasons
    ]


def freeze_letter(
    *,
    case: Case,
    kind: LetterKind,
    actor: User,
    decision: Decision,
    idempotency_key: str,
    content: dict[str, Any],
    rfb: RfbBlock | None = None,
    letter_date: date | None = None,
) -> Letter:
    """Freeze a letter: kind, recipients, the full context and the RFB inputs (issue = freeze, then render).

    RFB and VA follow the letter catalogue (R-KP-2, R-LET-1, R-LET-2); an RFB block is only accepted
    on kinds that carry one, and kinds with an RFB must have one.
    """
    spec = LETTER_SPECS[kind]
    if (rfb is not None) != spec.with_rfb:
        raise WorkflowRefused(
            refuse(Reason("letter.rfb_mismatch", "R-LET-1", spec.sources, {"kind": kind.value, "rfb": rfb is not None}))
        )
    letter_date = letter_date or today()
    recipients, recipient_reason = letter_recipients(case, kind, letter_date)
    jobcenter = case.team.jobcenter
    sender = case.responsible
    context: dict[str, Any] = {
        "jobcenter": {
            "name": jobcenter.name,
            "street": jobcenter.street,
            "postal_code": jobcenter.postal_code,
            "city": jobcenter.city,
            "phone": jobcenter.phone,
            "email": jobcenter.email,
            "opening_hours": jobcenter.opening_hours,
            "widerspruch_address": jobcenter.widerspruch_address,
        },
        "sender": {
            "name": sender.get_full_name() or sender.username,
            "team": case.team.name,
            "phone": sender.phone,
            "room": sender.room,
            "email": sender.email,
        },
        "case": {
            "aktenzeichen": case.aktenzeichen,
            "kundennummer": case.elb.kundennummer,
            "bg_nummer": case.elb.bedarfsgemeinschaft.bg_nummer if case.elb.bedarfsgemeinschaft_id else "",
        },
        "elb": {**_address(case.elb), "birth_date": case.elb.birth_date.isoformat()},
        "letter_date": letter_date.isoformat(),
        "rule_set": decision.rule_set,
        "reasons": _reasons_json(decision),
        "recipient_reason": {"code": recipient_reason.code, "rule_id": recipient_reason.rule_id},
        "rfb": _rfb_json(rfb),
        "rechtsbehelfsbelehrung": spec.is_va,
        "content": content,
    }
    try:
        return letter_issue(
            case=case,
            kind=kind.value,
            letter_date=letter_date,
            recipients=recipients,
            context=context,
            with_rfb=spec.with_rfb,
            is_va=spec.is_va,
            issued_by=actor,
            idempotency_key=idempotency_key,
            rule_set=decision.rule_set,
        )
    except LetterError as error:
        # RULES.md 6.2: a letter missing a required field is not issued; the step is refused as a whole, so the
        # caller's transaction rolls back and nothing changes.
        raise WorkflowRefused(
            refuse(Reason("letter.not_issuable", "RULES-6.2", ("RULES.md 6.2", *spec.sources), {"message": str(error)}))
        ) from error


def _rfb_json(rfb: RfbBlock | None) -> dict[str, Any] | None:
    if rfb is None:
        return None
    data = asdict(rfb)
    data["kind"] = rfb.kind.value
    data["deadline"] = rfb.deadline.isoformat() if rfb.deadline else None
    return data
