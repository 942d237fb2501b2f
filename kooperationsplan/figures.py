"""Team figures for one month, per team and per IFK (docs/decisions/0007-team-desk-figures-calendar.md).

Every figure is an aggregate in PostgreSQL (five queries whatever the number of cases) and is computed
from dated columns only, so a past month gives the same numbers tomorrow:

- Stichtag: the last day of the month, or today for the running month.
- Fälle im Bestand: the team's cases that are open on the Stichtag (Leistungsbezug begun, case created,
  not closed before or on it).
- mit KP-Pflicht (the denominator of the KP-Abdeckungsquote): cases in Bestand without an exemption
  (Kennung KP, R-EXC-1..4) on the Stichtag. R-KP-1: a KP should be made with every eLb; only the
  exceptions of 001 §8 release from it. Cases without a KP yet, after a failed KP (NO_KP_15_6) or during a
  Schlichtung need one (R-NOKP-3: a consensual KP remains the goal).
- mit aktuellem KP (the numerator): of those, cases with a KP version activated before the end of the
  Stichtag and not ended by then (ACTIVE, UNDER_REVIEW or DISPUTED on that day).
- Überfällige Überprüfungen: of those, cases whose current KP's review date lies before the Stichtag (D-01).
- RFB-Schreiben: cases in Bestand with at least one letter with RFB dated in the month (not cancelled).
- Median Tage bis zum ersten KP: over the cases whose first KP was activated in the month, the days from
  the case start to that activation. Case start = Beginn des Leistungsbezugs, but not before the case was
  created here (legacy cases with an old Leistungsbeginn would otherwise distort the figure).
- Schlichtungen: begun in the month; ended in the month with Einigung / ohne Einigung (R-SCH-2, R-SCH-4).

Per-IFK rows attribute each case to its current responsible IFK. No eLb data and no health data appear,
only counts; the team row is the sum of the IFK rows (each case has exactly one responsible IFK), except
the median, which is computed over the whole team.
"""

from __future__ import annotations

import calendar
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, F, FloatField, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.aggregates import Aggregate
from django.db.models.functions import Greatest, TruncDate
from django.utils import timezone

from cases.models import Case, Role, Team, User
from kooperationsplan.models import (
    CURRENT_KP_STATUSES,
    Exemption,
    Kooperationsplan,
    Schlichtung,
    SchlichtungOutcome,
)
from letters.models import Letter

TZ = ZoneInfo(settings.TIME_ZONE)


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the median, the mean of the two middle values for an even count."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class DaysBetween(Func):
    """date − date in PostgreSQL: whole days, as an integer."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()


COLUMNS = (
    "Bereich",
    "Fälle im Bestand",
    "davon mit KP-Pflicht",
    "davon mit aktuellem KP",
    "KP-Abdeckungsquote (%)",
    "Überfällige Überprüfungen",
    "Fälle mit RFB-Schreiben im Monat",
    "Anteil mit RFB-Schreiben (%)",
    "Erste KP im Monat",
    "Median Tage bis zum ersten KP",
    "Schlichtungen begonnen",
    "Schlichtungen mit Einigung",
    "Schlichtungen ohne Einigung",
)
MISSING = "–"


@dataclass(frozen=True)
class Row:
    label: str
    is_team: bool
    bestand: int = 0
    pflicht: int = 0
    mit_kp: int = 0
    ueberfaellig: int = 0
    rfb: int = 0
    erste_kp: int = 0
    median_days: float | None = None
    schlichtung_begonnen: int = 0
    schlichtung_einigung: int = 0
    schlichtung_ohne: int = 0

    @property
    def coverage(self) -> float | None:
        """KP-Abdeckungsquote in percent, None without a denominator."""
        return 100 * self.mit_kp / self.pflicht if self.pflicht else None

    @property
    def rfb_share(self) -> float | None:
        return 100 * self.rfb / self.bestand if self.bestand else None

    def cells(self) -> list[str]:
        """The row as shown on the page and written to the CSV: the same strings in both."""
        return [
            self.label,
            str(self.bestand),
            str(self.pflicht),
            str(self.mit_kp),
            decimal(self.coverage),
            str(self.ueberfaellig),
            str(self.rfb),
            decimal(self.rfb_share),
            str(self.erste_kp),
            decimal(self.median_days),
            str(self.schlichtung_begonnen),
            str(self.schlichtung_einigung),
            str(self.schlichtung_ohne),
        ]


def decimal(value: float | None) -> str:
    """German notation with one decimal place at most: 83,3 / 12 / 12,5; "–" when undefined."""
    if value is None:
        return MISSING
    rounded = round(value, 1)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.1f}".replace(".", ",")


@dataclass(frozen=True)
class Figures:
    team: Team
    month: date
    stichtag: date
    rows: list[Row]  # the team first, then each IFK by name

    @property
    def team_row(self) -> Row:
        return self.rows[0]

    @property
    def month_label(self) -> str:
        return f"{self.month:%m.%Y}"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str
    y: int
    width: float
    is_team: bool


def _start_of(day: date) -> datetime:
    """The first instant of the given local day (Europe/Berlin)."""
    return datetime.combine(day, time.min, tzinfo=TZ)


def _end_of(day: date) -> datetime:
    """The first instant after the given local day."""
    return _start_of(day + timedelta(days=1))


def month_bounds(month: date, *, today: date) -> tuple[date, date, date]:
    """First and last day of the month and the Stichtag (the last day, or today in the running month)."""
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    return month, last, min(last, today)


def _bestand(team: Team, stichtag: date) -> QuerySet[Case]:
    return Case.objects.filter(team=team, leistungsbeginn__lte=stichtag, created_at__lt=_end_of(stichtag)).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gt=stichtag)
    )


def _current_plan_on(stichtag: date) -> QuerySet[Kooperationsplan]:
    """Plans in force at the end of the Stichtag: activated before, and still current or ended only later."""
    end = _end_of(stichtag)
    return Kooperationsplan.objects.filter(case=OuterRef("pk"), activated_at__lt=end).filter(
        Q(status__in=CURRENT_KP_STATUSES, ended_at__isnull=True) | Q(ended_at__gte=end)
    )


def _per_responsible_counts(team: Team, first: date, last: date, stichtag: date) -> dict[int, dict[str, int]]:
    exempt = Exists(
        Exemption.objects.filter(case=OuterRef("pk"), recorded_on__lte=stichtag).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gt=stichtag)
        )
    )
    current = _current_plan_on(stichtag)
    rfb_letter = Exists(
        Letter.objects.filter(
            case=OuterRef("pk"), with_rfb=True, letter_date__gte=first, letter_date__lte=last
        ).exclude(status=Letter.Status.CANCELLED)
    )
    rows = (
        _bestand(team, stichtag)
        .annotate(is_exempt=exempt, has_kp=Exists(current), overdue=Exists(current.filter(review_due__lt=stichtag)))
        .annotate(has_rfb=rfb_letter)
        .values("responsible_id")
        .annotate(
            bestand=Count("pk"),
            pflicht=Count("pk", filter=Q(is_exempt=False)),
            mit_kp=Count("pk", filter=Q(is_exempt=False, has_kp=True)),
            ueberfaellig=Count("pk", filter=Q(is_exempt=False, overdue=True)),
            rfb=Count("pk", filter=Q(has_rfb=True)),
        )
        .order_by()
    )
    return {row.pop("responsible_id"): row for row in rows}


def _first_kp_cohort(team: Team, first: date, last: date) -> QuerySet[Case]:
    first_activation = Subquery(
        Kooperationsplan.objects.filter(case=OuterRef("pk"), activated_at__isnull=False)
        .order_by("activated_at")
        .values("activated_at")[:1]
    )
    start = Greatest(F("leistungsbeginn"), TruncDate("created_at", tzinfo=TZ))
    return (
        Case.objects.filter(team=team)
        .annotate(first_kp=first_activation)
        .filter(first_kp__gte=_start_of(first), first_kp__lt=_end_of(last))
        # A KP activated before the case start (e.g. while the application was processed) counts as 0 days.
        .annotate(days=Greatest(DaysBetween(TruncDate("first_kp", tzinfo=TZ), start), 0))
    )


def _per_responsible_median(team: Team, first: date, last: date) -> dict[int, tuple[int, float]]:
    rows = (
        _first_kp_cohort(team, first, last)
        .values("responsible_id")
        .annotate(count=Count("pk"), median=Median("days"))
        .order_by()
    )
    return {row["responsible_id"]: (row["count"], row["median"]) for row in rows}


def _per_responsible_schlichtungen(team: Team, first: date, last: date) -> dict[int, dict[str, int]]:
    in_month_start = Q(started_on__gte=first, started_on__lte=last)
    in_month_end = Q(ended_on__gte=first, ended_on__lte=last)
    rows = (
        Schlichtung.objects.filter(case__team=team)
        .filter(in_month_start | in_month_end)
        .values("case__responsible_id")
        .annotate(
            begonnen=Count("pk", filter=in_month_start),
            einigung=Count("pk", filter=in_month_end & Q(outcome=SchlichtungOutcome.AGREEMENT)),
            ohne=Count("pk", filter=in_month_end & Q(outcome=SchlichtungOutcome.NO_AGREEMENT)),
        )
        .order_by()
    )
    return {row.pop("case__responsible_id"): row for row in rows}


def team_figures(team: Team, month: date, *, today: date | None = None) -> Figures:
    """All figures of the month for the team and each of its IFK. Five queries."""
    today = today or timezone.localdate()
    first, last, stichtag = month_bounds(month, today=today)
    counts = _per_responsible_counts(team, first, last, stichtag)
    medians = _per_responsible_median(team, first, last)
    schlichtungen = _per_responsible_schlichtungen(team, first, last)
    team_median = _first_kp_cohort(team, first, last).aggregate(median=Median("days"))["median"]
    involved = set(counts) | set(medians) | set(schlichtungen)
    # Every active IFK of the team gets a row, and anyone else who is responsible for a counted case.
    people = User.objects.filter(Q(team=team, role=Role.IFK, is_active=True) | Q(pk__in=involved)).order_by(
        "last_name", "first_name", "username"
    )
    rows = [_row(user.get_full_name() or user.username, user.pk, counts, medians, schlichtungen) for user in people]
    team_row = Row(
        label=f"{team.name} (gesamt)",
        is_team=True,
        bestand=sum(row.bestand for row in rows),
        pflicht=sum(row.pflicht for row in rows),
        mit_kp=sum(row.mit_kp for row in rows),
        ueberfaellig=sum(row.ueberfaellig for row in rows),
        rfb=sum(row.rfb for row in rows),
        erste_kp=sum(row.erste_kp for row in rows),
        median_days=team_median,
        schlichtung_begonnen=sum(row.schlichtung_begonnen for row in rows),
        schlichtung_einigung=sum(row.schlichtung_einigung for row in rows),
        schlichtung_ohne=sum(row.schlichtung_ohne for row in rows),
    )
    return Figures(team=team, month=first, stichtag=stichtag, rows=[team_row, *rows])


def _row(
    label: str,
    user_id: int,
    counts: dict[int, dict[str, int]],
    medians: dict[int, tuple[int, float]],
    schlichtungen: dict[int, dict[str, int]],
) -> Row:
    count = counts.get(user_id, {})
    erste_kp, median = medians.get(user_id, (0, None))
    schlichtung = schlichtungen.get(user_id, {})
    return Row(
        label=label,
        is_team=False,
        bestand=count.get("bestand", 0),
        pflicht=count.get("pflicht", 0),
        mit_kp=count.get("mit_kp", 0),
        ueberfaellig=count.get("ueberfaellig", 0),
        rfb=count.get("rfb", 0),
        erste_kp=erste_kp,
        median_days=median,
        schlichtung_begonnen=schlichtung.get("begonnen", 0),
        schlichtung_einigung=schlichtung.get("einigung", 0),
        schlichtung_ohne=schlichtung.get("ohne", 0),
    )


CHART_BAR_HEIGHT = 28
CHART_GAP = 10
CHART_LABEL_WIDTH = 260
CHART_PLOT_WIDTH = 400


def coverage_bars(figures: Figures) -> list[Bar]:
    """Geometry of the server-rendered SVG chart of the KP-Abdeckungsquote (the numbers are also in the table)."""
    bars = []
    for index, row in enumerate(figures.rows):
        value = row.coverage
        bars.append(
            Bar(
                label=row.label,
                value=value,
                text=f"{decimal(value)} %" if value is not None else "keine Fälle mit KP-Pflicht",
                y=index * (CHART_BAR_HEIGHT + CHART_GAP),
                width=round(CHART_PLOT_WIDTH * (value or 0) / 100, 1),
                is_team=row.is_team,
            )
        )
    return bars


def figures_csv(figures: Figures) -> str:
    """The table of the page as CSV for Excel in German administrations: UTF-8 with BOM, ";" as separator,
    decimal comma, the German column headers, the same strings as on the page."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in figures.rows:
        writer.writerow(row.cells())
    return buffer.getvalue()
