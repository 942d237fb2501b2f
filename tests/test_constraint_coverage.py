"""Meta-test: every database constraint of our domain apps is exercised by a test that names it."""

from __future__ import annotations

import re
from pathlib import Path

from django.apps import apps

DOMAIN_APPS = ("cases", "kooperationsplan", "letters")
TESTS_DIR = Path(__file__).resolve().parent


def constraint_names() -> dict[str, str]:
    """Constraint name → model label, for every CheckConstraint and UniqueConstraint in Meta.constraints."""
    return {
        constraint.name: model._meta.label
        for label in DOMAIN_APPS
        for model in apps.get_app_config(label).get_models()
        for constraint in model._meta.constraints
    }


def test_finds_the_constraints_of_every_domain_app():
    labels = {label.split(".")[0] for label in constraint_names().values()}
    assert labels == set(DOMAIN_APPS)
    assert len(constraint_names()) > 100


def test_every_constraint_is_named_in_a_test():
    """A test proves a constraint only by asserting its name in the database error, so the name must appear."""
    test_text = "\n".join(
        path.read_text(encoding="utf-8") for path in TESTS_DIR.rglob("test_*.py") if path != Path(__file__).resolve()
    )
    missing = sorted(
        f"{model}: {name}"
        for name, model in constraint_names().items()
        if not re.search(rf"""["']{re.escape(name)}["']""", test_text)
    )
    assert not missing, "constraints without a test:\n" + "\n".join(missing)
