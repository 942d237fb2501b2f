"""Notifications in the header badge, the list and the worklist; mark as read; the daily e-mail digest; absence
cover (a team lead sets an IFK absent, the cover sees the entries during the period, they return afterwards)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from smtplib import SMTPServerDisconnected
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from kooperationsplan import nightly, notifications, worklist
from kooperationsplan.models import AbsenceCover, Notification, NotificationDigest, Reminder
from kooperationsplan.notifications_cover import AbsenceRefused, absence_set, absences_on
from tests.conftest import client_for
from tests.factories import (
    CaseFactory,
    KooperationsplanFactory,
    NotificationFactory,
    UserFactory,
    assert_update_rejected,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 16, 9, 30, tzinfo=BERLIN)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://kp.jobcenter.example"


def review(ifk, due_in: int = 14, **elb):
    """A current plan of the IFK whose review is due in `due_in` days."""
    case = CaseFactory(responsible=ifk, cooperation_mode="COOP_NO_RFB", **{f"elb__{k}": v for k, v in elb.items()})
    due = TODAY + timedelta(days=due_in)
    return KooperationsplanFactory(
        case=case, active=True, valid_from=due - timedelta(days=180), valid_to=due, review_due=due
    )


def badge(html: str) -> str:
    match = re.search(r'data-testid="notification-badge">(.*?)</a>', html, re.S)
    assert match, "no badge link"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# --- Badge, list, mark as read ---------------------------------------------------------------------------


def test_badge_shows_the_unread_count_with_text_for_screen_readers(ifk_nord):
    client = client_for(ifk_nord)
    assert badge(client.get("/faelle/").content.decode()) == "Benachrichtigungen"
    review(ifk_nord)
    review(ifk_nord, due_in=3)
    nightly.d01_review(TODAY)
    html = client.get("/faelle/").content.decode()
    assert badge(html) == "Benachrichtigungen 2 ungelesen"
    assert 'href="/benachrichtigungen/"' in html


def test_badge_adds_no_query_to_a_page(ifk_nord):
    """The count is read in the query that loads the team for the page header anyway."""
    client = client_for(ifk_nord)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/faelle/").status_code == 200
        return len(ctx.captured_queries)

    review(ifk_nord)
    without = queries()
    for _ in range(5):
        review(ifk_nord)
    nightly.d01_review(TODAY)
    assert queries() == without == 8  # the number tests/cases/test_views.py pins for this page


def test_badge_count_sql_counts_what_notifications_pending_selects(tl_nord, ifk_nord, ifk_nord2, ifk_sued, fachadmin):
    """The header badge counts in hand-written SQL; it must count exactly `notifications_pending`: own and
    covered colleagues' (on the day of the absence only), unread, reminder open or none, case visible or none."""
    own = NotificationFactory(reminder__case__responsible=ifk_nord)
    NotificationFactory(reminder__case__responsible=ifk_nord, read_at=NOW)  # read
    NotificationFactory(reminder__case__responsible=ifk_nord, reminder__status="DONE", reminder__done_at=NOW)
    NotificationFactory(user=ifk_nord, reminder=None, case=None, message="Wartung am Wochenende")
    NotificationFactory(user=ifk_nord, reminder=None, case=CaseFactory(responsible=ifk_sued))  # not visible
    NotificationFactory(reminder__case__responsible=ifk_nord2)  # a colleague's: only while covered
    NotificationFactory(reminder__case__responsible=ifk_sued)
    NotificationFactory(user=fachadmin, reminder=None, case=own.case)
    absence_set(
        actor=tl_nord,
        user=ifk_nord2,
        cover=ifk_nord,
        starts_on=TODAY + timedelta(days=1),
        ends_on=TODAY + timedelta(days=2),
    )
    people = (tl_nord, ifk_nord, ifk_nord2, ifk_sued, fachadmin)
    expected = {TODAY: (0, 2, 1, 1, 1), TODAY + timedelta(days=1): (0, 3, 1, 1, 1)}
    for day, counts in expected.items():
        for person, count in zip(people, counts, strict=True):
            assert notifications.notifications_pending(person, on=day).count() == count, (day, person)
            assert notifications.notifications_pending_count(person, on=day) == (count, None), (day, person)
            with_team = notifications.notifications_pending_count(person, on=day, with_team=True)
            assert with_team[0] == count
            assert with_team[1] == person.team
            # The same two values as columns of a page's own statement (case pages, editor, worklist).
            (count_sql, team_sql), params = notifications.header_columns(person, on=day)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {count_sql}, {team_sql}", params)
                header_count, team_row = cursor.fetchone()
            assert header_count == count, (day, person)
            assert (team_row is None) is (person.team is None)
            if person.team is not None:
                assert team_row == [person.team.pk, person.team.jobcenter_id, person.team.name]


def test_worklist_gives_the_badge_its_count_unless_the_list_is_cut(ifk_nord, monkeypatch):
    """The worklist reads the header's badge count in its own statement: the whole count, also when its list of
    notifications stops at its limit."""
    for _ in range(3):
        review(ifk_nord)
    nightly.d01_review(TODAY)
    client = client_for(ifk_nord)
    assert badge(client.get("/arbeitsplatz/").content.decode()) == "Benachrichtigungen 3 ungelesen"
    monkeypatch.setattr(worklist, "LIMIT_PER_KIND", 2)
    response = client.get("/arbeitsplatz/")
    assert len(response.context["worklist"].notifications) == 2
    assert badge(response.content.decode()) == "Benachrichtigungen 3 ungelesen"


def test_pages_that_read_the_header_with_their_own_statement_show_the_same_badge_and_team(
    tl_nord, ifk_nord, ifk_nord2, ifk_sued
):
    """Case pages, the editor and the worklist read the badge count and the team with their own statement
    (notifications.header_columns); they show what a page that asks the badge itself shows: own and covered
    colleagues' unread notifications about visible cases."""
    plan = review(ifk_nord)
    draft = KooperationsplanFactory(case=plan.case, predecessor=plan)
    review(ifk_nord2)
    review(ifk_sued)
    NotificationFactory(user=ifk_nord, reminder=None, case=CaseFactory(responsible=ifk_sued))  # not visible
    nightly.d01_review(TODAY)
    absence_set(actor=tl_nord, user=ifk_nord2, cover=ifk_nord, starts_on=TODAY, ends_on=TODAY + timedelta(days=1))
    expected = notifications.notifications_pending(ifk_nord, on=TODAY).count()
    assert expected == 2  # own and the covered colleague's
    client = client_for(ifk_nord)
    elsewhere = client.get("/faelle/").content.decode()  # asks the badge itself
    assert badge(elsewhere) == f"Benachrichtigungen {expected} ungelesen"
    for path in (
        "/arbeitsplatz/",
        f"/faelle/{plan.case_id}/",
        f"/faelle/{plan.case_id}/zeitstrahl/",
        f"/faelle/{plan.case_id}/kp/{draft.pk}/bearbeiten/",
    ):
        html = client.get(path).content.decode()
        assert badge(html) == badge(elsewhere), path
        assert f"{ifk_nord.get_role_display()} · {ifk_nord.team.name}" in html, path


def test_list_shows_own_notifications_and_not_another_teams(ifk_nord, ifk_sued):
    review(ifk_nord, last_name="Nordmann")
    review(ifk_sued, last_name="Südmann")
    nightly.d01_review(TODAY)
    html = client_for(ifk_nord).get("/benachrichtigungen/").content.decode()
    assert "Nordmann" in html
    assert "Südmann" not in html
    assert "Regel R-FS-1" in html


def test_list_query_count_does_not_grow_with_the_notifications(ifk_nord):
    client = client_for(ifk_nord)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/benachrichtigungen/?alle=1").status_code == 200
        return len(ctx.captured_queries)

    review(ifk_nord)
    nightly.d01_review(TODAY)
    few = queries()
    for _ in range(40):
        review(ifk_nord)
    nightly.d01_review(TODAY)
    # session, user, count and page, team with unread count (badge), session renewal (3)
    assert queries() == few == 8


def test_mark_one_and_all_as_read(ifk_nord):
    review(ifk_nord)
    review(ifk_nord)
    nightly.d01_review(TODAY)
    first, _ = Notification.objects.order_by("pk")
    client = client_for(ifk_nord)
    response = client.post(f"/benachrichtigungen/{first.pk}/gelesen/", {"zurueck": "arbeitsplatz"})
    assert (response.status_code, response.headers["Location"]) == (302, "/arbeitsplatz/")
    first.refresh_from_db()
    assert first.read_at is not None
    assert badge(client.get("/faelle/").content.decode()) == "Benachrichtigungen 1 ungelesen"
    assert client.post("/benachrichtigungen/alle-gelesen/").status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert Reminder.objects.filter(status="OPEN").count() == 2  # reading is not doing


def test_another_persons_notification_answers_404(ifk_nord, ifk_nord2):
    review(ifk_nord2)
    nightly.d01_review(TODAY)
    notification = Notification.objects.get()
    assert client_for(ifk_nord).post(f"/benachrichtigungen/{notification.pk}/gelesen/").status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


# --- Absence cover -------------------------------------------------------------------------------------


def post_absence(client, user, cover, starts_on=TODAY, ends_on=TODAY + timedelta(days=4)):
    return client.post(
        "/vertretungen/",
        {"user": user.pk, "cover": cover.pk, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
    )


def test_team_lead_sets_an_absence_and_the_cover_sees_the_entries_until_it_ends(tl_nord, ifk_nord, ifk_nord2, clock):
    review(ifk_nord, last_name="Abwesend")
    nightly.d01_review(TODAY)
    response = post_absence(client_for(tl_nord), ifk_nord, ifk_nord2)
    assert response.status_code == 302
    absence = AbsenceCover.objects.get()
    assert (absence.user, absence.cover, absence.set_by) == (ifk_nord, ifk_nord2, tl_nord)
    cover = client_for(ifk_nord2)
    worklist = cover.get("/arbeitsplatz/")
    html = worklist.content.decode()
    assert "Sie vertreten heute:" in html
    assert "Abwesend" in html
    assert len(worklist.context["worklist"].notifications) == 1
    assert badge(html) == "Benachrichtigungen 1 ungelesen"
    assert "in Vertretung für" in cover.get("/benachrichtigungen/").content.decode()
    assert "Sie sind bis 20.03.2026 abwesend" in client_for(ifk_nord).get("/arbeitsplatz/").content.decode()
    clock.move_to(NOW + timedelta(days=5))  # the day after the absence (a new login: the session timed out)
    after = client_for(ifk_nord2).get("/arbeitsplatz/")
    assert "Abwesend" not in after.content.decode()
    assert after.context["worklist"].notifications == []
    assert len(client_for(ifk_nord).get("/arbeitsplatz/").context["worklist"].notifications) == 1


def test_the_worklist_absences_are_the_days_absences_of_the_person_absent_or_covering(tl_nord, ifk_nord, ifk_nord2):
    """The worklist's notice reads them in hand-written SQL: the same rows as `absences_on` with the person
    absent or covering, soonest end first, with both names."""
    third = UserFactory(team=ifk_nord.team)
    absence_set(actor=tl_nord, user=ifk_nord2, cover=ifk_nord, starts_on=TODAY, ends_on=TODAY + timedelta(days=4))
    absence_set(actor=tl_nord, user=third, cover=ifk_nord, starts_on=TODAY, ends_on=TODAY + timedelta(days=1))
    later = absence_set(
        actor=tl_nord,
        user=ifk_nord,
        cover=third,
        starts_on=TODAY + timedelta(days=5),
        ends_on=TODAY + timedelta(days=6),
    )
    fourth = UserFactory(team=ifk_nord.team)
    withdrawn = absence_set(actor=tl_nord, user=fourth, cover=ifk_nord, starts_on=TODAY, ends_on=TODAY)
    AbsenceCover.objects.filter(pk=withdrawn.pk).update(withdrawn=True, ended_by=tl_nord, ended_at=NOW)
    for day in (TODAY, TODAY + timedelta(days=5)):
        for person in (ifk_nord, ifk_nord2, third, fourth, tl_nord):
            expected = absences_on(day).filter(Q(user=person) | Q(cover=person)).order_by("ends_on", "pk")
            shown = worklist.worklist_build(person, on=day).absences
            assert [(a.user_id, a.cover_id, a.ends_on) for a in shown] == [
                (a.user_id, a.cover_id, a.ends_on) for a in expected
            ], (day, person)
    shown = worklist.worklist_build(ifk_nord, on=TODAY).absences
    assert [a.user_name for a in shown] == [third.get_full_name(), ifk_nord2.get_full_name()]
    assert {a.cover_name for a in shown} == {ifk_nord.get_full_name()}
    assert worklist.worklist_build(ifk_nord, on=later.starts_on).absences[0].cover_name == third.get_full_name()


def test_cover_may_mark_the_absent_colleagues_notification_read(tl_nord, ifk_nord, ifk_nord2):
    review(ifk_nord)
    nightly.d01_review(TODAY)
    absence_set(actor=tl_nord, user=ifk_nord, cover=ifk_nord2, starts_on=TODAY, ends_on=TODAY)
    notification = Notification.objects.get()
    assert client_for(ifk_nord2).post(f"/benachrichtigungen/{notification.pk}/gelesen/").status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_only_a_team_lead_manages_absences_T4(ifk_nord, ifk_nord2, fachadmin):
    for user in (ifk_nord, fachadmin):
        client = client_for(user)
        assert client.get("/vertretungen/").status_code == 403
        assert post_absence(client, ifk_nord, ifk_nord2).status_code == 403
    assert not AbsenceCover.objects.exists()


def test_another_teams_staff_and_absences_answer_404(tl_nord, ifk_nord, ifk_sued, team_sued):
    client = client_for(tl_nord)
    assert post_absence(client, ifk_sued, ifk_nord).status_code == 404
    assert post_absence(client, ifk_nord, ifk_sued).status_code == 404
    tl_sued = UserFactory(team=team_sued, tl=True)
    colleague = UserFactory(team=team_sued)
    foreign = absence_set(actor=tl_sued, user=ifk_sued, cover=colleague, starts_on=TODAY, ends_on=TODAY)
    assert client.post(f"/vertretungen/{foreign.pk}/beenden/").status_code == 404
    assert AbsenceCover.objects.get(pk=foreign.pk).ended_at is None


def test_overlapping_absence_and_self_cover_are_refused_in_german(tl_nord, ifk_nord, ifk_nord2):
    client = client_for(tl_nord)
    assert post_absence(client, ifk_nord, ifk_nord2).status_code == 302
    response = post_absence(client, ifk_nord, ifk_nord2, starts_on=TODAY + timedelta(days=2))
    assert response.status_code == 400
    assert "ist in diesem Zeitraum bereits abwesend eingetragen" in response.content.decode()
    response = post_absence(client, ifk_nord2, ifk_nord2)
    assert "Eine Person kann sich nicht selbst vertreten." in response.content.decode()
    response = post_absence(client, ifk_nord2, ifk_nord, starts_on=TODAY + timedelta(days=10), ends_on=TODAY)
    assert "Das Ende der Abwesenheit liegt vor ihrem Beginn." in response.content.decode()
    assert AbsenceCover.objects.count() == 1


def test_the_cover_may_not_be_absent_and_an_absent_person_may_not_be_left_covering(
    tl_nord, team_nord, ifk_nord, ifk_nord2
):
    third = UserFactory(team=team_nord)
    absence_set(actor=tl_nord, user=ifk_nord, cover=ifk_nord2, starts_on=TODAY, ends_on=TODAY + timedelta(days=3))
    with pytest.raises(AbsenceRefused, match="selbst abwesend"):
        absence_set(actor=tl_nord, user=third, cover=ifk_nord, starts_on=TODAY, ends_on=TODAY)
    with pytest.raises(AbsenceRefused, match="vertritt in diesem Zeitraum"):
        absence_set(
            actor=tl_nord,
            user=ifk_nord2,
            cover=third,
            starts_on=TODAY + timedelta(days=1),
            ends_on=TODAY + timedelta(days=1),
        )


@pytest.mark.parametrize(
    "data",
    [
        {"starts_on": "2026-03-16\x00", "ends_on": "2026-03-18"},
        {"starts_on": "x" * 100_000, "ends_on": "2026-03-18"},
        {"starts_on": "2026-02-30", "ends_on": "2026-03-18"},
        {"user": "\x00", "starts_on": "2026-03-16", "ends_on": "2026-03-18"},
    ],
)
def test_bad_input_is_a_german_form_error_not_a_500_T21(tl_nord, ifk_nord, ifk_nord2, data):
    response = client_for(tl_nord).post("/vertretungen/", {"user": ifk_nord.pk, "cover": ifk_nord2.pk, **data})
    assert response.status_code == 400
    assert not AbsenceCover.objects.exists()


def test_ending_an_absence_shortens_a_running_one_and_withdraws_a_future_one(tl_nord, team_nord, ifk_nord, ifk_nord2):
    third = UserFactory(team=team_nord)
    running = absence_set(
        actor=tl_nord,
        user=ifk_nord,
        cover=ifk_nord2,
        starts_on=TODAY - timedelta(days=2),
        ends_on=TODAY + timedelta(days=5),
    )
    future = absence_set(
        actor=tl_nord,
        user=third,
        cover=ifk_nord2,
        starts_on=TODAY + timedelta(days=7),
        ends_on=TODAY + timedelta(days=9),
    )
    client = client_for(tl_nord)
    assert client.post(f"/vertretungen/{running.pk}/beenden/").status_code == 302
    assert client.post(f"/vertretungen/{future.pk}/beenden/").status_code == 302
    running.refresh_from_db()
    future.refresh_from_db()
    assert (running.ends_on, running.withdrawn, running.ended_by) == (TODAY - timedelta(days=1), False, tl_nord)
    assert (future.withdrawn, future.ended_by) == (True, tl_nord)
    assert "Zurzeit ist niemand abwesend eingetragen." in client.get("/vertretungen/").content.decode()


def test_absence_page_query_count_does_not_grow(tl_nord, team_nord):
    client = client_for(tl_nord)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/vertretungen/").status_code == 200
        return len(ctx.captured_queries)

    def absences(count: int) -> None:
        for index in range(count):
            user, cover = UserFactory(team=team_nord), UserFactory(team=team_nord)
            absence_set(
                actor=tl_nord,
                user=user,
                cover=cover,
                starts_on=TODAY + timedelta(days=index),
                ends_on=TODAY + timedelta(days=index),
            )

    absences(1)
    few = queries()
    absences(8)
    assert queries() == few


# --- The daily e-mail digest ------------------------------------------------------------------------------


def test_digest_one_mail_per_ifk_with_kundennummer_and_link_and_no_names(ifk_nord, ifk_nord2):
    plan = review(ifk_nord, last_name="Geheimname", first_name="Gisela")
    review(ifk_nord)
    review(ifk_nord2)
    nightly.d01_review(TODAY)
    assert notifications.digest_send(TODAY) == 2
    assert sorted(message.to[0] for message in mail.outbox) == sorted([ifk_nord.email, ifk_nord2.email])
    message = next(message for message in mail.outbox if message.to == [ifk_nord.email])
    assert message.subject == "Kooperationsplan: 2 neue Benachrichtigungen am 16.03.2026"
    assert (
        f"Kundennummer {plan.case.elb.kundennummer}: https://kp.jobcenter.example/faelle/{plan.case_id}/"
        in message.body
    )
    assert "Geheimname" not in message.body
    assert "Gisela" not in message.body
    assert "https://kp.jobcenter.example/benachrichtigungen/" in message.body
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    assert notifications.digest_send(TODAY) == 0
    assert len(mail.outbox) == 2


def test_digest_is_sent_once_a_day_later_notifications_wait_for_tomorrow(ifk_nord):
    review(ifk_nord)
    nightly.d01_review(TODAY)
    assert notifications.digest_send(TODAY) == 1
    review(ifk_nord, due_in=5)
    nightly.d01_review(TODAY)
    assert notifications.digest_send(TODAY) == 0
    assert notifications.digest_send(TODAY + timedelta(days=1)) == 1
    assert list(NotificationDigest.objects.order_by("day").values_list("day", "notification_count")) == [
        (TODAY, 1),
        (TODAY + timedelta(days=1), 1),
    ]


def test_digest_of_an_absent_ifk_goes_to_the_cover(tl_nord, ifk_nord, ifk_nord2):
    review(ifk_nord)
    nightly.d01_review(TODAY)
    absence_set(actor=tl_nord, user=ifk_nord, cover=ifk_nord2, starts_on=TODAY, ends_on=TODAY)
    assert notifications.digest_send(TODAY) == 1
    (message,) = mail.outbox
    assert message.to == [ifk_nord2.email]
    assert f"(in Vertretung für {ifk_nord.get_full_name()})" in message.body


def test_digest_smtp_failure_changes_nothing_and_the_retry_sends(ifk_nord, monkeypatch):
    review(ifk_nord)
    nightly.d01_review(TODAY)

    def broken(self, fail_silently=False):
        raise SMTPServerDisconnected("Verbindung zum Mailserver getrennt")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    with pytest.raises(SMTPServerDisconnected):
        notifications.digest_send(TODAY)
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 1
    assert not NotificationDigest.objects.exists()
    monkeypatch.undo()
    assert notifications.digest_send(TODAY) == 1


def test_digest_skips_people_without_an_address_and_closed_reminders(ifk_nord, ifk_nord2):
    ifk_nord2.email = ""
    ifk_nord2.save()
    review(ifk_nord2)
    done = NotificationFactory(
        reminder__case=CaseFactory(responsible=ifk_nord), reminder__status="DONE", reminder__done_at=NOW
    )
    nightly.d01_review(TODAY)
    assert notifications.digest_send(TODAY) == 0
    assert Notification.objects.get(pk=done.pk).emailed_at is None


# --- Constraints ----------------------------------------------------------------------------------------


def absence(**kwargs) -> AbsenceCover:
    team = kwargs.pop("team", None) or UserFactory().team
    fields = {
        "user": UserFactory(team=team),
        "cover": UserFactory(team=team),
        "starts_on": TODAY,
        "ends_on": TODAY + timedelta(days=2),
        "set_by": UserFactory(team=team, tl=True),
        **kwargs,
    }
    return AbsenceCover.objects.create(**fields)


def assert_create_rejected(constraint: str, model, **fields) -> None:
    """Creating the row fails in PostgreSQL with the named constraint; no row is added."""
    count = model.objects.count()
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        model.objects.create(**fields)
    assert f'"{constraint}"' in str(error.value), error.value
    assert model.objects.count() == count


def test_absence_constraints():
    row = absence()
    assert_update_rejected(row, "absence_period_ordered", ends_on=TODAY - timedelta(days=1))
    assert_update_rejected(row, "absence_cover_not_self", cover=row.user)
    assert_update_rejected(row, "absence_end_recorded", ended_at=NOW)
    assert_update_rejected(row, "absence_withdrawal_recorded", withdrawn=True)
    overlapping = {"user": row.user, "cover": row.cover, "set_by": row.set_by, "ends_on": TODAY + timedelta(days=9)}
    assert_create_rejected(
        "absence_no_overlap_per_user", AbsenceCover, starts_on=TODAY + timedelta(days=2), **overlapping
    )
    row.withdrawn, row.ended_by, row.ended_at = True, row.set_by, NOW
    row.save()
    AbsenceCover.objects.create(starts_on=TODAY, **overlapping)  # a withdrawn absence blocks nothing


def test_digest_and_notification_key_constraints(ifk_nord):
    NotificationDigest.objects.create(user=ifk_nord, day=TODAY, notification_count=1)
    assert_create_rejected(
        "digest_once_per_user_and_day", NotificationDigest, user=ifk_nord, day=TODAY, notification_count=2
    )
    assert_create_rejected(
        "digest_not_empty", NotificationDigest, user=ifk_nord, day=TODAY + timedelta(days=1), notification_count=0
    )
    key = {"user": ifk_nord, "message": "Rechtsänderung", "key": "D-18:2026-07-01:2026-06-01"}
    Notification.objects.create(**key)
    assert_create_rejected("notification_key_once_per_user", Notification, **key)
    Notification.objects.create(user=ifk_nord, message="ohne Schlüssel")  # without a key any number
    Notification.objects.create(user=ifk_nord, message="ohne Schlüssel")
