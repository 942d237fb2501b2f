"""`manage.py seed_demo`: idempotent, synthetic, and covering every situation the demo needs to show."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from cases.models import (
    BG_NUMMER_PATTERN,
    KUNDENNUMMER_PATTERN,
    POSTAL_CODE_PATTERN,
    Case,
    CooperationMode,
    Elb,
    Role,
    User,
)
from kooperationsplan.demo import DEMO_PASSWORD
from kooperationsplan.models import (
    Appointment,
    AssignmentStatus,
    AssignmentVia,
    BreachKind,
    Escalation,
    EscalationStatus,
    Exemption,
    ExemptionReason,
    Kooperationsplan,
    KPStatus,
    MassnahmeZuweisung,
    Schlichtung,
    SchlichtungOutcome,
)
from letters.models import Letter
from rules.dates import add_months

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=BERLIN)
TODAY = NOW.date()

EXPECTED_LOGINS = {
    "ifk.nord1": (Role.IFK, "Team Nord"),
    "ifk.nord2": (Role.IFK, "Team Nord"),
    "ifk.sued1": (Role.IFK, "Team Süd"),
    "ifk.sued2": (Role.IFK, "Team Süd"),
    "tl.nord": (Role.TEAMLEITUNG, "Team Nord"),
    "tl.sued": (Role.TEAMLEITUNG, "Team Süd"),
    "admin": (Role.FACHADMIN, None),
}


@pytest.fixture
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def database_snapshot() -> tuple[dict[str, int], str]:
    """Row counts of every model of our apps (history tables included) and a checksum of key values."""
    counts = {
        model._meta.label: model._default_manager.count()
        for app in ("cases", "letters", "kooperationsplan")
        for model in apps.get_app_config(app).get_models()
    }
    parts = [
        *Elb.objects.order_by("kundennummer").values_list("kundennummer", "last_name", "birth_date"),
        *Kooperationsplan.objects.order_by("case__elb__kundennummer", "version_number").values_list(
            "case__elb__kundennummer", "version_number", "status", "review_due"
        ),
        *Case.objects.order_by("elb__kundennummer").values_list("elb__kundennummer", "cooperation_mode", "team__name"),
        *User.objects.order_by("username").values_list("username", "password", "role"),
    ]
    checksum = hashlib.sha256(repr(parts).encode()).hexdigest()
    return counts, checksum


@pytest.mark.django_db
def test_second_run_changes_nothing(frozen_time):
    first_output = seed()
    once = database_snapshot()
    second_output = seed()
    twice = database_snapshot()

    assert once == twice
    assert once[0]["cases.Case"] == 60
    assert once[0]["cases.Jobcenter"] == 1
    assert "Demodaten angelegt" in first_output
    assert "Demodaten sind bereits vorhanden." in second_output
    for output in (first_output, second_output):
        assert "http://127.0.0.1:8000/" in output
        assert "WARNUNG" in output
        for username in EXPECTED_LOGINS:
            assert re.search(rf"^{re.escape(username)}\s+.*\s{DEMO_PASSWORD}$", output, re.MULTILINE)


@pytest.mark.django_db
def test_second_run_resets_a_changed_demo_password(frozen_time):
    seed()
    user = User.objects.get(username="ifk.nord1")
    user.set_password("etwas-anderes-123")
    user.save()

    output = seed()

    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)
    assert "Passwort zurückgesetzt für: ifk.nord1" in output


@pytest.mark.django_db
def test_every_cooperation_mode_occurs_in_both_teams(frozen_time):
    seed()
    for team in ("Team Nord", "Team Süd"):
        modes = set(
            Case.objects.filter(team__name=team, closed_on__isnull=True).values_list("cooperation_mode", flat=True)
        )
        assert modes == set(CooperationMode.values), team
    assert Case.objects.filter(closed_on__isnull=True).values("elb").distinct().count() == 60


@pytest.mark.django_db
def test_identifiers_and_contact_data_are_synthetic(frozen_time):
    seed()
    for elb in Elb.objects.select_related("bedarfsgemeinschaft"):
        assert re.fullmatch(KUNDENNUMMER_PATTERN, elb.kundennummer)
        assert re.fullmatch(BG_NUMMER_PATTERN, elb.bedarfsgemeinschaft.bg_nummer)
        assert re.fullmatch(POSTAL_CODE_PATTERN, elb.postal_code)
        assert elb.email == "" or elb.email.endswith("@example.org")
    assert all(user.email.endswith(".invalid") for user in User.objects.all())
    sizes = [bg.members.count() for bg in apps.get_model("cases", "Bedarfsgemeinschaft").objects.all()]
    assert max(sizes) == 2
    assert sizes.count(2) >= 3


@pytest.mark.django_db
def test_minors_have_a_gesetzliche_vertretung(frozen_time):
    seed()
    minors = [elb for elb in Elb.objects.all() if elb.is_minor_on(TODAY)]
    assert len(minors) >= 4
    for minor in minors:
        assert 16 <= minor.age_on(TODAY) <= 17
        assert 1 <= minor.vertretungen.count() <= 2
        assert {v.relation for v in minor.vertretungen.all()} <= {"MUTTER", "VATER"}
    assert any(minor.cases.get().cooperation_mode == CooperationMode.COOP_WITH_RFB for minor in minors)


@pytest.mark.django_db
def test_plans_are_overdue_due_soon_and_later(frozen_time):
    seed()
    active = Kooperationsplan.objects.filter(status=KPStatus.ACTIVE)
    assert active.filter(review_due__lt=TODAY).count() >= 3
    assert active.filter(review_due__gte=TODAY, review_due__lte=TODAY + timedelta(days=28)).count() >= 3
    assert active.filter(review_due__gt=TODAY + timedelta(days=28)).count() >= 3
    for plan in active:
        # R-KP-4: review at the latest six months after the start; R-PA-1: complete Potenzialanalyse.
        assert plan.valid_to == add_months(plan.valid_from, 6) == plan.review_due
        assert plan.case.potenzialanalyse.status == "COMPLETE"
        kinds = {item.kind: item for item in plan.content_items.all()}
        assert {"SOLL_1", "SOLL_2", "SOLL_3", "SOLL_4", "SOLL_5", "SOLL_6"} <= set(kinds)
        assert all(kinds[kind].text.startswith("Ich ") for kind in ("SOLL_1", "SOLL_2"))
        assert 2 <= plan.steps.count() <= 4
        assert 1 <= plan.eigenbemuehungen.count() <= 2
    superseded = Kooperationsplan.objects.filter(status=KPStatus.SUPERSEDED)
    assert superseded.exists()
    assert all(plan.successor.status == KPStatus.ACTIVE for plan in superseded)


@pytest.mark.django_db
def test_abort_schlichtung_and_exemptions_exist(frozen_time):
    seed()
    aborted = Escalation.objects.filter(
        breach_kind=BreachKind.MASSNAHME_ABBRUCH,
        status=EscalationStatus.INTERVENTION_INVITED,
        assignment__status=AssignmentStatus.CLARIFICATION,
        assignment__via=AssignmentVia.SCHREIBEN,
        assignment__aborted_on__isnull=False,
        assignment__started_on__isnull=False,
    )
    assert aborted.exists()
    assert Appointment.objects.filter(escalation__in=aborted, kind="BI", with_rfb=False).exists()

    running = Schlichtung.objects.filter(outcome=SchlichtungOutcome.RUNNING)
    assert running.exists()
    for schlichtung in running:
        assert schlichtung.case.cooperation_mode == CooperationMode.SCHLICHTUNG_PENDING
        assert TODAY - timedelta(days=21) <= schlichtung.started_on < TODAY
        assert schlichtung.ends_on == schlichtung.started_on + timedelta(days=28)
        assert schlichtung.plan.status in (KPStatus.DISPUTED, KPStatus.DRAFT)

    exemptions = Exemption.objects.filter(status="ACTIVE")
    assert set(exemptions.values_list("reason", flat=True)) == set(ExemptionReason.values)
    for exemption in exemptions:
        assert exemption.case.cooperation_mode == CooperationMode.EXEMPT
        assert exemption.kennung_kp
        assert len(exemption.kennung_reason) > 40
        assert exemption.recheck_due >= TODAY
    for zusage in Exemption.objects.filter(reason=ExemptionReason.EINSTELLUNGSZUSAGE):
        assert TODAY < zusage.einstellungszusage.start_date <= TODAY + timedelta(days=56)
    with_rfb = Escalation.objects.filter(case__cooperation_mode=CooperationMode.COOP_WITH_RFB)
    assert with_rfb.filter(status=EscalationStatus.AUFFORDERUNG_ISSUED, compliance_deadline__isnull=False).exists()
    assert with_rfb.filter(status=EscalationStatus.RESOLVED).exists()


@pytest.mark.django_db
def test_demo_logins_authenticate_with_their_role_and_team(frozen_time):
    seed()
    request = RequestFactory().post("/anmelden/")
    for username, (role, team) in EXPECTED_LOGINS.items():
        user = authenticate(request, username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert user.role == role
        assert (user.team.name if user.team else None) == team
        assert user.first_name
        assert user.last_name
    admin = User.objects.get(username="admin")
    assert admin.is_staff
    assert admin.is_superuser


@pytest.mark.django_db
def test_responsible_ifk_belongs_to_the_case_team(frozen_time):
    seed()
    cases = Case.objects.select_related("responsible", "team")
    for case in cases:
        assert case.responsible.role == Role.IFK
        assert case.responsible.team_id == case.team_id
    ifk_with_cases = set(cases.values_list("responsible__username", flat=True))
    assert ifk_with_cases == {"ifk.nord1", "ifk.nord2", "ifk.sued1", "ifk.sued2"}


@pytest.mark.django_db
def test_the_demo_history_has_its_letters_in_the_outbox(frozen_time):
    """Every invitation, KP document, Zuweisung and Aufforderung of the demo history is a frozen letter; without
    --pdf they wait in the outbox (rendered by a worker or `seed_demo --pdf`)."""
    seed()
    kinds = set(Letter.objects.values_list("kind", flat=True))
    assert {"EINL_KP_ERST", "EINL_RFB", "EINL_BI", "KP_DOKUMENT", "AUFF_15_5", "ZUW_BESCHEID"} <= kinds
    assert set(Letter.objects.values_list("status", flat=True)) == {"ISSUED"}
    assert not Appointment.objects.filter(letter__isnull=True).exists()
    assert not MassnahmeZuweisung.objects.exclude(via=None).filter(letter__isnull=True).exists()
    # The catalogue holds: a KP document never carries an RFB, an Aufforderung always does (R-KP-2, R-LET-1).
    assert not Letter.objects.filter(kind="KP_DOKUMENT", with_rfb=True).exists()
    assert not Letter.objects.filter(kind="AUFF_15_5", with_rfb=False).exists()
    # With the first talk's invitation on record, no case is offered a "first" invitation again (R-INV-1).
    first = Letter.objects.filter(kind="EINL_KP_ERST").values_list("case_id", flat=True)
    assert len(first) == len(set(first))


@pytest.mark.django_db
def test_seed_demo_pdf_renders_the_waiting_letters(frozen_time):
    out = StringIO()
    call_command("seed_demo", "--pdf", stdout=out)
    assert set(Letter.objects.values_list("status", flat=True)) == {"RENDERED"}
    assert f"Schreiben als PDF erzeugt: {Letter.objects.count()} von {Letter.objects.count()}." in out.getvalue()
