"""Invitations (RULES.md 3.3, product decision P1): which letter, with or without RFB, and why."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rules.escalation import anhoerung_32, intervention_may_be_invited
from rules.invitations import (
    AppointmentKind,
    RfbChoice,
    appointment_outcome,
    invitation,
    missed_appointment_consequence,
)
from rules.letters import LETTER_SPECS, LetterKind
from rules.states import ESCALATION_TRANSITIONS, EscalationStatus, Mode, find_transition
from tests.rules.support import assert_decision, case, escalation, schlichtung

ON = date(2026, 3, 10)
ZWECK = "Besprechung Ihrer beruflichen Situation"
A = AppointmentKind


def invite(
    appointment: AppointmentKind,
    *,
    mode: Mode = Mode.COOP_NO_RFB,
    first_sent: bool = True,
    followup_rfb: bool = True,
    choice: RfbChoice = RfbChoice.DEFAULT,
    deviation_reason: str = "",
    meldezweck: str = ZWECK,
):
    facts = case(mode=mode, first_invitation_sent=first_sent, followup_invitation_rfb=followup_rfb)
    return invitation(
        facts, appointment, on=ON, choice=choice, deviation_reason=deviation_reason, meldezweck=meldezweck
    )


@pytest.mark.parametrize(
    ("first_sent", "mode", "followup_rfb", "choice", "allowed", "kind", "with_rfb", "code", "rule_id"),
    [
        (
            False,
            Mode.NO_KP_YET,
            True,
            RfbChoice.DEFAULT,
            True,
            "EINL_KP_ERST",
            False,
            "invitation.first_without_rfb",
            "R-INV-1",
        ),
        (
            False,
            Mode.NO_KP_YET,
            False,
            RfbChoice.DEFAULT,
            True,
            "EINL_KP_ERST",
            False,
            "invitation.first_without_rfb",
            "R-INV-1",
        ),
        (
            False,
            Mode.NO_KP_YET,
            True,
            RfbChoice.WITHOUT,
            True,
            "EINL_KP_ERST",
            False,
            "invitation.first_without_rfb",
            "R-INV-1",
        ),
        (
            False,
            Mode.NO_KP_YET,
            True,
            RfbChoice.WITH,
            False,
            "EINL_KP_ERST",
            False,
            "invitation.first_never_rfb",
            "R-INV-1",
        ),
        # The first invitation was missed: the next one is no longer "first" and carries the RFB.
        (
            True,
            Mode.NO_KP_YET,
            True,
            RfbChoice.DEFAULT,
            True,
            "EINL_RFB",
            True,
            "invitation.followup_with_rfb",
            "R-INV-2",
        ),
    ],
)
def test_R_INV_1_first_pa_kp_invitation_without_rfb(
    first_sent, mode, followup_rfb, choice, allowed, kind, with_rfb, code, rule_id
) -> None:
    result = invite(A.ERSTGESPRAECH, mode=mode, first_sent=first_sent, followup_rfb=followup_rfb, choice=choice)
    reason = assert_decision(result.decision, allowed=allowed, code=code, rule_id=rule_id)
    assert (result.letter_kind, result.with_rfb) == (LetterKind(kind), with_rfb)
    if code == "invitation.first_without_rfb":
        # § 15 Abs. 4 wording is UNVERIFIED (L-04): safe default, flagged for the Rechtsstelle.
        assert reason.needs_legal_review
        assert LETTER_SPECS[LetterKind.EINL_KP_ERST].is_va is False


@pytest.mark.parametrize(
    ("appointment", "mode", "followup_rfb", "kind", "with_rfb", "code", "rule_id"),
    [
        (A.FOLGETERMIN, Mode.COOP_NO_RFB, True, "EINL_RFB", True, "invitation.followup_with_rfb", "R-INV-2"),
        (A.UEBERPRUEFUNG, Mode.COOP_NO_RFB, True, "EINL_RFB", True, "invitation.followup_with_rfb", "R-INV-2"),
        (A.FOLGETERMIN, Mode.NO_KP_YET, True, "EINL_RFB", True, "invitation.followup_with_rfb", "R-INV-2"),
        (A.FOLGETERMIN, Mode.COOP_WITH_RFB, True, "EINL_RFB", True, "invitation.followup_with_rfb", "R-INV-2"),
        (A.FOLGETERMIN, Mode.NO_KP_15_6, True, "EINL_RFB", True, "invitation.followup_with_rfb", "R-INV-2"),
        (A.FOLGETERMIN, Mode.SCHLICHTUNG_PENDING, True, "EINL_RFB", True, "invitation.followup_with_rfb", "R-INV-2"),
        # P1 switched to the 000 practice: RFB only where cooperation does not work.
        (A.FOLGETERMIN, Mode.COOP_WITH_RFB, False, "EINL_RFB", True, "invitation.followup_with_rfb", "R-INV-2"),
        (A.FOLGETERMIN, Mode.NO_KP_15_6, False, "EINL_RFB", True, "invitation.followup_with_rfb", "R-INV-2"),
        (
            A.FOLGETERMIN,
            Mode.COOP_NO_RFB,
            False,
            "EINL_OHNE_RFB",
            False,
            "invitation.followup_without_rfb_000",
            "R-KP-9",
        ),
    ],
)
def test_R_INV_2_followup_invitations_with_rfb_by_default(
    appointment, mode, followup_rfb, kind, with_rfb, code, rule_id
) -> None:
    result = invite(appointment, mode=mode, followup_rfb=followup_rfb)
    assert_decision(result.decision, allowed=True, code=code, rule_id=rule_id)
    assert (result.letter_kind, result.with_rfb) == (LetterKind(kind), with_rfb)
    spec = LETTER_SPECS[result.letter_kind]
    assert (spec.with_rfb, spec.is_va) == (with_rfb, with_rfb)  # a Meldeaufforderung with RFB is a VA


@pytest.mark.parametrize("meldezweck", ["", "   ", "\n"])
@pytest.mark.parametrize("appointment", [A.FOLGETERMIN, A.ERSTGESPRAECH, A.AERZTLICH, A.BERATERISCHE_INTERVENTION])
def test_R_INV_2_meldezweck_is_required(meldezweck: str, appointment: AppointmentKind) -> None:
    result = invite(appointment, meldezweck=meldezweck)
    assert_decision(result.decision, allowed=False, code="invitation.meldezweck_missing", rule_id="R-INV-2")


@pytest.mark.parametrize(
    ("mode", "followup_rfb", "choice", "allowed", "code"),
    [
        (Mode.COOP_NO_RFB, True, RfbChoice.DEFAULT, True, "invitation.bi_without_rfb"),
        (Mode.COOP_WITH_RFB, True, RfbChoice.DEFAULT, True, "invitation.bi_without_rfb"),
        (Mode.NO_KP_15_6, True, RfbChoice.DEFAULT, True, "invitation.bi_without_rfb"),
        (Mode.COOP_NO_RFB, False, RfbChoice.WITHOUT, True, "invitation.bi_without_rfb"),
        (Mode.COOP_WITH_RFB, True, RfbChoice.WITH, False, "invitation.bi_never_rfb"),
    ],
)
def test_R_INV_3_beraterische_intervention_never_with_rfb(mode, followup_rfb, choice, allowed, code) -> None:
    result = invite(A.BERATERISCHE_INTERVENTION, mode=mode, followup_rfb=followup_rfb, choice=choice)
    assert_decision(result.decision, allowed=allowed, code=code, rule_id="R-INV-3")
    assert (result.letter_kind, result.with_rfb) == (LetterKind.EINL_BI, False)


@pytest.mark.parametrize(
    ("appointment", "mode", "followup_rfb", "choice", "deviation_reason", "allowed", "kind", "with_rfb", "code"),
    [
        (
            A.FOLGETERMIN,
            Mode.COOP_NO_RFB,
            True,
            RfbChoice.WITHOUT,
            "Wunsch der Kundin",
            True,
            "EINL_OHNE_RFB",
            False,
            "invitation.ifk_choice",
        ),
        (
            A.FOLGETERMIN,
            Mode.COOP_NO_RFB,
            True,
            RfbChoice.WITHOUT,
            "",
            False,
            "EINL_OHNE_RFB",
            False,
            "invitation.deviation_reason_missing",
        ),
        (
            A.FOLGETERMIN,
            Mode.COOP_NO_RFB,
            True,
            RfbChoice.WITHOUT,
            "   ",
            False,
            "EINL_OHNE_RFB",
            False,
            "invitation.deviation_reason_missing",
        ),
        (
            A.FOLGETERMIN,
            Mode.COOP_NO_RFB,
            False,
            RfbChoice.WITH,
            "wiederholt nicht erschienen",
            True,
            "EINL_RFB",
            True,
            "invitation.ifk_choice",
        ),
        (
            A.AUF_WUNSCH,
            Mode.COOP_NO_RFB,
            True,
            RfbChoice.DEFAULT,
            "",
            True,
            "EINL_OHNE_RFB",
            False,
            "invitation.on_request_without_rfb",
        ),
        (
            A.WIDERSPRUCH,
            Mode.COOP_WITH_RFB,
            True,
            RfbChoice.DEFAULT,
            "",
            True,
            "EINL_OHNE_RFB",
            False,
            "invitation.on_request_without_rfb",
        ),
        (
            A.WIDERSPRUCH,
            Mode.COOP_WITH_RFB,
            True,
            RfbChoice.WITH,
            "Erörterung des Widerspruchs",
            True,
            "EINL_RFB",
            True,
            "invitation.ifk_choice",
        ),
    ],
)
def test_R_INV_4_ifk_may_choose_with_or_without_rfb_with_a_reason(
    appointment, mode, followup_rfb, choice, deviation_reason, allowed, kind, with_rfb, code
) -> None:
    result = invite(appointment, mode=mode, followup_rfb=followup_rfb, choice=choice, deviation_reason=deviation_reason)
    assert_decision(result.decision, allowed=allowed, code=code, rule_id="R-INV-4")
    assert (result.letter_kind, result.with_rfb) == (LetterKind(kind), with_rfb)


@pytest.mark.parametrize("appointment", [A.AERZTLICH, A.PSYCHOLOGISCH])
@pytest.mark.parametrize(
    ("mode", "first_sent", "followup_rfb", "choice", "allowed", "code"),
    [
        (Mode.COOP_NO_RFB, True, True, RfbChoice.DEFAULT, True, "invitation.examination_always_rfb"),
        # Overrides R-KP-9 and the 000 practice of P1.
        (Mode.COOP_NO_RFB, True, False, RfbChoice.DEFAULT, True, "invitation.examination_always_rfb"),
        (Mode.NO_KP_YET, False, True, RfbChoice.DEFAULT, True, "invitation.examination_always_rfb"),
        (Mode.COOP_NO_RFB, True, True, RfbChoice.WITH, True, "invitation.examination_always_rfb"),
        # Not overridable by the IFK.
        (Mode.COOP_NO_RFB, True, False, RfbChoice.WITHOUT, False, "invitation.examination_rfb_not_overridable"),
    ],
)
def test_R_INV_5_examination_invitation_always_with_rfb(
    appointment, mode, first_sent, followup_rfb, choice, allowed, code
) -> None:
    result = invite(appointment, mode=mode, first_sent=first_sent, followup_rfb=followup_rfb, choice=choice)
    reason = assert_decision(result.decision, allowed=allowed, code=code, rule_id="R-INV-5")
    assert (result.letter_kind, result.with_rfb) == (LetterKind.EINL_UNTERSUCHUNG, True)
    if allowed:
        assert reason.params["percent"] == 10  # § 32: 10 % for one month (L-18)


@pytest.mark.parametrize(
    ("appointment", "mode", "first_sent", "followup_rfb", "choice", "with_rfb"),
    [
        (A.ERSTGESPRAECH, Mode.NO_KP_YET, False, True, RfbChoice.DEFAULT, False),
        (A.FOLGETERMIN, Mode.COOP_NO_RFB, True, True, RfbChoice.DEFAULT, True),
        (A.FOLGETERMIN, Mode.COOP_NO_RFB, True, False, RfbChoice.DEFAULT, False),
        (A.FOLGETERMIN, Mode.COOP_NO_RFB, True, True, RfbChoice.WITHOUT, False),
        (A.BERATERISCHE_INTERVENTION, Mode.COOP_NO_RFB, True, True, RfbChoice.DEFAULT, False),
        (A.AERZTLICH, Mode.COOP_NO_RFB, True, True, RfbChoice.DEFAULT, True),
        (A.AUF_WUNSCH, Mode.COOP_NO_RFB, True, True, RfbChoice.DEFAULT, False),
    ],
)
def test_R_INV_6_fahrtkosten_note_on_every_invitation(
    appointment, mode, first_sent, followup_rfb, choice, with_rfb
) -> None:
    result = invite(
        appointment,
        mode=mode,
        first_sent=first_sent,
        followup_rfb=followup_rfb,
        choice=choice,
        deviation_reason="Wunsch",
    )
    assert result.with_rfb is with_rfb
    reason = assert_decision(result.decision, allowed=True, code="invitation.fahrtkosten", rule_id="R-INV-6")
    assert "§ 59 SGB II" in reason.sources


@pytest.mark.parametrize(
    ("with_rfb", "dispatch_proven", "allowed", "code", "needs_review"),
    [
        (False, True, False, "melde.no_rfb_no_minderung", False),
        (False, False, False, "melde.no_rfb_no_minderung", False),
        (True, False, False, "melde.zugang_not_proven", True),
        (True, True, True, "melde.anhoerung_32", False),
    ],
)
def test_R_INV_7_missed_appointment_needs_a_written_rfb(with_rfb, dispatch_proven, allowed, code, needs_review) -> None:
    decision = missed_appointment_consequence(with_rfb=with_rfb, dispatch_proven=dispatch_proven)
    reason = assert_decision(decision, allowed=allowed, code=code, rule_id="R-INV-7")
    assert reason.needs_legal_review is needs_review
    if allowed:
        assert dict(reason.params) == {"percent": 10, "months": 1}


@pytest.mark.parametrize(("with_rfb", "dispatch_proven"), [(True, True), (False, False)])
def test_R_INV_7_a_wichtiger_grund_excludes_the_minderung(with_rfb, dispatch_proven) -> None:
    decision = missed_appointment_consequence(with_rfb=with_rfb, dispatch_proven=dispatch_proven, wichtiger_grund=True)
    reason = assert_decision(decision, allowed=False, code="melde.wichtiger_grund", rule_id="R-INV-7")
    assert "§ 32 Abs. 1 SGB II" in reason.sources


DAY = date(2026, 3, 16)


@pytest.mark.parametrize(
    ("is_intervention", "recorded", "outcome", "day", "allowed", "code", "rule_id"),
    [
        (False, False, None, DAY + timedelta(days=3), True, "appointment.outcome", "R-MON-1"),
        (False, False, "ATTENDED", DAY, True, "appointment.outcome", "R-MON-1"),
        (False, False, "NOT_ATTENDED", DAY - timedelta(days=1), True, "appointment.outcome", "R-MON-1"),
        (False, False, "ATTENDED", DAY + timedelta(days=1), False, "appointment.not_yet", "R-MON-1"),
        (False, False, "NOT_ATTENDED", DAY + timedelta(days=1), False, "appointment.not_yet", "R-MON-1"),
        (False, False, "CANCELLED", DAY + timedelta(days=1), True, "appointment.outcome", "R-MON-1"),
        (False, False, "POSTPONED", DAY + timedelta(days=1), True, "appointment.outcome", "R-MON-1"),
        (False, False, "PENDING", DAY, False, "appointment.outcome_unknown", "R-MON-1"),
        (False, False, "VERGESSEN", DAY, False, "appointment.outcome_unknown", "R-MON-1"),
        (False, True, "ATTENDED", DAY, False, "appointment.outcome_recorded", "R-MON-1"),
        (True, False, "ATTENDED", DAY, False, "appointment.is_intervention", "R-ESC-1"),
    ],
)
def test_R_MON_1_the_outcome_of_an_appointment_is_recorded_once_and_not_before_its_day(
    is_intervention, recorded, outcome, day, allowed, code, rule_id
) -> None:
    decision = appointment_outcome(
        is_intervention=is_intervention, recorded=recorded, outcome=outcome, appointment_day=day, on=DAY
    )
    assert_decision(decision, allowed=allowed, code=code, rule_id=rule_id)


@pytest.mark.parametrize(
    ("followup_rfb", "mode", "with_rfb"),
    [(False, Mode.COOP_NO_RFB, False), (True, Mode.COOP_NO_RFB, True), (False, Mode.COOP_WITH_RFB, True)],
)
def test_R_KP_9_followup_invitation_under_the_000_practice(followup_rfb: bool, mode: Mode, with_rfb: bool) -> None:
    result = invite(A.FOLGETERMIN, mode=mode, followup_rfb=followup_rfb)
    assert result.decision.allowed
    assert result.with_rfb is with_rfb
    assert ("R-KP-9" in result.decision.rule_ids) is (not with_rfb)


@pytest.mark.parametrize(
    ("p32", "status", "breach", "on", "schlichtung_start", "allowed", "code"),
    [
        (True, "BREACH_DETECTED", date(2026, 4, 10), date(2026, 4, 20), None, True, "melde.anhoerung_32"),
        # L-15: at most 6 months after the missed appointment.
        (True, "BREACH_DETECTED", date(2026, 4, 10), date(2026, 10, 11), None, False, "minderung.too_late"),
        # Q3: § 15a Abs. 3 names only § 31, so a running Schlichtung does not block § 32 (marked for review).
        (True, "BREACH_DETECTED", date(2026, 4, 10), date(2026, 4, 20), date(2026, 4, 1), True, "melde.anhoerung_32"),
        # Only for a Meldeversäumnis record, and only once.
        (False, "BREACH_DETECTED", date(2026, 4, 10), date(2026, 4, 20), None, False, "melde.not_a_meldeversaeumnis"),
        (True, "ANHOERUNG", date(2026, 4, 10), date(2026, 4, 20), None, False, "melde.not_a_meldeversaeumnis"),
    ],
)
def test_R_INV_7_meldeversaeumnis_goes_to_the_anhoerung_32(p32, status, breach, on, schlichtung_start, allowed, code):
    facts = case(schlichtung=schlichtung(schlichtung_start) if schlichtung_start else None)
    esc = escalation(status=EscalationStatus(status), breach_date=breach, minderung_basis_p32=p32)
    decision = anhoerung_32(facts, esc, on=on)
    reason = assert_decision(decision, allowed=allowed, code=code, rule_id="R-INV-7" if "melde" in code else "R-ESC-3")
    if allowed:
        assert reason.params == {"percent": 10, "months": 1}
        assert find_transition(ESCALATION_TRANSITIONS, status, "anhoerung_32").target == EscalationStatus.ANHOERUNG
    if schlichtung_start:
        assert any(r.needs_legal_review for r in decision.reasons)


def test_R_INV_7_a_meldeversaeumnis_gets_no_beraterische_intervention():
    decision = intervention_may_be_invited(escalation(minderung_basis_p32=True))
    assert_decision(decision, allowed=False, code="melde.no_intervention", rule_id="R-INV-7")
    assert intervention_may_be_invited(escalation(minderung_basis_p32=False)).allowed
