"""cases/rows.py: prepared statements for the hot pages' hand-written queries (decision 0009)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.rows import Prepared, execute_prepared
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

SQL = 'SELECT c.id FROM "cases_case" c WHERE c.id = %(case)s OR (c.team_id = %(team)s AND c.id = %(case)s)'


def prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def run(name: str, sql: str, **params) -> list:
    with connection.cursor() as cursor:
        execute_prepared(cursor, name, sql, params)
        return cursor.fetchall()


def test_parameters_become_numbered_once_each_in_order_of_first_use():
    statement = Prepared("probe", SQL)
    assert statement.body.endswith("WHERE c.id = $1 OR (c.team_id = $2 AND c.id = $1)")
    assert statement.run == f"EXECUTE {statement.name}(%(case)s, %(team)s)"
    assert statement.name.startswith("kp_probe_")
    assert Prepared("probe", SQL + " ").name != statement.name  # another text is another statement


def test_a_percent_sign_other_than_a_parameter_is_refused():
    with pytest.raises(ValueError, match="%"):
        Prepared("probe", "SELECT 1 WHERE 'a' LIKE 'a%'")


def test_prepared_once_per_connection_and_the_page_sees_only_the_execute():
    case = CaseFactory()
    with CaptureQueriesContext(connection) as first:
        assert run("probe_once", SQL, case=case.pk, team=case.team_id) == [(case.pk,)]
    with CaptureQueriesContext(connection) as second:
        assert run("probe_once", SQL, case=case.pk, team=0) == [(case.pk,)]
    assert len(first.captured_queries) == len(second.captured_queries) == 1
    assert second.captured_queries[0]["sql"].endswith(f"({case.pk}, 0)")
    assert first.captured_queries[0]["sql"].startswith("EXECUTE kp_probe_once_")
    assert sum(name.startswith("kp_probe_once_") for name in prepared_names()) == 1


def test_a_rollback_keeps_the_statement_and_a_new_connection_prepares_it_again():
    case = CaseFactory()
    with transaction.atomic():
        sid = transaction.savepoint()
        assert run("probe_rollback", SQL, case=case.pk, team=case.team_id) == [(case.pk,)]
        transaction.savepoint_rollback(sid)
    assert run("probe_rollback", SQL, case=case.pk, team=case.team_id) == [(case.pk,)]


@pytest.mark.django_db(transaction=True)
def test_after_a_reconnect_the_statement_is_prepared_again():
    case = CaseFactory()
    assert run("probe_reconnect", SQL, case=case.pk, team=case.team_id) == [(case.pk,)]
    connection.close()
    assert not any(name.startswith("kp_probe_reconnect_") for name in prepared_names())
    assert run("probe_reconnect", SQL, case=case.pk, team=case.team_id) == [(case.pk,)]
    assert any(name.startswith("kp_probe_reconnect_") for name in prepared_names())


def test_switched_off_the_statement_runs_as_it_is(settings):
    settings.DB_PREPARED_STATEMENTS = False
    case = CaseFactory()
    with CaptureQueriesContext(connection) as captured:
        assert run("probe_off", SQL, case=case.pk, team=case.team_id) == [(case.pk,)]
    assert captured.captured_queries[0]["sql"].startswith('SELECT c.id FROM "cases_case" c')
    assert not any(name.startswith("kp_probe_off_") for name in prepared_names())


def test_the_connection_plans_prepared_statements_once_not_per_call():
    """A generic plan, not a custom plan per EXECUTE (config/settings.py, decision 0009)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_generic_plan"
