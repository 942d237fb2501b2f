"""Team figures (RULES.md 5.4, R-KP-1): the numbers of a seeded month, the CSV, access and query counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Elb
from kooperationsplan.figures import COLUMNS, team_figures
from tests.conftest import client_for
from tests.factories import (
    SYNTHETIC_LAST_NAME,
    CaseFactory,
    ExemptionFactory,
    KooperationsplanFactory,
    LetterFactory,
    SchlichtungFactory,
    UserFactory,
)
from tests.kooperationsplan.query_counts import view_queries

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MARCH = date(2026, 3, 1)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(at(date(2026, 4, 10)), tick=False) as traveller:
        yield traveller


def case_for(ifk, *, created: date, leistungsbeginn: date | None = None, **kwargs):
    return CaseFactory(
        responsible=ifk,
        created_at=at(created),
        leistungsbeginn=leistungsbeginn or created - timedelta(days=7),
        **kwargs,
    )


def plan(case, *, activated: date, review_due: date | None = None, **kwargs):
    review_due = review_due or activated + timedelta(days=180)
    return KooperationsplanFactory(
        case=case,
        active=True,
        valid_from=activated,
        valid_to=review_due,
        review_due=review_due,
        activated_at=at(activated),
        **kwargs,
    )


@pytest.fixture
def seeded(team_nord, team_sued):
    """March 2026 for Team Nord: the expected numbers are written next to each row."""
    albers = UserFactory(username="ifk.albers", team=team_nord, first_name="Anna", last_name="Albers")
    brandt = UserFactory(username="ifk.brandt", team=team_nord, first_name="Bernd", last_name="Brandt")
    UserFactory(username="ifk.carstens", team=team_nord, first_name="Clara", last_name="Carstens")  # no cases
    # Anna Albers: Bestand 5, KP-Pflicht 4, mit KP 3, überfällig 1, RFB 1, erste KP 1 (8 Tage).
    plan(case_for(albers, created=date(2026, 1, 10)), activated=date(2026, 2, 1))  # KP
    case_for(albers, created=date(2026, 1, 12))  # no KP yet
    exempt = case_for(albers, created=date(2026, 1, 15), cooperation_mode="EXEMPT")
    ExemptionFactory(case=exempt, recorded_on=date(2026, 3, 1), recheck_due=date(2026, 4, 30))
    first_kp = case_for(albers, created=date(2026, 3, 2), leistungsbeginn=date(2026, 3, 1))
    plan(first_kp, activated=date(2026, 3, 10))  # 10.03. − 02.03. = 8 days (created after the Leistungsbeginn)
    LetterFactory(case=first_kp, kind="AUFF_15_5", with_rfb=True, is_va=True, letter_date=date(2026, 3, 15))
    LetterFactory(case=first_kp, kind="EINL_KP_ERST", letter_date=date(2026, 3, 3))  # no RFB: not counted
    overdue = case_for(albers, created=date(2025, 7, 20))
    plan(overdue, activated=date(2025, 8, 1), review_due=date(2026, 2, 1))  # review overdue on 31.03.
    case_for(albers, created=date(2026, 1, 5), closed_on=date(2026, 3, 20))  # closed: not in Bestand
    case_for(albers, created=date(2026, 4, 5))  # created after the Stichtag
    # Bernd Brandt: Bestand 6, KP-Pflicht 6, mit KP 3, erste KP 2 (15 and 24 days: median 19,5), Schlichtungen.
    plan(case_for(brandt, created=date(2026, 3, 5), leistungsbeginn=date(2026, 3, 5)), activated=date(2026, 3, 20))
    legacy = case_for(brandt, created=date(2026, 3, 1), leistungsbeginn=date(2025, 12, 1))
    plan(legacy, activated=date(2026, 3, 25))  # from the creation on 01.03., not the old Leistungsbeginn: 24 days
    disputed = case_for(brandt, created=date(2026, 1, 2))
    SchlichtungFactory(
        case=disputed,
        started_on=date(2026, 3, 3),
        ends_on=date(2026, 3, 31),
        outcome="AGREEMENT",
        ended_on=date(2026, 3, 20),
    )
    SchlichtungFactory(
        case=disputed,
        started_on=date(2026, 2, 20),
        ends_on=date(2026, 3, 20),
        outcome="NO_AGREEMENT",
        ended_on=date(2026, 3, 10),
    )
    SchlichtungFactory(case=disputed, started_on=date(2026, 3, 28), ends_on=date(2026, 4, 25))
    ended = case_for(brandt, created=date(2025, 9, 1))
    plan(ended, activated=date(2025, 10, 1), status="ENDED", ended_at=at(date(2026, 3, 15)))
    plan(case_for(brandt, created=date(2026, 2, 1)), activated=date(2026, 4, 2))  # KP only after the Stichtag
    superseded_later = case_for(brandt, created=date(2025, 10, 20))
    old = plan(superseded_later, activated=date(2025, 11, 1), status="SUPERSEDED", ended_at=at(date(2026, 4, 5)))
    plan(superseded_later, activated=date(2026, 4, 5), predecessor=old)
    # Another team: never counted.
    plan(case_for(UserFactory(team=team_sued), created=date(2026, 3, 1)), activated=date(2026, 3, 2))
    return team_nord


EXPECTED = [
    ["Team Nord (gesamt)", "11", "10", "6", "60", "1", "1", "9,1", "3", "15", "2", "1", "1"],
    ["Anna Albers", "5", "4", "3", "75", "1", "1", "20", "1", "8", "0", "0", "0"],
    ["Bernd Brandt", "6", "6", "3", "50", "0", "0", "0", "2", "19,5", "2", "1", "1"],
    ["Clara Carstens", "0", "0", "0", "–", "0", "0", "–", "0", "–", "0", "0", "0"],
]


def test_figures_of_a_seeded_month_per_team_and_per_ifk(seeded):
    figures = team_figures(seeded, MARCH)
    assert figures.stichtag == date(2026, 3, 31)
    assert [row.cells() for row in figures.rows] == EXPECTED


def test_the_running_month_is_counted_on_today(seeded):
    figures = team_figures(seeded, date(2026, 4, 1))
    assert figures.stichtag == date(2026, 4, 10)
    albers = figures.rows[1]
    # The case created on 05.04. is now in Bestand; the review of 01.02. is still overdue.
    assert (albers.bestand, albers.pflicht, albers.mit_kp, albers.ueberfaellig) == (6, 5, 3, 1)


def table_cells(html: str) -> list[list[str]]:
    table = re.search(r'<table[^>]*data-testid="figures-table".*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    return [[unescape(cell.strip()) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


def test_page_and_csv_show_the_same_numbers(seeded, tl_nord):
    client = client_for(tl_nord)
    page = client.get("/team/kennzahlen/", {"monat": "2026-03"})
    assert page.status_code == 200
    html = page.content.decode()
    assert table_cells(html) == [list(COLUMNS), *EXPECTED]
    assert "Stichtag 31.03.2026" in html
    assert "Anna Albers: 75 %." in html  # the chart's text alternative

    download = client.get("/team/kennzahlen/csv/", {"monat": "2026-03"})
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == 'attachment; filename="kennzahlen-team-nord-2026-03.csv"'
    raw = download.content.decode("utf-8")
    assert raw.startswith("\ufeff")
    assert "\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.removeprefix("\ufeff")), delimiter=";"))
    assert rows == [list(COLUMNS), *EXPECTED]


def test_figures_name_no_elb_and_no_health_data(seeded, tl_nord):
    # Names no member of staff has (the factories draw from the same list of names as for the IFK shown).
    for number, elb in enumerate(Elb.objects.all()):
        Elb.objects.filter(pk=elb.pk).update(last_name=f"{SYNTHETIC_LAST_NAME}{number:03d}")
    client = client_for(tl_nord)
    html = client.get("/team/kennzahlen/", {"monat": "2026-03"}).content.decode()
    text = html + client.get("/team/kennzahlen/csv/", {"monat": "2026-03"}).content.decode()
    for elb in Elb.objects.all():
        assert elb.last_name not in text
        assert elb.kundennummer not in text
    assert "Gesundheit" not in text.replace("keine Gesundheitsdaten", "")


def test_figures_query_count_does_not_grow_with_the_cases(seeded, tl_nord):
    client = client_for(tl_nord)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/team/kennzahlen/", {"monat": "2026-03"}).status_code == 200
        return len(ctx.captured_queries), len(view_queries(ctx.captured_queries))

    few = queries()
    ifk = UserFactory(team=seeded)
    for day in range(1, 20):
        case = case_for(ifk, created=date(2026, 1, day))
        plan(case, activated=date(2026, 3, day))
        LetterFactory(case=case, kind="AUFF_15_6", with_rfb=True, is_va=True, letter_date=date(2026, 3, day))
    assert queries() == few
    # Besides the layout: the five aggregate queries.
    assert few[1] == 5


@pytest.mark.parametrize("path", ["/team/kennzahlen/", "/team/kennzahlen/csv/"])
def test_only_team_leads_see_figures(seeded, ifk_nord, fachadmin, path):
    """T4: the figures are a TL page."""
    for user in (ifk_nord, fachadmin):
        assert client_for(user).get(path, {"monat": "2026-03"}).status_code == 403


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "Bitte geben Sie den Monat als JJJJ-MM an"),
        ("März", "Bitte geben Sie den Monat als JJJJ-MM an"),
        ("2026-05", "Für künftige Monate gibt es noch keine Kennzahlen."),
        ("2023-06", "Kennzahlen gibt es ab 07.2023"),
        ("2026\x00-03", "Null"),
        ("2" * 100_000, "höchstens 7 Zeichen"),
    ],
)
def test_bad_month_is_a_german_form_error(tl_nord, month, message):
    """T21: bad input gives a form error, never a 500."""
    response = client_for(tl_nord).get("/team/kennzahlen/", {"monat": month})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert client_for(tl_nord).get("/team/kennzahlen/csv/", {"monat": month}).status_code == 400


def test_without_a_month_the_running_month_is_shown(tl_nord):
    html = client_for(tl_nord).get("/team/kennzahlen/").content.decode()
    assert "Kennzahlen 04.2026 (Stichtag 10.04.2026)" in html
