"""Issue 5 in a real browser: the letter list with status (htmx polling), the preview, the PDF download, the
mass run with a failure and "nur Fehlgeschlagene wiederholen", and axe on every letters page (T20, T30).

The live server runs in this process; without a broker the rendering runs in-process after the commit.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kooperationsplan import escalations
from letters import services, tasks
from letters.models import Letter
from rules.dates import add_months
from tests.e2e.conftest import assert_no_axe_violations, login
from tests.factories import PASSWORD, TeamFactory, UserFactory
from tests.kooperationsplan.workflow_helpers import active_plan, at, in_days, key, new_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ifk():
    return UserFactory(
        username="ifk.nord1", first_name="Karla", last_name="Kolumna", team=TeamFactory(name="Team Nord")
    )


def test_letter_list_status_polling_preview_and_download(page, live_server, axe, ifk, monkeypatch):
    case = new_case(ifk=ifk)
    active_plan(case)  # the KP document is rendered after the commit
    kp = Letter.objects.get(case=case, kind="KP_DOKUMENT")
    assert kp.status == "RENDERED"

    # The broker is down while the next letter is issued: it waits in the outbox (T9).
    def broker_down(*args, **kwargs):
        raise OSError("Connection refused")

    monkeypatch.setattr(tasks.render_letter, "apply_async", broker_down)
    appointment = escalations.invitation_issue(
        case_id=case.pk,
        actor=ifk,
        kind="FOLGE",
        starts_at=at(in_days(10)),
        location="Raum 1.07",
        meldezweck="Gespräch über Ihre Bewerbungen",
        idempotency_key=key(),
    )
    monkeypatch.undo()
    services.broker_breaker.reset()
    invitation = Letter.objects.get(pk=appointment.letter_id)
    assert invitation.status == "ISSUED"

    login(page, live_server.url, ifk.username, PASSWORD)
    page.goto(f"{live_server.url}/faelle/{case.pk}/schreiben/")
    row = page.locator(f"#letter-{invitation.pk}")
    expect(row.get_by_text("wird erzeugt")).to_be_visible()
    expect(row.get_by_text("die Erzeugung wird automatisch nachgeholt")).to_be_visible()
    assert_no_axe_violations(axe, page)

    # The outbox sweep hands it over; the open page updates itself (htmx polling), no reload.
    assert services.letters_dispatch_pending(now=timezone.now() + timedelta(minutes=5)) == [invitation.pk]
    expect(row.get_by_role("link", name="PDF herunterladen")).to_be_visible(timeout=10_000)
    expect(row.get_by_text("erzeugt", exact=True)).to_be_visible()

    with page.expect_download() as download_info:
        row.get_by_role("link", name="PDF herunterladen").click()
    download = download_info.value
    assert download.suggested_filename == f"Schreiben-{invitation.number}.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(8) == b"%PDF-1.7"

    row.get_by_role("link", name="Ansehen").click()
    expect(page.get_by_role("heading", name="Vorschau: Einladung (Meldeaufforderung)")).to_be_visible()
    expect(page.get_by_role("heading", name="Rechtsfolgenbelehrung")).to_be_visible()
    expect(page.get_by_role("heading", name="Rechtsbehelfsbelehrung")).to_be_visible()
    expect(page.get_by_text("Gespräch über Ihre Bewerbungen").first).to_be_visible()
    assert_no_axe_violations(axe, page)


def plan_due_in(ifk, days: int):
    case = new_case(ifk=ifk)
    return active_plan(case, valid_from=add_months(timezone.localdate() + timedelta(days=days), -6))


def test_mass_run_with_a_failure_and_retry_of_the_failed_only(page, live_server, axe, ifk):
    plans = [plan_due_in(ifk, days) for days in (5, 12, 20)]
    broken = plans[1].case.elb
    broken.street = ""
    broken.save()

    login(page, live_server.url, ifk.username, PASSWORD)
    page.goto(f"{live_server.url}/serienbriefe/")
    expect(page.get_by_role("heading", name="Auswahl (3 Fälle)")).to_be_visible()
    assert_no_axe_violations(axe, page)

    # The preview before issuing: the letter the run would send to the first case.
    page.get_by_role("link", name=f"Einladung ansehen für {plans[0].case.elb.first_name}").click()
    expect(page.get_by_role("heading", name="Rechtsfolgenbelehrung")).to_be_visible()
    assert_no_axe_violations(axe, page)
    page.go_back()

    page.get_by_label("Ort/Raum").fill("Jobcenter, Raum 1.07")
    page.get_by_role("button", name="Einladungen ausstellen").click()
    expect(page.get_by_text("Fortschritt: 3 von 3 Fällen verarbeitet (100 %)")).to_be_visible()
    expect(page.locator("#massrun-summary")).to_have_text("2 ausgestellt, 1 fehlgeschlagen.")
    failed = page.locator("#massrun-failed")
    expect(failed.get_by_text(broken.last_name)).to_be_visible()
    expect(failed.get_by_text("Straße und Hausnummer der Anschrift 1")).to_be_visible()
    assert_no_axe_violations(axe, page)

    broken.street = "Lindenweg 4"
    broken.save()
    page.get_by_role("button", name="nur Fehlgeschlagene wiederholen").click()
    expect(page.locator("#massrun-summary")).to_have_text("3 ausgestellt, 0 fehlgeschlagen.")
    expect(page.locator("#massrun-failed")).to_have_count(0)
    assert Letter.objects.filter(kind="EINL_RFB").count() == 3
    assert Letter.objects.filter(kind="EINL_RFB", status="RENDERED").count() == 3
