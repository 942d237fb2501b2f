"""The team lead's desk: which items reach the TL queue and which TL actions are allowed (RULES.md 5.4).

The queue holds (RULES.md 5.4, "TL review queue"): Schlichtung approvals after a failed KP (R-ABB-6),
documented psych skips (R-ESC-5), the four-eyes release of letters with RFB (a Jobcenter setting), and
KP reviews overdue by more than 14 days (D-01: "TL queue at +14 days"). On every item the team lead
may approve, return it to the IFK with a comment, or hand the case to another IFK of the same team.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from rules.deadlines import d01_review
from rules.decision import Decision, ParamValue, Reason, allow, refuse

QUEUE_SOURCES = ("RULES.md 5.4",)
# § 35 SGB I: Sozialdaten stay with the unit that works the case; a case never leaves its team by a reassignment.
TEAM_SOURCES = ("RULES.md 5.4", "§ 35 SGB I")


class QueueKind(StrEnum):
    """The kinds of queue items; the values are those of kooperationsplan.models.TeamLeadApprovalKind."""

    SCHLICHTUNG = "SCHLICHTUNG"
    PSYCH_SKIP = "PSYCH_SKIP"
    REVIEW_OVERDUE = "REVIEW_OVERDUE"
    LETTER_RELEASE = "LETTER_RELEASE"


class TLAction(StrEnum):
    APPROVE = "APPROVE"
    DECLINE = "DECLINE"
    RETURN = "RETURN"


# The rule behind each kind, cited on every decision about it.
KIND_RULES: dict[QueueKind, tuple[str, tuple[str, ...]]] = {
    QueueKind.SCHLICHTUNG: ("R-ABB-6", ("001 §6.2",)),
    QueueKind.PSYCH_SKIP: ("R-ESC-5", ("001 §6.1",)),
    QueueKind.REVIEW_OVERDUE: ("R-FS-1", ("§ 15 Abs. 3 SGB II", "RULES.md 7")),
    QueueKind.LETTER_RELEASE: ("R-LET-1", ("RULES.md 6.3", "BSG B 4 AS 30/09 R")),
}

# The number of words a comment needs to say something to its reader (the same bar as R-ESC-5's Vermerk).
MIN_COMMENT_WORDS = 2


def review_queue_cutoff(on: date) -> date:
    """The TL queue holds current plans whose review_due lies before this day.

    D-01 escalates to the TL a fixed number of days after the review date (`escalate_on`), and an item
    is in the queue once that day has passed: review_due + offset < on, i.e. review_due < on − offset.
    A TL action on an overdue review takes it off the queue for the same lead time: a decision made on
    or after this day keeps it out; if the review is still open after that, it comes back.
    """
    escalate_on = d01_review(on).escalate_on
    if escalate_on is None:
        raise ValueError("D-01 has no TL escalation")
    return on - (escalate_on - on)


def review_in_queue(review_due: date, *, on: date) -> Decision:
    """D-01 / R-FS-1: an overdue review reaches the TL queue only after the TL lead time has passed."""
    rule_id, sources = KIND_RULES[QueueKind.REVIEW_OVERDUE]
    days_overdue = (on - review_due).days
    params: dict[str, ParamValue] = {"review_due": review_due.isoformat(), "days": days_overdue}
    if review_due < review_queue_cutoff(on):
        return allow(Reason("teamdesk.review_overdue", rule_id, sources, params))
    return refuse(Reason("teamdesk.review_not_in_queue", rule_id, sources, params))


def _meaningful(comment: str) -> bool:
    return len(comment.split()) >= MIN_COMMENT_WORDS


def tl_decision(kind: QueueKind, action: TLAction, *, comment: str) -> Decision:
    """The TL's answer to a queue item. Returning needs a comment the IFK can act on; only a Schlichtung
    request can be declined (R-ABB-6: the case then stays NO_KP_15_6)."""
    rule_id, sources = KIND_RULES[kind]
    if action == TLAction.RETURN:
        if not _meaningful(comment):
            return refuse(Reason("teamdesk.comment_required", rule_id, (*sources, *QUEUE_SOURCES)))
        return allow(Reason("teamdesk.returned", rule_id, (*sources, *QUEUE_SOURCES)))
    if action == TLAction.DECLINE:
        if kind != QueueKind.SCHLICHTUNG:
            return refuse(Reason("teamdesk.decline_not_offered", rule_id, (*sources, *QUEUE_SOURCES)))
        return allow(Reason("approval.declined", rule_id, sources))
    if kind == QueueKind.LETTER_RELEASE:
        # The release itself is decided by rules.letters.letter_release (four eyes, team lead, not the issuer).
        raise ValueError("A letter is released through letters.services.letter_release")
    if kind == QueueKind.SCHLICHTUNG:
        return allow(Reason("approval.approved", rule_id, sources))
    if kind == QueueKind.PSYCH_SKIP:
        return allow(Reason("teamdesk.psych_skip_acknowledged", rule_id, sources))
    return allow(Reason("teamdesk.review_delay_accepted", rule_id, sources))


def reassign_decision(
    *,
    reason: str,
    target_in_team: bool,
    target_is_ifk: bool,
    target_active: bool,
    target_is_current: bool,
) -> Decision:
    """A team lead hands a case to another IFK of the same team, with a reason on the timeline."""
    refusals: list[Reason] = []
    if not _meaningful(reason):
        refusals.append(Reason("reassign.reason_required", "RULES-5.4", QUEUE_SOURCES))
    if not (target_in_team and target_is_ifk and target_active):
        refusals.append(Reason("reassign.target_not_in_team", "RULES-5.4", TEAM_SOURCES))
    elif target_is_current:
        refusals.append(Reason("reassign.same_person", "RULES-5.4", QUEUE_SOURCES))
    if refusals:
        return refuse(*refusals)
    return allow(Reason("reassign.allowed", "RULES-5.4", TEAM_SOURCES))
