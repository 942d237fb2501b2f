"""Zuweisungen to Maßnahmen/AGH and the Maßnahme-Abbruch (RULES.md 3.4, 3.8; state machine 5.3)."""

from __future__ import annotations

from datetime import date

import pytest

from rules.escalation import direct_anhoerung_after_bescheid_abort
from rules.letters import LETTER_SPECS, LetterKind, rechtsbehelfsbelehrung_required
from rules.measures import (
    abort_reported,
    assignment_dates,
    aufhebung_by_consensual_kp,
    clarification_outcome,
    remaining_term,
    replace_bescheid,
    withdraw_schreiben,
    zuweisungsbescheid,
    zuweisungsschreiben,
)
from rules.states import (
    ASSIGNMENT_TRANSITIONS,
    ESCALATION_TRANSITIONS,
    KP_TRANSITIONS,
    MODE_TRANSITIONS,
    AssignmentStatus,
    EscalationStatus,
    KPStatus,
    Mode,
    find_transition,
)
from tests.rules.support import active_plan, assert_decision, assignment, case, escalation

S = AssignmentStatus


def target(table, source, event):
    row = find_transition(table, source, event)
    return None if row is None else row.target


# --- 3.4 Zuweisungen --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "rueckmeldung", "allowed", "code"),
    [
        (date(2026, 3, 2), date(2026, 5, 29), date(2026, 2, 23), True, "zuw.planned"),
        # The Rückmeldung may fall on the first day; a one-day measure is possible.
        (date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 2), True, "zuw.planned"),
        (date(2026, 3, 2), date(2026, 3, 1), date(2026, 2, 23), False, "zuw.dates_inconsistent"),
        (date(2026, 3, 2), date(2026, 5, 29), date(2026, 3, 3), False, "zuw.dates_inconsistent"),
    ],
)
def test_R_ZUW_1_measure_dates_in_the_kp(start, end, rueckmeldung, allowed, code) -> None:
    assert_decision(assignment_dates(start, end, rueckmeldung), allowed=allowed, code=code, rule_id="R-ZUW-1")


@pytest.mark.parametrize(
    ("mode", "status", "traeger_complete", "is_agh", "allowed", "kind", "code"),
    [
        (Mode.COOP_NO_RFB, S.PLANNED, True, False, True, "ZUW_SCHREIBEN_AKTIVIERUNG", "zuw.schreiben_without_rfb"),
        (Mode.COOP_NO_RFB, S.PLANNED, True, True, True, "ZUW_SCHREIBEN_AGH", "zuw.schreiben_without_rfb"),
        # Missing Träger data blocks the letter.
        (Mode.COOP_NO_RFB, S.PLANNED, False, False, False, "ZUW_SCHREIBEN_AKTIVIERUNG", "zuw.traeger_missing"),
        (Mode.COOP_NO_RFB, S.SCHREIBEN_ISSUED, True, True, False, "ZUW_SCHREIBEN_AGH", "zuw.not_planned"),
        # A Zuweisungsschreiben informs about a measure agreed in a KP: no KP, no Schreiben.
        (Mode.NO_KP_YET, S.PLANNED, True, False, False, "ZUW_SCHREIBEN_AKTIVIERUNG", "zuw.needs_kp"),
        (Mode.NO_KP_15_6, S.PLANNED, True, False, False, "ZUW_SCHREIBEN_AKTIVIERUNG", "zuw.needs_kp"),
        (Mode.EXEMPT, S.PLANNED, True, False, False, "ZUW_SCHREIBEN_AKTIVIERUNG", "zuw.needs_kp"),
    ],
)
def test_R_ZUW_1_zuweisungsschreiben_without_rfb(mode, status, traeger_complete, is_agh, allowed, kind, code) -> None:
    decision, letter_kind = zuweisungsschreiben(
        case(mode=mode), assignment(status=status, traeger_complete=traeger_complete, is_agh=is_agh)
    )
    assert_decision(decision, allowed=allowed, code=code, rule_id="R-ZUW-1")
    assert letter_kind is LetterKind(kind)
    spec = LETTER_SPECS[letter_kind]
    assert (spec.with_rfb, spec.is_va) == (False, False)
    assert not rechtsbehelfsbelehrung_required(letter_kind).allowed
    if allowed:
        assert_decision(decision, allowed=True, code="zuw.no_rfb_while_cooperating", rule_id="R-KP-9")
        assert target(ASSIGNMENT_TRANSITIONS, S.PLANNED, "issue_schreiben") == S.SCHREIBEN_ISSUED


@pytest.mark.parametrize(
    ("status", "via_bescheid", "allowed", "code", "rule_id"),
    [
        (S.SCHREIBEN_ISSUED, False, True, "zuw.withdraw_without_aufhebung", "R-ZUW-2"),
        (S.PLANNED, False, True, "zuw.withdraw_without_aufhebung", "R-ZUW-2"),
        (S.STARTED, False, False, "zuw.cannot_withdraw", "R-ZUW-2"),
        (S.BESCHEID_ISSUED, True, False, "zuw.bescheid_needs_aufhebung", "R-ZUW-4"),
    ],
)
def test_R_ZUW_2_schreiben_is_withdrawn_without_aufhebung(status, via_bescheid, allowed, code, rule_id) -> None:
    measure = assignment(status=status, via_bescheid=via_bescheid)
    assert_decision(withdraw_schreiben(measure), allowed=allowed, code=code, rule_id=rule_id)
    if not via_bescheid:
        # The AUFH_ZB action is absent for a Zuweisungsschreiben: it is not a VA.
        assert_decision(
            aufhebung_by_consensual_kp(measure),
            allowed=False,
            code="zuw.schreiben_needs_no_aufhebung",
            rule_id="R-ZUW-2",
        )
        assert target(ASSIGNMENT_TRANSITIONS, S.SCHREIBEN_ISSUED, "aufheben") is None
        assert target(ASSIGNMENT_TRANSITIONS, S.SCHREIBEN_ISSUED, "withdraw") == S.WITHDRAWN


@pytest.mark.parametrize(
    ("mode", "status", "allowed", "code"),
    [
        (Mode.COOP_NO_RFB, S.PLANNED, False, "zuw.bescheid_needs_escalation"),
        (Mode.NO_KP_YET, S.PLANNED, False, "zuw.bescheid_needs_escalation"),
        (Mode.SCHLICHTUNG_PENDING, S.PLANNED, False, "zuw.bescheid_needs_escalation"),
        (Mode.EXEMPT, S.PLANNED, False, "zuw.bescheid_needs_escalation"),
        (Mode.COOP_WITH_RFB, S.PLANNED, True, "zuw.bescheid_with_rfb"),
        (Mode.NO_KP_15_6, S.PLANNED, True, "zuw.bescheid_with_rfb"),
        (Mode.COOP_WITH_RFB, S.SCHREIBEN_ISSUED, False, "zuw.not_planned"),
    ],
)
def test_R_ZUW_3_zuweisungsbescheid_only_after_escalation(mode, status, allowed, code) -> None:
    decision = zuweisungsbescheid(
        case(mode=mode), assignment(status=status), after_abort=False, traeger_ruecksprache_on=None
    )
    assert_decision(decision, allowed=allowed, code=code, rule_id="R-ZUW-3")
    spec = LETTER_SPECS[LetterKind.ZUW_BESCHEID]
    assert (spec.with_rfb, spec.is_va) == (True, True)
    assert rechtsbehelfsbelehrung_required(LetterKind.ZUW_BESCHEID).allowed


@pytest.mark.parametrize(
    ("status", "via_bescheid", "allowed", "code", "rule_id"),
    [
        (S.BESCHEID_ISSUED, True, True, "zuw.replace_bescheid", "R-ZUW-4"),
        (S.REPORTED, True, True, "zuw.replace_bescheid", "R-ZUW-4"),
        (S.STARTED, True, True, "zuw.replace_bescheid", "R-ZUW-4"),
        (S.AUFGEHOBEN, True, False, "zuw.nothing_to_replace", "R-ZUW-4"),
        (S.COMPLETED, True, False, "zuw.nothing_to_replace", "R-ZUW-4"),
        (S.SCHREIBEN_ISSUED, False, False, "zuw.nothing_to_replace", "R-ZUW-4"),
    ],
)
def test_R_ZUW_4_new_bescheid_lifts_the_old_one(status, via_bescheid, allowed, code, rule_id) -> None:
    assert_decision(
        replace_bescheid(assignment(status=status, via_bescheid=via_bescheid)),
        allowed=allowed,
        code=code,
        rule_id=rule_id,
    )
    assert target(ASSIGNMENT_TRANSITIONS, S.BESCHEID_ISSUED, "aufheben") == S.AUFGEHOBEN


@pytest.mark.parametrize(
    ("status", "allowed", "code"),
    [
        (S.BESCHEID_ISSUED, True, "zuw.aufhebung_48"),
        (S.REPORTED, True, "zuw.aufhebung_48"),
        (S.STARTED, True, "zuw.aufhebung_48"),
        (S.AUFGEHOBEN, False, "zuw.nothing_to_lift"),
        (S.COMPLETED, False, "zuw.nothing_to_lift"),
    ],
)
def test_R_ZUW_5_bescheid_replaced_by_consensual_kp_is_aufgehoben(status, allowed, code) -> None:
    decision = aufhebung_by_consensual_kp(assignment(status=status, via_bescheid=True))
    reason = assert_decision(decision, allowed=allowed, code=code, rule_id="R-ZUW-5")
    assert "§ 48 SGB X" in reason.sources
    spec = LETTER_SPECS[LetterKind.AUFH_ZB]
    assert (spec.with_rfb, spec.is_va) == (False, True)  # a VA with Rechtsbehelfsbelehrung, no RFB
    assert rechtsbehelfsbelehrung_required(LetterKind.AUFH_ZB).allowed


# --- 3.8 Maßnahme-Abbruch ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "via_bescheid", "allowed", "code", "rule_id", "needs_review"),
    [
        (S.STARTED, False, True, "abb.clarifying_talk", "R-ABB-1", False),
        (S.STARTED, True, True, "abb.under_bescheid", "R-ABB-7", True),
        (S.REPORTED, False, False, "abb.not_started", "R-ABB-1", False),
        (S.SCHREIBEN_ISSUED, False, False, "abb.not_started", "R-ABB-1", False),
    ],
)
def test_R_ABB_1_abort_leads_to_a_clarifying_talk(status, via_bescheid, allowed, code, rule_id, needs_review) -> None:
    reason = assert_decision(
        abort_reported(assignment(status=status, via_bescheid=via_bescheid)),
        allowed=allowed,
        code=code,
        rule_id=rule_id,
    )
    assert reason.needs_legal_review is needs_review
    assert target(ASSIGNMENT_TRANSITIONS, S.STARTED, "abort") == S.CLARIFICATION


def outcome(status=S.CLARIFICATION, *, grund=False, reentry=False, attended=True, new_kp=False):
    return clarification_outcome(
        assignment(status=status),
        wichtiger_grund=grund,
        reentry_possible=reentry,
        talk_attended=attended,
        new_kp_possible=new_kp,
    )


@pytest.mark.parametrize(
    ("grund", "reentry", "new_kp", "code", "rule_id"),
    [
        (True, False, False, "abb.wichtiger_grund_adapt_kp", "R-ABB-2"),
        (True, True, True, "abb.wichtiger_grund_adapt_kp", "R-ABB-2"),
        (False, True, False, "abb.bescheid_for_rest_of_term", "R-ABB-3"),
    ],
)
def test_R_ABB_2_wichtiger_grund_adapts_the_kp_without_rfb(grund, reentry, new_kp, code, rule_id) -> None:
    assert_decision(outcome(grund=grund, reentry=reentry, new_kp=new_kp), allowed=True, code=code, rule_id=rule_id)
    assert target(ASSIGNMENT_TRANSITIONS, S.CLARIFICATION, "wichtiger_grund") == S.CANCELLED
    row = find_transition(KP_TRANSITIONS, KPStatus.ACTIVE, "review")
    assert row is not None
    assert "R-ABB-2" in row.guards


@pytest.mark.parametrize(
    ("status", "ruecksprache", "exempt", "allowed", "code", "rule_id"),
    [
        (S.CLARIFICATION, date(2026, 5, 4), False, True, "zuw.bescheid_after_abort", "R-ABB-3"),
        (S.CLARIFICATION, None, False, False, "zuw.traeger_ruecksprache_missing", "R-ABB-3"),
        (S.STARTED, date(2026, 5, 4), False, False, "zuw.not_in_clarification", "R-ABB-3"),
        (S.CLARIFICATION, date(2026, 5, 4), True, False, "zuw.exempt_type", "R-ESC-4"),
    ],
)
def test_R_ABB_3_bescheid_after_abort_needs_traeger_consultation(
    status, ruecksprache, exempt, allowed, code, rule_id
) -> None:
    decision = zuweisungsbescheid(
        case(mode=Mode.COOP_NO_RFB),
        assignment(status=status, exempt_type=exempt),
        after_abort=True,
        traeger_ruecksprache_on=ruecksprache,
    )
    assert_decision(decision, allowed=allowed, code=code, rule_id=rule_id)
    assert_decision(outcome(reentry=True), allowed=True, code="abb.bescheid_for_rest_of_term", rule_id="R-ABB-3")
    assert target(ASSIGNMENT_TRANSITIONS, S.CLARIFICATION, "reissue_by_bescheid") == S.BESCHEID_ISSUED


@pytest.mark.parametrize(
    ("valid_to", "on", "allowed", "code"),
    [
        (date(2026, 9, 2), date(2026, 5, 4), True, "zuw.remaining_term"),
        (date(2026, 9, 2), date(2026, 9, 1), True, "zuw.remaining_term"),
        (date(2026, 9, 2), date(2026, 9, 2), False, "zuw.no_remaining_term"),
        (None, date(2026, 5, 4), False, "zuw.no_remaining_term"),
    ],
)
def test_R_ABB_3_bescheid_valid_for_the_remaining_kp_term(valid_to, on, allowed, code) -> None:
    reason = assert_decision(
        remaining_term(active_plan(valid_to=valid_to), on), allowed=allowed, code=code, rule_id="R-ABB-3"
    )
    if allowed:
        assert reason.params["valid_to"] == valid_to.isoformat()


@pytest.mark.parametrize(
    ("attended", "new_kp", "code", "rule_id"),
    [
        (True, True, "abb.new_kp_with_bescheid", "R-ABB-4"),
        # The eLb does not agree to a new KP: R-ABB-5 applies instead.
        (True, False, "abb.kp_failed", "R-ABB-5"),
    ],
)
def test_R_ABB_4_reentry_impossible_leads_to_a_new_kp_with_bescheid(attended, new_kp, code, rule_id) -> None:
    assert_decision(outcome(attended=attended, new_kp=new_kp), allowed=True, code=code, rule_id=rule_id)
    assert target(ASSIGNMENT_TRANSITIONS, S.CLARIFICATION, "replace_by_new_kp") == S.REPLACED
    row = find_transition(MODE_TRANSITIONS, Mode.COOP_NO_RFB, "rfb_letter_issued")
    assert row is not None
    assert "R-ABB-4" in row.guards


@pytest.mark.parametrize(
    ("attended", "reentry", "new_kp", "code"),
    [
        (False, False, False, "abb.kp_failed"),
        (False, False, True, "abb.kp_failed"),
        (True, False, False, "abb.kp_failed"),
        # The talk was missed but the measure can continue: the KP has not failed (R-ESC-2 continues).
        (False, True, False, "abb.missed_talk_continue_escalation"),
        (False, True, True, "abb.missed_talk_continue_escalation"),
    ],
)
def test_R_ABB_5_kp_gescheitert(attended, reentry, new_kp, code) -> None:
    assert_decision(
        outcome(attended=attended, reentry=reentry, new_kp=new_kp), allowed=True, code=code, rule_id="R-ABB-5"
    )
    assert target(KP_TRANSITIONS, KPStatus.ACTIVE, "fail") == KPStatus.FAILED
    assert target(MODE_TRANSITIONS, Mode.COOP_NO_RFB, "kp_failed") == Mode.NO_KP_15_6
    assert target(ASSIGNMENT_TRANSITIONS, S.CLARIFICATION, "kp_failed") == S.KP_FAILED


@pytest.mark.parametrize("status", [S.STARTED, S.REPORTED, S.CANCELLED])
def test_R_ABB_5_outcome_only_from_clarification(status) -> None:
    assert_decision(outcome(status), allowed=False, code="abb.not_in_clarification", rule_id="R-ABB-1")


@pytest.mark.parametrize(
    ("status", "exempt", "allowed", "code", "rule_id"),
    [
        (EscalationStatus.BREACH_DETECTED, False, True, "escalation.abort_under_bescheid", "R-ABB-7"),
        (EscalationStatus.BREACH_DETECTED, True, False, "escalation.exempt_type", "R-ESC-4"),
        (EscalationStatus.INTERVENTION_INVITED, False, False, "escalation.wrong_step", "R-ABB-7"),
    ],
)
def test_R_ABB_7_abort_under_bescheid_is_a_proposal_for_direct_anhoerung(
    status, exempt, allowed, code, rule_id
) -> None:
    reason = assert_decision(
        direct_anhoerung_after_bescheid_abort(escalation(status=status, exempt_type=exempt)),
        allowed=allowed,
        code=code,
        rule_id=rule_id,
    )
    if allowed:
        # P9 and section 8 C2: an inference that needs the Rechtsstelle's sign-off.
        assert reason.needs_legal_review
    assert target(ASSIGNMENT_TRANSITIONS, S.STARTED, "abort_under_bescheid") == S.BREACH
    assert (
        target(ESCALATION_TRANSITIONS, EscalationStatus.BREACH_DETECTED, "direct_anhoerung")
        == EscalationStatus.ANHOERUNG
    )


@pytest.mark.parametrize(
    ("new_kp_after_abort", "exempt", "allowed", "code"),
    [
        (True, False, True, "zuw.bescheid_new_kp_after_abort"),
        (False, False, False, "zuw.bescheid_needs_escalation"),
        (True, True, False, "zuw.exempt_type"),
    ],
)
def test_R_ABB_4_new_kp_after_abort_backs_its_agreements_by_bescheid(new_kp_after_abort, exempt, allowed, code):
    decision = zuweisungsbescheid(
        case(mode=Mode.COOP_NO_RFB),
        assignment(exempt_type=exempt),
        after_abort=False,
        traeger_ruecksprache_on=None,
        new_kp_after_abort=new_kp_after_abort,
    )
    assert (decision.allowed, decision.codes) == (allowed, (code,))
