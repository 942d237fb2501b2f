"""Mein Arbeitsplatz and the filtered case list in a real browser, with axe (T30).

Dates are relative to today: the live server and the browser share the real clock (a frozen server
clock would hand the browser session cookies that have already expired by its own clock).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_axe_violations, login
from tests.factories import (
    PASSWORD,
    CaseFactory,
    ExemptionFactory,
    KooperationsplanFactory,
    MassnahmeZuweisungFactory,
    NotificationFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def in_days(n: int):
    return timezone.localdate() + timedelta(days=n)


def plan_with_review(case, review_in: int):
    return KooperationsplanFactory(
        case=case,
        active=True,
        valid_from=in_days(min(review_in, 0) - 170),
        valid_to=in_days(max(review_in, 0) + 30),
        review_due=in_days(review_in),
    )


@pytest.fixture
def worklist_data():
    nord = TeamFactory(name="Team Nord")
    sued = TeamFactory(name="Team Süd", jobcenter=nord.jobcenter)
    ifk = UserFactory(username="ifk.nord1", team=nord, first_name="Nora", last_name="Nordhoff")
    ifk_sued = UserFactory(username="ifk.sued1", team=sued)
    overdue = CaseFactory(
        responsible=ifk, elb__first_name="Olga", elb__last_name="Überfall", cooperation_mode="COOP_NO_RFB"
    )
    plan_with_review(overdue, -5)
    rueckmeldung = CaseFactory(responsible=ifk, elb__first_name="Rudi", elb__last_name="Rückmelder")
    MassnahmeZuweisungFactory(
        plan=plan_with_review(rueckmeldung, 90), status="SCHREIBEN_ISSUED", via="SCHREIBEN", rueckmeldung_due=in_days(3)
    )
    exempt = CaseFactory(responsible=ifk, elb__last_name="Ausnahme")
    ExemptionFactory(case=exempt, recheck_due=in_days(20))
    NotificationFactory(reminder__case=exempt, message="Die Einstellungszusage läuft bald aus.")
    foreign = CaseFactory(responsible=ifk_sued, elb__last_name="Südlich")
    plan_with_review(foreign, -30)
    return ifk, overdue, rueckmeldung, foreign


def test_ifk_works_the_worklist_and_filters_the_case_list(page, live_server, axe, worklist_data):
    ifk, overdue, rueckmeldung, foreign = worklist_data

    login(page, live_server.url, ifk.username, PASSWORD)
    page.get_by_role("link", name="Mein Arbeitsplatz").click()
    expect(page.get_by_role("heading", name="Mein Arbeitsplatz", level=1)).to_be_visible()
    expect(page.get_by_test_id("worklist-summary")).to_contain_text("1 überfällig, 1 in den nächsten 7 Tagen, 1 später")
    expect(page.get_by_test_id("worklist-summary")).to_contain_text("1 ungelesene Benachrichtigung")

    rows = page.locator("table.worklist-table tbody tr")
    expect(rows).to_have_count(3)
    first = rows.nth(0)
    expect(first).to_contain_text("überfällig seit 5 Tagen")
    expect(first).to_contain_text("Überprüfung des Kooperationsplans")
    expect(first).to_contain_text(overdue.elb.kundennummer)
    second = rows.nth(1)
    expect(second).to_contain_text("Rückmeldung zur Maßnahme")
    expect(second).to_contain_text("fällig in 3 Tagen")
    expect(second).to_contain_text(rueckmeldung.elb.kundennummer)
    expect(second).to_contain_text(in_days(3).strftime("%d.%m.%Y"))
    expect(page.get_by_role("heading", name="Überfällig (1)")).to_be_visible()
    expect(page.get_by_text("Die Einstellungszusage läuft bald aus.")).to_be_visible()
    expect(page.get_by_text(foreign.elb.kundennummer)).to_have_count(0)
    assert_no_axe_violations(axe, page)

    first.get_by_role("link", name=f"{overdue.elb.last_name}, {overdue.elb.first_name}").click()
    expect(page.get_by_role("heading", name=f"{overdue.elb.first_name} {overdue.elb.last_name}")).to_be_visible()
    assert page.url == f"{live_server.url}/faelle/{overdue.pk}/"

    page.goto(f"{live_server.url}/faelle/")
    page.get_by_label("Geburtsdatum").fill("31.02.1990")
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_text("Bitte geben Sie das Geburtsdatum als TT.MM.JJJJ an")).to_be_visible()
    expect(page.get_by_label("Geburtsdatum")).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(axe, page)

    page.get_by_label("Geburtsdatum").fill(overdue.elb.birth_date.strftime("%d.%m.%Y"))
    page.get_by_label("Kooperationsmodus").select_option("COOP_NO_RFB")
    page.get_by_label("nur meine Fälle").check()
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_role("row")).to_have_count(2)
    expect(page.get_by_role("cell", name=overdue.elb.kundennummer)).to_be_visible()
    expect(page.get_by_label("nur meine Fälle")).to_be_checked()
    expect(page.get_by_role("link", name="Suche zurücksetzen")).to_be_visible()
    assert_no_axe_violations(axe, page)


def test_empty_worklist_says_so(page, live_server, axe):
    ifk = UserFactory(username="ifk.leer", team=TeamFactory(name="Team Leer"))
    login(page, live_server.url, ifk.username, PASSWORD)
    page.goto(f"{live_server.url}/arbeitsplatz/")
    expect(page.get_by_text("Zurzeit ist nichts fällig")).to_be_visible()
    assert_no_axe_violations(axe, page)
