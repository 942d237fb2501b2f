"""The letter catalogue (RULES.md 6.1) and the decisions a letter needs: RFB, Verwaltungsakt, recipients.

R-KP-2: the KP document never carries an RFB or a Rechtsbehelfsbelehrung.
R-LET-2: exactly the Verwaltungsakte carry a Rechtsbehelfsbelehrung.
P5 / R-MIN-1 / R-MIN-2: letters with RFB or that are VAs go to each gesetzliche Vertretung of a
minor (age on the letter date), with a copy to the minor; the BI invitation goes to both jointly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum, StrEnum

from rules.decision import Decision, Reason, allow, refuse


class LetterKind(StrEnum):
    EINL_KP_ERST = "EINL_KP_ERST"
    EINL_RFB = "EINL_RFB"
    EINL_OHNE_RFB = "EINL_OHNE_RFB"
    EINL_BI = "EINL_BI"
    EINL_UNTERSUCHUNG = "EINL_UNTERSUCHUNG"
    KP_DOKUMENT = "KP_DOKUMENT"
    ZUW_SCHREIBEN_AGH = "ZUW_SCHREIBEN_AGH"
    ZUW_SCHREIBEN_AKTIVIERUNG = "ZUW_SCHREIBEN_AKTIVIERUNG"
    ZUW_BESCHEID = "ZUW_BESCHEID"
    AUFF_15_5 = "AUFF_15_5"
    AUFF_15_6 = "AUFF_15_6"
    ANH_31 = "ANH_31"
    ANH_32 = "ANH_32"
    AUFH_ZB = "AUFH_ZB"
    INFO_VB = "INFO_VB"
    FLYER_KP = "FLYER_KP"


class Recipients(Enum):
    ELB = "ELB"  # the eLb only
    GV_WITH_COPY = "GV_WITH_COPY"  # minors: each gV, copy to the minor (P5)
    JOINT = "JOINT"  # minors: the minor together with each gV (R-MIN-1)


@dataclass(frozen=True)
class LetterSpec:
    kind: LetterKind
    with_rfb: bool
    is_va: bool
    minor_recipients: Recipients
    sources: tuple[str, ...]
    va_unverified: bool = False


LETTER_SPECS: dict[LetterKind, LetterSpec] = {
    spec.kind: spec
    for spec in (
        LetterSpec(LetterKind.EINL_KP_ERST, False, False, Recipients.ELB, ("§ 15 Abs. 4 SGB II", "001 §4.2"), True),
        LetterSpec(
            LetterKind.EINL_RFB, True, True, Recipients.GV_WITH_COPY, ("§ 59 SGB II", "§ 309 SGB III", "001 §4.2")
        ),
        LetterSpec(LetterKind.EINL_OHNE_RFB, False, False, Recipients.ELB, ("001 §4.2",), True),
        # Q2 (UNVERIFIED): an invitation without RFB is assumed not to be a VA.
        LetterSpec(LetterKind.EINL_BI, False, False, Recipients.JOINT, ("001 §4.1", "001 §4.2", "001 §6.1"), True),
        LetterSpec(
            LetterKind.EINL_UNTERSUCHUNG,
            True,
            True,
            Recipients.GV_WITH_COPY,
            ("§ 59 SGB II", "§ 32 SGB II", "001 §4.2"),
        ),
        LetterSpec(LetterKind.KP_DOKUMENT, False, False, Recipients.ELB, ("§ 15 Abs. 2, 3 SGB II", "000", "001 §4.1")),
        LetterSpec(LetterKind.ZUW_SCHREIBEN_AGH, False, False, Recipients.ELB, ("001 §5.1", "001 §6.5")),
        LetterSpec(LetterKind.ZUW_SCHREIBEN_AKTIVIERUNG, False, False, Recipients.ELB, ("001 §5.1", "001 §6.5")),
        LetterSpec(LetterKind.ZUW_BESCHEID, True, True, Recipients.GV_WITH_COPY, ("§ 15 Abs. 5 SGB II", "001 §6.2")),
        LetterSpec(LetterKind.AUFF_15_5, True, True, Recipients.GV_WITH_COPY, ("§ 15 Abs. 5 SGB II", "001 §6.1"), True),
        LetterSpec(LetterKind.AUFF_15_6, True, True, Recipients.GV_WITH_COPY, ("§ 15 Abs. 6 SGB II", "001 §7"), True),
        LetterSpec(LetterKind.ANH_31, False, False, Recipients.GV_WITH_COPY, ("§ 24 SGB X", "§ 31a Abs. 2 SGB II")),
        LetterSpec(LetterKind.ANH_32, False, False, Recipients.ELB, ("§ 24 SGB X", "§ 32 SGB II")),
        # P5: every VA reaches each gV of a minor (copy to the minor).
        LetterSpec(LetterKind.AUFH_ZB, False, True, Recipients.GV_WITH_COPY, ("§ 48 SGB X", "001 §6.5")),
        LetterSpec(LetterKind.INFO_VB, False, False, Recipients.ELB, ("001 §5.2",)),
        LetterSpec(LetterKind.FLYER_KP, False, False, Recipients.ELB, ("000", "001 §5.3")),
    )
}


@dataclass(frozen=True)
class RecipientPlan:
    """Who receives the letter: `to_vertretungen` are addressees; `copy_to_elb` sends a copy to the minor."""

    to_elb: bool
    to_vertretungen: bool
    copy_to_elb: bool
    reason: Reason


def age_on(birth_date: date, day: date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def recipients_for(kind: LetterKind, *, birth_date: date, letter_date: date, vertretungen: int) -> RecipientPlan:
    """P5, R-MIN-1, R-MIN-2: recipients by the age on the letter date."""
    spec = LETTER_SPECS[kind]
    minor = age_on(birth_date, letter_date) < 18
    if not minor or spec.minor_recipients is Recipients.ELB:
        return RecipientPlan(True, False, False, Reason("recipients.elb", "R-MIN-1", ("001 §4.1",), {"minor": minor}))
    if vertretungen < 1:
        return RecipientPlan(
            True,
            False,
            False,
            Reason("recipients.minor_without_gv", "R-MIN-2", ("001 §6.1", "P5"), {"minor": True}),
        )
    if spec.minor_recipients is Recipients.JOINT:
        return RecipientPlan(True, True, False, Reason("recipients.minor_jointly", "R-MIN-1", ("001 §4.1",)))
    return RecipientPlan(
        False,
        True,
        True,
        Reason(
            "recipients.minor_to_gv", "R-MIN-2", ("001 §6.1", "P5"), needs_legal_review=kind is not LetterKind.AUFF_15_5
        ),
    )


def rechtsbehelfsbelehrung_required(kind: LetterKind) -> Decision:
    """R-LET-2 (with P4 and Q1/Q2 safe defaults): a Rechtsbehelfsbelehrung exactly on Verwaltungsakte."""
    spec = LETTER_SPECS[kind]
    reason = Reason(
        "letter.is_va" if spec.is_va else "letter.not_va",
        "R-LET-2",
        ("§ 36 SGB X", "§ 84 SGG", *spec.sources),
        {"kind": kind.value},
        needs_legal_review=spec.va_unverified,
    )
    return allow(reason) if spec.is_va else refuse(reason)


def rfb_block_allowed(kind: LetterKind) -> Decision:
    """R-KP-2 and the catalogue: may this kind carry an RFB block at all?"""
    spec = LETTER_SPECS[kind]
    if kind is LetterKind.KP_DOKUMENT:
        return refuse(Reason("kp.never_rfb", "R-KP-2", ("000", "001 §1", "001 §4.1")))
    if not spec.with_rfb:
        return refuse(Reason("letter.kind_without_rfb", "R-LET-1", spec.sources, {"kind": kind.value}))
    return allow(Reason("letter.kind_with_rfb", "R-LET-1", ("BSG B 4 AS 30/09 R", *spec.sources), {"kind": kind.value}))


@dataclass(frozen=True)
class RfbBlock:
    """The elements of a Rechtsfolgenbelehrung (RULES.md 6.3; L-27: konkret, richtig, vollständig,
    zeitnah, verständlich). German wording is rendered by the letters app from these facts only."""

    kind: LetterKind
    duty: str
    deadline: date | None
    percent: int
    months: int
    basis: str
    wichtiger_grund_exception: bool = True
    haerte_note: bool = True
    lifted_on_compliance: bool = True
    no_sgb_xii_help: bool = True
    in_person_anhoerung: bool = True


def rfb_block(
    kind: LetterKind, *, duty: str, deadline: date | None, percent: int, months: int
) -> tuple[Decision, RfbBlock]:
    """R-LET-1: an RFB block built from the rules (level from R-SAN-1 at the letter date), never free text."""
    allowed = rfb_block_allowed(kind)
    basis = "§ 32 SGB II" if kind is LetterKind.EINL_UNTERSUCHUNG or kind is LetterKind.EINL_RFB else "§ 31 SGB II"
    block = RfbBlock(kind, duty.strip(), deadline, percent, months, basis)
    if not allowed.allowed:
        return allowed, block
    sources = ("BSG B 4 AS 30/09 R", "BSG B 14 AS 53/08 R", "§ 31 Abs. 1 SGB II")
    if not block.duty:
        return refuse(Reason("rfb.duty_missing", "R-LET-1", sources)), block
    if percent not in (10, 20, 30) or months not in (1, 2, 3):
        return refuse(Reason("rfb.level_invalid", "R-LET-1", sources, {"percent": percent, "months": months})), block
    return allow(Reason("rfb.concrete", "R-LET-1", sources, {"percent": percent, "months": months})), block


def enclosures(*, with_flyer: bool) -> tuple[LetterKind, ...]:
    """R-KP-7 / R-EB-3: the KP document lists its enclosures: the Info-Blatt VB, and the flyer if chosen."""
    return (LetterKind.INFO_VB, LetterKind.FLYER_KP) if with_flyer else (LetterKind.INFO_VB,)


def archive_needed(sha256: str, archived_hashes: frozenset[str]) -> Decision:
    """R-ARC-1: every rendered letter (the KP in particular) is filed once in the E-Akte; idempotent by hash."""
    sources = ("001 §6.6",)
    if sha256 in archived_hashes:
        return refuse(Reason("archive.already_filed", "R-ARC-1", sources))
    return allow(Reason("archive.file", "R-ARC-1", sources))


def letter_release(*, awaiting_release: bool, actor_is_teamleitung: bool, actor_is_issuer: bool) -> Decision:
    """Four-eyes release of a letter with RFB (Jobcenter setting): a second person, the team lead, checks
    that the RFB is konkret and richtig (R-LET-1, L-27) before the letter is rendered and sent."""
    sources = ("RULES.md 6.3", "BSG B 4 AS 30/09 R")
    if not awaiting_release:
        return refuse(Reason("letter.release_not_awaiting", "R-LET-1", sources))
    if not actor_is_teamleitung:
        return refuse(Reason("letter.release_teamleitung_only", "R-LET-1", sources))
    if actor_is_issuer:
        return refuse(Reason("letter.release_second_person", "R-LET-1", sources))
    return allow(Reason("letter.released", "R-LET-1", sources))
