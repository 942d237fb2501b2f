"""The synthetic test data itself."""

from __future__ import annotations

from faker import Faker

from tests.factories import SYNTHETIC_LAST_NAME


def test_the_synthetic_last_name_is_no_faker_name_and_contains_none():
    """Tests that an eLb's name stays off a page use it: no random name of staff can equal or contain it."""
    names = Faker("de_DE").provider("faker.providers.person").last_names
    assert not [name for name in names if name in SYNTHETIC_LAST_NAME or SYNTHETIC_LAST_NAME in name]
