"""The team lead's desk (RULES.md 5.4): queue contents, scoping (404), T4 (403), the actions and their
timeline events, refusals that change nothing, and pinned query counts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import AccessLog, Case, TimelineEvent
from cases.services import CaseActionRefused, case_reassign
from kooperationsplan import measures, schlichtung
from kooperationsplan.models import Notification, TeamLeadApproval
from kooperationsplan.teamdesk import overdue_reviews, request_act, review_act
from kooperationsplan.workflow import WorkflowRefused
from letters.models import Letter
from rules.teamdesk import TLAction
from tests.conftest import client_for
from tests.factories import (
    CaseFactory,
    EscalationFactory,
    KooperationsplanFactory,
    LetterFactory,
    ReminderFactory,
    TeamLeadApprovalFactory,
    UserFactory,
)
from tests.kooperationsplan.query_counts import view_queries
from tests.kooperationsplan.test_scenarios import aborted_measure
from tests.kooperationsplan.workflow_helpers import new_case

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 3, 16)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2026, 3, 16, 9, 30, tzinfo=BERLIN), tick=False) as traveller:
        yield traveller


@pytest.fixture
def tl_sued(team_sued):
    return UserFactory(username="tl.sued", team=team_sued, tl=True)


def overdue_plan(case: Case, days: int):
    """An active KP whose review (D-01) was due `days` days ago."""
    review_due = TODAY - timedelta(days=days)
    return KooperationsplanFactory(
        case=case, active=True, valid_from=review_due - timedelta(days=180), valid_to=review_due, review_due=review_due
    )


def psych_skip(case: Case) -> TeamLeadApproval:
    escalation = EscalationFactory(
        case=case, status="MONITORING", monitoring_reason="PSYCH", psych_vermerk="Komplexe Handlungsbedarfe."
    )
    return TeamLeadApprovalFactory(
        case=case,
        kind="PSYCH_SKIP",
        subject_type="kooperationsplan.Escalation",
        subject_id=escalation.pk,
        request_note="Komplexe Handlungsbedarfe; eine Aufforderung würde die Zusammenarbeit gefährden.",
    )


def test_R_FS_1_queue_holds_reviews_overdue_more_than_14_days_of_the_own_team_only(
    ifk_nord, ifk_sued, tl_nord, tl_sued
):
    fifteen = overdue_plan(CaseFactory(responsible=ifk_nord), 15)
    overdue_plan(CaseFactory(responsible=ifk_nord), 14)  # exactly 14 days: not yet (D-01 "at +14 days")
    overdue_plan(CaseFactory(responsible=ifk_nord, closed_on=TODAY), 40)  # closed case
    under_review = overdue_plan(CaseFactory(responsible=ifk_nord), 60)
    under_review.status = "UNDER_REVIEW"
    under_review.save()
    foreign = overdue_plan(CaseFactory(responsible=ifk_sued), 30)

    assert list(overdue_reviews(tl_nord, on=TODAY)) == [under_review, fifteen]
    assert list(overdue_reviews(tl_sued, on=TODAY)) == [foreign]
    html = client_for(tl_nord).get("/team/").content.decode()
    assert fifteen.case.elb.kundennummer in html
    assert foreign.case.elb.kundennummer not in html
    assert "Überprüfungen seit mehr als 14 Tagen überfällig (2)" in html


def test_R_ABB_6_queue_holds_open_schlichtung_requests_and_psych_skips(ifk_nord, ifk_sued, tl_nord):
    schlichtung = TeamLeadApprovalFactory(case=CaseFactory(responsible=ifk_nord))
    skip = psych_skip(CaseFactory(responsible=ifk_nord))
    TeamLeadApprovalFactory(
        case=CaseFactory(responsible=ifk_nord), status="APPROVED", decided_by=tl_nord, decided_at=datetime.now(BERLIN)
    )
    foreign = TeamLeadApprovalFactory(case=CaseFactory(responsible=ifk_sued))
    html = client_for(tl_nord).get("/team/").content.decode()
    assert "Vorlagen der Integrationsfachkräfte (2)" in html
    assert schlichtung.case.elb.kundennummer in html
    assert skip.case.elb.kundennummer in html
    assert foreign.case.elb.kundennummer not in html


def awaiting_letter(case: Case, *, issued_by=None):
    """An Aufforderung with RFB that waits for the four-eyes release."""
    return LetterFactory(
        case=case,
        kind="AUFF_15_5",
        with_rfb=True,
        is_va=True,
        status="AWAITING_RELEASE",
        issued_by=issued_by or case.responsible,
    )


def item_urls(plan, approval) -> list[tuple[str, str]]:
    return [
        ("get", "/team/"),
        ("get", "/team/kennzahlen/"),
        ("get", f"/team/ueberpruefung/{plan.pk}/"),
        ("post", f"/team/ueberpruefung/{plan.pk}/zustimmen/"),
        ("post", f"/team/ueberpruefung/{plan.pk}/zurueckgeben/"),
        ("post", f"/team/ueberpruefung/{plan.pk}/neu-zuweisen/"),
        ("get", f"/team/vorlage/{approval.pk}/"),
        ("post", f"/team/vorlage/{approval.pk}/zustimmen/"),
        ("post", f"/team/vorlage/{approval.pk}/ablehnen/"),
        ("post", f"/team/vorlage/{approval.pk}/zurueckgeben/"),
        ("post", f"/team/vorlage/{approval.pk}/neu-zuweisen/"),
    ]


def test_T4_ifk_and_fachadmin_get_403_and_nothing_changes(ifk_nord, ifk_nord2, fachadmin):
    case = CaseFactory(responsible=ifk_nord)
    plan = overdue_plan(case, 30)
    approval = TeamLeadApprovalFactory(case=case)
    data = {
        "zustimmen-comment": "Einverstanden mit dem Vorgehen.",
        "zurueckgeben-comment": "Bitte sofort einladen.",
        "ablehnen-comment": "Nicht erforderlich.",
        "neu-zuweisen-new_responsible": ifk_nord2.pk,
        "neu-zuweisen-reason": "Vertretung wegen Urlaub.",
    }
    events = TimelineEvent.objects.count()
    for user in (ifk_nord, fachadmin):
        client = client_for(user)
        for method, url in item_urls(plan, approval):
            response = getattr(client, method)(url, data if method == "post" else None)
            assert response.status_code == 403, (user.username, url)
    assert TimelineEvent.objects.count() == events
    assert TeamLeadApproval.objects.get(pk=approval.pk).status == "OPEN"
    assert TeamLeadApproval.objects.count() == 1
    assert Case.objects.get(pk=case.pk).responsible == ifk_nord
    with pytest.raises(PermissionDenied):
        request_act(approval_id=approval.pk, actor=ifk_nord, action=TLAction.APPROVE, comment="")
    with pytest.raises(PermissionDenied):
        case_reassign(case_id=case.pk, actor=ifk_nord, new_responsible_id=ifk_nord2.pk, reason="Ich gebe ab.")


def test_T1_another_teams_items_answer_404_and_the_access_is_logged(ifk_nord, ifk_nord2, tl_sued):
    case = CaseFactory(responsible=ifk_nord)
    plan = overdue_plan(case, 30)
    approval = TeamLeadApprovalFactory(case=case)
    client = client_for(tl_sued)
    data = {"zustimmen-comment": "", "zurueckgeben-comment": "Bitte sofort einladen."}
    for method, url in item_urls(plan, approval)[2:]:
        response = getattr(client, method)(url, data if method == "post" else None)
        assert response.status_code == 404, url
    denied = AccessLog.objects.filter(user=tl_sued, case_id_accessed=case.pk, outcome="denied").count()
    assert denied == len(item_urls(plan, approval)) - 2
    assert TeamLeadApproval.objects.get(pk=approval.pk).status == "OPEN"
    assert not TeamLeadApproval.objects.filter(kind="REVIEW_OVERDUE").exists()
    with pytest.raises(PermissionDenied):
        review_act(plan_id=plan.pk, actor=tl_sued, action=TLAction.APPROVE, comment="", on=TODAY)


def test_R_FS_1_return_an_overdue_review_with_a_comment(ifk_nord, tl_nord, clock):
    plan = overdue_plan(CaseFactory(responsible=ifk_nord), 20)
    client = client_for(tl_nord)
    assert client.get(f"/team/ueberpruefung/{plan.pk}/").status_code == 200
    response = client.post(
        f"/team/ueberpruefung/{plan.pk}/zurueckgeben/",
        {"zurueckgeben-comment": "Bitte laden Sie die eLb diese Woche zur Überprüfung ein."},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/team/"
    decided = TeamLeadApproval.objects.get(kind="REVIEW_OVERDUE", subject_id=plan.pk)
    assert (decided.status, decided.decided_by) == ("RETURNED", tl_nord)
    assert decided.comment == "Bitte laden Sie die eLb diese Woche zur Überprüfung ein."
    event = TimelineEvent.objects.get(case=plan.case, code="approval.returned")
    assert event.reason_codes == ["R-FS-1:teamdesk.review_overdue", "R-FS-1:teamdesk.returned"]
    assert "§ 15 Abs. 3 SGB II" in event.sources
    assert "RULES.md 5.4" in event.sources
    assert "diese Woche zur Überprüfung ein" in event.summary
    # Visible to the IFK: a notification in the worklist and the entry on the case timeline.
    notification = Notification.objects.get(user=ifk_nord, case=plan.case)
    assert "diese Woche zur Überprüfung ein" in notification.message
    worklist = client_for(ifk_nord).get("/arbeitsplatz/").content.decode()
    assert "diese Woche zur Überprüfung ein" in worklist
    timeline = client_for(ifk_nord).get(f"/faelle/{plan.case_id}/zeitstrahl/").content.decode()
    assert "diese Woche zur Überprüfung ein" in timeline

    # Off the queue for the D-01 lead time of 14 days; still open after that, it comes back.
    assert plan not in overdue_reviews(tl_nord, on=TODAY)
    clock.shift(timedelta(days=14))
    assert plan not in overdue_reviews(tl_nord, on=TODAY + timedelta(days=14))
    clock.shift(timedelta(days=1))
    assert plan in overdue_reviews(tl_nord, on=TODAY + timedelta(days=15))


def test_return_without_a_comment_is_refused_and_changes_nothing(ifk_nord, tl_nord):
    plan = overdue_plan(CaseFactory(responsible=ifk_nord), 20)
    approval = TeamLeadApprovalFactory(case=plan.case)
    client = client_for(tl_nord)
    events = TimelineEvent.objects.count()
    for url in (f"/team/ueberpruefung/{plan.pk}/zurueckgeben/", f"/team/vorlage/{approval.pk}/zurueckgeben/"):
        empty = client.post(url, {"zurueckgeben-comment": ""})
        assert empty.status_code == 400
        assert "Dieses Feld ist zwingend erforderlich." in empty.content.decode()
        one_word = client.post(url, {"zurueckgeben-comment": "Nein"})
        assert one_word.status_code == 422
        assert "mindestens zwei Wörter" in one_word.content.decode()
    assert TimelineEvent.objects.count() == events
    assert TeamLeadApproval.objects.filter(kind="REVIEW_OVERDUE").count() == 0
    assert TeamLeadApproval.objects.get(pk=approval.pk).status == "OPEN"
    assert not Notification.objects.exists()


@pytest.mark.parametrize("bad", ["Bitte\x00 einladen", "x " * 50_000])
def test_T21_nul_bytes_and_huge_comments_are_form_errors(ifk_nord, tl_nord, bad):
    plan = overdue_plan(CaseFactory(responsible=ifk_nord), 20)
    client = client_for(tl_nord)
    for action in ("zustimmen", "zurueckgeben"):
        response = client.post(f"/team/ueberpruefung/{plan.pk}/{action}/", {f"{action}-comment": bad})
        assert response.status_code == 400
    response = client.post(
        f"/team/ueberpruefung/{plan.pk}/neu-zuweisen/",
        {"neu-zuweisen-new_responsible": "1\x00", "neu-zuweisen-reason": bad},
    )
    assert response.status_code == 400
    assert not TeamLeadApproval.objects.exists()


def test_R_FS_1_accepting_the_delay_takes_the_review_off_the_queue_and_a_second_submit_is_refused(ifk_nord, tl_nord):
    plan = overdue_plan(CaseFactory(responsible=ifk_nord), 20)
    client = client_for(tl_nord)
    first = client.post(f"/team/ueberpruefung/{plan.pk}/zustimmen/", {"zustimmen-comment": ""})
    assert first.status_code == 302
    event = TimelineEvent.objects.get(case=plan.case, code="approval.decided")
    assert event.reason_codes == ["R-FS-1:teamdesk.review_overdue", "R-FS-1:teamdesk.review_delay_accepted"]
    # T8: the same form again: the item is no longer in the queue.
    assert client.post(f"/team/ueberpruefung/{plan.pk}/zustimmen/", {"zustimmen-comment": ""}).status_code == 404
    assert TeamLeadApproval.objects.filter(kind="REVIEW_OVERDUE").count() == 1


def test_R_ABB_6_approve_and_decline_a_schlichtung_request(ifk_nord, tl_nord):
    approve = TeamLeadApprovalFactory(case=CaseFactory(responsible=ifk_nord))
    decline = TeamLeadApprovalFactory(case=CaseFactory(responsible=ifk_nord))
    client = client_for(tl_nord)
    assert client.get(f"/team/vorlage/{approve.pk}/").status_code == 200
    assert (
        client.post(f"/team/vorlage/{approve.pk}/zustimmen/", {"zustimmen-comment": "Einverstanden."}).status_code
        == 302
    )
    assert client.post(f"/team/vorlage/{decline.pk}/ablehnen/", {"ablehnen-comment": ""}).status_code == 400
    assert (
        client.post(f"/team/vorlage/{decline.pk}/ablehnen/", {"ablehnen-comment": "Erst erneut einladen."}).status_code
        == 302
    )
    approve.refresh_from_db()
    decline.refresh_from_db()
    assert (approve.status, approve.comment, decline.status) == ("APPROVED", "Einverstanden.", "DECLINED")
    assert TimelineEvent.objects.get(case=approve.case, code="approval.decided").reason_codes == [
        "R-ABB-6:approval.approved"
    ]
    assert TimelineEvent.objects.get(case=decline.case, code="approval.decided").reason_codes == [
        "R-ABB-6:approval.declined"
    ]
    assert Notification.objects.filter(user=ifk_nord).count() == 2
    # Decided: gone from the queue; a second submit finds no open item.
    assert client.post(f"/team/vorlage/{approve.pk}/zustimmen/", {"zustimmen-comment": ""}).status_code == 404


def test_R_ESC_5_a_psych_skip_is_acknowledged_or_returned_but_never_declined(ifk_nord, tl_nord):
    acknowledged = psych_skip(CaseFactory(responsible=ifk_nord))
    returned = psych_skip(CaseFactory(responsible=ifk_nord))
    client = client_for(tl_nord)
    page = client.get(f"/team/vorlage/{acknowledged.pk}/").content.decode()
    assert "eine Aufforderung würde die Zusammenarbeit gefährden" in page
    assert "Ablehnen" not in page
    assert (
        client.post(f"/team/vorlage/{acknowledged.pk}/ablehnen/", {"ablehnen-comment": "Nein danke."}).status_code
        == 404
    )
    assert client.post(f"/team/vorlage/{acknowledged.pk}/zustimmen/", {"zustimmen-comment": ""}).status_code == 302
    response = client.post(
        f"/team/vorlage/{returned.pk}/zurueckgeben/", {"zurueckgeben-comment": "Bitte Aufforderung erneut prüfen."}
    )
    assert response.status_code == 302
    acknowledged.refresh_from_db()
    returned.refresh_from_db()
    assert (acknowledged.status, returned.status) == ("APPROVED", "RETURNED")
    assert TimelineEvent.objects.get(case=acknowledged.case, code="approval.decided").reason_codes == [
        "R-ESC-5:teamdesk.psych_skip_acknowledged"
    ]
    event = TimelineEvent.objects.get(case=returned.case, code="approval.returned")
    assert event.reason_codes == ["R-ESC-5:teamdesk.returned"]
    assert event.sources == ["001 §6.1", "RULES.md 5.4"]


def test_reassign_from_an_overdue_review(ifk_nord, ifk_nord2, tl_nord):
    case = CaseFactory(responsible=ifk_nord)
    plan = overdue_plan(case, 20)
    reminder = ReminderFactory(case=case)
    unread = Notification.objects.create(user=ifk_nord, case=case, reminder=reminder, message="Überprüfung fällig")
    page = client_for(tl_nord).get(f"/team/ueberpruefung/{plan.pk}/").content.decode()
    assert f'<option value="{ifk_nord2.pk}">' in page
    assert f'<option value="{ifk_nord.pk}">' not in page  # the current IFK is no choice
    response = client_for(tl_nord).post(
        f"/team/ueberpruefung/{plan.pk}/neu-zuweisen/",
        {"neu-zuweisen-new_responsible": ifk_nord2.pk, "neu-zuweisen-reason": "Frau Nord ist langfristig erkrankt."},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    reminder.refresh_from_db()
    assert case.responsible == ifk_nord2
    assert reminder.assignee == ifk_nord2
    event = TimelineEvent.objects.get(case=case, code="case.reassigned")
    assert event.actor == tl_nord
    assert event.reason_codes == ["RULES-5.4:reassign.allowed"]
    assert event.sources == ["RULES.md 5.4", "§ 35 SGB I"]
    assert event.data["from"] == ifk_nord.pk
    assert event.data["to"] == ifk_nord2.pk
    assert "langfristig erkrankt" in event.summary
    # The unread notification of the moved reminder follows it; the TL's message tells the new IFK why.
    unread.refresh_from_db()
    assert unread.user == ifk_nord2
    assert set(Notification.objects.filter(user=ifk_nord2).values_list("case", flat=True)) == {case.pk}
    assert not Notification.objects.filter(user=ifk_nord).exists()
    # The review is answered: off the queue, recorded as returned to the new IFK.
    assert plan not in overdue_reviews(tl_nord, on=TODAY)
    assert TeamLeadApproval.objects.get(kind="REVIEW_OVERDUE", subject_id=plan.pk).status == "RETURNED"
    case_page = client_for(ifk_nord2).get(f"/faelle/{case.pk}/").content.decode()
    assert ifk_nord2.get_full_name() in case_page


def test_reassign_is_refused_without_reason_or_to_someone_outside_the_team(ifk_nord, ifk_nord2, ifk_sued, tl_nord):
    case = CaseFactory(responsible=ifk_nord)
    approval = TeamLeadApprovalFactory(case=case)
    client = client_for(tl_nord)
    url = f"/team/vorlage/{approval.pk}/neu-zuweisen/"
    # T6: a forged choice (an IFK of another team) is not in the list.
    forged = client.post(
        url, {"neu-zuweisen-new_responsible": ifk_sued.pk, "neu-zuweisen-reason": "Neue Zuständigkeit."}
    )
    assert forged.status_code == 400
    assert "Bitte wählen Sie eine Integrationsfachkraft aus der Liste." in forged.content.decode()
    short = client.post(url, {"neu-zuweisen-new_responsible": ifk_nord2.pk, "neu-zuweisen-reason": "Urlaub"})
    assert short.status_code == 422
    assert "Bitte begründen Sie die neue Zuständigkeit" in short.content.decode()
    assert Case.objects.get(pk=case.pk).responsible == ifk_nord
    assert not TimelineEvent.objects.filter(code="case.reassigned").exists()
    # The service checks the same without the form.
    for target in (ifk_sued, tl_nord, ifk_nord):
        with pytest.raises(CaseActionRefused):
            case_reassign(case_id=case.pk, actor=tl_nord, new_responsible_id=target.pk, reason="Neue Zuständigkeit.")
    inactive = UserFactory(team=case.team, is_active=False)
    with pytest.raises(CaseActionRefused) as refused:
        case_reassign(case_id=case.pk, actor=tl_nord, new_responsible_id=inactive.pk, reason="Neue Zuständigkeit.")
    assert refused.value.decision.codes == ("reassign.target_not_in_team",)
    assert Case.objects.get(pk=case.pk).responsible == ifk_nord
    # From a request the approval stays open for the new IFK.
    assert (
        client.post(
            url, {"neu-zuweisen-new_responsible": ifk_nord2.pk, "neu-zuweisen-reason": "Urlaub bis Mai."}
        ).status_code
        == 302
    )
    assert TeamLeadApproval.objects.get(pk=approval.pk).status == "OPEN"
    assert Case.objects.get(pk=case.pk).responsible == ifk_nord2


def test_desk_query_count_does_not_grow_with_the_items(ifk_nord, tl_nord):
    client = client_for(tl_nord)

    def queries() -> tuple[int, int, str]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/team/")
        assert response.status_code == 200
        return len(ctx.captured_queries), len(view_queries(ctx.captured_queries)), response.content.decode()

    jobcenter = tl_nord.team.jobcenter
    jobcenter.four_eyes_rfb_letters = True
    jobcenter.save()
    overdue_plan(CaseFactory(responsible=ifk_nord), 20)
    TeamLeadApprovalFactory(case=CaseFactory(responsible=ifk_nord))
    awaiting_letter(CaseFactory(responsible=ifk_nord))
    few, _, _ = queries()
    for days in range(21, 50):
        overdue_plan(CaseFactory(responsible=ifk_nord), days)
        psych_skip(CaseFactory(responsible=ifk_nord))
        awaiting_letter(CaseFactory(responsible=ifk_nord))
    many, own, html = queries()
    assert few == many
    # Besides the layout: the Jobcenter's four-eyes switch, and count and page of each of the three sections.
    assert own == 7
    assert html.count("Seite 1 von 2") == 3


def test_item_pages_have_a_fixed_number_of_queries(ifk_nord, tl_nord):
    client = client_for(tl_nord)
    case = CaseFactory(responsible=ifk_nord)
    plan = overdue_plan(case, 20)
    approval = TeamLeadApprovalFactory(case=case)

    def queries(url: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries), len(view_queries(ctx.captured_queries))

    review, request = queries(f"/team/ueberpruefung/{plan.pk}/"), queries(f"/team/vorlage/{approval.pk}/")
    UserFactory.create_batch(12, team=case.team)
    assert (queries(f"/team/ueberpruefung/{plan.pk}/"), queries(f"/team/vorlage/{approval.pk}/")) == (review, request)
    # The item's case id, the scoped case with its access-log row (one statement), the item, and the IFK to choose
    # from.
    assert (review[1], request[1]) == (4, 4)


def test_R_LET_1_four_eyes_letters_are_released_from_the_desk(ifk_nord, ifk_sued, tl_nord, tl_sued):
    letter = awaiting_letter(CaseFactory(responsible=ifk_nord))
    foreign = awaiting_letter(CaseFactory(responsible=ifk_sued))
    client = client_for(tl_nord)
    html = client.get("/team/").content.decode()
    assert f"Nr. {letter.number}" in html
    assert f"Nr. {foreign.number}" not in html
    assert client_for(tl_sued).get(f"/team/freigabe/{letter.pk}/").status_code == 404
    # Before the release there is no PDF to download.
    assert client_for(ifk_nord).get(f"/faelle/{letter.case_id}/schreiben/{letter.pk}/pdf/").status_code == 409
    page = client.get(f"/team/freigabe/{letter.pk}/").content.decode()
    assert f"/faelle/{letter.case_id}/schreiben/{letter.pk}/" in page  # the preview to check the RFB
    assert client.post(f"/team/freigabe/{letter.pk}/zustimmen/").status_code == 302
    letter.refresh_from_db()
    assert (letter.status, letter.released_by) == ("ISSUED", tl_nord)
    assert TimelineEvent.objects.get(case=letter.case, code="letter.released").actor == tl_nord
    assert "freigegeben" in Notification.objects.get(user=ifk_nord).message
    assert client.post(f"/team/freigabe/{letter.pk}/zustimmen/").status_code == 404


def test_R_LET_1_a_returned_letter_is_cancelled_with_the_comment(ifk_nord, tl_nord):
    letter = awaiting_letter(CaseFactory(responsible=ifk_nord))
    client = client_for(tl_nord)
    assert (
        client.post(f"/team/freigabe/{letter.pk}/zurueckgeben/", {"zurueckgeben-comment": "Frist"}).status_code == 422
    )
    assert Letter.objects.get(pk=letter.pk).status == "AWAITING_RELEASE"
    response = client.post(
        f"/team/freigabe/{letter.pk}/zurueckgeben/",
        {"zurueckgeben-comment": "Die Frist ist zu kurz bemessen."},
    )
    assert response.status_code == 302
    assert Letter.objects.get(pk=letter.pk).status == "CANCELLED"
    returned = TeamLeadApproval.objects.get(kind="LETTER_RELEASE", subject_id=letter.pk)
    assert (returned.status, returned.comment) == ("RETURNED", "Die Frist ist zu kurz bemessen.")
    event = TimelineEvent.objects.get(case=letter.case, code="approval.returned")
    assert event.reason_codes == ["R-LET-1:teamdesk.returned"]
    assert "Die Frist ist zu kurz bemessen." in Notification.objects.get(user=ifk_nord).message
    assert (
        client.post(f"/team/freigabe/{letter.pk}/zurueckgeben/", {"zurueckgeben-comment": "Noch einmal."}).status_code
        == 404
    )


def test_R_LET_1_a_team_lead_cannot_release_a_letter_of_their_own(ifk_nord, tl_nord):
    letter = awaiting_letter(CaseFactory(responsible=ifk_nord), issued_by=tl_nord)
    response = client_for(tl_nord).post(f"/team/freigabe/{letter.pk}/zustimmen/")
    assert response.status_code == 422
    assert "andere Person" in response.content.decode()
    assert Letter.objects.get(pk=letter.pk).status == "AWAITING_RELEASE"
    assert not Notification.objects.exists()


def test_R_ABB_6_a_returned_schlichtung_request_is_put_forward_again_and_approved_through_the_services(clock, tl_nord):
    """The whole path with the real services: failed KP → request → returned → new request → approved → start."""
    clock.move_to(datetime(2026, 3, 2, 9, tzinfo=BERLIN))
    case = new_case(ifk=UserFactory(team=tl_nord.team))
    _, assignment, _ = aborted_measure(case, clock)
    measures.clarification_outcome(
        assignment_id=assignment.pk,
        actor=case.responsible,
        talk_attended=False,
        wichtiger_grund=False,
        reentry_possible=False,
        new_kp_possible=False,
    )
    first = schlichtung.schlichtung_request_approval(
        case_id=case.pk, actor=case.responsible, note="Die eLb wünscht es."
    )
    client = client_for(tl_nord)
    assert f"/team/vorlage/{first.pk}/" in client.get("/team/").content.decode()
    returned = client.post(
        f"/team/vorlage/{first.pk}/zurueckgeben/",
        {"zurueckgeben-comment": "Bitte halten Sie zuerst die strittigen Punkte fest."},
    )
    assert returned.status_code == 302

    def start():
        return schlichtung.schlichtung_start(
            case_id=case.pk,
            actor=case.responsible,
            requested_by="IFK",
            disagreement="Keine Einigung über die Maßnahme",
            schlichter_name="Frau Neutral",
        )

    with pytest.raises(WorkflowRefused) as refused:
        start()
    assert "schlichtung.tl_approval_required" in refused.value.decision.codes
    second = schlichtung.schlichtung_request_approval(
        case_id=case.pk, actor=case.responsible, note="Strittig ist die Zahl der Bewerbungen."
    )
    assert (second.pk != first.pk, second.status) == (True, "OPEN")
    assert client.post(f"/team/vorlage/{second.pk}/zustimmen/", {"zustimmen-comment": ""}).status_code == 302
    start()
    case.refresh_from_db()
    assert case.cooperation_mode == "SCHLICHTUNG_PENDING"
    codes = list(TimelineEvent.objects.filter(case=case, code__startswith="approval.").values_list("code", flat=True))
    assert sorted(codes) == ["approval.decided", "approval.returned"]
