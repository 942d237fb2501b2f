"""Mein Arbeitsplatz: the due and overdue deadlines of the user's cases (RULES.md section 7).

Scope: the cases the user may see (`case_list_visible`, the only scoping function) that are open,
and of those the ones the user is the responsible IFK for, or covers today for an absent colleague
(kooperationsplan.notifications_cover); a team lead sees the whole team. Set-based: one query per
item kind, one for the cases of the items (with eLb and IFK), one for the notifications needing attention
and one for today's absences, whatever the number of cases or items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.models import Case, Role, User
from cases.selectors import case_list_visible
from kooperationsplan.models import (
    AbsenceCover,
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
    Notification,
    Schlichtung,
    SchlichtungOutcome,
)
from kooperationsplan.notifications import NotificationBadge, notifications_pending
from kooperationsplan.notifications_cover import absences_touching

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
    def url(self) -> str:
        return reverse("kp:case", args=[self.case_id])

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
    notifications: list[Notification]
    truncated: bool
    user_id: int = 0
    absences: tuple[AbsenceCover, ...] = ()  # today's absences where the user is absent or covers

    @property
    def covering(self) -> list[AbsenceCover]:
        return [absence for absence in self.absences if absence.cover_id == self.user_id]

    @property
    def own_absence(self) -> AbsenceCover | None:
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


def worklist_owners(user: User, absences: Iterable[AbsenceCover]) -> list[int]:
    """The user and the colleagues they cover, from today's absences (`absences_touching`): whose cases and
    notifications the worklist shows. A plain list, so that the worklist's queries need no subquery for it."""
    return [user.pk, *(absence.user_id for absence in absences if absence.cover_id == user.pk)]


def worklist_cases(user: User, *, owners: Collection[int]) -> QuerySet[Case]:
    """The open cases whose deadlines the user works: those the `owners` (`worklist_owners`) are responsible
    for, or the whole team for a team lead."""
    cases = case_list_visible(user).filter(closed_on__isnull=True)
    if user.role != Role.TEAMLEITUNG:
        cases = cases.filter(responsible_id__in=owners)
    return cases


@dataclass(frozen=True)
class _Due:
    """An item before its case is known: what `worklist_items` reads from the item's own table."""

    kind: str
    deadline: str
    detail: str
    case_id: int
    due_on: date


def _item(due: _Due, case: Case, today: date) -> WorklistItem:
    responsible = case.responsible
    return WorklistItem(
        kind=due.kind,
        deadline=due.deadline,
        detail=due.detail,
        case_id=case.pk,
        elb_name=f"{case.elb.last_name}, {case.elb.first_name}",
        kundennummer=case.elb.kundennummer,
        responsible=responsible.get_full_name() or responsible.username,
        due_on=due.due_on,
        days_left=(due.due_on - today).days,
    )


def worklist_items(user: User, *, on: date, owners: Collection[int]) -> tuple[list[WorklistItem], bool]:
    """All items, most urgent first, and whether some kind had more than LIMIT_PER_KIND items.

    Seven queries, one per kind, each reading its own table (and the way to the case); the case subquery is
    inlined by PostgreSQL (no query of its own). Then one query for the cases of the items with eLb and IFK
    (none without items). Joining eLb and IFK in each of the seven instead costs PostgreSQL more planning and
    execution than the whole extra query.
    """
    case_ids = worklist_cases(user, owners=owners).values("pk")
    found: list[_Due] = []
    truncated = False

    def take(rows: QuerySet) -> list:
        nonlocal truncated
        fetched = list(rows[: LIMIT_PER_KIND + 1])
        truncated = truncated or len(fetched) > LIMIT_PER_KIND
        return fetched[:LIMIT_PER_KIND]

    # D-01 (R-KP-4, R-FS-1): review overdue or due within 28 days.
    plans = Kooperationsplan.objects.filter(
        case__in=case_ids,
        status__in=[KPStatus.ACTIVE, KPStatus.UNDER_REVIEW],
        review_due__lte=on + timedelta(days=REVIEW_LEAD_DAYS),
    )
    for plan in take(plans.order_by("review_due", "pk")):
        detail = f"Version {plan.version_number}, {plan.get_status_display()}"
        found.append(_Due(Kind.REVIEW, "D-01", detail, plan.case_id, plan.review_due))

    # D-05 (001 §5.1, §6.1): Vorstellung/Rückmeldung to an issued assignment, within 7 days or past.
    assignments = MassnahmeZuweisung.objects.filter(
        case__in=case_ids,
        status__in=[AssignmentStatus.SCHREIBEN_ISSUED, AssignmentStatus.BESCHEID_ISSUED],
        rueckmeldung_due__lte=on + timedelta(days=RUECKMELDUNG_LEAD_DAYS),
    )
    for assignment in take(assignments.select_related("massnahme").order_by("rueckmeldung_due", "pk")):
        detail = f"{assignment.massnahme.title} ({assignment.get_status_display()})"
        found.append(
            _Due(Kind.RUECKMELDUNG, "D-05", detail, assignment.case_id, cast(date, assignment.rueckmeldung_due))
        )

    # D-07 (001 §5.2, R-EB-4): evidence not received, due within 7 days or past.
    nachweise = EigenbemuehungNachweis.objects.filter(
        eigenbemuehung__plan__case__in=case_ids,
        received_on__isnull=True,
        due_on__lte=on + timedelta(days=NACHWEIS_LEAD_DAYS),
    ).annotate(case_pk=F("eigenbemuehung__plan__case_id"))
    for nachweis in take(nachweise.order_by("due_on", "pk")):
        detail = f"Zeitraum {nachweis.period_start:%d.%m.%Y}–{nachweis.period_end:%d.%m.%Y}"
        found.append(_Due(Kind.NACHWEIS, "D-07", detail, nachweis.case_pk, nachweis.due_on))

    # D-12 (L-07, R-SCH-2): a running Schlichtung ends at the latest after 4 weeks.
    schlichtungen = Schlichtung.objects.filter(case__in=case_ids, outcome=SchlichtungOutcome.RUNNING)
    for schlichtung in take(schlichtungen.order_by("ends_on", "pk")):
        detail = f"begonnen am {schlichtung.started_on:%d.%m.%Y}"
        found.append(_Due(Kind.SCHLICHTUNG, "D-12", detail, schlichtung.case_id, schlichtung.ends_on))

    # D-09: the compliance deadline of an Aufforderung; D-10: the Äußerungsfrist of an Anhörung.
    escalations = Escalation.objects.filter(case__in=case_ids)
    aufforderungen = escalations.filter(status=EscalationStatus.AUFFORDERUNG_ISSUED)
    for escalation in take(aufforderungen.order_by("compliance_deadline", "pk")):
        detail = f"{escalation.get_breach_kind_display()} vom {escalation.breach_date:%d.%m.%Y}"
        found.append(
            _Due(Kind.AUFFORDERUNG, "D-09", detail, escalation.case_id, cast(date, escalation.compliance_deadline))
        )
    anhoerungen = escalations.filter(status=EscalationStatus.ANHOERUNG)
    for escalation in take(anhoerungen.order_by("anhoerung_deadline", "pk")):
        detail = f"{escalation.get_breach_kind_display()} vom {escalation.breach_date:%d.%m.%Y}"
        found.append(
            _Due(Kind.ANHOERUNG, "D-10", detail, escalation.case_id, cast(date, escalation.anhoerung_deadline))
        )

    # D-02, D-03, D-04 (001 §8): re-check of an active exemption within 28 days or past.
    exemptions = Exemption.objects.filter(
        case__in=case_ids,
        status=ExemptionStatus.ACTIVE,
        recheck_due__lte=on + timedelta(days=EXEMPTION_LEAD_DAYS),
    )
    for exemption in take(exemptions.order_by("recheck_due", "pk")):
        deadline = EXEMPTION_DEADLINES[exemption.reason]
        found.append(
            _Due(Kind.EXEMPTION, deadline, exemption.get_reason_display(), exemption.case_id, exemption.recheck_due)
        )

    cases = Case.objects.select_related("elb", "responsible").in_bulk({due.case_id for due in found})
    items = [_item(due, cases[due.case_id], on) for due in found]
    items.sort(key=lambda item: item.sort_key)
    return items, truncated


def worklist_notifications(user: User, *, on: date, owners: Collection[int]) -> list[Notification]:
    """The notifications needing attention (unread, reminder still open) of the `owners`, newest first; one
    about a case the user may no longer see is left out."""
    pending = notifications_pending(user, on=on, owners=owners)
    notifications = pending.select_related("case__elb", "reminder", "user")
    return list(notifications.order_by("-created_at", "-pk")[:LIMIT_PER_KIND])


def worklist_build(user: User, *, on: date) -> Worklist:
    absences = tuple(absences_touching(user, on))
    owners = worklist_owners(user, absences)
    items, truncated = worklist_items(user, on=on, owners=owners)
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
        notifications=worklist_notifications(user, on=on, owners=owners),
        truncated=truncated,
        user_id=user.pk,
        absences=absences,
    )


@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    worklist = worklist_build(user, on=timezone.localdate())
    shown = len(worklist.notifications)
    # Fewer than the limit: the list holds all pending notifications, so the header badge need not count them.
    badge = NotificationBadge(request, known_count=shown if shown < LIMIT_PER_KIND else None)
    return render(request, "kooperationsplan/worklist.html", {"worklist": worklist, "notification_badge": badge})
