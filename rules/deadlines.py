"""Deadlines and reminder dates D-01 to D-17 (RULES.md section 7).

Lead times marked PRACTICE in RULES.md are the defaults here; working days skip weekends and the
public holidays of the Jobcenter's Bundesland.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from rules.dates import add_months, add_working_days
from rules.parameters import PARAMETERS, int_param


class Deadline(StrEnum):
    D01 = "D-01"
    D02 = "D-02"
    D03 = "D-03"
    D04 = "D-04"
    D05 = "D-05"
    D06 = "D-06"
    D07 = "D-07"
    D08 = "D-08"
    D09 = "D-09"
    D10 = "D-10"
    D11 = "D-11"
    D12 = "D-12"
    D13 = "D-13"
    D14 = "D-14"
    D16 = "D-16"
    D17 = "D-17"
    D18 = "D-18"


@dataclass(frozen=True)
class Schedule:
    deadline: Deadline
    rule_id: str
    due_on: date
    remind_on: tuple[date, ...]
    escalate_on: date | None = None  # e.g. TL queue (D-01 + 14 days), breach (D-07 + 7), auto-close (D-12)


def bekanntgabe(letter_date: date) -> date:
    """§ 37 Abs. 2 SGB X: a posted letter counts as received on the third day (L-28)."""
    return letter_date + timedelta(days=int_param("bekanntgabe.postal_days", letter_date))


# D-01 lead times. The nightly review scan (kooperationsplan.nightly) computes the same dates in SQL
# from these constants, so that one INSERT ... SELECT covers every plan.
D01_LEAD_DAYS = (28, 7, 0)
D01_OVERDUE_EVERY_DAYS = 7
D01_TEAM_LEAD_AFTER_DAYS = 14


def d01_review(review_due: date, *, on: date | None = None) -> Schedule:
    """D-01 (R-KP-4, R-FS-1): 28 and 7 days before, on the day; overdue weekly; TL queue at +14 days."""
    reminders = [review_due - timedelta(days=days) for days in D01_LEAD_DAYS]
    if on is not None and on > review_due:
        periods_overdue = (on - review_due).days // D01_OVERDUE_EVERY_DAYS
        reminders += [
            review_due + timedelta(days=D01_OVERDUE_EVERY_DAYS * period) for period in range(1, periods_overdue + 1)
        ]
    return Schedule(
        Deadline.D01, "R-FS-1", review_due, tuple(reminders), review_due + timedelta(days=D01_TEAM_LEAD_AFTER_DAYS)
    )


def d02_paragraph10(last_checked: date, expected_end: date | None) -> Schedule:
    """D-02 (001 §8.2): re-check every 6 months at the latest, and before a known end of the reason."""
    due = add_months(last_checked, int_param("exemption.recheck_months", last_checked))
    reminders = [due - timedelta(days=28)]
    if expected_end is not None:
        due = min(due, expected_end)
        reminders = [due - timedelta(days=28), expected_end - timedelta(days=90)]
    return Schedule(Deadline.D02, "R-EXC-2", due, tuple(sorted(set(reminders))))


def d03_profillage(recorded_on: date) -> Schedule:
    """D-03 (001 §8.3): re-check at the latest 6 months after the exemption."""
    return d03_recheck(add_months(recorded_on, int_param("exemption.recheck_months", recorded_on)))


def d03_recheck(due: date) -> Schedule:
    """D-03 for a stored re-check date (after a re-check the next one is at most 6 months on): 28 and 7 days before."""
    return Schedule(Deadline.D03, "R-EXC-3", due, (due - timedelta(days=28), due - timedelta(days=7)))


def d04_einstellungszusage(job_start: date, bundesland: str) -> Schedule:
    """D-04 (001 §8.1): 7 days before the start; start + 3 working days: "Arbeitsaufnahme bestätigt?"."""
    check = add_working_days(job_start, 3, bundesland)
    return Schedule(Deadline.D04, "R-EXC-1", job_start, (job_start - timedelta(days=7), check), check)


def d05_rueckmeldung(due: date, bundesland: str) -> Schedule:
    """D-05 (001 §5.1, §6.1): 2 working days before; due + 2 working days without confirmation → task."""
    task = add_working_days(due, 2, bundesland)
    return Schedule(Deadline.D05, "R-MON-1", due, (add_working_days(due, -2, bundesland), task), task)


def d06_massnahme(start: date, end: date, bundesland: str) -> Schedule:
    """D-06 (PRACTICE): start + 1 working day (attendance confirmed?), end − 14 days (next step)."""
    return Schedule(Deadline.D06, "R-MON-1", end, (add_working_days(start, 1, bundesland), end - timedelta(days=14)))


def d07_nachweis(due: date) -> Schedule:
    """D-07 (001 §5.2, §6.1): on the due date; due + 7 days grace → breach (R-EB-4)."""
    return Schedule(Deadline.D07, "R-EB-4", due, (due,), due + timedelta(days=7))


def d08_intervention_outcome(appointment_day: date, bundesland: str) -> Schedule:
    """D-08 (001 §6.1): the outcome must be documented 2 working days after the appointment."""
    due = add_working_days(appointment_day, 2, bundesland)
    return Schedule(Deadline.D08, "R-ESC-1", due, (due,))


def d09_compliance(deadline: date, bundesland: str) -> Schedule:
    """D-09 (001 §6.1, §7): deadline + 3 working days: complied? → R-ESC-3."""
    check = add_working_days(deadline, 3, bundesland)
    return Schedule(Deadline.D09, "R-ESC-3", deadline, (check,), check)


def d10_anhoerung(letter_date: date, days: int) -> Schedule:
    """D-10 (L-25, P7): Bekanntgabe + the Äußerungsfrist; on expiry a decision task."""
    return d10_decision_task(bekanntgabe(letter_date) + timedelta(days=days))


def d10_decision_task(answer_until: date) -> Schedule:
    """D-10 for a stored Äußerungsfrist: the decision task on its last day (LSG BW L 7 AS 4295/13)."""
    return Schedule(Deadline.D10, "R-ESC-6", answer_until, (answer_until,), answer_until)


def d11_feststellung(breach_date: date) -> Schedule:
    """D-11 (L-15): 4 and 5 months after the breach; hard stop at 6 months."""
    due = add_months(breach_date, int_param("minderung.feststellung_months", breach_date))
    return Schedule(Deadline.D11, "R-ESC-3", due, (add_months(breach_date, 4), add_months(breach_date, 5)), due)


def d12_schlichtung(started_on: date) -> Schedule:
    """D-12 (L-07, R-SCH-2): day 14, 21, 27 status reminders; auto-close on day 28."""
    max_days = int_param("schlichtung.max_days", started_on)
    end = started_on + timedelta(days=max_days)
    reminders = tuple(started_on + timedelta(days=day) for day in (14, 21, max_days - 1))
    return Schedule(Deadline.D12, "R-SCH-2", end, reminders, end)


def d13_widerspruch(letter_date: date, *, rechtsbehelfsbelehrung_correct: bool = True) -> Schedule:
    """D-13 (L-28): Bekanntgabe + 1 month; 1 year with a missing or faulty Rechtsbehelfsbelehrung."""
    start = bekanntgabe(letter_date)
    months = int_param("widerspruch.months", letter_date) if rechtsbehelfsbelehrung_correct else 12
    due = add_months(start, months)
    return Schedule(Deadline.D13, "R-LET-2", due, (due,))


def d14_u25(festgestellt_on: date) -> Schedule:
    """D-14 (L-13): Beratungsangebot within 4 weeks of the Feststellung; reminder 14 days before."""
    due = festgestellt_on + timedelta(weeks=int_param("u25.beratungsangebot_weeks", festgestellt_on))
    return Schedule(Deadline.D14, "R-SAN-1", due, (due - timedelta(days=14),))


def d16_tl_approval(requested_on: date, bundesland: str) -> Schedule:
    """D-16 (001 §6.2, PRACTICE): remind the TL on working day 3 and 5 after the request."""
    due = add_working_days(requested_on, 5, bundesland)
    return Schedule(Deadline.D16, "R-ABB-6", due, (add_working_days(requested_on, 3, bundesland), due))


def d17_return_check(review_due: date) -> Schedule:
    """D-17 (001 §6.3): at each D-01 of a case in COOP_WITH_RFB: "Rückkehr ohne RFB?"."""
    return Schedule(Deadline.D17, "R-RET-1", review_due, (review_due - timedelta(days=28),))


@dataclass(frozen=True)
class CutOver:
    """A legal cut-over of RULES.md section 4 that the rule set must follow (D-18)."""

    effective_on: date
    title: str
    source: str


# RULES.md section 4: § 31a Abs. 7 / § 31b Abs. 3 are repealed at the end of 2026-03-27 (§ 86), so the
# changed law applies from 2026-03-28; the reform is planned for 2026-07-01 (promulgation date unknown).
CUTOVERS = (
    CutOver(date(2026, 3, 28), "Wegfall von § 31a Abs. 7 und § 31b Abs. 3 SGB II", "§ 86 SGB II"),
    CutOver(date(2026, 7, 1), "Neue Grundsicherung (13. SGB II-ÄndG), geplantes Inkrafttreten", "RULES.md 4"),
)
D18_LEAD_DAYS = (60, 30, 7)


def d18_cutover(cutover: CutOver) -> Schedule:
    """D-18 (section 4): 60, 30 and 7 days before a legal cut-over, and on the day itself."""
    day = cutover.effective_on
    reminders = (*(day - timedelta(days=days) for days in D18_LEAD_DAYS), day)
    return Schedule(Deadline.D18, "P3", day, reminders)


def rule_set_covers(cutover: CutOver) -> bool:
    """D-18 rule-version check (P3): some legal parameter starts on the cut-over day or ends the day before."""
    day = cutover.effective_on
    return any(row.valid_from == day or row.valid_to == day - timedelta(days=1) for row in PARAMETERS)


def current_reminder(remind_on: Iterable[date], *, on: date, lookback_days: int | None = None) -> date | None:
    """Reminder hygiene (RULES.md section 7): the latest reminder date on or before `on`, if any.

    The nightly scans create one reminder per subject and stage: a stage that was missed (the job did
    not run that night) is caught up by the next run, and an earlier stage is not repeated once a later
    one has come. Informational reminders (D-13, D-18) only count within `lookback_days`.
    """
    passed = [day for day in remind_on if day <= on]
    if lookback_days is not None:
        passed = [day for day in passed if (on - day).days < lookback_days]
    return max(passed, default=None)


def nachweis_periods(valid_from: date, valid_to: date, period: str, due_day: int) -> Iterator[tuple[date, date, date]]:
    """R-EB-1 / D-07: the evidence periods of an EB item during the KP term, each with its due date.

    MONAT: calendar months, evidence due on `due_day` of the following month ("bis zum 5. des
    Folgemonats"); QUARTAL likewise per quarter; WOCHE: Monday to Sunday, due `due_day` days into the
    next week (at most its Sunday); LAUFZEIT: one period, due `due_day` days after the term.
    """
    if period == "LAUFZEIT":
        yield valid_from, valid_to, valid_to + timedelta(days=due_day)
        return
    if period == "WOCHE":
        start = valid_from - timedelta(days=valid_from.weekday())
        while start <= valid_to:
            end = start + timedelta(days=6)
            yield max(start, valid_from), min(end, valid_to), end + timedelta(days=min(due_day, 7))
            start = end + timedelta(days=1)
        return
    months = {"MONAT": 1, "QUARTAL": 3}[period]
    start = valid_from.replace(day=1)
    if months == 3:
        start = start.replace(month=(start.month - 1) // 3 * 3 + 1)
    while start <= valid_to:
        following = add_months(start, months)
        end = following - timedelta(days=1)
        yield max(start, valid_from), min(end, valid_to), following.replace(day=due_day)
        start = following
