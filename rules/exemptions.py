"""Exceptions from the KP and the Kennung KP (RULES.md 3.13; 001 §8; P6)."""

from __future__ import annotations

from datetime import date, timedelta

from rules.dates import add_months, add_working_days
from rules.decision import Decision, Reason, allow, combine, refuse
from rules.facts import CaseFacts, ExemptionFacts, ExemptionReason
from rules.parameters import int_param
from rules.states import Mode


def kennung_kp(exemption: ExemptionFacts) -> Decision:
    """R-EXC-4 / P6: every exemption needs the Kennung KP with a meaningful reason (not only a code)."""
    sources = ("001 §8.3", "P6")
    reason_text = exemption.kennung_reason.strip()
    if not exemption.kennung_kp:
        return refuse(Reason("exemption.kennung_missing", "R-EXC-4", sources))
    if len(reason_text.split()) < 3:
        return refuse(Reason("exemption.kennung_reason_not_meaningful", "R-EXC-4", sources))
    return allow(Reason("exemption.kennung_set", "R-EXC-4", sources))


def einstellungszusage(exemption: ExemptionFacts, *, on: date) -> Decision:
    """R-EXC-1: a firm offer starting within 8 weeks, no further support needed."""
    sources = ("001 §8.1",)
    max_days = int_param("einstellungszusage.max_days", on)
    if exemption.job_start is None or not exemption.firm_offer:
        return refuse(Reason("exemption.ez_not_firm", "R-EXC-1", sources))
    if exemption.job_start > on + timedelta(days=max_days):
        return refuse(Reason("exemption.ez_too_far", "R-EXC-1", sources, {"max_days": max_days}))
    if exemption.job_start < on:
        return refuse(Reason("exemption.ez_start_past", "R-EXC-1", sources))
    if exemption.further_support_needed:
        return refuse(Reason("exemption.ez_support_needed", "R-EXC-1", sources))
    return allow(Reason("exemption.ez", "R-EXC-1", sources, {"until": exemption.job_start.isoformat()}))


def paragraph_10(exemption: ExemptionFacts) -> Decision:
    """R-EXC-2: a § 10 reason allows skipping the KP; with a Zukunftsziel a KP should be offered."""
    sources = ("§ 10 SGB II", "001 §8.2")
    if exemption.paragraph10_ended:
        return refuse(Reason("exemption.p10_ended", "R-EXC-2", sources))
    reasons = [Reason("exemption.p10", "R-EXC-2", sources)]
    if exemption.zukunftsziel:
        reasons.append(Reason("exemption.p10_kp_sinnvoll", "R-EXC-2", sources))
    return allow(*reasons)


def profillage_i(exemption: ExemptionFacts) -> Decision:
    """R-EXC-3: only if (full-time SV job OR self-employed OR working to the limit) AND no reduction in 6 months."""
    sources = ("001 §8.3",)
    working = exemption.vollzeit or exemption.selbststaendig or exemption.ausgeschoepft
    if not working:
        return refuse(Reason("exemption.pl1_not_working", "R-EXC-3", sources))
    if not exemption.keine_verringerung_6_monate:
        return refuse(Reason("exemption.pl1_reduction_possible", "R-EXC-3", sources))
    return allow(Reason("exemption.pl1", "R-EXC-3", sources))


def recheck_continues(exemption: ExemptionFacts, *, on: date) -> tuple[Decision, date]:
    """D-02 / D-03: the re-check found that the § 10 reason or the Profillage I conditions still apply; the next
    re-check is due at the latest 6 months later (001 §8.2, §8.3). Refused when the exemption must lapse instead."""
    months = int_param("exemption.recheck_months", on)
    if exemption.reason is ExemptionReason.PARAGRAPH_10:
        decision = paragraph_10(exemption)
        reason = Reason("exemption.p10_continues", "R-EXC-2", ("001 §8.2", "§ 10 SGB II"), {"months": months})
    elif exemption.reason is ExemptionReason.PROFILLAGE_I:
        decision = profillage_i(exemption)
        reason = Reason("exemption.pl1_continues", "R-EXC-3", ("001 §8.3",), {"months": months})
    else:
        refusal = Reason("exemption.ez_no_recheck", "R-EXC-1", ("001 §8.1",))
        return refuse(refusal), on
    if not decision.allowed:
        return decision, on
    return allow(reason), add_months(on, months)


def recheck_due(exemption: ExemptionFacts) -> date:
    """D-02, D-03, D-04: § 10 and Profillage I at the latest after 6 months; Einstellungszusage on the start day."""
    if exemption.reason is ExemptionReason.EINSTELLUNGSZUSAGE and exemption.job_start is not None:
        return exemption.job_start
    return add_months(exemption.recorded_on, int_param("exemption.recheck_months", exemption.recorded_on))


def exemption_may_be_recorded(facts: CaseFacts, exemption: ExemptionFacts, *, on: date, bulk: bool = False) -> Decision:
    """R-EXC-1..5: an individual decision (never a mass action), with the Kennung KP, not during a Schlichtung."""
    sources = ("001 §8",)
    if bulk:
        return refuse(Reason("exemption.no_bulk", "R-EXC-5", sources))
    if facts.mode is Mode.SCHLICHTUNG_PENDING:
        return refuse(Reason("exemption.schlichtung_running", "R-EXC-5", ("RULES.md 5.2",)))
    if facts.mode is Mode.EXEMPT:
        return refuse(Reason("exemption.already_exempt", "R-EXC-5", sources))
    specific = {
        ExemptionReason.EINSTELLUNGSZUSAGE: lambda: einstellungszusage(exemption, on=on),
        ExemptionReason.PARAGRAPH_10: lambda: paragraph_10(exemption),
        ExemptionReason.PROFILLAGE_I: lambda: profillage_i(exemption),
    }[exemption.reason]()
    return combine(allow(Reason("exemption.individual", "R-EXC-5", sources)), specific, kennung_kp(exemption))


def exemption_lapses(exemption: ExemptionFacts, *, on: date, bundesland: str) -> Decision:
    """R-EXC-1 / D-04, R-EXC-2 / D-02, R-EXC-3 / D-03: when an exemption lapses (mode back to NO_KP_YET)."""
    sources: tuple[str, ...]
    if exemption.reason is ExemptionReason.EINSTELLUNGSZUSAGE:
        sources = ("001 §8.1",)
        if exemption.job_started:
            return refuse(Reason("exemption.job_started", "R-EXC-1", sources))
        if not exemption.firm_offer:
            return allow(Reason("exemption.ez_withdrawn", "R-EXC-1", sources))
        max_days = int_param("einstellungszusage.max_days", exemption.recorded_on)
        if exemption.job_start is not None and exemption.job_start > exemption.recorded_on + timedelta(days=max_days):
            # R-EXC-1 edge: a start postponed beyond the 8 weeks ends the exemption.
            return allow(Reason("exemption.ez_postponed", "R-EXC-1", sources, {"max_days": max_days}))
        if exemption.job_start is not None and on > add_working_days(exemption.job_start, 3, bundesland):
            return allow(Reason("exemption.job_not_started", "R-EXC-1", sources))
        return refuse(Reason("exemption.ez_waiting", "R-EXC-1", sources))
    if exemption.reason is ExemptionReason.PARAGRAPH_10:
        sources = ("001 §8.2", "§ 10 SGB II")
        if exemption.paragraph10_ended:
            return allow(Reason("exemption.p10_ended", "R-EXC-2", sources))
        return refuse(Reason("exemption.p10_continues", "R-EXC-2", sources))
    sources = ("001 §8.3",)
    if not (exemption.vollzeit or exemption.selbststaendig or exemption.ausgeschoepft):
        return allow(Reason("exemption.pl1_changed", "R-EXC-3", sources))
    return refuse(Reason("exemption.pl1_continues", "R-EXC-3", sources))
