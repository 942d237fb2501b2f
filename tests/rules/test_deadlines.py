"""Deadlines and reminders D-01 to D-17 (RULES.md section 7), working days and summer time (QUALITY.md T16)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from rules.dates import add_months, add_working_days, is_working_day
from rules.deadlines import (
    Deadline,
    bekanntgabe,
    d01_review,
    d02_paragraph10,
    d03_profillage,
    d04_einstellungszusage,
    d05_rueckmeldung,
    d06_massnahme,
    d07_nachweis,
    d08_intervention_outcome,
    d09_compliance,
    d10_anhoerung,
    d11_feststellung,
    d12_schlichtung,
    d13_widerspruch,
    d14_u25,
    d16_tl_approval,
    d17_return_check,
    nachweis_periods,
)
from rules.escalation import eb_evidence_late
from rules.plan import kp_term
from rules.schlichtung import schlichtung_end

BERLIN = ZoneInfo("Europe/Berlin")


# --- Calendar arithmetic -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 6, date(2026, 7, 31)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2028, 2, 29), 6, date(2028, 8, 29)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 10, 31), 4, date(2027, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
    ],
)
def test_add_months_clamps_to_the_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("start", "count", "bundesland", "expected"),
    [
        # 31 Oct 2026 (Reformationstag, a holiday in BB, not in BW) is a Saturday: no difference in 2026.
        (date(2026, 10, 30), 3, "BW", date(2026, 11, 4)),
        (date(2026, 10, 30), 3, "BB", date(2026, 11, 4)),
        # 2025: Reformationstag on a Friday: BB skips it, BW does not.
        (date(2025, 10, 30), 3, "BW", date(2025, 11, 4)),
        (date(2025, 10, 30), 3, "BB", date(2025, 11, 5)),
        # 2027: Allerheiligen (1 Nov) on a Monday: BW skips it, BB does not.
        (date(2027, 10, 29), 3, "BW", date(2027, 11, 4)),
        (date(2027, 10, 29), 3, "BB", date(2027, 11, 3)),
        # 2028: both on weekdays, one day each.
        (date(2028, 10, 30), 1, "BW", date(2028, 10, 31)),
        (date(2028, 10, 30), 1, "BB", date(2028, 11, 1)),
        # Fronleichnam 4 Jun 2026: BW and NW, not BB.
        (date(2026, 6, 3), 1, "NW", date(2026, 6, 5)),
        (date(2026, 6, 3), 1, "BB", date(2026, 6, 4)),
        # Heilige Drei Könige 6 Jan: BW, not NW.
        (date(2027, 1, 5), 1, "BW", date(2027, 1, 7)),
        (date(2027, 1, 5), 1, "NW", date(2027, 1, 6)),
        # Christmas and New Year (24 and 31 Dec are not public holidays).
        (date(2026, 12, 23), 3, "NW", date(2026, 12, 29)),
        (date(2026, 12, 30), 2, "NW", date(2027, 1, 4)),
        (date(2026, 12, 24), 1, "BE", date(2026, 12, 28)),
        # Easter 2026: Karfreitag 3 Apr, Ostermontag 6 Apr.
        (date(2026, 4, 2), 1, "NW", date(2026, 4, 7)),
        # Backwards.
        (date(2026, 12, 28), -1, "NW", date(2026, 12, 24)),
        (date(2025, 11, 3), -1, "BB", date(2025, 10, 30)),
        (date(2026, 3, 2), 0, "NW", date(2026, 3, 2)),
    ],
)
def test_add_working_days_per_bundesland(start: date, count: int, bundesland: str, expected: date) -> None:
    assert add_working_days(start, count, bundesland) == expected


@pytest.mark.parametrize(
    ("day", "bundesland", "working"),
    [
        (date(2025, 10, 31), "BW", True),
        (date(2025, 10, 31), "BB", False),
        (date(2027, 11, 1), "BW", False),
        (date(2027, 11, 1), "BB", True),
        (date(2026, 12, 24), "NW", True),
        (date(2026, 12, 25), "NW", False),
        (date(2026, 12, 26), "NW", False),
        (date(2027, 1, 1), "BY", False),
        (date(2026, 10, 3), "NW", False),  # Saturday and Tag der Deutschen Einheit
        (date(2026, 3, 28), "NW", False),  # Saturday
    ],
)
def test_is_working_day(day: date, bundesland: str, working: bool) -> None:
    assert is_working_day(day, bundesland) is working


@pytest.mark.parametrize(
    ("letter_date", "expected"),
    [
        (date(2026, 3, 2), date(2026, 3, 5)),
        (date(2026, 2, 26), date(2026, 3, 1)),
        (date(2028, 2, 27), date(2028, 3, 1)),
        (date(2026, 12, 29), date(2027, 1, 1)),  # calendar days, as L-28 states the fiction
    ],
)
def test_R_LET_2_bekanntgabe_on_the_third_day(letter_date: date, expected: date) -> None:
    assert bekanntgabe(letter_date) == expected


# --- D-01 .. D-17 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("review_due", "on", "reminders", "tl_on"),
    [
        (date(2026, 9, 2), None, (date(2026, 8, 5), date(2026, 8, 26), date(2026, 9, 2)), date(2026, 9, 16)),
        (
            date(2026, 9, 2),
            date(2026, 9, 8),
            (date(2026, 8, 5), date(2026, 8, 26), date(2026, 9, 2)),
            date(2026, 9, 16),
        ),
        (
            date(2026, 9, 2),
            date(2026, 9, 20),
            (date(2026, 8, 5), date(2026, 8, 26), date(2026, 9, 2), date(2026, 9, 9), date(2026, 9, 16)),
            date(2026, 9, 16),
        ),
        (date(2027, 2, 28), None, (date(2027, 1, 31), date(2027, 2, 21), date(2027, 2, 28)), date(2027, 3, 14)),
        (date(2028, 2, 29), None, (date(2028, 2, 1), date(2028, 2, 22), date(2028, 2, 29)), date(2028, 3, 14)),
    ],
)
def test_R_FS_1_d01_review_reminders(review_due, on, reminders, tl_on) -> None:
    schedule = d01_review(review_due, on=on)
    assert (schedule.deadline, schedule.rule_id, schedule.due_on) == (Deadline.D01, "R-FS-1", review_due)
    assert schedule.remind_on == reminders
    assert schedule.escalate_on == tl_on  # TL queue at +14 days


@pytest.mark.parametrize(
    ("last_checked", "expected_end", "due", "reminders"),
    [
        (date(2026, 3, 2), None, date(2026, 9, 2), (date(2026, 8, 5),)),
        (date(2026, 3, 2), date(2026, 7, 31), date(2026, 7, 31), (date(2026, 5, 2), date(2026, 7, 3))),
        (date(2026, 3, 2), date(2027, 1, 31), date(2026, 9, 2), (date(2026, 8, 5), date(2026, 11, 2))),
    ],
)
def test_R_EXC_2_d02_paragraph_10_recheck(last_checked, expected_end, due, reminders) -> None:
    schedule = d02_paragraph10(last_checked, expected_end)
    assert (schedule.due_on, schedule.remind_on, schedule.rule_id) == (due, reminders, "R-EXC-2")


@pytest.mark.parametrize(
    ("recorded_on", "due", "reminders"),
    [
        (date(2026, 3, 2), date(2026, 9, 2), (date(2026, 8, 5), date(2026, 8, 26))),
        (date(2026, 8, 31), date(2027, 2, 28), (date(2027, 1, 31), date(2027, 2, 21))),
    ],
)
def test_R_EXC_3_d03_profillage_recheck(recorded_on, due, reminders) -> None:
    schedule = d03_profillage(recorded_on)
    assert (schedule.due_on, schedule.remind_on, schedule.rule_id) == (due, reminders, "R-EXC-3")


@pytest.mark.parametrize(
    ("job_start", "bundesland", "check"),
    [
        (date(2026, 4, 30), "BW", date(2026, 5, 6)),  # 1 May
        (date(2026, 6, 3), "BW", date(2026, 6, 9)),  # Fronleichnam
        (date(2026, 6, 3), "BB", date(2026, 6, 8)),
    ],
)
def test_R_EXC_1_d04_arbeitsaufnahme_check(job_start, bundesland, check) -> None:
    schedule = d04_einstellungszusage(job_start, bundesland)
    assert schedule.due_on == job_start
    assert schedule.remind_on == (job_start - timedelta(days=7), check)
    assert schedule.escalate_on == check


@pytest.mark.parametrize(
    ("due", "bundesland", "before", "task"),
    [
        (date(2025, 10, 30), "BW", date(2025, 10, 28), date(2025, 11, 3)),
        (date(2025, 10, 30), "BB", date(2025, 10, 28), date(2025, 11, 4)),
        (date(2026, 12, 28), "NW", date(2026, 12, 23), date(2026, 12, 30)),
    ],
)
def test_R_MON_1_d05_rueckmeldung_in_working_days(due, bundesland, before, task) -> None:
    schedule = d05_rueckmeldung(due, bundesland)
    assert schedule.remind_on == (before, task)
    assert schedule.escalate_on == task


@pytest.mark.parametrize(
    ("start", "end", "bundesland", "reminders"),
    [
        (date(2026, 4, 2), date(2026, 9, 30), "NW", (date(2026, 4, 7), date(2026, 9, 16))),
        (date(2026, 12, 23), date(2027, 1, 10), "NW", (date(2026, 12, 24), date(2026, 12, 27))),
    ],
)
def test_R_MON_1_d06_massnahme_start_and_end(start, end, bundesland, reminders) -> None:
    schedule = d06_massnahme(start, end, bundesland)
    assert (schedule.due_on, schedule.remind_on) == (end, reminders)


@pytest.mark.parametrize("due", [date(2026, 4, 5), date(2026, 12, 28), date(2028, 2, 29)])
def test_R_EB_4_d07_breach_on_the_escalation_day_not_before(due: date) -> None:
    schedule = d07_nachweis(due)
    assert schedule.remind_on == (due,)
    assert schedule.escalate_on == due + timedelta(days=7)
    assert eb_evidence_late(due_on=due, received_on=None, on=schedule.escalate_on).allowed
    assert not eb_evidence_late(due_on=due, received_on=None, on=schedule.escalate_on - timedelta(days=1)).allowed


@pytest.mark.parametrize(
    ("appointment", "bundesland", "due"),
    [
        (date(2026, 12, 23), "NW", date(2026, 12, 28)),
        (date(2026, 12, 24), "NW", date(2026, 12, 29)),
        (date(2025, 10, 30), "BB", date(2025, 11, 4)),
    ],
)
def test_R_ESC_1_d08_intervention_outcome_documented(appointment, bundesland, due) -> None:
    assert d08_intervention_outcome(appointment, bundesland).due_on == due


@pytest.mark.parametrize(
    ("deadline", "bundesland", "check"),
    [
        (date(2026, 10, 30), "BW", date(2026, 11, 4)),
        (date(2026, 10, 30), "BB", date(2026, 11, 4)),
        (date(2025, 10, 30), "BW", date(2025, 11, 4)),
        (date(2025, 10, 30), "BB", date(2025, 11, 5)),
        (date(2026, 12, 23), "NW", date(2026, 12, 29)),
    ],
)
def test_R_ESC_3_d09_compliance_check_in_working_days(deadline, bundesland, check) -> None:
    schedule = d09_compliance(deadline, bundesland)
    assert (schedule.due_on, schedule.escalate_on, schedule.rule_id) == (deadline, check, "R-ESC-3")


@pytest.mark.parametrize(
    ("letter_date", "days", "due"),
    [
        (date(2026, 3, 2), 14, date(2026, 3, 19)),
        (date(2026, 12, 18), 14, date(2027, 1, 4)),
        (date(2028, 2, 12), 14, date(2028, 2, 29)),
        (date(2026, 3, 2), 21, date(2026, 3, 26)),
    ],
)
def test_R_ESC_6_d10_anhoerung_period_from_bekanntgabe(letter_date, days, due) -> None:
    schedule = d10_anhoerung(letter_date, days)
    assert (schedule.due_on, schedule.escalate_on) == (due, due)


@pytest.mark.parametrize(
    ("breach", "reminders", "cutoff"),
    [
        (date(2026, 4, 10), (date(2026, 8, 10), date(2026, 9, 10)), date(2026, 10, 10)),
        (date(2026, 8, 31), (date(2026, 12, 31), date(2027, 1, 31)), date(2027, 2, 28)),
    ],
)
def test_R_ESC_3_d11_feststellung_cutoff(breach, reminders, cutoff) -> None:
    schedule = d11_feststellung(breach)
    assert (schedule.remind_on, schedule.due_on, schedule.escalate_on) == (reminders, cutoff, cutoff)


@pytest.mark.parametrize(
    ("started", "reminders", "end"),
    [
        (date(2026, 6, 1), (date(2026, 6, 15), date(2026, 6, 22), date(2026, 6, 28)), date(2026, 6, 29)),
        (date(2026, 12, 10), (date(2026, 12, 24), date(2026, 12, 31), date(2027, 1, 6)), date(2027, 1, 7)),
        (date(2028, 2, 1), (date(2028, 2, 15), date(2028, 2, 22), date(2028, 2, 28)), date(2028, 2, 29)),
    ],
)
def test_R_SCH_2_d12_reminders_on_day_14_21_27_close_on_28(started, reminders, end) -> None:
    schedule = d12_schlichtung(started)
    assert schedule.remind_on == reminders
    assert schedule.due_on == schedule.escalate_on == end == schlichtung_end(started)


@pytest.mark.parametrize(
    ("letter_date", "correct", "due"),
    [
        (date(2026, 3, 2), True, date(2026, 4, 5)),
        (date(2026, 3, 2), False, date(2027, 3, 5)),
        (date(2026, 1, 28), True, date(2026, 2, 28)),  # Bekanntgabe 31 Jan: month-end clamp
        (date(2026, 1, 28), False, date(2027, 1, 31)),
        (date(2028, 2, 26), True, date(2028, 3, 29)),  # Bekanntgabe 29 Feb 2028
        (date(2028, 2, 26), False, date(2029, 2, 28)),
    ],
)
def test_R_LET_2_d13_widerspruchsfrist_one_month_or_one_year(letter_date, correct, due) -> None:
    schedule = d13_widerspruch(letter_date, rechtsbehelfsbelehrung_correct=correct)
    assert (schedule.due_on, schedule.rule_id) == (due, "R-LET-2")


@pytest.mark.parametrize(
    ("festgestellt", "due", "reminder"),
    [
        (date(2026, 6, 15), date(2026, 7, 13), date(2026, 6, 29)),
        (date(2026, 12, 10), date(2027, 1, 7), date(2026, 12, 24)),
    ],
)
def test_R_SAN_1_d14_u25_beratungsangebot_within_four_weeks(festgestellt, due, reminder) -> None:
    schedule = d14_u25(festgestellt)
    assert (schedule.due_on, schedule.remind_on) == (due, (reminder,))


@pytest.mark.parametrize(
    ("requested", "bundesland", "day3", "day5"),
    [
        (date(2026, 12, 21), "NW", date(2026, 12, 24), date(2026, 12, 29)),
        (date(2025, 10, 28), "BB", date(2025, 11, 3), date(2025, 11, 5)),
    ],
)
def test_R_ABB_6_d16_tl_approval_reminders(requested, bundesland, day3, day5) -> None:
    schedule = d16_tl_approval(requested, bundesland)
    assert (schedule.remind_on, schedule.due_on) == ((day3, day5), day5)


@pytest.mark.parametrize(("review_due", "reminder"), [(date(2026, 9, 2), date(2026, 8, 5))])
def test_R_RET_1_d17_return_check_with_d01(review_due: date, reminder: date) -> None:
    schedule = d17_return_check(review_due)
    assert (schedule.due_on, schedule.remind_on) == (review_due, (reminder,))
    assert reminder in d01_review(review_due).remind_on


# --- D-07: Eigenbemühungen evidence periods over a KP term crossing the year end -------------------

KP_FROM, KP_TO = date(2026, 11, 15), date(2027, 5, 14)


@pytest.mark.parametrize(
    ("period", "due_day", "valid_from", "valid_to", "expected"),
    [
        (
            "MONAT",
            5,  # "Nachweis bis zum 5. des Folgemonats"
            KP_FROM,
            KP_TO,
            [
                (date(2026, 11, 15), date(2026, 11, 30), date(2026, 12, 5)),
                (date(2026, 12, 1), date(2026, 12, 31), date(2027, 1, 5)),
                (date(2027, 1, 1), date(2027, 1, 31), date(2027, 2, 5)),
                (date(2027, 2, 1), date(2027, 2, 28), date(2027, 3, 5)),
                (date(2027, 3, 1), date(2027, 3, 31), date(2027, 4, 5)),
                (date(2027, 4, 1), date(2027, 4, 30), date(2027, 5, 5)),
                (date(2027, 5, 1), date(2027, 5, 14), date(2027, 6, 5)),
            ],
        ),
        (
            "QUARTAL",
            5,
            KP_FROM,
            KP_TO,
            [
                (date(2026, 11, 15), date(2026, 12, 31), date(2027, 1, 5)),
                (date(2027, 1, 1), date(2027, 3, 31), date(2027, 4, 5)),
                (date(2027, 4, 1), date(2027, 5, 14), date(2027, 7, 5)),
            ],
        ),
        ("LAUFZEIT", 14, KP_FROM, KP_TO, [(KP_FROM, KP_TO, date(2027, 5, 28))]),
        (
            "WOCHE",
            1,  # Monday after the week
            date(2026, 12, 23),
            date(2027, 1, 10),
            [
                (date(2026, 12, 23), date(2026, 12, 27), date(2026, 12, 28)),
                (date(2026, 12, 28), date(2027, 1, 3), date(2027, 1, 4)),
                (date(2027, 1, 4), date(2027, 1, 10), date(2027, 1, 11)),
            ],
        ),
        (
            "WOCHE",
            10,  # at most the Sunday of the following week
            date(2026, 12, 28),
            date(2027, 1, 3),
            [(date(2026, 12, 28), date(2027, 1, 3), date(2027, 1, 10))],
        ),
    ],
)
def test_R_EB_1_nachweis_periods_across_the_year_end(period, due_day, valid_from, valid_to, expected) -> None:
    periods = list(nachweis_periods(valid_from, valid_to, period, due_day))
    assert periods == expected
    # The periods cover the KP term without gaps or overlaps; evidence is never due before its period ends.
    assert periods[0][0] == valid_from
    assert periods[-1][1] == valid_to
    assert all(later[0] == earlier[1] + timedelta(days=1) for earlier, later in pairwise(periods))
    assert all(due > end for _, end, due in periods)


# --- Summer time: the rules work with local dates only ----------------------------------------------


def local_date(moment: datetime) -> date:
    """What a service must do before calling rules/: turn an aware timestamp into the Berlin date."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the time zone is unknown")
    return moment.astimezone(BERLIN).date()


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Late on 28 March 2026 in UTC is already 29 March in Berlin (the day summer time starts).
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), date(2026, 3, 29)),  # 01:59 CET
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), date(2026, 3, 29)),  # 03:00 CEST
        (datetime(2026, 3, 29, 21, 59, tzinfo=UTC), date(2026, 3, 29)),  # 23:59 CEST
        (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), date(2026, 3, 30)),
        # The end of summer time: 24 October 22:00 UTC is midnight CEST.
        (datetime(2026, 10, 24, 21, 59, tzinfo=UTC), date(2026, 10, 24)),
        (datetime(2026, 10, 24, 22, 0, tzinfo=UTC), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 22, 59, tzinfo=UTC), date(2026, 10, 25)),  # 23:59 CET
        (datetime(2026, 10, 25, 23, 0, tzinfo=UTC), date(2026, 10, 26)),
        # Berlin wall-clock times on both change days, including the repeated hour (fold).
        (datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN), date(2026, 3, 29)),
        (datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=BERLIN), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN), date(2026, 10, 25)),
    ],
)
def test_summer_time_local_date_before_calling_the_rules(moment: datetime, expected: date) -> None:
    assert local_date(moment) == expected


def test_summer_time_utc_date_would_be_a_different_day() -> None:
    moment = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    # Taking .date() of the UTC timestamp gives 28 March: a review one day early. Convert first.
    assert moment.date() == date(2026, 3, 28)
    assert kp_term(moment.date()).review_due == date(2026, 9, 28)
    assert kp_term(local_date(moment)).review_due == date(2026, 9, 29)
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2026, 3, 29, 1, 30))


@pytest.mark.parametrize(
    ("moments", "review_due", "schlichtung_ends", "widerspruch_until"),
    [
        (
            [
                datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
                datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN),
                datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN),
                datetime(2026, 3, 29, 23, 59, tzinfo=BERLIN),
            ],
            date(2026, 9, 29),
            date(2026, 4, 26),
            date(2026, 5, 1),
        ),
        (
            [
                datetime(2026, 10, 24, 22, 30, tzinfo=UTC),
                datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=BERLIN),
                datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN),
                datetime(2026, 10, 25, 23, 59, tzinfo=BERLIN),
            ],
            date(2027, 4, 25),
            date(2026, 11, 22),
            date(2026, 11, 28),
        ),
    ],
)
def test_R_KP_4_summer_time_change_gives_the_same_local_dates(
    moments, review_due, schlichtung_ends, widerspruch_until
) -> None:
    days = {local_date(moment) for moment in moments}
    assert len(days) == 1
    (day,) = days
    assert kp_term(day).review_due == review_due
    assert d01_review(kp_term(day).review_due).remind_on[0] == review_due - timedelta(days=28)
    assert schlichtung_end(day) == schlichtung_ends
    assert d13_widerspruch(day).due_on == widerspruch_until
