"""Mein Arbeitsplatz: the due and overdue deadlines of the user's cases (RULES.md section 7).

Scope: the cases the user may see (`case_list_visible`, the only scoping decision; `case_scope_sql` is its SQL
form) that are open, and of those the ones the user is the responsible IFK for, or covers today for an absent
colleague (kooperationsplan.notifications_cover); a team lead sees the whole team. One hand-written statement,
whatever the number of cases or items: today's absences, the items of all kinds with their case, eLb and IFK,
and the notifications needing attention.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.models import Role, User, person_name
from cases.rows import execute_prepared, merge_params
from cases.selectors import case_scope_sql
from kooperationsplan.models import (
    AssignmentStatus,
    Escalation,
    EscalationStatus,
    Exemption,
    ExemptionReason,
    ExemptionStatus,
    Kooperationsplan,
    KPStatus,
    MassnahmeZuweisung,
    ReminderStatus,
    SchlichtungOutcome,
)
from kooperationsplan.notifications import PENDING_SQL, header_columns, header_read
from kooperationsplan.notifications_cover import TOUCHING_SQL, AbsenceNotice, absence_notices

# Look-ahead windows: the first reminder of each deadline (RULES.md section 7).
REVIEW_LEAD_DAYS = 28  # D-01: 28 days before the review (schedule the talk)
RUECKMELDUNG_LEAD_DAYS = 7  # D-05
NACHWEIS_LEAD_DAYS = 7  # D-07
EXEMPTION_LEAD_DAYS = 28  # D-02, D-03 (D-04: the recheck date is the job start)
SOON_DAYS = 7  # "in den nächsten 7 Tagen" in the summary
# A page must stay small whatever the caseload: the most urgent items of each kind are shown.
LIMIT_PER_KIND = 200


class Kind:
    REVIEW = "REVIEW"
    RUECKMELDUNG = "RUECKMELDUNG"
    NACHWEIS = "NACHWEIS"
    SCHLICHTUNG = "SCHLICHTUNG"
    AUFFORDERUNG = "AUFFORDERUNG"
    ANHOERUNG = "ANHOERUNG"
    EXEMPTION = "EXEMPTION"


KIND_LABELS = {
    Kind.REVIEW: "Überprüfung des Kooperationsplans",
    Kind.RUECKMELDUNG: "Rückmeldung zur Maßnahme",
    Kind.NACHWEIS: "Nachweis der Eigenbemühungen",
    Kind.SCHLICHTUNG: "Ende der Schlichtung",
    Kind.AUFFORDERUNG: "Frist der Aufforderung",
    Kind.ANHOERUNG: "Äußerungsfrist der Anhörung",
    Kind.EXEMPTION: "Erneute Prüfung der Ausnahme",
}
KIND_ORDER = {kind: position for position, kind in enumerate(KIND_LABELS)}

EXEMPTION_DEADLINES = {
    ExemptionReason.EINSTELLUNGSZUSAGE: "D-04",
    ExemptionReason.PARAGRAPH_10: "D-02",
    ExemptionReason.PROFILLAGE_I: "D-03",
}


def url_for_ids(name: str) -> Callable[[int], str]:
    """`reverse(name, args=[id])` for the many ids of one page: reversed once (with the request's script prefix),
    the id put in. A reverse() per row cost about 50 µs, most of a worklist row."""
    marker = "987654321"
    head, tail = reverse(name, args=[int(marker)]).rsplit(marker, 1)
    return lambda pk: f"{head}{int(pk)}{tail}"


def _days(count: int) -> str:
    return "1 Tag" if count == 1 else f"{count} Tagen"


@dataclass(frozen=True)
class WorklistItem:
    kind: str
    deadline: str  # the deadline ID of RULES.md section 7
    detail: str
    case_id: int
    elb_name: str
    kundennummer: str
    responsible: str
    due_on: date
    days_left: int  # negative when overdue
    url: str = ""  # of the case page; the worklist fills it for all rows at once

    def __post_init__(self) -> None:
        if not self.url:
            object.__setattr__(self, "url", reverse("kp:case", args=[self.case_id]))

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def urgency(self) -> str:
        if self.days_left < 0:
            return f"überfällig seit {_days(-self.days_left)}"
        if self.days_left == 0:
            return "heute fällig"
        return f"fällig in {_days(self.days_left)}"

    @property
    def due_on_text(self) -> str:
        return f"{self.due_on:%d.%m.%Y}"

    @property
    def sort_key(self) -> tuple[date, int, str, int]:
        # Overdue first, then by due date: the due date alone orders both.
        return (self.due_on, KIND_ORDER[self.kind], self.elb_name, self.case_id)


@dataclass(frozen=True)
class WorklistGroup:
    key: str
    title: str
    items: list[WorklistItem]


@dataclass(frozen=True)
class Worklist:
    today: date
    team_view: bool
    groups: list[WorklistGroup]  # overdue, the next 7 days, later; each most urgent first
    notifications: list[WorklistNotification]
    truncated: bool
    user_id: int = 0
    absences: tuple[AbsenceNotice, ...] = ()  # today's absences where the user is absent or covers
    header: tuple[int, Any] = (0, None)  # the page header's badge count and team row (notifications.header_read)

    @property
    def covering(self) -> list[AbsenceNotice]:
        return [absence for absence in self.absences if absence.cover_id == self.user_id]

    @property
    def own_absence(self) -> AbsenceNotice | None:
        return next((absence for absence in self.absences if absence.user_id == self.user_id), None)

    @property
    def show_responsible(self) -> bool:
        return self.team_view or bool(self.covering)

    def _count(self, key: str) -> int:
        return next(len(group.items) for group in self.groups if group.key == key)

    @property
    def overdue_count(self) -> int:
        return self._count("ueberfaellig")

    @property
    def soon_count(self) -> int:
        return self._count("naechste-7-tage")

    @property
    def later_count(self) -> int:
        return self._count("spaeter")

    @property
    def counts_by_kind(self) -> list[tuple[str, int]]:
        counts = Counter(item.kind for group in self.groups for item in group.items)
        return [(label, counts[kind]) for kind, label in KIND_LABELS.items() if counts[kind]]

    @property
    def is_empty(self) -> bool:
        return not any(group.items for group in self.groups) and not self.notifications


def _worklist_cases_sql(user: User, scope: str) -> str:
    """The open cases whose deadlines the user works: `scope` (case_scope_sql), and those of the `owners` (the
    user and whom they cover today, worked out by _WORKLIST_SQL) unless the user leads the team."""
    sql = f'SELECT c.id FROM "cases_case" c WHERE {scope} AND c.closed_on IS NULL'  # noqa: S608 (constants)
    if user.role != Role.TEAMLEITUNG:
        sql += " AND c.responsible_id IN (SELECT id FROM owners)"
    return sql


@cache
def _labels(model: type[Model], field: str) -> dict[str, str]:
    """The German labels of a field's choices (the application has one language), built once."""
    return {str(value): str(label) for value, label in model._meta.get_field(field).flatchoices}


# The worklist is the page an IFK opens most; its items are read by one hand-written query (building seven ORM
# queries cost more than PostgreSQL took to run them; bench/RESULTS.md "Pages"). One branch per item kind, each
# the most urgent LIMIT_PER_KIND + 1 rows of its own table (the extra row says the kind was cut), over the cases
# of `_worklist_cases_sql`, then the case's eLb and IFK. The statement is prepared with a generic plan (one plan
# for all parameter values); plans, assignments and Nachweise are matched to the cases as `_items_sql` says (for
# an IFK case by case: the generic plan of a small database otherwise scanned whole tables, 20,000 plans: 21 ms
# instead of 4.5), the small tables as PostgreSQL sees fit. Columns of a branch: kind, case, due date, the row's
# id, two texts and two dates for the detail line.
# tests/kooperationsplan/test_worklist.py checks each kind's window, states, scoping, order and the cut.
_ITEMS_SQL = """
WITH scope AS MATERIALIZED ({cases}),
due AS (
    (SELECT 'REVIEW' AS kind, p.case_id, p.review_due AS due_on, p.id, p.version_number::text AS text_a,
            p.status::text AS text_b, NULL::date AS date_a, NULL::date AS date_b
     FROM {open}
        SELECT p.case_id, p.id, p.review_due, p.version_number, p.status FROM "kooperationsplan_kooperationsplan" p
        WHERE p.case_id {match} AND p.status IN ({kp_active}, {kp_review}) AND p.review_due <= %(review_until)s
        {close} p
     ORDER BY p.review_due, p.id LIMIT %(limit)s)
    UNION ALL
    (SELECT 'RUECKMELDUNG', z.case_id, z.rueckmeldung_due, z.id, z.title::text, z.status::text, NULL, NULL
     FROM {open}
        SELECT z.case_id, z.id, z.rueckmeldung_due, z.status, m.title
        FROM "kooperationsplan_massnahmezuweisung" z JOIN "kooperationsplan_massnahme" m ON m.id = z.massnahme_id
        WHERE z.case_id {match} AND z.status IN ({schreiben}, {bescheid})
            AND z.rueckmeldung_due <= %(rueckmeldung_until)s
        {close} z
     ORDER BY z.rueckmeldung_due, z.id LIMIT %(limit)s)
    UNION ALL
    (SELECT 'NACHWEIS', n.case_id, n.due_on, n.id, NULL, NULL, n.period_start, n.period_end
     FROM {open}
        SELECT n.case_id, n.id, n.due_on, n.period_start, n.period_end
        FROM "kooperationsplan_eigenbemuehungnachweis" n
        WHERE n.case_id {match} AND n.received_on IS NULL AND n.due_on <= %(nachweis_until)s
        {close} n
     ORDER BY n.due_on, n.id LIMIT %(limit)s)
    UNION ALL
    (SELECT 'SCHLICHTUNG', x.case_id, x.ends_on, x.id, NULL, NULL, x.started_on, NULL
     FROM "kooperationsplan_schlichtung" x
     WHERE x.case_id IN (SELECT id FROM scope) AND x.outcome = {running}
     ORDER BY x.ends_on, x.id LIMIT %(limit)s)
    UNION ALL
    (SELECT 'AUFFORDERUNG', x.case_id, x.compliance_deadline, x.id, x.breach_kind::text, NULL, x.breach_date, NULL
     FROM "kooperationsplan_escalation" x
     WHERE x.case_id IN (SELECT id FROM scope) AND x.status = {aufforderung}
     ORDER BY x.compliance_deadline, x.id LIMIT %(limit)s)
    UNION ALL
    (SELECT 'ANHOERUNG', x.case_id, x.anhoerung_deadline, x.id, x.breach_kind::text, NULL, x.breach_date, NULL
     FROM "kooperationsplan_escalation" x
     WHERE x.case_id IN (SELECT id FROM scope) AND x.status = {anhoerung}
     ORDER BY x.anhoerung_deadline, x.id LIMIT %(limit)s)
    UNION ALL
    (SELECT 'EXEMPTION', x.case_id, x.recheck_due, x.id, x.reason::text, NULL, NULL, NULL
     FROM "kooperationsplan_exemption" x
     WHERE x.case_id IN (SELECT id FROM scope) AND x.status = {exemption_active}
        AND x.recheck_due <= %(exemption_until)s
     ORDER BY x.recheck_due, x.id LIMIT %(limit)s)
)
SELECT due.kind, due.case_id, due.due_on, due.id, due.text_a, due.text_b, due.date_a, due.date_b,
       elb.last_name, elb.first_name, elb.kundennummer, ifk.first_name, ifk.last_name, ifk.username
FROM due
JOIN "cases_case" c ON c.id = due.case_id
JOIN "cases_elb" elb ON elb.id = c.elb_id
JOIN "cases_user" ifk ON ifk.id = c.responsible_id
"""

# The states each branch selects, written into the statement as literals (constants of the models, checked to
# be plain codes): the statement is planned once for all parameter values, and with the states as parameters
# PostgreSQL could not use their statistics or the partial indexes on them.
_STATES = {
    name: f"'{value}'"
    for name, value in {
        "kp_active": KPStatus.ACTIVE,
        "kp_review": KPStatus.UNDER_REVIEW,
        "schreiben": AssignmentStatus.SCHREIBEN_ISSUED,
        "bescheid": AssignmentStatus.BESCHEID_ISSUED,
        "running": SchlichtungOutcome.RUNNING,
        "aufforderung": EscalationStatus.AUFFORDERUNG_ISSUED,
        "anhoerung": EscalationStatus.ANHOERUNG,
        "exemption_active": ExemptionStatus.ACTIVE,
    }.items()
    if re.fullmatch(r"[A-Z_]+", value)
}
if len(_STATES) != 8:
    raise ImproperlyConfigured("Arbeitsplatz: ein Status ist kein einfacher Code")

KIND_DEADLINES = {
    Kind.REVIEW: "D-01",
    Kind.RUECKMELDUNG: "D-05",
    Kind.NACHWEIS: "D-07",
    Kind.SCHLICHTUNG: "D-12",
    Kind.AUFFORDERUNG: "D-09",
    Kind.ANHOERUNG: "D-10",
}


# How the three large tables are matched to the cases: an IFK's ~200 cases one by one (LATERAL; OFFSET 0 keeps
# PostgreSQL from flattening it into a join its generic plan may turn into a scan of the whole table), a team
# lead's whole team as a set (per case, 2,000 cases took 170 ms instead of 64).
_ONE_BY_ONE = {"open": "scope s CROSS JOIN LATERAL (", "match": "= s.id", "close": "OFFSET 0)"}
_AS_A_SET = {"open": "(", "match": "IN (SELECT id FROM scope)", "close": ")"}


def _items_sql(user: User, cases_sql: str) -> str:
    lookup = _AS_A_SET if user.role == Role.TEAMLEITUNG else _ONE_BY_ONE
    return _ITEMS_SQL.format(cases=cases_sql, **_STATES, **lookup)


def _detail(kind: str, text_a: str, text_b: str, date_a: date, date_b: date) -> str:
    if kind == Kind.REVIEW:
        return f"Version {text_a}, {_labels(Kooperationsplan, 'status')[text_b]}"
    if kind == Kind.RUECKMELDUNG:
        return f"{text_a} ({_labels(MassnahmeZuweisung, 'status')[text_b]})"
    if kind == Kind.NACHWEIS:
        return f"Zeitraum {date_a:%d.%m.%Y}–{date_b:%d.%m.%Y}"
    if kind == Kind.SCHLICHTUNG:
        return f"begonnen am {date_a:%d.%m.%Y}"
    if kind in (Kind.AUFFORDERUNG, Kind.ANHOERUNG):
        return f"{_labels(Escalation, 'breach_kind')[text_a]} vom {date_a:%d.%m.%Y}"
    return _labels(Exemption, "reason")[text_a]


def _items_parameters(on: date) -> dict[str, object]:
    return {
        "limit": LIMIT_PER_KIND + 1,
        "review_until": on + timedelta(days=REVIEW_LEAD_DAYS),
        "rueckmeldung_until": on + timedelta(days=RUECKMELDUNG_LEAD_DAYS),
        "nachweis_until": on + timedelta(days=NACHWEIS_LEAD_DAYS),
        "exemption_until": on + timedelta(days=EXEMPTION_LEAD_DAYS),
    }


def _day(value: str | None) -> date | None:
    """A date of a row read as JSON."""
    return None if value is None else date.fromisoformat(value)


def _items_from_rows(rows: list[Any], on: date) -> tuple[list[WorklistItem], bool]:
    """All items, most urgent first, and whether some kind had more than LIMIT_PER_KIND items.

    The deadlines: D-01 (R-KP-4, R-FS-1) review overdue or due within 28 days; D-05 (001 §5.1, §6.1)
    Vorstellung/Rückmeldung to an issued assignment within 7 days or past; D-07 (001 §5.2, R-EB-4) evidence
    not received, due within 7 days or past; D-12 (L-07, R-SCH-2) a running Schlichtung ends after 4 weeks at
    the latest; D-09 the compliance deadline of an Aufforderung; D-10 the Äußerungsfrist of an Anhörung;
    D-02, D-03, D-04 (001 §8) re-check of an active exemption within 28 days or past.
    """
    rows = [[kind, case_id, _day(due_on), pk, *rest] for kind, case_id, due_on, pk, *rest in rows]
    # The order within a kind as its branch read it (due date, id): the cut is per kind.
    rows.sort(key=lambda row: (KIND_ORDER[row[0]], row[2], row[3]))
    per_kind = Counter(row[0] for row in rows)
    truncated = any(count > LIMIT_PER_KIND for count in per_kind.values())
    kept: Counter[str] = Counter()
    items = []
    case_url = url_for_ids("kp:case")
    for kind, case_id, due_on, _pk, text_a, text_b, date_a, date_b, last, first, kundennummer, *ifk in rows:
        kept[kind] += 1
        if kept[kind] > LIMIT_PER_KIND:
            continue
        ifk_first, ifk_last, ifk_username = ifk
        items.append(
            WorklistItem(
                kind=kind,
                deadline=EXEMPTION_DEADLINES[text_a] if kind == Kind.EXEMPTION else KIND_DEADLINES[kind],
                detail=_detail(kind, text_a, text_b, _day(date_a), _day(date_b)),
                case_id=case_id,
                elb_name=f"{last}, {first}",
                kundennummer=kundennummer,
                responsible=person_name(ifk_first, ifk_last, ifk_username),
                due_on=due_on,
                days_left=(due_on - on).days,
                url=case_url(case_id),
            )
        )
    items.sort(key=lambda item: item.sort_key)
    return items, truncated


@dataclass(frozen=True)
class WorklistNotification:
    """A notification needing attention as the worklist shows it: message, dates, whose it is, the case."""

    pk: int
    message: str
    created_at: datetime
    due_on: date | None  # of the reminder, if any
    user_id: int
    owner_name: str  # the notification's owner: the user or a colleague they cover
    case_id: int | None
    elb_name: str
    kundennummer: str
    case_url: str = ""
    read_url: str = ""  # where "Als gelesen markieren" posts to

    @property
    def created_on_text(self) -> str:
        return f"{timezone.localtime(self.created_at):%d.%m.%Y}"

    @property
    def due_on_text(self) -> str:
        return f"{self.due_on:%d.%m.%Y}" if self.due_on else ""


# `notifications_pending` of the worklist's `owners` (the user and whom they cover today), newest first, with
# the reminder's due date, the owner and the case's eLb; one about a case the user may not see is left out.
_NOTIFICATIONS_SQL = """
SELECT n.id, n.message, n.created_at, r.due_on, n.user_id, owner.first_name, owner.last_name, owner.username,
       n.case_id, elb.last_name, elb.first_name, elb.kundennummer
FROM "kooperationsplan_notification" n
JOIN "cases_user" owner ON owner.id = n.user_id
LEFT JOIN "kooperationsplan_reminder" r ON r.id = n.reminder_id
LEFT JOIN "cases_case" c ON c.id = n.case_id
LEFT JOIN "cases_elb" elb ON elb.id = c.elb_id
WHERE n.user_id IN (SELECT id FROM owners)
    AND (n.case_id IS NULL OR {scope})
    AND {pending}
ORDER BY n.created_at DESC, n.id DESC
LIMIT %(notes_limit)s
"""


def _notifications_from_rows(rows: list[Any]) -> list[WorklistNotification]:
    notifications = []
    case_url, read_url = url_for_ids("kp:case"), url_for_ids("notifications:read")
    for pk, message, created_at, due_on, user_id, first, last, username, case_id, *elb in rows:
        elb_last, elb_first, kundennummer = elb
        notifications.append(
            WorklistNotification(
                pk=pk,
                message=message,
                created_at=datetime.fromisoformat(created_at),
                due_on=_day(due_on),
                user_id=user_id,
                owner_name=person_name(first, last, username),
                case_id=case_id,
                elb_name=f"{elb_last}, {elb_first}" if case_id else "",
                kundennummer=kundennummer or "",
                case_url=case_url(case_id) if case_id else "",
                read_url=read_url(pk),
            )
        )
    return notifications


# The whole worklist in one statement: today's absences touching the user, the owners they give (the user and
# whom they cover), the items and the notifications of those owners, each set as a JSON array of its rows, and the
# page header's badge count and team (notifications.header_columns): one round trip for the whole page.
# tests/kooperationsplan/test_worklist.py checks the items' windows, states, scoping, order and cut, the
# notifications against `notifications_pending` and the absences against `absences_on`.
_WORKLIST_SQL = """
WITH absences(user_id, cover_id, ends_on, uf, ul, uu, cf, cl, cu, id) AS ({absences}),
owners AS (SELECT %(user)s::bigint AS id UNION ALL SELECT a.user_id FROM absences a WHERE a.cover_id = %(user)s),
items(kind, case_id, due_on, id, text_a, text_b, date_a, date_b, el, ef, kn, f, l, u) AS ({items}),
notes(id, message, created_at, due_on, user_id, f, l, u, case_id, el, ef, kn) AS ({notifications})
SELECT
  (SELECT coalesce(json_agg(json_build_array(user_id, cover_id, ends_on, uf, ul, uu, cf, cl, cu, id)
       ORDER BY ends_on, id), '[]') FROM absences),
  (SELECT coalesce(json_agg(json_build_array(kind, case_id, due_on, id, text_a, text_b, date_a, date_b, el, ef, kn,
       f, l, u)), '[]') FROM items),
  (SELECT coalesce(json_agg(json_build_array(id, message, created_at, due_on, user_id, f, l, u, case_id, el, ef, kn)
       ORDER BY created_at DESC, id DESC), '[]') FROM notes),
  {header}
"""


def _worklist_rows(
    user: User, *, on: date
) -> tuple[list[AbsenceNotice], tuple[list[WorklistItem], bool], list[WorklistNotification], tuple[int, Any]]:
    scope, params = case_scope_sql(user, "c")
    header, header_params = header_columns(user, on=on)
    sql = _WORKLIST_SQL.format(
        absences=TOUCHING_SQL,
        items=_items_sql(user, _worklist_cases_sql(user, scope)),
        notifications=_NOTIFICATIONS_SQL.format(scope=scope, pending=PENDING_SQL),
        header=", ".join(header),
    )
    own = {"day": on, "user": user.pk, "open": ReminderStatus.OPEN, "notes_limit": LIMIT_PER_KIND}
    params = merge_params(params, _items_parameters(on), own, header_params)
    with connection.cursor() as cursor:
        execute_prepared(cursor, "worklist", sql, params)
        absences, items, notes, count, team = cursor.fetchone()
    return absence_notices(absences), _items_from_rows(items, on), _notifications_from_rows(notes), (count, team)


def worklist_build(user: User, *, on: date) -> Worklist:
    """The worklist of `user` on `on`, with the page header's badge count and team read in the same statement."""
    absences, (items, truncated), notifications, header = _worklist_rows(user, on=on)
    soon = on + timedelta(days=SOON_DAYS)
    groups = [
        WorklistGroup("ueberfaellig", "Überfällig", [item for item in items if item.due_on < on]),
        WorklistGroup(
            "naechste-7-tage",
            "Heute und in den nächsten 7 Tagen fällig",
            [item for item in items if on <= item.due_on <= soon],
        ),
        WorklistGroup("spaeter", "Später fällig", [item for item in items if item.due_on > soon]),
    ]
    return Worklist(
        today=on,
        team_view=user.role == Role.TEAMLEITUNG,
        groups=groups,
        notifications=notifications,
        truncated=truncated,
        user_id=user.pk,
        absences=tuple(absences),
        header=header,
    )


@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    worklist = worklist_build(user, on=timezone.localdate())
    header_read(request, *worklist.header)
    return render(request, "kooperationsplan/worklist.html", {"worklist": worklist})
