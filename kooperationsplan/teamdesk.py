"""The team lead's desk (RULES.md 5.4 "TL review queue"): the escalation queue of one team and the TL's actions.

Queue (reads, set-based: a count and a page per section, whatever the number of cases):
(a) KP reviews overdue by more than 14 days (D-01), queried live from the plans;
(b) Schlichtung approvals after a failed KP (R-ABB-6) and (c) documented psych skips (R-ESC-5), the open
    TeamLeadApproval rows;
(d) letters with RFB waiting for the four-eyes release (Jobcenter setting), from the letters app.

Actions (writes, each one transaction with a timeline event): approve, return to the IFK with a comment,
and hand the case to another IFK of the same team with a reason. Only a team lead of the case's team may
act (T4: everyone else gets PermissionDenied, nothing changes); another team's items do not exist for
the TL (the views answer 404 through the scoping selector).
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from cases.models import Case, Role, User
from cases.selectors import case_list_visible
from cases.services import CaseActionRefused, case_reassign
from kooperationsplan.models import (
    Kooperationsplan,
    KPStatus,
    Notification,
    Reminder,
    ReminderStatus,
    TeamLeadApproval,
    TeamLeadApprovalKind,
    TeamLeadApprovalStatus,
)
from kooperationsplan.schlichtung import approval_decide
from kooperationsplan.workflow import WorkflowRefused, lock_case, record, require
from letters.models import Letter, LetterStatus
from letters.selectors import letters_awaiting_release
from letters.services import LetterReleaseRefused, letter_release, letter_withdraw_unreleased
from rules.decision import Decision, Reason, refuse
from rules.teamdesk import KIND_RULES, QueueKind, TLAction, review_in_queue, review_queue_cutoff, tl_decision

PLAN_SUBJECT = "kooperationsplan.Kooperationsplan"
LETTER_SUBJECT = "letters.Letter"
# (b) and (c): the kinds that the IFK puts forward and that wait as open rows.
REQUEST_KINDS = (TeamLeadApprovalKind.SCHLICHTUNG_NACH_SCHEITERN, TeamLeadApprovalKind.PSYCH_SKIP)
REVIEW_STATUSES = (KPStatus.ACTIVE, KPStatus.UNDER_REVIEW)
NOTIFICATION_LENGTH = 300


def require_teamleitung(user: User) -> None:
    """T4: the desk and its actions are for team leads only."""
    if user.role != Role.TEAMLEITUNG or user.team_id is None:
        raise PermissionDenied("Nur die Teamleitung hat Zugriff auf die Teamleitungsansicht.")


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- Reads -----------------------------------------------------------------------------------------------


def _review_handled(on: date) -> Exists:
    """A TL action on the review since the queue cutoff keeps it off the queue (rules.teamdesk.review_queue_cutoff)."""
    return Exists(
        TeamLeadApproval.objects.filter(
            kind=TeamLeadApprovalKind.REVIEW_OVERDUE,
            subject_type=PLAN_SUBJECT,
            subject_id=OuterRef("pk"),
            decided_at__gte=_start_of(review_queue_cutoff(on)),
        )
    )


def overdue_reviews(user: User, *, on: date) -> QuerySet[Kooperationsplan]:
    """(a) D-01: current plans of open cases whose review is more than 14 days overdue, the oldest first."""
    cases = case_list_visible(user).filter(closed_on__isnull=True).values("pk")
    return (
        Kooperationsplan.objects.filter(
            case__in=cases, status__in=REVIEW_STATUSES, review_due__lt=review_queue_cutoff(on)
        )
        .exclude(_review_handled(on))
        .select_related("case__elb", "case__responsible")
        .order_by("review_due", "pk")
    )


def open_requests(user: User) -> QuerySet[TeamLeadApproval]:
    """(b) and (c): open Schlichtung approvals and psych skips of the team's cases, the oldest first."""
    return (
        TeamLeadApproval.objects.filter(
            case__in=case_list_visible(user).values("pk"), kind__in=REQUEST_KINDS, status=TeamLeadApprovalStatus.OPEN
        )
        .select_related("case__elb", "case__responsible", "requested_by")
        .order_by("requested_at", "pk")
    )


def letters_to_release(user: User) -> QuerySet[Letter]:
    """(d) Letters with RFB of the team waiting for the four-eyes release, the oldest first."""
    if user.team is None:
        return Letter.objects.none()
    return letters_awaiting_release(user.team).filter(case__in=case_list_visible(user).values("pk"))


def letter_item(user: User, letter_id: int) -> Letter | None:
    return letters_to_release(user).filter(pk=letter_id).first()


def review_item(user: User, plan_id: int, *, on: date) -> Kooperationsplan | None:
    return overdue_reviews(user, on=on).filter(pk=plan_id).first()


def request_item(user: User, approval_id: int) -> TeamLeadApproval | None:
    return open_requests(user).filter(pk=approval_id).first()


def reassign_targets(case: Case) -> list[User]:
    """The IFK of the case's team who could take it over (never the current one)."""
    return list(
        User.objects.filter(team_id=case.team_id, role=Role.IFK, is_active=True)
        .exclude(pk=case.responsible_id)
        .order_by("last_name", "first_name", "username")
    )


# --- Writes ----------------------------------------------------------------------------------------------


def _notify(case: Case, message: str) -> None:
    """The responsible IFK reads the TL's answer in the worklist (and the daily digest)."""
    Notification.objects.create(user_id=case.responsible_id, case=case, message=message[:NOTIFICATION_LENGTH])


def _tl_name(actor: User) -> str:
    return actor.get_full_name() or actor.username


def _lock_team_case(case_id: int, actor: User) -> Case:
    case = lock_case(case_id)
    if case.team_id != actor.team_id:
        raise PermissionDenied("Nur die Teamleitung des Teams darf entscheiden.")
    return case


def request_act(*, approval_id: int, actor: User, action: TLAction, comment: str) -> TeamLeadApproval:
    """(b), (c): approve, decline (Schlichtung only) or return an open request to the IFK."""
    require_teamleitung(actor)
    with transaction.atomic():
        approval = TeamLeadApproval.objects.get(pk=approval_id, kind__in=REQUEST_KINDS)
        case = _lock_team_case(approval.case_id, actor)
        approval = TeamLeadApproval.objects.select_for_update().get(pk=approval_id)
        kind = QueueKind(approval.kind)
        rule_id, sources = KIND_RULES[kind]
        if approval.status != TeamLeadApprovalStatus.OPEN:
            raise WorkflowRefused(refuse(Reason("approval.already_decided", rule_id, sources)))
        decision = require(tl_decision(kind, action, comment=comment))
        if kind == QueueKind.SCHLICHTUNG and action != TLAction.RETURN:
            # R-ABB-6: the one decision service for Schlichtung approvals (also used on the case page).
            approval = approval_decide(
                approval_id=approval.pk, actor=actor, approve=action == TLAction.APPROVE, comment=comment
            )
        else:
            approval.status = (
                TeamLeadApprovalStatus.RETURNED if action == TLAction.RETURN else TeamLeadApprovalStatus.APPROVED
            )
            approval.decided_by = actor
            approval.decided_at = timezone.now()
            approval.comment = comment.strip()
            approval.save(update_fields=["status", "decided_by", "decided_at", "comment"])
            returned = action == TLAction.RETURN
            record(
                case,
                actor,
                "approval.returned" if returned else "approval.decided",
                f"Teamleitung: {approval.get_kind_display()} – {approval.get_status_display()}"
                + (f". Kommentar: {comment.strip()}" if comment.strip() else ""),
                decision,
                approval=approval.pk,
            )
        _notify(
            case,
            f"Teamleitung {_tl_name(actor)}: {approval.get_kind_display()} – {approval.get_status_display()}"
            + (f". {comment.strip()}" if comment.strip() else ""),
        )
        return approval


def review_act(*, plan_id: int, actor: User, action: TLAction, comment: str, on: date) -> TeamLeadApproval:
    """(a): accept the delay of an overdue review, or return it to the IFK with a comment.

    The decision is kept as a decided TeamLeadApproval row on the plan; it takes the review off the
    queue for the D-01 lead time (rules.teamdesk.review_queue_cutoff)."""
    require_teamleitung(actor)
    with transaction.atomic():
        plan = Kooperationsplan.objects.get(pk=plan_id)
        case = _lock_team_case(plan.case_id, actor)
        plan = Kooperationsplan.objects.select_for_update().get(pk=plan_id)
        queued = _require_in_queue(plan, case, on=on)
        decision = require(tl_decision(QueueKind.REVIEW_OVERDUE, action, comment=comment))
        approval = _review_decided(
            plan,
            actor,
            TeamLeadApprovalStatus.RETURNED if action == TLAction.RETURN else TeamLeadApprovalStatus.APPROVED,
            comment=comment.strip(),
        )
        record(
            case,
            actor,
            "approval.returned" if action == TLAction.RETURN else "approval.decided",
            f"Teamleitung: überfällige Überprüfung des KP v{plan.version_number} – {approval.get_status_display()}"
            + (f". Kommentar: {comment.strip()}" if comment.strip() else ""),
            queued,
            decision,
            approval=approval.pk,
            plan=plan.pk,
        )
        _notify(
            case,
            f"Teamleitung {_tl_name(actor)}: überfällige Überprüfung des Kooperationsplans – "
            f"{approval.get_status_display()}" + (f". {comment.strip()}" if comment.strip() else ""),
        )
        return approval


def _require_in_queue(plan: Kooperationsplan, case: Case, *, on: date) -> Decision:
    """The plan is (still) an item of the queue: current, of an open case, overdue beyond the TL lead time,
    and not answered since the cutoff (a second submit of the same action is refused here, T8)."""
    rule_id, sources = KIND_RULES[QueueKind.REVIEW_OVERDUE]
    if plan.status not in REVIEW_STATUSES or plan.review_due is None or case.closed_on is not None:
        raise WorkflowRefused(refuse(Reason("teamdesk.review_not_in_queue", rule_id, sources)))
    queued = require(review_in_queue(plan.review_due, on=on))
    if Kooperationsplan.objects.filter(pk=plan.pk).filter(_review_handled(on)).exists():
        raise WorkflowRefused(refuse(Reason("approval.already_decided", rule_id, sources)))
    return queued


def _review_decided(
    plan: Kooperationsplan, actor: User, status: TeamLeadApprovalStatus, *, comment: str
) -> TeamLeadApproval:
    return TeamLeadApproval.objects.create(
        case_id=plan.case_id,
        kind=TeamLeadApprovalKind.REVIEW_OVERDUE,
        status=status,
        subject_type=PLAN_SUBJECT,
        subject_id=plan.pk,
        request_note=f"Überprüfung fällig seit {plan.review_due:%d.%m.%Y}",
        decided_by=actor,
        decided_at=timezone.now(),
        comment=comment,
    )


def queue_reassign(
    *, case_id: int, actor: User, new_responsible_id: int, reason: str, plan_id: int | None = None, on: date
) -> Case:
    """Hand the case of a queue item to another IFK of the team (cases.services.case_reassign).

    Open reminders of the previous IFK follow the case; the new IFK is notified. From an overdue review
    (`plan_id`) the reassignment is the TL's answer to it: the review leaves the queue as "returned"."""
    require_teamleitung(actor)
    with transaction.atomic():
        plan = None
        if plan_id is not None:
            locked = _lock_team_case(case_id, actor)
            plan = Kooperationsplan.objects.select_for_update().get(pk=plan_id, case_id=case_id)
            _require_in_queue(plan, locked, on=on)
        previous = Case.objects.values_list("responsible_id", flat=True).get(pk=case_id)
        try:
            case = case_reassign(case_id=case_id, actor=actor, new_responsible_id=new_responsible_id, reason=reason)
        except CaseActionRefused as refused:
            raise WorkflowRefused(refused.decision) from refused
        moved = list(
            Reminder.objects.filter(case=case, assignee_id=previous, status=ReminderStatus.OPEN).values_list(
                "pk", flat=True
            )
        )
        Reminder.objects.filter(pk__in=moved).update(assignee_id=case.responsible_id)
        # Their unread notifications follow them, so the badge and the digest of the new IFK show them.
        already = Notification.objects.filter(user_id=case.responsible_id, reminder_id__in=moved).values("reminder_id")
        Notification.objects.filter(reminder_id__in=moved, user_id=previous, read_at__isnull=True).exclude(
            reminder_id__in=already
        ).update(user_id=case.responsible_id)
        if plan is not None:
            name = case.responsible.get_full_name() or case.responsible.username
            _review_decided(
                plan, actor, TeamLeadApprovalStatus.RETURNED, comment=f"Neu zugewiesen an {name}: {reason.strip()}"
            )
        _notify(
            case,
            f"Teamleitung {_tl_name(actor)} hat Ihnen den Fall {case.elb.kundennummer} übertragen. "
            f"Grund: {reason.strip()}",
        )
        return case


def letter_act(*, letter_id: int, actor: User, action: TLAction, comment: str) -> Letter:
    """(d) Release a letter with RFB after the four-eyes check (letters.services.letter_release), or return
    it to the IFK with a comment: the letter is then cancelled (never sent), and a corrected one is a new
    letter (DESIGN.md "Letters")."""
    require_teamleitung(actor)
    with transaction.atomic():
        letter = Letter.objects.defer("pdf", "context").get(pk=letter_id)
        case = _lock_team_case(letter.case_id, actor)
        if action == TLAction.APPROVE:
            try:
                letter = letter_release(letter_id=letter_id, actor=actor)
            except LetterReleaseRefused as refused:
                raise WorkflowRefused(refused.decision) from refused
            _notify(case, f"Teamleitung {_tl_name(actor)}: Schreiben Nr. {letter.number} freigegeben.")
            return letter
        decision = require(tl_decision(QueueKind.LETTER_RELEASE, action, comment=comment))
        rule_id, sources = KIND_RULES[QueueKind.LETTER_RELEASE]
        # Only a letter that still waits can be returned (a second submit changes nothing).
        if not letter_withdraw_unreleased(letter_id=letter_id):
            raise WorkflowRefused(refuse(Reason("letter.release_not_awaiting", rule_id, sources)))
        approval = TeamLeadApproval.objects.create(
            case=case,
            kind=TeamLeadApprovalKind.LETTER_RELEASE,
            status=TeamLeadApprovalStatus.RETURNED,
            subject_type=LETTER_SUBJECT,
            subject_id=letter.pk,
            requested_by_id=letter.issued_by_id,
            request_note=f"Schreiben Nr. {letter.number} ({letter.get_kind_display()})",
            decided_by=actor,
            decided_at=timezone.now(),
            comment=comment.strip(),
        )
        record(
            case,
            actor,
            "approval.returned",
            f"Teamleitung: Schreiben Nr. {letter.number} nicht freigegeben und storniert. Kommentar: {comment.strip()}",
            decision,
            approval=approval.pk,
            letter=letter.pk,
        )
        _notify(
            case,
            f"Teamleitung {_tl_name(actor)}: Schreiben Nr. {letter.number} nicht freigegeben (storniert). "
            f"{comment.strip()}",
        )
        letter.status = LetterStatus.CANCELLED
        return letter
