"""Database constraints of the letters app (RULES.md 6.1, R-KP-2, R-LET-2, R-ARC-1), enforced by PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from letters.models import (
    ALWAYS_RFB_KINDS,
    NEVER_RFB_KINDS,
    VA_KINDS,
    ArchiveEntry,
    Letter,
    LetterKind,
    LetterRun,
    LetterRunItem,
)
from tests.factories import (
    ArchiveEntryFactory,
    LetterFactory,
    assert_insert_rejected,
    assert_update_rejected,
    unique_constraint_on,
)

pytestmark = pytest.mark.django_db


def valid_letter(kind: str, **kwargs):
    """A letter of the given kind with the RFB and VA flags RULES.md 6.1 prescribes."""
    return LetterFactory(kind=kind, with_rfb=kind in ALWAYS_RFB_KINDS, is_va=kind in VA_KINDS, **kwargs)


def test_catalogue_decides_rfb_for_every_kind():
    """Each letter kind is either always or never with RFB, so the two constraints below cover all kinds."""
    assert set(NEVER_RFB_KINDS) | set(ALWAYS_RFB_KINDS) == set(LetterKind.values)
    assert not set(NEVER_RFB_KINDS) & set(ALWAYS_RFB_KINDS)


@pytest.mark.parametrize(
    ("model_factory", "constraint", "changes"),
    [
        (LetterFactory, "letter_kind_valid", {"kind": "MAHNUNG"}),
        (LetterFactory, "letter_status_valid", {"status": "SENT"}),
        (LetterFactory, "letter_has_recipient", {"recipients": []}),
    ],
    ids=["letter_kind_valid", "letter_status_valid", "letter_has_recipient"],
)
def test_invalid_value_is_rejected_by_the_database(model_factory, constraint, changes):
    assert_update_rejected(model_factory(), constraint, **changes)


def test_kp_dokument_never_with_rfb():
    """R-KP-2: the Kooperationsplan itself never carries a Rechtsfolgenbelehrung."""
    letter = valid_letter("KP_DOKUMENT")

    assert_update_rejected(letter, "letter_no_rfb_on_kinds_without", with_rfb=True)
    assert_insert_rejected(
        "letter_no_rfb_on_kinds_without", LetterFactory, kind="KP_DOKUMENT", with_rfb=True, is_va=False
    )


@pytest.mark.parametrize("kind", NEVER_RFB_KINDS)
def test_letter_no_rfb_on_kinds_without(kind):
    """RULES.md 6.1, R-INV-1, R-INV-3, R-ZUW-1: these letters never carry an RFB."""
    letter = valid_letter(kind)

    assert_update_rejected(letter, "letter_no_rfb_on_kinds_without", with_rfb=True)


@pytest.mark.parametrize("kind", ALWAYS_RFB_KINDS)
def test_letter_rfb_on_kinds_with(kind):
    """RULES.md 6.1, R-INV-5, R-ESC-2, R-ZUW-3: these letters always carry an RFB."""
    letter = valid_letter(kind)

    assert_update_rejected(letter, "letter_rfb_on_kinds_with", with_rfb=False)


@pytest.mark.parametrize("kind", LetterKind.values)
def test_letter_va_matches_kind(kind):
    """P4, R-LET-2: exactly the Verwaltungsakte carry a Rechtsbehelfsbelehrung."""
    letter = valid_letter(kind)

    assert_update_rejected(letter, "letter_va_matches_kind", is_va=kind not in VA_KINDS)


@pytest.mark.parametrize(
    "wrong",
    [
        {"pdf": None},
        {"rendered_at": None},
        {"sha256": "0" * 63},
        {"sha256": "A" * 64},
        {"sha256": "g" * 64},
    ],
    ids=["no-pdf", "no-rendered-at", "short-hash", "uppercase-hash", "not-hex"],
)
def test_letter_rendered_has_pdf_and_hash(wrong):
    letter = LetterFactory(rendered=True)
    assert letter.sha256 == hashlib.sha256(bytes(letter.pdf)).hexdigest()

    assert_update_rejected(letter, "letter_rendered_has_pdf_and_hash", **wrong)


def test_letter_rendered_refuses_missing_hash():
    letter = LetterFactory(rendered=True)

    assert_update_rejected(letter, "letter_rendered_has_pdf_and_hash", sha256=None)


def test_issued_letter_needs_no_pdf_yet():
    """The snapshot is stored first and rendered later: an ISSUED letter without PDF is valid."""
    letter = LetterFactory()

    assert (letter.status, letter.pdf, letter.sha256) == ("ISSUED", None, None)
    assert_update_rejected(letter, "letter_rendered_has_pdf_and_hash", status="RENDERED")


@pytest.mark.parametrize("field", ["number", "idempotency_key"])
def test_letter_number_and_idempotency_key_unique(field):
    """T8: a double submit with the same idempotency key cannot create a second letter."""
    letter = LetterFactory()

    name = unique_constraint_on(Letter, field)
    assert_insert_rejected(name, LetterFactory, case=letter.case, **{field: getattr(letter, field)})


def test_archive_unique_version():
    entry = ArchiveEntryFactory()
    ArchiveEntryFactory(letter__case=entry.case, version=2)

    assert_insert_rejected("archive_unique_version", ArchiveEntryFactory, letter__case=entry.case, version=1)


def test_archive_unique_hash_per_case():
    """R-ARC-1: filing is idempotent by hash."""
    entry = ArchiveEntryFactory()
    ArchiveEntryFactory(sha256=entry.sha256)  # the same document in another case is a different filing

    assert_insert_rejected(
        "archive_unique_hash_per_case", ArchiveEntryFactory, letter__case=entry.case, version=2, sha256=entry.sha256
    )


@pytest.mark.parametrize("sha256", ["", "0" * 63, "A" * 64, "z" * 64])
def test_archive_sha256_format(sha256):
    ArchiveEntryFactory()

    assert_insert_rejected("archive_sha256_format", ArchiveEntryFactory, sha256=sha256)


def test_one_archive_entry_per_letter():
    entry = ArchiveEntryFactory()

    name = unique_constraint_on(ArchiveEntry, "letter_id")
    assert_insert_rejected(name, ArchiveEntryFactory, letter=entry.letter, version=2)


@pytest.mark.parametrize("recipients", [[], {}, "Frau Muster"], ids=["empty-list", "object", "string"])
def test_letter_has_recipient_needs_a_list_with_an_address(recipients):
    assert_update_rejected(LetterFactory(), "letter_has_recipient", recipients=recipients)


def test_letter_release_by_other_person():
    """Four-eyes release: the person who releases is not the issuer, and the time is recorded."""
    letter = LetterFactory()
    other = LetterFactory().issued_by
    LetterFactory(released_by=other, released_at=timezone.now())

    assert_update_rejected(
        letter, "letter_release_by_other_person", released_by=letter.issued_by, released_at=timezone.now()
    )
    assert_update_rejected(letter, "letter_release_by_other_person", released_by=other)


def test_letter_failed_has_german_error():
    """A failed rendering always says why, in German, on the letter list."""
    letter = LetterFactory()
    assert_update_rejected(letter, "letter_failed_has_german_error", status="FAILED", render_error="")
    Letter.objects.filter(pk=letter.pk).update(status="FAILED", render_error="R-KP-2: …")


def test_letter_release_only_for_rfb():
    """Four-eyes: only letters with RFB wait for the team lead's release."""
    assert_update_rejected(LetterFactory(), "letter_release_only_for_rfb", status="AWAITING_RELEASE")
    valid_letter("EINL_RFB", status="AWAITING_RELEASE")


def run_item(**kwargs):
    letter = LetterFactory()
    run = LetterRun.objects.create(team=letter.case.team, kind="REVIEW_INVITATION", created_by=letter.issued_by)
    defaults = {"run": run, "case": letter.case, "position": 0, "starts_at": timezone.now()}
    return LetterRunItem.objects.create(**{**defaults, **kwargs}), letter


def test_letterrun_kind_valid():
    item, _ = run_item()
    with pytest.raises(IntegrityError, match="letterrun_kind_valid"), transaction.atomic():
        LetterRun.objects.filter(pk=item.run_id).update(kind="MAHNLAUF")


@pytest.mark.parametrize(
    ("constraint", "changes"),
    [
        ("letterrunitem_status_valid", {"status": "SENT"}),
        ("letterrunitem_done_has_letter", {"status": "DONE"}),
        ("letterrunitem_failed_has_reasons", {"status": "FAILED", "errors": []}),
    ],
    ids=["letterrunitem_status_valid", "letterrunitem_done_has_letter", "letterrunitem_failed_has_reasons"],
)
def test_letter_run_item_states(constraint, changes):
    """T20: a done case has its letter, a failed one its German reasons."""
    item, letter = run_item()
    assert_update_rejected(item, constraint, **changes)
    LetterRunItem.objects.filter(pk=item.pk).update(status="DONE", letter=letter)
    with pytest.raises(IntegrityError, match="letterrunitem_failed_has_reasons"), transaction.atomic():
        LetterRunItem.objects.filter(pk=item.pk).update(status="FAILED", errors=[{"text": "x"}])


@pytest.mark.parametrize("constraint", ["letterrunitem_one_per_case", "letterrunitem_unique_position"])
def test_letter_run_processes_each_case_once(constraint):
    item, _ = run_item()
    other = LetterFactory(case__responsible=item.case.responsible)
    changes = {"case": other.case, "position": 0} if constraint.endswith("position") else {"position": 1}
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        LetterRunItem.objects.create(run=item.run, **{"case": item.case, "starts_at": item.starts_at, **changes})
