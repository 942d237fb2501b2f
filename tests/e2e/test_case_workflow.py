"""Issue acceptance in a real browser: create a case, complete the PA, and walk the guided escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kooperationsplan.models import Escalation, Kooperationsplan
from letters.models import Letter
from tests.e2e.conftest import assert_no_axe_violations, login
from tests.factories import PASSWORD, ElbFactory, TeamFactory, UserFactory
from tests.kooperationsplan.workflow_helpers import active_plan, new_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ifk():
    return UserFactory(username="ifk.nord1", team=TeamFactory(name="Team Nord"))


def test_create_case_refuse_duplicate_and_complete_pa(page, live_server, axe, ifk):
    ElbFactory(kundennummer="555B000111")
    login(page, live_server.url, ifk.username, PASSWORD)
    page.get_by_role("link", name="Neuer Fall").click()

    def fill(kundennummer: str) -> None:
        page.get_by_label("Kundennummer").fill(kundennummer)
        page.get_by_label("Vorname").fill("Mira")
        page.get_by_label("Nachname").fill("Beispiel")
        page.get_by_label("Geburtsdatum").fill("1991-04-03")
        page.get_by_label("Straße und Hausnummer").fill("Lindenweg 3")
        page.get_by_label("Postleitzahl").fill("12345")
        page.get_by_label("Ort").fill("Musterstadt")
        page.get_by_label("Beginn des Leistungsbezugs").fill("2026-01-01")
        page.get_by_role("button", name="Fall anlegen").click()

    fill("555B000111")
    expect(page.get_by_text("Diese Kundennummer ist bereits vergeben")).to_be_visible()
    assert_no_axe_violations(axe, page)
    fill("555B000222")
    expect(page.get_by_text("Der Fall für Mira Beispiel wurde angelegt.")).to_be_visible()

    kp_button = page.get_by_role("button", name="Kooperationsplan erstellen")
    expect(kp_button).to_be_disabled()
    expect(page.get_by_text("Zuerst muss die Potenzialanalyse vollständig sein")).to_be_visible()
    assert_no_axe_violations(axe, page)

    page.get_by_role("link", name="Potenzialanalyse").click()
    page.get_by_label("Stärken").fill("Ich bin zuverlässig und freundlich.")
    page.get_by_label("Handlungsbedarfe / Unterstützungsbedarfe").fill("Bewerbungsunterlagen erstellen.")
    page.get_by_label("Hemmnisse").fill("Keine Kinderbetreuung am Nachmittag.")
    page.get_by_label("gesundheitliche Situation und Reha-Bedarf besprochen").check()
    assert_no_axe_violations(axe, page)
    page.get_by_role("button", name="Speichern und abschließen").click()
    expect(page.get_by_text("Die Potenzialanalyse ist abgeschlossen.")).to_be_visible()
    expect(page.get_by_role("link", name="Kooperationsplan erstellen")).to_be_visible()


def test_guided_escalation_from_missing_eigenbemuehungen_to_aufforderung(page, live_server, axe, ifk):
    case = new_case(ifk=ifk)
    plan = active_plan(case)
    login(page, live_server.url, ifk.username, PASSWORD)
    page.goto(f"{live_server.url}/faelle/{case.pk}/")
    expect(page.locator("#rfb-status")).to_contain_text("gilt derzeit nicht")
    expect(page.locator("#next-deadlines")).to_contain_text(f"{plan.review_due:%d.%m.%Y}")

    page.get_by_role("link", name="Pflichtverstoß erfassen").click()
    page.get_by_label("Art des Verstoßes").select_option("EB_FEHLEN")
    page.get_by_label("Datum des Verstoßes").fill(timezone.localdate().isoformat())
    page.get_by_label("Sachverhalt").fill("Der Nachweis der Bewerbungen für den Vormonat fehlt.")
    page.get_by_role("button", name="Ausführen").click()

    invite = page.get_by_role("link", name="Zur beraterischen Intervention einladen (ohne RFB)")
    expect(invite).to_be_visible()
    expect(page.get_by_text("Nicht eingehaltene Absprachen leiten die Eskalation ein.").first).to_be_visible()
    invite.click()
    page.get_by_label("Datum").fill((timezone.localdate() + timedelta(days=7)).isoformat())
    page.get_by_label("Uhrzeit").fill("10:00")
    page.get_by_label("Ort/Raum").fill("Raum 1.07")
    page.get_by_role("button", name="Ausführen").click()

    page.get_by_role("link", name="Ergebnis der beraterischen Intervention erfassen").click()
    page.get_by_label("ja").check()
    page.get_by_role("button", name="Ausführen").click()

    auff = page.get_by_role("link", name="Aufforderung nach § 15 Abs. 5 SGB II (mit RFB)")
    expect(auff).to_be_visible()
    expect(page.get_by_text("Kein wichtiger Grund: Aufforderung nach § 15 Abs. 5 SGB II mit").first).to_be_visible()
    assert_no_axe_violations(axe, page)
    auff.click()
    page.get_by_label("Konkrete Mitwirkungshandlung").fill("Legen Sie Nachweise über fünf Bewerbungen vor.")
    page.get_by_label("Frist").fill((timezone.localdate() + timedelta(days=21)).isoformat())
    # The letter as it will be issued: the concrete duty with its RFB, nothing saved yet (issue 5).
    page.get_by_role("button", name="Vorschau des Schreibens").click()
    preview = page.get_by_role("region", name="Inhalt des Schreibens")
    expect(preview).to_contain_text("Legen Sie Nachweise über fünf Bewerbungen vor.")
    expect(preview).to_contain_text("Rechtsfolgenbelehrung")
    assert not Letter.objects.filter(case=case, kind="AUFF_15_5").exists()
    assert_no_axe_violations(axe, page)
    expect(page.get_by_label("Konkrete Mitwirkungshandlung")).to_have_value(
        "Legen Sie Nachweise über fünf Bewerbungen vor."
    )
    page.get_by_role("button", name="Ausführen").click()
    expect(page.get_by_text("Die Aufforderung mit Rechtsfolgenbelehrung wurde erstellt.")).to_be_visible()
    expect(page.locator("#rfb-status")).to_contain_text("gilt derzeit")

    plan.refresh_from_db()
    assert plan.status == "ACTIVE"  # the KP stays in force ...
    kp_letter = Letter.objects.get(case=case, kind="KP_DOKUMENT")
    assert not kp_letter.with_rfb  # ... and without RFB
    assert Letter.objects.get(case=case, kind="AUFF_15_5").with_rfb
    assert Escalation.objects.get(case=case).status == "AUFFORDERUNG_ISSUED"

    page.get_by_role("link", name="Zeitstrahl").click()
    expect(page.get_by_text("Aufforderung nach § 15 Abs. 5 SGB II mit RFB")).to_be_visible()
    assert_no_axe_violations(axe, page)
    assert Kooperationsplan.objects.filter(case=case).count() == 1
