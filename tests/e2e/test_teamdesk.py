"""The team lead's desk, the four-eyes release and the team figures in a real browser, with axe (T30).

Dates are relative to today: the live server and the browser share the real clock.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from kooperationsplan import escalations
from tests.e2e.conftest import assert_no_axe_violations, login
from tests.factories import (
    PASSWORD,
    CaseFactory,
    ExemptionFactory,
    KooperationsplanFactory,
    LetterFactory,
    SchlichtungFactory,
    TeamFactory,
    UserFactory,
)
from tests.kooperationsplan.workflow_helpers import active_plan, at, key, new_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BERLIN = ZoneInfo("Europe/Berlin")


def in_days(n: int) -> date:
    return timezone.localdate() + timedelta(days=n)


@pytest.fixture
def teams():
    nord = TeamFactory(name="Team Nord")
    sued = TeamFactory(name="Team Süd", jobcenter=nord.jobcenter)
    people = {
        "ifk.nord1": UserFactory(username="ifk.nord1", team=nord, first_name="Nora", last_name="Nordhoff"),
        "ifk.nord2": UserFactory(username="ifk.nord2", team=nord, first_name="Nils", last_name="Neumann"),
        "tl.nord": UserFactory(username="tl.nord", team=nord, tl=True, first_name="Tanja", last_name="Lindner"),
        "tl.sued": UserFactory(username="tl.sued", team=sued, tl=True, first_name="Sven", last_name="Sander"),
    }
    return nord, people


def session_page(browser: Browser, live_server, username: str) -> Page:
    """A browser context of its own per person, as two people at two desks."""
    context = browser.new_context(locale="de-DE", timezone_id="Europe/Berlin")
    page = context.new_page()
    page.set_default_timeout(20_000)
    login(page, live_server.url, username, PASSWORD)
    return page


def test_overdue_review_in_the_own_queue_only_and_reassigned(browser, page, live_server, axe, teams):
    _, people = teams
    case = CaseFactory(
        responsible=people["ifk.nord1"],
        elb__first_name="Olga",
        elb__last_name="Überfall",
        cooperation_mode="COOP_NO_RFB",
    )
    review_due = in_days(-20)
    KooperationsplanFactory(
        case=case, active=True, valid_from=review_due - timedelta(days=180), valid_to=review_due, review_due=review_due
    )
    number = case.elb.kundennummer

    sued = session_page(browser, live_server, "tl.sued")
    sued.get_by_role("link", name="Teamleitung").click()
    expect(sued.get_by_role("heading", name="Teamleitung: Warteschlange", level=1)).to_be_visible()
    expect(sued.get_by_text("Keine Überprüfung ist mehr als 14 Tage überfällig.")).to_be_visible()
    expect(sued.get_by_text(number)).to_have_count(0)
    sued.context.close()

    login(page, live_server.url, "tl.nord", PASSWORD)
    page.get_by_role("link", name="Teamleitung").click()
    row = page.get_by_test_id("queue-reviews").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(number)
    expect(row).to_contain_text("20 Tagen")
    expect(row).to_contain_text("Nora Nordhoff")
    assert_no_axe_violations(axe, page)

    row.get_by_role("link", name="Bearbeiten").click()
    expect(page.get_by_role("heading", name="Überfällige Überprüfung des Kooperationsplans")).to_be_visible()
    assert_no_axe_violations(axe, page)
    # Without a reason nothing happens; the error is next to the field.
    page.get_by_label("neue zuständige Integrationsfachkraft").select_option(label="Nils Neumann")
    page.get_by_role("button", name="Neu zuweisen").click()
    expect(page.get_by_text("Dieses Feld ist zwingend erforderlich.")).to_be_visible()
    assert_no_axe_violations(axe, page)
    page.get_by_label("neue zuständige Integrationsfachkraft").select_option(label="Nils Neumann")
    page.get_by_label("Grund der neuen Zuständigkeit").fill("Frau Nordhoff ist bis Ende des Monats abwesend.")
    page.get_by_role("button", name="Neu zuweisen").click()
    expect(page.get_by_text("Der Fall wurde neu zugewiesen.")).to_be_visible()
    expect(page.get_by_text("Keine Überprüfung ist mehr als 14 Tage überfällig.")).to_be_visible()

    page.goto(f"{live_server.url}/faelle/{case.pk}/")
    expect(page.locator("dd", has_text="Nils Neumann (Team Nord)")).to_be_visible()
    page.get_by_role("link", name="Zeitstrahl").click()
    entry = page.locator("ol.timeline li").first
    expect(entry).to_contain_text("Fall an Nils Neumann übertragen (bisher Nora Nordhoff)")
    expect(entry).to_contain_text("bis Ende des Monats abwesend")
    expect(entry).to_contain_text("Tanja Lindner")
    expect(entry).to_contain_text("§ 35 SGB I")


def test_four_eyes_rfb_letter_is_downloadable_only_after_the_release(browser, page, live_server, axe, teams):
    nord, people = teams
    nord.jobcenter.four_eyes_rfb_letters = True
    nord.jobcenter.save()
    case = new_case(ifk=people["ifk.nord1"])
    active_plan(case)
    appointment = escalations.invitation_issue(
        case_id=case.pk,
        actor=case.responsible,
        kind="FOLGE",
        starts_at=at(in_days(10)),
        location="Raum 1.07",
        meldezweck="Gespräch über Ihre Bewerbungen",
        idempotency_key=key("inv"),
    )
    letter = appointment.letter
    assert (letter.kind, letter.status) == ("EINL_RFB", "AWAITING_RELEASE")
    pdf_url = f"{live_server.url}/faelle/{case.pk}/schreiben/{letter.pk}/pdf/"

    ifk = session_page(browser, live_server, "ifk.nord1")
    refused = ifk.request.get(pdf_url)
    assert refused.status == 409
    assert "erst nach der Freigabe durch die Teamleitung" in refused.text()
    assert refused.headers["content-type"].startswith("text/html")

    login(page, live_server.url, "tl.nord", PASSWORD)
    page.get_by_role("link", name="Teamleitung").click()
    row = page.get_by_test_id("queue-letters").locator("tbody tr")
    expect(row).to_contain_text(f"Nr. {letter.number}")
    assert_no_axe_violations(axe, page)
    row.get_by_role("link", name="Prüfen").click()
    expect(page.get_by_role("heading", name="Freigabe eines Schreibens mit Rechtsfolgenbelehrung")).to_be_visible()
    assert_no_axe_violations(axe, page)
    page.get_by_role("button", name="Freigeben").click()
    expect(page.get_by_text("Das Schreiben wurde freigegeben und wird jetzt erzeugt.")).to_be_visible()

    # Rendering follows the release (eager without a broker); the IFK can download the PDF/A then.
    released = ifk.request.get(pdf_url)
    assert released.status == 200
    assert released.headers["content-type"] == "application/pdf"
    assert released.body().startswith(b"%PDF-")
    ifk.context.close()


@pytest.fixture
def seeded_month(teams):
    """The previous month: a few cases with known figures for Team Nord."""
    _, people = teams
    first = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)

    def moment(day: date) -> datetime:
        return datetime.combine(day, time(10), tzinfo=BERLIN)

    def case(ifk, created: date, **kwargs):
        return CaseFactory(responsible=ifk, created_at=moment(created), leistungsbeginn=created, **kwargs)

    def plan(for_case, activated: date):
        KooperationsplanFactory(
            case=for_case,
            active=True,
            valid_from=activated,
            valid_to=activated + timedelta(days=180),
            review_due=activated + timedelta(days=180),
            activated_at=moment(activated),
        )

    nora, nils = people["ifk.nord1"], people["ifk.nord2"]
    plan(case(nora, first - timedelta(days=40)), first - timedelta(days=30))
    case(nora, first - timedelta(days=35))  # no KP
    exempt = case(nora, first - timedelta(days=33), cooperation_mode="EXEMPT")
    ExemptionFactory(case=exempt, recorded_on=first, recheck_due=first + timedelta(days=60))
    newcomer = case(nora, first + timedelta(days=1))
    plan(newcomer, first + timedelta(days=7))  # the first KP after 6 days
    LetterFactory(case=newcomer, kind="AUFF_15_5", with_rfb=True, is_va=True, letter_date=first + timedelta(days=9))
    disputed = case(nils, first - timedelta(days=50))
    SchlichtungFactory(
        case=disputed,
        started_on=first + timedelta(days=2),
        ends_on=first + timedelta(days=30),
        outcome="AGREEMENT",
        ended_on=first + timedelta(days=12),
    )
    return first


def test_figures_of_a_seeded_month_and_the_matching_csv(page, live_server, axe, seeded_month):
    month = seeded_month
    expected = [
        ["Team Nord (gesamt)", "5", "4", "2", "50", "0", "1", "20", "1", "6", "1", "1", "0"],
        ["Nils Neumann", "1", "1", "0", "0", "0", "0", "0", "0", "–", "1", "1", "0"],
        ["Nora Nordhoff", "4", "3", "2", "66,7", "0", "1", "25", "1", "6", "0", "0", "0"],
    ]
    login(page, live_server.url, "tl.nord", PASSWORD)
    page.get_by_role("link", name="Teamleitung").click()
    page.get_by_role("link", name="Kennzahlen").click()
    page.get_by_label("Monat", exact=True).fill(f"{month:%Y-%m}")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.get_by_role("heading", name=f"Kennzahlen {month:%m.%Y}")).to_be_visible()
    table = page.get_by_test_id("figures-table")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    shown = [[cell.strip() for cell in rows.nth(i).locator("th, td").all_inner_texts()] for i in range(3)]
    assert shown == expected
    expect(page.get_by_role("img", name=f"Balkendiagramm: KP-Abdeckungsquote {month:%m.%Y} je Bereich")).to_be_visible()
    assert_no_axe_violations(axe, page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Als CSV herunterladen").click()
    download = download_info.value
    assert download.suggested_filename == f"kennzahlen-team-nord-{month:%Y-%m}.csv"
    with open(download.path(), encoding="utf-8") as file:
        raw = file.read()
    assert raw.startswith("\ufeff")
    header = [cell.strip() for cell in table.locator("thead th").all_inner_texts()]
    assert list(csv.reader(io.StringIO(raw.removeprefix("\ufeff")), delimiter=";")) == [header, *shown]

    page.get_by_label("Monat", exact=True).fill("2099-01")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.get_by_text("Für künftige Monate gibt es noch keine Kennzahlen.")).to_be_visible()
    assert_no_axe_violations(axe, page)


def test_calendar_settings_page(page, live_server, axe, teams):
    login(page, live_server.url, "ifk.nord1", PASSWORD)
    page.get_by_role("link", name="Kalender-Abo").click()
    expect(page.get_by_test_id("feed-status")).to_contain_text("keine gültige Kalender-Adresse")
    page.get_by_role("button", name="Kalender-Adresse erzeugen").click()
    url = page.get_by_label("Kalender-Adresse", exact=True).input_value()
    assert url.startswith(f"{live_server.url}/kalender/")
    assert_no_axe_violations(axe, page)
    feed = page.context.request.get(url)
    assert feed.status == 200
    assert feed.text().startswith("BEGIN:VCALENDAR\r\n")
    page.get_by_role("button", name="Adresse widerrufen").click()
    expect(page.get_by_text("Die Kalender-Adresse wurde widerrufen.")).to_be_visible()
    assert page.context.request.get(url).status == 404
