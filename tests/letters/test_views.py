"""Letter pages over HTTP: preview, download, status fragment, the case's letter list (T1, T2, T27)."""

from __future__ import annotations

import io
from datetime import date, datetime

import pikepdf
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import AccessLog
from kooperationsplan import escalations
from letters import services
from letters.models import Letter
from tests.conftest import client_for
from tests.factories import CaseFactory, LetterFactory
from tests.kooperationsplan.workflow_helpers import BERLIN, active_plan, at, in_days, key, new_case
from tests.letters.test_rendering import hostile_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=BERLIN), tick=False) as traveller:
        yield traveller


@pytest.fixture
def kp_letter(ifk_nord, clock):
    case = new_case(ifk=ifk_nord)
    active_plan(case)
    return Letter.objects.get(case=case, kind="KP_DOKUMENT")


def urls(letter: Letter) -> dict[str, str]:
    base = f"/faelle/{letter.case_id}/schreiben/{letter.pk}/"
    return {"preview": base, "pdf": f"{base}pdf/", "status": f"{base}status/"}


@pytest.mark.parametrize("page", ["preview", "pdf", "status"])
def test_t1_other_teams_letter_pages_are_404_and_logged_denied(kp_letter, ifk_sued, page):
    response = client_for(ifk_sued).get(urls(kp_letter)[page])
    assert response.status_code == 404
    assert list(AccessLog.objects.values_list("case_id_accessed", "outcome")) == [(kp_letter.case_id, "denied")]


def test_a_letter_of_another_case_of_the_own_team_is_404(kp_letter, ifk_nord):
    other_case = CaseFactory(responsible=ifk_nord)
    response = client_for(ifk_nord).get(f"/faelle/{other_case.pk}/schreiben/{kp_letter.pk}/")
    assert response.status_code == 404


def test_preview_shows_the_frozen_snapshot_and_logs_one_read(kp_letter, ifk_nord):
    response = client_for(ifk_nord).get(urls(kp_letter)["preview"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Vorschau: Kooperationsplan" in html
    assert "Dieser Kooperationsplan ist rechtlich nicht verbindlich" in html
    assert "Rechtsfolgenbelehrung" not in html
    assert 'class="letter letter-kp_dokument"' in html
    assert AccessLog.objects.filter(case_id_accessed=kp_letter.case_id, outcome="granted").count() == 1
    assert response["Cache-Control"] == "no-store, private"


def test_pdf_download_only_once_rendered_with_disposition_and_no_store(kp_letter, ifk_nord):
    client = client_for(ifk_nord)
    not_yet = client.get(urls(kp_letter)["pdf"])
    assert not_yet.status_code == 409
    assert "wird gerade erzeugt" in not_yet.content.decode()

    assert services.letter_render(letter_id=kp_letter.pk) == "rendered"
    response = client.get(urls(kp_letter)["pdf"])
    kp_letter.refresh_from_db()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="Schreiben-{kp_letter.number}.pdf"'
    assert response["Cache-Control"] == "no-store, private"
    assert response.content == bytes(kp_letter.pdf)
    assert AccessLog.objects.filter(case_id_accessed=kp_letter.case_id, view_name="letters:pdf").count() == 2


def test_awaiting_release_cannot_be_downloaded(kp_letter, ifk_nord):
    Letter.objects.filter(pk=kp_letter.pk).update(status=Letter.Status.FAILED, render_error="x")
    letter = LetterFactory(case=kp_letter.case, kind="EINL_RFB", with_rfb=True, is_va=True, status="AWAITING_RELEASE")
    response = client_for(ifk_nord).get(urls(letter)["pdf"])
    assert response.status_code == 409
    assert "erst nach der Freigabe durch die Teamleitung" in response.content.decode()


def test_status_fragment_polls_while_rendering_and_stops_afterwards(kp_letter, ifk_nord):
    client = client_for(ifk_nord)
    polling = client.get(urls(kp_letter)["status"]).content.decode()
    assert "wird erzeugt" in polling
    assert 'hx-trigger="every 3s"' in polling
    assert "PDF herunterladen" not in polling

    services.letter_render(letter_id=kp_letter.pk)
    done = client.get(urls(kp_letter)["status"]).content.decode()
    assert "erzeugt" in done
    assert "hx-trigger" not in done
    assert urls(kp_letter)["pdf"] in done


def test_status_says_the_job_is_dispatched_later_when_the_broker_was_down(kp_letter, ifk_nord):
    html = client_for(ifk_nord).get(urls(kp_letter)["status"]).content.decode()
    assert kp_letter.dispatched_at is None
    assert "die Erzeugung wird automatisch nachgeholt" in html


def test_failed_letter_shows_its_german_reason(kp_letter, ifk_nord):
    Letter.objects.filter(pk=kp_letter.pk).update(status="FAILED", render_error="R-KP-2: Ein Kooperationsplan …")
    html = client_for(ifk_nord).get(f"/faelle/{kp_letter.case_id}/schreiben/").content.decode()
    assert "fehlgeschlagen" in html
    assert "R-KP-2: Ein Kooperationsplan …" in html


def test_letter_list_runs_a_fixed_number_of_queries(ifk_nord, clock):
    case = new_case(ifk=ifk_nord)
    active_plan(case)
    client = client_for(ifk_nord)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/faelle/{case.pk}/schreiben/").status_code == 200
        return len(ctx)

    few = count()
    for _ in range(15):
        LetterFactory(case=case, rendered=True)
    LetterFactory(case=case, status="FAILED", render_error="Fehler")
    assert count() == few
    html = client.get(f"/faelle/{case.pk}/schreiben/").content.decode()
    assert html.count("PDF herunterladen") == 15


def test_preview_runs_a_fixed_number_of_queries(kp_letter, ifk_nord):
    """The preview reads the case and the letter once, whatever the number of copies (P5: three for a minor)."""
    minor = new_case(minor=True, ifk=ifk_nord)
    active_plan(minor)
    appointment = escalations.invitation_issue(
        case_id=minor.pk,
        actor=ifk_nord,
        kind="FOLGE",
        starts_at=at(in_days(10)),
        location="Raum 1.07",
        meldezweck="Gespräch",
        idempotency_key=key(),
    )
    letter = Letter.objects.get(pk=appointment.letter_id)
    assert len(letter.recipients) == 3
    client = client_for(ifk_nord)

    def count(target: Letter) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(urls(target)["preview"]).status_code == 200
        return len(ctx)

    assert count(kp_letter) == count(letter)


def test_t17_hostile_free_text_through_the_workflow_is_escaped_on_the_page_and_gives_a_valid_pdf(ifk_nord, clock):
    """T17 end to end: 10,000 characters with emoji, RTL, combining marks and <script> as the breach of an
    Aufforderung (free text of the IFK) are escaped in the preview and rendered into a valid PDF."""
    case = new_case(ifk=ifk_nord)
    plan = active_plan(case)
    text = hostile_text()
    escalation = escalations.breach_record(
        case_id=case.pk,
        actor=ifk_nord,
        breach_kind="EB_FEHLEN",
        breach_date=date(2026, 3, 1),
        description=text,
        eigenbemuehung_id=plan.eigenbemuehungen.get().pk,
    )
    escalations.intervention_invite(
        escalation_id=escalation.pk, actor=ifk_nord, starts_at=at(in_days(5)), location="Raum 1", idempotency_key=key()
    )
    escalations.intervention_outcome(escalation_id=escalation.pk, actor=ifk_nord, attended=True, wichtiger_grund=False)
    escalations.aufforderung_15_5_issue(
        escalation_id=escalation.pk, actor=ifk_nord, duty=text[:2000], deadline=in_days(20), idempotency_key=key()
    )
    letter = Letter.objects.get(case=case, kind="AUFF_15_5")

    html = client_for(ifk_nord).get(urls(letter)["preview"]).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "مرحبا بالعالم" in html

    assert services.letter_render(letter_id=letter.pk) == "rendered"
    letter.refresh_from_db()
    pdf = pikepdf.open(io.BytesIO(bytes(letter.pdf)))
    assert len(pdf.pages) > 2
    assert str(pdf.Root.Lang) == "de"


def test_ids_and_numbers_in_markup_are_not_localised(kp_letter, ifk_nord):
    """USE_THOUSAND_SEPARATOR: a pk of 1234 must not become "1.234" in an id or a number attribute."""
    Letter.objects.filter(pk=kp_letter.pk).update(id=1234)
    html = client_for(ifk_nord).get(f"/faelle/{kp_letter.case_id}/schreiben/").content.decode()
    assert 'id="letter-1234"' in html
