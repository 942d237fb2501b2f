"""rules/teamdesk.py: the TL queue threshold of D-01, the TL's answers and the reassignment guard (RULES.md 5.4)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.deadlines import d01_review
from rules.teamdesk import QueueKind, TLAction, reassign_decision, review_in_queue, review_queue_cutoff, tl_decision


@given(review_due=st.dates(date(2024, 1, 1), date(2030, 12, 31)), offset=st.integers(-40, 60))
def test_R_FS_1_queue_cutoff_agrees_with_the_d01_escalation_day(review_due: date, offset: int) -> None:
    """A review is in the TL queue exactly when D-01's escalation day has passed (also across month ends,
    29 February and the summer-time change: plain dates, no clock)."""
    on = review_due + timedelta(days=offset)
    escalate_on = d01_review(review_due).escalate_on
    assert escalate_on is not None
    in_queue = review_in_queue(review_due, on=on)
    assert in_queue.allowed == (on > escalate_on) == (review_due < review_queue_cutoff(on))


@pytest.mark.parametrize(
    ("review_due", "on", "allowed", "code"),
    [
        (date(2026, 2, 14), date(2026, 2, 28), False, "teamdesk.review_not_in_queue"),  # 14 days: not yet
        (date(2026, 2, 14), date(2026, 3, 1), True, "teamdesk.review_overdue"),
        (date(2028, 2, 15), date(2028, 3, 1), True, "teamdesk.review_overdue"),  # leap year: 15 days
        (date(2026, 3, 16), date(2026, 3, 31), True, "teamdesk.review_overdue"),  # across the summer-time change
    ],
)
def test_R_FS_1_review_in_queue_table(review_due: date, on: date, allowed: bool, code: str) -> None:
    decision = review_in_queue(review_due, on=on)
    assert (decision.allowed, decision.codes) == (allowed, (code,))
    assert decision.reasons[0].params["days"] == (on - review_due).days
    assert "§ 15 Abs. 3 SGB II" in decision.sources


@pytest.mark.parametrize(
    ("kind", "action", "comment", "allowed", "code", "rule_id"),
    [
        (QueueKind.SCHLICHTUNG, TLAction.APPROVE, "", True, "approval.approved", "R-ABB-6"),
        (QueueKind.SCHLICHTUNG, TLAction.DECLINE, "", True, "approval.declined", "R-ABB-6"),
        (QueueKind.PSYCH_SKIP, TLAction.APPROVE, "", True, "teamdesk.psych_skip_acknowledged", "R-ESC-5"),
        (QueueKind.PSYCH_SKIP, TLAction.DECLINE, "Nein danke.", False, "teamdesk.decline_not_offered", "R-ESC-5"),
        (QueueKind.REVIEW_OVERDUE, TLAction.APPROVE, "", True, "teamdesk.review_delay_accepted", "R-FS-1"),
        (QueueKind.REVIEW_OVERDUE, TLAction.RETURN, "   ", False, "teamdesk.comment_required", "R-FS-1"),
        (QueueKind.REVIEW_OVERDUE, TLAction.RETURN, "Bitte", False, "teamdesk.comment_required", "R-FS-1"),
        (QueueKind.PSYCH_SKIP, TLAction.RETURN, "Bitte prüfen.", True, "teamdesk.returned", "R-ESC-5"),
    ],
)
def test_R_ABB_6_and_R_ESC_5_tl_decision_table(kind, action, comment, allowed, code, rule_id) -> None:
    decision = tl_decision(kind, action, comment=comment)
    assert (decision.allowed, decision.codes, decision.rule_ids) == (allowed, (code,), (rule_id,))


def test_a_letter_release_is_decided_by_the_letter_rules() -> None:
    with pytest.raises(ValueError, match="letter_release"):
        tl_decision(QueueKind.LETTER_RELEASE, TLAction.APPROVE, comment="")


@pytest.mark.parametrize(
    ("kwargs", "codes"),
    [
        ({}, ("reassign.allowed",)),
        ({"reason": "Urlaub"}, ("reassign.reason_required",)),
        ({"target_in_team": False}, ("reassign.target_not_in_team",)),
        ({"target_is_ifk": False}, ("reassign.target_not_in_team",)),
        ({"target_active": False}, ("reassign.target_not_in_team",)),
        ({"target_is_current": True}, ("reassign.same_person",)),
        ({"reason": "", "target_in_team": False}, ("reassign.reason_required", "reassign.target_not_in_team")),
    ],
)
def test_reassign_decision_table(kwargs: dict, codes: tuple[str, ...]) -> None:
    arguments = {
        "reason": "Vertretung bis Mai.",
        "target_in_team": True,
        "target_is_ifk": True,
        "target_active": True,
        "target_is_current": False,
        **kwargs,
    }
    decision = reassign_decision(**arguments)
    assert decision.codes == codes
    assert decision.allowed == (codes == ("reassign.allowed",))
    if "reassign.target_not_in_team" in codes or decision.allowed:
        assert "§ 35 SGB I" in decision.sources
