"""Query counts of a view without the base layout's queries (session, user, team, notification badge, the
session renewal), so that a pinned number says what the view itself does and a change of the layout does
not move it. The total must still not grow with the rows; the tests assert that separately."""

from __future__ import annotations

from collections.abc import Iterable

LAYOUT_MARKERS = (
    'FROM "django_session"',
    'UPDATE "django_session"',
    "SAVEPOINT",
    'FROM "kooperationsplan_notification"',
    "EXECUTE kp_badge_",  # the header badge as a prepared statement (cases/rows.py)
    "EXECUTE kp_header_team_",  # the header's team when the page knows the badge count
)


def _is_layout(sql: str) -> bool:
    if any(marker in sql for marker in LAYOUT_MARKERS):
        return True
    # request.user and the header's user.team: single-row lookups by primary key.
    return sql.startswith(('SELECT "cases_user".', 'SELECT "cases_team".')) and sql.endswith("LIMIT 21")


def view_queries(captured: Iterable[dict]) -> list[str]:
    return [query["sql"] for query in captured if not _is_layout(query["sql"])]
