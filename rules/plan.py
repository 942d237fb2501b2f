"""Potenzialanalyse and Kooperationsplan rules (RULES.md 3.1, 3.2, 3.5, 3.9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rules.dates import add_months
from rules.decision import Decision, Reason, allow, combine, refuse
from rules.facts import (
    MANDATORY_SOLL,
    OPTIONAL_SOLL,
    CaseFacts,
    EigenbemuehungFacts,
    ExemptionReason,
    PlanFacts,
)
from rules.parameters import int_param
from rules.states import KPStatus, Mode


def pa_complete(facts: CaseFacts) -> Decision:
    """R-PA-1: a KP can only be created on top of a complete Potenzialanalyse."""
    sources = ("§ 15 Abs. 1 SGB II", "001 §3")
    if facts.pa_complete:
        return allow(Reason("pa.complete", "R-PA-1", sources))
    return refuse(Reason("pa.incomplete", "R-PA-1", sources))


def pa_due_on_case_creation(leistungsbeginn: date) -> Decision:
    """R-PA-2: the PA is started "unverzüglich"; a PA_FAELLIG task exists from the case's start."""
    return allow(
        Reason("pa.due", "R-PA-2", ("§ 15 Abs. 1 SGB II", "001 §4.1"), {"due_on": leistungsbeginn.isoformat()})
    )


def kp_may_start(facts: CaseFacts) -> Decision:
    """R-KP-1 / R-EXC-2: start a KP draft, unless one exists or the case is exempt (a § 10 case may opt in)."""
    if facts.draft is not None:
        return refuse(Reason("kp.draft_exists", "R-KP-1", ("001 §4.1",)))
    if facts.mode is Mode.EXEMPT:
        exemption = facts.exemption
        if exemption is not None and exemption.reason is ExemptionReason.PARAGRAPH_10:
            return allow(Reason("kp.voluntary_paragraph_10", "R-EXC-2", ("§ 10 SGB II", "001 §8.2")))
        return refuse(Reason("kp.case_exempt", "R-EXC-4", ("001 §8", "001 §8.3")))
    return allow(Reason("kp.should_be_made", "R-KP-1", ("§ 15 Abs. 2 SGB II", "001 §4.1")))


def kp_missing_flag(facts: CaseFacts) -> Decision:
    """R-KP-1: a case without a current KP and without an exemption is flagged KP_FEHLT."""
    missing = facts.current_plan is None and facts.mode in (Mode.NO_KP_YET, Mode.NO_KP_15_6)
    reason = Reason("kp.missing" if missing else "kp.present_or_exempt", "R-KP-1", ("§ 15 Abs. 2 SGB II", "001 §4.1"))
    return allow(reason) if missing else refuse(reason)


@dataclass(frozen=True)
class KPTerm:
    valid_from: date
    valid_to: date
    review_due: date
    reason: Reason


def kp_term(valid_from: date, requested_valid_to: date | None = None) -> KPTerm:
    """R-KP-4: default 6 months; the review is due at the latest 6 months after the start.

    A shorter term is allowed; a longer one keeps its end date but the review stays at 6 months.
    """
    months = int_param("kp.review_months", valid_from)
    six_months = add_months(valid_from, months)
    valid_to = requested_valid_to or six_months
    if valid_to < valid_from:
        valid_to = six_months
    review_due = min(valid_to, six_months)
    return KPTerm(
        valid_from,
        valid_to,
        review_due,
        Reason(
            "kp.review_due",
            "R-KP-4",
            ("§ 15 Abs. 3 SGB II", "001 §4.3", "001 §6.4"),
            {"months": months, "review_due": review_due.isoformat()},
        ),
    )


def kp_content_complete(plan: PlanFacts) -> Decision:
    """R-KP-5: Soll-Inhalte 1, 2, 5 filled; 3, 4, 6 filled or explicitly "nicht relevant"."""
    sources = ("§ 15 Abs. 2 SGB II", "001 §5")
    missing = [kind.value for kind in MANDATORY_SOLL if kind not in plan.filled]
    undecided = [kind.value for kind in OPTIONAL_SOLL if kind not in plan.filled and kind not in plan.not_relevant]
    reasons = [Reason("kp.soll_missing", "R-KP-5", sources, {"item": item}) for item in missing]
    reasons += [Reason("kp.soll_undecided", "R-KP-5", sources, {"item": item}) for item in undecided]
    # R-KP-5 "The KP also records the next goal, the next steps"; RULES.md 6.2 makes both required fields of the
    # KP document.
    if not plan.naechstes_ziel:
        reasons.append(Reason("kp.next_goal_missing", "R-KP-5", (*sources, "RULES.md 6.2")))
    if plan.steps < 1:
        reasons.append(Reason("kp.steps_missing", "R-KP-5", (*sources, "RULES.md 6.2")))
    if reasons:
        return refuse(*reasons)
    return allow(Reason("kp.content_complete", "R-KP-5", sources))


def eigenbemuehung_valid(item: EigenbemuehungFacts) -> Decision:
    """R-EB-1: each EB item has kind, count, period, form and due date; a count of 0 needs a reason."""
    sources = ("001 §5.2",)
    if item.min_count == 0 and not item.zero_reason.strip():
        return refuse(Reason("eb.zero_without_reason", "R-EB-1", sources))
    if not 1 <= item.nachweis_due_day <= 28:
        return refuse(Reason("eb.due_day_invalid", "R-EB-1", sources, {"day": item.nachweis_due_day}))
    return allow(Reason("eb.valid", "R-EB-1", sources))


def infoblatt_handed_out(plan: PlanFacts) -> Decision:
    """R-EB-3: activation needs the Info-Blatt VB handed out, with date and Beratungsvermerk."""
    sources = ("001 §5.2",)
    if plan.infoblatt_on is None or not plan.beratungsvermerk.strip():
        return refuse(Reason("kp.infoblatt_missing", "R-EB-3", sources))
    return allow(Reason("kp.infoblatt_documented", "R-EB-3", sources))


def jointly_written(plan: PlanFacts) -> Decision:
    """R-KP-3: the KP reflects the joint outcome of the talk (a checklist item, checked by a human)."""
    sources = ("001 §1",)
    if not plan.gemeinsam_erarbeitet:
        return refuse(Reason("kp.not_joint", "R-KP-3", sources))
    return allow(Reason("kp.joint", "R-KP-3", sources))


def kp_without_rfb(plan: PlanFacts) -> Decision:
    """R-KP-2: the KP carries no RFB, no signature; it is not a contract and not legally binding."""
    sources = ("000", "001 §1", "001 §4.1")
    if plan.has_rfb_block:
        return refuse(Reason("kp.never_rfb", "R-KP-2", sources))
    return allow(Reason("kp.no_rfb", "R-KP-2", sources))


def kp_may_activate(facts: CaseFacts, plan: PlanFacts) -> Decision:
    """DRAFT → ACTIVE (RULES.md 5.1): R-PA-1, R-KP-2, R-KP-3, R-KP-5, R-EB-1, R-EB-3.

    R-KP-8: a minor's KP needs no consent of the gesetzliche Vertretung, so nothing is asked here.
    """
    if plan.status is not KPStatus.DRAFT:
        return refuse(Reason("kp.not_draft", "R-KP-2", ("RULES.md 5.1",), {"status": plan.status.value}))
    return combine(
        pa_complete(facts),
        kp_without_rfb(plan),
        jointly_written(plan),
        kp_content_complete(plan),
        *(eigenbemuehung_valid(item) for item in plan.eigenbemuehungen),
        infoblatt_handed_out(plan),
    )


def mode_after_activation(facts: CaseFacts, *, return_without_rfb: bool) -> tuple[Mode, Reason]:
    """RULES.md 5.2 on activation: COOP_NO_RFB, unless the case is in COOP_WITH_RFB and stays there (R-RET-1)."""
    if facts.mode is Mode.COOP_WITH_RFB and not return_without_rfb:
        return Mode.COOP_WITH_RFB, Reason("mode.stays_with_rfb", "R-RET-1", ("001 §6.3",))
    if facts.mode is Mode.EXEMPT:
        return Mode.COOP_NO_RFB, Reason("mode.voluntary_kp", "R-EXC-2", ("001 §8.2",))
    if facts.mode is Mode.COOP_WITH_RFB:
        return Mode.COOP_NO_RFB, Reason("mode.return_without_rfb", "R-RET-1", ("001 §6.3", "000"))
    return Mode.COOP_NO_RFB, Reason("mode.kp_active", "R-KP-1", ("§ 15 Abs. 2 SGB II", "001 §4.1"))


def return_without_rfb(facts: CaseFacts, *, on: date, reason_text: str, return_min_months: int) -> Decision:
    """R-RET-1: at a Fortschreibung in COOP_WITH_RFB the IFK may return to cooperation without RFB.

    A reason is required. How long "reliable" means is a Jobcenter setting (PRACTICE).
    """
    sources = ("001 §6.3", "000")
    if facts.mode is not Mode.COOP_WITH_RFB:
        return refuse(Reason("ret.not_with_rfb", "R-RET-1", sources, {"mode": facts.mode.value}))
    if not reason_text.strip():
        return refuse(Reason("ret.reason_required", "R-RET-1", sources))
    if facts.reliable_since is None or add_months(facts.reliable_since, return_min_months) > on:
        return refuse(
            Reason("ret.not_reliable_long_enough", "R-RET-1", sources, {"months": return_min_months}),
        )
    reasons = [Reason("ret.allowed", "R-RET-1", sources, {"months": return_min_months})]
    if facts.open_bescheide:
        reasons.append(
            Reason("ret.aufhebung_needed", "R-ZUW-5", ("§ 48 SGB X", "001 §6.5"), {"count": facts.open_bescheide})
        )
    return allow(*reasons)


def review_may_start(plan: PlanFacts, *, on: date, early_trigger: bool) -> Decision:
    """R-FS-1: ACTIVE → UNDER_REVIEW when the review is due, or earlier on a trigger."""
    sources = ("§ 15 Abs. 3 SGB II", "001 §6.4")
    if plan.status is not KPStatus.ACTIVE:
        return refuse(Reason("kp.not_active", "R-FS-1", sources, {"status": plan.status.value}))
    if early_trigger:
        return allow(Reason("review.early_trigger", "R-FS-1", sources))
    if plan.review_due is not None and on >= plan.review_due:
        return allow(Reason("review.due", "R-FS-1", sources, {"review_due": plan.review_due.isoformat()}))
    # An early review on the IFK's own initiative is always possible ("spätestens nach 6 Monaten").
    return allow(Reason("review.before_due", "R-FS-1", sources))


def vb_explained(plan_vb_erlaeutert: bool) -> Decision:
    """R-EB-2: the IFK explains the Vermittlungsbudget in the talk (a checklist item, not a blocking guard)."""
    sources = ("001 §5.2",)
    if plan_vb_erlaeutert:
        return allow(Reason("eb.vb_explained", "R-EB-2", sources))
    return refuse(Reason("eb.vb_not_documented", "R-EB-2", sources))


def bg_member_content(*, same_bedarfsgemeinschaft: bool) -> Decision:
    """R-KP-6: Kann-Inhalt 2 links members of the same Bedarfsgemeinschaft by ID, never by free text."""
    sources = ("001 §5", "§ 15 Abs. 2 SGB II")
    if not same_bedarfsgemeinschaft:
        return refuse(Reason("kp.bg_member_foreign", "R-KP-6", sources))
    return allow(Reason("kp.bg_member_linked", "R-KP-6", sources))


def minor_kp(age: int) -> Decision:
    """R-KP-8: a KP may be made with a minor without the consent of the gesetzliche Vertretung."""
    return allow(
        Reason(
            "kp.minor_without_gv_consent" if age < 18 else "kp.adult",
            "R-KP-8",
            ("001 §4.1",),
            {"age": age},
            needs_legal_review=age < 18,
        )
    )


def rfb_in_cooperation(mode: Mode, *, with_rfb: bool) -> Decision:
    """R-KP-9: while cooperation works (COOP_NO_RFB), nothing in the KP context carries an RFB."""
    sources = ("000", "001 §5.1")
    if mode is Mode.COOP_NO_RFB and with_rfb:
        return refuse(Reason("kp.no_rfb_while_cooperating", "R-KP-9", sources))
    return allow(Reason("kp.rfb_context_ok", "R-KP-9", sources, {"mode": mode.value}))


def obligation_check_date(*, due_on: date | None, review_due: date) -> date:
    """R-MON-1: each KP obligation has a check date: its own due date, else the review date."""
    return due_on if due_on is not None else review_due


def rfb_applies(facts: CaseFacts) -> Decision:
    """Whether demands currently carry an RFB, by cooperation mode (RULES.md 5.2): allowed = RFB applies.

    R-KP-9: not while cooperation works; R-ESC-2 / R-ABB-3: after an Aufforderung or Zuweisungsbescheid;
    R-NOKP-1: without a KP; R-SCH-3: a Schlichtung blocks a § 31 Minderung.
    """
    mode = facts.mode
    if mode is Mode.COOP_WITH_RFB:
        return allow(Reason("rfb.applies_after_escalation", "R-ESC-2", ("§ 15 Abs. 5 SGB II", "001 §6.1", "001 §6.3")))
    if mode is Mode.NO_KP_15_6:
        return allow(Reason("rfb.applies_without_kp", "R-NOKP-1", ("§ 15 Abs. 6 SGB II", "001 §7", "000")))
    if mode is Mode.SCHLICHTUNG_PENDING:
        return refuse(Reason("rfb.schlichtung_running", "R-SCH-3", ("§ 15a Abs. 3 SGB II",)))
    if mode is Mode.EXEMPT:
        return refuse(Reason("rfb.exempt", "R-EXC-4", ("001 §8",)))
    if mode is Mode.NO_KP_YET:
        return refuse(Reason("rfb.no_kp_yet", "R-INV-1", ("§ 15 Abs. 4 SGB II", "001 §4.2")))
    return refuse(Reason("rfb.not_while_cooperating", "R-KP-9", ("000", "001 §5.1")))


def kp_may_be_abandoned(facts: CaseFacts, *, note: str) -> Decision:
    """R-NOKP-1 (RULES.md 5.1 DRAFT → ABANDONED): no KP came about in the Beratung. A dispute about the
    Fortschreibung of a KP in force goes to the Schlichtung (R-SCH-1); during a Schlichtung its own result
    decides (R-SCH-4)."""
    sources = ("§ 15 Abs. 6 SGB II", "001 §7")
    if facts.draft is None:
        return refuse(Reason("kp.no_draft", "R-NOKP-1", sources))
    if facts.mode is Mode.SCHLICHTUNG_PENDING:
        return refuse(Reason("nokp.wait_for_schlichtung", "R-SCH-4", ("§ 15a SGB II", "001 §7")))
    if facts.current_plan is not None:
        return refuse(Reason("nokp.current_kp_use_schlichtung", "R-SCH-1", ("§ 15a SGB II",)))
    if not note.strip():
        return refuse(Reason("nokp.disagreement_required", "R-NOKP-1", sources))
    return allow(Reason("nokp.no_agreement", "R-NOKP-1", sources))


def review_after_adaptation(plan: PlanFacts, *, on: date) -> tuple[Decision, date]:
    """R-FS-1 "ADAPTED" / R-KP-4: a plan reviewed and adapted in the same version is next reviewed at the latest
    6 months after this review, and never after the end of its term. A term that has already ended cannot be
    adapted: the plan is fortgeschrieben (new version) instead."""
    sources = ("§ 15 Abs. 3 SGB II", "001 §6.4")
    months = int_param("kp.review_months", on)
    if plan.status is not KPStatus.UNDER_REVIEW:
        return refuse(Reason("kp.not_under_review", "R-FS-1", sources, {"status": plan.status.value})), on
    if plan.valid_to is not None and plan.valid_to <= on:
        return refuse(Reason("review.term_ended", "R-FS-1", sources, {"valid_to": plan.valid_to.isoformat()})), on
    next_review = add_months(on, months)
    if plan.valid_to is not None:
        next_review = min(next_review, plan.valid_to)
    reason = Reason("review.adapted", "R-FS-1", sources, {"review_due": next_review.isoformat(), "months": months})
    return allow(reason), next_review


def case_may_be_closed(facts: CaseFacts, *, closed_on: date, leistungsbeginn: date, on: date, note: str) -> Decision:
    """RULES.md 5.1 ("ACTIVE, UNDER_REVIEW → ENDED: Leistungsbezug ends"): the case is closed on the day the
    Leistungsbezug ended; its plan in force ends and its open deadlines are closed. A running Schlichtung ends
    first with its own result (R-SCH-2, R-SCH-4)."""
    sources = ("RULES.md 5.1",)
    if facts.schlichtung is not None and facts.schlichtung.running:
        return refuse(Reason("case.schlichtung_running", "R-SCH-2", ("§ 15a Abs. 4 SGB II", "RULES.md 5.1")))
    if closed_on > on:
        return refuse(Reason("case.closed_in_future", "RULES-5.1", sources))
    if closed_on < leistungsbeginn:
        return refuse(Reason("case.closed_before_start", "RULES-5.1", sources, {"start": leistungsbeginn.isoformat()}))
    if len(note.split()) < 2:
        return refuse(Reason("case.close_note_required", "RULES-5.1", sources))
    return allow(Reason("case.closed", "RULES-5.1", sources, {"closed_on": closed_on.isoformat()}))
