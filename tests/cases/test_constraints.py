"""Database constraints of the cases app: each one refuses bad data in PostgreSQL, bypassing Django validation."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import pytest

from cases.models import Elb, Potenzialanalyse
from tests.factories import (
    AccessLogFactory,
    BedarfsgemeinschaftFactory,
    CaseFactory,
    EinstellungszusageFactory,
    ElbFactory,
    GesetzlicheVertretungFactory,
    HealthInformationFactory,
    JobcenterFactory,
    Paragraph10ReasonFactory,
    PotenzialanalyseFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
    assert_insert_rejected,
    assert_update_rejected,
    unique_constraint_on,
)

pytestmark = pytest.mark.django_db


# Simple value checks: a valid row is saved, then one field is set to a value the constraint refuses.
VALUE_CHECKS = [
    (JobcenterFactory, "jobcenter_postal_code_format", {"postal_code": "1234"}),
    (JobcenterFactory, "jobcenter_postal_code_format", {"postal_code": "1234a"}),
    (JobcenterFactory, "jobcenter_anhoerung_days_positive", {"anhoerung_days": 0}),
    (UserFactory, "user_role_valid", {"role": "XX"}),
    (BedarfsgemeinschaftFactory, "bg_nummer_format", {"bg_nummer": "12345XX1234567"}),
    (BedarfsgemeinschaftFactory, "bg_nummer_format", {"bg_nummer": "1234BG1234567"}),
    (ElbFactory, "elb_kundennummer_format", {"kundennummer": "1234567890"}),
    (ElbFactory, "elb_kundennummer_format", {"kundennummer": "123a456789"}),
    (ElbFactory, "elb_kundennummer_format", {"kundennummer": "123A45678"}),
    (ElbFactory, "elb_postal_code_format", {"postal_code": "123"}),
    (ElbFactory, "elb_birth_date_plausible", {"birth_date": date(1899, 12, 31)}),
    (ElbFactory, "elb_last_name_required", {"last_name": ""}),
    (GesetzlicheVertretungFactory, "gv_relation_valid", {"relation": "ONKEL"}),
    (GesetzlicheVertretungFactory, "gv_postal_code_format", {"postal_code": "ABCDE"}),
    (CaseFactory, "case_mode_valid", {"cooperation_mode": "SANKTION"}),
    (CaseFactory, "case_profillage_valid", {"profillage": 7}),
    (CaseFactory, "case_profillage_valid", {"profillage": 0}),
    (HealthInformationFactory, "health_reha_status_valid", {"reha_status": "UNKNOWN"}),
    (Paragraph10ReasonFactory, "p10_kind_valid", {"kind": "URLAUB"}),
    # A complete PA, so that only the status value itself is wrong.
    (partial(PotenzialanalyseFactory, complete=True), "pa_status_valid", {"status": "DONE"}),
]


@pytest.mark.parametrize(
    ("model_factory", "constraint", "changes"),
    VALUE_CHECKS,
    ids=[f"{constraint}-{next(iter(changes.values()))}" for _, constraint, changes in VALUE_CHECKS],
)
def test_invalid_value_is_rejected_by_the_database(model_factory, constraint, changes):
    assert_update_rejected(model_factory(), constraint, **changes)


def test_team_unique_name_per_jobcenter():
    team = TeamFactory(name="Team U25")
    TeamFactory(name="Team U25")  # same name in another Jobcenter is fine

    assert_insert_rejected("team_unique_name_per_jobcenter", TeamFactory, jobcenter=team.jobcenter, name="Team U25")


@pytest.mark.parametrize("role", ["IFK", "TL"])
def test_user_ifk_and_tl_have_team(role):
    UserFactory(fa=True)  # Fachadministration works without a team

    assert_update_rejected(UserFactory(role=role), "user_ifk_and_tl_have_team", team=None)


def test_unique_kundennummer():
    elb = ElbFactory()

    name = unique_constraint_on(Elb, "kundennummer")
    assert_insert_rejected(name, ElbFactory, kundennummer=elb.kundennummer)


def test_unique_bg_nummer():
    bg = BedarfsgemeinschaftFactory()

    name = unique_constraint_on(type(bg), "bg_nummer")
    assert_insert_rejected(name, BedarfsgemeinschaftFactory, bg_nummer=bg.bg_nummer)


def test_gv_period_ordered():
    gv = GesetzlicheVertretungFactory(valid_from=date(2025, 1, 1), valid_to=date(2025, 1, 1))

    assert_update_rejected(gv, "gv_period_ordered", valid_to=date(2024, 12, 31))


def test_case_one_open_case_per_elb():
    closed = CaseFactory(closed_on=date.today())
    open_case = CaseFactory(elb=closed.elb)  # a closed earlier case does not block a new one

    assert_insert_rejected("case_one_open_case_per_elb", CaseFactory, elb=open_case.elb)
    assert_update_rejected(closed, "case_one_open_case_per_elb", closed_on=None)


def test_case_closed_after_start():
    case = CaseFactory(leistungsbeginn=date(2025, 3, 1), closed_on=date(2025, 3, 1))

    assert_update_rejected(case, "case_closed_after_start", closed_on=date(2025, 2, 28))


def test_one_potenzialanalyse_per_case():
    pa = PotenzialanalyseFactory()

    name = unique_constraint_on(Potenzialanalyse, "case_id")
    assert_insert_rejected(name, PotenzialanalyseFactory, case=pa.case)


def test_health_limitations_need_consent():
    health = HealthInformationFactory(limitations="Kann nicht schwer heben.", consent_recorded_on=date(2025, 5, 2))

    assert_update_rejected(health, "health_limitations_need_consent", consent_recorded_on=None)


@pytest.mark.parametrize(
    ("constraint", "changes"),
    [
        ("p10_end_after_start", {"expected_end": date(2025, 5, 31)}),
        ("p10_checked_after_start", {"last_checked_on": date(2025, 5, 31)}),
    ],
)
def test_paragraph10_dates_ordered(constraint, changes):
    reason = Paragraph10ReasonFactory(
        since=date(2025, 6, 1), expected_end=date(2025, 6, 1), last_checked_on=date(2025, 6, 1)
    )

    assert_update_rejected(reason, constraint, **changes)


def test_einstellungszusage_start_not_before_record():
    zusage = EinstellungszusageFactory(recorded_on=date(2025, 6, 2), start_date=date(2025, 6, 2))

    assert_update_rejected(zusage, "ez_start_not_before_record", start_date=date(2025, 6, 1))


@pytest.mark.parametrize(
    "missing",
    [
        {"completed_at": None},
        {"completed_by": None},
        {"health_reha_assessed": False},
        {"strengths": ""},
        {"handlungsbedarfe": ""},
        {"obstacles": ""},
    ],
    ids=lambda missing: next(iter(missing)),
)
def test_pa_complete_has_all_parts(missing):
    """R-PA-1: a complete PA records strengths, support needs and obstacles incl. health/Reha."""
    pa = PotenzialanalyseFactory(complete=True)

    assert_update_rejected(pa, "pa_complete_has_all_parts", **missing)


def test_pa_cannot_be_completed_empty():
    pa = PotenzialanalyseFactory()  # in progress, nothing filled in yet: allowed

    assert_update_rejected(pa, "pa_complete_has_all_parts", status="COMPLETE")


@pytest.mark.parametrize(
    "code", ["kooperationsplan", "Kooperationsplan.Activated", "kooperationsplan.", "plan activated"]
)
def test_timeline_code_dotted(code):
    TimelineEventFactory(code="kooperationsplan.activated")

    assert_insert_rejected("timeline_code_dotted", TimelineEventFactory, code=code)


@pytest.mark.parametrize(
    ("constraint", "field"), [("timeline_has_reason", "reason_codes"), ("timeline_has_source", "sources")]
)
def test_timeline_needs_reason_and_source(constraint, field):
    TimelineEventFactory()

    assert_insert_rejected(constraint, TimelineEventFactory, **{field: []})


def test_accesslog_outcome_valid():
    AccessLogFactory(outcome="denied")

    assert_insert_rejected("accesslog_outcome_valid", AccessLogFactory, outcome="unknown")


def test_p10_end_not_before_start():
    reason = Paragraph10ReasonFactory()

    assert_update_rejected(reason, "p10_end_not_before_start", ended_on=reason.since - timedelta(days=1))


@pytest.mark.parametrize(
    ("factory_class", "constraint"),
    [(ElbFactory, "elb_salutation_valid"), (GesetzlicheVertretungFactory, "gv_salutation_valid")],
)
def test_salutation_is_a_closed_choice(factory_class, constraint):
    assert_update_rejected(factory_class(), constraint, salutation="DR")
