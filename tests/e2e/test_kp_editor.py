"""The KP editor in a real browser: rows added with htmx, the live first-person preview, saving with the
keyboard alone (T30), activation with the review date (R-KP-4), and two browsers editing one plan (T7)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from kooperationsplan import services
from kooperationsplan.models import Kooperationsplan
from rules.dates import add_months
from tests.e2e.conftest import assert_no_axe_violations, login
from tests.factories import PASSWORD, MassnahmeFactory, TeamFactory, UserFactory
from tests.kooperationsplan.workflow_helpers import active_plan, complete_pa, fill_draft, new_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STEPS = (
    "Ich aktualisiere meinen Lebenslauf.",
    "Ich melde mich in der Jobbörse an.",
    "Ich kläre die Kinderbetreuung am Nachmittag.",
)


@pytest.fixture
def team():
    return TeamFactory(name="Team Nord")


@pytest.fixture
def ifk(team):
    return UserFactory(username="ifk.editor", team=team, first_name="Nora", last_name="Nordhoff")


@pytest.fixture
def draft(ifk):
    case = new_case(ifk=ifk)
    complete_pa(case)
    return services.kooperationsplan_start(case_id=case.pk, actor=ifk)


def editor_url(base: str, plan: Kooperationsplan) -> str:
    return f"{base}/faelle/{plan.case_id}/kp/{plan.pk}/bearbeiten/"


def add_row(page: Page, button: str, field_id: str, *, keyboard: bool = False) -> None:
    """Press "… hinzufügen" (htmx, no reload); the new row's first field receives the focus."""
    add = page.get_by_role("button", name=button)
    if keyboard:
        add.focus()
        page.keyboard.press("Enter")
    else:
        add.click()
    expect(page.locator(f"#{field_id}")).to_be_focused()


@pytest.fixture
def catalogue():
    return MassnahmeFactory(title="Bewerbungscenter Nord", traeger_name="Bildung Nord gGmbH", duration_weeks=8)


def test_draft_with_preview_saved_by_keyboard_and_activated(page, live_server, axe, ifk, draft, catalogue):
    login(page, live_server.url, ifk.username, PASSWORD)
    page.goto(editor_url(live_server.url, draft))
    expect(page.get_by_role("heading", name="Kooperationsplan v1 bearbeiten")).to_be_visible()
    expect(page.get_by_text("Noch nicht möglich. Es fehlt:")).to_be_visible()
    assert_no_axe_violations(axe, page)

    page.get_by_label("Geplante Eingliederungsleistungen").fill(
        "Das Jobcenter unterstützt mich mit einem Bewerbungscoaching."
    )
    page.get_by_label("Eigenbemühungen (Pflichtangabe)", exact=True).fill("Ich bewerbe mich regelmäßig.")
    for item in (
        "Integrationskurs oder Deutschsprachförderung",
        "Leistungen anderer Leistungsträger (Leistungen Dritter)",
        "Rehabilitationsbedarf",
    ):
        page.get_by_label(f"{item}: nicht relevant").check()
    page.get_by_label("Vermittlungsziel").fill("Ich arbeite wieder als Verkäuferin in Teilzeit.")
    page.get_by_label("Nächstes Ziel", exact=True).fill("Ich habe im Sommer drei Vorstellungsgespräche.")

    # Three steps, added without a page reload; the first one with the keyboard alone.
    for index, text in enumerate(STEPS):
        add_row(page, "Schritt hinzufügen", f"id_schritte-{index}-text", keyboard=index == 0)
        page.keyboard.type(text)
    expect(page.locator("#id_schritte-TOTAL_FORMS")).to_have_value("3")
    expect(page.locator("#editor-status")).to_have_text("Schritt 3 wurde hinzugefügt.")
    expect(page.get_by_role("group", name="Schritt 3", exact=True)).to_be_visible()

    add_row(page, "Eigenbemühung hinzufügen", "id_eb-0-kind")
    row = page.get_by_role("group", name="Eigenbemühung 1", exact=True)
    row.get_by_label(re.compile(r"^Art\b")).select_option("BEWERBUNG")
    row.get_by_label("mindestens (Anzahl)").fill("5")
    row.get_by_label(re.compile(r"^Zeitraum\b")).select_option("MONAT")
    row.get_by_label("Form des Nachweises").select_option("LISTE")
    row.get_by_label("Nachweis bis zum Tag").fill("5")
    expect(page.locator("#id_eb-TOTAL_FORMS")).to_have_value("1")

    # One measure from the catalogue (Soll-Inhalt 1, R-ZUW-1); its end follows from the usual duration.
    add_row(page, "Maßnahme hinzufügen", "id_massnahmen-0-massnahme")
    measure = page.get_by_role("group", name="Maßnahme 1", exact=True)
    measure.get_by_label("Maßnahme/AGH aus dem Katalog").select_option(
        label=f"{catalogue.title} – {catalogue.traeger_name} ({catalogue.art.name})"
    )
    start = timezone.localdate() + timedelta(days=14)
    measure.get_by_label("Beginn").fill(start.isoformat())
    measure.get_by_label("Vorstellung/Rückmeldung beim Träger bis").fill((start - timedelta(days=7)).isoformat())

    # The live preview speaks in the first person and saves nothing.
    preview = page.locator("#vorschau-inhalt")
    expect(preview).to_contain_text(
        "Ich bewerbe mich mindestens 5-mal pro Monat. Den Nachweis (Bewerbungsliste) gebe ich bis zum 5. des "
        "Folgemonats ab."
    )
    expect(preview).to_contain_text("Ich kläre die Kinderbetreuung am Nachmittag.")
    expect(preview).to_contain_text("Das Jobcenter unterstützt mich mit einem Bewerbungscoaching.")
    expect(preview).to_contain_text("rechtlich nicht verbindlich")
    expect(preview).to_contain_text(f"Ich nehme an der Maßnahme „{catalogue.title}“ bei {catalogue.traeger_name} teil")
    assert Kooperationsplan.objects.get(pk=draft.pk).lock_version == draft.lock_version

    page.get_by_label("Der Plan wurde gemeinsam mit der eLb erarbeitet").check()
    page.get_by_label("Die Leistungen aus dem Vermittlungsbudget wurden erläutert").check()
    page.get_by_label("Info-Blatt").fill(timezone.localdate().isoformat())
    page.get_by_label("Beratungsvermerk (Referenz)").fill("BV-2026-0815")

    # Save with the keyboard alone: Tab to "Speichern", then Enter.
    save = page.get_by_role("button", name="Speichern", exact=True)
    for _ in range(10):
        if save.evaluate("button => button === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(save).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Der Kooperationsplan v1 wurde gespeichert.")).to_be_visible()

    plan = Kooperationsplan.objects.get(pk=draft.pk)
    assert list(plan.steps.order_by("position").values_list("text", flat=True)) == list(STEPS)
    assignment = plan.assignments.get()
    assert (assignment.massnahme_id, assignment.status, assignment.start_date) == (catalogue.pk, "PLANNED", start)
    eb = plan.eigenbemuehungen.get()
    assert (eb.kind, eb.min_count, eb.period, eb.nachweis_form, eb.nachweis_due_day) == (
        "BEWERBUNG",
        5,
        "MONAT",
        "LISTE",
        5,
    )
    review_due = add_months(timezone.localdate(), 6)
    expect(page.get_by_text("Alle Voraussetzungen für die Aktivierung sind erfüllt.")).to_be_visible()
    expect(page.locator("#aktivierung-termin")).to_contain_text(f"Überprüfung spätestens am {review_due:%d.%m.%Y}")
    assert_no_axe_violations(axe, page)

    page.get_by_role("button", name="Kooperationsplan aktivieren").click()
    expect(page.get_by_text(f"Überprüfung spätestens am {review_due:%d.%m.%Y}")).to_be_visible()
    # The case header shows the review date among the next deadlines.
    expect(page.locator("#next-deadlines")).to_contain_text(f"Überprüfung KP v1: {review_due:%d.%m.%Y}")
    plan.refresh_from_db()
    assert (plan.status, plan.review_due) == ("ACTIVE", review_due)
    # The measure is offered for its Zuweisungsschreiben without RFB.
    expect(page.get_by_role("link", name="Zuweisungsschreiben erstellen (ohne RFB)")).to_be_visible()


def test_two_browsers_edit_one_plan_and_the_second_save_keeps_its_input(browser, live_server, axe, team, ifk, draft):
    fill_draft(draft)
    colleague = UserFactory(username="ifk.editor2", team=team)
    pages = []
    for user in (ifk, colleague):
        context = browser.new_context(locale="de-DE", timezone_id="Europe/Berlin")
        page = context.new_page()
        page.set_default_timeout(15_000)
        login(page, live_server.url, user.username, PASSWORD)
        page.goto(editor_url(live_server.url, draft))
        expect(page.get_by_label("Nächstes Ziel", exact=True)).to_be_visible()
        pages.append(page)
    first, second = pages
    try:
        first.get_by_label("Nächstes Ziel", exact=True).fill("Erste Fassung aus dem ersten Browser.")
        first.get_by_role("button", name="Speichern", exact=True).click()
        expect(first.get_by_text("Der Kooperationsplan v1 wurde gespeichert.")).to_be_visible()

        mine = "Zweite Fassung – bitte nicht verlieren."
        second.get_by_label("Nächstes Ziel", exact=True).fill(mine)
        with second.expect_response(re.compile(r"/bearbeiten/$")) as answer:
            second.get_by_role("button", name="Speichern", exact=True).click()
        assert answer.value.status == 409
        expect(second.get_by_role("heading", name=re.compile("Bearbeitungskonflikt"))).to_be_visible()
        expect(second.get_by_label("Nächstes Ziel", exact=True)).to_have_value(mine)
        expect(second.locator("#konflikt-tabelle")).to_contain_text("Erste Fassung aus dem ersten Browser.")
        expect(second.locator("#konflikt-tabelle")).to_contain_text(mine)
        assert_no_axe_violations(axe, second)
        assert Kooperationsplan.objects.get(pk=draft.pk).naechstes_ziel == "Erste Fassung aus dem ersten Browser."
    finally:
        for page in pages:
            page.context.close()


def test_fortschreibung_older_version_read_only_and_diff(page, live_server, axe, ifk):
    case = new_case(ifk=ifk)
    plan = active_plan(case)
    login(page, live_server.url, ifk.username, PASSWORD)
    page.goto(editor_url(live_server.url, plan))
    expect(page.get_by_text("Diese Version (aktiv) kann nicht mehr bearbeitet werden.")).to_be_visible()
    expect(page.locator("#vorschau-inhalt")).to_contain_text("Ich bewerbe mich mindestens 5-mal pro Monat.")
    assert_no_axe_violations(axe, page)

    page.get_by_role("button", name="Fortschreibung beginnen").click()
    expect(page.get_by_role("heading", name="Kooperationsplan v2 bearbeiten")).to_be_visible()
    expect(page.get_by_label("Vermittlungsziel")).to_have_value("Ich arbeite wieder als Verkäuferin in Teilzeit.")
    page.get_by_label("Nächstes Ziel", exact=True).fill("Ich beginne eine Weiterbildung im Handel.")
    page.get_by_role("checkbox", name="Schritt 1 entfernen").check()
    first_step = page.get_by_role("group", name="Schritt 1", exact=True)
    expect(first_step.get_by_text("Dieser Schritt wird beim Speichern entfernt.")).to_be_visible()
    expect(page.get_by_role("group", name="Schritt 2", exact=True).get_by_text("wird beim Speichern")).to_be_hidden()
    # R-KP-3 and R-EB-3 are confirmed again at every Fortschreibung.
    page.get_by_label("Der Plan wurde gemeinsam mit der eLb erarbeitet").check()
    page.get_by_label("Die Leistungen aus dem Vermittlungsbudget wurden erläutert").check()
    page.get_by_label("Info-Blatt").fill(timezone.localdate().isoformat())
    page.get_by_label("Beratungsvermerk (Referenz)").fill("BV-2026-0816")
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.get_by_text("Der Kooperationsplan v2 wurde gespeichert.")).to_be_visible()

    page.get_by_role("button", name="Kooperationsplan aktivieren").click()
    expect(page.get_by_text("Der Kooperationsplan v2 ist aktiv")).to_be_visible()
    versions = {version.version_number: version for version in Kooperationsplan.objects.filter(case=case)}
    assert (versions[1].status, versions[2].status) == ("SUPERSEDED", "ACTIVE")

    # v1 is read-only now.
    page.goto(editor_url(live_server.url, versions[1]))
    expect(
        page.get_by_text("Diese Version (fortgeschrieben (abgelöst)) kann nicht mehr bearbeitet werden.")
    ).to_be_visible()
    expect(page.get_by_label("Nächstes Ziel", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Fortschreibung beginnen")).to_have_count(0)

    page.goto(editor_url(live_server.url, versions[2]))
    page.get_by_role("link", name="Änderungen gegenüber der Vorversion anzeigen").click()
    table = page.locator("#vergleich")
    expect(table).to_contain_text("Ich beginne eine Weiterbildung im Handel.")
    # Exactly the changed fields: the next goal, the removed first step (the others move up), the term.
    headers = table.get_by_role("rowheader").all_inner_texts()
    assert headers == ["Nächstes Ziel", "Schritt 1", "Schritt 2", "Schritt 3"], headers
    expect(table.get_by_role("rowheader", name="Vermittlungsziel (übergeordnetes Ziel)")).to_have_count(0)
    assert_no_axe_violations(axe, page)
