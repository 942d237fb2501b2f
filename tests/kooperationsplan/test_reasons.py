"""Every reason code the rule engine or the services can produce has a German sentence."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kooperationsplan.reasons import TEXTS, explain, sentence, source_label
from rules.decision import Reason

ROOT = Path(__file__).resolve().parents[2]


def _constants(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _constants(node.body) + _constants(node.orelse)
    return []


def reason_codes_in(path: Path) -> set[str]:
    """First arguments of every `Reason(...)` call; a variable is resolved to the strings assigned to it."""
    tree = ast.parse(path.read_text())
    assigned: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).extend(_constants(node.value))
    codes: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Reason" and node.args:
            first = node.args[0]
            found = _constants(first)
            if isinstance(first, ast.Name):
                found = assigned.get(first.id, [])
            assert found, f"{path.name}:{node.lineno}: reason code is not a literal"
            codes.update(found)
    return codes


def all_codes() -> set[str]:
    files = [*ROOT.glob("rules/*.py"), *ROOT.glob("kooperationsplan/*.py")]
    return set().union(*(reason_codes_in(path) for path in files))


def test_every_reason_code_has_a_german_sentence():
    codes = all_codes()
    assert len(codes) > 150
    assert sorted(codes - TEXTS.keys()) == []


def test_the_catalogue_has_no_orphans():
    assert sorted(TEXTS.keys() - all_codes()) == []


def test_sentences_render_parameters_and_dates():
    assert sentence("kp.review_due", {"months": 6, "review_due": "2027-02-28"}) == (
        "Der Kooperationsplan ist spätestens nach 6 Monaten zu überprüfen: bis zum 28.02.2027."
    )
    assert "…" in sentence("kp.review_due", {})


@pytest.mark.parametrize(
    ("source", "label"),
    [
        ("001 §6.1", "Fachliche Hinweise KP, Nr. 6.1"),
        ("P5", "Produktentscheidung P5"),
        ("§ 15 Abs. 5 SGB II", "§ 15 Abs. 5 SGB II"),
        ("RULES.md 5.4", "Regelkatalog, Abschnitt 5.4"),
    ],
)
def test_sources_are_rendered_for_readers(source, label):
    assert source_label(source) == label


def test_explain_keeps_rule_id_and_legal_review_flag():
    reason = Reason(
        "invitation.first_without_rfb", "R-INV-1", ("§ 15 Abs. 4 SGB II", "001 §4.2"), needs_legal_review=True
    )
    explained = explain(reason)
    assert explained["rule_id"] == "R-INV-1"
    assert explained["sources"] == ["§ 15 Abs. 4 SGB II", "Fachliche Hinweise KP, Nr. 4.2"]
    assert explained["needs_legal_review"] is True
