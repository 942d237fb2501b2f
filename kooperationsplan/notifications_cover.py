"""Absence cover: a team lead sets an IFK absent for a period, with a cover from the same team.

Nothing is moved: reminders and notifications keep their owner, and the worklist, the notification list,
the header badge and the e-mail digest ask who covers whom on the day (docs/decisions/0006). So the
cover sees the absent IFK's entries during the period, and they are the IFK's own again afterwards,
without a job that could miss the return.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cases.models import Role, User, person_name
from kooperationsplan.models import AbsenceCover


class AbsenceRefused(Exception):
    """The absence cannot be entered or ended as asked; the German message says why. Nothing changed."""


def absences_on(day: date) -> QuerySet[AbsenceCover]:
    return AbsenceCover.objects.filter(withdrawn=False, starts_on__lte=day, ends_on__gte=day)


def covered_user_ids(user: User, day: date) -> QuerySet[AbsenceCover]:
    """The people `user` covers on `day`, as a subquery (`user_id__in=`): never a query of its own."""
    return absences_on(day).filter(cover=user).values("user_id")


def user_and_covered_ids(user: User, day: date) -> QuerySet[User]:
    """The user's own id and those of the people they cover on `day`, as one subquery (`x_id__in=`).

    `x = me OR x IN (covered)` cannot use an index on x and scans the whole table; `x IN (me UNION ALL
    covered)` reads the index once per id.
    """
    return User.objects.filter(pk=user.pk).values("pk").union(covered_user_ids(user, day).order_by(), all=True)


def covers_on(day: date) -> dict[int, int]:
    """Absent person → cover on `day` (for the e-mail digest: a handful of rows)."""
    return dict(absences_on(day).values_list("user_id", "cover_id"))


@dataclass(frozen=True)
class AbsenceNotice:
    """Today's absence as the worklist's notice shows it: who is absent until when, and who covers."""

    user_id: int
    cover_id: int
    ends_on: date
    user_name: str
    cover_name: str


# `absences_on(day)` in SQL, on an absence `a`.
ABSENT_ON_DAY_SQL = "NOT a.withdrawn AND a.starts_on <= %(day)s AND a.ends_on >= %(day)s"

# `absences_on(day)` where the user is absent or the cover, with both names, in hand-written SQL, for the
# worklist's statement (kooperationsplan.worklist), which asks on every visit and almost always finds nothing.
# tests/kooperationsplan/test_nightly_notifications.py checks it against `absences_on`.
TOUCHING_SQL = f"""
SELECT a.user_id, a.cover_id, a.ends_on, u.first_name, u.last_name, u.username, c.first_name, c.last_name, c.username,
       a.id
FROM "kooperationsplan_absencecover" a
JOIN "cases_user" u ON u.id = a.user_id
JOIN "cases_user" c ON c.id = a.cover_id
WHERE {ABSENT_ON_DAY_SQL} AND (a.user_id = %(user)s OR a.cover_id = %(user)s)
ORDER BY a.ends_on, a.id
"""  # noqa: S608 (a constant of this module)


def absence_notices(rows: Iterable[Sequence[Any]]) -> list[AbsenceNotice]:
    """The rows of TOUCHING_SQL, read as JSON (dates as text) by the worklist's statement."""
    return [
        AbsenceNotice(
            user_id=user_id,
            cover_id=cover_id,
            ends_on=date.fromisoformat(ends_on),
            user_name=person_name(first, last, username),
            cover_name=person_name(cover_first, cover_last, cover_username),
        )
        for user_id, cover_id, ends_on, first, last, username, cover_first, cover_last, cover_username, _id in rows
    ]


def team_members(actor: User) -> QuerySet[User]:
    """The IFK of the team lead's own team: the only people they may set absent or name as cover."""
    return User.objects.filter(team_id=actor.team_id, role=Role.IFK, is_active=True).order_by("last_name", "pk")


def team_absences(actor: User, *, on: date) -> QuerySet[AbsenceCover]:
    """Current and future absences of the team lead's team, most imminent first."""
    return (
        AbsenceCover.objects.filter(user__team_id=actor.team_id, withdrawn=False, ends_on__gte=on)
        .select_related("user", "cover", "set_by")
        .order_by("starts_on", "pk")
    )


def _require_team_lead(actor: User) -> None:
    if actor.role != Role.TEAMLEITUNG or actor.team_id is None:
        raise PermissionDenied("Nur die Teamleitung trägt Abwesenheiten ein.")


def _name(user: User) -> str:
    return user.get_full_name() or user.username


@dataclass(frozen=True)
class Period:
    starts_on: date
    ends_on: date

    def overlapping(self) -> Q:
        return Q(withdrawn=False, starts_on__lte=self.ends_on, ends_on__gte=self.starts_on)


def absence_set(*, actor: User, user: User, cover: User, starts_on: date, ends_on: date) -> AbsenceCover:
    """Enter an absence with its cover. Both must be IFK of the team lead's own team."""
    _require_team_lead(actor)
    today = timezone.localdate()
    period = Period(starts_on, ends_on)
    if starts_on > ends_on:
        raise AbsenceRefused("Das Ende der Abwesenheit liegt vor ihrem Beginn.")
    if ends_on < today:
        raise AbsenceRefused("Die Abwesenheit liegt vollständig in der Vergangenheit.")
    if user.pk == cover.pk:
        raise AbsenceRefused("Eine Person kann sich nicht selbst vertreten.")
    with transaction.atomic():
        # Locking both people serialises two team leads entering absences for them at the same time.
        locked = set(
            team_members(actor).select_for_update().filter(pk__in=[user.pk, cover.pk]).values_list("pk", flat=True)
        )
        if user.pk not in locked or cover.pk not in locked:
            raise PermissionDenied("Nur Integrationsfachkräfte des eigenen Teams.")
        if AbsenceCover.objects.filter(period.overlapping(), user=user).exists():
            raise AbsenceRefused(f"{_name(user)} ist in diesem Zeitraum bereits abwesend eingetragen.")
        if AbsenceCover.objects.filter(period.overlapping(), user=cover).exists():
            raise AbsenceRefused(f"{_name(cover)} ist in diesem Zeitraum selbst abwesend.")
        if AbsenceCover.objects.filter(period.overlapping(), cover=user).exists():
            raise AbsenceRefused(
                f"{_name(user)} vertritt in diesem Zeitraum eine Kollegin oder einen Kollegen; bitte zuerst diese "
                "Vertretung anders regeln."
            )
        try:
            with transaction.atomic():
                return AbsenceCover.objects.create(
                    user=user, cover=cover, starts_on=starts_on, ends_on=ends_on, set_by=actor
                )
        except IntegrityError as error:
            # absence_no_overlap_per_user: another team lead was faster.
            raise AbsenceRefused(f"{_name(user)} ist in diesem Zeitraum bereits abwesend eingetragen.") from error


def absence_end(*, actor: User, absence_id: int) -> AbsenceCover:
    """End an absence now: the IFK is back today. One that has not begun yet (or began today) is withdrawn."""
    _require_team_lead(actor)
    today = timezone.localdate()
    with transaction.atomic():
        absence = (
            AbsenceCover.objects.select_for_update()
            .filter(pk=absence_id, user__team_id=actor.team_id, withdrawn=False)
            .first()
        )
        if absence is None:
            raise AbsenceCover.DoesNotExist
        if absence.ends_on < today:
            raise AbsenceRefused("Diese Abwesenheit ist bereits vorbei.")
        if absence.starts_on >= today:
            absence.withdrawn = True
        else:
            absence.ends_on = today - timedelta(days=1)
        absence.ended_by = actor
        absence.ended_at = timezone.now()
        absence.save()
        return absence
