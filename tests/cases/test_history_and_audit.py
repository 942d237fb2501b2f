"""History of Sozialdaten and the audit tables: recorded and protected by PostgreSQL triggers, not by the ORM.

- django-pghistory records every change, also `.update()` and raw SQL, which bypass model `save()`.
- Its event tables are append-only (`track_history(append_only=True)`).
- AccessLog (T1, T2), TimelineEvent and ArchiveEntry (R-ARC-1) refuse UPDATE and DELETE
  through pgtrigger `Protect` triggers.
"""

from __future__ import annotations

import pghistory.models
import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from cases.models import AccessLog, Case, Elb, TimelineEvent
from letters.models import ArchiveEntry
from tests import factories
from tests.factories import ElbFactory

pytestmark = pytest.mark.django_db

# One factory per model tracked by pghistory, to produce a history row for each event table.
TRACKED_FACTORIES = {
    "cases.Elb": factories.ElbFactory,
    "cases.GesetzlicheVertretung": factories.GesetzlicheVertretungFactory,
    "cases.Case": factories.CaseFactory,
    "cases.HealthInformation": factories.HealthInformationFactory,
    "cases.Paragraph10Reason": factories.Paragraph10ReasonFactory,
    "cases.Einstellungszusage": factories.EinstellungszusageFactory,
    "cases.Potenzialanalyse": factories.PotenzialanalyseFactory,
    "kooperationsplan.Kooperationsplan": factories.KooperationsplanFactory,
    "kooperationsplan.ContentItem": factories.ContentItemFactory,
    "kooperationsplan.Step": factories.StepFactory,
    "kooperationsplan.Eigenbemuehung": factories.EigenbemuehungFactory,
    "kooperationsplan.EigenbemuehungNachweis": factories.EigenbemuehungNachweisFactory,
    "kooperationsplan.MassnahmeZuweisung": factories.MassnahmeZuweisungFactory,
    "kooperationsplan.Appointment": factories.AppointmentFactory,
    "kooperationsplan.Escalation": factories.EscalationFactory,
    "kooperationsplan.Schlichtung": factories.SchlichtungFactory,
    "kooperationsplan.Exemption": factories.ExemptionFactory,
    "kooperationsplan.AbsenceCover": factories.AbsenceCoverFactory,
    "letters.Letter": factories.LetterFactory,
}


def event_models():
    return [
        model
        for label in ("cases", "kooperationsplan", "letters")
        for model in apps.get_app_config(label).get_models()
        if issubclass(model, pghistory.models.Event)
    ]


def run_sql(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- pghistory records changes that bypass the ORM's save() ----------------------------------------


def test_queryset_update_is_recorded():
    elb = ElbFactory(last_name="Alt")

    Elb.objects.filter(pk=elb.pk).update(last_name="Neu")

    events = Elb.pgh_event_model.objects.filter(pgh_obj=elb).order_by("pgh_id")
    assert list(events.values_list("pgh_label", "last_name")) == [("insert", "Alt"), ("update", "Neu")]
    (update,) = pghistory.models.Events.objects.tracks(elb).filter(pgh_label="update")
    assert update.pgh_diff == {"last_name": ["Alt", "Neu"]}


def test_raw_sql_update_is_recorded():
    elb = ElbFactory(last_name="Alt", city="Bochum")

    run_sql("UPDATE cases_elb SET city = %s WHERE id = %s", ["Herne", elb.pk])

    update = Elb.pgh_event_model.objects.get(pgh_obj=elb, pgh_label="update")
    assert (update.city, update.last_name, update.kundennummer) == ("Herne", "Alt", elb.kundennummer)


def test_raw_sql_delete_is_recorded():
    elb = ElbFactory(last_name="Alt")

    run_sql("DELETE FROM cases_elb WHERE id = %s", [elb.pk])

    deleted = Elb.pgh_event_model.objects.get(pgh_obj_id=elb.pk, pgh_label="delete")
    assert (deleted.last_name, deleted.kundennummer) == ("Alt", elb.kundennummer)


def test_unchanged_update_records_nothing():
    """Only real changes are history: a no-op UPDATE adds no event (keeps the history readable)."""
    case = factories.CaseFactory()

    Case.objects.filter(pk=case.pk).update(cooperation_mode=case.cooperation_mode)

    assert list(Case.pgh_event_model.objects.filter(pgh_obj=case).values_list("pgh_label", flat=True)) == ["insert"]


# --- the history tables are append-only --------------------------------------------------------------


def test_every_tracked_model_is_covered_here():
    tracked = {model.pgh_tracked_model._meta.label for model in event_models()}
    assert tracked == set(TRACKED_FACTORIES)


@pytest.mark.parametrize("operation", ["orm_update", "orm_delete", "sql_update", "sql_delete"])
@pytest.mark.parametrize("label", TRACKED_FACTORIES)
def test_history_is_append_only(label, operation):
    tracked_model = apps.get_model(label)
    event_model = tracked_model.pgh_event_model
    TRACKED_FACTORIES[label]()
    event = event_model.objects.get(pgh_label="insert")
    table = connection.ops.quote_name(event_model._meta.db_table)
    attempts = {
        "orm_update": lambda: event_model.objects.filter(pk=event.pk).update(pgh_label="update"),
        "orm_delete": lambda: event_model.objects.filter(pk=event.pk).delete(),
        "sql_update": lambda: run_sql(f"UPDATE {table} SET pgh_label = 'update' WHERE pgh_id = %s", [event.pk]),  # noqa: S608 (table from model meta)
        "sql_delete": lambda: run_sql(f"DELETE FROM {table} WHERE pgh_id = %s", [event.pk]),  # noqa: S608
    }

    with pytest.raises(DatabaseError) as exc, transaction.atomic():
        attempts[operation]()

    assert "append_only" in str(exc.value)
    assert event_model._meta.db_table in str(exc.value)
    assert list(event_model.objects.values_list("pk", "pgh_label")) == [(event.pk, "insert")]


# --- audit tables: AccessLog, TimelineEvent, ArchiveEntry ---------------------------------------------

PROTECTED = [
    pytest.param(factories.AccessLogFactory, AccessLog, "accesslog_append_only", "outcome", "denied", id="AccessLog"),
    pytest.param(
        factories.TimelineEventFactory, TimelineEvent, "timeline_append_only", "summary", "geändert", id="TimelineEvent"
    ),
    pytest.param(
        factories.ArchiveEntryFactory, ArchiveEntry, "archive_immutable", "sha256", "0" * 64, id="ArchiveEntry"
    ),
]


@pytest.mark.parametrize(("model_factory", "model", "trigger", "field", "value"), PROTECTED)
def test_audit_rows_cannot_be_changed_through_the_orm(model_factory, model, trigger, field, value):
    row = model_factory()
    before = model.objects.values().get(pk=row.pk)

    with pytest.raises(DatabaseError) as exc, transaction.atomic():
        model.objects.filter(pk=row.pk).update(**{field: value})
    assert trigger in str(exc.value)

    with pytest.raises(DatabaseError) as exc, transaction.atomic():
        model.objects.filter(pk=row.pk).delete()
    assert trigger in str(exc.value)

    with pytest.raises(DatabaseError) as exc, transaction.atomic():
        row.delete()
    assert trigger in str(exc.value)

    assert list(model.objects.values()) == [before]


@pytest.mark.parametrize(("model_factory", "model", "trigger", "field", "value"), PROTECTED)
def test_audit_rows_cannot_be_changed_with_raw_sql(model_factory, model, trigger, field, value):
    row = model_factory()
    before = model.objects.values().get(pk=row.pk)
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.get_field(field).column)

    with pytest.raises(DatabaseError) as exc, transaction.atomic():
        run_sql(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, row.pk])  # noqa: S608 (names from model meta)
    assert trigger in str(exc.value)

    with pytest.raises(DatabaseError) as exc, transaction.atomic():
        run_sql(f"DELETE FROM {table}", [])  # noqa: S608
    assert trigger in str(exc.value)

    assert list(model.objects.values()) == [before]
