"""The first screens in a real browser: login, caseload of the own team, 404 for another team's case."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_axe_violations, login
from tests.factories import PASSWORD, CaseFactory, GesetzlicheVertretungFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_teams():
    nord = TeamFactory(name="Team Nord")
    sued = TeamFactory(name="Team Süd", jobcenter=nord.jobcenter)
    ifk_nord = UserFactory(username="ifk.nord1", team=nord, first_name="Nora", last_name="Nordhoff")
    ifk_sued = UserFactory(username="ifk.sued1", team=sued)
    nord_cases = [CaseFactory(responsible=ifk_nord) for _ in range(3)]
    minor_case = CaseFactory(responsible=ifk_nord, elb__minor=True)
    GesetzlicheVertretungFactory(elb=minor_case.elb)
    sued_case = CaseFactory(responsible=ifk_sued)
    return ifk_nord, [*nord_cases, minor_case], sued_case


def test_ifk_sees_only_own_team_and_gets_404_for_the_other_team(page, live_server, axe, two_teams):
    ifk_nord, nord_cases, sued_case = two_teams

    page.goto(f"{live_server.url}/anmelden/")
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    assert_no_axe_violations(axe, page)

    login(page, live_server.url, ifk_nord.username, PASSWORD)
    expect(page.get_by_role("heading", name="Mein Arbeitsplatz")).to_be_visible()
    page.get_by_role("link", name="Fälle", exact=True).click()
    expect(page.get_by_role("heading", name="Fälle – Team Nord")).to_be_visible()
    expect(page.locator("header")).to_contain_text("Nora Nordhoff")
    expect(page.locator("footer")).to_contain_text("Rechtsstand")
    for case in nord_cases:
        expect(page.get_by_role("cell", name=case.elb.kundennummer)).to_be_visible()
    expect(page.get_by_text(sued_case.elb.kundennummer)).to_have_count(0)
    assert_no_axe_violations(axe, page)

    page.get_by_label("Name oder Kundennummer").fill(nord_cases[0].elb.kundennummer)
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_role("row")).to_have_count(2)

    page.get_by_role("link", name=f"{nord_cases[0].elb.last_name}, {nord_cases[0].elb.first_name}").click()
    expect(
        page.get_by_role("heading", name=f"{nord_cases[0].elb.first_name} {nord_cases[0].elb.last_name}")
    ).to_be_visible()
    assert_no_axe_violations(axe, page)

    response = page.goto(f"{live_server.url}/faelle/{sued_case.pk}/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Seite nicht gefunden")).to_be_visible()
    expect(page.get_by_text(sued_case.elb.last_name)).to_have_count(0)


def test_skip_link_moves_focus_to_the_content(page, live_server, two_teams):
    ifk_nord, _, _ = two_teams
    login(page, live_server.url, ifk_nord.username, PASSWORD)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#inhalt")).to_be_focused()
