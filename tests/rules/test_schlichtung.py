"""Schlichtungsverfahren § 15a SGB II (RULES.md 3.12, R-ABB-6; L-07)."""

from __future__ import annotations

from datetime import date

import pytest

from rules.escalation import schlichtung_blocks_minderung
from rules.schlichtung import (
    schlichtung_end,
    schlichtung_expired,
    schlichtung_may_start,
    schlichtung_outcomes,
    schlichtung_result,
)
from rules.states import KP_TRANSITIONS, MODE_TRANSITIONS, KPStatus, Mode, find_transition
from tests.rules.support import assert_decision, case, complete_draft, schlichtung

ON = date(2026, 6, 1)
DISPUTE = "Uneinigkeit über die Zahl der Bewerbungen bei der Fortschreibung"


@pytest.mark.parametrize(
    ("mode", "running", "disagreement", "allowed", "code"),
    [
        (Mode.COOP_NO_RFB, False, DISPUTE, True, "schlichtung.start"),
        (Mode.COOP_WITH_RFB, False, DISPUTE, True, "schlichtung.start"),
        (Mode.NO_KP_YET, False, DISPUTE, True, "schlichtung.start"),
        (Mode.COOP_NO_RFB, False, "", False, "schlichtung.disagreement_required"),
        (Mode.COOP_NO_RFB, False, "  ", False, "schlichtung.disagreement_required"),
        (Mode.SCHLICHTUNG_PENDING, True, DISPUTE, False, "schlichtung.already_running"),
        (Mode.COOP_NO_RFB, True, DISPUTE, False, "schlichtung.already_running"),
        (Mode.EXEMPT, False, DISPUTE, False, "schlichtung.case_exempt"),
    ],
)
def test_R_SCH_1_schlichtung_starts_on_request_after_a_disagreement(mode, running, disagreement, allowed, code) -> None:
    facts = case(mode=mode, schlichtung=schlichtung(date(2026, 5, 20), running=running))
    decision = schlichtung_may_start(facts, on=ON, disagreement=disagreement, after_failed_kp=False, tl_approved=False)
    assert_decision(decision, allowed=allowed, code=code, rule_id="R-SCH-1")
    if allowed:
        row = find_transition(MODE_TRANSITIONS, mode, "schlichtung_started")
        assert row is not None
        assert row.target == Mode.SCHLICHTUNG_PENDING


@pytest.mark.parametrize(
    ("tl_approved", "allowed", "code"),
    [(False, False, "schlichtung.tl_approval_required"), (True, True, "schlichtung.tl_approved")],
)
def test_R_ABB_6_schlichtung_after_failed_kp_needs_tl_approval(tl_approved: bool, allowed: bool, code: str) -> None:
    facts = case(mode=Mode.NO_KP_15_6, current_plan=None)
    decision = schlichtung_may_start(facts, on=ON, disagreement=DISPUTE, after_failed_kp=True, tl_approved=tl_approved)
    assert_decision(decision, allowed=allowed, code=code, rule_id="R-ABB-6")
    row = find_transition(MODE_TRANSITIONS, Mode.NO_KP_15_6, "schlichtung_started")
    assert row is not None
    assert "R-ABB-6" in row.guards


@pytest.mark.parametrize(
    ("started_on", "ends_on"),
    [
        (date(2026, 6, 1), date(2026, 6, 29)),
        (date(2026, 2, 1), date(2026, 3, 1)),
        (date(2028, 2, 1), date(2028, 2, 29)),  # leap year
        (date(2026, 12, 1), date(2026, 12, 29)),  # across Christmas: no extension
        (date(2026, 11, 27), date(2026, 12, 25)),  # ends on a public holiday: not moved
        (date(2026, 12, 28), date(2027, 1, 25)),  # across the year end
        (date(2026, 3, 29), date(2026, 4, 26)),  # summer time starts on day 0
    ],
)
def test_R_SCH_2_schlichtung_ends_four_weeks_after_start(started_on: date, ends_on: date) -> None:
    assert schlichtung_end(started_on) == ends_on


@pytest.mark.parametrize(
    ("running", "on", "expired", "code"),
    [
        (True, date(2026, 6, 15), False, "schlichtung.still_running"),
        (True, date(2026, 6, 28), False, "schlichtung.still_running"),
        (True, date(2026, 6, 29), True, "schlichtung.expired"),  # day 28: the nightly job closes it
        (True, date(2026, 7, 6), True, "schlichtung.expired"),  # a missed night does not keep it open
        (False, date(2026, 6, 29), False, "schlichtung.not_running"),
    ],
)
def test_R_SCH_2_nightly_job_closes_on_day_28(running: bool, on: date, expired: bool, code: str) -> None:
    facts = case(mode=Mode.SCHLICHTUNG_PENDING, schlichtung=schlichtung(date(2026, 6, 1), running=running))
    assert_decision(schlichtung_expired(facts, on=on), allowed=expired, code=code, rule_id="R-SCH-2")
    row = find_transition(MODE_TRANSITIONS, Mode.SCHLICHTUNG_PENDING, "schlichtung_expired")
    assert row is not None
    assert row.target == Mode.NO_KP_15_6


@pytest.mark.parametrize(
    ("breach_date", "blocked"),
    [
        (date(2026, 5, 31), False),
        (date(2026, 6, 1), True),  # first day
        (date(2026, 6, 15), True),
        (date(2026, 6, 29), True),  # last day
        (date(2026, 6, 30), False),
    ],
)
def test_R_SCH_3_no_minderung_for_breaches_during_schlichtung(breach_date: date, blocked: bool) -> None:
    facts = case(schlichtung=schlichtung(date(2026, 6, 1), running=False))
    code = "minderung.during_schlichtung" if blocked else "minderung.no_schlichtung"
    assert_decision(schlichtung_blocks_minderung(facts, breach_date), allowed=not blocked, code=code, rule_id="R-SCH-3")


@pytest.mark.parametrize(
    ("started_on", "ends_on", "breach_date", "blocked"),
    [
        # Ended early by agreement: later breaches are no longer protected.
        (date(2026, 6, 1), date(2026, 6, 10), date(2026, 6, 10), True),
        (date(2026, 6, 1), date(2026, 6, 10), date(2026, 6, 11), False),
        # No Schlichtung at all: nothing is blocked.
        (None, None, date(2026, 6, 1), False),
    ],
)
def test_R_SCH_3_protection_ends_with_the_schlichtung(started_on, ends_on, breach_date: date, blocked: bool) -> None:
    running = schlichtung(started_on, ends_on=ends_on, running=False) if started_on else None
    code = "minderung.during_schlichtung" if blocked else "minderung.no_schlichtung"
    decision = schlichtung_blocks_minderung(case(schlichtung=running), breach_date)
    assert_decision(decision, allowed=not blocked, code=code, rule_id="R-SCH-3")


@pytest.mark.parametrize(
    ("agreement", "proposal", "follows", "justification", "allowed", "code"),
    [
        (True, "Gemeinsamer Vorschlag: 4 Bewerbungen pro Monat", True, "", True, "schlichtung.agreement_kp"),
        (False, "Gemeinsamer Vorschlag: 4 Bewerbungen pro Monat", True, "", True, "schlichtung.no_agreement_15_6"),
        (False, "Gemeinsamer Vorschlag", False, "", False, "schlichtung.deviation_needs_justification"),
        (
            False,
            "Gemeinsamer Vorschlag",
            False,
            "Vorschlag übersieht die Kinderbetreuung",
            True,
            "schlichtung.no_agreement_15_6",
        ),
        (True, "", True, "", False, "schlichtung.proposal_required"),
    ],
)
def test_R_SCH_4_proposal_is_taken_into_account(agreement, proposal, follows, justification, allowed, code) -> None:
    decision = schlichtung_result(
        agreement=agreement, proposal=proposal, deviation_justification=justification, follows_proposal=follows
    )
    reason = assert_decision(decision, allowed=allowed, code=code, rule_id="R-SCH-4")
    if code == "schlichtung.no_agreement_15_6":
        assert "§ 15 Abs. 6 SGB II" in reason.sources
    agreement_row = find_transition(MODE_TRANSITIONS, Mode.SCHLICHTUNG_PENDING, "schlichtung_agreement")
    disputed_row = find_transition(KP_TRANSITIONS, KPStatus.DISPUTED, "schlichtung_no_agreement")
    assert agreement_row is not None
    assert agreement_row.target == Mode.COOP_NO_RFB
    assert disputed_row is not None
    assert disputed_row.target == KPStatus.NOT_CONTINUED


@pytest.mark.parametrize(
    ("running", "with_draft", "agreement_code", "no_agreement_code"),
    [
        (True, True, "schlichtung.agreement_kp", "schlichtung.no_agreement_15_6"),
        (True, False, "schlichtung.draft_needed", "schlichtung.no_agreement_15_6"),
        (False, True, "schlichtung.not_running", "schlichtung.not_running"),
    ],
)
def test_R_SCH_4_a_running_schlichtung_ends_with_or_without_agreement(
    running, with_draft, agreement_code, no_agreement_code
) -> None:
    facts = case(
        mode=Mode.SCHLICHTUNG_PENDING,
        schlichtung=schlichtung(date(2026, 3, 2), running=running),
        draft=complete_draft() if with_draft else None,
    )
    agreement, no_agreement = schlichtung_outcomes(facts)
    rule = "R-SCH-4" if running else "R-SCH-2"
    assert_decision(agreement, allowed=running and with_draft, code=agreement_code, rule_id=rule)
    assert_decision(no_agreement, allowed=running, code=no_agreement_code, rule_id=rule)
