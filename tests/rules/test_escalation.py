"""Monitoring and the escalation ladder (RULES.md 3.5-3.6, 3.11, 3.14 R-VV-1; state machine 5.4)."""

from __future__ import annotations

from datetime import date

import pytest

from rules.escalation import (
    anhoerung,
    anhoerung_deadline,
    aufforderung_15_5,
    aufforderung_15_6,
    breach_may_be_recorded,
    concrete_minderung,
    decision_may_be_prepared,
    eb_evidence_complete,
    eb_evidence_late,
    exempt_type_monitoring,
    intervention_may_be_invited,
    minderung_start,
    offer_kp_again,
    psych_skip,
    schlichtung_blocks_minderung,
    vermittlungsvorschlag_rfb,
)
from rules.letters import LETTER_SPECS, LetterKind
from rules.measures import zuweisungsbescheid
from rules.sanctions import MinderungBasis, PastMinderung
from rules.states import ESCALATION_TRANSITIONS, MODE_TRANSITIONS, NEW, EscalationStatus, Mode, find_transition
from tests.rules.support import active_plan, assert_decision, assignment, case, complete_draft, escalation, schlichtung

E = EscalationStatus
BREACH = date(2026, 4, 10)
DEADLINE = date(2026, 5, 15)


@pytest.mark.parametrize(
    ("has_plan", "allowed", "code", "rule_id"),
    [(True, True, "breach.recorded", "R-EB-4"), (False, False, "breach.no_current_kp", "R-MON-1")],
)
def test_R_MON_1_breach_of_kp_agreement_needs_a_current_kp(has_plan, allowed, code, rule_id) -> None:
    facts = case(current_plan=active_plan() if has_plan else None)
    assert_decision(breach_may_be_recorded(facts), allowed=allowed, code=code, rule_id=rule_id)


@pytest.mark.parametrize(
    ("received_on", "on", "breach", "code"),
    [
        (None, date(2026, 4, 5), False, "eb.within_grace"),
        (None, date(2026, 4, 11), False, "eb.within_grace"),
        # D-07: "due + 7 days grace → R-EB-4 breach"; the nightly job escalates on due + 7.
        (None, date(2026, 4, 12), True, "eb.missing_after_grace"),
        (None, date(2026, 5, 5), True, "eb.missing_after_grace"),
        (date(2026, 4, 20), date(2026, 5, 5), False, "eb.received"),
    ],
)
def test_R_EB_4_missing_evidence_after_grace_is_a_breach(received_on, on, breach, code) -> None:
    decision = eb_evidence_late(due_on=date(2026, 4, 5), received_on=received_on, on=on)
    assert_decision(decision, allowed=breach, code=code, rule_id="R-EB-4")


@pytest.mark.parametrize(
    ("min_count", "count", "complete", "code"),
    [
        (5, 5, True, "eb.complete"),
        (5, 7, True, "eb.complete"),
        (5, 4, False, "eb.incomplete"),
        (0, 0, True, "eb.complete"),
    ],
)
def test_R_EB_4_fewer_eigenbemuehungen_than_agreed_are_incomplete(min_count, count, complete, code) -> None:
    decision = eb_evidence_complete(min_count=min_count, count_reported=count)
    reason = assert_decision(decision, allowed=complete, code=code, rule_id="R-EB-4")
    assert reason.params == {"min_count": min_count, "count": count}


def test_R_EB_4_late_complete_evidence_closes_a_waiting_breach_record() -> None:
    row = find_transition(ESCALATION_TRANSITIONS, EscalationStatus.BREACH_DETECTED, "evidence_received")
    assert row is not None
    assert (row.target, row.guards) == (EscalationStatus.RESOLVED, ("R-EB-4",))
    # Once invited to the intervention, the ladder goes on (the evidence is then a matter for the talk).
    assert find_transition(ESCALATION_TRANSITIONS, EscalationStatus.INTERVENTION_INVITED, "evidence_received") is None


@pytest.mark.parametrize(
    ("event", "target", "guard"), [("breach", E.BREACH_DETECTED, "R-EB-4"), ("breach", E.BREACH_DETECTED, "R-MON-1")]
)
def test_R_EB_4_breach_starts_the_ladder(event: str, target: EscalationStatus, guard: str) -> None:
    start = find_transition(ESCALATION_TRANSITIONS, NEW, event)
    assert start is not None
    assert start.target == target
    assert guard in start.guards


@pytest.mark.parametrize(
    ("status", "allowed", "code"),
    [
        (E.BREACH_DETECTED, True, "escalation.intervention_first"),
        (E.INTERVENTION_INVITED, False, "escalation.wrong_step"),
        (E.AUFFORDERUNG_ISSUED, False, "escalation.wrong_step"),
        (E.RESOLVED, False, "escalation.wrong_step"),
    ],
)
def test_R_ESC_1_first_step_is_the_beraterische_intervention(status, allowed, code) -> None:
    assert_decision(
        intervention_may_be_invited(escalation(status=status)), allowed=allowed, code=code, rule_id="R-ESC-1"
    )


@pytest.mark.parametrize("status", [E.BREACH_DETECTED, E.INTERVENTION_INVITED])
def test_R_ESC_1_no_aufforderung_before_the_intervention(status) -> None:
    decision = aufforderung_15_5(case(), escalation(status=status))
    assert_decision(decision, allowed=False, code="escalation.intervention_first", rule_id="R-ESC-1")
    assert find_transition(ESCALATION_TRANSITIONS, status, "aufforderung") is None


@pytest.mark.parametrize(
    ("status", "wichtiger_grund", "has_plan", "allowed", "code", "rule_id"),
    [
        (E.INTERVENTION_DONE, False, True, True, "escalation.aufforderung_15_5", "R-ESC-2"),
        (E.NOT_ATTENDED, None, True, True, "escalation.aufforderung_15_5", "R-ESC-2"),
        (E.INTERVENTION_DONE, True, True, False, "escalation.wichtiger_grund", "R-ESC-2"),
        (E.INTERVENTION_DONE, False, False, False, "escalation.no_kp_use_15_6", "R-NOKP-1"),
    ],
)
def test_R_ESC_2_aufforderung_15_5_with_rfb_without_wichtiger_grund(
    status, wichtiger_grund, has_plan, allowed, code, rule_id
) -> None:
    facts = case(current_plan=active_plan() if has_plan else None)
    decision = aufforderung_15_5(facts, escalation(status=status, wichtiger_grund=wichtiger_grund))
    assert_decision(decision, allowed=allowed, code=code, rule_id=rule_id)
    if allowed:
        # The KP stays in force and non-binding (000); the letter carries an RFB; the mode becomes COOP_WITH_RFB.
        assert "kp.stays_in_force" in decision.codes
        assert LETTER_SPECS[LetterKind.AUFF_15_5].with_rfb
        row = find_transition(MODE_TRANSITIONS, Mode.COOP_NO_RFB, "rfb_letter_issued")
        assert row is not None
        assert row.target == Mode.COOP_WITH_RFB
        assert "R-ESC-2" in row.guards


@pytest.mark.parametrize(
    ("status", "deadline", "on", "schlichtung_start", "allowed", "code", "rule_id"),
    [
        (E.AUFFORDERUNG_ISSUED, DEADLINE, date(2026, 5, 15), None, False, "escalation.deadline_not_passed", "R-ESC-3"),
        (E.AUFFORDERUNG_ISSUED, None, date(2026, 5, 16), None, False, "escalation.deadline_not_passed", "R-ESC-3"),
        (E.AUFFORDERUNG_ISSUED, DEADLINE, date(2026, 5, 16), None, True, "escalation.anhoerung", "R-ESC-3"),
        (E.AUFFORDERUNG_ISSUED, DEADLINE, date(2026, 10, 10), None, True, "minderung.in_time", "R-ESC-3"),
        # L-15: more than 6 months after the breach, a Minderung is barred.
        (E.AUFFORDERUNG_ISSUED, DEADLINE, date(2026, 10, 11), None, False, "minderung.too_late", "R-ESC-3"),
        # L-07 Abs. 3: breach during a Schlichtung.
        (
            E.AUFFORDERUNG_ISSUED,
            DEADLINE,
            date(2026, 5, 16),
            date(2026, 4, 1),
            False,
            "minderung.during_schlichtung",
            "R-SCH-3",
        ),
        (
            E.AUFFORDERUNG_ISSUED,
            DEADLINE,
            date(2026, 5, 16),
            date(2026, 4, 11),
            True,
            "minderung.no_schlichtung",
            "R-SCH-3",
        ),
        (E.INTERVENTION_DONE, DEADLINE, date(2026, 5, 16), None, False, "escalation.aufforderung_first", "R-ESC-3"),
        (E.MONITORING, DEADLINE, date(2026, 5, 16), None, False, "escalation.aufforderung_first", "R-ESC-3"),
    ],
)
def test_R_ESC_3_anhoerung_after_the_compliance_deadline(
    status, deadline, on, schlichtung_start, allowed, code, rule_id
) -> None:
    facts = case(schlichtung=schlichtung(schlichtung_start, running=False) if schlichtung_start else None)
    esc = escalation(status=status, breach_date=BREACH, compliance_deadline=deadline)
    assert_decision(anhoerung(facts, esc, on=on), allowed=allowed, code=code, rule_id=rule_id)


@pytest.mark.parametrize("status", [E.INTERVENTION_DONE, E.NOT_ATTENDED])
@pytest.mark.parametrize("mode", [Mode.COOP_NO_RFB, Mode.COOP_WITH_RFB])
def test_R_ESC_4_no_aufforderung_for_exempt_types(status, mode) -> None:
    facts = case(mode=mode)
    exempt = escalation(status=status, exempt_type=True, wichtiger_grund=False)
    assert_decision(aufforderung_15_5(facts, exempt), allowed=False, code="escalation.exempt_type", rule_id="R-ESC-4")
    # Only intervention and KP adaptation: the ladder goes to MONITORING.
    assert_decision(exempt_type_monitoring(exempt), allowed=True, code="escalation.exempt_type", rule_id="R-ESC-4")
    bescheid = zuweisungsbescheid(facts, assignment(exempt_type=True), after_abort=False, traeger_ruecksprache_on=None)
    assert_decision(bescheid, allowed=False, code="zuw.exempt_type", rule_id="R-ESC-4")
    # Per obligation, not per case: another obligation of the same KP escalates normally.
    other = escalation(status=status, exempt_type=False, wichtiger_grund=False)
    assert aufforderung_15_5(facts, other).allowed
    assert_decision(exempt_type_monitoring(other), allowed=False, code="escalation.not_exempt_type", rule_id="R-ESC-4")


@pytest.mark.parametrize(
    ("status", "vermerk", "allowed", "code", "rule_id"),
    [
        (
            E.INTERVENTION_DONE,
            "Psychische Erkrankung, komplexe Handlungsbedarfe: Aufforderung derzeit nicht zielführend.",
            True,
            "escalation.psych_skip",
            "R-ESC-5",
        ),
        (E.NOT_ATTENDED, "Komplexe Handlungsbedarfe.", True, "escalation.psych_skip", "R-ESC-5"),
        (E.INTERVENTION_DONE, "", False, "escalation.psych_vermerk_required", "R-ESC-5"),
        (E.INTERVENTION_DONE, " \t\n", False, "escalation.psych_vermerk_required", "R-ESC-5"),
        (E.BREACH_DETECTED, "Komplexe Handlungsbedarfe.", False, "escalation.intervention_first", "R-ESC-1"),
    ],
)
def test_R_ESC_5_psych_skip_needs_a_vermerk(status, vermerk, allowed, code, rule_id) -> None:
    assert_decision(psych_skip(escalation(status=status), vermerk=vermerk), allowed=allowed, code=code, rule_id=rule_id)
    if allowed:
        row = find_transition(ESCALATION_TRANSITIONS, status, "monitor")
        assert row is not None
        assert row.target == E.MONITORING
        assert "R-ESC-5" in row.guards


@pytest.mark.parametrize(
    ("status", "anhoerung_until", "on", "allowed", "code"),
    [
        (E.ANHOERUNG, date(2026, 6, 1), date(2026, 5, 20), False, "anhoerung.period_running"),
        (E.ANHOERUNG, date(2026, 6, 1), date(2026, 6, 1), False, "anhoerung.period_running"),
        (E.ANHOERUNG, date(2026, 6, 1), date(2026, 6, 2), True, "anhoerung.period_over"),
        (E.AUFFORDERUNG_ISSUED, date(2026, 6, 1), date(2026, 6, 2), False, "escalation.wrong_step"),
    ],
)
def test_R_ESC_6_no_decision_before_the_aeusserungsfrist_ends(status, anhoerung_until, on, allowed, code) -> None:
    esc = escalation(status=status, anhoerung_deadline=anhoerung_until)
    assert_decision(decision_may_be_prepared(esc, on=on), allowed=allowed, code=code, rule_id="R-ESC-6")


@pytest.mark.parametrize(
    ("history", "p32", "bekanntgabe", "percent", "months", "start", "frist_until"),
    [
        ((), False, date(2026, 6, 20), 10, 1, date(2026, 7, 1), date(2026, 7, 4)),
        (
            (PastMinderung(MinderungBasis.PFLICHTVERLETZUNG, 10, date(2025, 11, 1), 1),),
            False,
            date(2026, 6, 30),
            20,
            2,
            date(2026, 7, 1),
            date(2026, 7, 14),
        ),
        ((), True, date(2026, 12, 31), 10, 1, date(2027, 1, 1), date(2027, 1, 14)),
    ],
)
def test_R_ESC_6_anhoerung_names_percent_months_and_start(
    history, p32, bekanntgabe, percent, months, start, frist_until
) -> None:
    facts = case(minderungen=history)
    level = concrete_minderung(facts, escalation(breach_date=BREACH, minderung_basis_p32=p32))
    assert (level.percent, level.months) == (percent, months)
    assert level.reason.rule_id == "R-SAN-1"
    assert minderung_start(bekanntgabe) == start  # L-15: the month after the Feststellung takes effect
    assert anhoerung_deadline(bekanntgabe, days=14) == frist_until


@pytest.mark.parametrize(
    ("mode", "allowed", "code"),
    [
        (Mode.NO_KP_15_6, True, "nokp.aufforderung_15_6"),
        (Mode.SCHLICHTUNG_PENDING, False, "nokp.wait_for_schlichtung"),
        (Mode.NO_KP_YET, False, "nokp.not_in_mode"),
        (Mode.COOP_NO_RFB, False, "nokp.not_in_mode"),
        (Mode.COOP_WITH_RFB, False, "nokp.not_in_mode"),
        (Mode.EXEMPT, False, "nokp.not_in_mode"),
    ],
)
def test_R_NOKP_1_aufforderung_15_6_without_a_kp(mode, allowed, code) -> None:
    assert_decision(
        aufforderung_15_6(case(mode=mode, current_plan=None)), allowed=allowed, code=code, rule_id="R-NOKP-1"
    )
    if allowed:
        spec = LETTER_SPECS[LetterKind.AUFF_15_6]
        assert (spec.with_rfb, spec.is_va) == (True, True)
        row = find_transition(ESCALATION_TRANSITIONS, NEW, "aufforderung_15_6")
        assert row is not None
        assert row.target == E.AUFFORDERUNG_ISSUED


@pytest.mark.parametrize(
    ("on", "schlichtung_start", "allowed", "code", "rule_id"),
    [
        (date(2026, 5, 15), None, False, "escalation.deadline_not_passed", "R-ESC-3"),
        (date(2026, 5, 16), None, True, "escalation.anhoerung", "R-ESC-3"),
        (date(2026, 5, 16), date(2026, 3, 20), False, "minderung.during_schlichtung", "R-SCH-3"),
        (date(2026, 10, 11), None, False, "minderung.too_late", "R-ESC-3"),
    ],
)
def test_R_NOKP_2_non_compliance_with_15_6_leads_to_the_same_anhoerung(
    on, schlichtung_start, allowed, code, rule_id
) -> None:
    facts = case(
        mode=Mode.NO_KP_15_6,
        current_plan=None,
        schlichtung=schlichtung(schlichtung_start, running=False) if schlichtung_start else None,
    )
    esc = escalation(status=E.AUFFORDERUNG_ISSUED, breach_date=BREACH, compliance_deadline=DEADLINE)
    assert_decision(anhoerung(facts, esc, on=on), allowed=allowed, code=code, rule_id=rule_id)
    row = find_transition(ESCALATION_TRANSITIONS, E.AUFFORDERUNG_ISSUED, "anhoerung")
    assert row is not None
    assert "R-NOKP-2" in row.guards


@pytest.mark.parametrize(
    ("mode", "has_draft", "allowed", "code"),
    [
        (Mode.NO_KP_15_6, False, True, "nokp.offer_kp_again"),
        (Mode.NO_KP_15_6, True, False, "nokp.not_applicable"),
        (Mode.COOP_NO_RFB, False, False, "nokp.not_applicable"),
        (Mode.NO_KP_YET, False, False, "nokp.not_applicable"),
    ],
)
def test_R_NOKP_3_kp_is_offered_again_at_every_contact(mode, has_draft, allowed, code) -> None:
    facts = case(mode=mode, current_plan=None, draft=complete_draft() if has_draft else None)
    assert_decision(offer_kp_again(facts), allowed=allowed, code=code, rule_id="R-NOKP-3")


@pytest.mark.parametrize(
    ("mode", "with_rfb", "code"),
    [
        (Mode.COOP_NO_RFB, False, "vv.without_rfb"),
        (Mode.COOP_WITH_RFB, True, "vv.with_rfb"),
        (Mode.NO_KP_15_6, True, "vv.with_rfb"),
        (Mode.NO_KP_YET, False, "vv.without_rfb_default"),
        (Mode.SCHLICHTUNG_PENDING, False, "vv.without_rfb_default"),
        (Mode.EXEMPT, False, "vv.without_rfb_default"),
    ],
)
def test_R_VV_1_vermittlungsvorschlag_rfb_by_mode(mode: Mode, with_rfb: bool, code: str) -> None:
    # allowed == "carries an RFB".
    assert_decision(vermittlungsvorschlag_rfb(case(mode=mode)), allowed=with_rfb, code=code, rule_id="R-VV-1")


@pytest.mark.parametrize(
    ("breach", "meldeversaeumnis", "allowed", "code", "review"),
    [
        (date(2026, 3, 10), False, False, "minderung.during_schlichtung", False),
        (date(2026, 3, 10), True, True, "minderung.melde_during_schlichtung", True),
        (date(2026, 2, 10), False, True, "minderung.no_schlichtung", False),
    ],
)
def test_R_SCH_3_meldeversaeumnis_during_schlichtung_is_open_question_q3(
    breach, meldeversaeumnis, allowed, code, review
):
    facts = case(mode=Mode.SCHLICHTUNG_PENDING, schlichtung=schlichtung(date(2026, 3, 1)))
    decision = schlichtung_blocks_minderung(facts, breach, meldeversaeumnis=meldeversaeumnis)
    assert (decision.allowed, decision.codes, decision.needs_legal_review) == (allowed, (code,), review)
