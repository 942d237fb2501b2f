"""Zuweisungen to Maßnahmen and AGH, and the Maßnahme-Abbruch (RULES.md 3.4, 3.8; state machine 5.3)."""

from __future__ import annotations

from datetime import date

from rules.decision import Decision, Reason, allow, refuse
from rules.facts import AssignmentFacts, CaseFacts, PlanFacts
from rules.letters import LetterKind
from rules.states import AssignmentStatus, Mode


def assignment_dates(start: date, end: date, rueckmeldung_due: date) -> Decision:
    """R-ZUW-1: a measure agreed in the KP has a start, an end not before it, and a date for the Vorstellung/
    Rückmeldung that lies no later than the start (the Zuweisungsschreiben names it, D-05)."""
    sources = ("001 §5.1",)
    if end < start or rueckmeldung_due > start:
        return refuse(Reason("zuw.dates_inconsistent", "R-ZUW-1", sources))
    return allow(Reason("zuw.planned", "R-ZUW-1", sources))


def zuweisungsschreiben(facts: CaseFacts, assignment: AssignmentFacts) -> tuple[Decision, LetterKind]:
    """R-ZUW-1 / R-KP-9: a measure agreed in the KP is first assigned by Zuweisungsschreiben without RFB;
    missing Träger data blocks it."""
    kind = LetterKind.ZUW_SCHREIBEN_AGH if assignment.is_agh else LetterKind.ZUW_SCHREIBEN_AKTIVIERUNG
    sources = ("001 §5.1",)
    if assignment.status is not AssignmentStatus.PLANNED:
        return refuse(Reason("zuw.not_planned", "R-ZUW-1", sources, {"status": assignment.status})), kind
    if not assignment.traeger_complete:
        return refuse(Reason("zuw.traeger_missing", "R-ZUW-1", sources)), kind
    if facts.mode in (Mode.NO_KP_15_6, Mode.EXEMPT, Mode.NO_KP_YET):
        return refuse(Reason("zuw.needs_kp", "R-ZUW-1", sources, {"mode": facts.mode.value})), kind
    return (
        allow(
            Reason("zuw.schreiben_without_rfb", "R-ZUW-1", sources),
            Reason("zuw.no_rfb_while_cooperating", "R-KP-9", ("000", "001 §5.1")),
        ),
        kind,
    )


def zuweisungsbescheid(
    facts: CaseFacts,
    assignment: AssignmentFacts,
    *,
    after_abort: bool,
    traeger_ruecksprache_on: date | None,
    new_kp_after_abort: bool = False,
) -> Decision:
    """R-ZUW-3 (with R-ESC-4, R-ABB-3, R-ABB-4): a Zuweisungsbescheid with RFB only after an escalation, or in
    COOP_WITH_RFB / NO_KP_15_6; never for exempt types; after an abort only after consulting the Träger.
    When re-entry was impossible and a new KP was drawn up, its agreements are backed by Bescheid (R-ABB-4)."""
    sources = ("§ 15 Abs. 5 SGB II", "001 §6.2", "001 §6.3", "001 §7")
    if assignment.exempt_type:
        return refuse(Reason("zuw.exempt_type", "R-ESC-4", ("001 §6.1", "P2")))
    if after_abort:
        if assignment.status is not AssignmentStatus.CLARIFICATION:
            return refuse(Reason("zuw.not_in_clarification", "R-ABB-3", ("001 §6.2",), {"status": assignment.status}))
        if traeger_ruecksprache_on is None:
            return refuse(Reason("zuw.traeger_ruecksprache_missing", "R-ABB-3", ("001 §6.2",)))
        return allow(Reason("zuw.bescheid_after_abort", "R-ABB-3", ("001 §6.2", "§ 15 Abs. 5 SGB II")))
    if assignment.status is not AssignmentStatus.PLANNED:
        return refuse(Reason("zuw.not_planned", "R-ZUW-3", sources, {"status": assignment.status}))
    if new_kp_after_abort:
        return allow(Reason("zuw.bescheid_new_kp_after_abort", "R-ABB-4", ("001 §6.2", "§ 15 Abs. 5 SGB II")))
    if facts.mode not in (Mode.COOP_WITH_RFB, Mode.NO_KP_15_6):
        return refuse(Reason("zuw.bescheid_needs_escalation", "R-ZUW-3", sources, {"mode": facts.mode.value}))
    return allow(Reason("zuw.bescheid_with_rfb", "R-ZUW-3", sources, {"mode": facts.mode.value}))


def remaining_term(plan: PlanFacts, on: date) -> Decision:
    """R-ABB-3: a Bescheid after an abort is valid for the remaining KP term; none left → Fortschreibung first."""
    sources = ("001 §6.2",)
    if plan.valid_to is None or plan.valid_to <= on:
        return refuse(Reason("zuw.no_remaining_term", "R-ABB-3", sources))
    return allow(Reason("zuw.remaining_term", "R-ABB-3", sources, {"valid_to": plan.valid_to.isoformat()}))


def withdraw_schreiben(assignment: AssignmentFacts) -> Decision:
    """R-ZUW-2: a Zuweisungsschreiben is not a VA; it is withdrawn without an Aufhebung letter."""
    sources = ("001 §6.5",)
    if assignment.via_bescheid:
        return refuse(Reason("zuw.bescheid_needs_aufhebung", "R-ZUW-4", sources))
    if assignment.status not in (AssignmentStatus.PLANNED, AssignmentStatus.SCHREIBEN_ISSUED):
        return refuse(Reason("zuw.cannot_withdraw", "R-ZUW-2", sources, {"status": assignment.status}))
    return allow(Reason("zuw.withdraw_without_aufhebung", "R-ZUW-2", sources))


def replace_bescheid(old: AssignmentFacts) -> Decision:
    """R-ZUW-4: a new Bescheid that changes an existing one lifts the old one and says so."""
    sources = ("001 §6.5",)
    if not old.via_bescheid or old.status not in (
        AssignmentStatus.BESCHEID_ISSUED,
        AssignmentStatus.REPORTED,
        AssignmentStatus.STARTED,
    ):
        return refuse(Reason("zuw.nothing_to_replace", "R-ZUW-4", sources, {"status": old.status}))
    return allow(Reason("zuw.replace_bescheid", "R-ZUW-4", sources))


def aufhebung_by_consensual_kp(old: AssignmentFacts) -> Decision:
    """R-ZUW-5: replacing a Bescheid by a consensual KP with a Zuweisungsschreiben → AUFH_ZB under § 48 SGB X."""
    sources = ("§ 48 SGB X", "001 §6.5")
    if not old.via_bescheid:
        return refuse(Reason("zuw.schreiben_needs_no_aufhebung", "R-ZUW-2", ("001 §6.5",)))
    if old.status in (AssignmentStatus.AUFGEHOBEN, AssignmentStatus.COMPLETED):
        return refuse(Reason("zuw.nothing_to_lift", "R-ZUW-5", sources, {"status": old.status}))
    return allow(Reason("zuw.aufhebung_48", "R-ZUW-5", sources))


def abort_reported(assignment: AssignmentFacts) -> Decision:
    """R-ABB-1 (via Schreiben) or R-ABB-7 (via Bescheid): what a reported abort leads to."""
    if assignment.status is not AssignmentStatus.STARTED:
        return refuse(Reason("abb.not_started", "R-ABB-1", ("001 §6.2",), {"status": assignment.status}))
    if assignment.via_bescheid:
        return allow(
            Reason("abb.under_bescheid", "R-ABB-7", ("§ 31 Abs. 1 Nr. 3 SGB II", "P9"), needs_legal_review=True)
        )
    return allow(Reason("abb.clarifying_talk", "R-ABB-1", ("001 §6.2",)))


def clarification_outcome(
    assignment: AssignmentFacts,
    *,
    wichtiger_grund: bool,
    reentry_possible: bool,
    talk_attended: bool,
    new_kp_possible: bool,
) -> Decision:
    """R-ABB-2..5: the outcome of the clarifying talk after an abort (001 §6.2)."""
    sources = ("001 §6.2",)
    if assignment.status is not AssignmentStatus.CLARIFICATION:
        return refuse(Reason("abb.not_in_clarification", "R-ABB-1", sources, {"status": assignment.status}))
    if talk_attended and wichtiger_grund:
        return allow(Reason("abb.wichtiger_grund_adapt_kp", "R-ABB-2", sources))
    if talk_attended and reentry_possible:
        return allow(Reason("abb.bescheid_for_rest_of_term", "R-ABB-3", sources))
    if not reentry_possible and (not talk_attended or not new_kp_possible):
        return allow(Reason("abb.kp_failed", "R-ABB-5", sources))
    if not talk_attended:
        # R-ABB-5 edge: talk missed but the measure can continue → not failed; continue with R-ESC-2.
        return allow(Reason("abb.missed_talk_continue_escalation", "R-ABB-5", sources))
    return allow(Reason("abb.new_kp_with_bescheid", "R-ABB-4", sources))
