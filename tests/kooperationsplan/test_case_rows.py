"""facts.CaseData reads a case's rows in one hand-written statement (cases/rows.py); every set must be what the
ORM query it replaced returns: the same rows in the same order, the same field values and types, the same
related rows, and nothing read again when the rules or the page follow a relation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Prefetch, Q
from django.http import Http404
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import AccessLog, Case, GesetzlicheVertretung, Potenzialanalyse
from cases.rows import instance, json_columns
from cases.selectors import case_get_for_view
from kooperationsplan.editor import editor_load, measure_catalogue, plan_load, plan_versions
from kooperationsplan.facts import CLOSED_ASSIGNMENT_STATUSES, OPEN_BESCHEID_STATUSES, CaseData, case_data_for_view
from kooperationsplan.models import (
    CURRENT_KP_STATUSES,
    Appointment,
    ContentItem,
    Eigenbemuehung,
    EigenbemuehungNachweis,
    Escalation,
    Exemption,
    Kooperationsplan,
    KPStatus,
    Massnahme,
    MassnahmeZuweisung,
    Schlichtung,
    Step,
    TeamLeadApproval,
)
from letters.models import Letter
from tests.factories import (
    AppointmentFactory,
    CaseFactory,
    ContentItemFactory,
    EigenbemuehungFactory,
    EigenbemuehungNachweisFactory,
    EscalationFactory,
    ExemptionFactory,
    GesetzlicheVertretungFactory,
    KooperationsplanFactory,
    MassnahmeArtFactory,
    MassnahmeFactory,
    MassnahmeZuweisungFactory,
    PotenzialanalyseFactory,
    SchlichtungFactory,
    StepFactory,
    TeamLeadApprovalFactory,
    UserFactory,
    today,
)

pytestmark = pytest.mark.django_db


def values(row) -> dict:
    """Every column of the row with its Python type (a date must not come back as a string or datetime)."""
    return {f.attname: (getattr(row, f.attname), type(getattr(row, f.attname))) for f in row._meta.concrete_fields}


def same_rows(ours, theirs) -> None:
    assert [values(row) for row in ours] == [values(row) for row in theirs]
    assert all(type(a) is type(b) and a._state.adding is False for a, b in zip(ours, theirs, strict=True))


@pytest.fixture
def case(ifk_nord):
    case = CaseFactory(responsible=ifk_nord, elb__birth_date=today() - timedelta(days=17 * 365))
    active = KooperationsplanFactory(case=case, active=True)
    draft = KooperationsplanFactory(case=case, predecessor=active)
    for plan in (active, draft):
        ContentItemFactory(plan=plan, kind="SOLL_1", text="Ich suche eine Stelle.")
        ContentItemFactory(plan=plan, position=2)
        ContentItemFactory(plan=plan, position=1)
        EigenbemuehungFactory(plan=plan, min_count=2)
    StepFactory.create_batch(3, plan=active)
    effort = EigenbemuehungFactory(plan=active)
    for months_ago, due_in, received in ((1, 9, None), (2, -2, None), (3, -30, today())):
        start = today() - timedelta(days=30 * months_ago)
        EigenbemuehungNachweisFactory(
            eigenbemuehung=effort,
            period_start=start,
            due_on=today() + timedelta(days=due_in),
            received_on=received,
            count_reported=4 if received else None,
        )
    open_one = MassnahmeZuweisungFactory(plan=active, via="SCHREIBEN", status="SCHREIBEN_ISSUED")
    MassnahmeZuweisungFactory(
        plan=active, via="BESCHEID", status="BESCHEID_ISSUED", valid_to=today() + timedelta(days=120)
    )
    MassnahmeZuweisungFactory(plan=active, via="SCHREIBEN", status="CANCELLED")
    EscalationFactory(case=case, plan=active, breach_date=today() - timedelta(days=20))
    EscalationFactory(
        case=case,
        plan=active,
        massnahme_art=MassnahmeArtFactory(exempt=True),
        assignment=open_one,
        compliance_deadline=today() + timedelta(days=5),
        status="AUFFORDERUNG_ISSUED",
    )
    ExemptionFactory(case=case)
    SchlichtungFactory(
        case=case,
        started_on=today() - timedelta(days=90),
        outcome="NO_AGREEMENT",
        ended_on=today() - timedelta(days=70),
    )
    SchlichtungFactory(case=case)
    PotenzialanalyseFactory(case=case, complete=True)
    GesetzlicheVertretungFactory(elb=case.elb)
    AppointmentFactory(case=case, kind="ERST")
    last_week = timezone.now() - timedelta(days=7)
    AppointmentFactory(case=case, kind="FOLGE", starts_at=last_week)
    AppointmentFactory(case=case, kind="BI", starts_at=last_week)
    AppointmentFactory(case=case, starts_at=last_week, outcome="ATTENDED", outcome_recorded_at=timezone.now())
    TeamLeadApprovalFactory(case=case, kind="PSYCH_SKIP")
    TeamLeadApprovalFactory(case=case)
    TeamLeadApprovalFactory(
        case=case, kind="REVIEW_OVERDUE", status="APPROVED", decided_by=ifk_nord, decided_at=timezone.now()
    )
    return Case.objects.select_related("elb", "team").get(pk=case.pk)


def test_every_set_is_what_the_orm_reads(case):
    data = CaseData(case)
    with CaptureQueriesContext(connection) as reading:
        plans = data.plans
        escalations = data.escalations
        assignments = data.open_assignments
        exemption = data.active_exemption
        schlichtungen = data.schlichtungen
        nachweise = data.open_nachweise
        summary = data.summary
        appointments = data.pending_appointments
        approvals = data.open_approvals
        # What the rules and the page follow from these rows is loaded with them.
        related = [
            [list(plan.content_items.all()) for plan in plans],
            [list(plan.eigenbemuehungen.all()) for plan in plans],
            [(row.massnahme_art, row.assignment) for row in escalations],
            [(row.massnahme, row.massnahme.art) for row in assignments],
            (exemption.einstellungszusage, exemption.paragraph10_reason),
        ]
    assert len(reading.captured_queries) == 1
    assert len(related[0]) == 2

    orm_plans = list(Kooperationsplan.objects.filter(case=case, status__in=[*CURRENT_KP_STATUSES, KPStatus.DRAFT]))
    same_rows(plans, orm_plans)
    assert [plan.status for plan in plans] == [KPStatus.DRAFT, KPStatus.ACTIVE]
    for plan in plans:
        assert plan.step_count == plan.steps.count()
        same_rows(plan.content_items.all(), ContentItem.objects.filter(plan_id=plan.pk))
        same_rows(plan.eigenbemuehungen.all(), Eigenbemuehung.objects.filter(plan_id=plan.pk).order_by("pk"))
    assert plans[1].step_count == 3

    orm_escalations = list(Escalation.objects.filter(case=case).select_related("massnahme_art", "assignment"))
    same_rows(escalations, orm_escalations)
    for ours, theirs in zip(escalations, orm_escalations, strict=True):
        assert (ours.massnahme_art is None) == (theirs.massnahme_art is None)
        if theirs.massnahme_art:
            same_rows([ours.massnahme_art], [theirs.massnahme_art])
        assert (ours.assignment is None) == (theirs.assignment is None)
        if theirs.assignment:
            same_rows([ours.assignment], [theirs.assignment])
    assert escalations[1].massnahme_art is None
    assert escalations[0].massnahme_art.exempt_from_rfb

    orm_assignments = list(
        MassnahmeZuweisung.objects.filter(case=case)
        .exclude(status__in=CLOSED_ASSIGNMENT_STATUSES)
        .select_related("massnahme__art")
        .order_by("pk")
    )
    same_rows(assignments, orm_assignments)
    same_rows([a.massnahme for a in assignments], [a.massnahme for a in orm_assignments])
    same_rows([a.massnahme.art for a in assignments], [a.massnahme.art for a in orm_assignments])
    assert len(assignments) == 2

    orm_exemption = (
        Exemption.objects.filter(case=case, status=Exemption.Status.ACTIVE)
        .select_related("einstellungszusage", "paragraph10_reason")
        .first()
    )
    same_rows([exemption], [orm_exemption])
    same_rows([exemption.einstellungszusage], [orm_exemption.einstellungszusage])
    assert exemption.paragraph10_reason is None

    same_rows(schlichtungen, Schlichtung.objects.filter(case=case).order_by("-started_on", "-pk"))
    assert len(schlichtungen) == 2
    same_rows(
        nachweise,
        EigenbemuehungNachweis.objects.filter(eigenbemuehung__plan__case=case, received_on__isnull=True).order_by(
            "due_on", "pk"
        ),
    )
    assert len(nachweise) == 2

    same_rows(
        appointments,
        Appointment.objects.filter(case=case, outcome="PENDING").exclude(kind="BI").order_by("starts_at", "pk"),
    )
    assert [row.kind for row in appointments] == ["FOLGE", "ERST"]
    same_rows(approvals, TeamLeadApproval.objects.filter(case=case, status="OPEN").order_by("requested_at", "pk"))
    assert [row.kind for row in approvals] == ["PSYCH_SKIP", "SCHLICHTUNG"]

    first_invitation = Exists(Letter.objects.filter(case=OuterRef("pk"), kind="EINL_KP_ERST")) | Exists(
        Appointment.objects.filter(case=OuterRef("pk"), kind="ERST")
    )
    orm_summary = (
        Case.objects.filter(pk=case.pk)
        .annotate(
            pa_complete=Exists(
                Potenzialanalyse.objects.filter(case=OuterRef("pk"), status=Potenzialanalyse.Status.COMPLETE)
            ),
            vertretungen=Count("elb__vertretungen", filter=Q(elb__vertretungen__valid_to__isnull=True), distinct=True),
            first_invitation_sent=ExpressionWrapper(first_invitation, output_field=BooleanField()),
            open_bescheide=Count(
                "assignments",
                filter=Q(assignments__via="BESCHEID", assignments__status__in=OPEN_BESCHEID_STATUSES),
                distinct=True,
            ),
            followup_invitation_rfb=F("team__jobcenter__followup_invitation_rfb"),
            bundesland=F("team__jobcenter__bundesland"),
        )
        .values(*summary)
        .get()
    )
    assert summary == orm_summary
    assert summary["pa_complete"] is True
    assert (summary["vertretungen"], summary["open_bescheide"], summary["first_invitation_sent"]) == (1, 1, True)


def test_an_empty_case_has_empty_sets_and_false_flags(ifk_nord):
    case = CaseFactory(responsible=ifk_nord)
    data = CaseData(case)
    assert (data.pending_appointments, data.open_approvals) == ([], [])
    assert (data.plans, data.escalations, data.open_assignments, data.schlichtungen, data.open_nachweise) == (
        [],
        [],
        [],
        [],
        [],
    )
    assert data.active_exemption is None
    assert data.current_plan is None
    assert data.draft is None
    assert data.summary["pa_complete"] is False
    assert data.summary["first_invitation_sent"] is False
    assert (data.summary["vertretungen"], data.summary["open_bescheide"]) == (0, 0)
    assert GesetzlicheVertretung.objects.count() == 0


def test_a_case_deleted_meanwhile_is_not_found(ifk_nord):
    case = CaseFactory(responsible=ifk_nord)
    data = CaseData(Case(pk=case.pk + 1000))
    with pytest.raises(Case.DoesNotExist):
        data.summary  # noqa: B018


def test_json_row_round_trip_keeps_every_value_and_type(case):
    """cases/rows.py: a row read as JSON columns is the instance the ORM reads, for every model CaseData uses."""
    for model in (Kooperationsplan, Escalation, MassnahmeZuweisung, Exemption, Appointment):
        row = model.objects.filter(case=case).order_by("pk").first()
        with connection.cursor() as cursor:
            table = model._meta.db_table
            cursor.execute(f'SELECT {json_columns(model, "r")} FROM "{table}" r WHERE r.id = %s', [row.pk])  # noqa: S608
            ours = instance(model, cursor.fetchone()[0])
        same_rows([ours], [row])
    assert timezone.is_aware(instance(Kooperationsplan, _json_of(case.plans.get(status="ACTIVE"))).activated_at)


def _json_of(row) -> list:
    with connection.cursor() as cursor:
        table = row._meta.db_table
        cursor.execute(f'SELECT {json_columns(type(row), "r")} FROM "{table}" r WHERE r.id = %s', [row.pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_a_field_type_json_cannot_carry_is_refused_not_misread():
    with pytest.raises(TypeError, match="Feldtyp JSONField"):
        instance(Letter, [1] * len(Letter._meta.concrete_fields))


def test_the_editors_plan_versions_and_catalogue_are_what_the_orm_reads(case):
    """kooperationsplan.editor reads the plan with its rows, the version list and the measure catalogue in
    hand-written statements; they must be what the ORM queries they replaced return."""
    inactive = MassnahmeFactory(active=False, title="Alte Maßnahme")
    MassnahmeFactory(active=False, title="Nie genutzt")
    active = case.plans.get(status="ACTIVE")
    MassnahmeZuweisungFactory(plan=active, via="SCHREIBEN", status="CANCELLED", massnahme=inactive)
    for plan in case.plans.all():
        with CaptureQueriesContext(connection) as reading:
            ours = plan_load(case, plan.pk)
            related = (
                list(ours.content_items.all()),
                list(ours.steps.all()),
                list(ours.eigenbemuehungen.all()),
                [(row, row.massnahme) for row in ours.assignments.all()],
            )
        assert len(reading.captured_queries) == 1
        theirs = Kooperationsplan.objects.prefetch_related(
            Prefetch("content_items", queryset=ContentItem.objects.order_by("kind", "position", "pk")),
            Prefetch("steps", queryset=Step.objects.order_by("position", "pk")),
            Prefetch("eigenbemuehungen", queryset=Eigenbemuehung.objects.order_by("pk")),
            Prefetch("assignments", queryset=MassnahmeZuweisung.objects.select_related("massnahme").order_by("pk")),
        ).get(pk=plan.pk)
        same_rows([ours], [theirs])
        for name in ("content_items", "steps", "eigenbemuehungen", "assignments"):
            same_rows(getattr(ours, name).all(), getattr(theirs, name).all())
        same_rows(
            [row.massnahme for row in ours.assignments.all()], [row.massnahme for row in theirs.assignments.all()]
        )
        assert related[0]
    assert len(plan_load(case, active.pk).steps.all()) == 3
    with pytest.raises(Http404):
        plan_load(CaseFactory(), active.pk)  # another case's plan is not found

    same_rows(plan_versions(case), Kooperationsplan.objects.filter(case=case).order_by("-version_number"))
    used = MassnahmeZuweisung.objects.filter(plan=active).values("massnahme_id")
    expected = (
        Massnahme.objects.filter(Q(active=True) | Q(pk__in=used))
        .order_by("title", "pk")
        .values_list("pk", "title", "traeger_name", "art__name", "duration_weeks")
    )
    catalogue = measure_catalogue(active)
    assert [(e.pk, e.title, e.traeger, e.art, e.duration_weeks) for e in catalogue.values()] == list(expected)
    assert inactive.pk in catalogue


def view_request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_the_editor_page_reads_in_one_statement_what_the_separate_statements_read(case):
    """editor_load (the editor's GET) reads the case with its access-log row, the plan, the versions, the
    catalogue and the case's rows in one statement: each the same as case_get_for_view, plan_load, plan_versions,
    measure_catalogue and CaseData read on their own."""
    inactive = MassnahmeFactory(active=False, title="Alte Maßnahme")
    active = case.plans.get(status="ACTIVE")
    MassnahmeZuweisungFactory(plan=active, via="SCHREIBEN", status="CANCELLED", massnahme=inactive)
    request = view_request(case.responsible)
    for plan in case.plans.all():
        logged = AccessLog.objects.count()
        with CaptureQueriesContext(connection) as reading:
            loaded = editor_load(request, case.pk, plan.pk)
            facts = loaded.data.facts
        assert len(reading.captured_queries) == 1
        assert AccessLog.objects.count() == logged + 1
        same_rows([loaded.case], [case_get_for_view(request, case.pk)])
        assert (loaded.case.elb, loaded.case.team, loaded.case.responsible) == (case.elb, case.team, case.responsible)
        separate = plan_load(case, plan.pk)
        same_rows([loaded.plan], [separate])
        for name in ("content_items", "steps", "eigenbemuehungen", "assignments"):
            same_rows(getattr(loaded.plan, name).all(), getattr(separate, name).all())
        same_rows(
            [row.massnahme for row in loaded.plan.assignments.all()],
            [row.massnahme for row in separate.assignments.all()],
        )
        same_rows(loaded.versions, plan_versions(case))
        assert loaded.catalogue == measure_catalogue(plan)
        alone = CaseData(case)
        assert loaded.data._rows == alone._rows
        assert facts == alone.facts
    assert any(entry.title == "Alte Maßnahme" for entry in editor_load(request, case.pk, active.pk).catalogue.values())
    other = CaseFactory(responsible=case.responsible)
    with pytest.raises(Http404):
        editor_load(request, other.pk, active.pk)  # another case's plan is not found
    stranger = view_request(UserFactory())  # another team: the case does not exist for them
    with pytest.raises(Http404):
        editor_load(stranger, case.pk, active.pk)
    assert AccessLog.objects.filter(user=stranger.user, outcome=AccessLog.Outcome.DENIED).count() == 1


def test_a_case_page_reads_the_case_and_its_rows_in_one_statement(case):
    """case_data_for_view (every case tab): the case as case_get_for_view reads it and its rows as CaseData does,
    in one statement; nothing of the case for a user of another team."""
    request = view_request(case.responsible)
    with CaptureQueriesContext(connection) as reading:
        data = case_data_for_view(request, case.pk)
        facts = data.facts
    assert len(reading.captured_queries) == 1
    same_rows([data.case], [case_get_for_view(request, case.pk)])
    alone = CaseData(case)
    assert data._rows == alone._rows
    assert facts == alone.facts
    with pytest.raises(Http404):
        case_data_for_view(view_request(UserFactory()), case.pk)
