"""Schlichtungsverfahren § 15a SGB II (RULES.md 3.12; L-07)."""

from __future__ import annotations

from datetime import date, timedelta

from rules.decision import Decision, Reason, allow, refuse
from rules.facts import CaseFacts
from rules.parameters import bool_param, int_param
from rules.states import Mode

SOURCES = ("§ 15a SGB II", "001 §1")


def schlichtung_may_start(
    facts: CaseFacts, *, on: date, disagreement: str, after_failed_kp: bool, tl_approved: bool
) -> Decision:
    """R-SCH-1 and R-ABB-6: on request after a documented disagreement; after a failed KP only with TL approval."""
    if not bool_param("schlichtung.enabled", on):
        return refuse(Reason("schlichtung.not_in_force", "R-SCH-1", ("§ 15a SGB II",), needs_legal_review=True))
    if facts.mode is Mode.SCHLICHTUNG_PENDING or (facts.schlichtung is not None and facts.schlichtung.running):
        return refuse(Reason("schlichtung.already_running", "R-SCH-1", SOURCES))
    if facts.mode is Mode.EXEMPT:
        return refuse(Reason("schlichtung.case_exempt", "R-SCH-1", SOURCES))
    if not disagreement.strip():
        return refuse(Reason("schlichtung.disagreement_required", "R-SCH-1", SOURCES))
    if after_failed_kp and not tl_approved:
        return refuse(Reason("schlichtung.tl_approval_required", "R-ABB-6", ("001 §6.2",)))
    reasons = [Reason("schlichtung.start", "R-SCH-1", SOURCES)]
    if after_failed_kp:
        reasons.append(Reason("schlichtung.tl_approved", "R-ABB-6", ("001 §6.2",)))
    return allow(*reasons)


def schlichtung_end(started_on: date) -> date:
    """R-SCH-2 / D-12: it ends at the latest 4 weeks after it began (no extension, holidays do not count)."""
    return started_on + timedelta(days=int_param("schlichtung.max_days", started_on))


def schlichtung_expired(facts: CaseFacts, *, on: date) -> Decision:
    """R-SCH-2: the nightly job closes a running Schlichtung on its end day without agreement."""
    schlichtung = facts.schlichtung
    if schlichtung is None or not schlichtung.running:
        return refuse(Reason("schlichtung.not_running", "R-SCH-2", ("§ 15a Abs. 4 SGB II",)))
    if on < schlichtung.ends_on:
        return refuse(
            Reason(
                "schlichtung.still_running",
                "R-SCH-2",
                ("§ 15a Abs. 4 SGB II",),
                {"ends_on": schlichtung.ends_on.isoformat()},
            )
        )
    return allow(
        Reason("schlichtung.expired", "R-SCH-2", ("§ 15a Abs. 4 SGB II",), {"ends_on": schlichtung.ends_on.isoformat()})
    )


def schlichtung_result(
    *, agreement: bool, proposal: str, deviation_justification: str, follows_proposal: bool
) -> Decision:
    """R-SCH-4: the joint proposal is stored and must be taken into account; deviating needs a justification."""
    sources = ("§ 15a Abs. 2 SGB II", "001 §7")
    if not proposal.strip():
        return refuse(Reason("schlichtung.proposal_required", "R-SCH-4", sources))
    if not follows_proposal and not deviation_justification.strip():
        return refuse(Reason("schlichtung.deviation_needs_justification", "R-SCH-4", sources))
    if agreement:
        return allow(Reason("schlichtung.agreement_kp", "R-SCH-4", sources))
    return allow(Reason("schlichtung.no_agreement_15_6", "R-SCH-4", (*sources, "§ 15 Abs. 6 SGB II")))


def schlichtung_outcomes(facts: CaseFacts) -> tuple[Decision, Decision]:
    """R-SCH-4: how a running Schlichtung can end — (agreement, no agreement). An agreement is the KP drawn up
    in the Schlichtung, so it needs that draft; without agreement § 15 Abs. 6 applies until a KP exists."""
    sources = ("§ 15a Abs. 2 SGB II", "001 §7")
    if facts.schlichtung is None or not facts.schlichtung.running:
        refusal = refuse(Reason("schlichtung.not_running", "R-SCH-2", ("§ 15a Abs. 4 SGB II",)))
        return refusal, refusal
    if facts.draft is None:
        agreement = refuse(Reason("schlichtung.draft_needed", "R-SCH-4", sources))
    else:
        agreement = allow(Reason("schlichtung.agreement_kp", "R-SCH-4", sources))
    return agreement, allow(Reason("schlichtung.no_agreement_15_6", "R-SCH-4", (*sources, "§ 15 Abs. 6 SGB II")))
