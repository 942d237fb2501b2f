"""P10: list every rule decision and parameter marked for legal review, for the Rechtsstelle."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import rules
from kooperationsplan.reasons import TEXTS
from rules.parameters import PARAMETERS, Status

RULES_DIR = Path(rules.__file__).resolve().parent


@dataclass(frozen=True)
class ReviewItem:
    rule_id: str
    code: str
    text: str
    where: str


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _flagged(call: ast.Call) -> bool:
    for keyword in call.keywords:
        if keyword.arg == "needs_legal_review":
            return not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False)
    return False


def flagged_reasons() -> list[ReviewItem]:
    """Reasons in rules/ constructed with needs_legal_review (always or conditionally)."""
    items = []
    for path in sorted(RULES_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Reason" and _flagged(node):
                code = " / ".join(_strings(node.args[0])) or ast.unparse(node.args[0])
                rule_id = node.args[1].value if isinstance(node.args[1], ast.Constant) else "?"
                text = " / ".join(TEXTS.get(part, "") for part in code.split(" / "))
                items.append(ReviewItem(str(rule_id), code, text, f"{path.name}:{node.lineno}"))
    return items


def unverified_parameters() -> list[str]:
    return [
        f"{row.key} = {row.value!r} (gültig ab {row.valid_from:%d.%m.%Y}; {row.source})"
        for row in PARAMETERS
        if row.status is Status.UNVERIFIED
    ]
