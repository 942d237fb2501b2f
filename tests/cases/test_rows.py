"""cases/rows.py: prepared statements for the hot pages' hand-written queries (decision 0009)."""

from __future__ import annotations

import pghistory
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.rows import Prepared, execute_prepared, history_context_wrapper, reads_only
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


def test_reads_only_knows_a_statement_that_writes_or_locks():
    assert reads_only(SQL)
    assert reads_only("WITH x AS (SELECT 1) SELECT * FROM x")
    assert not reads_only("WITH logged AS (INSERT INTO t (a) VALUES (1) RETURNING id) SELECT count(*) FROM logged")
    assert not reads_only("SELECT id FROM t WHERE id = 1 FOR UPDATE")
    assert not reads_only("UPDATE t SET a = 1")


@pytest.mark.parametrize("prepare", [True, False], ids=["prepared", "not prepared"])
def test_a_statement_that_only_reads_runs_without_pghistorys_context_one_that_writes_with_it(settings, prepare):
    """pghistory puts set_config(...) in front of every statement not starting with SELECT (EXECUTE too); a
    statement that only reads needs no context (it fires no trigger) and runs without it; one that writes keeps
    it, so its triggers record who and where. Checked on the SQL the driver receives."""
    settings.DB_PREPARED_STATEMENTS = prepare
    case = CaseFactory()
    sent = []

    def driver_sees(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    writes = (
        'WITH touched AS (UPDATE "cases_case" SET closed_on = closed_on WHERE id = %(case)s RETURNING id) '
        "SELECT count(*) FROM touched"
    )
    with pghistory.context(user=None, url="/probe/"):
        assert history_context_wrapper() in connection.execute_wrappers  # pghistory's wrapper, found by name
        with connection.execute_wrapper(driver_sees):
            assert run("probe_reads", "WITH one AS (SELECT 1) " + SQL, case=case.pk, team=case.team_id) == [(case.pk,)]
            assert run("probe_writes", writes, case=case.pk) == [(1,)]
        assert history_context_wrapper() in connection.execute_wrappers  # and put back
    reading, writing = sent
    assert "set_config('pghistory.context_id'" not in reading
    assert "set_config('pghistory.context_id'" in writing
