"""Reads of the letters app. A fixed number of queries each; the PDF bytes and the snapshot are only loaded
where they are needed (download, preview)."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.models import Case, Team
from letters.models import Letter

LIST_FIELDS_DEFERRED = ("pdf", "context")


def letters_of_case(case: Case) -> QuerySet[Letter]:
    return Letter.objects.filter(case=case).defer(*LIST_FIELDS_DEFERRED).order_by("-letter_date", "-id")


def letter_get_of_case(case: Case, letter_id: int, *, with_pdf: bool = False) -> Letter | None:
    """A letter of an already scoped case (cases.selectors.case_get_for_view); None if it is not this case's."""
    letters = Letter.objects.filter(case=case, pk=letter_id)
    if not with_pdf:
        letters = letters.defer("pdf")
    return letters.first()


def letters_awaiting_release(team: Team) -> QuerySet[Letter]:
    """The team lead's four-eyes queue: letters with RFB of the team's cases waiting for release."""
    return (
        Letter.objects.filter(case__team=team, status=Letter.Status.AWAITING_RELEASE)
        .select_related("case__elb", "issued_by")
        .defer(*LIST_FIELDS_DEFERRED)
        .order_by("issued_at", "id")
    )
