"""Leistungsminderung levels (R-SAN-1), their lifting (R-SAN-2) and the 6-month cut-off (L-15)."""

from __future__ import annotations

from datetime import date

import pytest

from rules.escalation import feststellung_still_possible, lift_minderung
from rules.sanctions import MinderungBasis, PastMinderung, feststellung_deadline, minderung_level
from rules.states import ESCALATION_TRANSITIONS, EscalationStatus, find_transition
from tests.rules.support import assert_decision

P31, P32 = MinderungBasis.PFLICHTVERLETZUNG, MinderungBasis.MELDEVERSAEUMNIS
NOW = date(2026, 6, 15)  # the new breach


def m(basis: MinderungBasis, percent: int, start: date, months: int | None = None) -> PastMinderung:
    return PastMinderung(basis, percent, start, months if months is not None else percent // 10)


@pytest.mark.parametrize(
    ("history", "percent", "months", "code"),
    [
        ((), 10, 1, "minderung.first"),
        # Last Minderung 13 months ago: the chain starts again.
        ((m(P31, 10, date(2025, 5, 15)),), 10, 1, "minderung.first"),
        ((m(P31, 20, date(2025, 5, 1)),), 10, 1, "minderung.first"),
        ((m(P31, 30, date(2025, 6, 14)),), 10, 1, "minderung.first"),  # 12 months and one day
        # Began at most 12 months before: one step up.
        ((m(P31, 10, date(2025, 6, 15)),), 20, 2, "minderung.repeated"),  # exactly 12 months
        ((m(P31, 10, date(2026, 1, 1)),), 20, 2, "minderung.repeated"),
        ((m(P31, 20, date(2026, 1, 1)),), 30, 3, "minderung.repeated"),
        # 10 % 13 months ago, then 20 % 11 months ago, now → 30 % (a count within 12 months would give 20 %).
        ((m(P31, 10, date(2025, 5, 15)), m(P31, 20, date(2025, 7, 15))), 30, 3, "minderung.repeated"),
        ((m(P31, 20, date(2025, 7, 15)), m(P31, 10, date(2025, 5, 15))), 30, 3, "minderung.repeated"),  # any order
        # 30 % recently → 30 % again.
        ((m(P31, 30, date(2026, 2, 1)),), 30, 3, "minderung.repeated"),
        (
            (m(P31, 10, date(2025, 8, 1)), m(P31, 20, date(2025, 10, 1)), m(P31, 30, date(2026, 1, 1))),
            30,
            3,
            "minderung.repeated",
        ),
        # Only the immediately preceding Minderung counts.
        ((m(P31, 30, date(2025, 8, 1)), m(P31, 10, date(2026, 1, 1))), 20, 2, "minderung.repeated"),
        # A Minderung that begins after the breach is not "preceding".
        ((m(P31, 20, date(2026, 7, 1)),), 10, 1, "minderung.first"),
    ],
)
def test_R_SAN_1_minderung_chain(history, percent, months, code) -> None:
    level = minderung_level(history, NOW)
    assert (level.percent, level.months) == (percent, months)
    assert (level.reason.code, level.reason.rule_id) == (code, "R-SAN-1")
    assert level.reason.sources
    assert level.reason.needs_legal_review is False


@pytest.mark.parametrize(
    "history",
    [
        (),
        (m(P31, 30, date(2026, 1, 1)),),  # a § 31 chain at 30 % does not raise a Meldeversäumnis
        (m(P32, 10, date(2026, 3, 1)), m(P32, 10, date(2026, 5, 1))),  # nor do earlier Meldeversäumnisse
        (m(P31, 10, date(2025, 1, 1)),),
    ],
)
def test_R_SAN_1_meldeversaeumnis_always_10_percent_for_1_month(history) -> None:
    level = minderung_level(history, NOW, basis=P32)
    assert (level.percent, level.months) == (10, 1)
    assert (level.reason.code, level.reason.rule_id) == ("minderung.melde_fix", "R-SAN-1")
    # Whether § 32 moves the § 31 chain is UNVERIFIED (RULES.md R-SAN-1): flagged.
    assert level.reason.needs_legal_review


@pytest.mark.parametrize(
    ("history", "percent", "months", "needs_review"),
    [
        # Safe default: a § 32 Minderung does not move the § 31 chain, and the result is flagged.
        ((m(P32, 10, date(2026, 3, 1)),), 10, 1, True),
        ((m(P31, 10, date(2025, 9, 1)), m(P32, 10, date(2026, 3, 1))), 20, 2, True),
        # A § 32 Minderung outside the 12 months changes nothing either way: no flag.
        ((m(P31, 10, date(2025, 9, 1)), m(P32, 10, date(2025, 3, 1))), 20, 2, False),
        ((m(P31, 10, date(2025, 9, 1)),), 20, 2, False),
    ],
)
def test_R_SAN_1_meldeversaeumnis_does_not_move_the_31_chain(history, percent, months, needs_review) -> None:
    level = minderung_level(history, NOW)
    assert (level.percent, level.months) == (percent, months)
    assert level.reason.needs_legal_review is needs_review


@pytest.mark.parametrize(
    ("history", "basis", "percent", "months", "running"),
    [
        # A 20 % Minderung is running: the next step (30 %) is capped at the remaining 10 % (L-12).
        ((m(P31, 20, date(2026, 6, 1)),), P31, 10, 3, 20),
        # 30 % running: nothing more can be added.
        ((m(P31, 30, date(2026, 5, 1)),), P31, 0, 3, 30),
        ((m(P31, 30, date(2026, 5, 1)),), P32, 0, 1, 30),
        # A running § 32 Minderung counts towards the cap (L-12, L-18).
        ((m(P31, 20, date(2025, 9, 1)), m(P32, 10, date(2026, 6, 1))), P31, 20, 3, 10),
        ((m(P31, 20, date(2026, 6, 1)),), P32, 10, 1, 20),
        # Ended Minderungen do not count towards the cap.
        ((m(P31, 20, date(2026, 3, 1)),), P31, 30, 3, 0),
    ],
)
def test_R_SAN_1_total_capped_at_30_percent(history, basis, percent, months, running) -> None:
    level = minderung_level(history, NOW, basis=basis)
    assert (level.percent, level.months) == (percent, months)
    assert level.reason.params["running"] == running
    assert level.reason.params["percent"] == percent


@pytest.mark.parametrize(
    ("started", "on", "code"),
    [
        (date(2026, 7, 1), date(2026, 7, 1), "minderung.lift_after_first_month"),
        (date(2026, 7, 1), date(2026, 7, 31), "minderung.lift_after_first_month"),
        (date(2026, 7, 1), date(2026, 8, 1), "minderung.lift_now"),
        (date(2026, 1, 31), date(2026, 2, 27), "minderung.lift_after_first_month"),
        (date(2026, 1, 31), date(2026, 2, 28), "minderung.lift_now"),
    ],
)
def test_R_SAN_2_minderung_lifted_on_compliance(started: date, on: date, code: str) -> None:
    assert_decision(lift_minderung(started=started, on=on), allowed=True, code=code, rule_id="R-SAN-2")
    row = find_transition(ESCALATION_TRANSITIONS, EscalationStatus.MINDERUNG_FESTGESTELLT, "pflicht_erfuellt")
    assert row is not None
    assert row.target == EscalationStatus.AUFGEHOBEN
    assert "R-SAN-2" in row.guards


@pytest.mark.parametrize(
    ("breach", "deadline", "on", "allowed"),
    [
        (date(2026, 4, 10), date(2026, 10, 10), date(2026, 10, 10), True),
        (date(2026, 4, 10), date(2026, 10, 10), date(2026, 10, 11), False),
        (date(2026, 8, 31), date(2027, 2, 28), date(2027, 3, 1), False),
        (date(2027, 8, 31), date(2028, 2, 29), date(2028, 2, 29), True),
    ],
)
def test_R_ESC_3_minderung_festgestellt_within_six_months(breach, deadline, on, allowed) -> None:
    assert feststellung_deadline(breach) == deadline
    code = "minderung.in_time" if allowed else "minderung.too_late"
    reason = assert_decision(feststellung_still_possible(breach, on), allowed=allowed, code=code, rule_id="R-ESC-3")
    assert reason.params["deadline"] == deadline.isoformat()
