"""Mein Arbeitsplatz: the due and overdue deadlines (RULES.md section 7) of the user's own cases."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.db.models import Q
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from cases.models import Case
from cases.selectors import case_list_visible
from kooperationsplan.notifications import notifications_pending
from kooperationsplan.notifications_cover import absence_set, absences_on, covered_user_ids
from kooperationsplan.templatetags.worklist import item_row_html, notification_row_html
from kooperationsplan.worklist import (
    Kind,
    WorklistItem,
    WorklistNotification,
    url_for_ids,
    worklist_build,
)
from tests.conftest import client_for
from tests.factories import (
    CaseFactory,
    EigenbemuehungNachweisFactory,
    EscalationFactory,
    ExemptionFactory,
    KooperationsplanFactory,
    MassnahmeZuweisungFactory,
    NotificationFactory,
    SchlichtungFactory,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 3, 16)  # a Monday
ALL_KINDS = {
    Kind.REVIEW,
    Kind.RUECKMELDUNG,
    Kind.NACHWEIS,
    Kind.SCHLICHTUNG,
    Kind.AUFFORDERUNG,
    Kind.ANHOERUNG,
    Kind.EXEMPTION,
}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2026, 3, 16, 9, 30, tzinfo=BERLIN), tick=False) as traveller:
        yield traveller


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def active_plan(case: Case, *, review_in: int = 100):
    """An active KP whose review (D-01) is `review_in` days from today."""
    return KooperationsplanFactory(
        case=case,
        active=True,
        valid_from=days(min(review_in, 0) - 170),
        valid_to=days(max(review_in, 0) + 30),
        review_due=days(review_in),
    )


def review(case: Case, due_in: int):
    return active_plan(case, review_in=due_in)


def rueckmeldung(case: Case, due_in: int, status: str = "SCHREIBEN_ISSUED"):
    plan = case.plans.filter(status="ACTIVE").first() or active_plan(case)
    via = "BESCHEID" if status in ("BESCHEID_ISSUED", "AUFGEHOBEN") else "SCHREIBEN"
    return MassnahmeZuweisungFactory(
        plan=plan,
        status=status,
        via=via,
        valid_to=days(120) if via == "BESCHEID" else None,
        rueckmeldung_due=days(due_in),
    )


def nachweis(case: Case, due_in: int, *, received: bool = False):
    plan = case.plans.filter(status="ACTIVE").first() or active_plan(case)
    return EigenbemuehungNachweisFactory(
        eigenbemuehung__plan=plan,
        period_start=days(due_in - 35),
        period_end=days(due_in - 5),
        due_on=days(due_in),
        received_on=days(-1) if received else None,
        count_reported=4 if received else None,
    )


def schlichtung(case: Case, ends_in: int):
    return SchlichtungFactory(case=case, started_on=days(ends_in - 28), ends_on=days(ends_in))


def aufforderung(case: Case, due_in: int):
    return EscalationFactory(case=case, status="AUFFORDERUNG_ISSUED", compliance_deadline=days(due_in))


def anhoerung(case: Case, due_in: int):
    return EscalationFactory(case=case, status="ANHOERUNG", anhoerung_deadline=days(due_in))


def exemption(case: Case, due_in: int, *, status: str = "ACTIVE"):
    return ExemptionFactory(
        case=case,
        recorded_on=days(min(due_in, 0) - 30),
        recheck_due=days(due_in),
        status=status,
        ended_on=None if status == "ACTIVE" else days(-1),
    )


MAKERS = {
    Kind.REVIEW: review,
    Kind.RUECKMELDUNG: rueckmeldung,
    Kind.NACHWEIS: nachweis,
    Kind.SCHLICHTUNG: schlichtung,
    Kind.AUFFORDERUNG: aufforderung,
    Kind.ANHOERUNG: anhoerung,
    Kind.EXEMPTION: exemption,
}


def every_kind(case: Case) -> None:
    """One item of every kind on the case, plus an unread notification for its IFK."""
    review(case, -5)
    rueckmeldung(case, 3)
    nachweis(case, -2)
    schlichtung(case, 8)
    aufforderung(case, 10)
    anhoerung(case, 1)
    exemption(case, 20)
    NotificationFactory(reminder__case=case, message=f"Erinnerung zu Fall {case.pk}")


def open_worklist(client: Client):
    response = client.get("/arbeitsplatz/")
    assert response.status_code == 200
    worklist = response.context["worklist"]
    items = [item for group in worklist.groups for item in group.items]
    return response.content.decode(), worklist, items


def test_every_kind_appears_for_the_responsible_ifk_with_name_number_date_and_link(ifk_nord):
    case = CaseFactory(responsible=ifk_nord, elb__last_name="Nordmann", elb__first_name="Nina")
    every_kind(case)
    html, worklist, items = open_worklist(client_for(ifk_nord))
    assert {item.kind for item in items} == ALL_KINDS
    assert all(item.case_id == case.pk for item in items)
    assert [n.message for n in worklist.notifications] == [f"Erinnerung zu Fall {case.pk}"]
    for heading in ("Überprüfung des Kooperationsplans", "Rückmeldung zur Maßnahme", "Nachweis der Eigenbemühungen"):
        assert heading in html
    for heading in ("Ende der Schlichtung", "Frist der Aufforderung", "Äußerungsfrist der Anhörung"):
        assert heading in html
    assert "Erneute Prüfung der Ausnahme" in html
    assert "Nordmann, Nina" in html
    assert case.elb.kundennummer in html
    assert f'href="/faelle/{case.pk}/"' in html
    assert "11.03.2026" in html  # the review, due 5 days ago
    assert "überfällig seit 5 Tagen" in html
    assert "überfällig seit 2 Tagen" in html
    assert "fällig in 1 Tag" in html
    assert "fällig in 20 Tagen" in html


def test_another_ifk_of_the_same_team_and_team_sued_see_nothing_of_it(ifk_nord, ifk_nord2, ifk_sued):
    every_kind(CaseFactory(responsible=ifk_nord))
    for other in (ifk_nord2, ifk_sued):
        html, worklist, items = open_worklist(client_for(other))
        assert items == []
        assert worklist.notifications == []
        assert "Zurzeit ist nichts fällig" in html


def test_team_nord_never_sees_team_sued_items_not_even_the_team_lead(ifk_nord, tl_nord, ifk_sued):
    sued = CaseFactory(responsible=ifk_sued)
    every_kind(sued)
    for user in (ifk_nord, tl_nord):
        html, _, items = open_worklist(client_for(user))
        assert items == []
        assert sued.elb.kundennummer not in html
    _, _, own_items = open_worklist(client_for(ifk_sued))
    assert {item.kind for item in own_items} == ALL_KINDS


def test_a_notification_about_a_case_of_another_team_is_left_out(ifk_nord, ifk_sued):
    """A user who moved teams keeps no window into the old team's cases (scoping by case_list_visible)."""
    sued = CaseFactory(responsible=ifk_sued)
    NotificationFactory(reminder__case=sued, user=ifk_nord, message="Fall aus Team Süd")
    NotificationFactory(reminder=None, case=None, user=ifk_nord, message="Wartung am Wochenende")
    _, worklist, _ = open_worklist(client_for(ifk_nord))
    assert [n.message for n in worklist.notifications] == ["Wartung am Wochenende"]


def test_worklist_notifications_are_those_notifications_pending_selects(tl_nord, ifk_nord, ifk_nord2, ifk_sued):
    """The worklist reads its notifications in hand-written SQL; they must be `notifications_pending` of the
    user and whom they cover today, newest first, with the owner and the case's eLb."""
    now = timezone.now()
    mine = NotificationFactory(reminder__case__responsible=ifk_nord)
    NotificationFactory(reminder__case__responsible=ifk_nord, read_at=now)
    NotificationFactory(reminder__case__responsible=ifk_nord, reminder__status="DONE", reminder__done_at=now)
    general = NotificationFactory(user=ifk_nord, reminder=None, case=None, message="Wartung am Wochenende")
    NotificationFactory(user=ifk_nord, reminder=None, case=CaseFactory(responsible=ifk_sued))
    covered = NotificationFactory(reminder__case__responsible=ifk_nord2)
    NotificationFactory(reminder__case__responsible=ifk_sued)
    absence_set(actor=tl_nord, user=ifk_nord2, cover=ifk_nord, starts_on=TODAY, ends_on=TODAY)
    for person in (ifk_nord, ifk_nord2, tl_nord, ifk_sued):
        expected = notifications_pending(person, on=TODAY).order_by("-created_at", "-pk")
        shown = worklist_build(person, on=TODAY).notifications
        assert [n.pk for n in shown] == [n.pk for n in expected], person
    shown = {n.pk: n for n in worklist_build(ifk_nord, on=TODAY).notifications}  # ifk_nord covers ifk_nord2
    assert set(shown) == {mine.pk, general.pk, covered.pk}
    elb = covered.case.elb
    assert shown[covered.pk].elb_name == f"{elb.last_name}, {elb.first_name}"
    assert shown[covered.pk].kundennummer == elb.kundennummer
    assert shown[covered.pk].owner_name == ifk_nord2.get_full_name()
    assert shown[covered.pk].due_on == covered.reminder.due_on
    assert (shown[general.pk].case_id, shown[general.pk].due_on, shown[general.pk].elb_name) == (None, None, "")


@pytest.mark.parametrize("persona", ["ifk_nord", "ifk_nord2", "tl_nord", "ifk_sued"])
def test_the_worklist_statement_works_out_whom_the_user_covers(request, persona, tl_nord, ifk_nord, ifk_nord2):
    """worklist_build reads absences, items and notifications in one statement, with the owners (the user and
    whom they cover today) worked out in SQL: they must be those of absences_on, of the open cases of the owners
    (a team lead: of the team) and of notifications_pending."""
    every_kind(CaseFactory(responsible=ifk_nord))
    every_kind(CaseFactory(responsible=ifk_nord2))
    NotificationFactory(user=ifk_nord, reminder=None, case=None, message="Wartung am Wochenende")
    absence_set(actor=tl_nord, user=ifk_nord2, cover=ifk_nord, starts_on=TODAY, ends_on=TODAY + timedelta(days=2))
    person = request.getfixturevalue(persona)
    built = worklist_build(person, on=TODAY)
    absences = absences_on(TODAY).filter(Q(user=person) | Q(cover=person)).order_by("ends_on", "pk")
    assert [(a.user_id, a.cover_id, a.ends_on) for a in built.absences] == [
        (a.user_id, a.cover_id, a.ends_on) for a in absences
    ]
    owners = [person.pk, *covered_user_ids(person, TODAY).values_list("user_id", flat=True)]
    cases = case_list_visible(person).filter(closed_on__isnull=True)
    if person.role != "TL":
        cases = cases.filter(responsible__in=owners)
    items = [item for group in built.groups for item in group.items]
    assert {item.case_id for item in items} == set(cases.values_list("pk", flat=True))
    assert len(items) == 7 * cases.count()
    assert not built.truncated
    expected = notifications_pending(person, on=TODAY).order_by("-created_at", "-pk")
    assert [n.pk for n in built.notifications] == [n.pk for n in expected]
    if persona == "ifk_nord":
        assert {item.case_id for item in items} == set(
            Case.objects.filter(responsible__in=owners).values_list("pk", flat=True)
        )
        assert len(built.notifications) >= 2


def test_team_lead_sees_the_whole_team_with_the_responsible_ifk(tl_nord, ifk_nord, ifk_nord2, ifk_sued):
    first = CaseFactory(responsible=ifk_nord)
    second = CaseFactory(responsible=ifk_nord2)
    review(first, -3)
    rueckmeldung(second, 2)
    aufforderung(CaseFactory(responsible=ifk_sued), 1)
    html, worklist, items = open_worklist(client_for(tl_nord))
    assert worklist.team_view
    assert [(item.kind, item.case_id) for item in items] == [(Kind.REVIEW, first.pk), (Kind.RUECKMELDUNG, second.pk)]
    assert "zuständige IFK" in html
    assert ifk_nord.get_full_name() in html
    assert ifk_nord2.get_full_name() in html
    # Each IFK sees only their own.
    assert [item.case_id for item in open_worklist(client_for(ifk_nord2))[2]] == [second.pk]


def test_sorted_by_urgency_overdue_first_then_by_due_date(ifk_nord):
    early, late = CaseFactory(responsible=ifk_nord), CaseFactory(responsible=ifk_nord)
    exemption(early, 25)
    anhoerung(late, 0)
    review(late, -1)
    nachweis(early, -9)
    schlichtung(early, 6)
    rueckmeldung(late, 7)
    html, worklist, items = open_worklist(client_for(ifk_nord))
    assert [(item.kind, item.days_left) for item in items] == [
        (Kind.NACHWEIS, -9),
        (Kind.REVIEW, -1),
        (Kind.ANHOERUNG, 0),
        (Kind.SCHLICHTUNG, 6),
        (Kind.RUECKMELDUNG, 7),
        (Kind.EXEMPTION, 25),
    ]
    assert [(group.title, len(group.items)) for group in worklist.groups] == [
        ("Überfällig", 2),
        ("Heute und in den nächsten 7 Tagen fällig", 3),
        ("Später fällig", 1),
    ]
    assert "Überfällig (2)" in html
    assert "Heute und in den nächsten 7 Tagen fällig (3)" in html
    assert "2 überfällig</strong>, 3 in den nächsten 7 Tagen, 1 später" in html
    assert "heute fällig" in html
    # The page shows them in the same order: the overdue Nachweis comes before the review.
    assert html.index("überfällig seit 9 Tagen") < html.index("überfällig seit 1 Tag<") < html.index("heute fällig")


@pytest.mark.parametrize(
    ("kind", "due_in", "shown"),
    [
        # D-01: reviews overdue or due within 28 days.
        (Kind.REVIEW, -400, True),
        (Kind.REVIEW, 28, True),
        (Kind.REVIEW, 29, False),
        # D-05: Rückmeldungen within 7 days or past.
        (Kind.RUECKMELDUNG, -30, True),
        (Kind.RUECKMELDUNG, 7, True),
        (Kind.RUECKMELDUNG, 8, False),
        # D-07: missing evidence due within 7 days or past.
        (Kind.NACHWEIS, -60, True),
        (Kind.NACHWEIS, 7, True),
        (Kind.NACHWEIS, 8, False),
        # D-12: every running Schlichtung, with its end date.
        (Kind.SCHLICHTUNG, 27, True),
        # D-09 / D-10: every open Aufforderung and Anhörung.
        (Kind.AUFFORDERUNG, 60, True),
        (Kind.ANHOERUNG, 14, True),
        # D-02/D-03/D-04: exemption re-checks within 28 days.
        (Kind.EXEMPTION, -1, True),
        (Kind.EXEMPTION, 28, True),
        (Kind.EXEMPTION, 29, False),
    ],
)
def test_look_ahead_window_of_each_kind(ifk_nord, kind, due_in, shown):
    MAKERS[kind](CaseFactory(responsible=ifk_nord), due_in)
    _, _, items = open_worklist(client_for(ifk_nord))
    assert [(item.kind, item.days_left) for item in items] == ([(kind, due_in)] if shown else [])


@pytest.mark.parametrize(
    "make_done",
    [
        pytest.param(lambda case: rueckmeldung(case, -1, status="REPORTED"), id="rueckmeldung-reported"),
        pytest.param(lambda case: rueckmeldung(case, -1, status="NOT_REPORTED"), id="rueckmeldung-escalated"),
        pytest.param(lambda case: nachweis(case, -1, received=True), id="nachweis-received"),
        pytest.param(lambda case: exemption(case, -1, status="LAPSED"), id="exemption-lapsed"),
        pytest.param(lambda case: EscalationFactory(case=case, status="RESOLVED"), id="escalation-resolved"),
        pytest.param(
            lambda case: EscalationFactory(
                case=case, status="DECISION_PENDING", compliance_deadline=days(-20), anhoerung_deadline=days(-2)
            ),
            id="anhoerung-over",
        ),
        pytest.param(
            lambda case: SchlichtungFactory(
                case=case, started_on=days(-10), ends_on=days(18), outcome="AGREEMENT", ended_on=days(-1)
            ),
            id="schlichtung-ended",
        ),
        pytest.param(
            lambda case: NotificationFactory(reminder__case=case, read_at=datetime(2026, 3, 15, 8, tzinfo=BERLIN)),
            id="notification-read",
        ),
    ],
)
def test_done_items_are_not_on_the_worklist(ifk_nord, make_done):
    make_done(CaseFactory(responsible=ifk_nord))
    html, _, items = open_worklist(client_for(ifk_nord))
    assert items == []
    assert "Zurzeit ist nichts fällig" in html


def test_a_draft_or_superseded_plan_has_no_review_and_a_closed_case_no_items(ifk_nord):
    KooperationsplanFactory(case=CaseFactory(responsible=ifk_nord))
    closed = CaseFactory(responsible=ifk_nord, closed_on=days(-1))
    review(closed, -10)
    aufforderung(closed, 3)
    _, _, items = open_worklist(client_for(ifk_nord))
    assert items == []


def test_empty_state(ifk_nord):
    html, worklist, _ = open_worklist(client_for(ifk_nord))
    assert worklist.is_empty
    assert "Zurzeit ist nichts fällig" in html
    assert "0 überfällig</strong>, 0 in den nächsten 7 Tagen" in html


def test_query_count_is_fixed_whatever_the_number_of_items(ifk_nord):
    """One query for the items of all kinds with their cases, one for the notifications; nothing per row
    (QUALITY.md)."""
    client = client_for(ifk_nord)
    every_kind(CaseFactory(responsible=ifk_nord))
    with CaptureQueriesContext(connection) as one:
        _, _, items = open_worklist(client)
    assert len(items) == 7
    for _ in range(19):
        every_kind(CaseFactory(responsible=ifk_nord))
    with CaptureQueriesContext(connection) as twenty:
        _, worklist, items = open_worklist(client)
    assert len(items) == 7 * 20
    assert len(worklist.notifications) == 20
    assert len(one.captured_queries) == len(twenty.captured_queries)
    # session, user, the worklist (today's absences, the items of all 7 kinds with case, eLb and IFK, the
    # notifications, the header's badge count and team: one statement), and the idle-timeout session renewal
    # (SAVEPOINT, UPDATE, RELEASE).
    assert len(twenty.captured_queries) == 6
    html, _, _ = open_worklist(client)
    assert f"{ifk_nord.get_role_display()} · {ifk_nord.team.name}" in html  # the header's team


def test_team_lead_query_count_is_fixed_too(tl_nord, ifk_nord, ifk_nord2):
    client = client_for(tl_nord)
    every_kind(CaseFactory(responsible=ifk_nord))
    with CaptureQueriesContext(connection) as few:
        open_worklist(client)
    for ifk in (ifk_nord, ifk_nord2) * 5:
        every_kind(CaseFactory(responsible=ifk))
    with CaptureQueriesContext(connection) as many:
        _, _, items = open_worklist(client)
    assert len(items) == 7 * 11
    assert len(few.captured_queries) == len(many.captured_queries) == 6


def test_today_is_the_local_date_in_berlin(ifk_nord, clock):
    """T16: at 00:30 in Berlin on the day summer time starts, UTC still has the previous day."""
    case = CaseFactory(responsible=ifk_nord)
    review(case, 12)  # due 28.03.2026
    clock.move_to(datetime(2026, 3, 28, 23, 30, tzinfo=ZoneInfo("UTC")))
    html, worklist, items = open_worklist(client_for(ifk_nord))
    assert worklist.today == date(2026, 3, 29)
    assert items[0].urgency == "überfällig seit 1 Tag"
    assert "Stand: 29.03.2026" in html


@pytest.mark.parametrize(
    ("days_left", "text"),
    [(-14, "überfällig seit 14 Tagen"), (-1, "überfällig seit 1 Tag"), (0, "heute fällig"), (1, "fällig in 1 Tag")],
)
def test_urgency_wording(days_left, text):
    item = WorklistItem(Kind.REVIEW, "D-01", "", 1, "A, B", "123K000001", "X", days(days_left), days_left)
    assert item.urgency == text
    assert item.overdue is (days_left < 0)


def test_a_huge_worklist_shows_the_most_urgent_of_each_kind_and_says_so(ifk_nord, monkeypatch):
    monkeypatch.setattr("kooperationsplan.worklist.LIMIT_PER_KIND", 2)
    for due_in in (5, -3, 0, -1):
        aufforderung(CaseFactory(responsible=ifk_nord), due_in)
    rueckmeldung(CaseFactory(responsible=ifk_nord), 2)
    html, worklist, items = open_worklist(client_for(ifk_nord))
    assert worklist.truncated
    assert [(item.kind, item.days_left) for item in items] == [
        (Kind.AUFFORDERUNG, -3),
        (Kind.AUFFORDERUNG, -1),
        (Kind.RUECKMELDUNG, 2),
    ]
    assert "Je Art werden nur die dringendsten angezeigt" in html


def test_notification_dates_are_shown_in_berlin_time():
    """created_at is stored in UTC; 23:30 UTC on 15 March is 00:30 on 16 March in Berlin."""
    notification = WorklistNotification(
        pk=1,
        message="",
        created_at=datetime(2026, 3, 15, 23, 30, tzinfo=UTC),
        due_on=date(2026, 3, 20),
        user_id=1,
        owner_name="",
        case_id=7,
        elb_name="",
        kundennummer="",
    )
    assert notification.created_on_text == "16.03.2026"
    assert notification.due_on_text == "20.03.2026"


def test_urls_for_many_ids_are_what_reverse_gives(settings):
    for name in ("kp:case", "notifications:read"):
        url = url_for_ids(name)
        for pk in (1, 7, 987654321, 10**12):
            assert url(pk) == reverse(name, args=[pk])
    set_script_prefix("/jobcenter/")
    try:
        assert url_for_ids("kp:case")(5) == "/jobcenter/faelle/5/"
    finally:
        set_script_prefix("/")


HOSTILE = "<b>\"Müller\" & 'Söhne'</b>"


def _layout(html: str) -> str:
    """Without the template's indentation and line breaks, and with the CSRF token (masked anew on every
    call) blanked."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', html)
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.parametrize("days_left", [-3, 0, 5])
@pytest.mark.parametrize("show_responsible", [True, False])
def test_a_worklist_row_is_written_as_its_reference_template(days_left, show_responsible):
    item = WorklistItem(Kind.NACHWEIS, "D-07", HOSTILE, 42, HOSTILE, "123K000001", HOSTILE, days(days_left), days_left)
    reference = render_to_string(
        "kooperationsplan/_worklist_row.html", {"item": item, "show_responsible": show_responsible}
    )
    ours = item_row_html(item, show_responsible)
    assert _layout(ours) == _layout(reference)
    assert "<b>" not in ours
    assert ("text-danger-emphasis" in ours) == (days_left < 0)


@pytest.mark.parametrize("own", [True, False])
@pytest.mark.parametrize(("due_on", "case_id"), [(date(2026, 3, 20), 7), (None, None)])
def test_a_worklist_notification_is_written_as_its_reference_template(rf, ifk_nord, own, due_on, case_id):
    request = rf.get("/arbeitsplatz/")
    request.user = ifk_nord
    notification = WorklistNotification(
        pk=5,
        message=HOSTILE,
        created_at=datetime(2026, 3, 15, 23, 30, tzinfo=UTC),
        due_on=due_on,
        user_id=ifk_nord.pk if own else ifk_nord.pk + 1,
        owner_name=HOSTILE,
        case_id=case_id,
        elb_name=HOSTILE if case_id else "",
        kundennummer="123K000001" if case_id else "",
    )
    reference = render_to_string(
        "kooperationsplan/_worklist_notification.html", {"notification": notification}, request=request
    )
    ours = notification_row_html(notification, viewer_id=ifk_nord.pk, csrf_token=get_token(request))
    assert _layout(ours) == _layout(reference)
    assert "<b>" not in ours
    assert 'name="csrfmiddlewaretoken" value="' in ours
    assert ("in Vertretung" in ours) != own
