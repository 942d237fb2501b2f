"""Meta-tests: every rule ID of RULES.md sections 3 and 5 has a test named after it (QUALITY.md "Tests"),
and every transition row of rules/states.py names guard rule IDs that RULES.md defines."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from rules.states import ASSIGNMENT_TRANSITIONS, ESCALATION_TRANSITIONS, KP_TRANSITIONS, MODE_TRANSITIONS

RULE_ID = re.compile(r"R-[A-Z]+-\d+")
TEST_NAME = re.compile(r"def (test_R_[A-Z]+_\d+)")
TESTS_DIR = Path(__file__).resolve().parents[1]


def rules_md() -> Path:
    """/work/shared/domain/RULES.md next to the repository; RULES_MD names it elsewhere (e.g. in CI)."""
    default = Path(__file__).resolve().parents[3] / "shared" / "domain" / "RULES.md"
    if default.is_file():
        return default
    override = os.environ.get("RULES_MD")
    if override and Path(override).is_file():
        return Path(override)
    pytest.fail(f"RULES.md not found at {default}; set RULES_MD to its path")


def sections(text: str) -> dict[str, str]:
    """The body of each numbered top-level section ("## 3. Rules catalogue" → "3")."""
    result: dict[str, str] = {}
    for part in re.split(r"^## ", text, flags=re.MULTILINE):
        match = re.match(r"(\d+)\.", part)
        if match:
            result[match.group(1)] = part
    return result


def ids_in(text: str, *numbers: str) -> set[str]:
    body = sections(text)
    return {rule_id for number in numbers for rule_id in RULE_ID.findall(body[number])}


def defined_ids(text: str) -> set[str]:
    """Rule IDs that section 3 defines (a bold ID at the start of a paragraph)."""
    return set(re.findall(r"^\*\*(R-[A-Z]+-\d+)\*\*", sections(text)["3"], flags=re.MULTILINE))


def ids_named_by_tests(sources: Iterable[str]) -> set[str]:
    names = {name for source in sources for name in TEST_NAME.findall(source)}
    return {name.removeprefix("test_").replace("_", "-") for name in names}


def missing_tests(text: str, sources: Iterable[str]) -> list[str]:
    def order(rule_id: str) -> tuple[str, int]:
        prefix, number = rule_id.rsplit("-", 1)
        return prefix, int(number)

    return sorted(ids_in(text, "3", "5") - ids_named_by_tests(sources), key=order)


def sources_under_tests() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(TESTS_DIR.rglob("*.py"))]


def defs(*names: str) -> str:
    """Test source text defining these functions (built, so that this file does not define them itself)."""
    return "".join(f"def {name}(): ...\n" for name in names)


SAMPLE = """## 2. Legal facts
R-OLD-1 is mentioned here only.
## 3. Rules catalogue
**R-AB-1** One rule.
**R-AB-12** Another rule.
## 4. Changes
R-XY-1 is not in section 3 or 5.
## 5. State machines
| A | B | event | R-AB-1, R-CD-2 |
## 6. Letters
"""


@pytest.mark.parametrize(
    ("test_code", "missing"),
    [
        ("", ["R-AB-1", "R-AB-12", "R-CD-2"]),
        (defs("test_R_AB_1_x", "test_R_AB_12_y"), ["R-CD-2"]),
        (defs("test_R_AB_1_x", "test_R_AB_12_y", "test_R_CD_2_z"), []),
        # "test_R_AB_1" does not count for R-AB-12, and a mere mention is not a test.
        (defs("test_R_AB_1_x", "test_R_CD_2_z") + "# test_R_AB_12\n", ["R-AB-12"]),
    ],
)
def test_meta_collector_reports_missing_rule_tests(test_code: str, missing: list[str]) -> None:
    assert missing_tests(SAMPLE, [test_code]) == missing
    assert defined_ids(SAMPLE) == {"R-AB-1", "R-AB-12"}


def test_meta_rules_md_is_found_where_expected() -> None:
    path = rules_md()
    assert path.name == "RULES.md"
    assert {"3", "5"} <= set(sections(path.read_text(encoding="utf-8")))


def test_meta_every_rule_id_of_sections_3_and_5_has_a_test() -> None:
    text = rules_md().read_text(encoding="utf-8")
    # The parse found the catalogue from its first to its last rule, and every rule it defines.
    assert {"R-PA-1", "R-VV-1"} <= ids_in(text, "3", "5")
    assert defined_ids(text) <= ids_in(text, "3", "5")
    missing = missing_tests(text, sources_under_tests())
    assert not missing, "rule IDs without a test named test_<ID>_…: " + ", ".join(missing)


def test_meta_section_5_only_refers_to_defined_rules() -> None:
    text = rules_md().read_text(encoding="utf-8")
    undefined = sorted(ids_in(text, "5") - defined_ids(text))
    assert not undefined, f"section 5 names rule IDs that section 3 does not define: {undefined}"


def test_meta_tests_name_only_existing_rule_ids() -> None:
    unknown = sorted(ids_named_by_tests(sources_under_tests()) - defined_ids(rules_md().read_text(encoding="utf-8")))
    assert not unknown, f"tests are named after rule IDs that RULES.md does not define: {unknown}"


@pytest.mark.parametrize(
    ("table_name", "table"),
    [
        ("KP_TRANSITIONS", KP_TRANSITIONS),
        ("MODE_TRANSITIONS", MODE_TRANSITIONS),
        ("ASSIGNMENT_TRANSITIONS", ASSIGNMENT_TRANSITIONS),
        ("ESCALATION_TRANSITIONS", ESCALATION_TRANSITIONS),
    ],
)
def test_meta_every_transition_row_names_a_defined_guard_rule(table_name: str, table) -> None:
    known = defined_ids(rules_md().read_text(encoding="utf-8"))
    problems = [
        f"{table_name}: {sorted(row.sources)} --{row.event}--> {row.target}: guards {row.guards}"
        for row in table
        if not row.guards or not all(guard in known for guard in row.guards)
    ]
    assert not problems, "\n".join(problems)
