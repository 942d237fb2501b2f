"""The letters of a case in the browser: HTML preview, PDF download, status fragment (htmx polling).

Views are thin: the case comes from the scoping selector (404 for another team's case, one access-log row,
T1/T2), the letter must belong to that case (else 404), and the snapshot is rendered read-only.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from cases.models import Case
from cases.selectors import case_get_for_view
from letters import texts
from letters.models import Letter
from letters.rendering import LetterError, letter_copies_html, render_letter_html
from letters.selectors import letter_get_of_case


def _letter(request: HttpRequest, case_id: int, letter_id: int, *, with_pdf: bool = False) -> tuple[Case, Letter]:
    case = case_get_for_view(request, case_id)
    letter = letter_get_of_case(case, letter_id, with_pdf=with_pdf)
    if letter is None:
        raise Http404("Schreiben nicht gefunden")
    return case, letter


def preview_copies(letter: Letter) -> list[str]:
    """The letter as the eLb (and each gesetzliche Vertretung) will read it, from the frozen snapshot."""
    html = render_letter_html(
        letter.context,
        kind=letter.kind,
        recipients=letter.recipients,
        letter_number=letter.number,
        template_version=letter.template_version,
    )
    # Our own template's output: every value in it was escaped by the template engine.
    return [mark_safe(copy) for copy in letter_copies_html(html)]  # noqa: S308


@require_GET
def letter_preview(request: HttpRequest, case_id: int, letter_id: int) -> HttpResponse:
    case, letter = _letter(request, case_id, letter_id)
    try:
        copies, error = preview_copies(letter), ""
    except LetterError as failure:
        copies, error = [], str(failure)
    return render(
        request,
        "letters/preview.html",
        {"case": case, "letter": letter, "title": texts.KIND_TITLES[letter.kind], "copies": copies, "error": error},
    )


@require_GET
def letter_pdf(request: HttpRequest, case_id: int, letter_id: int) -> HttpResponse:
    """The stored PDF/A, only once it is rendered (and, with four-eyes, released); never re-rendered here."""
    case, letter = _letter(request, case_id, letter_id, with_pdf=True)
    if letter.status != Letter.Status.RENDERED or letter.pdf is None:
        return render(request, "letters/not_available.html", {"case": case, "letter": letter}, status=409)
    response = HttpResponse(bytes(letter.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="Schreiben-{letter.number}.pdf"'
    response["Content-Length"] = str(len(letter.pdf))
    # Sozialdaten never land in a browser or proxy cache (T27).
    response["Cache-Control"] = "no-store, private"
    return response


@require_GET
def letter_status(request: HttpRequest, case_id: int, letter_id: int) -> HttpResponse:
    """The status cell of one letter; it polls itself while the letter is being rendered."""
    case, letter = _letter(request, case_id, letter_id)
    return render(request, "letters/_status.html", {"case": case, "letter": letter})
