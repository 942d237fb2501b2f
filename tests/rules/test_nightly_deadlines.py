"""rules.deadlines for the nightly scans: the current stage of a reminder, the stored-date schedules of D-03
and D-10, and the legal cut-overs of D-18 with the rule-version check (P3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rules.deadlines import (
    CUTOVERS,
    CutOver,
    Deadline,
    current_reminder,
    d01_review,
    d03_profillage,
    d03_recheck,
    d10_anhoerung,
    d10_decision_task,
    d13_widerspruch,
    d18_cutover,
    rule_set_covers,
)

DUE = date(2026, 9, 2)


@pytest.mark.parametrize(
    ("on", "stage"),
    [
        (date(2026, 8, 4), None),  # 29 days before: nothing yet
        (date(2026, 8, 5), date(2026, 8, 5)),  # 28 days before
        (date(2026, 8, 25), date(2026, 8, 5)),  # a missed night is caught up with the current stage only
        (date(2026, 8, 26), date(2026, 8, 26)),  # 7 days before
        (date(2026, 9, 2), date(2026, 9, 2)),  # the due day
        (date(2026, 9, 8), date(2026, 9, 2)),
        (date(2026, 9, 9), date(2026, 9, 9)),  # overdue: weekly
        (date(2026, 12, 31), date(2026, 12, 30)),
    ],
)
def test_R_FS_1_current_reminder_is_the_latest_stage_on_or_before_the_day(on: date, stage: date | None) -> None:
    assert current_reminder(d01_review(DUE, on=on).remind_on, on=on) == stage


@pytest.mark.parametrize(
    ("on", "stage"),
    [
        (date(2026, 4, 5), date(2026, 4, 5)),
        (date(2026, 4, 11), date(2026, 4, 5)),
        (date(2026, 4, 12), None),  # informational: a week later it is not worth sending any more
    ],
)
def test_R_LET_2_d13_informational_reminders_only_while_fresh(on: date, stage: date | None) -> None:
    schedule = d13_widerspruch(date(2026, 3, 2))
    assert current_reminder(schedule.remind_on, on=on, lookback_days=7) == stage


@pytest.mark.parametrize(
    ("recorded_on", "due"),
    [
        (date(2026, 8, 31), date(2027, 2, 28)),
        (date(2027, 8, 31), date(2028, 2, 29)),
        (date(2026, 1, 31), date(2026, 7, 31)),
    ],
)
def test_R_EXC_3_d03_from_the_stored_recheck_date_equals_the_first_recheck(recorded_on: date, due: date) -> None:
    assert d03_profillage(recorded_on) == d03_recheck(due)
    assert d03_recheck(due).remind_on == (due - timedelta(days=28), due - timedelta(days=7))


@pytest.mark.parametrize(
    ("letter_date", "days"), [(date(2026, 3, 2), 14), (date(2028, 2, 12), 14), (date(2026, 12, 18), 21)]
)
def test_R_ESC_6_d10_from_the_stored_aeusserungsfrist_equals_the_one_from_the_letter(
    letter_date: date, days: int
) -> None:
    schedule = d10_anhoerung(letter_date, days)
    assert d10_decision_task(schedule.due_on) == schedule
    assert schedule.remind_on == (schedule.due_on,)


def test_d18_reminds_60_30_and_7_days_before_a_cutover_and_on_the_day() -> None:
    reform = next(cutover for cutover in CUTOVERS if cutover.effective_on == date(2026, 7, 1))
    schedule = d18_cutover(reform)
    assert (schedule.deadline, schedule.due_on) == (Deadline.D18, date(2026, 7, 1))
    assert schedule.remind_on == (date(2026, 5, 2), date(2026, 6, 1), date(2026, 6, 24), date(2026, 7, 1))


def test_d18_rule_version_check_finds_no_rules_for_the_unverified_reform() -> None:
    """P3: the "Neue Grundsicherung" is not implemented until its final text is verified."""
    assert [cutover.effective_on for cutover in CUTOVERS if not rule_set_covers(cutover)] == [
        date(2026, 3, 28),
        date(2026, 7, 1),
    ]
    assert rule_set_covers(CutOver(date(2023, 7, 1), "Bürgergeld: Kooperationsplan", "§ 15 SGB II"))
