"""The calendar feed of an IFK: an iCalendar (RFC 5545) subscription of the deadlines of their own cases.

Contents (the open cases the user is responsible for): KP reviews (D-01), appointments, the start and the
end of measures, and the end of running Schlichtungen (D-12). Event titles carry the Kundennummer and
nothing else about the eLb: no name, no kind of appointment (a "psychologische Untersuchung" would be
health data), no measure title (a § 16a Suchtberatung would be too). The description links to the case
page, which needs a login.

The feed URL is the only URL besides login and health that works without a session: it carries a secret
token (32 random bytes). Only the token's SHA-256 is stored (cases.CalendarFeedToken); the user can revoke
it and create a new one on their settings page. An unknown or revoked token answers 404 and is logged.
The text is written here (no library): CRLF line ends, lines folded at 75 octets, TEXT values escaped.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cases.models import AccessLog, CalendarFeedToken, Case, User
from cases.selectors import case_list_visible
from kooperationsplan.models import (
    Appointment,
    AppointmentOutcome,
    AssignmentStatus,
    Kooperationsplan,
    KPStatus,
    MassnahmeZuweisung,
    Schlichtung,
    SchlichtungOutcome,
)

logger = logging.getLogger(__name__)

TOKEN_BYTES = 32
# Past events stay in the feed for a while, so that a calendar shows what was due recently.
PAST_DAYS = 90
# An appointment has a start but no end; calendars show it with this length.
APPOINTMENT_MINUTES = 60
PRODID = "-//Jobcenter//Kooperationsplan//DE"
VIEW_NAME = "calendar_feed"
LOGGED_PATH = "/kalender/[Token].ics"
# Measures whose dates still matter; withdrawn, replaced, cancelled or lifted ones leave the calendar.
MEASURE_STATUSES = (
    AssignmentStatus.PLANNED,
    AssignmentStatus.SCHREIBEN_ISSUED,
    AssignmentStatus.BESCHEID_ISSUED,
    AssignmentStatus.REPORTED,
    AssignmentStatus.NOT_REPORTED,
    AssignmentStatus.STARTED,
    AssignmentStatus.COMPLETED,
)


def token_hash(token: str) -> str:
    """The stored form of a token. A fast hash is enough: the token has 256 random bits."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- Token service ---------------------------------------------------------------------------------------


def calendar_token_create(*, user: User) -> str:
    """Revoke the user's current token (if any) and create a new one; the token is returned only here."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        # The user row serialises two clicks at once: the second revokes the first one's token.
        User.objects.select_for_update().filter(pk=user.pk).first()
        CalendarFeedToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        CalendarFeedToken.objects.create(user=user, token_hash=token_hash(token))
    return token


def calendar_token_revoke(*, user: User) -> bool:
    """Revoke the user's token; the feed URL stops working at once. False if there was none."""
    return bool(CalendarFeedToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def calendar_token_current(user: User) -> CalendarFeedToken | None:
    return CalendarFeedToken.objects.filter(user=user, revoked_at__isnull=True).first()


def calendar_token_user(token: str) -> User | None:
    """The active user of a valid token, and the time of this use; None (and a log entry) otherwise."""
    digest = token_hash(token)
    row = CalendarFeedToken.objects.select_related("user").filter(token_hash=digest).first()
    if row is None or row.revoked_at is not None or not row.user.is_active:
        # The token itself is never logged; a prefix of its hash lets operations correlate repeated attempts.
        reason = "unbekannt" if row is None else "widerrufen" if row.revoked_at is not None else "Konto gesperrt"
        logger.warning("Kalender-Feed abgelehnt (%s): Token-Hash %s…", reason, digest[:12])
        return None
    CalendarFeedToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user


# --- Events ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    uid: str
    summary: str
    case_id: int
    day: date | None = None  # an all-day event
    starts_at: datetime | None = None  # a timed event


def feed_cases(user: User) -> QuerySet[Case]:
    """The open cases the user is responsible for (a subset of cases.selectors.case_list_visible)."""
    return case_list_visible(user).filter(responsible=user, closed_on__isnull=True)


def feed_events(user: User, *, on: date) -> list[Event]:
    """All events of the feed, in date order. Four queries, whatever the number of cases; only the
    columns the events need are read (values_list), nothing else of the eLb than the Kundennummer."""
    cases = feed_cases(user).values("pk")
    since = on - timedelta(days=PAST_DAYS)
    events: list[Event] = []

    plans = Kooperationsplan.objects.filter(
        case__in=cases, status__in=[KPStatus.ACTIVE, KPStatus.UNDER_REVIEW], review_due__gte=since
    ).values_list("pk", "case_id", "case__elb__kundennummer", "review_due")
    for pk, case_id, number, review_due in plans:
        events.append(Event(f"review-{pk}", f"Überprüfung KP – {number}", case_id, review_due))

    appointments = (
        Appointment.objects.filter(case__in=cases, starts_at__gte=_start_of(since))
        .exclude(outcome__in=[AppointmentOutcome.CANCELLED, AppointmentOutcome.POSTPONED])
        .values_list("pk", "case_id", "case__elb__kundennummer", "starts_at")
    )
    for pk, case_id, number, starts_at in appointments:
        events.append(Event(f"appointment-{pk}", f"Termin – {number}", case_id, starts_at=starts_at))

    assignments = MassnahmeZuweisung.objects.filter(
        case__in=cases, status__in=MEASURE_STATUSES, end_date__gte=since
    ).values_list("pk", "case_id", "case__elb__kundennummer", "start_date", "end_date")
    for pk, case_id, number, start_date, end_date in assignments:
        if start_date >= since:
            events.append(Event(f"measure-start-{pk}", f"Maßnahmebeginn – {number}", case_id, start_date))
        events.append(Event(f"measure-end-{pk}", f"Maßnahmeende – {number}", case_id, end_date))

    schlichtungen = Schlichtung.objects.filter(case__in=cases, outcome=SchlichtungOutcome.RUNNING).values_list(
        "pk", "case_id", "case__elb__kundennummer", "ends_on"
    )
    for pk, case_id, number, ends_on in schlichtungen:
        events.append(Event(f"schlichtung-end-{pk}", f"Ende der Schlichtung – {number}", case_id, ends_on))

    events.sort(key=lambda event: (_sort_instant(event), event.uid))
    return events


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _sort_instant(event: Event) -> datetime:
    return event.starts_at if event.starts_at is not None else _start_of(event.day or date.min)


def log_feed_access(user: User, events: Iterable[Event]) -> None:
    """The feed reads case data: one access-log row per case in it (§ 67 ff. SGB X), in one INSERT.
    The path is logged without the token: the log must not hand out a working feed URL."""
    AccessLog.objects.bulk_create(
        AccessLog(
            user=user,
            case_id_accessed=case_id,
            view_name=VIEW_NAME,
            path=LOGGED_PATH,
            outcome=AccessLog.Outcome.GRANTED,
        )
        for case_id in sorted({event.case_id for event in events})
    )


# --- RFC 5545 text -------------------------------------------------------------------------------------


def escape_text(value: str) -> str:
    """RFC 5545 3.3.11: backslash, semicolon, comma and line breaks are escaped in TEXT values."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """RFC 5545 3.1: content lines longer than 75 octets are folded (CRLF + space), never inside a
    UTF-8 sequence."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = ""
    limit = 75
    for char in line:
        if len((current + char).encode()) > limit:
            parts.append(current)
            current = char
            limit = 74  # a continuation line starts with one space
        else:
            current += char
    parts.append(current)
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event_lines(event: Event, *, stamp: str, host: str, case_url: str) -> Iterator[str]:
    yield "BEGIN:VEVENT"
    yield f"UID:{event.uid}@{host}"
    yield f"DTSTAMP:{stamp}"
    if event.starts_at is not None:
        yield f"DTSTART:{_utc(event.starts_at)}"
        yield f"DTEND:{_utc(event.starts_at + timedelta(minutes=APPOINTMENT_MINUTES))}"
    elif event.day is not None:
        yield f"DTSTART;VALUE=DATE:{event.day:%Y%m%d}"
        yield f"DTEND;VALUE=DATE:{event.day + timedelta(days=1):%Y%m%d}"
    yield f"SUMMARY:{escape_text(event.summary)}"
    yield f"DESCRIPTION:{escape_text('Fall öffnen (Anmeldung erforderlich): ' + case_url)}"
    yield f"URL:{case_url}"
    yield "TRANSP:TRANSPARENT" if event.day is not None else "TRANSP:OPAQUE"
    yield "END:VEVENT"


def render_calendar(events: Iterable[Event], *, host: str, case_url: Callable[[int], str], now: datetime) -> str:
    """The VCALENDAR text; `case_url` gives the absolute URL of a case page."""
    stamp = _utc(now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text('Kooperationsplan – Fristen und Termine')}",
    ]
    for event in events:
        lines += _event_lines(event, stamp=stamp, host=host, case_url=case_url(event.case_id))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
