"""The state machines of RULES.md section 5 as tables. Each row names its guard rule IDs.

The values equal the database choices (cases.CooperationMode, kooperationsplan.KPStatus, …);
a test keeps both in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class KPStatus(StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    UNDER_REVIEW = "UNDER_REVIEW"
    DISPUTED = "DISPUTED"
    SUPERSEDED = "SUPERSEDED"
    ABANDONED = "ABANDONED"
    NOT_CONTINUED = "NOT_CONTINUED"
    FAILED = "FAILED"
    ENDED = "ENDED"


class Mode(StrEnum):
    NO_KP_YET = "NO_KP_YET"
    COOP_NO_RFB = "COOP_NO_RFB"
    COOP_WITH_RFB = "COOP_WITH_RFB"
    SCHLICHTUNG_PENDING = "SCHLICHTUNG_PENDING"
    NO_KP_15_6 = "NO_KP_15_6"
    EXEMPT = "EXEMPT"


class AssignmentStatus(StrEnum):
    PLANNED = "PLANNED"
    SCHREIBEN_ISSUED = "SCHREIBEN_ISSUED"
    BESCHEID_ISSUED = "BESCHEID_ISSUED"
    REPORTED = "REPORTED"
    NOT_REPORTED = "NOT_REPORTED"
    STARTED = "STARTED"
    COMPLETED = "COMPLETED"
    CLARIFICATION = "CLARIFICATION"
    CANCELLED = "CANCELLED"
    REPLACED = "REPLACED"
    KP_FAILED = "KP_FAILED"
    BREACH = "BREACH"
    WITHDRAWN = "WITHDRAWN"
    AUFGEHOBEN = "AUFGEHOBEN"


class EscalationStatus(StrEnum):
    BREACH_DETECTED = "BREACH_DETECTED"
    INTERVENTION_INVITED = "INTERVENTION_INVITED"
    INTERVENTION_DONE = "INTERVENTION_DONE"
    NOT_ATTENDED = "NOT_ATTENDED"
    RESOLVED = "RESOLVED"
    AUFFORDERUNG_ISSUED = "AUFFORDERUNG_ISSUED"
    MONITORING = "MONITORING"
    ANHOERUNG = "ANHOERUNG"
    DECISION_PENDING = "DECISION_PENDING"
    NO_MINDERUNG = "NO_MINDERUNG"
    MINDERUNG_FESTGESTELLT = "MINDERUNG_FESTGESTELLT"
    ENDED = "ENDED"
    AUFGEHOBEN = "AUFGEHOBEN"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    event: str
    guards: tuple[str, ...]


def _t(sources: str | tuple[str, ...], target: str, event: str, *guards: str) -> Transition:
    return Transition(frozenset((sources,) if isinstance(sources, str) else sources), target, event, guards)


NEW = "NEW"  # the "–" of RULES.md: the record does not exist yet

# RULES.md 5.1: Kooperationsplan (one record per version).
KP_TRANSITIONS: tuple[Transition, ...] = (
    _t(NEW, KPStatus.DRAFT, "start", "R-EXC-2", "R-KP-1"),
    _t(KPStatus.DRAFT, KPStatus.ACTIVE, "activate", "R-PA-1", "R-KP-2", "R-KP-5", "R-EB-3", "R-KP-4"),
    _t(KPStatus.DRAFT, KPStatus.ABANDONED, "abandon", "R-NOKP-1", "R-SCH-1"),
    _t(KPStatus.ACTIVE, KPStatus.UNDER_REVIEW, "review", "R-FS-1", "R-ABB-2"),
    _t(KPStatus.UNDER_REVIEW, KPStatus.ACTIVE, "adapt", "R-FS-1"),
    _t(KPStatus.UNDER_REVIEW, KPStatus.SUPERSEDED, "supersede", "R-FS-1", "R-PA-1", "R-KP-5", "R-EB-3"),
    _t(KPStatus.UNDER_REVIEW, KPStatus.DISPUTED, "dispute", "R-SCH-1"),
    _t(KPStatus.DISPUTED, KPStatus.SUPERSEDED, "schlichtung_agreement", "R-SCH-4"),
    _t(KPStatus.DISPUTED, KPStatus.NOT_CONTINUED, "schlichtung_no_agreement", "R-SCH-2", "R-SCH-4"),
    _t(KPStatus.ACTIVE, KPStatus.FAILED, "fail", "R-ABB-5"),
    _t((KPStatus.ACTIVE, KPStatus.UNDER_REVIEW), KPStatus.ENDED, "end", "R-EXC-4"),
)

# RULES.md 5.2: cooperation mode of a case.
_ANY_BUT_SCHLICHTUNG = tuple(mode for mode in Mode if mode is not Mode.SCHLICHTUNG_PENDING)
MODE_TRANSITIONS: tuple[Transition, ...] = (
    _t(NEW, Mode.NO_KP_YET, "case_created", "R-PA-2"),
    _t((Mode.NO_KP_YET, Mode.NO_KP_15_6), Mode.COOP_NO_RFB, "kp_activated", "R-KP-1", "R-PA-1"),
    _t(Mode.COOP_NO_RFB, Mode.COOP_WITH_RFB, "rfb_letter_issued", "R-ESC-2", "R-ABB-3", "R-ABB-4"),
    _t(Mode.COOP_WITH_RFB, Mode.COOP_NO_RFB, "return_without_rfb", "R-RET-1", "R-ZUW-5"),
    _t(
        (Mode.NO_KP_YET, Mode.COOP_NO_RFB, Mode.COOP_WITH_RFB, Mode.NO_KP_15_6),
        Mode.SCHLICHTUNG_PENDING,
        "schlichtung_started",
        "R-SCH-1",
        "R-ABB-6",
    ),
    _t(Mode.SCHLICHTUNG_PENDING, Mode.COOP_NO_RFB, "schlichtung_agreement", "R-SCH-4"),
    _t(Mode.SCHLICHTUNG_PENDING, Mode.NO_KP_15_6, "schlichtung_expired", "R-SCH-2"),
    _t(Mode.NO_KP_YET, Mode.NO_KP_15_6, "no_kp_reached", "R-NOKP-1"),
    _t((Mode.COOP_NO_RFB, Mode.COOP_WITH_RFB), Mode.NO_KP_15_6, "kp_failed", "R-ABB-5"),
    _t(_ANY_BUT_SCHLICHTUNG, Mode.EXEMPT, "exemption_recorded", "R-EXC-1", "R-EXC-2", "R-EXC-3", "R-EXC-4", "R-EXC-5"),
    _t(Mode.EXEMPT, Mode.NO_KP_YET, "exemption_lapsed", "R-EXC-1", "R-EXC-2", "R-EXC-3"),
    _t(Mode.EXEMPT, Mode.COOP_NO_RFB, "voluntary_kp_activated", "R-EXC-2"),
)

# RULES.md 5.3: measure assignment.
_ISSUED = (AssignmentStatus.SCHREIBEN_ISSUED, AssignmentStatus.BESCHEID_ISSUED)
ASSIGNMENT_TRANSITIONS: tuple[Transition, ...] = (
    _t(AssignmentStatus.PLANNED, AssignmentStatus.SCHREIBEN_ISSUED, "issue_schreiben", "R-ZUW-1", "R-KP-9"),
    _t(AssignmentStatus.PLANNED, AssignmentStatus.BESCHEID_ISSUED, "issue_bescheid", "R-ZUW-3", "R-ESC-4"),
    _t(_ISSUED, AssignmentStatus.REPORTED, "report", "R-MON-1"),
    _t(_ISSUED, AssignmentStatus.NOT_REPORTED, "not_reported", "R-ESC-1", "R-ESC-3"),
    _t(AssignmentStatus.REPORTED, AssignmentStatus.STARTED, "start", "R-MON-1"),
    _t(AssignmentStatus.STARTED, AssignmentStatus.COMPLETED, "complete", "R-MON-1"),
    _t(AssignmentStatus.STARTED, AssignmentStatus.CLARIFICATION, "abort", "R-ABB-1"),
    _t(AssignmentStatus.CLARIFICATION, AssignmentStatus.CANCELLED, "wichtiger_grund", "R-ABB-2"),
    _t(AssignmentStatus.CLARIFICATION, AssignmentStatus.BESCHEID_ISSUED, "reissue_by_bescheid", "R-ABB-3"),
    _t(AssignmentStatus.CLARIFICATION, AssignmentStatus.REPLACED, "replace_by_new_kp", "R-ABB-4"),
    _t(AssignmentStatus.CLARIFICATION, AssignmentStatus.KP_FAILED, "kp_failed", "R-ABB-5"),
    _t(AssignmentStatus.STARTED, AssignmentStatus.BREACH, "abort_under_bescheid", "R-ABB-7"),
    _t(AssignmentStatus.SCHREIBEN_ISSUED, AssignmentStatus.WITHDRAWN, "withdraw", "R-ZUW-2"),
    _t(AssignmentStatus.BESCHEID_ISSUED, AssignmentStatus.AUFGEHOBEN, "aufheben", "R-ZUW-4", "R-ZUW-5"),
)

# RULES.md 5.4: escalation ladder (one record per breach).
_AFTER_INTERVENTION = (EscalationStatus.INTERVENTION_DONE, EscalationStatus.NOT_ATTENDED)
ESCALATION_TRANSITIONS: tuple[Transition, ...] = (
    _t(NEW, EscalationStatus.BREACH_DETECTED, "breach", "R-MON-1", "R-EB-4"),
    _t(
        EscalationStatus.BREACH_DETECTED,
        EscalationStatus.INTERVENTION_INVITED,
        "invite_intervention",
        "R-ESC-1",
        "R-MIN-1",
        "R-INV-3",
    ),
    _t(EscalationStatus.INTERVENTION_INVITED, EscalationStatus.INTERVENTION_DONE, "intervention_attended", "R-ESC-1"),
    _t(EscalationStatus.INTERVENTION_INVITED, EscalationStatus.NOT_ATTENDED, "intervention_missed", "R-ESC-1"),
    _t(EscalationStatus.INTERVENTION_DONE, EscalationStatus.RESOLVED, "wichtiger_grund", "R-ABB-2"),
    _t(_AFTER_INTERVENTION, EscalationStatus.AUFFORDERUNG_ISSUED, "aufforderung", "R-ESC-2", "R-MIN-2", "R-ESC-4"),
    _t(_AFTER_INTERVENTION, EscalationStatus.MONITORING, "monitor", "R-ESC-4", "R-ESC-5"),
    # After an abort (001 §6.2) the clarification ends this breach's ladder when the KP is redone
    # (R-ABB-4) or has failed (R-ABB-5): the new KP or § 15 Abs. 6 takes over (derived).
    _t(_AFTER_INTERVENTION, EscalationStatus.RESOLVED, "clarified", "R-ABB-4", "R-ABB-5"),
    # R-NOKP-1: without a KP, the ladder starts with the Aufforderung § 15 Abs. 6.
    _t(NEW, EscalationStatus.AUFFORDERUNG_ISSUED, "aufforderung_15_6", "R-NOKP-1"),
    # R-ABB-7 (derived, needs sign-off): abort under a Zuweisungsbescheid goes straight to the Anhörung.
    _t(EscalationStatus.BREACH_DETECTED, EscalationStatus.ANHOERUNG, "direct_anhoerung", "R-ABB-7", "R-ESC-6"),
    # R-EB-4 edge (PRACTICE): evidence that arrives late but before the intervention closes the record.
    _t(EscalationStatus.BREACH_DETECTED, EscalationStatus.RESOLVED, "evidence_received", "R-EB-4"),
    # R-INV-7: a Meldeversäumnis after an invitation with a correct RFB goes to the Anhörung (§ 32, ANH_32);
    # the KP ladder (intervention, Aufforderung) is for breaches of KP agreements, not for § 32.
    _t(EscalationStatus.BREACH_DETECTED, EscalationStatus.ANHOERUNG, "anhoerung_32", "R-INV-7", "R-ESC-6"),
    _t(EscalationStatus.AUFFORDERUNG_ISSUED, EscalationStatus.RESOLVED, "complied", "R-ESC-3"),
    _t(EscalationStatus.AUFFORDERUNG_ISSUED, EscalationStatus.ANHOERUNG, "anhoerung", "R-ESC-3", "R-ESC-6", "R-NOKP-2"),
    _t(EscalationStatus.ANHOERUNG, EscalationStatus.DECISION_PENDING, "anhoerung_closed", "R-ESC-3"),
    _t(EscalationStatus.DECISION_PENDING, EscalationStatus.NO_MINDERUNG, "no_minderung", "R-SCH-3", "R-ESC-3"),
    _t(EscalationStatus.DECISION_PENDING, EscalationStatus.MINDERUNG_FESTGESTELLT, "minderung", "R-SAN-1"),
    _t(EscalationStatus.MINDERUNG_FESTGESTELLT, EscalationStatus.ENDED, "minderung_period_over", "R-SAN-2"),
    _t(EscalationStatus.MINDERUNG_FESTGESTELLT, EscalationStatus.AUFGEHOBEN, "pflicht_erfuellt", "R-SAN-2"),
)


def find_transition(table: tuple[Transition, ...], source: str, event: str) -> Transition | None:
    for transition in table:
        if transition.event == event and source in transition.sources:
            return transition
    return None
