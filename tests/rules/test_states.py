"""The state machines of RULES.md section 5 as tables (rules/states.py), and random walks over them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rules.escalation import aufforderung_15_5, intervention_may_be_invited
from rules.facts import SchlichtungFacts
from rules.letters import LetterKind, rfb_block_allowed
from rules.schlichtung import schlichtung_end, schlichtung_expired, schlichtung_may_start
from rules.states import (
    ASSIGNMENT_TRANSITIONS,
    ESCALATION_TRANSITIONS,
    KP_TRANSITIONS,
    MODE_TRANSITIONS,
    NEW,
    AssignmentStatus,
    EscalationStatus,
    KPStatus,
    Mode,
    Transition,
    find_transition,
)
from tests.rules.support import case, escalation

K, M, A, E = KPStatus, Mode, AssignmentStatus, EscalationStatus
TABLES = {
    "kp": (KP_TRANSITIONS, KPStatus),
    "mode": (MODE_TRANSITIONS, Mode),
    "assignment": (ASSIGNMENT_TRANSITIONS, AssignmentStatus),
    "escalation": (ESCALATION_TRANSITIONS, EscalationStatus),
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_states_tables_are_deterministic_and_use_known_states(name: str) -> None:
    table, states = TABLES[name]
    pairs = [(source, row.event) for row in table for source in row.sources]
    assert len(pairs) == len(set(pairs)), "two rows answer the same (state, event)"
    known = {state.value for state in states} | {NEW}
    for row in table:
        assert row.sources <= known
        assert row.target in known
        assert row.target != NEW
        assert row.guards


# RULES.md 5.1: every row of the table, and transitions it does not allow.
@pytest.mark.parametrize(
    ("source", "event", "target"),
    [
        (NEW, "start", K.DRAFT),
        (K.DRAFT, "activate", K.ACTIVE),
        (K.DRAFT, "abandon", K.ABANDONED),
        (K.ACTIVE, "review", K.UNDER_REVIEW),
        (K.UNDER_REVIEW, "adapt", K.ACTIVE),
        (K.UNDER_REVIEW, "supersede", K.SUPERSEDED),
        (K.UNDER_REVIEW, "dispute", K.DISPUTED),
        (K.DISPUTED, "schlichtung_agreement", K.SUPERSEDED),
        (K.DISPUTED, "schlichtung_no_agreement", K.NOT_CONTINUED),
        (K.ACTIVE, "fail", K.FAILED),
        (K.ACTIVE, "end", K.ENDED),
        (K.UNDER_REVIEW, "end", K.ENDED),
        # Forbidden: approve twice, skip the review, revive a closed version.
        (K.ACTIVE, "activate", None),
        (K.DRAFT, "review", None),
        (K.DRAFT, "supersede", None),
        (K.ACTIVE, "supersede", None),
        (K.SUPERSEDED, "activate", None),
        (K.FAILED, "review", None),
        (K.ENDED, "activate", None),
        (K.ABANDONED, "activate", None),
        (K.NOT_CONTINUED, "adapt", None),
        (K.DRAFT, "fail", None),
    ],
)
def test_R_KP_2_kp_transitions(source: str, event: str, target: KPStatus | None) -> None:
    row = find_transition(KP_TRANSITIONS, source, event)
    assert (row.target if row else None) == target


@pytest.mark.parametrize(
    ("table", "event"),
    [
        (ESCALATION_TRANSITIONS, "aufforderung"),
        (ESCALATION_TRANSITIONS, "aufforderung_15_6"),
        (ASSIGNMENT_TRANSITIONS, "issue_bescheid"),
        (ASSIGNMENT_TRANSITIONS, "reissue_by_bescheid"),
        (MODE_TRANSITIONS, "rfb_letter_issued"),
    ],
)
def test_R_ESC_2_aufforderung_does_not_end_the_kp(table: tuple[Transition, ...], event: str) -> None:
    # RULES.md 5.1 invariant (000): an Aufforderung or Zuweisungsbescheid does not end the KP.
    assert any(row.event == event for row in table)
    assert all(row.event != event for row in KP_TRANSITIONS)


# RULES.md 5.2.
@pytest.mark.parametrize(
    ("source", "event", "target"),
    [
        (NEW, "case_created", M.NO_KP_YET),
        (M.NO_KP_YET, "kp_activated", M.COOP_NO_RFB),
        (M.NO_KP_15_6, "kp_activated", M.COOP_NO_RFB),
        (M.COOP_NO_RFB, "rfb_letter_issued", M.COOP_WITH_RFB),
        (M.COOP_WITH_RFB, "return_without_rfb", M.COOP_NO_RFB),
        (M.NO_KP_YET, "schlichtung_started", M.SCHLICHTUNG_PENDING),
        (M.COOP_NO_RFB, "schlichtung_started", M.SCHLICHTUNG_PENDING),
        (M.COOP_WITH_RFB, "schlichtung_started", M.SCHLICHTUNG_PENDING),
        (M.NO_KP_15_6, "schlichtung_started", M.SCHLICHTUNG_PENDING),  # after a failed KP (R-ABB-6)
        (M.SCHLICHTUNG_PENDING, "schlichtung_agreement", M.COOP_NO_RFB),
        (M.SCHLICHTUNG_PENDING, "schlichtung_expired", M.NO_KP_15_6),
        (M.NO_KP_YET, "no_kp_reached", M.NO_KP_15_6),
        (M.COOP_NO_RFB, "kp_failed", M.NO_KP_15_6),
        (M.COOP_WITH_RFB, "kp_failed", M.NO_KP_15_6),
        (M.NO_KP_YET, "exemption_recorded", M.EXEMPT),
        (M.COOP_WITH_RFB, "exemption_recorded", M.EXEMPT),
        (M.NO_KP_15_6, "exemption_recorded", M.EXEMPT),
        (M.EXEMPT, "exemption_lapsed", M.NO_KP_YET),
        (M.EXEMPT, "voluntary_kp_activated", M.COOP_NO_RFB),
        # Forbidden.
        (M.SCHLICHTUNG_PENDING, "exemption_recorded", None),
        (M.SCHLICHTUNG_PENDING, "schlichtung_started", None),
        (M.EXEMPT, "schlichtung_started", None),
        (M.COOP_NO_RFB, "return_without_rfb", None),
        (M.NO_KP_YET, "rfb_letter_issued", None),
        (M.COOP_NO_RFB, "exemption_lapsed", None),
        (M.NO_KP_YET, "kp_failed", None),
    ],
)
def test_R_SCH_1_mode_transitions(source: str, event: str, target: Mode | None) -> None:
    row = find_transition(MODE_TRANSITIONS, source, event)
    assert (row.target if row else None) == target


# RULES.md 5.3.
@pytest.mark.parametrize(
    ("source", "event", "target"),
    [
        (A.PLANNED, "issue_schreiben", A.SCHREIBEN_ISSUED),
        (A.PLANNED, "issue_bescheid", A.BESCHEID_ISSUED),
        (A.SCHREIBEN_ISSUED, "report", A.REPORTED),
        (A.BESCHEID_ISSUED, "report", A.REPORTED),
        (A.SCHREIBEN_ISSUED, "not_reported", A.NOT_REPORTED),
        (A.BESCHEID_ISSUED, "not_reported", A.NOT_REPORTED),
        (A.REPORTED, "start", A.STARTED),
        (A.STARTED, "complete", A.COMPLETED),
        (A.STARTED, "abort", A.CLARIFICATION),
        (A.CLARIFICATION, "wichtiger_grund", A.CANCELLED),
        (A.CLARIFICATION, "reissue_by_bescheid", A.BESCHEID_ISSUED),
        (A.CLARIFICATION, "replace_by_new_kp", A.REPLACED),
        (A.CLARIFICATION, "kp_failed", A.KP_FAILED),
        (A.STARTED, "abort_under_bescheid", A.BREACH),
        (A.SCHREIBEN_ISSUED, "withdraw", A.WITHDRAWN),
        (A.BESCHEID_ISSUED, "aufheben", A.AUFGEHOBEN),
        # Forbidden.
        (A.PLANNED, "start", None),
        (A.BESCHEID_ISSUED, "withdraw", None),
        (A.SCHREIBEN_ISSUED, "aufheben", None),
        (A.COMPLETED, "abort", None),
        (A.REPORTED, "complete", None),
    ],
)
def test_R_ZUW_1_assignment_transitions(source: str, event: str, target: AssignmentStatus | None) -> None:
    row = find_transition(ASSIGNMENT_TRANSITIONS, source, event)
    assert (row.target if row else None) == target


# RULES.md 5.4.
@pytest.mark.parametrize(
    ("source", "event", "target"),
    [
        (NEW, "breach", E.BREACH_DETECTED),
        (E.BREACH_DETECTED, "invite_intervention", E.INTERVENTION_INVITED),
        (E.INTERVENTION_INVITED, "intervention_attended", E.INTERVENTION_DONE),
        (E.INTERVENTION_INVITED, "intervention_missed", E.NOT_ATTENDED),
        (E.INTERVENTION_DONE, "wichtiger_grund", E.RESOLVED),
        (E.INTERVENTION_DONE, "aufforderung", E.AUFFORDERUNG_ISSUED),
        (E.NOT_ATTENDED, "aufforderung", E.AUFFORDERUNG_ISSUED),
        (E.INTERVENTION_DONE, "monitor", E.MONITORING),
        (E.NOT_ATTENDED, "monitor", E.MONITORING),
        (E.AUFFORDERUNG_ISSUED, "complied", E.RESOLVED),
        (E.AUFFORDERUNG_ISSUED, "anhoerung", E.ANHOERUNG),
        (E.ANHOERUNG, "anhoerung_closed", E.DECISION_PENDING),
        (E.DECISION_PENDING, "no_minderung", E.NO_MINDERUNG),
        (E.DECISION_PENDING, "minderung", E.MINDERUNG_FESTGESTELLT),
        (E.MINDERUNG_FESTGESTELLT, "minderung_period_over", E.ENDED),
        (E.MINDERUNG_FESTGESTELLT, "pflicht_erfuellt", E.AUFGEHOBEN),
        # Forbidden: skipping steps of the ladder.
        (E.BREACH_DETECTED, "aufforderung", None),
        (E.BREACH_DETECTED, "anhoerung", None),
        (E.INTERVENTION_INVITED, "aufforderung", None),
        (E.AUFFORDERUNG_ISSUED, "minderung", None),
        (E.ANHOERUNG, "minderung", None),
        (E.NOT_ATTENDED, "wichtiger_grund", None),
        (E.MONITORING, "aufforderung", None),
    ],
)
def test_R_ESC_1_escalation_transitions(source: str, event: str, target: EscalationStatus | None) -> None:
    row = find_transition(ESCALATION_TRANSITIONS, source, event)
    assert (row.target if row else None) == target


# --- Random event sequences (QUALITY.md: Hypothesis RuleBasedStateMachine) --------------------------


def apply(table: tuple[Transition, ...], state: str, event: str) -> str:
    row = find_transition(table, state, event)
    assert row is not None, f"the rules allowed {event} from {state}, but the state table has no row"
    return str(row.target)


class CaseMachine(RuleBasedStateMachine):
    """Drives a case through random days and events; the rules decide, the tables move the states.

    Invariants: a Schlichtung is never open past 4 weeks (R-SCH-2, the nightly job runs every day);
    an exempt obligation never reaches an Aufforderung (R-ESC-4); the KP never carries an RFB (R-KP-2).
    """

    @initialize()
    def setup(self) -> None:
        self.today = date(2026, 3, 1)
        self.mode = apply(MODE_TRANSITIONS, NEW, "case_created")
        self.mode = apply(MODE_TRANSITIONS, self.mode, "kp_activated")
        self.schlichtung: SchlichtungFacts | None = None
        self.ladders: list[tuple[bool, str]] = []

    def facts(self):
        return case(mode=Mode(self.mode), schlichtung=self.schlichtung)

    @rule(days=st.integers(min_value=1, max_value=10))
    def nights_pass(self, days: int) -> None:
        for _ in range(days):
            self.today += timedelta(days=1)
            if schlichtung_expired(self.facts(), on=self.today).allowed:
                self.mode = apply(MODE_TRANSITIONS, self.mode, "schlichtung_expired")
                assert self.schlichtung is not None
                self.schlichtung = SchlichtungFacts(self.schlichtung.started_on, self.today, running=False)

    @rule(after_failed_kp=st.booleans(), tl_approved=st.booleans())
    def request_schlichtung(self, after_failed_kp: bool, tl_approved: bool) -> None:
        decision = schlichtung_may_start(
            self.facts(), on=self.today, disagreement="Streit", after_failed_kp=after_failed_kp, tl_approved=tl_approved
        )
        if decision.allowed:
            self.mode = apply(MODE_TRANSITIONS, self.mode, "schlichtung_started")
            self.schlichtung = SchlichtungFacts(self.today, schlichtung_end(self.today), running=True)

    @rule()
    def schlichtung_agreement(self) -> None:
        if self.mode == Mode.SCHLICHTUNG_PENDING and self.schlichtung is not None:
            self.mode = apply(MODE_TRANSITIONS, self.mode, "schlichtung_agreement")
            self.schlichtung = SchlichtungFacts(self.schlichtung.started_on, self.today, running=False)

    @rule(exempt=st.booleans(), attended=st.booleans(), grund=st.booleans())
    def breach(self, exempt: bool, attended: bool, grund: bool) -> None:
        status = apply(ESCALATION_TRANSITIONS, NEW, "breach")
        esc = escalation(status=E(status), breach_date=self.today, exempt_type=exempt)
        if intervention_may_be_invited(esc).allowed:
            status = apply(ESCALATION_TRANSITIONS, status, "invite_intervention")
        status = apply(ESCALATION_TRANSITIONS, status, "intervention_attended" if attended else "intervention_missed")
        esc = escalation(status=E(status), breach_date=self.today, exempt_type=exempt, wichtiger_grund=grund)
        if aufforderung_15_5(self.facts(), esc).allowed:
            status = apply(ESCALATION_TRANSITIONS, status, "aufforderung")
        self.ladders.append((exempt, status))

    @invariant()
    def schlichtung_never_open_past_four_weeks(self) -> None:
        if self.mode == Mode.SCHLICHTUNG_PENDING:
            assert self.schlichtung is not None
            assert self.today < self.schlichtung.started_on + timedelta(days=28)

    @invariant()
    def no_aufforderung_for_exempt_types(self) -> None:
        assert all(not exempt for exempt, status in self.ladders if status == E.AUFFORDERUNG_ISSUED)

    @invariant()
    def kp_never_carries_an_rfb(self) -> None:
        assert not rfb_block_allowed(LetterKind.KP_DOKUMENT).allowed


CaseMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None, database=None)
test_case_machine = CaseMachine.TestCase
