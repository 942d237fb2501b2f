"""Access scoping (DESIGN.md "Access and data protection"): one selector decides who sees which case."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from cases.models import AccessLog, Case
from cases.selectors import case_get_for_view_with, case_list_visible, case_scope_sql
from tests.conftest import client_for
from tests.factories import SYNTHETIC_LAST_NAME, CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases_of_both_teams(ifk_nord, ifk_nord2, ifk_sued):
    nord = [CaseFactory(responsible=ifk_nord), CaseFactory(responsible=ifk_nord2)]
    sued = [CaseFactory(responsible=ifk_sued)]
    return nord, sued


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("ifk_nord", "nord"),  # an IFK works the cases of the own team, also a colleague's
        ("ifk_sued", "sued"),  # an IFK of another team sees only that team
        ("tl_nord", "nord"),  # a team lead sees the own team
        ("fachadmin", "all"),  # the Fachadministration sees all
    ],
)
def test_case_list_visible_by_persona(request, cases_of_both_teams, persona, sees):
    nord, sued = cases_of_both_teams
    user = request.getfixturevalue(persona)
    expected = {"nord": nord, "sued": sued, "all": nord + sued}[sees]
    assert set(case_list_visible(user)) == set(expected)


def _scope_sql_cases(user) -> set[Case]:
    condition, params = case_scope_sql(user, "c")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT c.id FROM cases_case c WHERE {condition}", params)  # noqa: S608 (the selector's)
        return set(Case.objects.filter(pk__in=[row[0] for row in cursor.fetchall()]))


@pytest.mark.parametrize("persona", ["ifk_nord", "ifk_sued", "tl_nord", "fachadmin"])
def test_the_scope_condition_of_hand_written_queries_selects_the_same_cases(request, cases_of_both_teams, persona):
    user = request.getfixturevalue(persona)
    assert _scope_sql_cases(user) == set(case_list_visible(user))
    assert _scope_sql_cases(user)


def test_the_scope_condition_selects_nothing_for_an_inactive_user_or_one_without_team(cases_of_both_teams, ifk_nord):
    # An IFK without a team cannot be stored (database constraint); the condition still says nothing for one.
    assert _scope_sql_cases(UserFactory.build(team=None)) == set()
    ifk_nord.is_active = False
    ifk_nord.save()
    assert _scope_sql_cases(ifk_nord) == set()


def test_inactive_user_and_user_without_team_see_nothing(cases_of_both_teams, ifk_nord):
    ifk_nord.is_active = False
    ifk_nord.save()
    assert not case_list_visible(ifk_nord).exists()
    # A team lead without a team cannot exist (database constraint), an FA without staff rights still sees all.
    assert case_list_visible(UserFactory(fa=True)).count() == 3


def test_own_case_page_writes_exactly_one_access_log_row(ifk_nord):
    """T2: IFK opens own case: 200, exactly one access log row."""
    case = CaseFactory(responsible=ifk_nord)
    response = client_for(ifk_nord).get(f"/faelle/{case.pk}/")
    assert response.status_code == 200
    rows = list(AccessLog.objects.all())
    assert len(rows) == 1
    assert rows[0].user == ifk_nord
    assert rows[0].case_id_accessed == case.pk
    assert rows[0].outcome == AccessLog.Outcome.GRANTED
    assert rows[0].view_name == "kp:case"


def test_other_teams_case_is_404_and_the_denial_is_logged(ifk_nord, ifk_sued):
    """T1: another team's case answers 404 (never 403) and the access log records the denial."""
    case = CaseFactory(responsible=ifk_sued, elb__last_name=SYNTHETIC_LAST_NAME)
    response = client_for(ifk_nord).get(f"/faelle/{case.pk}/")
    assert response.status_code == 404
    assert SYNTHETIC_LAST_NAME not in response.content.decode()
    row = AccessLog.objects.get()
    assert (row.user, row.case_id_accessed, row.outcome) == (ifk_nord, case.pk, AccessLog.Outcome.DENIED)


def test_unknown_case_id_looks_the_same_as_a_foreign_case(ifk_nord, ifk_sued):
    foreign = CaseFactory(responsible=ifk_sued)
    client = client_for(ifk_nord)
    foreign_response = client.get(f"/faelle/{foreign.pk}/")
    missing_response = client.get(f"/faelle/{foreign.pk + 1000}/")
    assert foreign_response.status_code == missing_response.status_code == 404
    csrf = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    assert csrf.sub(b"", foreign_response.content) == csrf.sub(b"", missing_response.content)


def _request(user):
    request = RequestFactory().get("/faelle/")
    request.user = user
    return request


def test_a_page_reads_its_own_columns_with_the_case_and_only_for_a_visible_case(ifk_nord, ifk_sued):
    """case_get_for_view_with: the page's columns come in the statement of the case and its access-log row; a case
    of another team is a 404 with the denial logged, and nothing of the page's columns is returned."""
    case = CaseFactory(responsible=ifk_nord)
    columns = ("%(case)s::int * 2", "(SELECT count(*) FROM cases_case c2 WHERE c2.id = %(case)s)", "%(label)s::text")
    with CaptureQueriesContext(connection) as reading:
        found, own = case_get_for_view_with(_request(ifk_nord), case.pk, "test_columns", columns, {"label": "ja"})
    assert len(reading.captured_queries) == 1
    assert found == case
    assert own == (case.pk * 2, 1, "ja")
    granted = AccessLog.objects.filter(user=ifk_nord, case_id_accessed=case.pk, outcome=AccessLog.Outcome.GRANTED)
    assert granted.count() == 1
    with pytest.raises(Http404):
        case_get_for_view_with(_request(ifk_sued), case.pk, "test_columns", columns, {"label": "ja"})
    denied = AccessLog.objects.filter(user=ifk_sued, case_id_accessed=case.pk, outcome=AccessLog.Outcome.DENIED)
    assert denied.count() == 1


def test_a_pages_parameter_may_not_change_one_of_the_case_statement():
    """A page's parameter named like one of the case statement's (`case`, `user`, …) must have the same value."""
    user = UserFactory()
    case = CaseFactory(responsible=user)
    with pytest.raises(ValueError, match="user"):
        case_get_for_view_with(_request(user), case.pk, "test_columns", ("%(user)s",), {"user": user.pk + 1})
    assert not AccessLog.objects.filter(case_id_accessed=case.pk).exists()  # refused before anything was written
    _, own = case_get_for_view_with(_request(user), case.pk, "test_columns", ("%(case)s::int",), {"case": case.pk})
    assert own == (case.pk,)
