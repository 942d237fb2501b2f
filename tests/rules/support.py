"""Shared builders and assertions for the rule tests (RULES.md section 3; QUALITY.md "Tests")."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from rules.decision import Decision, Reason
from rules.facts import (
    AssignmentFacts,
    CaseFacts,
    ContentKind,
    EigenbemuehungFacts,
    EscalationFacts,
    ExemptionFacts,
    ExemptionReason,
    PlanFacts,
    SchlichtungFacts,
)
from rules.schlichtung import schlichtung_end
from rules.states import AssignmentStatus, EscalationStatus, KPStatus, Mode

ADULT = date(1990, 5, 17)


def reason_for(decision: Decision, code: str) -> Reason:
    matches = [reason for reason in decision.reasons if reason.code == code]
    assert matches, f"{code} not in {decision.codes}"
    return matches[0]


def assert_decision(decision: Decision, *, allowed: bool, code: str, rule_id: str) -> Reason:
    """The behaviour (allowed or not) and why: the reason's code, its rule ID and its legal sources."""
    assert decision.allowed is allowed, decision
    reason = reason_for(decision, code)
    assert reason.rule_id == rule_id, reason
    assert reason.sources, reason
    assert all(source.strip() for source in reason.sources), reason
    if not allowed:
        # A refusal carries only refusal reasons (combine), each with a rule ID and sources.
        assert all(r.rule_id.startswith("R-") and r.sources for r in decision.reasons), decision
    return reason


def eb(**overrides: Any) -> EigenbemuehungFacts:
    return replace(
        EigenbemuehungFacts(min_count=5, zero_reason="", nachweis_form="Liste", nachweis_due_day=5), **overrides
    )


def complete_draft(**overrides: Any) -> PlanFacts:
    """A KP draft that passes every DRAFT → ACTIVE guard (RULES.md 5.1)."""
    plan = PlanFacts(
        status=KPStatus.DRAFT,
        filled=frozenset({ContentKind.SOLL_1, ContentKind.SOLL_2, ContentKind.SOLL_5}),
        not_relevant=frozenset({ContentKind.SOLL_3, ContentKind.SOLL_4, ContentKind.SOLL_6}),
        gemeinsam_erarbeitet=True,
        infoblatt_on=date(2026, 3, 2),
        beratungsvermerk="Beratungsvermerk vom 02.03.2026",
        eigenbemuehungen=(eb(),),
        naechstes_ziel=True,
        steps=3,
    )
    return replace(plan, **overrides)


def active_plan(**overrides: Any) -> PlanFacts:
    plan = complete_draft(
        status=KPStatus.ACTIVE,
        valid_from=date(2026, 3, 2),
        valid_to=date(2026, 9, 2),
        review_due=date(2026, 9, 2),
    )
    return replace(plan, **overrides)


def case(**overrides: Any) -> CaseFacts:
    base = CaseFacts(mode=Mode.COOP_NO_RFB, birth_date=ADULT, pa_complete=True, current_plan=active_plan())
    return replace(base, **overrides)


def assignment(**overrides: Any) -> AssignmentFacts:
    base = AssignmentFacts(
        status=AssignmentStatus.PLANNED,
        exempt_type=False,
        is_agh=False,
        via_bescheid=False,
        start_date=date(2026, 4, 1),
        end_date=date(2026, 9, 30),
        rueckmeldung_due=date(2026, 3, 20),
    )
    return replace(base, **overrides)


def escalation(**overrides: Any) -> EscalationFacts:
    base = EscalationFacts(status=EscalationStatus.BREACH_DETECTED, breach_date=date(2026, 4, 10))
    return replace(base, **overrides)


def schlichtung(
    started_on: date, *, ends_on: date | None = None, running: bool = True, **overrides: Any
) -> SchlichtungFacts:
    end = ends_on if ends_on is not None else schlichtung_end(started_on)
    return replace(SchlichtungFacts(started_on=started_on, ends_on=end, running=running), **overrides)


def exemption(reason: ExemptionReason, **overrides: Any) -> ExemptionFacts:
    base = ExemptionFacts(
        reason=reason,
        recorded_on=date(2026, 3, 2),
        recheck_due=date(2026, 9, 2),
        kennung_kp=True,
        kennung_reason="Einstellungszusage der Firma Muster GmbH ab 01.04.2026 liegt schriftlich vor",
    )
    return replace(base, **overrides)
