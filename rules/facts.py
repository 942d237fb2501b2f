"""The facts the rules decide on: frozen snapshots loaded by the services, never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from rules.sanctions import PastMinderung
from rules.states import AssignmentStatus, EscalationStatus, KPStatus, Mode


class ContentKind(StrEnum):
    """Soll- and Kann-Inhalte (001 §5, R-KP-5..7)."""

    SOLL_1 = "SOLL_1"  # geplante Eingliederungsleistungen
    SOLL_2 = "SOLL_2"  # Eigenbemühungen
    SOLL_3 = "SOLL_3"  # Integrationskurs / Deutschsprachförderung (wenn relevant)
    SOLL_4 = "SOLL_4"  # Leistungen anderer Träger (wenn relevant)
    SOLL_5 = "SOLL_5"  # Vermittlungsziel
    SOLL_6 = "SOLL_6"  # Rehabilitationsbedarf (wenn relevant)
    KANN_1 = "KANN_1"
    KANN_2 = "KANN_2"
    WEITERE = "WEITERE"


MANDATORY_SOLL = (ContentKind.SOLL_1, ContentKind.SOLL_2, ContentKind.SOLL_5)
OPTIONAL_SOLL = (ContentKind.SOLL_3, ContentKind.SOLL_4, ContentKind.SOLL_6)


class ExemptionReason(StrEnum):
    EINSTELLUNGSZUSAGE = "EINSTELLUNGSZUSAGE"
    PARAGRAPH_10 = "PARAGRAPH_10"
    PROFILLAGE_I = "PROFILLAGE_I"


@dataclass(frozen=True)
class EigenbemuehungFacts:
    min_count: int
    zero_reason: str
    nachweis_form: str
    nachweis_due_day: int


@dataclass(frozen=True)
class PlanFacts:
    status: KPStatus
    version_number: int = 1
    valid_from: date | None = None
    valid_to: date | None = None
    review_due: date | None = None
    filled: frozenset[ContentKind] = frozenset()
    not_relevant: frozenset[ContentKind] = frozenset()
    gemeinsam_erarbeitet: bool = False
    infoblatt_on: date | None = None
    beratungsvermerk: str = ""
    eigenbemuehungen: tuple[EigenbemuehungFacts, ...] = ()
    steps: int = 0
    has_rfb_block: bool = False
    naechstes_ziel: bool = False  # the next goal is written down (R-KP-5, RULES.md 6.2 KP_DOKUMENT)


@dataclass(frozen=True)
class AssignmentFacts:
    status: AssignmentStatus
    exempt_type: bool  # R-ESC-4 type (§ 16k, Reha, § 16a, §§ 16e/16i), data per measure type (P2)
    is_agh: bool
    via_bescheid: bool
    traeger_complete: bool = True
    start_date: date | None = None
    end_date: date | None = None
    rueckmeldung_due: date | None = None


@dataclass(frozen=True)
class EscalationFacts:
    status: EscalationStatus
    breach_date: date
    exempt_type: bool = False
    wichtiger_grund: bool | None = None
    compliance_deadline: date | None = None
    anhoerung_deadline: date | None = None
    minderung_basis_p32: bool = False


@dataclass(frozen=True)
class SchlichtungFacts:
    started_on: date
    ends_on: date
    running: bool
    after_failed_kp: bool = False
    tl_approved: bool = False


@dataclass(frozen=True)
class ExemptionFacts:
    reason: ExemptionReason
    recorded_on: date
    recheck_due: date
    kennung_kp: bool
    kennung_reason: str
    # R-EXC-1
    job_start: date | None = None
    firm_offer: bool = False
    further_support_needed: bool = False
    job_started: bool = False
    # R-EXC-2
    paragraph10_ended: bool = False
    zukunftsziel: bool = False
    # R-EXC-3
    vollzeit: bool = False
    selbststaendig: bool = False
    ausgeschoepft: bool = False
    keine_verringerung_6_monate: bool = False


@dataclass(frozen=True)
class CaseFacts:
    mode: Mode
    birth_date: date
    pa_complete: bool = False
    vertretungen: int = 0
    first_invitation_sent: bool = False
    followup_invitation_rfb: bool = True  # P1, per Jobcenter
    current_plan: PlanFacts | None = None
    draft: PlanFacts | None = None
    schlichtung: SchlichtungFacts | None = None
    exemption: ExemptionFacts | None = None
    open_bescheide: int = 0
    minderungen: tuple[PastMinderung, ...] = field(default_factory=tuple)
    reliable_since: date | None = None  # R-RET-1: duties met since
    bundesland: str = "NW"
