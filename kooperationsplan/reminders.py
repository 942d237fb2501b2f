"""Reminders of the nightly scans: how they are written (set-based) and how acting on a subject closes them.

RULES.md section 7, reminder hygiene: one reminder per subject, kind and stage (the unique constraint
`reminder_unique_subject_kind_due` makes every scan idempotent, T12); every reminder names its rule ID;
acting on the subject closes its reminders. The services call `reminders_close` in the same
transaction as the step, so a refused step closes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db import connection, models
from django.db.models import Q, QuerySet
from django.utils import timezone

from kooperationsplan.models import Reminder, ReminderKind, ReminderStatus

Kind = ReminderKind


def subject_label(model: type[models.Model] | models.Model) -> str:
    """The `subject_type` of a reminder: the model label, e.g. "kooperationsplan.Kooperationsplan"."""
    return model._meta.label


def reminders_open(subject: models.Model, kinds: Iterable[str]) -> QuerySet[Reminder]:
    return Reminder.objects.filter(
        subject_type=subject_label(subject), subject_id=subject.pk, kind__in=list(kinds), status=ReminderStatus.OPEN
    )


def reminders_close(subject: models.Model, kinds: Iterable[str]) -> int:
    """Acting on the subject closes its open reminders of these kinds (status DONE); returns how many."""
    return reminders_open(subject, kinds).update(status=ReminderStatus.DONE, done_at=timezone.now())


def reminders_close_for_case(case: models.Model, kinds: Iterable[str]) -> int:
    """Close the open reminders of these kinds on any subject of the case (e.g. D-14 once a talk is offered)."""
    return Reminder.objects.filter(case=case, kind__in=list(kinds), status=ReminderStatus.OPEN).update(
        status=ReminderStatus.DONE, done_at=timezone.now()
    )


# Events of the state machines (rules.states) that deal with a reminder's subject. An event not listed
# closes nothing: e.g. the Aufforderung starts D-09 instead of ending a deadline.
ASSIGNMENT_EVENT_CLOSES: dict[str, tuple[str, ...]] = {
    "report": (Kind.D05_RUECKMELDUNG,),
    "not_reported": (Kind.D05_RUECKMELDUNG,),
    "start": (Kind.D05_RUECKMELDUNG, Kind.D06_MASSNAHME),
    "complete": (Kind.D06_MASSNAHME,),
    "abort": (Kind.D06_MASSNAHME,),
    "abort_under_bescheid": (Kind.D06_MASSNAHME,),
    "withdraw": (Kind.D05_RUECKMELDUNG, Kind.D06_MASSNAHME),
    "aufheben": (Kind.D05_RUECKMELDUNG, Kind.D06_MASSNAHME),
}
_ESCALATION_ENDS = (Kind.D08_BI_ERGEBNIS, Kind.D09_MITWIRKUNG, Kind.D10_ANHOERUNG, Kind.D11_FESTSTELLUNG)
ESCALATION_EVENT_CLOSES: dict[str, tuple[str, ...]] = {
    "intervention_attended": (Kind.D08_BI_ERGEBNIS,),
    "intervention_missed": (Kind.D08_BI_ERGEBNIS,),
    "wichtiger_grund": _ESCALATION_ENDS,
    "clarified": _ESCALATION_ENDS,
    "monitor": _ESCALATION_ENDS,
    "complied": _ESCALATION_ENDS,
    "anhoerung": (Kind.D09_MITWIRKUNG,),
    "anhoerung_closed": (Kind.D10_ANHOERUNG,),
    "no_minderung": _ESCALATION_ENDS,
    "minderung": _ESCALATION_ENDS,
    "minderung_period_over": (Kind.D14_U25,),
    "pflicht_erfuellt": (Kind.D14_U25,),
}


def reminders_close_on_event(subject: models.Model, event: str) -> int:
    """Close what a transition of an assignment (RULES.md 5.3) or an escalation (5.4) has dealt with."""
    table = ESCALATION_EVENT_CLOSES if subject._meta.model_name == "escalation" else ASSIGNMENT_EVENT_CLOSES
    kinds = table.get(event, ())
    return reminders_close(subject, kinds) if kinds else 0


def notifications_pending_filter() -> Q:
    """A notification needs attention while it is unread and its reminder (if any) is still open."""
    return Q(read_at__isnull=True) & (Q(reminder__isnull=True) | Q(reminder__status=ReminderStatus.OPEN))


# --- Writing reminders: one statement per batch ------------------------------------------------------

# The rows CTE yields at least (case_id, assignee_id, subject_id, due_on, remind_on). Reminders and their
# notifications are written by one statement, so no reminder is ever left without its notification; a
# reminder that exists already (a second run, or another process at the same time, T12) adds nothing.
# The messages and the team-lead condition are SQL expressions over the inserted row `i` (and, for rows
# computed in Python, the candidate row `rows`): they are only evaluated for reminders that are new, and
# `rows` is referenced once when the messages do not need it, so PostgreSQL streams it into the INSERT.
_WRITE_SQL = """
WITH rows AS ({rows}),
inserted AS (
    INSERT INTO kooperationsplan_reminder AS r
        (case_id, assignee_id, kind, subject_type, subject_id, due_on, remind_on, rule_id, status)
    SELECT case_id, assignee_id, %(kind)s, %(subject_type)s, subject_id, due_on, remind_on, %(rule_id)s, 'OPEN'
    FROM rows
    ON CONFLICT ON CONSTRAINT reminder_unique_subject_kind_due DO NOTHING
    RETURNING r.id, r.case_id, r.assignee_id, r.subject_id, r.due_on, r.remind_on
),
recipients AS (
    SELECT i.id AS reminder_id, i.case_id, i.assignee_id AS user_id, {message} AS message
    FROM inserted i {join_rows}
    UNION ALL
    SELECT i.id, i.case_id, lead.id, {tl_message}
    FROM inserted i {join_rows}
    JOIN cases_case c ON c.id = i.case_id
    JOIN cases_user lead ON lead.team_id = c.team_id AND lead.role = 'TL' AND lead.is_active
    WHERE lead.id <> i.assignee_id AND {tl_condition}
),
notified AS (
    INSERT INTO kooperationsplan_notification (user_id, case_id, reminder_id, message)
    SELECT user_id, case_id, reminder_id, message FROM recipients
    ON CONFLICT (user_id, reminder_id) DO NOTHING
    RETURNING id
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM notified)
"""
_JOIN_ROWS = "JOIN rows USING (subject_id, due_on, remind_on)"

_UNNEST_ROWS = """
SELECT * FROM unnest(
    %(case_id)s::bigint[], %(assignee_id)s::bigint[], %(team_id)s::bigint[], %(subject_id)s::bigint[],
    %(due_on)s::date[], %(remind_on)s::date[], %(message)s::text[], %(tl_message)s::text[]
) AS t(case_id, assignee_id, team_id, subject_id, due_on, remind_on, message, tl_message)
"""


@dataclass(frozen=True)
class ReminderRow:
    """One reminder to write; `tl_message` set means every team lead of the team is notified as well."""

    case_id: int
    assignee_id: int
    team_id: int
    subject_id: int
    due_on: date
    remind_on: date
    message: str
    tl_message: str | None = None


@dataclass(frozen=True)
class Written:
    reminders: int = 0
    notifications: int = 0

    def __add__(self, other: Written) -> Written:
        return Written(self.reminders + other.reminders, self.notifications + other.notifications)


def reminders_write_sql(
    *,
    kind: str,
    subject_type: str,
    rule_id: str,
    rows_sql: str,
    params: dict[str, object],
    message_sql: str,
    team_lead_message_sql: str = "NULL",
    team_lead_condition_sql: str = "false",
) -> Written:
    """Write the reminders a SELECT finds (the D-01 scan: one statement for any number of plans).

    The message expressions may only use the inserted reminder `i` (id, case_id, assignee_id, subject_id,
    due_on, remind_on).
    """
    sql = _WRITE_SQL.format(
        rows=rows_sql,
        join_rows="",
        message=message_sql,
        tl_message=team_lead_message_sql,
        tl_condition=team_lead_condition_sql,
    )
    return _execute(sql, {**params, "kind": kind, "subject_type": subject_type, "rule_id": rule_id})


def _execute(sql: str, params: dict[str, object]) -> Written:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        reminders, notifications = cursor.fetchone()
    return Written(reminders, notifications)


def message_sql(template: str, column: str, name: str) -> tuple[str, dict[str, str]]:
    """A message template with a "{due}" placeholder as an SQL expression over a date column (dd.mm.yyyy)."""
    prefix, _, suffix = template.partition("{due}")
    sql = f"(%({name}_a)s || to_char({column}, 'DD.MM.YYYY') || %({name}_b)s)"
    return sql, {f"{name}_a": prefix, f"{name}_b": suffix}


def reminders_write(*, kind: str, subject_type: str, rule_id: str, rows: Sequence[ReminderRow]) -> Written:
    """Write reminders computed in Python (working days, month ends) in one statement per batch."""
    if not rows:
        return Written()
    columns = {
        name: [getattr(row, name) for row in rows]
        for name in ("case_id", "assignee_id", "team_id", "subject_id", "due_on", "remind_on", "message", "tl_message")
    }
    sql = _WRITE_SQL.format(
        rows=_UNNEST_ROWS,
        join_rows=_JOIN_ROWS,
        message="rows.message",
        tl_message="rows.tl_message",
        tl_condition="rows.tl_message IS NOT NULL",
    )
    return _execute(sql, {**columns, "kind": kind, "subject_type": subject_type, "rule_id": rule_id})


def notification_for_key(*, user_ids: Sequence[int], key: str, message: str) -> int:
    """Notifications without a reminder (D-18), once per person and key; returns how many were new."""
    if not user_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO kooperationsplan_notification (user_id, message, key)
            SELECT user_id, %(message)s, %(key)s FROM unnest(%(user_ids)s::bigint[]) AS t(user_id)
            ON CONFLICT (user_id, key) WHERE NOT (key = '') DO NOTHING
            """,
            {"user_ids": list(user_ids), "key": key, "message": message[:300]},
        )
        return cursor.rowcount
