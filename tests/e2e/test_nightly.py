"""Issue 6 acceptance in a real browser: a KP due in 14 days produces one notification and one digest e-mail
after `manage.py run_nightly`; a second run produces nothing; the badge and the worklist show it; the
notification list passes axe; marking it read empties the badge. A team lead's absence page passes axe too.

Dates are relative to today: the live server and the browser share the real clock.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from kooperationsplan.models import Notification
from rules.dates import add_months
from tests.e2e.conftest import assert_no_axe_violations, login
from tests.factories import (
    PASSWORD,
    CaseFactory,
    KooperationsplanFactory,
    PotenzialanalyseFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def run_nightly() -> str:
    out = StringIO()
    call_command("run_nightly", stdout=out)
    return out.getvalue()


def test_a_review_due_in_14_days_gives_one_notification_and_one_digest(page, live_server, axe, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = live_server.url
    team = TeamFactory(name="Team Nord")
    ifk = UserFactory(username="ifk.nacht", team=team, first_name="Nina", last_name="Nachtigall")
    case = CaseFactory(
        responsible=ifk, cooperation_mode="COOP_NO_RFB", elb__first_name="Paula", elb__last_name="Prüfling"
    )
    PotenzialanalyseFactory(case=case, complete=True)
    due = timezone.localdate() + timedelta(days=14)
    KooperationsplanFactory(case=case, active=True, valid_from=add_months(due, -6), valid_to=due, review_due=due)

    first = run_nightly()
    assert "Überprüfung des Kooperationsplans: 1 Erinnerung, 1 Benachrichtigung" in first
    assert "E-Mail-Zusammenfassungen versandt: 1" in first
    assert Notification.objects.count() == 1
    (message,) = mail.outbox
    assert message.to == [ifk.email]
    assert case.elb.kundennummer in message.body
    assert f"{live_server.url}/faelle/{case.pk}/" in message.body
    assert "Prüfling" not in message.body

    second = run_nightly()
    assert "Gesamt: 0 Erinnerung(en), 0 Benachrichtigung(en), 0 automatisch erledigt" in second
    assert "E-Mail-Zusammenfassungen versandt: 0" in second
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1

    login(page, live_server.url, ifk.username, PASSWORD)
    page.goto(f"{live_server.url}/arbeitsplatz/")
    badge = page.get_by_role("link", name="Benachrichtigungen 1 ungelesen")
    expect(badge).to_be_visible()
    expect(page.get_by_test_id("worklist-summary")).to_contain_text("1 ungelesene Benachrichtigung")
    notes = page.locator("[data-kind=NOTIFICATION]")
    expect(notes).to_have_count(1)
    expect(notes.first).to_contain_text(f"spätestens am {due:%d.%m.%Y}")
    expect(notes.first).to_contain_text(case.elb.kundennummer)

    badge.click()
    expect(page.get_by_role("heading", name="Benachrichtigungen", level=1)).to_be_visible()
    expect(page.get_by_test_id("notification-list").locator("li")).to_have_count(1)
    assert_no_axe_violations(axe, page)

    page.get_by_test_id("notification-list").get_by_role("button", name="Als gelesen markieren").focus()
    page.keyboard.press("Enter")  # keyboard only
    expect(page.get_by_text("Keine offenen Benachrichtigungen.")).to_be_visible()
    expect(page.get_by_role("link", name="Benachrichtigungen", exact=True)).to_be_visible()
    page.get_by_role("link", name="Alle").click()
    expect(page.get_by_test_id("notification-list")).to_contain_text("gelesen")
    assert_no_axe_violations(axe, page)


def test_team_lead_enters_an_absence_and_the_cover_sees_the_worklist(page, live_server, axe):
    team = TeamFactory(name="Team Nord")
    lead = UserFactory(username="tl.nacht", team=team, tl=True)
    absent = UserFactory(username="ifk.weg", team=team, first_name="Wera", last_name="Weg")
    cover = UserFactory(username="ifk.da", team=team, first_name="Dora", last_name="Da")
    case = CaseFactory(responsible=absent, cooperation_mode="COOP_NO_RFB", elb__last_name="Vertretungsfall")
    due = timezone.localdate() + timedelta(days=5)
    KooperationsplanFactory(case=case, active=True, valid_from=add_months(due, -6), valid_to=due, review_due=due)

    login(page, live_server.url, lead.username, PASSWORD)
    page.goto(f"{live_server.url}/vertretungen/")
    expect(page.get_by_role("heading", name="Abwesenheiten und Vertretungen", level=1)).to_be_visible()
    assert_no_axe_violations(axe, page)
    page.get_by_label("Abwesende Integrationsfachkraft").select_option(label="Wera Weg")
    page.get_by_label("Vertretung").select_option(label="Dora Da")
    today = timezone.localdate()
    page.get_by_label("abwesend vom").fill(today.isoformat())
    page.get_by_label("abwesend bis einschließlich").fill((today + timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Abwesenheit eintragen").click()
    expect(page.get_by_text("Abwesenheit eingetragen: Wera Weg")).to_be_visible()
    expect(page.get_by_test_id("absence-row")).to_have_count(1)
    assert_no_axe_violations(axe, page)

    page.get_by_role("button", name="Abmelden").click()
    login(page, live_server.url, cover.username, PASSWORD)
    page.goto(f"{live_server.url}/arbeitsplatz/")
    expect(page.get_by_test_id("worklist-covering")).to_contain_text("Wera Weg")
    expect(page.locator("table.worklist-table")).to_contain_text("Vertretungsfall")
    assert_no_axe_violations(axe, page)
