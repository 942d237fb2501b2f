"""Decisions of the rule engine: allowed or not, and always why (DESIGN.md "The rule engine")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from rules.ruleset import CURRENT

ParamValue = str | int | bool | None


@dataclass(frozen=True)
class Reason:
    """One reason: a stable code, the rule it comes from, its legal sources and parameters.

    German sentences for each code live outside rules/ (kooperationsplan/reasons.py).
    """

    code: str
    rule_id: str
    sources: tuple[str, ...]
    params: Mapping[str, ParamValue] = field(default_factory=lambda: MappingProxyType({}))
    needs_legal_review: bool = False

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError(f"Reason {self.code} needs at least one legal source")
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[Reason, ...]
    rule_set: str = CURRENT.id

    def __post_init__(self) -> None:
        if not self.reasons:
            raise ValueError("A decision needs at least one reason")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(reason.rule_id for reason in self.reasons))

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(source for reason in self.reasons for source in reason.sources))

    @property
    def needs_legal_review(self) -> bool:
        return any(reason.needs_legal_review for reason in self.reasons)


def allow(*reasons: Reason) -> Decision:
    return Decision(True, reasons)


def refuse(*reasons: Reason) -> Decision:
    return Decision(False, reasons)


def combine(*decisions: Decision) -> Decision:
    """All guards must pass; the reasons of refusals win, otherwise all reasons are kept."""
    refused = tuple(reason for decision in decisions if not decision.allowed for reason in decision.reasons)
    if refused:
        return Decision(False, refused)
    return Decision(True, tuple(reason for decision in decisions for reason in decision.reasons))
