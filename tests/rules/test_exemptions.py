"""Exceptions from the KP and the Kennung KP (RULES.md 3.13; 001 §8; P6)."""

from __future__ import annotations

from datetime import date

import pytest

from rules.exemptions import (
    einstellungszusage,
    exemption_lapses,
    exemption_may_be_recorded,
    kennung_kp,
    paragraph_10,
    profillage_i,
    recheck_continues,
    recheck_due,
)
from rules.facts import ExemptionReason
from rules.states import MODE_TRANSITIONS, Mode, find_transition
from tests.rules.support import assert_decision, case, exemption

ON = date(2026, 3, 2)
EZ, P10, PL1 = ExemptionReason.EINSTELLUNGSZUSAGE, ExemptionReason.PARAGRAPH_10, ExemptionReason.PROFILLAGE_I


@pytest.mark.parametrize(
    ("job_start", "firm", "support_needed", "allowed", "code"),
    [
        (date(2026, 4, 27), True, False, True, "exemption.ez"),  # exactly 8 weeks (56 days)
        (date(2026, 3, 2), True, False, True, "exemption.ez"),
        (date(2026, 4, 28), True, False, False, "exemption.ez_too_far"),
        (date(2026, 3, 1), True, False, False, "exemption.ez_start_past"),
        (date(2026, 4, 1), False, False, False, "exemption.ez_not_firm"),
        (None, True, False, False, "exemption.ez_not_firm"),
        (date(2026, 4, 1), True, True, False, "exemption.ez_support_needed"),
    ],
)
def test_R_EXC_1_einstellungszusage_within_eight_weeks(job_start, firm, support_needed, allowed, code) -> None:
    facts = exemption(EZ, job_start=job_start, firm_offer=firm, further_support_needed=support_needed)
    reason = assert_decision(einstellungszusage(facts, on=ON), allowed=allowed, code=code, rule_id="R-EXC-1")
    if allowed:
        assert reason.params["until"] == job_start.isoformat()
        assert recheck_due(facts) == job_start  # exempt_until = start date (D-04)
    recorded = exemption_may_be_recorded(case(mode=Mode.NO_KP_YET, current_plan=None), facts, on=ON)
    assert recorded.allowed is allowed


@pytest.mark.parametrize(
    ("job_started", "job_start", "firm", "on", "lapses", "code"),
    [
        # Recorded Mon 9 Mar 2026, start Thu 30 Apr 2026 (52 days later); 1 May is a public holiday:
        # start + 3 working days = Wed 6 May (BW).
        (False, date(2026, 4, 30), True, date(2026, 5, 6), False, "exemption.ez_waiting"),
        (False, date(2026, 4, 30), True, date(2026, 5, 7), True, "exemption.job_not_started"),
        (True, date(2026, 4, 30), True, date(2026, 5, 7), False, "exemption.job_started"),
        # The edge of R-EXC-1: the offer is withdrawn, or the start moves beyond the 8 weeks (56 days).
        (False, date(2026, 4, 30), False, date(2026, 3, 20), True, "exemption.ez_withdrawn"),
        (False, date(2026, 5, 4), True, date(2026, 3, 20), False, "exemption.ez_waiting"),
        (False, date(2026, 5, 5), True, date(2026, 3, 20), True, "exemption.ez_postponed"),
    ],
)
def test_R_EXC_1_exemption_lapses_when_the_job_does_not_start(job_started, job_start, firm, on, lapses, code) -> None:
    facts = exemption(EZ, recorded_on=date(2026, 3, 9), job_start=job_start, firm_offer=firm, job_started=job_started)
    assert_decision(exemption_lapses(facts, on=on, bundesland="BW"), allowed=lapses, code=code, rule_id="R-EXC-1")
    row = find_transition(MODE_TRANSITIONS, Mode.EXEMPT, "exemption_lapsed")
    assert row is not None
    assert row.target == Mode.NO_KP_YET


@pytest.mark.parametrize(
    ("ended", "zukunftsziel", "allowed", "codes"),
    [
        (False, False, True, ("exemption.p10",)),
        (False, True, True, ("exemption.p10", "exemption.p10_kp_sinnvoll")),
        (True, False, False, ("exemption.p10_ended",)),
    ],
)
def test_R_EXC_2_paragraph_10_exemption_and_kp_prompt(ended, zukunftsziel, allowed, codes) -> None:
    facts = exemption(P10, paragraph10_ended=ended, zukunftsziel=zukunftsziel)
    decision = paragraph_10(facts)
    assert decision.allowed is allowed
    assert decision.codes == codes
    assert all(r.rule_id == "R-EXC-2" and r.sources for r in decision.reasons)
    lapse = exemption_lapses(facts, on=ON, bundesland="NW")
    assert lapse.allowed is ended


@pytest.mark.parametrize(
    ("recorded_on", "recheck"),
    [
        (date(2026, 3, 2), date(2026, 9, 2)),
        (date(2026, 8, 31), date(2027, 2, 28)),
        (date(2027, 8, 31), date(2028, 2, 29)),
    ],
)
def test_R_EXC_2_recheck_at_the_latest_after_six_months(recorded_on: date, recheck: date) -> None:
    assert recheck_due(exemption(P10, recorded_on=recorded_on)) == recheck
    assert recheck_due(exemption(PL1, recorded_on=recorded_on)) == recheck


@pytest.mark.parametrize(
    ("vollzeit", "selbststaendig", "ausgeschoepft", "keine_verringerung", "allowed", "code"),
    [
        (True, False, False, True, True, "exemption.pl1"),
        (False, True, False, True, True, "exemption.pl1"),
        (False, False, True, True, True, "exemption.pl1"),
        (True, False, False, False, False, "exemption.pl1_reduction_possible"),
        (False, False, False, True, False, "exemption.pl1_not_working"),
        (False, False, False, False, False, "exemption.pl1_not_working"),
    ],
)
def test_R_EXC_3_profillage_i_only_when_all_options_are_exhausted(
    vollzeit, selbststaendig, ausgeschoepft, keine_verringerung, allowed, code
) -> None:
    facts = exemption(
        PL1,
        vollzeit=vollzeit,
        selbststaendig=selbststaendig,
        ausgeschoepft=ausgeschoepft,
        keine_verringerung_6_monate=keine_verringerung,
    )
    assert_decision(profillage_i(facts), allowed=allowed, code=code, rule_id="R-EXC-3")
    # The exemption lapses when the person no longer works as required (D-03).
    lapse = exemption_lapses(facts, on=ON, bundesland="NW")
    assert lapse.allowed is not (vollzeit or selbststaendig or ausgeschoepft)


@pytest.mark.parametrize(
    ("kennung", "reason_text", "allowed", "code"),
    [
        (True, "Arbeitsaufnahme bei Muster GmbH zum 01.04.2026 zugesagt", True, "exemption.kennung_set"),
        (True, "Einstellungszusage liegt vor", True, "exemption.kennung_set"),
        (False, "Arbeitsaufnahme bei Muster GmbH zum 01.04.2026 zugesagt", False, "exemption.kennung_missing"),
        (True, "EINSTELLUNGSZUSAGE", False, "exemption.kennung_reason_not_meaningful"),  # only a reason code
        (True, "", False, "exemption.kennung_reason_not_meaningful"),
        (True, "   ", False, "exemption.kennung_reason_not_meaningful"),
    ],
)
@pytest.mark.parametrize("reason", [EZ, P10, PL1])
def test_R_EXC_4_every_exemption_needs_kennung_kp_with_a_reason(kennung, reason_text, allowed, code, reason) -> None:
    facts = exemption(reason, kennung_kp=kennung, kennung_reason=reason_text)
    assert_decision(kennung_kp(facts), allowed=allowed, code=code, rule_id="R-EXC-4")
    if not allowed:
        recorded = exemption_may_be_recorded(case(mode=Mode.NO_KP_YET, current_plan=None), facts, on=ON)
        assert_decision(recorded, allowed=False, code=code, rule_id="R-EXC-4")


@pytest.mark.parametrize(
    ("mode", "bulk", "allowed", "code"),
    [
        (Mode.NO_KP_YET, False, True, "exemption.individual"),
        (Mode.COOP_NO_RFB, False, True, "exemption.individual"),
        (Mode.NO_KP_YET, True, False, "exemption.no_bulk"),
        (Mode.SCHLICHTUNG_PENDING, False, False, "exemption.schlichtung_running"),
        (Mode.EXEMPT, False, False, "exemption.already_exempt"),
    ],
)
def test_R_EXC_5_exemptions_are_individual_decisions(mode: Mode, bulk: bool, allowed: bool, code: str) -> None:
    facts = exemption(P10)
    decision = exemption_may_be_recorded(case(mode=mode, current_plan=None), facts, on=ON, bulk=bulk)
    assert_decision(decision, allowed=allowed, code=code, rule_id="R-EXC-5")
    row = find_transition(MODE_TRANSITIONS, mode, "exemption_recorded")
    assert (row is not None) is (mode is not Mode.SCHLICHTUNG_PENDING)


@pytest.mark.parametrize(
    ("reason", "overrides", "allowed", "code", "rule_id"),
    [
        (P10, {}, True, "exemption.p10_continues", "R-EXC-2"),
        (P10, {"paragraph10_ended": True}, False, "exemption.p10_ended", "R-EXC-2"),
        (PL1, {"vollzeit": True, "keine_verringerung_6_monate": True}, True, "exemption.pl1_continues", "R-EXC-3"),
        (PL1, {"vollzeit": True}, False, "exemption.pl1_reduction_possible", "R-EXC-3"),
        (EZ, {"job_start": date(2026, 4, 1), "firm_offer": True}, False, "exemption.ez_no_recheck", "R-EXC-1"),
    ],
)
def test_R_EXC_2_and_R_EXC_3_a_recheck_sets_the_next_one_six_months_later(reason, overrides, allowed, code, rule_id):
    decision, next_check = recheck_continues(exemption(reason, **overrides), on=date(2026, 8, 31))
    assert_decision(decision, allowed=allowed, code=code, rule_id=rule_id)
    # D-02 / D-03 with the end-of-month clamp: 31 Aug + 6 months = 28 Feb.
    assert next_check == (date(2027, 2, 28) if allowed else date(2026, 8, 31))
