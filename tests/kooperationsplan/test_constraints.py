"""Database constraints of the kooperationsplan app: each one refuses bad data in PostgreSQL itself."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import factory
import pytest
from django.utils import timezone

from kooperationsplan.models import MANDATORY_SOLL_KINDS, OPTIONAL_SOLL_KINDS, SINGLE_KINDS, EigenbemuehungNachweis
from tests.factories import (
    AppointmentFactory,
    CaseFactory,
    ContentItemFactory,
    EigenbemuehungFactory,
    EigenbemuehungNachweisFactory,
    ElbFactory,
    EscalationFactory,
    ExemptionFactory,
    KooperationsplanFactory,
    MassnahmeArtFactory,
    MassnahmeFactory,
    MassnahmeZuweisungFactory,
    NotificationFactory,
    ReminderFactory,
    SchlichtungFactory,
    StepFactory,
    TeamLeadApprovalFactory,
    UserFactory,
    assert_insert_rejected,
    assert_update_rejected,
)

pytestmark = pytest.mark.django_db

START = date(2025, 3, 3)

NOW = factory.LazyFunction(timezone.now)
TODAY = factory.LazyFunction(timezone.localdate)

# Simple value checks: a valid row is saved, then one field is set to a value the constraint refuses.
# Status fields start from a closed state, so that only the unknown value itself breaks a rule.
VALUE_CHECKS = [
    (partial(KooperationsplanFactory, active=True), "kp_status_valid", {"status": "SIGNED"}),
    (KooperationsplanFactory, "kp_version_positive", {"version_number": 0}),
    (ContentItemFactory, "content_kind_valid", {"kind": "SOLL_7"}),
    (StepFactory, "step_text_required", {"text": ""}),
    (StepFactory, "step_responsible_valid", {"responsible": "TL"}),
    (EigenbemuehungFactory, "eb_kind_valid", {"kind": "LOTTO"}),
    (EigenbemuehungFactory, "eb_period_valid", {"period": "JAHR"}),
    (EigenbemuehungFactory, "eb_nachweis_form_valid", {"nachweis_form": "FAX"}),
    (MassnahmeFactory, "massnahme_duration_positive", {"duration_weeks": 0}),
    (MassnahmeFactory, "massnahme_traeger_contact_complete", {"traeger_name": ""}),
    (MassnahmeFactory, "massnahme_traeger_contact_complete", {"traeger_phone": ""}),
    (MassnahmeFactory, "massnahme_traeger_contact_complete", {"traeger_contact": ""}),
    (
        partial(MassnahmeZuweisungFactory, status="SCHREIBEN_ISSUED", via="SCHREIBEN"),
        "assignment_status_valid",
        {"status": "PAUSED"},
    ),
    (AppointmentFactory, "appointment_kind_valid", {"kind": "KAFFEE"}),
    (
        partial(AppointmentFactory, outcome="ATTENDED", outcome_recorded_at=NOW),
        "appointment_outcome_valid",
        {"outcome": "LATE"},
    ),
    (AppointmentFactory, "appointment_meldezweck_required", {"meldezweck": ""}),
    (EscalationFactory, "escalation_status_valid", {"status": "SANKTION"}),
    (EscalationFactory, "escalation_breach_kind_valid", {"breach_kind": "ZU_SPAET"}),
    (TeamLeadApprovalFactory, "tlapproval_kind_valid", {"kind": "URLAUB"}),
    (
        partial(
            TeamLeadApprovalFactory,
            status="APPROVED",
            decided_at=NOW,
            decided_by=factory.SubFactory(UserFactory, tl=True),
        ),
        "tlapproval_status_valid",
        {"status": "MAYBE"},
    ),
    (
        partial(SchlichtungFactory, outcome="AGREEMENT", ended_on=TODAY),
        "schlichtung_outcome_valid",
        {"outcome": "VERTAGT"},
    ),
    (SchlichtungFactory, "schlichtung_requested_by_valid", {"requested_by": "TL"}),
    (ExemptionFactory, "exemption_reason_valid", {"reason": "KRANK"}),
    (partial(ExemptionFactory, status="LAPSED", ended_on=TODAY), "exemption_status_valid", {"status": "PAUSED"}),
    (ReminderFactory, "reminder_kind_valid", {"kind": "D99"}),
    (partial(ReminderFactory, status="DONE", done_at=NOW), "reminder_status_valid", {"status": "SNOOZED"}),
]


@pytest.mark.parametrize(
    ("model_factory", "constraint", "changes"),
    VALUE_CHECKS,
    ids=[f"{constraint}-{next(iter(changes.values()))}" for _, constraint, changes in VALUE_CHECKS],
)
def test_invalid_value_is_rejected_by_the_database(model_factory, constraint, changes):
    assert_update_rejected(model_factory(), constraint, **changes)


# --- Kooperationsplan (RULES.md 5.1) -------------------------------------------------------------


def test_kp_unique_version_per_case():
    plan = KooperationsplanFactory(status="ABANDONED")

    assert_insert_rejected("kp_unique_version_per_case", KooperationsplanFactory, case=plan.case, version_number=1)


@pytest.mark.parametrize("existing", ["ACTIVE", "UNDER_REVIEW", "DISPUTED"])
@pytest.mark.parametrize("new", ["ACTIVE", "UNDER_REVIEW", "DISPUTED"])
def test_kp_one_current_per_case(existing, new):
    superseded = KooperationsplanFactory(active=True, status="SUPERSEDED")
    current = KooperationsplanFactory(active=True, case=superseded.case, status=existing)  # v1 superseded, v2 current

    assert_insert_rejected(
        "kp_one_current_per_case", KooperationsplanFactory, active=True, case=current.case, status=new
    )


def test_kp_one_current_per_case_on_reactivation():
    old = KooperationsplanFactory(active=True, status="SUPERSEDED")
    KooperationsplanFactory(active=True, case=old.case)

    assert_update_rejected(old, "kp_one_current_per_case", status="ACTIVE")


def test_kp_one_draft_per_case():
    active = KooperationsplanFactory(active=True)
    KooperationsplanFactory(case=active.case)  # a draft beside the active plan (Fortschreibung) is fine

    assert_insert_rejected("kp_one_draft_per_case", KooperationsplanFactory, case=active.case)


@pytest.mark.parametrize("missing", ["valid_from", "valid_to", "review_due", "activated_at"])
@pytest.mark.parametrize("status", ["ACTIVE", "UNDER_REVIEW", "SUPERSEDED", "ENDED"])
def test_kp_activated_has_dates(missing, status):
    plan = KooperationsplanFactory(active=True, status=status)

    assert_update_rejected(plan, "kp_activated_has_dates", **{missing: None})


def test_kp_valid_to_after_from():
    plan = KooperationsplanFactory(valid_from=START, valid_to=START)

    assert_update_rejected(plan, "kp_valid_to_after_from", valid_to=START - timedelta(days=1))


@pytest.mark.parametrize("review_due", [START - timedelta(days=1), START + timedelta(days=183)])
def test_kp_review_within_term(review_due):
    """R-KP-4: the review falls inside the plan's term; both ends of the term are allowed."""
    term = {"valid_from": START, "valid_to": START + timedelta(days=182)}
    KooperationsplanFactory(active=True, review_due=START, **term)
    plan = KooperationsplanFactory(active=True, review_due=START + timedelta(days=182), **term)

    assert_update_rejected(plan, "kp_review_within_term", review_due=review_due)


@pytest.mark.parametrize("missing", [{"gemeinsam_erarbeitet": False}, {"infoblatt_vb_ausgehaendigt_on": None}])
def test_kp_activated_checklist(missing):
    """R-KP-3 and R-EB-3: no active plan without joint drafting and the Info-Blatt VB."""
    plan = KooperationsplanFactory(active=True)

    assert_update_rejected(plan, "kp_activated_checklist", **missing)


# --- Inhalte (R-KP-5..7) ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", SINGLE_KINDS)
def test_content_single_kinds_once(kind):
    first = ContentItemFactory(kind=kind)
    ContentItemFactory(plan=first.plan, kind="WEITERE")
    ContentItemFactory(plan=first.plan, kind="WEITERE")  # "Weitere Aktivitäten" may repeat

    assert_insert_rejected("content_single_kinds_once", ContentItemFactory, plan=first.plan, kind=kind)


@pytest.mark.parametrize(
    "changes",
    [{"text": ""}, {"nicht_relevant": True}],
    ids=["neither-filled-nor-not-relevant", "filled-and-not-relevant"],
)
def test_content_filled_xor_not_relevant(changes):
    """R-KP-5: 'forgotten' (empty) and 'nicht relevant' stay distinct."""
    ContentItemFactory(nicht_relevant_soll_3=True)
    item = ContentItemFactory(kind="SOLL_3")

    assert_update_rejected(item, "content_filled_xor_not_relevant", **changes)


@pytest.mark.parametrize("kind", [*MANDATORY_SOLL_KINDS, "KANN_1", "KANN_2", "WEITERE"])
def test_content_not_relevant_only_optional(kind):
    """R-KP-5: only Soll-Inhalte 3, 4 and 6 may be marked 'nicht relevant'."""
    for optional in OPTIONAL_SOLL_KINDS:
        ContentItemFactory(kind=optional, text="", nicht_relevant=True)
    item = ContentItemFactory(kind=kind)

    assert_update_rejected(item, "content_not_relevant_only_optional", text="", nicht_relevant=True)


def test_content_bg_member_only_kann_2():
    """R-KP-6: a member of the Bedarfsgemeinschaft is linked only to the Kann-Inhalt for BG members."""
    member = ElbFactory()
    ContentItemFactory(kind="KANN_2", bg_member=member)
    item = ContentItemFactory(kind="WEITERE")

    assert_update_rejected(item, "content_bg_member_only_kann_2", bg_member=member)


# --- Eigenbemühungen (R-EB-1, D-07) ----------------------------------------------------------------


def test_eb_zero_count_needs_reason():
    EigenbemuehungFactory(min_count=0, min_count_zero_reason="Reha-Verfahren läuft.")
    item = EigenbemuehungFactory(min_count=1)

    assert_update_rejected(item, "eb_zero_count_needs_reason", min_count=0)


@pytest.mark.parametrize("day", [0, 29])
def test_eb_due_day_range(day):
    EigenbemuehungFactory(nachweis_due_day=1)
    item = EigenbemuehungFactory(nachweis_due_day=28)

    assert_update_rejected(item, "eb_due_day_range", nachweis_due_day=day)


def test_nachweis_one_per_period():
    nachweis = EigenbemuehungNachweisFactory()

    assert_insert_rejected(
        "nachweis_one_per_period",
        EigenbemuehungNachweisFactory,
        eigenbemuehung=nachweis.eigenbemuehung,
        period_start=nachweis.period_start,
    )


def test_nachweis_period_ordered():
    nachweis = EigenbemuehungNachweisFactory(period_start=START, period_end=START, due_on=START + timedelta(days=5))

    assert_update_rejected(nachweis, "nachweis_period_ordered", period_end=START - timedelta(days=1))


def test_nachweis_due_after_period():
    nachweis = EigenbemuehungNachweisFactory(
        period_start=START, period_end=START + timedelta(days=30), due_on=START + timedelta(days=31)
    )

    assert_update_rejected(nachweis, "nachweis_due_after_period", due_on=START + timedelta(days=30))


@pytest.mark.parametrize(
    "changes", [{"received_on": START}, {"count_reported": 3}], ids=["received-without-count", "count-without-date"]
)
def test_nachweis_received_with_count(changes):
    EigenbemuehungNachweisFactory(received_on=START, count_reported=0)
    nachweis = EigenbemuehungNachweisFactory()

    assert_update_rejected(nachweis, "nachweis_received_with_count", **changes)


# --- Maßnahmen and Zuweisungen (RULES.md 5.3, P2) ---------------------------------------------------


def test_massnahmeart_exemption_has_source():
    MassnahmeArtFactory(exempt=True)
    art = MassnahmeArtFactory()

    assert_update_rejected(art, "massnahmeart_exemption_has_source", exempt_from_rfb=True)


def test_assignment_end_after_start():
    assignment = MassnahmeZuweisungFactory(start_date=START, end_date=START)

    assert_update_rejected(assignment, "assignment_end_after_start", end_date=START - timedelta(days=1))


@pytest.mark.parametrize("status", ["REPORTED", "NOT_REPORTED", "STARTED", "COMPLETED", "CLARIFICATION"])
def test_assignment_issued_has_via(status):
    assignment = MassnahmeZuweisungFactory()  # PLANNED without via is fine

    assert_update_rejected(assignment, "assignment_issued_has_via", status=status)


def test_assignment_bescheid_has_validity():
    MassnahmeZuweisungFactory(status="BESCHEID_ISSUED", via="BESCHEID", valid_to=START)
    assignment = MassnahmeZuweisungFactory(status="SCHREIBEN_ISSUED", via="SCHREIBEN")

    assert_update_rejected(assignment, "assignment_bescheid_has_validity", via="BESCHEID")


@pytest.mark.parametrize("status", ["SCHREIBEN_ISSUED", "WITHDRAWN"])
def test_assignment_schreiben_states(status):
    """R-ZUW-2: only a Zuweisungsschreiben can be issued as such or withdrawn without Aufhebung."""
    assignment = MassnahmeZuweisungFactory(status="BESCHEID_ISSUED", via="BESCHEID", valid_to=START)

    assert_update_rejected(assignment, "assignment_schreiben_states", status=status)


@pytest.mark.parametrize("status", ["BESCHEID_ISSUED", "BREACH", "AUFGEHOBEN"])
def test_assignment_bescheid_states(status):
    """R-ZUW-4/5, R-ABB-7: these states exist only for a Zuweisungsbescheid."""
    assignment = MassnahmeZuweisungFactory(status="SCHREIBEN_ISSUED", via="SCHREIBEN")

    assert_update_rejected(assignment, "assignment_bescheid_states", status=status)


# --- Appointments (R-INV-3, R-INV-5, D-08) ---------------------------------------------------------


def test_appointment_bi_without_rfb():
    """R-INV-3 / P1: the Beraterische Intervention is never invited with RFB."""
    appointment = AppointmentFactory(kind="BI", with_rfb=False)

    assert_update_rejected(appointment, "appointment_bi_without_rfb", with_rfb=True)


@pytest.mark.parametrize("kind", ["AERZTLICH", "PSYCH"])
def test_appointment_examination_with_rfb(kind):
    """R-INV-5 / P1: a medical or psychological examination is always invited with RFB."""
    appointment = AppointmentFactory(kind=kind, with_rfb=True)

    assert_update_rejected(appointment, "appointment_examination_with_rfb", with_rfb=False)


@pytest.mark.parametrize("outcome", ["ATTENDED", "NOT_ATTENDED", "CANCELLED", "POSTPONED"])
def test_appointment_outcome_recorded(outcome):
    AppointmentFactory(outcome=outcome, outcome_recorded_at=timezone.now())
    appointment = AppointmentFactory()

    assert_update_rejected(appointment, "appointment_outcome_recorded", outcome=outcome)


# --- Escalation ladder (RULES.md 5.4, R-ESC-5, R-SAN-1) --------------------------------------------


def test_escalation_monitoring_has_reason():
    EscalationFactory(status="MONITORING", monitoring_reason="EXEMPT_TYPE")
    escalation = EscalationFactory(status="INTERVENTION_DONE")

    assert_update_rejected(escalation, "escalation_monitoring_has_reason", status="MONITORING")


def test_escalation_psych_needs_vermerk():
    """R-ESC-5: skipping the Aufforderung for psychological reasons needs a documented Vermerk."""
    escalation = EscalationFactory(
        status="MONITORING", monitoring_reason="PSYCH", psych_vermerk="Aufforderung derzeit nicht zielführend."
    )

    assert_update_rejected(escalation, "escalation_psych_needs_vermerk", psych_vermerk="")


@pytest.mark.parametrize("status", ["MINDERUNG_FESTGESTELLT", "ENDED", "AUFGEHOBEN"])
@pytest.mark.parametrize(
    "wrong",
    [{"minderung_percent": 15}, {"minderung_months": 4}, {"minderung_months": 0}, {"minderung_start": None}],
    ids=["percent-15", "months-4", "months-0", "no-start"],
)
def test_escalation_minderung_complete(status, wrong):
    """R-SAN-1 / P8: a festgestellte Minderung records 10/20/30 %, 1-3 months and its start."""
    escalation = EscalationFactory(status=status, minderung_percent=30, minderung_months=3, minderung_start=START)

    assert_update_rejected(escalation, "escalation_minderung_complete", **wrong)


@pytest.mark.parametrize("missing", ["minderung_percent", "minderung_months"])
def test_escalation_minderung_complete_refuses_missing_level(missing):
    escalation = EscalationFactory(
        status="MINDERUNG_FESTGESTELLT", minderung_percent=10, minderung_months=1, minderung_start=START
    )

    assert_update_rejected(escalation, "escalation_minderung_complete", **{missing: None})


def test_escalation_minderung_cap():
    """R-SAN-1: the cumulated Minderung is capped at 30 %."""
    escalation = EscalationFactory(status="DECISION_PENDING", minderung_percent=30)

    assert_update_rejected(escalation, "escalation_minderung_cap", minderung_percent=40)


def test_escalation_aufforderung_has_deadline():
    """D-09: an Aufforderung always names the deadline for the Mitwirkung."""
    escalation = EscalationFactory(status="AUFFORDERUNG_ISSUED", compliance_deadline=START)

    assert_update_rejected(escalation, "escalation_aufforderung_has_deadline", compliance_deadline=None)


# --- Team lead approvals (R-ABB-6) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "APPROVED"},
        {"status": "DECLINED", "decided_at": timezone.now()},
        {"decided_at": timezone.now()},
    ],
    ids=["approved-without-decision", "declined-without-decider", "open-with-decision"],
)
def test_tlapproval_decision_recorded(changes):
    approval = TeamLeadApprovalFactory()

    assert_update_rejected(approval, "tlapproval_decision_recorded", **changes)


def test_tlapproval_one_open_per_subject():
    teamleitung = UserFactory(tl=True)
    decided = TeamLeadApprovalFactory(status="DECLINED", decided_by=teamleitung, decided_at=timezone.now())
    TeamLeadApprovalFactory(case=decided.case)  # after a decision the subject may be put forward again

    assert_insert_rejected("tlapproval_one_open_per_subject", TeamLeadApprovalFactory, case=decided.case)


# --- Schlichtung (§ 15a SGB II, R-SCH-1..4, D-12) ---------------------------------------------------


@pytest.mark.parametrize("days", [0, 29, 60, -1])
def test_schlichtung_max_four_weeks(days):
    """L-07 / R-SCH-2: a Schlichtung ends at the latest 4 weeks (28 days) after it began."""
    SchlichtungFactory(started_on=START, ends_on=START + timedelta(days=1))
    schlichtung = SchlichtungFactory(started_on=START, ends_on=START + timedelta(days=28))

    assert_update_rejected(schlichtung, "schlichtung_max_four_weeks", ends_on=START + timedelta(days=days))


@pytest.mark.parametrize(
    "changes",
    [
        {"outcome": "AGREEMENT"},
        {"ended_on": START + timedelta(days=10)},
        {"outcome": "NO_AGREEMENT", "ended_on": START + timedelta(days=29)},
        {"outcome": "AGREEMENT", "ended_on": START - timedelta(days=1)},
    ],
    ids=["closed-without-date", "running-with-date", "ended-after-deadline", "ended-before-start"],
)
def test_schlichtung_end_recorded_in_time(changes):
    SchlichtungFactory(outcome="NO_AGREEMENT", started_on=START, ended_on=START + timedelta(days=28))
    schlichtung = SchlichtungFactory(started_on=START)

    assert_update_rejected(schlichtung, "schlichtung_end_recorded_in_time", **changes)


def test_schlichtung_one_running_per_case():
    earlier = SchlichtungFactory(outcome="AGREEMENT", started_on=START, ended_on=START + timedelta(days=5))
    SchlichtungFactory(case=earlier.case)

    assert_insert_rejected("schlichtung_one_running_per_case", SchlichtungFactory, case=earlier.case)


# --- Exemptions and Kennung KP (001 §8, R-EXC-1..5, P6) --------------------------------------------


@pytest.mark.parametrize(
    "changes", [{"kennung_kp": False}, {"kennung_reason": ""}], ids=["no-kennung", "kennung-without-reason"]
)
@pytest.mark.parametrize("trait", ["einstellungszusage", "paragraph_10", "profillage_i"])
def test_exemption_kennung_kp_required(trait, changes):
    """P6 / R-EXC-4: every exemption needs the Kennung KP with a reason."""
    exemption = ExemptionFactory(**({} if trait == "einstellungszusage" else {trait: True}))

    assert_update_rejected(exemption, "exemption_kennung_kp_required", **changes)


def test_exemption_ez_linked():
    exemption = ExemptionFactory()

    assert_update_rejected(exemption, "exemption_ez_linked", einstellungszusage=None)


def test_exemption_p10_linked():
    exemption = ExemptionFactory(paragraph_10=True)

    assert_update_rejected(exemption, "exemption_p10_linked", paragraph10_reason=None)


PROFILLAGE_CHECKLISTS = {
    "vollzeit": {"vollzeit_sv_beschaeftigt": True, "keine_verringerung_6_monate": True},
    "selbststaendig": {"selbststaendig": True, "keine_verringerung_6_monate": True},
    "ausgeschoepft": {"moeglichkeiten_ausgeschoepft": True, "keine_verringerung_6_monate": True},
}


@pytest.mark.parametrize(
    "wrong",
    [
        {"vollzeit_sv_beschaeftigt": False, "selbststaendig": False, "moeglichkeiten_ausgeschoepft": False},
        {"keine_verringerung_6_monate": False},
    ],
    ids=["no-employment-condition", "reduction-expected"],
)
@pytest.mark.parametrize("valid", PROFILLAGE_CHECKLISTS.values(), ids=PROFILLAGE_CHECKLISTS.keys())
def test_exemption_profillage_checklist(valid, wrong):
    """R-EXC-3: (full-time SV job OR self-employed OR to the limit) AND no reduction expected within 6 months."""
    exemption = ExemptionFactory(reason="PROFILLAGE_I", einstellungszusage=None, **valid)

    assert_update_rejected(exemption, "exemption_profillage_checklist", **wrong)


def test_exemption_recheck_after_record():
    exemption = ExemptionFactory(recorded_on=START, recheck_due=START)

    assert_update_rejected(exemption, "exemption_recheck_after_record", recheck_due=START - timedelta(days=1))


@pytest.mark.parametrize(
    "changes",
    [{"status": "LAPSED"}, {"status": "ENDED"}, {"ended_on": START}],
    ids=["lapsed-without-date", "ended-without-date", "active-with-end"],
)
def test_exemption_end_recorded(changes):
    ExemptionFactory(status="LAPSED", ended_on=START, recorded_on=START, recheck_due=START)
    exemption = ExemptionFactory(recorded_on=START, recheck_due=START)

    assert_update_rejected(exemption, "exemption_end_recorded", **changes)


def test_exemption_one_active_per_case():
    lapsed = ExemptionFactory(status="LAPSED", ended_on=START, recorded_on=START, recheck_due=START)
    ExemptionFactory(case=lapsed.case)

    assert_insert_rejected("exemption_one_active_per_case", ExemptionFactory, case=lapsed.case)


# --- Reminders and notifications (T12, section 7) ---------------------------------------------------


def test_reminder_unique_subject_kind_due():
    """T12: the nightly job creates each reminder (subject, kind, due date, reminder date) exactly once."""
    reminder = ReminderFactory()
    # Staged reminders for the same deadline (e.g. 28 and 7 days before, D-01) are distinct rows.
    ReminderFactory(case=reminder.case, remind_on=reminder.remind_on + timedelta(days=1))
    ReminderFactory(case=reminder.case, kind="PA_FAELLIG")

    assert_insert_rejected("reminder_unique_subject_kind_due", ReminderFactory, case=reminder.case)


@pytest.mark.parametrize(
    "changes",
    [{"status": "DONE"}, {"status": "OBSOLETE"}, {"done_at": timezone.now()}],
    ids=["done-without-time", "obsolete-without-time", "open-with-time"],
)
def test_reminder_done_recorded(changes):
    ReminderFactory(status="DONE", done_at=timezone.now())
    reminder = ReminderFactory()

    assert_update_rejected(reminder, "reminder_done_recorded", **changes)


def test_notification_once_per_reminder_and_user():
    notification = NotificationFactory()
    NotificationFactory(reminder=notification.reminder, user=CaseFactory().responsible)  # another user is fine

    assert_insert_rejected(
        "notification_once_per_reminder_and_user", NotificationFactory, reminder=notification.reminder
    )


# --- Stricter checks: whitespace is not content, choices are closed -------------------------------


def test_kp_activated_checklist_needs_a_beratungsvermerk():
    """R-EB-3: the handing out of the Info-Blatt is documented in a Beratungsvermerk."""
    plan = KooperationsplanFactory(active=True)

    assert_update_rejected(plan, "kp_activated_checklist", beratungsvermerk_ref="   ")


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_whitespace_is_not_a_kennung_reason_vermerk_or_meldezweck(blank):
    """P6, R-ESC-5, L-24: a reason, a Vermerk and a Meldezweck need visible text."""
    assert_update_rejected(ExemptionFactory(), "exemption_kennung_kp_required", kennung_reason=blank)
    escalation = EscalationFactory(status="MONITORING", monitoring_reason="PSYCH", psych_vermerk="Vermerk vorhanden.")
    assert_update_rejected(escalation, "escalation_psych_needs_vermerk", psych_vermerk=blank)
    assert_update_rejected(AppointmentFactory(), "appointment_meldezweck_required", meldezweck=blank)


def test_escalation_anhoerung_has_deadline():
    """D-10: an Anhörung always has its Äußerungsfrist."""
    escalation = EscalationFactory(status="ANHOERUNG", compliance_deadline=START, anhoerung_deadline=START)

    assert_update_rejected(escalation, "escalation_anhoerung_has_deadline", anhoerung_deadline=None)


def test_escalation_no_minderung_has_reason():
    """P8: why there is no Minderung (wichtiger Grund, Härte, Schlichtung, > 6 months) is recorded."""
    escalation = EscalationFactory(status="NO_MINDERUNG", no_minderung_reason="wichtiger Grund nachgewiesen")

    assert_update_rejected(escalation, "escalation_no_minderung_has_reason", no_minderung_reason=" ")


def test_escalation_p32_fixed_level():
    """R-SAN-1 / L-18: a § 32 Meldeversäumnis is always 10 % for one month."""
    escalation = EscalationFactory(
        status="MINDERUNG_FESTGESTELLT",
        legal_basis="P32",
        minderung_percent=10,
        minderung_months=1,
        minderung_start=START,
    )

    assert_update_rejected(escalation, "escalation_p32_fixed_level", minderung_percent=20, minderung_months=2)


@pytest.mark.parametrize(
    ("factory_class", "constraint", "field"),
    [
        (EscalationFactory, "escalation_legal_basis_valid", "legal_basis"),
        (EscalationFactory, "escalation_monitoring_reason_valid", "monitoring_reason"),
        (AppointmentFactory, "appointment_channel_valid", "channel"),
    ],
)
def test_closed_choices(factory_class, constraint, field):
    assert_update_rejected(factory_class(), constraint, **{field: "X"})


def test_assignment_via_valid():
    assignment = MassnahmeZuweisungFactory(status="REPORTED", via="SCHREIBEN")

    assert_update_rejected(assignment, "assignment_via_valid", via="FAX")


def test_exemption_end_after_record():
    exemption = ExemptionFactory()

    assert_update_rejected(
        exemption,
        "exemption_end_after_record",
        status="LAPSED",
        ended_on=exemption.recorded_on - timedelta(days=1),
    )


def test_a_nachweis_always_carries_the_case_of_its_plan():
    """The worklist reads a case's open Nachweise by their own case column; the database keeps it the case of the
    Eigenbemühung's plan, whatever is written (trigger nachweis_case_of_plan), on insert and on update."""
    effort = EigenbemuehungFactory()
    other = EigenbemuehungFactory()
    assert effort.plan.case_id != other.plan.case_id
    left_out = EigenbemuehungNachweisFactory(eigenbemuehung=effort, case=None)
    wrong = EigenbemuehungNachweisFactory(eigenbemuehung=effort, case=other.plan.case, period_start=date(2026, 1, 1))
    for nachweis in (left_out, wrong):
        nachweis.refresh_from_db()
        assert nachweis.case_id == effort.plan.case_id
    EigenbemuehungNachweis.objects.filter(pk=wrong.pk).update(case=other.plan.case)
    wrong.refresh_from_db()
    assert wrong.case_id == effort.plan.case_id
    EigenbemuehungNachweis.objects.filter(pk=wrong.pk).update(eigenbemuehung=other)
    wrong.refresh_from_db()
    assert wrong.case_id == other.plan.case_id
