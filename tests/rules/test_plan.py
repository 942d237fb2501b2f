"""Potenzialanalyse and Kooperationsplan rules (RULES.md 3.1, 3.2, 3.5, 3.9)."""

from __future__ import annotations

from datetime import date

import pytest

from rules.dates import add_months
from rules.facts import ContentKind, ExemptionReason
from rules.letters import LetterKind, recipients_for
from rules.plan import (
    bg_member_content,
    case_may_be_closed,
    eigenbemuehung_valid,
    infoblatt_handed_out,
    jointly_written,
    kp_content_complete,
    kp_may_activate,
    kp_may_be_abandoned,
    kp_may_start,
    kp_missing_flag,
    kp_term,
    kp_without_rfb,
    minor_kp,
    mode_after_activation,
    obligation_check_date,
    pa_complete,
    pa_due_on_case_creation,
    return_without_rfb,
    review_after_adaptation,
    review_may_start,
    rfb_applies,
    rfb_in_cooperation,
    vb_explained,
)
from rules.states import MODE_TRANSITIONS, NEW, KPStatus, Mode, find_transition
from tests.rules.support import active_plan, assert_decision, case, complete_draft, eb, exemption, schlichtung

S1, S2, S3, S4, S5, S6 = (
    ContentKind.SOLL_1,
    ContentKind.SOLL_2,
    ContentKind.SOLL_3,
    ContentKind.SOLL_4,
    ContentKind.SOLL_5,
    ContentKind.SOLL_6,
)


# --- 3.1 Potenzialanalyse ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pa_is_complete", "allowed", "code"),
    [(True, True, "pa.complete"), (False, False, "pa.incomplete")],
)
def test_R_PA_1_kp_needs_a_complete_potenzialanalyse(pa_is_complete: bool, allowed: bool, code: str) -> None:
    facts = case(mode=Mode.NO_KP_YET, current_plan=None, pa_complete=pa_is_complete)
    assert_decision(pa_complete(facts), allowed=allowed, code=code, rule_id="R-PA-1")
    # The DRAFT → ACTIVE guard (RULES.md 5.1) follows the PA, everything else being complete.
    activation = kp_may_activate(facts, complete_draft())
    assert activation.allowed is allowed
    if not allowed:
        assert activation.codes == ("pa.incomplete",)


@pytest.mark.parametrize("leistungsbeginn", [date(2026, 1, 1), date(2026, 2, 28), date(2028, 2, 29)])
def test_R_PA_2_pa_is_due_from_the_start_of_the_case(leistungsbeginn: date) -> None:
    reason = assert_decision(pa_due_on_case_creation(leistungsbeginn), allowed=True, code="pa.due", rule_id="R-PA-2")
    assert reason.params["due_on"] == leistungsbeginn.isoformat()  # "unverzüglich": no waiting period
    created = find_transition(MODE_TRANSITIONS, NEW, "case_created")
    assert created is not None
    assert created.target == Mode.NO_KP_YET
    assert "R-PA-2" in created.guards


# --- 3.2 Kooperationsplan ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "has_draft", "exemption_reason", "allowed", "code", "rule_id"),
    [
        (Mode.NO_KP_YET, False, None, True, "kp.should_be_made", "R-KP-1"),
        (Mode.NO_KP_15_6, False, None, True, "kp.should_be_made", "R-KP-1"),
        (Mode.COOP_WITH_RFB, False, None, True, "kp.should_be_made", "R-KP-1"),
        (Mode.NO_KP_YET, True, None, False, "kp.draft_exists", "R-KP-1"),
        (Mode.EXEMPT, False, ExemptionReason.PARAGRAPH_10, True, "kp.voluntary_paragraph_10", "R-EXC-2"),
        (Mode.EXEMPT, False, ExemptionReason.EINSTELLUNGSZUSAGE, False, "kp.case_exempt", "R-EXC-4"),
        (Mode.EXEMPT, False, ExemptionReason.PROFILLAGE_I, False, "kp.case_exempt", "R-EXC-4"),
    ],
)
def test_R_KP_1_kp_should_be_started_unless_exempt(mode, has_draft, exemption_reason, allowed, code, rule_id) -> None:
    facts = case(
        mode=mode,
        current_plan=None,
        draft=complete_draft() if has_draft else None,
        exemption=exemption(exemption_reason) if exemption_reason else None,
    )
    assert_decision(kp_may_start(facts), allowed=allowed, code=code, rule_id=rule_id)


@pytest.mark.parametrize(
    ("mode", "has_plan", "flagged"),
    [
        (Mode.NO_KP_YET, False, True),
        (Mode.NO_KP_15_6, False, True),
        (Mode.COOP_NO_RFB, True, False),
        (Mode.COOP_WITH_RFB, True, False),
        (Mode.EXEMPT, False, False),
    ],
)
def test_R_KP_1_dashboard_flag_kp_fehlt(mode: Mode, has_plan: bool, flagged: bool) -> None:
    facts = case(mode=mode, current_plan=active_plan() if has_plan else None)
    code = "kp.missing" if flagged else "kp.present_or_exempt"
    assert_decision(kp_missing_flag(facts), allowed=flagged, code=code, rule_id="R-KP-1")


@pytest.mark.parametrize(
    ("has_rfb_block", "allowed", "code"),
    [(False, True, "kp.no_rfb"), (True, False, "kp.never_rfb")],
)
def test_R_KP_2_kp_never_carries_an_rfb(has_rfb_block: bool, allowed: bool, code: str) -> None:
    plan = complete_draft(has_rfb_block=has_rfb_block)
    assert_decision(kp_without_rfb(plan), allowed=allowed, code=code, rule_id="R-KP-2")
    activation = kp_may_activate(case(mode=Mode.NO_KP_YET, current_plan=None), plan)
    assert activation.allowed is allowed
    if not allowed:
        assert_decision(activation, allowed=False, code="kp.never_rfb", rule_id="R-KP-2")


@pytest.mark.parametrize(
    "status", [KPStatus.ACTIVE, KPStatus.UNDER_REVIEW, KPStatus.SUPERSEDED, KPStatus.FAILED, KPStatus.ENDED]
)
def test_R_KP_2_only_a_draft_can_be_activated(status: KPStatus) -> None:
    decision = kp_may_activate(case(), complete_draft(status=status))
    assert_decision(decision, allowed=False, code="kp.not_draft", rule_id="R-KP-2")


@pytest.mark.parametrize(
    ("gemeinsam", "allowed", "code"),
    [(True, True, "kp.joint"), (False, False, "kp.not_joint")],
)
def test_R_KP_3_kp_reflects_the_joint_outcome(gemeinsam: bool, allowed: bool, code: str) -> None:
    plan = complete_draft(gemeinsam_erarbeitet=gemeinsam)
    assert_decision(jointly_written(plan), allowed=allowed, code=code, rule_id="R-KP-3")
    assert kp_may_activate(case(), plan).allowed is allowed


@pytest.mark.parametrize(
    ("valid_from", "requested_valid_to", "valid_to", "review_due"),
    [
        # Default term of 6 months with end-of-month clamping.
        (date(2026, 1, 31), None, date(2026, 7, 31), date(2026, 7, 31)),
        (date(2026, 8, 31), None, date(2027, 2, 28), date(2027, 2, 28)),
        (date(2027, 8, 31), None, date(2028, 2, 29), date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), None, date(2028, 8, 29), date(2028, 8, 29)),
        (date(2026, 3, 29), None, date(2026, 9, 29), date(2026, 9, 29)),  # start on the summer-time change
        (date(2026, 12, 15), None, date(2027, 6, 15), date(2027, 6, 15)),  # across the year end
        # A shorter requested term is kept, and the review comes with it.
        (date(2026, 3, 2), date(2026, 5, 31), date(2026, 5, 31), date(2026, 5, 31)),
        # A longer term is kept, but the review stays at 6 months at the latest.
        (date(2026, 3, 2), date(2026, 12, 31), date(2026, 12, 31), date(2026, 9, 2)),
        (date(2026, 8, 31), date(2027, 8, 31), date(2027, 8, 31), date(2027, 2, 28)),
        # An end date before the start is no term at all: the default applies.
        (date(2026, 3, 2), date(2026, 3, 1), date(2026, 9, 2), date(2026, 9, 2)),
    ],
)
def test_R_KP_4_term_and_review_date(valid_from, requested_valid_to, valid_to, review_due) -> None:
    term = kp_term(valid_from, requested_valid_to)
    assert (term.valid_from, term.valid_to, term.review_due) == (valid_from, valid_to, review_due)
    assert term.review_due <= add_months(valid_from, 6)
    assert term.reason.rule_id == "R-KP-4"
    assert term.reason.sources
    assert term.reason.params == {"months": 6, "review_due": review_due.isoformat()}


@pytest.mark.parametrize(
    ("filled", "not_relevant", "allowed", "codes_and_items"),
    [
        ({S1, S2, S5}, {S3, S4, S6}, True, [("kp.content_complete", None)]),
        ({S1, S2, S3, S4, S5, S6}, set(), True, [("kp.content_complete", None)]),
        ({S1, S5}, {S3, S4, S6}, False, [("kp.soll_missing", "SOLL_2")]),
        # Mandatory items cannot be dismissed as "nicht relevant".
        ({S1, S2}, {S3, S4, S5, S6}, False, [("kp.soll_missing", "SOLL_5")]),
        # "Forgotten" and "not relevant" stay distinct.
        ({S1, S2, S5}, {S4, S6}, False, [("kp.soll_undecided", "SOLL_3")]),
        (
            set(),
            set(),
            False,
            [
                ("kp.soll_missing", "SOLL_1"),
                ("kp.soll_missing", "SOLL_2"),
                ("kp.soll_missing", "SOLL_5"),
                ("kp.soll_undecided", "SOLL_3"),
                ("kp.soll_undecided", "SOLL_4"),
                ("kp.soll_undecided", "SOLL_6"),
            ],
        ),
    ],
)
def test_R_KP_5_soll_inhalte_filled_or_explicitly_not_relevant(filled, not_relevant, allowed, codes_and_items) -> None:
    plan = complete_draft(filled=frozenset(filled), not_relevant=frozenset(not_relevant))
    decision = kp_content_complete(plan)
    assert decision.allowed is allowed
    assert [(r.code, r.params.get("item")) for r in decision.reasons] == codes_and_items
    assert all(r.rule_id == "R-KP-5" and r.sources for r in decision.reasons)
    assert kp_may_activate(case(), plan).allowed is allowed


@pytest.mark.parametrize(
    ("next_goal", "steps", "codes"),
    [
        (True, 1, []),
        (False, 3, ["kp.next_goal_missing"]),
        (True, 0, ["kp.steps_missing"]),
        (False, 0, ["kp.next_goal_missing", "kp.steps_missing"]),
    ],
)
def test_R_KP_5_the_kp_records_the_next_goal_and_the_next_steps(next_goal, steps, codes) -> None:
    decision = kp_content_complete(complete_draft(naechstes_ziel=next_goal, steps=steps))
    assert decision.allowed is (codes == [])
    assert [reason.code for reason in decision.reasons] == (codes or ["kp.content_complete"])
    assert all(reason.rule_id == "R-KP-5" for reason in decision.reasons)


@pytest.mark.parametrize(
    ("same_bg", "allowed", "code"),
    [(True, True, "kp.bg_member_linked"), (False, False, "kp.bg_member_foreign")],
)
def test_R_KP_6_bg_members_are_linked_only_within_the_bedarfsgemeinschaft(
    same_bg: bool, allowed: bool, code: str
) -> None:
    assert_decision(bg_member_content(same_bedarfsgemeinschaft=same_bg), allowed=allowed, code=code, rule_id="R-KP-6")


@pytest.mark.parametrize(
    ("age", "code", "needs_review"),
    [(15, "kp.minor_without_gv_consent", True), (17, "kp.minor_without_gv_consent", True), (18, "kp.adult", False)],
)
def test_R_KP_8_minor_makes_kp_without_gv_consent(age: int, code: str, needs_review: bool) -> None:
    reason = assert_decision(minor_kp(age), allowed=True, code=code, rule_id="R-KP-8")
    # The legal basis of a minor's capacity is UNVERIFIED (RULES.md R-KP-8): flagged for the Rechtsstelle.
    assert reason.needs_legal_review is needs_review


@pytest.mark.parametrize("vertretungen", [0, 1, 2])
def test_R_KP_8_minor_kp_activation_and_recipient(vertretungen: int) -> None:
    minor = case(mode=Mode.NO_KP_YET, current_plan=None, birth_date=date(2009, 6, 1), vertretungen=vertretungen)
    assert kp_may_activate(minor, complete_draft()).allowed  # no gV consent is asked for
    plan = recipients_for(
        LetterKind.KP_DOKUMENT, birth_date=minor.birth_date, letter_date=date(2026, 3, 2), vertretungen=vertretungen
    )
    assert (plan.to_elb, plan.to_vertretungen, plan.copy_to_elb) == (True, False, False)


@pytest.mark.parametrize(
    ("mode", "with_rfb", "allowed", "code"),
    [
        (Mode.COOP_NO_RFB, False, True, "kp.rfb_context_ok"),
        (Mode.COOP_NO_RFB, True, False, "kp.no_rfb_while_cooperating"),
        (Mode.COOP_WITH_RFB, True, True, "kp.rfb_context_ok"),
        (Mode.NO_KP_15_6, True, True, "kp.rfb_context_ok"),
    ],
)
def test_R_KP_9_nothing_carries_an_rfb_while_cooperation_works(
    mode: Mode, with_rfb: bool, allowed: bool, code: str
) -> None:
    assert_decision(rfb_in_cooperation(mode, with_rfb=with_rfb), allowed=allowed, code=code, rule_id="R-KP-9")


# --- 3.5 Eigenbemühungen ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_count", "zero_reason", "due_day", "allowed", "code"),
    [
        (5, "", 5, True, "eb.valid"),
        (0, "", 5, False, "eb.zero_without_reason"),
        (0, "   ", 5, False, "eb.zero_without_reason"),
        (0, "Reha-Verfahren läuft", 5, True, "eb.valid"),
        (3, "", 1, True, "eb.valid"),
        (3, "", 28, True, "eb.valid"),
        (3, "", 0, False, "eb.due_day_invalid"),
        (3, "", 29, False, "eb.due_day_invalid"),  # no 29th in every month
        (3, "", 31, False, "eb.due_day_invalid"),
    ],
)
def test_R_EB_1_eigenbemuehung_item_is_individual_and_provable(min_count, zero_reason, due_day, allowed, code) -> None:
    item = eb(min_count=min_count, zero_reason=zero_reason, nachweis_due_day=due_day)
    assert_decision(eigenbemuehung_valid(item), allowed=allowed, code=code, rule_id="R-EB-1")
    assert kp_may_activate(case(), complete_draft(eigenbemuehungen=(eb(), item))).allowed is allowed


@pytest.mark.parametrize(
    ("vb_erlaeutert", "allowed", "code"),
    [(True, True, "eb.vb_explained"), (False, False, "eb.vb_not_documented")],
)
def test_R_EB_2_vermittlungsbudget_explained(vb_erlaeutert: bool, allowed: bool, code: str) -> None:
    assert_decision(vb_explained(vb_erlaeutert), allowed=allowed, code=code, rule_id="R-EB-2")


@pytest.mark.parametrize(
    ("infoblatt_on", "vermerk", "allowed", "code"),
    [
        (date(2026, 3, 2), "Beratungsvermerk vom 02.03.2026", True, "kp.infoblatt_documented"),
        (None, "Beratungsvermerk vom 02.03.2026", False, "kp.infoblatt_missing"),
        (date(2026, 3, 2), "", False, "kp.infoblatt_missing"),
        (date(2026, 3, 2), "  ", False, "kp.infoblatt_missing"),
    ],
)
def test_R_EB_3_infoblatt_vb_blocks_activation(infoblatt_on, vermerk: str, allowed: bool, code: str) -> None:
    plan = complete_draft(infoblatt_on=infoblatt_on, beratungsvermerk=vermerk)
    assert_decision(infoblatt_handed_out(plan), allowed=allowed, code=code, rule_id="R-EB-3")
    activation = kp_may_activate(case(), plan)
    assert activation.allowed is allowed
    if not allowed:
        assert activation.codes == ("kp.infoblatt_missing",)


@pytest.mark.parametrize(
    ("due_on", "review_due", "check_on"),
    [
        (date(2026, 4, 5), date(2026, 9, 2), date(2026, 4, 5)),
        (None, date(2026, 9, 2), date(2026, 9, 2)),
    ],
)
def test_R_MON_1_every_obligation_has_a_check_date(due_on, review_due, check_on) -> None:
    assert obligation_check_date(due_on=due_on, review_due=review_due) == check_on


# --- 3.9 Rückkehr ohne RFB and Fortschreibung ---------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "reason_text", "reliable_since", "on", "allowed", "code"),
    [
        (Mode.COOP_NO_RFB, "zuverlässig", date(2026, 1, 15), date(2026, 6, 1), False, "ret.not_with_rfb"),
        (Mode.COOP_WITH_RFB, "", date(2026, 1, 15), date(2026, 6, 1), False, "ret.reason_required"),
        (Mode.COOP_WITH_RFB, "  ", date(2026, 1, 15), date(2026, 6, 1), False, "ret.reason_required"),
        (Mode.COOP_WITH_RFB, "zuverlässig", None, date(2026, 6, 1), False, "ret.not_reliable_long_enough"),
        (
            Mode.COOP_WITH_RFB,
            "zuverlässig",
            date(2026, 1, 15),
            date(2026, 4, 14),
            False,
            "ret.not_reliable_long_enough",
        ),
        (Mode.COOP_WITH_RFB, "zuverlässig", date(2026, 1, 15), date(2026, 4, 15), True, "ret.allowed"),
        (Mode.COOP_WITH_RFB, "zuverlässig", date(2025, 11, 30), date(2026, 2, 28), True, "ret.allowed"),
    ],
)
def test_R_RET_1_return_to_cooperation_without_rfb(mode, reason_text, reliable_since, on, allowed, code) -> None:
    facts = case(mode=mode, reliable_since=reliable_since)
    decision = return_without_rfb(facts, on=on, reason_text=reason_text, return_min_months=3)
    assert_decision(decision, allowed=allowed, code=code, rule_id="R-RET-1")


@pytest.mark.parametrize(("open_bescheide", "aufhebung_needed"), [(0, False), (1, True), (3, True)])
def test_R_RET_1_open_zuweisungsbescheide_must_be_aufgehoben(open_bescheide: int, aufhebung_needed: bool) -> None:
    facts = case(mode=Mode.COOP_WITH_RFB, reliable_since=date(2026, 1, 1), open_bescheide=open_bescheide)
    decision = return_without_rfb(
        facts, on=date(2026, 6, 1), reason_text="seit 5 Monaten zuverlässig", return_min_months=3
    )
    assert decision.allowed
    assert ("ret.aufhebung_needed" in decision.codes) is aufhebung_needed
    if aufhebung_needed:
        reason = assert_decision(decision, allowed=True, code="ret.aufhebung_needed", rule_id="R-ZUW-5")
        assert reason.params["count"] == open_bescheide


@pytest.mark.parametrize(
    ("mode", "return_wanted", "new_mode", "code", "rule_id"),
    [
        (Mode.NO_KP_YET, False, Mode.COOP_NO_RFB, "mode.kp_active", "R-KP-1"),
        (Mode.NO_KP_15_6, False, Mode.COOP_NO_RFB, "mode.kp_active", "R-KP-1"),
        (Mode.COOP_NO_RFB, False, Mode.COOP_NO_RFB, "mode.kp_active", "R-KP-1"),
        (Mode.COOP_WITH_RFB, False, Mode.COOP_WITH_RFB, "mode.stays_with_rfb", "R-RET-1"),
        (Mode.COOP_WITH_RFB, True, Mode.COOP_NO_RFB, "mode.return_without_rfb", "R-RET-1"),
        (Mode.EXEMPT, False, Mode.COOP_NO_RFB, "mode.voluntary_kp", "R-EXC-2"),
    ],
)
def test_R_RET_1_mode_after_kp_activation(mode, return_wanted, new_mode, code, rule_id) -> None:
    result, reason = mode_after_activation(case(mode=mode), return_without_rfb=return_wanted)
    assert result is new_mode
    assert (reason.code, reason.rule_id) == (code, rule_id)
    assert reason.sources


@pytest.mark.parametrize(
    ("status", "on", "early_trigger", "allowed", "code"),
    [
        (KPStatus.ACTIVE, date(2026, 9, 1), False, True, "review.before_due"),
        (KPStatus.ACTIVE, date(2026, 9, 2), False, True, "review.due"),
        (KPStatus.ACTIVE, date(2026, 10, 1), False, True, "review.due"),
        (KPStatus.ACTIVE, date(2026, 4, 1), True, True, "review.early_trigger"),
        (KPStatus.DRAFT, date(2026, 9, 2), False, False, "kp.not_active"),
        (KPStatus.UNDER_REVIEW, date(2026, 9, 2), True, False, "kp.not_active"),
        (KPStatus.SUPERSEDED, date(2026, 9, 2), False, False, "kp.not_active"),
    ],
)
def test_R_FS_1_review_at_the_latest_after_six_months(status, on, early_trigger, allowed, code) -> None:
    plan = active_plan(status=status, review_due=date(2026, 9, 2))
    assert_decision(
        review_may_start(plan, on=on, early_trigger=early_trigger), allowed=allowed, code=code, rule_id="R-FS-1"
    )


@pytest.mark.parametrize(
    ("mode", "applies", "code", "rule_id"),
    [
        (Mode.COOP_NO_RFB, False, "rfb.not_while_cooperating", "R-KP-9"),
        (Mode.COOP_WITH_RFB, True, "rfb.applies_after_escalation", "R-ESC-2"),
        (Mode.NO_KP_15_6, True, "rfb.applies_without_kp", "R-NOKP-1"),
        (Mode.SCHLICHTUNG_PENDING, False, "rfb.schlichtung_running", "R-SCH-3"),
        (Mode.EXEMPT, False, "rfb.exempt", "R-EXC-4"),
        (Mode.NO_KP_YET, False, "rfb.no_kp_yet", "R-INV-1"),
    ],
)
def test_R_KP_9_case_header_says_whether_an_rfb_applies_and_why(mode, applies, code, rule_id):
    assert_decision(rfb_applies(case(mode=mode)), allowed=applies, code=code, rule_id=rule_id)


@pytest.mark.parametrize(
    ("mode", "draft", "current", "note", "allowed", "code", "rule_id"),
    [
        (
            Mode.NO_KP_YET,
            True,
            False,
            "Keine Einigung über die Zahl der Bewerbungen.",
            True,
            "nokp.no_agreement",
            "R-NOKP-1",
        ),
        (Mode.NO_KP_YET, True, False, "  ", False, "nokp.disagreement_required", "R-NOKP-1"),
        (Mode.NO_KP_YET, False, False, "Keine Einigung.", False, "kp.no_draft", "R-NOKP-1"),
        # A dispute about the Fortschreibung of a plan in force goes to the Schlichtung (R-SCH-1) ...
        (Mode.COOP_NO_RFB, True, True, "Keine Einigung.", False, "nokp.current_kp_use_schlichtung", "R-SCH-1"),
        # ... and during a Schlichtung its own result decides (R-SCH-4).
        (Mode.SCHLICHTUNG_PENDING, True, False, "Keine Einigung.", False, "nokp.wait_for_schlichtung", "R-SCH-4"),
    ],
)
def test_R_NOKP_1_no_kp_came_about_in_the_beratung(mode, draft, current, note, allowed, code, rule_id) -> None:
    facts = case(mode=mode, draft=complete_draft() if draft else None, current_plan=active_plan() if current else None)
    assert_decision(kp_may_be_abandoned(facts, note=note), allowed=allowed, code=code, rule_id=rule_id)


@pytest.mark.parametrize(
    ("valid_to", "on", "allowed", "code", "next_review"),
    [
        # A long term: the next review 6 months after this one (end-of-month clamp: 31.08. → 28.02.).
        (date(2027, 12, 31), date(2026, 8, 31), True, "review.adapted", date(2027, 2, 28)),
        # Never after the end of the term.
        (date(2026, 12, 31), date(2026, 8, 31), True, "review.adapted", date(2026, 12, 31)),
        # An ended term is fortgeschrieben, not adapted.
        (date(2026, 8, 31), date(2026, 8, 31), False, "review.term_ended", date(2026, 8, 31)),
    ],
)
def test_R_FS_1_an_adapted_plan_is_reviewed_again_within_six_months(valid_to, on, allowed, code, next_review) -> None:
    plan = active_plan(status=KPStatus.UNDER_REVIEW, valid_to=valid_to)
    decision, review = review_after_adaptation(plan, on=on)
    assert_decision(decision, allowed=allowed, code=code, rule_id="R-FS-1")
    assert review == next_review
    assert not review_after_adaptation(active_plan(), on=on)[0].allowed  # only a plan under review


@pytest.mark.parametrize(
    ("closed_on", "running_schlichtung", "note", "allowed", "code", "rule_id"),
    [
        (date(2026, 3, 1), False, "Arbeitsaufnahme in Vollzeit.", True, "case.closed", "RULES-5.1"),
        (date(2026, 3, 3), False, "Arbeitsaufnahme in Vollzeit.", False, "case.closed_in_future", "RULES-5.1"),
        (date(2025, 12, 31), False, "Arbeitsaufnahme in Vollzeit.", False, "case.closed_before_start", "RULES-5.1"),
        (date(2026, 3, 1), False, "Umzug", False, "case.close_note_required", "RULES-5.1"),
        (date(2026, 3, 1), True, "Arbeitsaufnahme in Vollzeit.", False, "case.schlichtung_running", "R-SCH-2"),
    ],
)
def test_RULES_5_1_a_case_is_closed_when_the_leistungsbezug_ends(
    closed_on, running_schlichtung, note, allowed, code, rule_id
) -> None:
    facts = case(schlichtung=schlichtung(date(2026, 2, 20)) if running_schlichtung else None)
    decision = case_may_be_closed(
        facts, closed_on=closed_on, leistungsbeginn=date(2026, 1, 1), on=date(2026, 3, 2), note=note
    )
    assert decision.allowed is allowed
    reason = decision.reasons[0]
    assert (reason.code, reason.rule_id) == (code, rule_id)
