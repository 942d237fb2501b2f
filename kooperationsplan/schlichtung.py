"""Workflow services for the Schlichtung (§ 15a SGB II; RULES.md 3.12) and team-lead approvals (R-ABB-6)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from cases.models import Role, User
from kooperationsplan.facts import case_facts
from kooperationsplan.models import (
    CURRENT_KP_STATUSES,
    Kooperationsplan,
    KPStatus,
    Schlichtung,
    TeamLeadApproval,
)
from kooperationsplan.reminders import Kind as ReminderKind
from kooperationsplan.reminders import reminders_close
from kooperationsplan.services import kooperationsplan_activate, set_mode
from kooperationsplan.workflow import WorkflowRefused, lock_case, record, require, today, transition
from rules import schlichtung as s_rules
from rules.decision import Reason, allow, refuse
from rules.states import KP_TRANSITIONS, Mode


def schlichtung_request_approval(*, case_id: int, actor: User, note: str) -> TeamLeadApproval:
    """R-ABB-6: after a failed KP, the IFK asks the team lead before calling in the Schlichtungsstelle."""
    with transaction.atomic():
        case = lock_case(case_id)
        failed = Kooperationsplan.objects.filter(case=case, status=KPStatus.FAILED).order_by("-pk").first()
        sources = ("001 §6.2",)
        if failed is None:
            raise WorkflowRefused(refuse(Reason("schlichtung.no_failed_kp", "R-ABB-6", sources)))
        if not note.strip():
            raise WorkflowRefused(refuse(Reason("schlichtung.disagreement_required", "R-SCH-1", ("§ 15a SGB II",))))
        approval, _ = TeamLeadApproval.objects.get_or_create(
            kind=TeamLeadApproval.Kind.SCHLICHTUNG_NACH_SCHEITERN,
            subject_type="kooperationsplan.Kooperationsplan",
            subject_id=failed.pk,
            status=TeamLeadApproval.Status.OPEN,
            defaults={"case": case, "requested_by": actor, "request_note": note.strip()},
        )
        record(
            case,
            actor,
            "schlichtung.approval_requested",
            "Zustimmung der Teamleitung zur Schlichtung angefragt",
            allow(Reason("schlichtung.tl_requested", "R-ABB-6", sources)),
            approval=approval.pk,
        )
        return approval


def approval_decide(*, approval_id: int, actor: User, approve: bool, comment: str = "") -> TeamLeadApproval:
    """A team lead approves or declines a request of their own team (T4: an IFK gets 403, nothing changes)."""
    if actor.role != Role.TEAMLEITUNG:
        raise PermissionDenied("Nur die Teamleitung darf entscheiden.")
    with transaction.atomic():
        approval = TeamLeadApproval.objects.select_related("case").get(pk=approval_id)
        case = lock_case(approval.case_id)
        if case.team_id != actor.team_id:
            raise PermissionDenied("Nur die Teamleitung des Teams darf entscheiden.")
        approval = TeamLeadApproval.objects.select_for_update().get(pk=approval_id)
        if approval.status != TeamLeadApproval.Status.OPEN:
            raise WorkflowRefused(refuse(Reason("approval.already_decided", "R-ABB-6", ("001 §6.2",))))
        approval.status = TeamLeadApproval.Status.APPROVED if approve else TeamLeadApproval.Status.DECLINED
        approval.decided_by = actor
        approval.decided_at = timezone.now()
        approval.comment = comment.strip()
        approval.save()
        reminders_close(approval, [ReminderKind.D16_TL_SCHLICHTUNG])
        record(
            case,
            actor,
            "approval.decided",
            f"Teamleitung: {approval.get_kind_display()} – {approval.get_status_display()}",
            allow(Reason("approval.approved" if approve else "approval.declined", "R-ABB-6", ("001 §6.2",))),
            approval=approval.pk,
        )
        return approval


def schlichtung_start(
    *,
    case_id: int,
    actor: User,
    requested_by: str,
    disagreement: str,
    schlichter_name: str,
    started_on: date | None = None,
) -> Schlichtung:
    """R-SCH-1: on request after a documented disagreement; after a failed KP only with the team lead's
    approval (R-ABB-6). The mode becomes SCHLICHTUNG_PENDING; a plan under review becomes DISPUTED."""
    with transaction.atomic():
        case = lock_case(case_id)
        facts = case_facts(case)
        started_on = started_on or today()
        failed = Kooperationsplan.objects.filter(case=case, status=KPStatus.FAILED).order_by("-pk").first()
        after_failed = failed is not None and case.cooperation_mode == Mode.NO_KP_15_6
        approval = (
            TeamLeadApproval.objects.filter(
                kind=TeamLeadApproval.Kind.SCHLICHTUNG_NACH_SCHEITERN,
                subject_type="kooperationsplan.Kooperationsplan",
                subject_id=failed.pk,
                status=TeamLeadApproval.Status.APPROVED,
            ).first()
            if after_failed and failed is not None
            else None
        )
        decision = require(
            s_rules.schlichtung_may_start(
                facts,
                on=started_on,
                disagreement=disagreement,
                after_failed_kp=after_failed,
                tl_approved=approval is not None,
            )
        )
        if not schlichter_name.strip():
            raise WorkflowRefused(
                refuse(Reason("schlichtung.schlichter_required", "R-SCH-1", ("§ 15a Abs. 1 SGB II",)))
            )
        current = Kooperationsplan.objects.select_for_update().filter(case=case, status__in=CURRENT_KP_STATUSES).first()
        if current is not None:
            if current.status == KPStatus.ACTIVE:
                current.status = transition(KP_TRANSITIONS, "5.1", current.status, "review").target
            current.status = transition(KP_TRANSITIONS, "5.1", current.status, "dispute").target
            current.save(update_fields=["status"])
            # The disputed Fortschreibung is now the Schlichtung's business (D-12), no longer a review (D-01).
            reminders_close(current, [ReminderKind.D01_REVIEW, ReminderKind.D17_RUECKKEHR])
        set_mode(case, "schlichtung_started")
        schlichtung = Schlichtung.objects.create(
            case=case,
            plan=current,
            requested_by=requested_by,
            disagreement=disagreement.strip(),
            schlichter_name=schlichter_name.strip(),
            tl_approval=approval,
            started_on=started_on,
            ends_on=s_rules.schlichtung_end(started_on),
            created_by=actor,
        )
        record(
            case,
            actor,
            "schlichtung.started",
            f"Schlichtung begonnen, endet spätestens am {schlichtung.ends_on:%d.%m.%Y}",
            decision,
            schlichtung=schlichtung.pk,
        )
        return schlichtung


def _lock_schlichtung(schlichtung_id: int) -> Schlichtung:
    schlichtung = Schlichtung.objects.get(pk=schlichtung_id)
    lock_case(schlichtung.case_id)
    return Schlichtung.objects.select_for_update().get(pk=schlichtung_id)


def schlichtung_agreement(
    *,
    schlichtung_id: int,
    actor: User,
    proposal: str,
    plan_id: int,
    lock_version: int,
    follows_proposal: bool = True,
    deviation_justification: str = "",
) -> Schlichtung:
    """R-SCH-4: agreement → the agreed KP is activated and the case cooperates without RFB."""
    with transaction.atomic():
        schlichtung = _lock_schlichtung(schlichtung_id)
        case = schlichtung.case
        if schlichtung.outcome != Schlichtung.Outcome.RUNNING:
            raise WorkflowRefused(refuse(Reason("schlichtung.not_running", "R-SCH-2", ("§ 15a Abs. 4 SGB II",))))
        decision = require(
            s_rules.schlichtung_result(
                agreement=True,
                proposal=proposal,
                deviation_justification=deviation_justification,
                follows_proposal=follows_proposal,
            )
        )
        schlichtung.outcome = Schlichtung.Outcome.AGREEMENT
        schlichtung.ended_on = today()
        schlichtung.proposal = proposal.strip()
        schlichtung.deviation_justification = deviation_justification.strip()
        schlichtung.save()
        reminders_close(schlichtung, [ReminderKind.D12_SCHLICHTUNG])
        set_mode(case, "schlichtung_agreement")
        record(case, actor, "schlichtung.agreement", "Schlichtung: Einigung", decision, schlichtung=schlichtung.pk)
        kooperationsplan_activate(plan_id=plan_id, actor=actor, lock_version=lock_version)
        return schlichtung


def schlichtung_no_agreement(
    *, schlichtung_id: int, actor: User | None, proposal: str, on: date | None = None, expired: bool = False
) -> Schlichtung:
    """R-SCH-2 / R-SCH-4: no agreement (or day 28 reached) → § 15 Abs. 6 applies until a KP exists."""
    with transaction.atomic():
        schlichtung = _lock_schlichtung(schlichtung_id)
        case = schlichtung.case
        on = on or today()
        facts = case_facts(case)
        if expired:
            decision = require(s_rules.schlichtung_expired(facts, on=on))
            ended_on = schlichtung.ends_on
        else:
            if schlichtung.outcome != Schlichtung.Outcome.RUNNING:
                raise WorkflowRefused(refuse(Reason("schlichtung.not_running", "R-SCH-2", ("§ 15a Abs. 4 SGB II",))))
            decision = require(
                s_rules.schlichtung_result(
                    agreement=False, proposal=proposal, deviation_justification="", follows_proposal=True
                )
            )
            ended_on = min(on, schlichtung.ends_on)
        schlichtung.outcome = Schlichtung.Outcome.NO_AGREEMENT
        schlichtung.ended_on = ended_on
        schlichtung.proposal = proposal.strip()
        schlichtung.save()
        reminders_close(schlichtung, [ReminderKind.D12_SCHLICHTUNG])
        disputed = Kooperationsplan.objects.select_for_update().filter(case=case, status=KPStatus.DISPUTED).first()
        if disputed is not None:
            disputed.status = transition(KP_TRANSITIONS, "5.1", disputed.status, "schlichtung_no_agreement").target
            disputed.ended_at = timezone.now()
            disputed.save(update_fields=["status", "ended_at"])
        set_mode(case, "schlichtung_expired")
        record(
            case,
            actor,
            "schlichtung.expired" if expired else "schlichtung.no_agreement",
            "Schlichtung ohne Einigung beendet" + (" (4 Wochen abgelaufen)" if expired else ""),
            decision,
            schlichtung=schlichtung.pk,
        )
        return schlichtung


def schlichtung_expire_due(*, on: date) -> list[int]:
    """R-SCH-2 / D-12: close every running Schlichtung whose end day has come. Idempotent."""
    closed = []
    for schlichtung_id in Schlichtung.objects.filter(outcome=Schlichtung.Outcome.RUNNING, ends_on__lte=on).values_list(
        "pk", flat=True
    ):
        try:
            schlichtung_no_agreement(schlichtung_id=schlichtung_id, actor=None, proposal="", on=on, expired=True)
        except WorkflowRefused:
            continue
        closed.append(schlichtung_id)
    return closed
