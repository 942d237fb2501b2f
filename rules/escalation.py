"""Monitoring and the escalation ladder (RULES.md 3.5-3.7, 3.11, 3.14; state machine 5.4)."""

from __future__ import annotations

from datetime import date, timedelta

from rules.dates import add_months
from rules.decision import Decision, Reason, allow, combine, refuse
from rules.facts import CaseFacts, EscalationFacts
from rules.sanctions import MinderungBasis, MinderungLevel, feststellung_deadline, minderung_level
from rules.states import EscalationStatus, Mode


def breach_may_be_recorded(facts: CaseFacts) -> Decision:
    """R-MON-1 / R-EB-4: a breach of a KP agreement starts the ladder; without a KP there is none to breach."""
    sources = ("001 §6.1", "000", "§ 15 Abs. 5 SGB II")
    if facts.current_plan is None:
        return refuse(Reason("breach.no_current_kp", "R-MON-1", sources))
    return allow(Reason("breach.recorded", "R-EB-4", sources))


def eb_evidence_late(*, due_on: date, received_on: date | None, on: date, grace_days: int = 7) -> Decision:
    """R-EB-4 / D-07: missing evidence on due date + grace is non-compliance (the day D-07 escalates)."""
    sources = ("001 §6.1", "001 §5.2")
    if received_on is not None:
        return refuse(Reason("eb.received", "R-EB-4", sources))
    if (on - due_on).days >= grace_days:
        return allow(Reason("eb.missing_after_grace", "R-EB-4", sources, {"grace_days": grace_days}))
    return refuse(Reason("eb.within_grace", "R-EB-4", sources, {"grace_days": grace_days}))


def eb_evidence_complete(*, min_count: int, count_reported: int) -> Decision:
    """R-EB-4: evidence of fewer Eigenbemühungen than agreed is incomplete, i.e. non-compliance."""
    sources = ("001 §6.1", "001 §5.2")
    params = {"min_count": min_count, "count": count_reported}
    if count_reported < min_count:
        return refuse(Reason("eb.incomplete", "R-EB-4", sources, params))
    return allow(Reason("eb.complete", "R-EB-4", sources, params))


def intervention_may_be_invited(escalation: EscalationFacts) -> Decision:
    """R-ESC-1: step 1 is the Beraterische Intervention, invited without RFB (R-INV-3)."""
    sources = ("001 §6.1", "001 §4.2")
    if escalation.status is not EscalationStatus.BREACH_DETECTED:
        return refuse(Reason("escalation.wrong_step", "R-ESC-1", sources, {"status": escalation.status.value}))
    if escalation.minderung_basis_p32:
        # R-INV-7: a Meldeversäumnis is no breach of a KP agreement; it goes to the Anhörung (§ 32 SGB II).
        return refuse(Reason("melde.no_intervention", "R-INV-7", ("§ 32 SGB II", "001 §6.1")))
    return allow(Reason("escalation.intervention_first", "R-ESC-1", sources))


def anhoerung_32(facts: CaseFacts, escalation: EscalationFacts, *, on: date) -> Decision:
    """R-INV-7 / R-ESC-6: after a Meldeversäumnis (invitation with a correct RFB, Zugang proven) the Anhörung
    § 24 SGB X about a § 32 Minderung (10 % for one month). Guards: within 6 months of the missed appointment
    (L-15); a running Schlichtung does not block § 32 (Q3, flagged for legal review)."""
    sources = ("§ 24 SGB X", "§ 32 SGB II")
    if not escalation.minderung_basis_p32 or escalation.status is not EscalationStatus.BREACH_DETECTED:
        return refuse(Reason("melde.not_a_meldeversaeumnis", "R-INV-7", sources, {"status": escalation.status}))
    return combine(
        allow(Reason("melde.anhoerung_32", "R-INV-7", sources, {"percent": 10, "months": 1})),
        schlichtung_blocks_minderung(facts, escalation.breach_date, meldeversaeumnis=True),
        feststellung_still_possible(escalation.breach_date, on),
    )


def aufforderung_15_5(facts: CaseFacts, escalation: EscalationFacts) -> Decision:
    """R-ESC-2, not R-ESC-4: after the intervention and without a wichtiger Grund, Aufforderung with RFB.

    The KP stays in force and non-binding (000); minors: R-MIN-2 (recipients in rules.letters).
    """
    sources = ("§ 15 Abs. 5 SGB II", "§ 31 Abs. 1 Nr. 1 SGB II", "001 §6.1")
    if escalation.exempt_type:
        return refuse(Reason("escalation.exempt_type", "R-ESC-4", ("001 §6.1", "§ 16k Abs. 4 SGB II", "P2")))
    if escalation.status not in (EscalationStatus.INTERVENTION_DONE, EscalationStatus.NOT_ATTENDED):
        return refuse(Reason("escalation.intervention_first", "R-ESC-1", ("001 §6.1",), {"status": escalation.status}))
    if escalation.wichtiger_grund:
        return refuse(Reason("escalation.wichtiger_grund", "R-ESC-2", sources))
    if facts.current_plan is None:
        return refuse(Reason("escalation.no_kp_use_15_6", "R-NOKP-1", ("§ 15 Abs. 6 SGB II", "001 §7")))
    return allow(
        Reason("escalation.aufforderung_15_5", "R-ESC-2", sources),
        Reason("kp.stays_in_force", "R-ESC-1", ("000",)),
    )


def psych_skip(escalation: EscalationFacts, *, vermerk: str) -> Decision:
    """R-ESC-5: the IFK may decide not to issue the Aufforderung; a Vermerk (no diagnoses) is required."""
    sources = ("001 §6.1",)
    if escalation.status not in (EscalationStatus.INTERVENTION_DONE, EscalationStatus.NOT_ATTENDED):
        return refuse(Reason("escalation.intervention_first", "R-ESC-1", sources, {"status": escalation.status}))
    if not vermerk.strip():
        return refuse(Reason("escalation.psych_vermerk_required", "R-ESC-5", sources))
    return allow(Reason("escalation.psych_skip", "R-ESC-5", sources))


def exempt_type_monitoring(escalation: EscalationFacts) -> Decision:
    """R-ESC-4: for exempt types only intervention and KP adaptation are offered; the ladder ends in MONITORING."""
    sources = ("001 §6.1", "P2")
    if not escalation.exempt_type:
        return refuse(Reason("escalation.not_exempt_type", "R-ESC-4", sources))
    if escalation.status not in (EscalationStatus.INTERVENTION_DONE, EscalationStatus.NOT_ATTENDED):
        return refuse(Reason("escalation.intervention_first", "R-ESC-1", sources, {"status": escalation.status}))
    return allow(Reason("escalation.exempt_type", "R-ESC-4", sources))


def schlichtung_blocks_minderung(facts: CaseFacts, breach_date: date, *, meldeversaeumnis: bool = False) -> Decision:
    """R-SCH-3: a § 31 breach dated during a Schlichtung does not lead to a Minderung (refuse = blocked).

    § 15a Abs. 3 names only § 31; whether § 32 Meldeversäumnisse are covered is open (Q3): they are not
    blocked, and the reason is marked for legal review (P10).
    """
    sources = ("§ 15a Abs. 3 SGB II",)
    schlichtung = facts.schlichtung
    during = schlichtung is not None and schlichtung.started_on <= breach_date <= schlichtung.ends_on
    if during and meldeversaeumnis:
        return allow(Reason("minderung.melde_during_schlichtung", "R-SCH-3", sources, needs_legal_review=True))
    if during:
        return refuse(Reason("minderung.during_schlichtung", "R-SCH-3", sources))
    return allow(Reason("minderung.no_schlichtung", "R-SCH-3", sources))


def feststellung_still_possible(breach_date: date, on: date) -> Decision:
    """L-15 / D-11: a Minderung must be festgestellt within 6 months of the breach."""
    deadline = feststellung_deadline(breach_date)
    sources = ("§ 31b Abs. 1 SGB II",)
    if on > deadline:
        return refuse(Reason("minderung.too_late", "R-ESC-3", sources, {"deadline": deadline.isoformat()}))
    return allow(Reason("minderung.in_time", "R-ESC-3", sources, {"deadline": deadline.isoformat()}))


def anhoerung(facts: CaseFacts, escalation: EscalationFacts, *, on: date) -> Decision:
    """R-ESC-3 / R-NOKP-2: deadline of the Aufforderung passed and the duty unmet → Anhörung § 24 SGB X.

    Guards: no Schlichtung at the breach date (R-SCH-3), at most 6 months after the breach (L-15).
    """
    sources = ("§ 24 SGB X", "§ 31 Abs. 1 Nr. 1 SGB II", "001 §6.1", "001 §7")
    if escalation.status is not EscalationStatus.AUFFORDERUNG_ISSUED:
        return refuse(Reason("escalation.aufforderung_first", "R-ESC-3", sources, {"status": escalation.status}))
    if escalation.compliance_deadline is None or on <= escalation.compliance_deadline:
        deadline = escalation.compliance_deadline.isoformat() if escalation.compliance_deadline else None
        return refuse(Reason("escalation.deadline_not_passed", "R-ESC-3", sources, {"deadline": deadline}))
    return combine(
        allow(Reason("escalation.anhoerung", "R-ESC-3", sources)),
        schlichtung_blocks_minderung(facts, escalation.breach_date),
        feststellung_still_possible(escalation.breach_date, on),
    )


def direct_anhoerung_after_bescheid_abort(escalation: EscalationFacts) -> Decision:
    """R-ABB-7 (derived, P9): abort of a measure assigned by Bescheid with RFB → Anhörung without a new
    Aufforderung. Offered as a proposal only; never applied automatically; needs legal review."""
    sources = ("§ 31 Abs. 1 Nr. 3 SGB II", "001 §6.2", "P9")
    if escalation.exempt_type:
        return refuse(Reason("escalation.exempt_type", "R-ESC-4", ("001 §6.1", "§ 16k Abs. 4 SGB II")))
    if escalation.status is not EscalationStatus.BREACH_DETECTED:
        return refuse(Reason("escalation.wrong_step", "R-ABB-7", sources, {"status": escalation.status}))
    return allow(Reason("escalation.abort_under_bescheid", "R-ABB-7", sources, needs_legal_review=True))


def anhoerung_deadline(bekanntgabe: date, *, days: int) -> date:
    """D-10: Bekanntgabe + the configured Äußerungsfrist (14 days by default, P7; no statutory period, L-25)."""
    return bekanntgabe + timedelta(days=days)


def decision_may_be_prepared(escalation: EscalationFacts, *, on: date) -> Decision:
    """D-10: warn when the decision is prepared before the Äußerungsfrist has expired (LSG BW L 7 AS 4295/13)."""
    sources = ("§ 24 SGB X", "LSG BW L 7 AS 4295/13")
    if escalation.status is not EscalationStatus.ANHOERUNG:
        return refuse(Reason("escalation.wrong_step", "R-ESC-6", sources, {"status": escalation.status}))
    if escalation.anhoerung_deadline is not None and on <= escalation.anhoerung_deadline:
        return refuse(
            Reason("anhoerung.period_running", "R-ESC-6", sources, {"until": escalation.anhoerung_deadline.isoformat()})
        )
    return allow(Reason("anhoerung.period_over", "R-ESC-6", sources))


def concrete_minderung(facts: CaseFacts, escalation: EscalationFacts) -> MinderungLevel:
    """R-SAN-1 for this person and this breach, for RFB texts and the Anhörung (R-LET-1, R-ESC-6)."""
    basis = MinderungBasis.MELDEVERSAEUMNIS if escalation.minderung_basis_p32 else MinderungBasis.PFLICHTVERLETZUNG
    return minderung_level(facts.minderungen, escalation.breach_date, basis=basis)


def minderung_start(bekanntgabe_feststellung: date) -> date:
    """L-15: the Minderung starts with the month after the Feststellungs-VA takes effect."""
    first_of_month = bekanntgabe_feststellung.replace(day=1)
    return add_months(first_of_month, 1)


def lift_minderung(*, started: date, on: date) -> Decision:
    """R-SAN-2: lifted on compliance; if it ran less than a month, at the end of that first month (L-16)."""
    sources = ("§ 31a Abs. 1 SGB II", "§ 31b Abs. 2 SGB II")
    if on < add_months(started, 1):
        return allow(Reason("minderung.lift_after_first_month", "R-SAN-2", sources))
    return allow(Reason("minderung.lift_now", "R-SAN-2", sources))


def aufforderung_15_6(facts: CaseFacts) -> Decision:
    """R-NOKP-1: without a KP (not reached, Schlichtung failed, KP failed) Mitwirkung is demanded by
    Aufforderung § 15 Abs. 6 with RFB. While a Schlichtung runs, it waits for the result (PRACTICE)."""
    sources = ("§ 15 Abs. 6 SGB II", "001 §7", "000")
    if facts.mode is Mode.SCHLICHTUNG_PENDING:
        return refuse(Reason("nokp.wait_for_schlichtung", "R-NOKP-1", sources))
    if facts.mode is not Mode.NO_KP_15_6:
        return refuse(Reason("nokp.not_in_mode", "R-NOKP-1", sources, {"mode": facts.mode.value}))
    return allow(Reason("nokp.aufforderung_15_6", "R-NOKP-1", sources))


def offer_kp_again(facts: CaseFacts) -> Decision:
    """R-NOKP-3: in NO_KP_15_6 a consensual KP remains the goal; every contact offers it again."""
    sources = ("001 §7",)
    if facts.mode is Mode.NO_KP_15_6 and facts.draft is None:
        return allow(Reason("nokp.offer_kp_again", "R-NOKP-3", sources))
    return refuse(Reason("nokp.not_applicable", "R-NOKP-3", sources, {"mode": facts.mode.value}))


def vermittlungsvorschlag_rfb(facts: CaseFacts) -> Decision:
    """R-VV-1: Vermittlungsvorschläge carry no RFB while cooperation works (allowed = with RFB)."""
    sources = ("000",)
    if facts.mode is Mode.COOP_NO_RFB:
        return refuse(Reason("vv.without_rfb", "R-VV-1", sources))
    if facts.mode in (Mode.COOP_WITH_RFB, Mode.NO_KP_15_6):
        return allow(Reason("vv.with_rfb", "R-VV-1", sources, {"mode": facts.mode.value}))
    return refuse(Reason("vv.without_rfb_default", "R-VV-1", sources, {"mode": facts.mode.value}))
