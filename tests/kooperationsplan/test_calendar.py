"""The calendar feed: secret token (hash only, revocable, renewable), RFC 5545 text, contents limited to the
user's own open cases, no personal data beyond the Kundennummer, access log, query count."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import AccessLog, CalendarFeedToken
from kooperationsplan.calendar_feed import calendar_token_create, escape_text, fold, token_hash
from tests.conftest import client_for
from tests.factories import (
    AppointmentFactory,
    CaseFactory,
    KooperationsplanFactory,
    MassnahmeZuweisungFactory,
    SchlichtungFactory,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 3, 16)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2026, 3, 16, 9, 30, tzinfo=BERLIN), tick=False) as traveller:
        yield traveller


def feed_path(token: str) -> str:
    return f"/kalender/{token}.ics"


def unfold(text: str) -> list[str]:
    """RFC 5545 3.1: a CRLF followed by a space continues the previous line."""
    return text.replace("\r\n ", "").split("\r\n")


def events(text: str) -> list[dict[str, str]]:
    found, current = [], None
    for line in unfold(text):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            found.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return found


@pytest.fixture
def feed_data(ifk_nord, ifk_nord2):
    case = CaseFactory(responsible=ifk_nord, elb__first_name="Zoe", elb__last_name="Zufall")
    plan = KooperationsplanFactory(
        case=case, active=True, valid_from=date(2025, 10, 1), valid_to=date(2026, 4, 1), review_due=date(2026, 4, 1)
    )
    AppointmentFactory(
        case=case,
        kind="PSYCH",
        with_rfb=True,
        starts_at=datetime(2026, 3, 30, 10, 0, tzinfo=BERLIN),  # summer time: 08:00 UTC
        meldezweck="Psychologische Untersuchung zur Klärung der Leistungsfähigkeit",
        location="Gesundheitsamt, Raum 3",
    )
    AppointmentFactory(
        case=case,
        starts_at=datetime(2026, 3, 20, 9, 0, tzinfo=BERLIN),
        outcome="CANCELLED",
        outcome_recorded_at=datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN),
    )
    MassnahmeZuweisungFactory(
        plan=plan, massnahme__title="Suchtberatung", start_date=date(2026, 4, 7), end_date=date(2026, 6, 30)
    )
    MassnahmeZuweisungFactory(plan=plan, status="WITHDRAWN", via="SCHREIBEN", start_date=date(2026, 5, 4))
    other_case = CaseFactory(responsible=ifk_nord)
    SchlichtungFactory(case=other_case, started_on=date(2026, 3, 10), ends_on=date(2026, 4, 7))
    closed = CaseFactory(responsible=ifk_nord, closed_on=TODAY)
    KooperationsplanFactory(case=closed, active=True)
    colleague = CaseFactory(responsible=ifk_nord2)
    KooperationsplanFactory(case=colleague, active=True)
    return case, other_case, closed, colleague


def test_settings_page_creates_a_token_that_is_shown_once_and_stored_as_hash(ifk_nord):
    client = client_for(ifk_nord)
    assert "keine gültige Kalender-Adresse" in client.get("/konto/kalender/").content.decode()
    response = client.post("/konto/kalender/", {"aktion": "erzeugen"})
    assert response.status_code == 200
    url = re.search(r'value="(http://testserver/kalender/([A-Za-z0-9_-]+)\.ics)"', response.content.decode())
    token = url.group(2)
    assert len(token) >= 43
    row = CalendarFeedToken.objects.get(user=ifk_nord)
    assert row.token_hash == token_hash(token)
    assert token not in row.token_hash
    # Shown once: the next visit does not show it again.
    assert token not in client.get("/konto/kalender/").content.decode()
    assert Client().get(feed_path(token)).status_code == 200


def test_renewing_revokes_the_old_token_and_revoking_ends_the_feed(ifk_nord, caplog):
    first = calendar_token_create(user=ifk_nord)
    second = calendar_token_create(user=ifk_nord)
    anonymous = Client()
    with caplog.at_level(logging.WARNING, logger="kooperationsplan.calendar_feed"):
        assert anonymous.get(feed_path(first)).status_code == 404
    (record,) = [record for record in caplog.records if record.name == "kooperationsplan.calendar_feed"]
    assert "widerrufen" in record.getMessage()
    assert first not in record.getMessage()  # not even a revoked secret goes into our log
    assert token_hash(first)[:12] in record.getMessage()
    assert anonymous.get(feed_path(second)).status_code == 200
    response = client_for(ifk_nord).post("/konto/kalender/", {"aktion": "widerrufen"})
    assert response.status_code == 302
    assert anonymous.get(feed_path(second)).status_code == 404
    assert CalendarFeedToken.objects.filter(user=ifk_nord, revoked_at__isnull=True).count() == 0
    assert CalendarFeedToken.objects.filter(user=ifk_nord).count() == 2


@pytest.mark.parametrize("token", ["unbekannt", "a" * 43, "x" * 100_000, "null\x00byte"])
def test_unknown_tokens_answer_404_and_are_logged(token, caplog):
    with caplog.at_level(logging.WARNING, logger="kooperationsplan.calendar_feed"):
        response = Client().get(feed_path(token))
    assert response.status_code == 404
    assert "Kalender-Feed abgelehnt (unbekannt)" in caplog.text
    assert not AccessLog.objects.exists()


def test_a_locked_account_has_no_feed(ifk_nord):
    token = calendar_token_create(user=ifk_nord)
    ifk_nord.is_active = False
    ifk_nord.save()
    assert Client().get(feed_path(token)).status_code == 404


def test_settings_are_for_team_members_and_unknown_actions_change_nothing(ifk_nord, fachadmin):
    assert client_for(fachadmin).get("/konto/kalender/").status_code == 403
    assert client_for(ifk_nord).post("/konto/kalender/", {"aktion": "alles\x00"}).status_code == 400
    assert not CalendarFeedToken.objects.exists()


def test_feed_contents_of_the_own_open_cases(ifk_nord, feed_data):
    case, other_case, *_ = feed_data
    response = Client().get(feed_path(calendar_token_create(user=ifk_nord)))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    found = {event["SUMMARY"]: event for event in events(response.content.decode())}
    number = case.elb.kundennummer
    assert sorted(found) == sorted(
        [
            f"Überprüfung KP – {number}",
            f"Termin – {number}",
            f"Maßnahmebeginn – {number}",
            f"Maßnahmeende – {number}",
            f"Ende der Schlichtung – {other_case.elb.kundennummer}",
        ]
    )
    review = found[f"Überprüfung KP – {number}"]
    assert review["DTSTART;VALUE=DATE"] == "20260401"
    assert review["DTEND;VALUE=DATE"] == "20260402"
    assert review["URL"] == f"http://testserver/faelle/{case.pk}/"
    appointment = found[f"Termin – {number}"]
    assert (appointment["DTSTART"], appointment["DTEND"]) == ("20260330T080000Z", "20260330T090000Z")
    assert found[f"Ende der Schlichtung – {other_case.elb.kundennummer}"]["DTSTART;VALUE=DATE"] == "20260407"
    assert len({event["UID"] for event in found.values()}) == 5


def test_feed_carries_no_personal_data_beyond_the_kundennummer(ifk_nord, feed_data):
    case, *_ = feed_data
    text = Client().get(feed_path(calendar_token_create(user=ifk_nord))).content.decode()
    unfolded = "".join(unfold(text))
    for secret in (
        case.elb.first_name,
        case.elb.last_name,
        case.elb.street,
        case.elb.birth_date.strftime("%Y%m%d"),
        "Psycholog",  # the kind of appointment would be health data
        "Untersuchung",
        "Sucht",  # the measure title would be too
        "Gesundheitsamt",
        ifk_nord.last_name,
    ):
        assert secret not in unfolded, secret


def test_feed_is_valid_rfc_5545(ifk_nord, feed_data):
    text = Client().get(feed_path(calendar_token_create(user=ifk_nord))).content.decode()
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n")[:-1]:
        assert len(line.encode()) <= 75, line
    lines = unfold(text)
    assert lines[:6] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Jobcenter//Kooperationsplan//DE",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Kooperationsplan – Fristen und Termine",
    ]
    assert lines[-2:] == ["END:VCALENDAR", ""]
    for event in events(text):
        assert {"UID", "DTSTAMP", "SUMMARY"} <= set(event)
        assert event["DTSTAMP"] == "20260316T083000Z"
        assert ("DTSTART" in event) != ("DTSTART;VALUE=DATE" in event)
        assert event["DESCRIPTION"].startswith("Fall öffnen (Anmeldung erforderlich): http://testserver/faelle/")


def test_text_escaping_and_folding_follow_rfc_5545():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "Überprüfung " * 12
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join([parts[0], *(part[1:] for part in parts[1:])]) == line
    assert fold("SHORT:x") == "SHORT:x"


def test_each_feed_request_logs_one_access_row_per_case(ifk_nord, feed_data):
    case, other_case, *_ = feed_data
    token = calendar_token_create(user=ifk_nord)
    Client().get(feed_path(token))
    logged = AccessLog.objects.filter(user=ifk_nord, view_name="calendar_feed", outcome="granted")
    assert sorted(logged.values_list("case_id_accessed", flat=True)) == sorted([case.pk, other_case.pk])
    assert set(logged.values_list("path", flat=True)) == {"/kalender/[Token].ics"}  # never the secret
    row = CalendarFeedToken.objects.get(user=ifk_nord)
    assert row.last_used_at is not None
    assert "zuletzt abgerufen am 16.03.2026" in client_for(ifk_nord).get("/konto/kalender/").content.decode()


def test_feed_query_count_does_not_grow_with_the_cases(ifk_nord, feed_data):
    token = calendar_token_create(user=ifk_nord)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert Client().get(feed_path(token)).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for day in range(10):
        case = CaseFactory(responsible=ifk_nord)
        plan = KooperationsplanFactory(case=case, active=True)
        AppointmentFactory(case=case, starts_at=datetime(2026, 4, 1 + day, 9, tzinfo=BERLIN))
        MassnahmeZuweisungFactory(plan=plan)
        SchlichtungFactory(case=case, started_on=TODAY - timedelta(days=day))
    assert queries() == few
    # token lookup, last use, the four event queries, the access-log insert (no session, no layout).
    assert few == 7


def assert_rejected(constraint: str, action) -> None:
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        action()
    assert f'"{constraint}"' in str(error.value)


def test_token_constraints(ifk_nord):
    calendar_token_create(user=ifk_nord)
    row = CalendarFeedToken.objects.get(user=ifk_nord)
    assert_rejected(
        "calendar_token_hash_format",
        lambda: CalendarFeedToken.objects.create(user=ifk_nord, token_hash="klartext-token", revoked_at=timezone.now()),
    )
    assert_rejected(
        "calendar_token_one_active_per_user",
        lambda: CalendarFeedToken.objects.create(user=ifk_nord, token_hash="0" * 64),
    )
    assert_rejected(
        "calendar_token_revoked_after_created",
        lambda: CalendarFeedToken.objects.filter(pk=row.pk).update(revoked_at=row.created_at - timedelta(seconds=1)),
    )
    assert CalendarFeedToken.objects.get(pk=row.pk).revoked_at is None
