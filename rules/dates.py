"""Date arithmetic for deadlines (RULES.md section 7): month ends, working days, public holidays."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

import holidays


def add_months(day: date, months: int) -> date:
    """Calendar months with end-of-month clamping: 31 Aug + 6 months = 28/29 Feb (R-KP-4)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


@lru_cache(maxsize=64)
def _holidays(bundesland: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("DE", subdiv=bundesland, years=year).keys())


def is_working_day(day: date, bundesland: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(bundesland, day.year)


def add_working_days(day: date, count: int, bundesland: str) -> date:
    """`count` working days after (or, if negative, before) `day`, skipping weekends and holidays."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    current = day
    while remaining:
        current += timedelta(days=step)
        if is_working_day(current, bundesland):
            remaining -= 1
    return current
