"""The first screens: login, caseload list, case page, health; security behaviour of every URL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.templatetags.static import static
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from cases.views import CASELOAD_PAGE_SIZE
from tests.conftest import client_for
from tests.factories import PASSWORD, CaseFactory, ElbFactory, GesetzlicheVertretungFactory

pytestmark = pytest.mark.django_db


def caseload_queries(client: Client, query: str = "") -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/faelle/", {"q": query} if query else {})
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_caseload_shows_only_the_own_team(ifk_nord, ifk_sued):
    own = CaseFactory(responsible=ifk_nord, elb__last_name="Nordmann")
    foreign = CaseFactory(responsible=ifk_sued, elb__last_name="Südmann")
    _, html = caseload_queries(client_for(ifk_nord))
    assert own.elb.kundennummer in html
    assert foreign.elb.kundennummer not in html


def test_caseload_query_count_is_fixed_whatever_the_number_of_cases(ifk_nord):
    client = client_for(ifk_nord)
    CaseFactory.create_batch(2, responsible=ifk_nord)
    few, _ = caseload_queries(client)
    CaseFactory.create_batch(CASELOAD_PAGE_SIZE + 15, responsible=ifk_nord)
    many, html = caseload_queries(client)
    assert few == many
    # session, user, team (header), count, one page of cases, and the idle-timeout session renewal
    # (UPDATE inside a savepoint): nothing per row.
    assert many == 8
    assert "Seite 1 von 2" in html


def test_caseload_search_by_name_and_kundennummer(ifk_nord):
    meier = CaseFactory(responsible=ifk_nord, elb__last_name="Meierhoff", elb__first_name="Jana")
    other = CaseFactory(responsible=ifk_nord, elb__last_name="Schulzke")
    client = client_for(ifk_nord)
    _, by_name = caseload_queries(client, "meierh")
    assert meier.elb.kundennummer in by_name
    assert other.elb.kundennummer not in by_name
    _, by_number = caseload_queries(client, other.elb.kundennummer.lower())
    assert other.elb.kundennummer in by_number
    assert meier.elb.kundennummer not in by_number
    _, by_full_name = caseload_queries(client, "Jana Meierhoff")
    assert meier.elb.kundennummer in by_full_name


def test_caseload_pagination_second_page(ifk_nord):
    for i in range(CASELOAD_PAGE_SIZE + 2):
        CaseFactory(responsible=ifk_nord, elb__last_name=f"Name{i:03d}")
    response = client_for(ifk_nord).get("/faelle/", {"seite": 2})
    html = response.content.decode()
    assert "Seite 2 von 2" in html
    assert "Name026" in html
    assert "Name000" not in html


@pytest.mark.parametrize("bad", ["a\x00b", "x" * 100_000])
def test_caseload_bad_search_input_is_a_form_error_not_a_crash(ifk_nord, bad):
    """T21: NUL bytes and very long input give a form error, never a 500."""
    CaseFactory(responsible=ifk_nord)
    response = client_for(ifk_nord).get("/faelle/", {"q": bad})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()


def test_case_page_shows_header_and_gesetzliche_vertretung_for_minors(ifk_nord):
    minor = ElbFactory(minor=True)
    gv = GesetzlicheVertretungFactory(elb=minor, first_name="Petra")
    case = CaseFactory(responsible=ifk_nord, elb=minor)
    html = client_for(ifk_nord).get(f"/faelle/{case.pk}/").content.decode()
    assert "minderjährig" in html
    assert f"{gv.first_name} {gv.last_name}" in html
    assert "Noch kein Kooperationsplan" in html


def test_login_page_is_german_and_wrong_password_gets_a_german_error(ifk_nord):
    client = Client()
    assert "Anmelden" in client.get("/anmelden/").content.decode()
    response = client.post("/anmelden/", {"username": ifk_nord.username, "password": "falsch"})
    assert "Benutzername oder Passwort ist falsch." in response.content.decode()
    response = client.post("/anmelden/", {"username": ifk_nord.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/arbeitsplatz/"


def test_repeated_wrong_passwords_lock_out_with_the_same_answer_for_unknown_users(ifk_nord, settings):
    """T23: django-axes locks the account; an unknown user name gets the same answer."""
    answers = {}
    for username in (ifk_nord.username, "gibt.es.nicht"):
        client = Client()
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post("/anmelden/", {"username": username, "password": "falsch"})
        locked = client.post("/anmelden/", {"username": username, "password": PASSWORD})
        answers[username] = (locked.status_code, locked.content.decode().replace(username, "USER"))
    assert answers[ifk_nord.username] == answers["gibt.es.nicht"]
    assert answers[ifk_nord.username][0] == 429
    assert "vorübergehend gesperrt" in answers[ifk_nord.username][1]


def test_health_is_public_and_checks_the_database():
    response = Client().get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_security_headers_and_no_store_on_case_data(ifk_nord):
    """T27: CSP, nosniff, Referrer-Policy on every response; case data is never cached."""
    case = CaseFactory(responsible=ifk_nord)
    for client, path in ((Client(), "/anmelden/"), (client_for(ifk_nord), f"/faelle/{case.pk}/")):
        response = client.get(path)
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in response.headers["Cache-Control"]


def test_post_without_csrf_token_is_refused(ifk_nord):
    """T22: a POST without CSRF token answers 403."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(ifk_nord)
    assert client.post("/abmelden/").status_code == 403


# The calendar feed is the one further exception (config/settings.py PUBLIC_URL_NAMES): calendar programs
# cannot log in, so it authenticates by the secret token in its URL; test_calendar_feed_is_public_but_needs_a_token
# below and tests/kooperationsplan/test_calendar.py show that without a valid token it answers 404.
PUBLIC_URL_NAMES = {"login", "health", "admin:login", "calendar_feed"}
SAMPLE_ARGS = {"int": "1", "str": "x", "path": "x", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}" if pattern.name else None, prefix + str(pattern.pattern)


def concrete_path(route: str) -> str | None:
    """A request path for a route; regex routes (admin) get their simplest matching form."""
    import re

    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGS[m.group(1) or "str"], route)
    if path.startswith("^"):
        path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path).strip("^$").replace("\\", "")
        if any(ch in path for ch in "()[]*+?|"):
            return None
    return "/" + path


def test_every_url_but_login_and_health_needs_a_login():
    """T3: a walker over the whole URLconf; anonymous requests are redirected to the login page."""
    checked = 0
    for name, route in walk(get_resolver()):
        path = concrete_path(route)
        if path is None or name in PUBLIC_URL_NAMES:
            continue
        response = Client().get(path)
        assert response.status_code in (302, 404), (name, path, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].startswith(("/anmelden/", "/verwaltung/login/")), (name, path)
            checked += 1
    assert checked >= 10


def test_calendar_feed_is_public_but_needs_a_token(settings):
    """The walker's exception, pinned: the public URL names are exactly login, health and the feed; an
    anonymous request with a made-up token is neither redirected nor answered with data."""
    assert {"login", "health", "calendar_feed"} == settings.PUBLIC_URL_NAMES
    response = Client().get("/kalender/" + "x" * 43 + ".ics")
    assert response.status_code == 404
    assert "BEGIN:VCALENDAR" not in response.content.decode()


def test_idle_session_is_logged_out_after_the_configured_time(ifk_nord, settings):
    """T24: after SESSION_IDLE_TIMEOUT_MINUTES without a request the session has expired; activity renews it."""
    start = timezone.now()
    client = Client()
    with time_machine.travel(start, tick=False) as clock:
        client.post("/anmelden/", {"username": ifk_nord.username, "password": PASSWORD})
        clock.shift(timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES - 1))
        assert client.get("/faelle/").status_code == 200  # activity renews the session
        clock.shift(timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES - 1))
        assert client.get("/faelle/").status_code == 200
        clock.shift(timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES + 1))
        response = client.get("/faelle/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/anmelden/")


def test_pages_carry_the_idle_warning_with_the_timeout(ifk_nord, settings):
    html = client_for(ifk_nord).get("/faelle/").content.decode()
    assert f'data-idle-timeout-minutes="{settings.SESSION_IDLE_TIMEOUT_MINUTES}"' in html
    assert "wegen Inaktivität abgemeldet" in html


@pytest.mark.parametrize(
    ("path", "active"),
    [("/arbeitsplatz/", "Mein Arbeitsplatz"), ("/faelle/", "Fälle"), ("/benachrichtigungen/", "Benachrichtigungen")],
)
def test_the_frame_links_are_reversed_and_the_current_page_is_marked(ifk_nord, path, active):
    """base.html takes its links and assets from the site context processor (worked out once per script prefix)."""
    html = client_for(ifk_nord).get(path).content.decode()
    for name in ("home", "logout", "worklist", "notifications:list", "cases:caseload", "cases:create", "massrun:index"):
        assert f'href="{reverse(name)}"' in html or f'action="{reverse(name)}"' in html, name
    for asset in ("css/app.css", "js/app.js", "vendor/htmx/htmx.min.js"):
        assert static(asset) in html
    menu = html[html.index('id="hauptmenue"') :].split("</ul>", 1)[0]
    current = re.findall(r'class="nav-link active" aria-current="page" href="[^"]*"[^>]*>([^<]+)', menu)
    assert current == [active]
