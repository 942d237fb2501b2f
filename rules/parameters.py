"""Legal parameters as versioned data, evaluated at the event date (P3, RULES.md section 4).

Adding a law change (for example the "Neue Grundsicherung" reform) means adding rows with a later
`valid_from`; the rules read the value valid on the breach date, letter date or start date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum


class Status(Enum):
    VERIFIED = "VERIFIED"
    COMMENTARY = "COMMENTARY"
    PRACTICE = "PRACTICE"
    UNVERIFIED = "UNVERIFIED"


ParameterValue = int | bool | tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Parameter:
    key: str
    value: ParameterValue
    valid_from: date
    source: str
    status: Status
    valid_to: date | None = None

    def applies_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


LAW_2023 = date(2023, 7, 1)

PARAMETERS: tuple[Parameter, ...] = (
    Parameter("kp.review_months", 6, LAW_2023, "§ 15 Abs. 3 SGB II; 001 §4.3, §6.4", Status.COMMENTARY),
    Parameter("invitation.first_without_rfb", True, LAW_2023, "§ 15 Abs. 4 SGB II; 001 §4.2", Status.UNVERIFIED),
    Parameter("schlichtung.enabled", True, LAW_2023, "§ 15a SGB II", Status.VERIFIED),
    Parameter("schlichtung.max_days", 28, LAW_2023, "§ 15a Abs. 4 SGB II", Status.VERIFIED),
    Parameter("schlichtung.blocks_minderung", True, LAW_2023, "§ 15a Abs. 3 SGB II", Status.VERIFIED),
    # (percent, months) per step of the § 31a chain: 10/1, 20/2, 30/3 (L-09, L-16).
    Parameter(
        "minderung.pflicht.levels",
        ((10, 1), (20, 2), (30, 3)),
        LAW_2023,
        "§ 31a Abs. 1, § 31b Abs. 2 SGB II",
        Status.VERIFIED,
    ),
    Parameter("minderung.melde.levels", ((10, 1),), LAW_2023, "§ 32 SGB II", Status.VERIFIED),
    Parameter("minderung.lookback_months", 12, LAW_2023, "§ 31a Abs. 1 SGB II", Status.VERIFIED),
    Parameter("minderung.cap_percent", 30, LAW_2023, "§ 31a Abs. 4 SGB II", Status.VERIFIED),
    Parameter("minderung.feststellung_months", 6, LAW_2023, "§ 31b Abs. 1 SGB II", Status.VERIFIED),
    Parameter("u25.beratungsangebot_weeks", 4, LAW_2023, "§ 31a Abs. 6 SGB II", Status.COMMENTARY),
    Parameter("anhoerung.default_days", 14, LAW_2023, "§ 24 SGB X; P7", Status.PRACTICE),
    Parameter("einstellungszusage.max_days", 56, LAW_2023, "001 §8.1", Status.COMMENTARY),
    Parameter("exemption.recheck_months", 6, LAW_2023, "001 §8.2, §8.3", Status.COMMENTARY),
    Parameter("zumutbarkeit.child_age_months", 36, LAW_2023, "§ 10 Abs. 1 Nr. 3 SGB II", Status.VERIFIED),
    Parameter("widerspruch.months", 1, LAW_2023, "§ 84 SGG", Status.VERIFIED),
    Parameter("bekanntgabe.postal_days", 3, LAW_2023, "§ 37 Abs. 2 SGB X", Status.VERIFIED),
)


class UnknownParameter(LookupError):
    pass


def parameter(key: str, on: date) -> Parameter:
    """The parameter row valid on the given event date."""
    matches = [row for row in PARAMETERS if row.key == key and row.applies_on(on)]
    if not matches:
        raise UnknownParameter(f"{key} is not defined on {on.isoformat()}")
    return max(matches, key=lambda row: row.valid_from)


def int_param(key: str, on: date) -> int:
    value = parameter(key, on).value
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{key} is not an integer parameter")
    return value


def bool_param(key: str, on: date) -> bool:
    value = parameter(key, on).value
    if not isinstance(value, bool):
        raise TypeError(f"{key} is not a boolean parameter")
    return value


def levels_param(key: str, on: date) -> tuple[tuple[int, int], ...]:
    value = parameter(key, on).value
    if not isinstance(value, tuple):
        raise TypeError(f"{key} is not a level table")
    return value
