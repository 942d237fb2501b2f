"""Shared fixtures: one Jobcenter with Team Nord and Team Süd, and named users of every role."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.models import Team, User
from tests.factories import JobcenterFactory, TeamFactory, UserFactory


@pytest.fixture
def team_nord(db) -> Team:
    return TeamFactory(name="Team Nord", jobcenter=JobcenterFactory(name="Jobcenter Teststadt"))


@pytest.fixture
def team_sued(team_nord: Team) -> Team:
    return TeamFactory(name="Team Süd", jobcenter=team_nord.jobcenter)


@pytest.fixture
def ifk_nord(team_nord: Team) -> User:
    return UserFactory(username="ifk.nord", team=team_nord)


@pytest.fixture
def ifk_nord2(team_nord: Team) -> User:
    return UserFactory(username="ifk.nord2", team=team_nord)


@pytest.fixture
def ifk_sued(team_sued: Team) -> User:
    return UserFactory(username="ifk.sued", team=team_sued)


@pytest.fixture
def tl_nord(team_nord: Team) -> User:
    return UserFactory(username="tl.nord", team=team_nord, tl=True)


@pytest.fixture
def fachadmin(team_nord: Team) -> User:
    return UserFactory(username="fa", fa=True, is_staff=True)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
