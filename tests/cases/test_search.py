"""Case search on /faelle/: birth date, Kooperationsmodus, "nur meine Fälle", "nur Minderjährige"."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases.models import CooperationMode, Elb
from cases.selectors import case_list_caseload
from cases.views import CASELOAD_PAGE_SIZE
from tests.conftest import client_for
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def search(client: Client, **params) -> tuple[int, str]:
    response = client.get("/faelle/", params)
    return response.status_code, response.content.decode()


def listed(html: str) -> list[str]:
    """The Kundennummern in the result table, in order."""
    return re.findall(r"<td>([0-9]{3}[A-Z][0-9]{6})</td>", html)


def test_birth_date_finds_the_person_with_that_birthday(ifk_nord):
    jana = CaseFactory(responsible=ifk_nord, elb__birth_date=date(1990, 12, 24), elb__last_name="Meier")
    CaseFactory(responsible=ifk_nord, elb__birth_date=date(1990, 12, 25), elb__last_name="Meier")
    CaseFactory(responsible=ifk_nord, elb__birth_date=date(1990, 12, 24), elb__last_name="Schulz")
    status, html = search(client_for(ifk_nord), q="Meier", geburtsdatum="24.12.1990")
    assert status == 200
    assert listed(html) == [jana.elb.kundennummer]
    assert 'value="24.12.1990"' in html
    # A one-digit day and month are fine too.
    _, html = search(client_for(ifk_nord), geburtsdatum="1.1.1990")
    assert listed(html) == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("31.02.1990", "Bitte geben Sie das Geburtsdatum als TT.MM.JJJJ an"),
        ("1990-12-24", "Bitte geben Sie das Geburtsdatum als TT.MM.JJJJ an"),
        ("24.12.90", "Bitte geben Sie das Geburtsdatum als TT.MM.JJJJ an"),
        ("gestern", "Bitte geben Sie das Geburtsdatum als TT.MM.JJJJ an"),
        ("24.12.1990\x00", "Bitte geben Sie das Geburtsdatum als TT.MM.JJJJ an"),
        ("1" * 100_000, "Bitte geben Sie das Geburtsdatum als TT.MM.JJJJ an"),
        ("01.01.0090", "Bitte geben Sie ein Geburtsdatum ab dem 01.01.1900 an."),
    ],
)
def test_a_bad_birth_date_is_a_german_form_error_and_nothing_is_listed(ifk_nord, bad, message):
    """T21: the page answers 200 with the error at the field; the search does not run."""
    CaseFactory(responsible=ifk_nord)
    status, html = search(client_for(ifk_nord), geburtsdatum=bad)
    assert status == 200
    assert message in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_geburtsdatum_helptext id_geburtsdatum_error"' in html
    assert listed(html) == []
    assert "Bitte korrigieren Sie die markierten Angaben." in html


FIELDS = ["q", "geburtsdatum", "modus", "nur_meine", "nur_minderjaehrige", "seite"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("bad", ["a\x00b", "x" * 100_000])
def test_nul_bytes_and_100k_characters_in_any_field_never_crash(ifk_nord, field, bad):
    """T21: a form error (text, date and select fields) or the input ignored (checkboxes, page), never a 500."""
    CaseFactory(responsible=ifk_nord)
    status, html = search(client_for(ifk_nord), **{field: bad})
    assert status == 200
    assert ('aria-invalid="true"' in html) is (field in ("q", "geburtsdatum", "modus"))


@pytest.mark.parametrize("field", FIELDS)
def test_markup_and_rtl_override_are_escaped(ifk_nord, field):
    """T17: whatever comes back on the page is escaped."""
    CaseFactory(responsible=ifk_nord)
    status, html = search(client_for(ifk_nord), **{field: "\u202e<script>alert(1)</script>"})
    assert status == 200
    assert "<script>alert(1)" not in html
    if field in ("q", "geburtsdatum"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_filter_by_kooperationsmodus(ifk_nord):
    with_rfb = CaseFactory(responsible=ifk_nord, cooperation_mode=CooperationMode.COOP_WITH_RFB)
    CaseFactory(responsible=ifk_nord, cooperation_mode=CooperationMode.COOP_NO_RFB)
    CaseFactory(responsible=ifk_nord)
    client = client_for(ifk_nord)
    _, html = search(client, modus="COOP_WITH_RFB")
    assert listed(html) == [with_rfb.elb.kundennummer]
    assert '<option value="COOP_WITH_RFB" selected>Zusammenarbeit mit RFB</option>' in html
    _, html = search(client, modus="")
    assert len(listed(html)) == 3
    status, html = search(client, modus="SUPERUSER")
    assert status == 200
    assert "Bitte wählen Sie einen Kooperationsmodus aus der Liste." in html
    assert listed(html) == []


def test_only_my_cases(ifk_nord, ifk_nord2):
    mine = CaseFactory(responsible=ifk_nord)
    colleague = CaseFactory(responsible=ifk_nord2)
    client = client_for(ifk_nord)
    _, html = search(client, nur_meine="on")
    assert listed(html) == [mine.elb.kundennummer]
    assert 'id="id_nur_meine" checked' in html
    _, html = search(client)
    assert sorted(listed(html)) == sorted([mine.elb.kundennummer, colleague.elb.kundennummer])


def test_only_minors_and_never_another_team(ifk_nord, ifk_sued):
    minor = CaseFactory(responsible=ifk_nord, elb__minor=True)
    CaseFactory(responsible=ifk_nord)
    CaseFactory(responsible=ifk_sued, elb__minor=True)
    _, html = search(client_for(ifk_nord), nur_minderjaehrige="on")
    assert listed(html) == [minor.elb.kundennummer]


@pytest.mark.parametrize(
    ("today", "birth_date", "minor"),
    [
        (date(2026, 6, 10), date(2008, 6, 10), False),  # 18th birthday today
        (date(2026, 6, 10), date(2008, 6, 11), True),  # 18 tomorrow
        (date(2026, 2, 28), date(2008, 2, 29), True),  # born on 29 February: not yet 18 on the 28th ...
        (date(2026, 3, 1), date(2008, 2, 29), False),  # ... but on 1 March of a common year
        (date(2028, 2, 29), date(2010, 2, 28), False),
        (date(2028, 2, 29), date(2010, 3, 1), True),
    ],
)
def test_minor_filter_agrees_with_the_age_rule_on_birthdays_and_leap_days(ifk_nord, today, birth_date, minor):
    case = CaseFactory(responsible=ifk_nord, elb__birth_date=birth_date)
    assert Elb.objects.get(pk=case.elb_id).is_minor_on(today) is minor
    found = list(case_list_caseload(ifk_nord, minors_only=True, on=today))
    assert found == ([case] if minor else [])


def test_minor_filter_uses_the_local_date(ifk_nord):
    """T16: just after midnight in Berlin the person is 18, although UTC still has the day before."""
    case = CaseFactory(responsible=ifk_nord, elb__birth_date=date(2008, 6, 10))
    with time_machine.travel(datetime(2026, 6, 9, 22, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        _, html = search(client_for(ifk_nord), nur_minderjaehrige="on")  # 10.06.2026, 00:30 in Berlin
    assert listed(html) == []
    with time_machine.travel(datetime(2026, 6, 9, 21, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        _, html = search(client_for(ifk_nord), nur_minderjaehrige="on")  # 09.06.2026, 23:30 in Berlin
    assert listed(html) == [case.elb.kundennummer]


def test_pagination_keeps_the_filters(ifk_nord, ifk_nord2):
    for i in range(CASELOAD_PAGE_SIZE + 2):
        CaseFactory(responsible=ifk_nord, cooperation_mode="COOP_NO_RFB", elb__last_name=f"Treffer{i:03d}")
    CaseFactory(responsible=ifk_nord, cooperation_mode="NO_KP_YET", elb__last_name="Treffer999")
    CaseFactory(responsible=ifk_nord2, cooperation_mode="COOP_NO_RFB", elb__last_name="Treffer998")
    client = client_for(ifk_nord)
    _, html = search(client, q="Treffer", modus="COOP_NO_RFB", nur_meine="on")
    assert "27 Fälle" in html
    assert "Seite 1 von 2" in html
    next_link = re.search(r'<a class="page-link" href="([^"]+)">Weiter</a>', html)
    assert next_link is not None
    href = next_link.group(1).replace("&amp;", "&")
    assert href == "?q=Treffer&modus=COOP_NO_RFB&nur_meine=on&seite=2"
    _, page_two = search(client, q="Treffer", modus="COOP_NO_RFB", nur_meine="on", seite="2")
    assert "Seite 2 von 2" in page_two
    assert "Treffer026" in page_two
    assert "Treffer999" not in page_two
    assert "Treffer998" not in page_two
    back = re.search(r'<a class="page-link" href="([^"]+)">Zurück</a>', page_two)
    assert back is not None
    assert back.group(1).replace("&amp;", "&") == "?q=Treffer&modus=COOP_NO_RFB&nur_meine=on&seite=1"


def test_query_count_with_every_filter_is_fixed(ifk_nord):
    """Filters are WHERE clauses: still session, user, team, count, one page, session renewal (3)."""
    params = {
        "q": "Kind",
        "geburtsdatum": "10.06.2010",
        "modus": "COOP_NO_RFB",
        "nur_meine": "on",
        "nur_minderjaehrige": "on",
    }
    client = client_for(ifk_nord)

    def matching(n: int) -> None:
        for _ in range(n):
            CaseFactory(
                responsible=ifk_nord,
                cooperation_mode="COOP_NO_RFB",
                elb__last_name="Kindermann",
                elb__birth_date=date(2010, 6, 10),
            )

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            status, html = search(client, **params)
        assert status == 200
        return len(ctx.captured_queries), html

    matching(2)
    few, _ = queries()
    matching(CASELOAD_PAGE_SIZE + 5)
    many, html = queries()
    assert few == many == 8
    assert len(listed(html)) == CASELOAD_PAGE_SIZE


def test_reset_link_only_when_filtered(ifk_nord):
    client = client_for(ifk_nord)
    assert "Suche zurücksetzen" not in search(client)[1]
    assert "Suche zurücksetzen" not in search(client, seite="1")[1]
    assert "Suche zurücksetzen" in search(client, nur_minderjaehrige="on")[1]
