"""Identification of the rule set in force (P3 of RULES.md "Product decisions").

The rule set implements § 15 SGB II in the version in force from 2023-07-01 (Bürgergeld),
as the source documents describe it. Every letter and the UI footer name it as the Rechtsstand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class RuleSet:
    id: str
    valid_from: date
    law: str


CURRENT = RuleSet(
    id="SGB2-KP-2023-07-01.1",
    valid_from=date(2023, 7, 1),
    law="§§ 15, 15a, 31 ff. SGB II in der Fassung ab 01.07.2023 (Bürgergeld-Gesetz)",
)
