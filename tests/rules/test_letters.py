"""The letter catalogue (RULES.md 6.1): RFB, Verwaltungsakt, recipients (P4, P5), archive (R-ARC-1)."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from rules.letters import (
    LETTER_SPECS,
    LetterKind,
    Recipients,
    archive_needed,
    enclosures,
    rechtsbehelfsbelehrung_required,
    recipients_for,
    rfb_block,
)
from rules.ruleset import CURRENT
from rules.sanctions import MinderungBasis, PastMinderung, minderung_level
from tests.rules.support import assert_decision

K = LetterKind
LETTER_DATE = date(2026, 3, 2)
DUTY = "Drei Bewerbungen auf sozialversicherungspflichtige Stellen bis zum 31.03.2026 nachweisen"

# RULES.md 6.1: (kind, RFB, VA, VA status UNVERIFIED: Q1 for Aufforderungen, Q2 for invitations without RFB).
CATALOGUE = [
    (K.EINL_KP_ERST, False, False, True),
    (K.EINL_RFB, True, True, False),
    (K.EINL_OHNE_RFB, False, False, True),
    (K.EINL_BI, False, False, True),
    (K.EINL_UNTERSUCHUNG, True, True, False),
    (K.KP_DOKUMENT, False, False, False),
    (K.ZUW_SCHREIBEN_AGH, False, False, False),
    (K.ZUW_SCHREIBEN_AKTIVIERUNG, False, False, False),
    (K.ZUW_BESCHEID, True, True, False),
    (K.AUFF_15_5, True, True, True),
    (K.AUFF_15_6, True, True, True),
    (K.ANH_31, False, False, False),
    (K.ANH_32, False, False, False),
    (K.AUFH_ZB, False, True, False),
    (K.INFO_VB, False, False, False),
    (K.FLYER_KP, False, False, False),
]


def test_catalogue_table_covers_every_letter_kind() -> None:
    assert {row[0] for row in CATALOGUE} == set(LetterKind) == set(LETTER_SPECS)


@pytest.mark.parametrize(("kind", "with_rfb", "is_va", "va_unverified"), CATALOGUE)
def test_R_LET_2_rechtsbehelfsbelehrung_exactly_on_verwaltungsakte(kind, with_rfb, is_va, va_unverified) -> None:
    spec = LETTER_SPECS[kind]
    assert (spec.with_rfb, spec.is_va) == (with_rfb, is_va)
    code = "letter.is_va" if is_va else "letter.not_va"
    reason = assert_decision(rechtsbehelfsbelehrung_required(kind), allowed=is_va, code=code, rule_id="R-LET-2")
    # P4 / Q1 / Q2 (UNVERIFIED): the safe default is implemented and flagged for the Rechtsstelle (P10).
    assert reason.needs_legal_review is va_unverified


@pytest.mark.parametrize(
    ("kind", "duty", "percent", "months", "allowed", "code", "rule_id", "basis"),
    [
        (K.AUFF_15_5, DUTY, 10, 1, True, "rfb.concrete", "R-LET-1", "§ 31 SGB II"),
        (K.AUFF_15_6, DUTY, 20, 2, True, "rfb.concrete", "R-LET-1", "§ 31 SGB II"),
        (K.ZUW_BESCHEID, DUTY, 30, 3, True, "rfb.concrete", "R-LET-1", "§ 31 SGB II"),
        (K.EINL_RFB, "Termin am 10.03.2026, 9:00 Uhr", 10, 1, True, "rfb.concrete", "R-LET-1", "§ 32 SGB II"),
        (
            K.EINL_UNTERSUCHUNG,
            "Ärztliche Untersuchung am 12.03.2026",
            10,
            1,
            True,
            "rfb.concrete",
            "R-LET-1",
            "§ 32 SGB II",
        ),
        # Konkret: a duty must be named.
        (K.AUFF_15_5, "", 10, 1, False, "rfb.duty_missing", "R-LET-1", "§ 31 SGB II"),
        (K.AUFF_15_5, "   ", 10, 1, False, "rfb.duty_missing", "R-LET-1", "§ 31 SGB II"),
        # Richtig: no level the law does not know.
        (K.AUFF_15_5, DUTY, 40, 3, False, "rfb.level_invalid", "R-LET-1", "§ 31 SGB II"),
        (K.AUFF_15_5, DUTY, 0, 1, False, "rfb.level_invalid", "R-LET-1", "§ 31 SGB II"),
        (K.AUFF_15_5, DUTY, 30, 4, False, "rfb.level_invalid", "R-LET-1", "§ 31 SGB II"),
        # No RFB block at all on letters without RFB, and never on the KP.
        (K.ZUW_SCHREIBEN_AGH, DUTY, 10, 1, False, "letter.kind_without_rfb", "R-LET-1", "§ 31 SGB II"),
        (K.EINL_BI, DUTY, 10, 1, False, "letter.kind_without_rfb", "R-LET-1", "§ 31 SGB II"),
        (K.KP_DOKUMENT, DUTY, 10, 1, False, "kp.never_rfb", "R-KP-2", "§ 31 SGB II"),
    ],
)
def test_R_LET_1_rfb_block_is_built_not_free_text(kind, duty, percent, months, allowed, code, rule_id, basis) -> None:
    decision, block = rfb_block(kind, duty=duty, deadline=date(2026, 3, 31), percent=percent, months=months)
    assert_decision(decision, allowed=allowed, code=code, rule_id=rule_id)
    assert decision.rule_set == CURRENT.id
    assert block.basis == basis
    assert block.duty == duty.strip()
    # Vollständig (6.3): wichtiger Grund, Härte, lifting on compliance, no SGB XII help, in-person Anhörung.
    assert block.wichtiger_grund_exception
    assert block.haerte_note
    assert block.lifted_on_compliance
    assert block.no_sgb_xii_help
    assert block.in_person_anhoerung


@pytest.mark.parametrize(
    ("history", "percent", "months"),
    [
        ((), 10, 1),
        ((PastMinderung(MinderungBasis.PFLICHTVERLETZUNG, 10, date(2025, 9, 1), 1),), 20, 2),
        ((PastMinderung(MinderungBasis.PFLICHTVERLETZUNG, 20, date(2025, 12, 1), 2),), 30, 3),
        ((PastMinderung(MinderungBasis.PFLICHTVERLETZUNG, 20, date(2025, 3, 1), 2),), 10, 1),
    ],
)
def test_R_LET_1_rfb_level_comes_from_R_SAN_1_at_the_letter_date(history, percent, months) -> None:
    level = minderung_level(history, LETTER_DATE)
    decision, block = rfb_block(K.AUFF_15_5, duty=DUTY, deadline=None, percent=level.percent, months=level.months)
    assert decision.allowed
    assert (block.percent, block.months) == (percent, months)


@pytest.mark.parametrize(
    ("kind", "sha256", "archived", "allowed", "code"),
    [
        (K.KP_DOKUMENT, hashlib.sha256(b"KP v1").hexdigest(), frozenset(), True, "archive.file"),
        (
            K.KP_DOKUMENT,
            hashlib.sha256(b"KP v2").hexdigest(),
            frozenset({hashlib.sha256(b"KP v1").hexdigest()}),
            True,
            "archive.file",
        ),
        (
            K.KP_DOKUMENT,
            hashlib.sha256(b"KP v1").hexdigest(),
            frozenset({hashlib.sha256(b"KP v1").hexdigest()}),
            False,
            "archive.already_filed",
        ),
    ],
)
def test_R_ARC_1_kp_is_filed_once_by_hash(kind, sha256, archived, allowed, code) -> None:
    assert_decision(archive_needed(sha256, archived), allowed=allowed, code=code, rule_id="R-ARC-1")
    assert not LETTER_SPECS[kind].with_rfb  # no signature, no RFB (R-KP-2)


@pytest.mark.parametrize(
    ("with_flyer", "expected"),
    [(False, (K.INFO_VB,)), (True, (K.INFO_VB, K.FLYER_KP))],
)
def test_R_KP_7_enclosures_listed_on_the_kp(with_flyer: bool, expected: tuple[LetterKind, ...]) -> None:
    assert enclosures(with_flyer=with_flyer) == expected
    assert all(not LETTER_SPECS[kind].with_rfb and not LETTER_SPECS[kind].is_va for kind in expected)


@pytest.mark.parametrize(
    ("kind", "allowed_code"),
    [(K.KP_DOKUMENT, ("kp.never_rfb", "R-KP-2"))],
)
def test_R_KP_2_kp_document_refuses_rfb_and_rechtsbehelfsbelehrung(kind, allowed_code) -> None:
    code, rule_id = allowed_code
    decision, _ = rfb_block(kind, duty=DUTY, deadline=None, percent=10, months=1)
    assert_decision(decision, allowed=False, code=code, rule_id=rule_id)
    assert not rechtsbehelfsbelehrung_required(kind).allowed


@pytest.mark.parametrize(
    ("birth_date", "letter_date", "vertretungen", "plan", "code", "rule_id"),
    [
        (date(2010, 6, 1), LETTER_DATE, 2, (True, True, False), "recipients.minor_jointly", "R-MIN-1"),
        (date(2008, 3, 3), LETTER_DATE, 1, (True, True, False), "recipients.minor_jointly", "R-MIN-1"),  # 18 tomorrow
        (date(2008, 3, 2), LETTER_DATE, 1, (True, False, False), "recipients.elb", "R-MIN-1"),  # 18 today
        (date(1990, 5, 17), LETTER_DATE, 0, (True, False, False), "recipients.elb", "R-MIN-1"),
        # Born on 29 February: still 17 on 28 February of a non-leap year, 18 on 1 March.
        (date(2008, 2, 29), date(2026, 2, 28), 1, (True, True, False), "recipients.minor_jointly", "R-MIN-1"),
        (date(2008, 2, 29), date(2026, 3, 1), 1, (True, False, False), "recipients.elb", "R-MIN-1"),
        (date(2010, 6, 1), LETTER_DATE, 0, (True, False, False), "recipients.minor_without_gv", "R-MIN-2"),
    ],
)
def test_R_MIN_1_intervention_invitation_to_minor_and_gv_jointly(
    birth_date, letter_date, vertretungen, plan, code, rule_id
) -> None:
    result = recipients_for(K.EINL_BI, birth_date=birth_date, letter_date=letter_date, vertretungen=vertretungen)
    assert (result.to_elb, result.to_vertretungen, result.copy_to_elb) == plan
    assert (result.reason.code, result.reason.rule_id) == (code, rule_id)
    assert result.reason.sources


@pytest.mark.parametrize(
    ("kind", "birth_date", "plan", "code", "needs_review"),
    [
        (K.AUFF_15_5, date(2010, 6, 1), (False, True, True), "recipients.minor_to_gv", False),
        # Not seeded for these kinds: the same rule applies as PRACTICE, flagged for sign-off.
        (K.AUFF_15_6, date(2010, 6, 1), (False, True, True), "recipients.minor_to_gv", True),
        (K.ZUW_BESCHEID, date(2010, 6, 1), (False, True, True), "recipients.minor_to_gv", True),
        (K.ANH_31, date(2010, 6, 1), (False, True, True), "recipients.minor_to_gv", True),
        (K.EINL_RFB, date(2010, 6, 1), (False, True, True), "recipients.minor_to_gv", True),
        (K.EINL_UNTERSUCHUNG, date(2010, 6, 1), (False, True, True), "recipients.minor_to_gv", True),
        (K.AUFF_15_5, date(2008, 3, 2), (True, False, False), "recipients.elb", False),
        (K.ZUW_SCHREIBEN_AGH, date(2010, 6, 1), (True, False, False), "recipients.elb", False),
    ],
)
def test_R_MIN_2_aufforderung_for_a_minor_goes_to_the_gv(kind, birth_date, plan, code, needs_review) -> None:
    result = recipients_for(kind, birth_date=birth_date, letter_date=LETTER_DATE, vertretungen=2)
    assert (result.to_elb, result.to_vertretungen, result.copy_to_elb) == plan
    assert result.reason.code == code
    assert result.reason.sources
    assert result.reason.needs_legal_review is needs_review


@pytest.mark.parametrize("kind", [kind for kind, spec in LETTER_SPECS.items() if spec.with_rfb or spec.is_va])
def test_R_MIN_2_p5_every_rfb_or_va_letter_reaches_the_gv_of_a_minor(kind: LetterKind) -> None:
    assert LETTER_SPECS[kind].minor_recipients is not Recipients.ELB
    result = recipients_for(kind, birth_date=date(2010, 6, 1), letter_date=LETTER_DATE, vertretungen=1)
    assert result.to_vertretungen
