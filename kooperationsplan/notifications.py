"""Notifications of the nightly scans: who sees them, marking them read, the header badge, the e-mail digest.

A person sees their own notifications and, on the days they cover an absent colleague, the colleague's
(kooperationsplan.notifications_cover). A notification about a case the person may not see (another
team) is never shown. A notification needs attention while it is unread and its reminder still open:
acting on the subject closes the reminder, and the notification with it.

The daily digest (docs/decisions/0006): one e-mail per person and day with the notifications not yet
e-mailed, each with the Kundennummer and a link, no names and no health data. The notification rows are
claimed by compare-and-set (`emailed_at IS NULL`) and the digest row is unique per person and day, so a
second run, or a second process at the same time, sends nothing (T12).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cases.models import Team, User
from cases.rows import execute_prepared
from cases.selectors import case_list_visible, case_scope_sql
from kooperationsplan.models import Notification, ReminderStatus
from kooperationsplan.notifications_cover import ABSENT_ON_DAY_SQL, covers_on, user_and_covered_ids
from kooperationsplan.reminders import notifications_pending_filter

DIGEST_MAX_LINES = 50


def notifications_visible(user: User, *, on: date, owners: Collection[int] | None = None) -> QuerySet[Notification]:
    """The user's own notifications and those of the colleagues they cover on `on`, about visible cases.

    `owners`: the ids of the user and of the colleagues they cover on `on`, if the caller has read them
    already (the worklist); else they are a subquery. The case check is a correlated EXISTS (one primary key
    look-up per notification of the user), not `case IN (the team's cases)`, which reads every case of the
    team for each page's badge."""
    visible_case = case_list_visible(user).filter(pk=OuterRef("case_id"))
    return Notification.objects.filter(
        Q(user_id__in=owners if owners is not None else user_and_covered_ids(user, on)),
        Q(case__isnull=True) | Exists(visible_case),
    )


def notifications_pending(user: User, *, on: date, owners: Collection[int] | None = None) -> QuerySet[Notification]:
    return notifications_visible(user, on=on, owners=owners).filter(notifications_pending_filter())


def notification_mark_read(*, user: User, notification_id: int) -> bool:
    """Mark one notification read; False if it is not the user's (or a covered colleague's) to read."""
    rows = notifications_visible(user, on=timezone.localdate()).filter(pk=notification_id)
    if not rows.exists():
        return False
    rows.filter(read_at__isnull=True).update(read_at=timezone.now())
    return True


def notifications_mark_all_read(*, user: User) -> int:
    return notifications_pending(user, on=timezone.localdate()).update(read_at=timezone.now())


# `notifications_pending_filter` in SQL, on a notification `n` LEFT JOINed to its reminder `r`.
PENDING_SQL = "n.read_at IS NULL AND (n.reminder_id IS NULL OR r.status = %(open)s)"

# The pending notifications of `notifications_pending` (own and covered on the day, about a visible case or
# none, unread, reminder open or none) as hand-written SQL for the header badge on every page: building the
# ORM query cost more than running it (bench/RESULTS.md "Pages"). tests/kooperationsplan/
# test_nightly_notifications.py checks that it counts what `notifications_pending` selects.
_PENDING_COUNT_SQL = """
SELECT count(*) FROM "kooperationsplan_notification" n
LEFT JOIN "kooperationsplan_reminder" r ON r.id = n.reminder_id
WHERE n.user_id IN (
        SELECT %(user)s
        UNION ALL
        SELECT a.user_id FROM "kooperationsplan_absencecover" a WHERE a.cover_id = %(user)s AND {absent}
    )
    AND (n.case_id IS NULL OR EXISTS (SELECT 1 FROM "cases_case" c WHERE c.id = n.case_id AND {scope}))
    AND {pending}
"""


@lru_cache(maxsize=16)
def _pending_count_sql(scope: str) -> str:
    return f"({_PENDING_COUNT_SQL.format(scope=scope, pending=PENDING_SQL, absent=ABSENT_ON_DAY_SQL)})"


# The user's team as the header shows it, on its own or as one JSON array in a page's statement.
_HEADER_TEAM_JSON = '(SELECT json_build_array(t.id, t.jobcenter_id, t.name) FROM "cases_team" t WHERE t.id = %(team)s)'


def header_columns(user: User, *, on: date) -> tuple[tuple[str, str], dict[str, Any]]:
    """What every page header shows, the badge count (`notifications_pending` on `on`) and the user's team, as two
    SQL columns with their parameters. A page adds them to its own statement (the case pages, the editor, the
    worklist) and passes the two values to `header_read`: its header then costs no query."""
    scope, params = case_scope_sql(user, "c")
    params |= {"user": user.pk, "day": on, "open": ReminderStatus.OPEN, "team": user.team_id}
    return (_pending_count_sql(scope), _HEADER_TEAM_JSON), params


def notifications_pending_count(user: User, *, on: date, with_team: bool = False) -> tuple[int, Team | None]:
    """The number of `notifications_pending(user, on=on)`, and with `with_team` the user's team read in the
    same query (the header shows both): `header_columns` as a statement of its own."""
    (count_sql, team_sql), params = header_columns(user, on=on)
    with_team = with_team and user.team_id is not None
    with connection.cursor() as cursor:
        if with_team:
            execute_prepared(cursor, "badge_team", f"SELECT {count_sql}, {team_sql}", params)
        else:
            execute_prepared(cursor, "badge_count", f"SELECT {count_sql}", params)
        count, *team = cursor.fetchone()
    return count, _team(team[0]) if with_team else None


def _team(row: Sequence[object]) -> Team:
    """The header's team from (id, jobcenter_id, name), as the ORM would load it."""
    return Team.from_db("default", ["id", "jobcenter_id", "name"], row)


def _header_team_missing(user: User) -> bool:
    """The user has a team the header shows that is not loaded yet."""
    return user.team_id is not None and not User._meta.get_field("team").is_cached(user)


def header_read(request: HttpRequest, count: int, team: Sequence[object] | None) -> None:
    """The values of `header_columns`: the badge shows the count, the header the team, without a query."""
    user = request.user
    if isinstance(user, User) and team is not None and _header_team_missing(user):
        user.team = _team(team)
    request.kp_header_count = count  # type: ignore[attr-defined]


class NotificationBadge:
    """The unread count in the page header, computed once per page and only when the page shows it.

    Every page header shows the user's team, which costs a query of its own; the count is read in that
    same query, so the badge adds no query to any page. A page that read both with its own statement
    (`header_columns`, `header_read`) costs the header no query at all.
    """

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    @cached_property
    def count(self) -> int:
        user = self.request.user
        if not isinstance(user, User) or not user.is_authenticated:
            return 0
        known = getattr(self.request, "kp_header_count", None)
        if known is not None:
            return int(known)
        count, team = notifications_pending_count(user, on=timezone.localdate(), with_team=_header_team_missing(user))
        if team is not None:
            user.team = team
        return count


def notification_badge(request: HttpRequest) -> dict[str, NotificationBadge]:
    """Context processor for templates/base.html."""
    return {"notification_badge": NotificationBadge(request)}


# --- E-mail digest -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestLine:
    message: str
    kundennummer: str
    link: str
    covering_for: str


class _NothingToSend(Exception):
    """Raised inside the transaction to undo a claim that found nothing (or a digest already sent today)."""


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def digest_recipients(on: date) -> dict[int, list[int]]:
    """Recipient → owners whose new notifications they get on `on` (an absent IFK's go to the cover)."""
    owners = (
        Notification.objects.filter(emailed_at__isnull=True)
        .filter(notifications_pending_filter())
        .values_list("user_id", flat=True)
        .distinct()
    )
    covers = covers_on(on)
    recipients: dict[int, list[int]] = {}
    for owner in owners:
        recipients.setdefault(covers.get(owner, owner), []).append(owner)
    return recipients


def digest_send_one(*, recipient_id: int, owner_ids: list[int], on: date) -> int:
    """Send one person's digest for `on`; returns the number of notifications it lists (0: nothing sent)."""
    try:
        with transaction.atomic():
            recipient = User.objects.get(pk=recipient_id)
            if not recipient.is_active or not recipient.email:
                raise _NothingToSend
            claimable = (
                Notification.objects.filter(user_id__in=owner_ids, emailed_at__isnull=True)
                .filter(notifications_pending_filter())
                .values("pk")
            )
            # Compare-and-set: a concurrent run waits for our row locks and then finds the rows taken.
            claimed = list(
                Notification.objects.filter(pk__in=Subquery(claimable), emailed_at__isnull=True)
                .select_related("case__elb", "user")
                .order_by("created_at", "pk")
                .select_for_update(of=("self",))
            )
            if not claimed:
                raise _NothingToSend
            Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(emailed_at=timezone.now())
            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    INSERT INTO kooperationsplan_notificationdigest (user_id, day, notification_count)
                    VALUES (%s, %s, %s) ON CONFLICT (user_id, day) DO NOTHING
                    """,
                    [recipient.pk, on, len(claimed)],
                )
                if cursor.rowcount == 0:
                    # Today's digest went out already: the rest waits for tomorrow's (one mail a day).
                    raise _NothingToSend
            _digest_message(recipient, claimed, on).send()
            return len(claimed)
    except _NothingToSend:
        return 0


def _digest_message(recipient: User, notifications: list[Notification], on: date) -> EmailMessage:
    lines = [
        DigestLine(
            message=notification.message,
            kundennummer=notification.case.elb.kundennummer if notification.case else "",
            link=_absolute(reverse("kp:case", args=[notification.case_id]) if notification.case_id else ""),
            covering_for=""
            if notification.user_id == recipient.pk
            else (notification.user.get_full_name() or notification.user.username),
        )
        for notification in notifications[:DIGEST_MAX_LINES]
    ]
    count = len(notifications)
    subject = f"Kooperationsplan: {count} neue Benachrichtigung{'en' if count != 1 else ''} am {on:%d.%m.%Y}"
    body = render_to_string(
        "kooperationsplan/email/digest.txt",
        {
            "recipient": recipient,
            "lines": lines,
            "count": count,
            "more": count - len(lines),
            "day": on,
            "list_url": _absolute(reverse("notifications:list")),
        },
    )
    return EmailMessage(subject=subject, body=body, to=[recipient.email])


def digest_send(on: date) -> int:
    """The digests of `on`; returns how many e-mails were sent."""
    sent = 0
    for recipient_id, owner_ids in sorted(digest_recipients(on).items()):
        if digest_send_one(recipient_id=recipient_id, owner_ids=owner_ids, on=on):
            sent += 1
    return sent
