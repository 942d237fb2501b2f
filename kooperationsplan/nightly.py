"""The nightly scans: every deadline of RULES.md section 7 (DESIGN.md "Jobs").

Deadlines live in PostgreSQL. Each scan is set-based: one SELECT finds the subjects in a reminder phase
and one statement per batch writes their reminders and notifications (kooperationsplan.reminders).
The review scan D-01, which runs over every plan, is a single INSERT ... SELECT ... ON CONFLICT DO
NOTHING computed in SQL from the lead times of rules.deadlines; the others compute their dates with
rules.deadlines in Python (working days of the Jobcenter's Bundesland, month ends) over the few
subjects that are open.

Each subject gets the reminder of its current stage: the latest reminder date on or before the scan
day (rules.deadlines.current_reminder). A second run, or a second process at the same time, finds the
reminder already there (T12); a run that broke off is completed by the next one without gaps or
duplicates (T13); a night the job did not run is caught up the next night.

Automatic transitions go through the existing services, which lock the case, re-check the rule and
write the timeline: the Schlichtung ends after 4 weeks (R-SCH-2), an Einstellungszusage not taken up
lapses (R-EXC-1), an ended § 10 reason ends its exemption (R-EXC-2). Steps that need a human decision
(an Anhörung after D-09, a breach after D-07, R-EB-4) are proposed by a reminder, never taken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from cases.models import Case, Role, User
from kooperationsplan import exemptions as exemption_services
from kooperationsplan import schlichtung as schlichtung_services
from kooperationsplan.models import (
    Appointment,
    AssignmentStatus,
    EigenbemuehungNachweis,
    Escalation,
    EscalationStatus,
    Exemption,
    ExemptionReason,
    ExemptionStatus,
    Kooperationsplan,
    KPStatus,
    MassnahmeZuweisung,
    ReminderKind,
    Schlichtung,
    SchlichtungOutcome,
    TeamLeadApproval,
)
from kooperationsplan.reminders import (
    ReminderRow,
    Written,
    message_sql,
    notification_for_key,
    reminders_write,
    reminders_write_sql,
    subject_label,
)
from kooperationsplan.workflow import WorkflowRefused
from letters.models import Letter, LetterKind, LetterStatus
from rules import deadlines as dl
from rules.dates import add_months
from rules.ruleset import CURRENT

BATCH_SIZE = 2000
# Informational reminders (D-13, D-18) are only worth sending while they are fresh.
INFORMATIONAL_LOOKBACK_DAYS = 7
OPEN_CASE = {"case__closed_on__isnull": True}
# Escalations from which a Minderung can still be festgestellt (RULES.md 5.4): D-11 watches them.
MINDERUNG_POSSIBLE = (
    EscalationStatus.BREACH_DETECTED,
    EscalationStatus.INTERVENTION_INVITED,
    EscalationStatus.INTERVENTION_DONE,
    EscalationStatus.NOT_ATTENDED,
    EscalationStatus.AUFFORDERUNG_ISSUED,
    EscalationStatus.ANHOERUNG,
    EscalationStatus.DECISION_PENDING,
)
U25_AGE = 25

T = TypeVar("T")


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


@dataclass(frozen=True)
class ScanResult:
    name: str
    label: str
    reminders: int = 0
    notifications: int = 0
    transitions: int = 0
    counts: str = "reminders"

    def line(self) -> str:
        """One German line for `manage.py run_nightly`."""
        if self.counts == "transitions":
            what = f"{self.transitions} automatisch erledigt"
        elif self.counts == "notifications":
            what = _count(self.notifications, "Benachrichtigung", "Benachrichtigungen")
        else:
            what = (
                f"{_count(self.reminders, 'Erinnerung', 'Erinnerungen')}, "
                f"{_count(self.notifications, 'Benachrichtigung', 'Benachrichtigungen')}"
            )
        return f"{self.name:<6} {self.label}: {what}"


@dataclass(frozen=True)
class Scan:
    """A scan writes reminders (returns Written), or performs transitions or notifications (returns a count)."""

    name: str
    label: str
    run: Callable[[date], Any]
    counts: str = "reminders"

    @property
    def key(self) -> str:
        """Stable across deployments (a queued task names its scan by it): the function's name."""
        return self.run.__name__


def _fmt(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def _batches(rows: Iterable[T]) -> Iterator[list[T]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH_SIZE)):
        yield batch


def _write(kind: str, model: type, rule_id: str, rows: Iterable[ReminderRow]) -> Written:
    """Each batch commits on its own: a crash after k batches leaves k complete batches (T13)."""
    total = Written()
    for batch in _batches(rows):
        total += reminders_write(kind=kind, subject_type=subject_label(model), rule_id=rule_id, rows=batch)
    return total


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- Automatic transitions ----------------------------------------------------------------------------


def expire_schlichtungen(on: date) -> int:
    """R-SCH-2 / D-12: a Schlichtung still running on day 28 ends without agreement (§ 15a Abs. 4 SGB II)."""
    return len(schlichtung_services.schlichtung_expire_due(on=on))


def lapse_exemptions(on: date) -> int:
    """R-EXC-1 / D-04: no confirmed job start 3 working days after the start; R-EXC-2 / D-02: the § 10 reason
    has ended. The service re-checks the rule under the case lock; a refusal means "not yet" or "done"."""
    candidates = Exemption.objects.filter(status=ExemptionStatus.ACTIVE, **OPEN_CASE)
    # 3 working days are at least 3 calendar days: only starts 4 or more days ago can have lapsed.
    not_started = candidates.filter(
        reason=ExemptionReason.EINSTELLUNGSZUSAGE,
        einstellungszusage__start_confirmed_on__isnull=True,
        einstellungszusage__start_date__lte=on - timedelta(days=4),
    )
    ended = candidates.filter(reason=ExemptionReason.PARAGRAPH_10, paragraph10_reason__ended_on__lte=on)
    lapsed = 0
    for exemption_id in [*not_started.values_list("pk", flat=True), *ended.values_list("pk", flat=True)]:
        try:
            exemption_services.exemption_lapse(exemption_id=exemption_id, actor=None, on=on)
        except WorkflowRefused:
            continue
        lapsed += 1
    return lapsed


# --- SQL scans: a single statement whatever the number of rows -----------------------------------------

D01_PRE = "Überprüfung des Kooperationsplans spätestens am {due}: bitte den Gesprächstermin vereinbaren (D-01)."
D01_OVERDUE = "Die Überprüfung des Kooperationsplans ist seit dem {due} überfällig (D-01)."
D01_TEAM_LEAD = "Eine Überprüfung des Kooperationsplans ist seit mehr als 14 Tagen überfällig (fällig am {due}, D-01)."


def _d01_stage_sql() -> str:
    """The current D-01 stage of plan `p` on %(on)s, the same dates as rules.deadlines.d01_review."""
    leads = sorted(dl.D01_LEAD_DAYS)
    if leads[0] != 0:
        raise ValueError("D-01 needs a reminder on the due day")
    every = dl.D01_OVERDUE_EVERY_DAYS
    branches = [f"WHEN p.review_due <= %(on)s THEN p.review_due + ((%(on)s - p.review_due) / {every}) * {every}"]
    branches += [f"WHEN p.review_due - {lead} <= %(on)s THEN p.review_due - {lead}" for lead in leads[1:]]
    return "CASE " + " ".join(branches) + " END"


def d01_review(on: date) -> Written:
    """D-01 (R-KP-4, R-FS-1): every current plan within 28 days of its review or overdue, in one statement.

    The partial index kp_current_review_due_idx finds the plans; the unique reminder constraint makes a
    second run insert nothing. The team leads hear of a review overdue for 14 days (RULES.md 5.4 (d)) once.
    """
    rows_sql = f"""
        SELECT p.case_id, c.responsible_id AS assignee_id, p.id AS subject_id,
               p.review_due AS due_on, {_d01_stage_sql()} AS remind_on
        FROM kooperationsplan_kooperationsplan p
        JOIN cases_case c ON c.id = p.case_id
        WHERE p.status IN ('ACTIVE', 'UNDER_REVIEW') AND c.closed_on IS NULL
          AND p.review_due <= %(on)s + {max(dl.D01_LEAD_DAYS)}
    """  # noqa: S608 (built from the constants of rules.deadlines; the day is a parameter)
    pre, pre_params = message_sql(D01_PRE, "i.due_on", "pre")
    overdue, overdue_params = message_sql(D01_OVERDUE, "i.due_on", "overdue")
    lead, lead_params = message_sql(D01_TEAM_LEAD, "i.due_on", "lead")
    tl_days = dl.D01_TEAM_LEAD_AFTER_DAYS
    # RULES.md 5.4 (d): the team leads hear of it at the first stage 14 days or more overdue, and only then.
    tl_condition = f"""i.remind_on >= i.due_on + {tl_days} AND NOT EXISTS (
            SELECT 1 FROM kooperationsplan_reminder earlier
            WHERE earlier.subject_type = %(subject_type)s AND earlier.subject_id = i.subject_id
              AND earlier.kind = %(kind)s AND earlier.due_on = i.due_on
              AND earlier.remind_on >= i.due_on + {tl_days}
        )"""  # noqa: S608 (constants; the texts are parameters)
    return reminders_write_sql(
        kind=ReminderKind.D01_REVIEW,
        subject_type=subject_label(Kooperationsplan),
        rule_id="R-FS-1",
        rows_sql=rows_sql,
        params={"on": on, **pre_params, **overdue_params, **lead_params},
        message_sql=f"CASE WHEN i.remind_on <= i.due_on THEN {pre} ELSE {overdue} END",
        team_lead_message_sql=lead,
        team_lead_condition_sql=tl_condition,
    )


PA_MESSAGE = "Die Potenzialanalyse ist unverzüglich zu erstellen (Leistungsbezug seit {due}, R-PA-2)."
KP_MESSAGE = "Die Potenzialanalyse ist seit dem {due} abgeschlossen; der Kooperationsplan fehlt noch (R-KP-1)."


def pa_faellig(on: date) -> Written:
    """R-PA-2: a new case (no KP yet) without a complete Potenzialanalyse has the task PA_FAELLIG from its creation."""
    rows_sql = """
        SELECT c.id AS case_id, c.responsible_id AS assignee_id, c.id AS subject_id,
               c.leistungsbeginn AS due_on, (c.created_at AT TIME ZONE %(tz)s)::date AS remind_on
        FROM cases_case c
        WHERE c.closed_on IS NULL AND c.cooperation_mode = 'NO_KP_YET'
          AND (c.created_at AT TIME ZONE %(tz)s)::date <= %(on)s
          AND NOT EXISTS (
              SELECT 1 FROM cases_potenzialanalyse pa WHERE pa.case_id = c.id AND pa.status = 'COMPLETE')
          AND NOT EXISTS (
              SELECT 1 FROM kooperationsplan_kooperationsplan p
              WHERE p.case_id = c.id AND p.status IN ('ACTIVE', 'UNDER_REVIEW', 'DISPUTED'))
    """
    message, params = message_sql(PA_MESSAGE, "i.due_on", "pa")
    return reminders_write_sql(
        kind=ReminderKind.PA_FAELLIG,
        subject_type=subject_label(Case),
        rule_id="R-PA-2",
        rows_sql=rows_sql,
        params={"on": on, "tz": settings.TIME_ZONE, **params},
        message_sql=message,
    )


def kp_fehlt(on: date) -> Written:
    """R-KP-1: the PA is complete, but there is neither a KP (nor a draft) nor an exemption: KP_FEHLT."""
    rows_sql = """
        SELECT c.id AS case_id, c.responsible_id AS assignee_id, c.id AS subject_id,
               (pa.completed_at AT TIME ZONE %(tz)s)::date AS due_on,
               (pa.completed_at AT TIME ZONE %(tz)s)::date AS remind_on
        FROM cases_case c
        JOIN cases_potenzialanalyse pa ON pa.case_id = c.id AND pa.status = 'COMPLETE'
        WHERE c.closed_on IS NULL AND c.cooperation_mode = 'NO_KP_YET'
          AND (pa.completed_at AT TIME ZONE %(tz)s)::date <= %(on)s
          AND NOT EXISTS (
              SELECT 1 FROM kooperationsplan_kooperationsplan p
              WHERE p.case_id = c.id AND p.status IN ('DRAFT', 'ACTIVE', 'UNDER_REVIEW', 'DISPUTED'))
    """
    message, params = message_sql(KP_MESSAGE, "i.due_on", "kp")
    return reminders_write_sql(
        kind=ReminderKind.KP_FEHLT,
        subject_type=subject_label(Case),
        rule_id="R-KP-1",
        rows_sql=rows_sql,
        params={"on": on, "tz": settings.TIME_ZONE, **params},
        message_sql=message,
    )


# --- Scans computed with rules.deadlines ---------------------------------------------------------------

Row = dict[str, Any]
# A subject's schedule and the dates its reminders may fall on (by default the schedule's reminder dates).
Stages = tuple[dl.Schedule, Iterable[date]]


def _case_values(path: str = "case") -> dict[str, F]:
    """The case columns every reminder needs, read in the scan's one query (no query per row)."""
    return {
        "responsible_id": F(f"{path}__responsible_id"),
        "team_id": F(f"{path}__team_id"),
        "bundesland": F(f"{path}__team__jobcenter__bundesland"),
    }


def _plain(schedule: dl.Schedule) -> Stages:
    return schedule, schedule.remind_on


def _scan(
    on: date,
    *,
    kind: str,
    model: type,
    rule_id: str,
    rows: QuerySet[Any, Row],
    stages: Callable[[Row], Stages | None],
    message: Callable[[Row, dl.Schedule, date], str],
    lookback_days: int | None = None,
    team_leads: bool = False,
) -> Written:
    """One query for the subjects, their current stage by rules.deadlines, one statement per batch to write."""

    def reminder_rows() -> Iterator[ReminderRow]:
        for row in rows.iterator(chunk_size=BATCH_SIZE):
            found = stages(row)
            if found is None:
                continue
            schedule, dates = found
            stage = dl.current_reminder(dates, on=on, lookback_days=lookback_days)
            if stage is None:
                continue
            text = message(row, schedule, stage)[:300]
            yield ReminderRow(
                case_id=row["case_id"],
                assignee_id=row.get("assignee_id", row["responsible_id"]),
                team_id=row["team_id"],
                subject_id=row["pk"],
                due_on=schedule.due_on,
                remind_on=stage,
                message=text,
                tl_message=text if team_leads else None,
            )

    return _write(kind, model, rule_id, reminder_rows())


def d02_paragraph10(on: date) -> Written:
    """D-02 (001 §8.2): re-check the § 10 reason every 6 months, and 90 days before its known end."""
    rows = Exemption.objects.filter(
        status=ExemptionStatus.ACTIVE, reason=ExemptionReason.PARAGRAPH_10, **OPEN_CASE
    ).values(
        "pk",
        "case_id",
        last_checked=F("paragraph10_reason__last_checked_on"),
        expected_end=F("paragraph10_reason__expected_end"),
        **_case_values(),
    )
    return _scan(
        on,
        kind=ReminderKind.D02_P10_RECHECK,
        model=Exemption,
        rule_id="R-EXC-2",
        rows=rows,
        stages=lambda row: _plain(dl.d02_paragraph10(row["last_checked"], row["expected_end"])),
        message=lambda row, schedule, stage: (
            f"Erneute Prüfung des § 10-Grundes spätestens am {_fmt(schedule.due_on)} (D-02)."
        ),
    )


def d03_profillage(on: date) -> Written:
    """D-03 (001 §8.3): re-check the Profillage I exemption by its re-check date (at most 6 months on)."""
    rows = Exemption.objects.filter(
        status=ExemptionStatus.ACTIVE, reason=ExemptionReason.PROFILLAGE_I, **OPEN_CASE
    ).values("pk", "recheck_due", "case_id", **_case_values())
    return _scan(
        on,
        kind=ReminderKind.D03_PROFILLAGE_RECHECK,
        model=Exemption,
        rule_id="R-EXC-3",
        rows=rows,
        stages=lambda row: _plain(dl.d03_recheck(row["recheck_due"])),
        message=lambda row, schedule, stage: (
            f"Erneute Prüfung der Ausnahme Profillage I spätestens am {_fmt(schedule.due_on)} (D-03)."
        ),
    )


def d04_einstellungszusage(on: date) -> Written:
    """D-04 (001 §8.1): 7 days before the job start; start + 3 working days "Arbeitsaufnahme bestätigt?"."""
    rows = Exemption.objects.filter(
        status=ExemptionStatus.ACTIVE,
        reason=ExemptionReason.EINSTELLUNGSZUSAGE,
        einstellungszusage__start_confirmed_on__isnull=True,
        einstellungszusage__start_date__lte=on + timedelta(days=7),
        **OPEN_CASE,
    ).values("pk", "case_id", start=F("einstellungszusage__start_date"), **_case_values())

    def message(row: Row, schedule: dl.Schedule, stage: date) -> str:
        if stage == schedule.escalate_on:
            return (
                f"Arbeitsaufnahme zum {_fmt(row['start'])} bestätigt? Ohne Bestätigung entfällt die Ausnahme "
                f"nach dem {_fmt(stage)} (D-04, R-EXC-1)."
            )
        return f"Arbeitsaufnahme laut Einstellungszusage am {_fmt(row['start'])} (D-04)."

    return _scan(
        on,
        kind=ReminderKind.D04_EINSTELLUNG,
        model=Exemption,
        rule_id="R-EXC-1",
        rows=rows,
        stages=lambda row: _plain(dl.d04_einstellungszusage(row["start"], row["bundesland"])),
        message=message,
    )


OPEN_ASSIGNMENT = (AssignmentStatus.SCHREIBEN_ISSUED, AssignmentStatus.BESCHEID_ISSUED)


def d05_rueckmeldung(on: date) -> Written:
    """D-05 (001 §5.1, §6.1): 2 working days before the Vorstellung/Rückmeldung; 2 working days after it
    without the Träger's confirmation, the task "Rückmeldung prüfen"."""
    rows = MassnahmeZuweisung.objects.filter(
        status__in=OPEN_ASSIGNMENT, rueckmeldung_due__lte=on + timedelta(days=14), **OPEN_CASE
    ).values("pk", "rueckmeldung_due", "case_id", **_case_values())

    def message(row: Row, schedule: dl.Schedule, stage: date) -> str:
        due = _fmt(row["rueckmeldung_due"])
        if stage == schedule.escalate_on:
            return f"Keine Rückmeldung des Trägers zur Frist am {due}: bitte Rückmeldung prüfen (D-05)."
        return f"Vorstellung/Rückmeldung beim Maßnahmeträger bis {due} (D-05)."

    return _scan(
        on,
        kind=ReminderKind.D05_RUECKMELDUNG,
        model=MassnahmeZuweisung,
        rule_id="R-MON-1",
        rows=rows,
        stages=lambda row: _plain(dl.d05_rueckmeldung(row["rueckmeldung_due"], row["bundesland"])),
        message=message,
    )


def d06_massnahme(on: date) -> Written:
    """D-06 (PRACTICE): start + 1 working day "Teilnahme bestätigt?" while the start is not confirmed;
    end − 14 days "nächsten Schritt planen" while the measure runs."""
    rows = MassnahmeZuweisung.objects.filter(
        status__in=(*OPEN_ASSIGNMENT, AssignmentStatus.REPORTED, AssignmentStatus.STARTED),
        start_date__lt=on,
        **OPEN_CASE,
    ).values("pk", "status", "start_date", "end_date", "case_id", **_case_values())

    def stages(row: Row) -> Stages:
        schedule = dl.d06_massnahme(row["start_date"], row["end_date"], row["bundesland"])
        start_check, end_check = schedule.remind_on
        return schedule, (end_check,) if row["status"] == AssignmentStatus.STARTED else (start_check,)

    def message(row: Row, schedule: dl.Schedule, stage: date) -> str:
        if row["status"] == AssignmentStatus.STARTED:
            return (
                f"Die Maßnahme endet am {_fmt(row['end_date'])}: nächsten Schritt bzw. Anpassung des KP planen (D-06)."
            )
        return f"Die Maßnahme hat am {_fmt(row['start_date'])} begonnen: Teilnahme bestätigt? (D-06)"

    return _scan(
        on,
        kind=ReminderKind.D06_MASSNAHME,
        model=MassnahmeZuweisung,
        rule_id="R-MON-1",
        rows=rows,
        stages=stages,
        message=message,
    )


def d07_nachweis(on: date) -> Written:
    """D-07 (001 §5.2, §6.1): on the due date; 7 days later still missing → a breach is proposed (R-EB-4).

    The breach itself is recorded by the IFK: the evidence may have arrived by post or in the talk.
    """
    rows = EigenbemuehungNachweis.objects.filter(
        received_on__isnull=True,
        due_on__lte=on,
        eigenbemuehung__plan__status__in=(KPStatus.ACTIVE, KPStatus.UNDER_REVIEW, KPStatus.DISPUTED),
        eigenbemuehung__plan__case__closed_on__isnull=True,
    ).values("pk", "due_on", "case_id", **_case_values("eigenbemuehung__plan__case"))  # the plan's case (trigger)

    def stages(row: Row) -> Stages:
        schedule = dl.d07_nachweis(row["due_on"])
        return schedule, (*schedule.remind_on, cast(date, schedule.escalate_on))

    def message(row: Row, schedule: dl.Schedule, stage: date) -> str:
        if stage == schedule.escalate_on:
            return (
                f"Der Nachweis der Eigenbemühungen (fällig am {_fmt(row['due_on'])}) fehlt noch: bitte einen "
                "Pflichtverstoß prüfen (R-EB-4). Die Entscheidung treffen Sie."
            )
        return f"Nachweis der Eigenbemühungen fällig am {_fmt(row['due_on'])} (D-07)."

    return _scan(
        on,
        kind=ReminderKind.D07_NACHWEIS,
        model=EigenbemuehungNachweis,
        rule_id="R-EB-4",
        rows=rows,
        stages=stages,
        message=message,
    )


def d08_intervention(on: date) -> Written:
    """D-08 (001 §6.1): 2 working days after the Beraterische Intervention its outcome must be documented."""
    latest_bi = Appointment.objects.filter(escalation=OuterRef("pk"), kind="BI").order_by("-starts_at")
    rows = (
        Escalation.objects.filter(status=EscalationStatus.INTERVENTION_INVITED, **OPEN_CASE)
        .annotate(appointment_at=Subquery(latest_bi.values("starts_at")[:1]))
        .filter(appointment_at__isnull=False)
        .values("pk", "appointment_at", "case_id", **_case_values())
    )
    return _scan(
        on,
        kind=ReminderKind.D08_BI_ERGEBNIS,
        model=Escalation,
        rule_id="R-ESC-1",
        rows=rows,
        stages=lambda row: _plain(dl.d08_intervention_outcome(_local_day(row["appointment_at"]), row["bundesland"])),
        message=lambda row, schedule, stage: (
            f"Ergebnis der beraterischen Intervention bis {_fmt(schedule.due_on)} dokumentieren (D-08)."
        ),
    )


def d09_mitwirkung(on: date) -> Written:
    """D-09 (001 §6.1, §7): deadline + 3 working days "complied?"; the Anhörung is proposed (R-ESC-3), never
    issued: the IFK checks whether the duty was met and decides."""
    rows = Escalation.objects.filter(
        status=EscalationStatus.AUFFORDERUNG_ISSUED, compliance_deadline__lt=on, **OPEN_CASE
    ).values("pk", "compliance_deadline", "case_id", **_case_values())
    return _scan(
        on,
        kind=ReminderKind.D09_MITWIRKUNG,
        model=Escalation,
        rule_id="R-ESC-3",
        rows=rows,
        stages=lambda row: _plain(dl.d09_compliance(row["compliance_deadline"], row["bundesland"])),
        message=lambda row, schedule, stage: (
            f"Die Mitwirkungsfrist ist am {_fmt(schedule.due_on)} abgelaufen: Erfüllung prüfen und gegebenenfalls "
            "die Anhörung vorbereiten (D-09, R-ESC-3). Die Anhörung wird nicht automatisch erstellt."
        ),
    )


def d10_anhoerung(on: date) -> Written:
    """D-10 (L-25, P7): when the Äußerungsfrist ends, the decision task."""
    rows = Escalation.objects.filter(status=EscalationStatus.ANHOERUNG, anhoerung_deadline__lte=on, **OPEN_CASE).values(
        "pk", "anhoerung_deadline", "case_id", **_case_values()
    )
    return _scan(
        on,
        kind=ReminderKind.D10_ANHOERUNG,
        model=Escalation,
        rule_id="R-ESC-6",
        rows=rows,
        stages=lambda row: _plain(dl.d10_decision_task(row["anhoerung_deadline"])),
        message=lambda row, schedule, stage: (
            f"Die Äußerungsfrist der Anhörung endet am {_fmt(schedule.due_on)}; danach ist über die "
            "Leistungsminderung zu entscheiden (D-10)."
        ),
    )


def d11_feststellung(on: date) -> Written:
    """D-11 (L-15): 4 and 5 months after the breach; a Minderung is barred 6 months after it."""
    # Four calendar months are at least 120 days.
    rows = Escalation.objects.filter(
        status__in=MINDERUNG_POSSIBLE, breach_date__lte=on - timedelta(days=120), **OPEN_CASE
    ).values("pk", "breach_date", "case_id", **_case_values())
    return _scan(
        on,
        kind=ReminderKind.D11_FESTSTELLUNG,
        model=Escalation,
        rule_id="R-ESC-3",
        rows=rows,
        stages=lambda row: _plain(dl.d11_feststellung(row["breach_date"])),
        message=lambda row, schedule, stage: (
            f"Eine Leistungsminderung kann nur bis {_fmt(schedule.due_on)} festgestellt werden "
            "(6 Monate nach dem Pflichtverstoß, D-11)."
        ),
    )


def d12_schlichtung(on: date) -> Written:
    """D-12 (L-07, R-SCH-2): status reminders on day 14, 21 and 27 of a running Schlichtung."""
    rows = Schlichtung.objects.filter(
        outcome=SchlichtungOutcome.RUNNING, started_on__lte=on - timedelta(days=14), **OPEN_CASE
    ).values("pk", "started_on", "case_id", **_case_values())
    return _scan(
        on,
        kind=ReminderKind.D12_SCHLICHTUNG,
        model=Schlichtung,
        rule_id="R-SCH-2",
        rows=rows,
        stages=lambda row: _plain(dl.d12_schlichtung(row["started_on"])),
        message=lambda row, schedule, stage: (
            f"Die Schlichtung endet spätestens am {_fmt(schedule.due_on)} "
            f"(Tag {(stage - row['started_on']).days} von 28, D-12)."
        ),
    )


LETTER_LABELS = dict(LetterKind.choices)


def d13_widerspruch(on: date) -> Written:
    """D-13 (L-28): informational, on the last day of the Widerspruchsfrist of an issued Verwaltungsakt."""
    # Bekanntgabe (3 days) + 1 month lies between 31 and 35 days after the letter date.
    rows = (
        Letter.objects.filter(
            is_va=True,
            letter_date__gte=on - timedelta(days=35 + INFORMATIONAL_LOOKBACK_DAYS),
            letter_date__lte=on - timedelta(days=31),
            **OPEN_CASE,
        )
        .exclude(status__in=(LetterStatus.CANCELLED, LetterStatus.AWAITING_RELEASE))
        .values("pk", "kind", "letter_date", "case_id", **_case_values())
    )
    return _scan(
        on,
        kind=ReminderKind.D13_WIDERSPRUCH,
        model=Letter,
        rule_id="R-LET-2",
        rows=rows,
        stages=lambda row: _plain(dl.d13_widerspruch(row["letter_date"])),
        message=lambda row, schedule, stage: (
            f"Zur Information: Die Widerspruchsfrist gegen „{LETTER_LABELS.get(row['kind'], row['kind'])}“ vom "
            f"{_fmt(row['letter_date'])} endet am {_fmt(schedule.due_on)} (D-13)."
        ),
        lookback_days=INFORMATIONAL_LOOKBACK_DAYS,
    )


def d14_u25(on: date) -> Written:
    """D-14 (L-13): an eLb under 25 gets a Beratungsangebot within 4 weeks of the festgestellte Minderung."""
    rows = Escalation.objects.filter(
        status=EscalationStatus.MINDERUNG_FESTGESTELLT, closed_at__gte=_start_of(on - timedelta(days=60)), **OPEN_CASE
    ).values("pk", "closed_at", "case_id", birth_date=F("case__elb__birth_date"), **_case_values())

    def stages(row: Row) -> Stages | None:
        festgestellt = _local_day(row["closed_at"])
        if add_months(row["birth_date"], 12 * U25_AGE) <= festgestellt:
            return None
        return _plain(dl.d14_u25(festgestellt))

    return _scan(
        on,
        kind=ReminderKind.D14_U25,
        model=Escalation,
        rule_id="R-SAN-1",
        rows=rows,
        stages=stages,
        message=lambda row, schedule, stage: (
            f"Beratungsangebot für die eLb unter 25 bis {_fmt(schedule.due_on)} unterbreiten (D-14)."
        ),
    )


def d16_tl_approval(on: date) -> Written:
    """D-16 (001 §6.2, PRACTICE): the team lead's approval of a Schlichtung, on working day 3 and 5. The
    reminder is the team's first team lead's; every team lead of the team is notified."""
    first_lead = (
        User.objects.filter(role=Role.TEAMLEITUNG, is_active=True, team_id=OuterRef("case__team_id"))
        .order_by("pk")
        .values("pk")[:1]
    )
    rows = (
        TeamLeadApproval.objects.filter(
            kind=TeamLeadApproval.Kind.SCHLICHTUNG_NACH_SCHEITERN, status=TeamLeadApproval.Status.OPEN, **OPEN_CASE
        )
        .annotate(assignee_id=Subquery(first_lead))
        .filter(assignee_id__isnull=False)
        .values("pk", "requested_at", "assignee_id", "case_id", **_case_values())
    )
    return _scan(
        on,
        kind=ReminderKind.D16_TL_SCHLICHTUNG,
        model=TeamLeadApproval,
        rule_id="R-ABB-6",
        rows=rows,
        stages=lambda row: _plain(dl.d16_tl_approval(_local_day(row["requested_at"]), row["bundesland"])),
        message=lambda row, schedule, stage: (
            "Die Zustimmung zur Schlichtung nach gescheitertem KP ist seit dem "
            f"{_fmt(_local_day(row['requested_at']))} offen: bitte bis {_fmt(schedule.due_on)} entscheiden "
            "(D-16, R-ABB-6)."
        ),
        team_leads=True,
    )


def d17_return_check(on: date) -> Written:
    """D-17 (001 §6.3, R-RET-1): with the first D-01 reminder of a case in COOP_WITH_RFB: "Rückkehr ohne RFB?"."""
    rows = Kooperationsplan.objects.filter(
        status__in=(KPStatus.ACTIVE, KPStatus.UNDER_REVIEW),
        case__cooperation_mode="COOP_WITH_RFB",
        review_due__lte=on + timedelta(days=max(dl.D01_LEAD_DAYS)),
        **OPEN_CASE,
    ).values("pk", "review_due", "case_id", **_case_values())
    return _scan(
        on,
        kind=ReminderKind.D17_RUECKKEHR,
        model=Kooperationsplan,
        rule_id="R-RET-1",
        rows=rows,
        stages=lambda row: _plain(dl.d17_return_check(row["review_due"])),
        message=lambda row, schedule, stage: (
            f"Bei der Überprüfung bis {_fmt(schedule.due_on)}: Rückkehr zur Zusammenarbeit ohne "
            "Rechtsfolgenbelehrung prüfen (D-17, R-RET-1)."
        ),
    )


def d18_cutovers(on: date) -> int:
    """D-18 (RULES.md section 4, P3): 60, 30 and 7 days before a legal cut-over and on the day, the
    Fachadministration hears whether the rule set already covers it."""
    administrators = list(User.objects.filter(role=Role.FACHADMIN, is_active=True).values_list("pk", flat=True))
    created = 0
    for cutover in dl.CUTOVERS:
        schedule = dl.d18_cutover(cutover)
        stage = dl.current_reminder(schedule.remind_on, on=on, lookback_days=INFORMATIONAL_LOOKBACK_DAYS)
        if stage is None:
            continue
        if dl.rule_set_covers(cutover):
            check = f"Das Regelwerk {CURRENT.id} enthält Regeln ab diesem Tag; bitte die Umstellung prüfen."
        else:
            check = f"Das Regelwerk {CURRENT.id} enthält dafür noch keine Regeln: bitte mit der Rechtsstelle klären."
        message = (
            f"Rechtsänderung am {_fmt(cutover.effective_on)}: {cutover.title} ({cutover.source}). {check} (D-18, P3)"
        )
        key = f"D-18:{cutover.effective_on.isoformat()}:{stage.isoformat()}"
        created += notification_for_key(user_ids=administrators, key=key, message=message)
    return created


# The order matters only for the transitions: a Schlichtung ended or an exemption lapsed first gets no
# further reminders of its own in the same run.
SCANS: tuple[Scan, ...] = (
    Scan("D-12", "Schlichtung nach 4 Wochen beenden", expire_schlichtungen, counts="transitions"),
    Scan("D-04", "Ausnahmen entfallen lassen (Arbeitsaufnahme, § 10-Grund)", lapse_exemptions, counts="transitions"),
    Scan("R-PA-2", "Potenzialanalyse fällig", pa_faellig),
    Scan("R-KP-1", "Kooperationsplan fehlt", kp_fehlt),
    Scan("D-01", "Überprüfung des Kooperationsplans", d01_review),
    Scan("D-02", "§ 10-Prüfung", d02_paragraph10),
    Scan("D-03", "Prüfung Profillage I", d03_profillage),
    Scan("D-04", "Einstellungszusage", d04_einstellungszusage),
    Scan("D-05", "Rückmeldung zur Maßnahme", d05_rueckmeldung),
    Scan("D-06", "Beginn und Ende der Maßnahme", d06_massnahme),
    Scan("D-07", "Nachweis der Eigenbemühungen", d07_nachweis),
    Scan("D-08", "Ergebnis der beraterischen Intervention", d08_intervention),
    Scan("D-09", "Mitwirkungsfrist (Anhörung prüfen)", d09_mitwirkung),
    Scan("D-10", "Äußerungsfrist der Anhörung", d10_anhoerung),
    Scan("D-11", "Frist zur Feststellung der Minderung", d11_feststellung),
    Scan("D-12", "Stand der Schlichtung", d12_schlichtung),
    Scan("D-13", "Widerspruchsfrist (zur Information)", d13_widerspruch),
    Scan("D-14", "Beratungsangebot unter 25", d14_u25),
    Scan("D-16", "Zustimmung der Teamleitung zur Schlichtung", d16_tl_approval),
    Scan("D-17", "Rückkehr ohne RFB prüfen", d17_return_check),
    Scan("D-18", "Rechtsänderungen (Fachadministration)", d18_cutovers, counts="notifications"),
)


def scan_run(scan: Scan, on: date) -> ScanResult:
    outcome = scan.run(on)
    if scan.counts == "transitions":
        return ScanResult(scan.name, scan.label, transitions=outcome, counts=scan.counts)
    if scan.counts == "notifications":
        return ScanResult(scan.name, scan.label, notifications=outcome, counts=scan.counts)
    return ScanResult(scan.name, scan.label, outcome.reminders, outcome.notifications)


def scan_get(key: str) -> Scan:
    return next(scan for scan in SCANS if scan.key == key)


def nightly_run(on: date) -> list[ScanResult]:
    """All scans for the day `on`, in order; each commits its own work (T13)."""
    return [scan_run(scan, on) for scan in SCANS]
