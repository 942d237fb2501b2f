"""Leistungsminderung levels (R-SAN-1) used to make RFB texts and the Anhörung concrete (P8).

The system computes the level only to state it correctly; the Minderung itself is decided by the
Leistungsabteilung, whose outcome is recorded (P8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from rules.dates import add_months
from rules.decision import Reason
from rules.parameters import int_param, levels_param


class MinderungBasis(Enum):
    PFLICHTVERLETZUNG = "P31"  # § 31 Abs. 1 SGB II
    MELDEVERSAEUMNIS = "P32"  # § 32 SGB II


@dataclass(frozen=True)
class PastMinderung:
    """A festgestellte Minderung from the case history."""

    basis: MinderungBasis
    percent: int
    start: date
    months: int


@dataclass(frozen=True)
class MinderungLevel:
    percent: int
    months: int
    reason: Reason


def minderung_level(
    history: tuple[PastMinderung, ...],
    breach_date: date,
    *,
    basis: MinderungBasis = MinderungBasis.PFLICHTVERLETZUNG,
) -> MinderungLevel:
    """R-SAN-1: the level for a new breach.

    § 31 chain: if the immediately preceding festgestellte § 31 Minderung began at most 12 months
    before the breach, one step up from its level (10 → 20 → 30, then 30 again); otherwise 10 %.
    § 32 Meldeversäumnisse are always 10 % for one month; whether they move the § 31 chain is
    UNVERIFIED, so they do not (safe default, needs_legal_review). The cumulated total of the
    Minderungen running at the breach date is capped at 30 % (L-12).
    """
    cap = int_param("minderung.cap_percent", breach_date)
    running = sum(past.percent for past in history if past.start <= breach_date < add_months(past.start, past.months))
    if basis is MinderungBasis.MELDEVERSAEUMNIS:
        percent, months = levels_param("minderung.melde.levels", breach_date)[0]
        capped = min(percent, max(cap - running, 0))
        return MinderungLevel(
            capped,
            months,
            Reason(
                "minderung.melde_fix",
                "R-SAN-1",
                ("§ 32 SGB II", "§ 31a Abs. 4 SGB II"),
                {"percent": capped, "months": months, "running": running},
                needs_legal_review=True,
            ),
        )

    levels = levels_param("minderung.pflicht.levels", breach_date)
    lookback = int_param("minderung.lookback_months", breach_date)
    previous = sorted(
        (past for past in history if past.basis is MinderungBasis.PFLICHTVERLETZUNG and past.start <= breach_date),
        key=lambda past: past.start,
    )
    # R-SAN-1: whether § 32 Minderungen move the § 31 chain is UNVERIFIED; they do not (safe default),
    # and a result that depends on this assumption is flagged for the Rechtsstelle (P10).
    melde_ignored = any(
        past.basis is MinderungBasis.MELDEVERSAEUMNIS
        and add_months(breach_date, -lookback) <= past.start <= breach_date
        for past in history
    )
    step = 0
    code = "minderung.first"
    if previous and previous[-1].start >= add_months(breach_date, -lookback):
        last_percent = previous[-1].percent
        known = [percent for percent, _ in levels]
        last_index = known.index(last_percent) if last_percent in known else len(levels) - 1
        step = min(last_index + 1, len(levels) - 1)
        code = "minderung.repeated"
    percent, months = levels[step]
    capped = min(percent, max(cap - running, 0))
    return MinderungLevel(
        capped,
        months,
        Reason(
            code,
            "R-SAN-1",
            ("§ 31a Abs. 1 SGB II", "§ 31b Abs. 2 SGB II", "§ 31a Abs. 4 SGB II"),
            {"percent": capped, "months": months, "lookback_months": lookback, "running": running},
            needs_legal_review=melde_ignored,
        ),
    )


def feststellung_deadline(breach_date: date) -> date:
    """L-15 / D-11: a Minderung must be festgestellt within 6 months of the breach."""
    return add_months(breach_date, int_param("minderung.feststellung_months", breach_date))
