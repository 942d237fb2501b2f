"""The nightly scans (RULES.md section 7): one reminder per subject and stage, computed like rules.deadlines,
the automatic transitions, and the German report of `manage.py run_nightly` (QUALITY.md T16 for the dates).

Every scan gets its day explicitly; where the clock matters (the command's "today") it is frozen."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case, TimelineEvent
from config.celery import app as celery_app
from kooperationsplan import nightly, tasks
from kooperationsplan.models import Exemption, Notification, Reminder, ReminderKind, Schlichtung
from letters.models import Letter
from rules.dates import add_months
from rules.deadlines import current_reminder, d01_review, d05_rueckmeldung
from tests.factories import (
    AppointmentFactory,
    CaseFactory,
    EigenbemuehungNachweisFactory,
    EinstellungszusageFactory,
    EscalationFactory,
    ExemptionFactory,
    KooperationsplanFactory,
    LetterFactory,
    MassnahmeZuweisungFactory,
    Paragraph10ReasonFactory,
    PotenzialanalyseFactory,
    SchlichtungFactory,
    TeamLeadApprovalFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 3, 16)


def plan_due(review_due: date, *, case: Case | None = None, status: str = "ACTIVE", mode: str = "COOP_NO_RFB"):
    """A current plan whose review (D-01) is due on `review_due`, on a case with a complete PA."""
    case = case or CaseFactory(cooperation_mode=mode)
    PotenzialanalyseFactory(case=case, complete=True)
    return KooperationsplanFactory(
        case=case,
        active=True,
        status=status,
        valid_from=add_months(review_due, -6),
        valid_to=review_due,
        review_due=review_due,
    )


def reminders(kind: str) -> list[Reminder]:
    return list(Reminder.objects.filter(kind=kind).order_by("subject_id", "remind_on"))


def only(kind: str) -> Reminder:
    (reminder,) = reminders(kind)
    return reminder


# --- D-01: one SQL statement, the same dates as rules.deadlines.d01_review ------------------------------


@pytest.mark.parametrize(
    "on",
    [
        MONDAY,
        date(2026, 1, 31),  # month end
        date(2026, 2, 28),  # end of a short February
        date(2028, 2, 29),  # leap day
        date(2026, 3, 29),  # summer time begins
        date(2026, 10, 25),  # summer time ends
        date(2026, 12, 31),  # year end
    ],
)
def test_R_FS_1_d01_sql_scan_gives_the_stage_of_rules_deadlines(on):
    """For every distance from 60 days overdue to 35 days ahead, the SQL stage equals the Python one (T16)."""
    plans = {plan_due(on + timedelta(days=distance)).pk: on + timedelta(days=distance) for distance in range(-60, 36)}
    nightly.d01_review(on)
    created = {reminder.subject_id: reminder for reminder in reminders(ReminderKind.D01_REVIEW)}
    for plan_id, review_due in plans.items():
        expected = current_reminder(d01_review(review_due, on=on).remind_on, on=on)
        reminder = created.get(plan_id)
        assert (reminder.remind_on if reminder else None) == expected, (review_due, on)
        if reminder:
            assert (reminder.due_on, reminder.rule_id, reminder.status) == (review_due, "R-FS-1", "OPEN")


def test_R_FS_1_d01_is_one_statement_whatever_the_number_of_plans():
    on = MONDAY

    def statements(count: int) -> int:
        for _ in range(count):
            plan_due(on + timedelta(days=10))
        with CaptureQueriesContext(connection) as ctx:
            nightly.d01_review(on)
        return len(ctx.captured_queries)

    assert statements(2) == statements(40) == 1
    assert Reminder.objects.filter(kind=ReminderKind.D01_REVIEW).count() == 42


def test_R_FS_1_d01_notifies_the_responsible_ifk_and_a_second_run_adds_nothing():
    plan = plan_due(MONDAY + timedelta(days=14))
    first = nightly.d01_review(MONDAY)
    assert (first.reminders, first.notifications) == (1, 1)
    reminder = only(ReminderKind.D01_REVIEW)
    assert (reminder.remind_on, reminder.assignee, reminder.case) == (
        MONDAY - timedelta(days=14),
        plan.case.responsible,
        plan.case,
    )
    (notification,) = Notification.objects.all()
    assert notification.user == plan.case.responsible
    assert notification.reminder == reminder
    assert notification.message == (
        "Überprüfung des Kooperationsplans spätestens am 30.03.2026: bitte den Gesprächstermin vereinbaren (D-01)."
    )
    second = nightly.d01_review(MONDAY)
    assert (second.reminders, second.notifications) == (0, 0)
    assert Reminder.objects.count() == Notification.objects.count() == 1


def test_R_FS_1_d01_each_new_stage_is_a_new_reminder():
    plan = plan_due(MONDAY)
    for day in (MONDAY - timedelta(days=28), MONDAY - timedelta(days=20), MONDAY - timedelta(days=7), MONDAY):
        nightly.d01_review(day)
    assert [r.remind_on for r in reminders(ReminderKind.D01_REVIEW)] == [
        MONDAY - timedelta(days=28),
        MONDAY - timedelta(days=7),
        MONDAY,
    ]
    nightly.d01_review(MONDAY + timedelta(days=9))
    overdue = reminders(ReminderKind.D01_REVIEW)[-1]
    assert overdue.remind_on == MONDAY + timedelta(days=7)
    assert Notification.objects.filter(reminder=overdue).get().message == (
        "Die Überprüfung des Kooperationsplans ist seit dem 16.03.2026 überfällig (D-01)."
    )
    assert plan.case.reminders.count() == 4


def test_R_FS_1_d01_team_leads_hear_of_a_review_overdue_14_days_once(team_nord, ifk_nord, tl_nord):
    second_lead = UserFactory(team=team_nord, tl=True)
    plan_due(MONDAY - timedelta(days=15), case=CaseFactory(responsible=ifk_nord))
    nightly.d01_review(MONDAY)
    recipients = set(Notification.objects.values_list("user__username", flat=True))
    assert recipients == {ifk_nord.username, tl_nord.username, second_lead.username}
    assert Notification.objects.get(user=tl_nord).message == (
        "Eine Überprüfung des Kooperationsplans ist seit mehr als 14 Tagen überfällig (fällig am 01.03.2026, D-01)."
    )
    nightly.d01_review(MONDAY + timedelta(days=7))  # the next weekly stage: the IFK again, the team lead not
    assert Notification.objects.filter(user=tl_nord).count() == 1
    assert Notification.objects.filter(user=ifk_nord).count() == 2


def test_R_FS_1_d01_ignores_closed_cases_and_plans_that_are_not_current():
    plan_due(MONDAY, status="SUPERSEDED")
    plan_due(MONDAY, status="DISPUTED")
    closed = plan_due(MONDAY)
    Case.objects.filter(pk=closed.case_id).update(closed_on=closed.case.leistungsbeginn)
    under_review = plan_due(MONDAY, status="UNDER_REVIEW")
    nightly.d01_review(MONDAY)
    assert [r.subject_id for r in reminders(ReminderKind.D01_REVIEW)] == [under_review.pk]


# --- The other deadlines, computed with rules.deadlines ---------------------------------------------------


def test_R_PA_2_new_case_without_potenzialanalyse_and_R_KP_1_pa_complete_without_kp(ifk_nord):
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN), tick=False):
        waiting = CaseFactory(responsible=ifk_nord, leistungsbeginn=date(2026, 3, 1))
        ready = CaseFactory(responsible=ifk_nord)
        PotenzialanalyseFactory(case=ready, complete=True)
    nightly.pa_faellig(MONDAY)
    nightly.kp_fehlt(MONDAY)
    pa = only(ReminderKind.PA_FAELLIG)
    assert (pa.subject_id, pa.due_on, pa.remind_on, pa.rule_id) == (
        waiting.pk,
        date(2026, 3, 1),
        date(2026, 3, 10),
        "R-PA-2",
    )
    kp = only(ReminderKind.KP_FEHLT)
    assert (kp.subject_id, kp.remind_on, kp.rule_id) == (ready.pk, date(2026, 3, 10), "R-KP-1")
    KooperationsplanFactory(case=waiting)  # a draft is work in progress, not a missing KP
    PotenzialanalyseFactory(case=waiting, complete=True)
    assert nightly.kp_fehlt(MONDAY).reminders == 0


def test_R_EXC_2_d02_paragraph10_recheck_28_days_before_and_90_days_before_the_known_end():
    case = CaseFactory(cooperation_mode="EXEMPT")
    reason = Paragraph10ReasonFactory(
        case=case, since=date(2025, 12, 1), last_checked_on=date(2026, 1, 10), expected_end=date(2026, 9, 30)
    )
    ExemptionFactory(case=case, paragraph_10=True, paragraph10_reason=reason, recorded_on=date(2026, 1, 10))
    assert nightly.d02_paragraph10(date(2026, 6, 11)).reminders == 0
    nightly.d02_paragraph10(date(2026, 6, 12))
    assert only(ReminderKind.D02_P10_RECHECK).remind_on == date(2026, 6, 12)  # 10.07. − 28 days
    assert only(ReminderKind.D02_P10_RECHECK).due_on == date(2026, 7, 10)
    nightly.d02_paragraph10(date(2026, 7, 2))  # 30.09. − 90 days
    assert [r.remind_on for r in reminders(ReminderKind.D02_P10_RECHECK)] == [date(2026, 6, 12), date(2026, 7, 2)]


def test_R_EXC_3_d03_profillage_recheck_from_the_stored_recheck_date():
    case = CaseFactory(cooperation_mode="EXEMPT")
    ExemptionFactory(case=case, profillage_i=True, recorded_on=date(2025, 8, 31), recheck_due=date(2026, 2, 28))
    nightly.d03_profillage(date(2026, 2, 21))
    assert only(ReminderKind.D03_PROFILLAGE_RECHECK).remind_on == date(2026, 2, 21)


def einstellungszusage(start: date, bundesland: str = "BW") -> Exemption:
    case = CaseFactory(cooperation_mode="EXEMPT", responsible__team__jobcenter__bundesland=bundesland)
    zusage = EinstellungszusageFactory(case=case, recorded_on=start - timedelta(days=20), start_date=start)
    return ExemptionFactory(
        case=case, einstellungszusage=zusage, recorded_on=start - timedelta(days=20), recheck_due=start
    )


def test_R_EXC_1_d04_reminders_and_the_lapse_after_three_working_days():
    """Start Thursday 30.04.2026 in BW: 1 May is a holiday, so the third working day is Wednesday 06.05."""
    exemption = einstellungszusage(date(2026, 4, 30))
    nightly.d04_einstellungszusage(date(2026, 4, 23))
    assert only(ReminderKind.D04_EINSTELLUNG).remind_on == date(2026, 4, 23)
    assert nightly.lapse_exemptions(date(2026, 5, 6)) == 0
    nightly.d04_einstellungszusage(date(2026, 5, 6))
    check = reminders(ReminderKind.D04_EINSTELLUNG)[-1]
    assert check.remind_on == date(2026, 5, 6)
    assert "bestätigt?" in Notification.objects.get(reminder=check).message
    assert nightly.lapse_exemptions(date(2026, 5, 7)) == 1
    exemption.refresh_from_db()
    assert (exemption.status, exemption.ended_on, exemption.kennung_removed_on) == (
        "LAPSED",
        date(2026, 5, 7),
        date(2026, 5, 7),
    )
    assert Case.objects.get(pk=exemption.case_id).cooperation_mode == "NO_KP_YET"
    event = TimelineEvent.objects.get(case=exemption.case, code="exemption.lapsed")
    assert event.actor is None
    assert "R-EXC-1:exemption.job_not_started" in event.reason_codes
    assert all(r.status == "DONE" for r in reminders(ReminderKind.D04_EINSTELLUNG))
    assert nightly.lapse_exemptions(date(2026, 5, 8)) == 0  # nothing twice


def test_R_EXC_1_a_confirmed_start_never_lapses():
    exemption = einstellungszusage(date(2026, 4, 30))
    exemption.einstellungszusage.start_confirmed_on = date(2026, 4, 30)
    exemption.einstellungszusage.save()
    assert nightly.lapse_exemptions(date(2026, 5, 20)) == 0
    assert nightly.d04_einstellungszusage(date(2026, 5, 6)).reminders == 0


def test_R_EXC_2_an_ended_paragraph10_reason_ends_the_exemption():
    case = CaseFactory(cooperation_mode="EXEMPT")
    reason = Paragraph10ReasonFactory(case=case, since=date(2025, 1, 1), last_checked_on=date(2026, 1, 5))
    exemption = ExemptionFactory(case=case, paragraph_10=True, paragraph10_reason=reason, recorded_on=date(2026, 1, 5))
    assert nightly.lapse_exemptions(MONDAY) == 0
    reason.ended_on = MONDAY
    reason.save()
    assert nightly.lapse_exemptions(MONDAY) == 1
    assert Exemption.objects.get(pk=exemption.pk).status == "LAPSED"


def test_R_MON_1_d05_two_working_days_before_and_after_the_rueckmeldung():
    """Due Friday 30.10.2025 in BB: Reformationstag 31.10. is a holiday there, so the task comes on 04.11."""
    plan = plan_due(date(2026, 3, 1), case=CaseFactory(responsible__team__jobcenter__bundesland="BB"))
    assignment = MassnahmeZuweisungFactory(
        plan=plan,
        status="SCHREIBEN_ISSUED",
        via="SCHREIBEN",
        rueckmeldung_due=date(2025, 10, 30),
        start_date=date(2025, 11, 10),
    )
    schedule = d05_rueckmeldung(date(2025, 10, 30), "BB")
    nightly.d05_rueckmeldung(date(2025, 10, 28))
    nightly.d05_rueckmeldung(date(2025, 11, 3))
    nightly.d05_rueckmeldung(date(2025, 11, 4))
    assert [r.remind_on for r in reminders(ReminderKind.D05_RUECKMELDUNG)] == list(schedule.remind_on)
    assert [r.remind_on for r in reminders(ReminderKind.D05_RUECKMELDUNG)] == [date(2025, 10, 28), date(2025, 11, 4)]
    task = Notification.objects.get(reminder__remind_on=date(2025, 11, 4))
    assert task.message == "Keine Rückmeldung des Trägers zur Frist am 30.10.2025: bitte Rückmeldung prüfen (D-05)."
    assert all(r.subject_id == assignment.pk for r in reminders(ReminderKind.D05_RUECKMELDUNG))


def test_R_MON_1_d06_attendance_after_the_start_and_next_step_before_the_end():
    plan = plan_due(date(2026, 9, 1))
    reported = MassnahmeZuweisungFactory(
        plan=plan,
        status="REPORTED",
        via="SCHREIBEN",
        rueckmeldung_due=date(2026, 3, 27),
        start_date=date(2026, 4, 2),
        end_date=date(2026, 6, 30),
    )
    nightly.d06_massnahme(date(2026, 4, 6))  # Karfreitag and Ostermontag: start + 1 working day is 07.04.
    assert nightly.d06_massnahme(date(2026, 4, 7)).reminders == 1
    assert only(ReminderKind.D06_MASSNAHME).remind_on == date(2026, 4, 7)
    type(reported).objects.filter(pk=reported.pk).update(status="STARTED", started_on=date(2026, 4, 2))
    nightly.d06_massnahme(date(2026, 6, 16))
    assert reminders(ReminderKind.D06_MASSNAHME)[-1].remind_on == date(2026, 6, 16)


def test_R_EB_4_d07_proposes_a_breach_after_seven_days_and_never_records_one():
    plan = plan_due(date(2026, 9, 1))
    nachweis = EigenbemuehungNachweisFactory(
        eigenbemuehung__plan=plan, period_start=date(2026, 2, 1), period_end=date(2026, 2, 28), due_on=date(2026, 3, 5)
    )
    nightly.d07_nachweis(date(2026, 3, 5))
    nightly.d07_nachweis(date(2026, 3, 11))
    assert [r.remind_on for r in reminders(ReminderKind.D07_NACHWEIS)] == [date(2026, 3, 5)]
    nightly.d07_nachweis(date(2026, 3, 12))
    proposal = reminders(ReminderKind.D07_NACHWEIS)[-1]
    assert (proposal.remind_on, proposal.subject_id, proposal.rule_id) == (date(2026, 3, 12), nachweis.pk, "R-EB-4")
    assert "Pflichtverstoß prüfen (R-EB-4)" in Notification.objects.get(reminder=proposal).message
    assert not plan.case.escalations.exists()


def test_R_ESC_1_d08_outcome_of_the_intervention_two_working_days_later():
    escalation = EscalationFactory(status="INTERVENTION_INVITED")
    AppointmentFactory(
        case=escalation.case,
        kind="BI",
        escalation=escalation,
        starts_at=datetime(2026, 12, 23, 10, 0, tzinfo=BERLIN),
    )
    nightly.d08_intervention(date(2026, 12, 28))
    assert only(ReminderKind.D08_BI_ERGEBNIS).remind_on == date(2026, 12, 28)


def test_R_ESC_3_d09_proposes_the_anhoerung_and_issues_nothing():
    escalation = EscalationFactory(status="AUFFORDERUNG_ISSUED", compliance_deadline=date(2025, 10, 30))
    escalation.case.team.jobcenter.bundesland = "BB"
    escalation.case.team.jobcenter.save()
    letters_before = Letter.objects.count()
    nightly.d09_mitwirkung(date(2025, 11, 4))
    assert nightly.d09_mitwirkung(date(2025, 11, 4)).reminders == 0
    assert reminders(ReminderKind.D09_MITWIRKUNG) == []
    nightly.d09_mitwirkung(date(2025, 11, 5))  # deadline + 3 working days in BB
    reminder = only(ReminderKind.D09_MITWIRKUNG)
    assert "die Anhörung vorbereiten" in Notification.objects.get(reminder=reminder).message
    escalation.refresh_from_db()
    assert escalation.status == "AUFFORDERUNG_ISSUED"
    assert Letter.objects.count() == letters_before


def test_R_ESC_6_d10_decision_task_when_the_aeusserungsfrist_ends():
    EscalationFactory(status="ANHOERUNG", anhoerung_deadline=date(2026, 3, 19))
    assert nightly.d10_anhoerung(date(2026, 3, 18)).reminders == 0
    assert nightly.d10_anhoerung(date(2026, 3, 19)).reminders == 1


def test_R_ESC_3_d11_four_and_five_months_after_the_breach_across_month_ends():
    EscalationFactory(status="DECISION_PENDING", breach_date=date(2026, 8, 31))
    nightly.d11_feststellung(date(2026, 12, 31))
    nightly.d11_feststellung(date(2027, 1, 31))
    assert [r.remind_on for r in reminders(ReminderKind.D11_FESTSTELLUNG)] == [date(2026, 12, 31), date(2027, 1, 31)]
    assert only_due(ReminderKind.D11_FESTSTELLUNG) == {date(2027, 2, 28)}


def only_due(kind: str) -> set[date]:
    return {reminder.due_on for reminder in reminders(kind)}


def test_R_SCH_2_d12_reminders_on_day_14_21_27_and_closed_on_day_28():
    case = CaseFactory(cooperation_mode="SCHLICHTUNG_PENDING")
    schlichtung = SchlichtungFactory(case=case, started_on=date(2028, 2, 1), ends_on=date(2028, 2, 29))
    for day in (date(2028, 2, 15), date(2028, 2, 22), date(2028, 2, 28)):
        nightly.d12_schlichtung(day)
    assert [r.remind_on for r in reminders(ReminderKind.D12_SCHLICHTUNG)] == [
        date(2028, 2, 15),
        date(2028, 2, 22),
        date(2028, 2, 28),
    ]
    assert nightly.expire_schlichtungen(date(2028, 2, 28)) == 0
    assert nightly.expire_schlichtungen(date(2028, 2, 29)) == 1
    schlichtung.refresh_from_db()
    assert (schlichtung.outcome, schlichtung.ended_on) == ("NO_AGREEMENT", date(2028, 2, 29))
    assert Case.objects.get(pk=case.pk).cooperation_mode == "NO_KP_15_6"
    assert TimelineEvent.objects.filter(case=case, code="schlichtung.expired").count() == 1
    assert all(r.status == "DONE" for r in reminders(ReminderKind.D12_SCHLICHTUNG))
    assert nightly.expire_schlichtungen(date(2028, 3, 1)) == 0


def test_R_LET_2_d13_informational_on_the_last_day_of_the_widerspruchsfrist():
    letter = LetterFactory(kind="AUFF_15_5", with_rfb=True, is_va=True, letter_date=date(2026, 1, 28))
    nightly.d13_widerspruch(date(2026, 2, 28))  # Bekanntgabe 31.01. + 1 month, clamped
    reminder = only(ReminderKind.D13_WIDERSPRUCH)
    assert (reminder.subject_id, reminder.due_on) == (letter.pk, date(2026, 2, 28))
    assert "Zur Information" in Notification.objects.get(reminder=reminder).message


def test_R_LET_2_d13_is_not_sent_for_old_letters():
    LetterFactory(kind="AUFF_15_5", with_rfb=True, is_va=True, letter_date=date(2025, 6, 2))
    assert nightly.d13_widerspruch(MONDAY).reminders == 0


def test_R_SAN_1_d14_u25_beratungsangebot_only_for_people_under_25():
    young = CaseFactory(elb__birth_date=date(2003, 1, 1))
    old = CaseFactory(elb__birth_date=date(1980, 1, 1))
    for case in (young, old):
        EscalationFactory(
            case=case,
            status="MINDERUNG_FESTGESTELLT",
            minderung_percent=10,
            minderung_months=1,
            minderung_start=date(2026, 7, 1),
            closed_at=datetime(2026, 6, 15, 10, 0, tzinfo=BERLIN),
        )
    nightly.d14_u25(date(2026, 6, 29))
    assert only(ReminderKind.D14_U25).case == young


def test_R_ABB_6_d16_reminds_the_team_leads(team_nord, ifk_nord, tl_nord):
    approval = TeamLeadApprovalFactory(case=CaseFactory(responsible=ifk_nord))
    approval.requested_at = datetime(2026, 12, 21, 9, 0, tzinfo=BERLIN)
    approval.save()
    nightly.d16_tl_approval(date(2026, 12, 24))
    reminder = only(ReminderKind.D16_TL_SCHLICHTUNG)
    assert (reminder.assignee, reminder.remind_on, reminder.due_on) == (tl_nord, date(2026, 12, 24), date(2026, 12, 29))
    assert list(Notification.objects.values_list("user", flat=True)) == [tl_nord.pk]


def test_R_RET_1_d17_with_the_first_review_reminder_only_with_rfb():
    with_rfb = plan_due(date(2026, 4, 13), mode="COOP_WITH_RFB")
    plan_due(date(2026, 4, 13), mode="COOP_NO_RFB")
    nightly.d17_return_check(MONDAY)
    reminder = only(ReminderKind.D17_RUECKKEHR)
    assert (reminder.subject_id, reminder.remind_on) == (with_rfb.pk, MONDAY)


def test_d18_cutover_notifies_the_fachadministration_once(fachadmin):
    """D-18 (P3): 30 days before the planned reform the rule set has no rules for it yet."""
    assert nightly.d18_cutovers(date(2026, 6, 1)) == 1
    assert nightly.d18_cutovers(date(2026, 6, 3)) == 0
    (notification,) = Notification.objects.all()
    assert notification.user == fachadmin
    assert notification.reminder is None
    assert notification.message.startswith("Rechtsänderung am 01.07.2026: Neue Grundsicherung")
    assert "noch keine Regeln" in notification.message


# --- The whole run ------------------------------------------------------------------------------------


def test_nightly_run_covers_every_scan_and_a_second_run_creates_nothing(ifk_nord):
    plan_due(MONDAY + timedelta(days=5), case=CaseFactory(responsible=ifk_nord))
    EscalationFactory(case=CaseFactory(responsible=ifk_nord), status="ANHOERUNG", anhoerung_deadline=MONDAY)
    first = nightly.nightly_run(MONDAY)
    assert [result.name for result in first] == [scan.name for scan in nightly.SCANS]
    assert sum(result.reminders for result in first) == 2
    second = nightly.nightly_run(MONDAY)
    assert all((r.reminders, r.notifications, r.transitions) == (0, 0, 0) for r in second)


def test_run_nightly_prints_in_german_what_it_created(ifk_nord):
    plan_due(MONDAY + timedelta(days=14), case=CaseFactory(responsible=ifk_nord))
    out = StringIO()
    call_command("run_nightly", "--date", "2026-03-16", "--ohne-mail", stdout=out)
    text = out.getvalue()
    assert "Nächtliche Fristenprüfung für den 16.03.2026" in text
    assert "D-01   Überprüfung des Kooperationsplans: 1 Erinnerung, 1 Benachrichtigung" in text
    assert "D-12   Schlichtung nach 4 Wochen beenden: 0 automatisch erledigt" in text
    assert "Gesamt: 1 Erinnerung(en), 1 Benachrichtigung(en), 0 automatisch erledigt" in text


def test_run_nightly_refuses_a_bad_date_in_german():
    with pytest.raises(CommandError, match="Ungültiges Datum „2026-02-30“"):
        call_command("run_nightly", "--date", "2026-02-30")


@pytest.mark.parametrize(
    ("utc", "local_day"),
    [
        (
            datetime(2026, 3, 29, 0, 30, tzinfo=ZoneInfo("UTC")),
            date(2026, 3, 29),
        ),  # 01:30 CET, the day summer time starts
        (datetime(2026, 10, 24, 23, 30, tzinfo=ZoneInfo("UTC")), date(2026, 10, 25)),  # 01:30 CEST, UTC is a day behind
        (datetime(2028, 2, 28, 23, 30, tzinfo=ZoneInfo("UTC")), date(2028, 2, 29)),
    ],
)
def test_run_nightly_without_date_takes_the_day_in_berlin(utc, local_day, ifk_nord):
    """T16: the beat time 01:30 Berlin lies on the previous day in UTC half of the year."""
    plan_due(local_day + timedelta(days=28), case=CaseFactory(responsible=ifk_nord))
    out = StringIO()
    with time_machine.travel(utc, tick=False):
        call_command("run_nightly", "--ohne-mail", stdout=out)
    assert f"für den {local_day:%d.%m.%Y}" in out.getvalue()
    assert only(ReminderKind.D01_REVIEW).remind_on == local_day


def test_schlichtung_of_a_refused_case_is_left_for_the_next_run():
    """The service re-checks under the lock: a Schlichtung whose case is not SCHLICHTUNG_PENDING stays running."""
    schlichtung = SchlichtungFactory(
        case=CaseFactory(cooperation_mode="COOP_NO_RFB"), started_on=date(2026, 2, 1), ends_on=date(2026, 3, 1)
    )
    assert nightly.expire_schlichtungen(MONDAY) == 0
    assert Schlichtung.objects.get(pk=schlichtung.pk).outcome == "RUNNING"


UTC = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("last_run", "now", "due"),
    [
        # The day summer time begins: 01:30 CET is 00:30 UTC.
        (datetime(2026, 3, 28, 1, 30, tzinfo=BERLIN), datetime(2026, 3, 29, 0, 29, tzinfo=UTC), False),
        (datetime(2026, 3, 28, 1, 30, tzinfo=BERLIN), datetime(2026, 3, 29, 0, 30, tzinfo=UTC), True),
        # The day summer time ends: 01:30 CEST is 23:30 UTC the day before; the repeated hour 02:00-03:00
        # does not run it a second time.
        (datetime(2026, 10, 24, 1, 30, tzinfo=BERLIN), datetime(2026, 10, 24, 23, 30, tzinfo=UTC), True),
        (datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN), datetime(2026, 10, 25, 1, 30, tzinfo=UTC), False),
        (datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN), datetime(2026, 10, 26, 0, 30, tzinfo=UTC), True),
    ],
)
def test_beat_entry_runs_once_a_night_at_01_30_berlin_also_when_the_clocks_change(last_run, now, due):
    """T16 for the schedule itself (config/celery.py): 01:30 exists exactly once on every day."""
    schedule = celery_app.conf.beat_schedule["nightly-scans"]["schedule"]
    with time_machine.travel(now, tick=False):
        assert schedule.is_due(last_run).is_due is due


def test_the_demo_data_leaves_reminders_of_many_kinds_and_a_second_run_adds_nothing():
    """seed_demo runs the scans at its end: every demo login finds notifications on the first day."""
    with time_machine.travel(datetime(2026, 11, 22, 10, 0, tzinfo=BERLIN), tick=False):
        call_command("seed_demo", stdout=StringIO())
        kinds = set(Reminder.objects.values_list("kind", flat=True))
        assert {ReminderKind.D01_REVIEW, ReminderKind.D07_NACHWEIS, ReminderKind.D12_SCHLICHTUNG} <= kinds
        assert len(kinds) >= 6
        for username in ("ifk.nord1", "ifk.nord2", "ifk.sued1", "ifk.sued2"):
            assert Notification.objects.filter(user__username=username).exists(), username
        again = nightly.nightly_run(date(2026, 11, 22))
        assert sum(result.reminders + result.notifications + result.transitions for result in again) == 0


def test_the_beat_task_chains_every_scan_by_a_stable_key(ifk_nord):
    """kooperationsplan.tasks (run eagerly here, against a real worker in test_nightly_celery.py)."""
    assert len({scan.key for scan in nightly.SCANS}) == len(nightly.SCANS)
    plan_due(MONDAY + timedelta(days=3), case=CaseFactory(responsible=ifk_nord))
    EscalationFactory(case=CaseFactory(responsible=ifk_nord), status="ANHOERUNG", anhoerung_deadline=MONDAY)
    assert tasks.nightly_scans.delay(MONDAY.isoformat()).get() == "2026-03-16"
    assert set(Reminder.objects.values_list("kind", flat=True)) == {
        ReminderKind.D01_REVIEW,
        ReminderKind.D10_ANHOERUNG,
    }
    assert tasks.nightly_scan.delay("d01_review", MONDAY.isoformat()).get()["reminders"] == 0
