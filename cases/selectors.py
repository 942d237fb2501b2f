"""Reads. Access scoping lives here and only here: every view asks `case_list_visible`.

An IFK and a team lead see the cases of their own team, the Fachadministration sees all.
A case of another team does not exist for the user: 404, never 403, and the denial is logged.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any, cast

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from cases.models import AccessLog, Case, Elb, Role, Team, User
from cases.rows import execute_prepared, instance, json_columns, merge_params
from rules.dates import add_months

KUNDENNUMMER_SEARCH = re.compile(r"^[0-9]{3}[A-Za-z][0-9]{6}$")
ADULT_AGE = 18


_ALL_TEAMS = object()


def _visible_scope(user: User) -> object:
    """Whose cases the user sees: `_ALL_TEAMS`, a team id, or None (no case at all). The one decision behind
    `case_list_visible` and `case_scope_sql`."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.role == Role.FACHADMIN:
        return _ALL_TEAMS
    if user.role in (Role.IFK, Role.TEAMLEITUNG) and user.team_id is not None:
        return user.team_id
    return None


def case_list_visible(user: User) -> QuerySet[Case]:
    scope = _visible_scope(user)
    if scope is None:
        return Case.objects.none()
    if scope is _ALL_TEAMS:
        return Case.objects.all()
    return Case.objects.filter(team_id=scope)


def case_scope_sql(user: User, case_alias: str) -> tuple[str, dict[str, object]]:
    """`case_list_visible` as a condition on the `cases_case` row `case_alias`, with its named parameters, for
    the hand-written queries of the pages every IFK opens all day (worklist, header badge; bench/RESULTS.md
    "Pages"). The same decision (`_visible_scope`); tests/cases/test_scoping.py checks that both select the
    same cases. `case_alias` is an SQL alias chosen by the caller, never input."""
    scope = _visible_scope(user)
    if scope is None:
        return "FALSE", {}
    if scope is _ALL_TEAMS:
        return "TRUE", {}
    return f"{case_alias}.team_id = %(scope_team)s", {"scope_team": scope}


# The case of a case view with eLb, team and responsible IFK, and its access-log row, in one statement: every
# case page asks for it first (bench/RESULTS.md "Pages"). The scope is `case_scope_sql`; the row is written
# whether the case was found (granted) or not (denied), in the same statement, so it cannot be skipped. A page may
# read its own rows in the same statement (`case_get_for_view_with`): each of its columns is read only for a case
# that was found, and is NULL otherwise.
@lru_cache(maxsize=64)
def _case_for_view_sql(scope: str, columns: tuple[str, ...] = ()) -> str:
    own = "".join(f",\n    CASE WHEN found.case_row IS NOT NULL THEN {column} END" for column in columns)
    return f"""
WITH found AS (
    SELECT {json_columns(Case, "c")} AS case_row, {json_columns(Elb, "e")} AS elb_row,
        {json_columns(Team, "t")} AS team_row, {json_columns(User, "u")} AS responsible_row
    FROM "{Case._meta.db_table}" c
    JOIN "{Elb._meta.db_table}" e ON e.id = c.elb_id
    JOIN "{Team._meta.db_table}" t ON t.id = c.team_id
    JOIN "{User._meta.db_table}" u ON u.id = c.responsible_id
    WHERE c.id = %(case)s AND {scope}
),
logged AS (
    INSERT INTO "{AccessLog._meta.db_table}" (user_id, case_id_accessed, view_name, path, outcome)
    SELECT %(user)s, %(case)s, %(view)s, %(path)s,
        CASE WHEN EXISTS (SELECT 1 FROM found) THEN %(granted)s ELSE %(denied)s END
    RETURNING id
)
SELECT found.case_row, found.elb_row, found.team_row, found.responsible_row, (SELECT count(*) FROM logged){own}
FROM (SELECT 1) one LEFT JOIN found ON TRUE
"""  # noqa: S608 (names from the models' meta, the scope from case_scope_sql, the columns from the caller's code)


def case_get_for_view(request: HttpRequest, case_id: int) -> Case:
    """The case for a case view, with exactly one access log row (granted or denied)."""
    return case_get_for_view_with(request, case_id)[0]


def case_get_for_view_with(
    request: HttpRequest,
    case_id: int,
    name: str = "case_for_view",
    columns: tuple[str, ...] = (),
    params: dict[str, Any] | None = None,
) -> tuple[Case, tuple[Any, ...]]:
    """`case_get_for_view`, and in the same statement a page's own columns: `columns` are SQL expressions (the
    caller's code, never input) over `%(case)s` and `params`, returned in their order. The pages every IFK
    opens all day read their rows this way, one round trip fewer (bench/RESULTS.md "Pages")."""
    user = cast(User, request.user)
    scope, scope_params = case_scope_sql(user, "c")
    match = request.resolver_match
    own = {
        "case": case_id,
        "user": user.pk,
        "view": match.view_name if match else "",
        "path": request.path[:500],
        "granted": AccessLog.Outcome.GRANTED,
        "denied": AccessLog.Outcome.DENIED,
    }
    values = merge_params(scope_params, own, params or {})
    with connection.cursor() as cursor:
        execute_prepared(cursor, name, _case_for_view_sql(scope, columns), values)
        case_values, elb, team, responsible, logged, *own = cursor.fetchone()
    if logged != 1:
        raise RuntimeError("Zugriffsprotokoll nicht geschrieben")
    case = instance(Case, case_values)
    if case is None:
        raise Http404("Fall nicht gefunden")
    case.elb = instance(Elb, elb)
    case.team = instance(Team, team)
    case.responsible = instance(User, responsible)
    return case, tuple(own)


def case_list_caseload(
    user: User,
    *,
    query: str = "",
    birth_date: date | None = None,
    mode: str = "",
    mine_only: bool = False,
    minors_only: bool = False,
    open_only: bool = True,
    on: date | None = None,
) -> QuerySet[Case]:
    """The caseload list: visible cases, searchable by name or Kundennummer and birth date, with filters.

    Filters are plain WHERE clauses on one query (the count and the page stay two queries).
    `minors_only` keeps eLb under 18 on `on` (default: today), the age rule of `Elb.is_minor_on`.
    """
    cases = case_list_visible(user).select_related("elb", "responsible")
    if open_only:
        cases = cases.filter(closed_on__isnull=True)
    query = query.strip()
    if query:
        if KUNDENNUMMER_SEARCH.match(query):
            cases = cases.filter(elb__kundennummer=query.upper())
        else:
            condition = Q()
            for word in query.split()[:4]:
                condition &= Q(elb__last_name__icontains=word) | Q(elb__first_name__icontains=word)
            cases = cases.filter(condition)
    if birth_date is not None:
        cases = cases.filter(elb__birth_date=birth_date)
    if mode:
        cases = cases.filter(cooperation_mode=mode)
    if mine_only:
        cases = cases.filter(responsible=user)
    if minors_only:
        # Born after this day = not yet 18. add_months clamps 29 February to the 28th, so someone born
        # on 29 February is of age from 1 March in a common year, as in Elb.age_on.
        cases = cases.filter(elb__birth_date__gt=add_months(on or timezone.localdate(), -12 * ADULT_AGE))
    return cases.order_by("elb__last_name", "elb__first_name", "pk")
