"""The KP editor page's side parts in Python: the first-person preview, the version list, the activation box with
its checks.

They are what templates/kooperationsplan/editor/_preview.html, _versions.html, _activation.html and
_activation_checks.html write; those templates stay the reference, and test_editor.py renders both ways (every
branch, hostile text) and compares them. Written in Python for the reason the form is (editor_forms.form_html):
the editor is the page an IFK has open all day, and its includes were a sixth of its time (bench/RESULTS.md
"Pages"). Every value is escaped; the markup is our own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from django.forms import Form
from django.utils.safestring import SafeString

from kooperationsplan.editor_forms import field_html
from kooperationsplan.markup import esc


def _day(value: date | None) -> str:
    """The templates' `|date:"d.m.Y"`."""
    return "" if value is None else value.strftime("%d.%m.%Y")


def _lines(text: Any) -> str:
    """The templates' `|linebreaksbr`: escaped, line breaks of any kind as <br>."""
    return esc(str(text).replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")


def _joined(values: Iterable[Any], separator: str) -> str:
    """The templates' `|join:separator` (each value escaped)."""
    return separator.join(esc(value) for value in values)


def _sources(reason: Mapping[str, Any]) -> str:
    return (
        f'<span class="small text-body-secondary">({esc(reason["rule_id"])}; {_joined(reason["sources"], ", ")})</span>'
    )


def preview_html(preview: Mapping[str, Any]) -> SafeString:
    """_preview.html: the plan as the eLb reads it (editor.preview)."""
    parts = []
    for section in preview["sections"]:
        parts.append(f'<h3 class="h6 mt-3 mb-1">{esc(section["title"])}</h3>')
        parts.extend(f'<p class="mb-2">{_lines(paragraph)}</p>' for paragraph in section["paragraphs"])
        if section["items"]:
            items = "".join(f"<li>{_lines(item)}</li>" for item in section["items"])
            parts.append(f'<ul class="mb-2">{items}</ul>')
        if not section["paragraphs"] and not section["items"]:
            parts.append('<p class="mb-2 text-body-secondary">Noch nichts eingetragen.</p>')
    parts += [
        '<h3 class="h6 mt-3 mb-1">Laufzeit</h3>',
        f'<p class="mb-2">{esc(preview["term"])}</p>',
        f'<p class="border-top pt-2 mb-0 small">{esc(preview["note"])}</p>',
    ]
    return SafeString("\n".join(parts))


def versions_html(*, plan: Any, versions: Sequence[Any], draft: Any, urls: Mapping[str, Any]) -> SafeString:
    """_versions.html: every version of the plan, the link to the changes and to the draft. `urls`: "edit" (a
    function of a plan's id) and "diff"."""
    rows = []
    for version in versions:
        current = ' aria-current="page"' if version.pk == plan.pk else ""
        valid = f", gültig ab {_day(version.valid_from)}" if version.valid_from else ""
        rows.append(
            f'<li><a href="{esc(urls["edit"](version.pk))}"{current}>Version {esc(version.version_number)}</a>'
            f" – {esc(version.get_status_display())}{valid}</li>"
        )
    parts = [
        '<nav class="border rounded p-3" aria-labelledby="versionen-titel">',
        '<h2 id="versionen-titel" class="h6">Versionen dieses Plans</h2>',
        f'<ul class="list-unstyled mb-2">{"".join(rows)}</ul>',
    ]
    if plan.predecessor_id:
        href = f"{urls['diff']}?von={plan.predecessor_id}&zu={plan.pk}"
        parts.append(f'<p class="mb-1"><a href="{esc(href)}">Änderungen gegenüber der Vorversion anzeigen</a></p>')
    if draft and draft.pk != plan.pk:
        parts.append(
            f'<p class="mb-0"><a href="{esc(urls["edit"](draft.pk))}">Zum Entwurf (Version'
            f" {esc(draft.version_number)})</a></p>"
        )
    parts.append("</nav>")
    return SafeString("\n".join(parts))


def activation_checks_html(checks: Mapping[str, Any], date_errors: Sequence[Any] = ()) -> SafeString:
    """_activation_checks.html: whether the plan may be activated, what is missing, and the review date."""
    parts = []
    if date_errors:
        parts.append(f'<div class="alert alert-danger py-2" role="alert">{_joined(date_errors, " ")}</div>')
    if checks["allowed"]:
        parts.append('<p class="fw-semibold mb-1">Alle Voraussetzungen für die Aktivierung sind erfüllt.</p>')
    else:
        parts.append('<p class="fw-semibold mb-1">Noch nicht möglich. Es fehlt:</p>')
    reasons = "".join(f"<li>{esc(reason['text'])} {_sources(reason)}</li>" for reason in checks["reasons"])
    term = checks["term"]
    parts += [
        f'<ul id="aktivierung-gruende" class="mb-2">{reasons}</ul>',
        f'<p class="mb-0" id="aktivierung-termin">Bei Gültigkeit ab {_day(term.valid_from)} gilt der Plan bis zum'
        f" {_day(term.valid_to)}. <strong>Überprüfung spätestens am {_day(term.review_due)}</strong>"
        f" {_sources(checks['term_reason'])}</p>",
    ]
    return SafeString("\n".join(parts))


def activation_html(
    *,
    form: Form,
    checks: Mapping[str, Any],
    offer_return: bool,
    csrf_token: str,
    urls: Mapping[str, str],
) -> SafeString:
    """_activation.html: the activation box with its checks and the form. `urls`: "activate" and "check"."""
    errors = form.non_field_errors() or form["lock_version"].errors
    parts = [
        '<section class="border rounded p-3 mt-4" aria-labelledby="aktivierung-titel">',
        '<h2 id="aktivierung-titel" class="h5">Kooperationsplan aktivieren</h2>',
        '<p class="small">Geprüft wird der zuletzt gespeicherte Stand. Bitte speichern Sie Änderungen im Formular'
        " vorher; nicht gespeicherte Eingaben werden nicht übernommen.</p>",
        f'<div id="aktivierung-pruefung" aria-live="polite">{activation_checks_html(checks)}</div>',
        f'<form method="post" action="{esc(urls["activate"])}" class="mt-3" novalidate>',
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{esc(csrf_token)}">',
        str(form["lock_version"]),
    ]
    if errors:
        joined = f"{_joined(form.non_field_errors(), ' ')} {_joined(form['lock_version'].errors, ' ')}"
        parts.append(f'<div class="alert alert-danger" role="alert">{joined}</div>')
    parts += [
        f'<fieldset class="mb-2" hx-get="{esc(urls["check"])}" hx-trigger="change"'
        ' hx-include="#id_aktivierung-valid_from, #id_aktivierung-valid_to" hx-target="#aktivierung-pruefung">',
        '<legend class="fs-6 fw-semibold">Laufzeit (R-KP-4)</legend>',
        '<div class="row g-2">',
        f'<div class="col-md-6">{field_html(form["valid_from"])}</div>',
        f'<div class="col-md-6">{field_html(form["valid_to"])}</div>',
        "</div>",
        "</fieldset>",
    ]
    if offer_return or form["return_without_rfb_reason"].errors:
        parts.append(field_html(form["return_without_rfb_reason"]))
    parts.append(field_html(form["with_flyer"]))
    disabled = "" if checks["allowed"] else " disabled"
    parts.append(f'<button type="submit" class="btn btn-success"{disabled}>Kooperationsplan aktivieren</button>')
    if not checks["allowed"]:
        parts.append(
            '<p class="small mt-2 mb-0">Die Aktivierung ist erst möglich, wenn die oben genannten Voraussetzungen'
            " erfüllt und gespeichert sind.</p>"
        )
    parts.append("</form>\n</section>")
    return SafeString("\n".join(parts))
