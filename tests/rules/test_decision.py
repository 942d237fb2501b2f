"""Invariants of Decision and Reason (DESIGN.md "The rule engine": never an empty reason list)."""

from __future__ import annotations

import pytest

from rules.decision import Decision, Reason, allow, combine, refuse
from rules.ruleset import CURRENT

OK = Reason("test.ok", "R-PA-1", ("§ 15 Abs. 1 SGB II",))
OTHER_OK = Reason("test.other_ok", "R-KP-5", ("001 §5",))
NO = Reason("test.no", "R-KP-2", ("001 §1",))
OTHER_NO = Reason("test.other_no", "R-EB-3", ("001 §5.2",), needs_legal_review=True)


@pytest.mark.parametrize("allowed", [True, False])
def test_decision_without_reasons_raises(allowed: bool) -> None:
    with pytest.raises(ValueError, match="at least one reason"):
        Decision(allowed, ())


@pytest.mark.parametrize("factory", [allow, refuse])
def test_decision_helpers_without_reasons_raise(factory) -> None:
    with pytest.raises(ValueError, match="at least one reason"):
        factory()


def test_reason_without_sources_raises() -> None:
    with pytest.raises(ValueError, match="legal source"):
        Reason("test.unsourced", "R-PA-1", ())


@pytest.mark.parametrize(
    ("decisions", "allowed", "codes"),
    [
        ((allow(OK), allow(OTHER_OK)), True, ("test.ok", "test.other_ok")),
        ((allow(OK), refuse(NO)), False, ("test.no",)),
        ((refuse(NO), allow(OK), refuse(OTHER_NO)), False, ("test.no", "test.other_no")),
        ((refuse(NO),), False, ("test.no",)),
    ],
)
def test_decision_combine_keeps_only_refusal_reasons(decisions, allowed: bool, codes: tuple[str, ...]) -> None:
    combined = combine(*decisions)
    assert combined.allowed is allowed
    assert combined.codes == codes


def test_decision_combine_of_nothing_is_not_a_silent_allow() -> None:
    # An empty guard list would be an "allowed" without a reason: the invariant refuses it.
    with pytest.raises(ValueError, match="at least one reason"):
        combine()


@pytest.mark.parametrize(
    ("decision", "rule_ids", "sources", "needs_review"),
    [
        (allow(OK, OK), ("R-PA-1",), ("§ 15 Abs. 1 SGB II",), False),
        (refuse(NO, OTHER_NO), ("R-KP-2", "R-EB-3"), ("001 §1", "001 §5.2"), True),
    ],
)
def test_decision_aggregates_rule_ids_sources_and_review_flag(decision, rule_ids, sources, needs_review) -> None:
    assert decision.rule_ids == rule_ids
    assert decision.sources == sources
    assert decision.needs_legal_review is needs_review
    assert decision.rule_set == CURRENT.id


def test_decision_reason_params_are_read_only() -> None:
    params = {"percent": 10}
    reason = Reason("test.params", "R-SAN-1", ("§ 31a SGB II",), params)
    params["percent"] = 30
    assert reason.params["percent"] == 10
    with pytest.raises(TypeError):
        reason.params["percent"] = 30  # type: ignore[index]
