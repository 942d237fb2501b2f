"""The KP editor page's side parts in Python: the first-person preview, the version list, the activation box with
its checks.

They are what templates/kooperationsplan/editor/_preview.html, _versions.html, _activation.html and
_activation_checks.html write; those templates stay the reference, and test_editor.py renders both ways (every
branch, hostile text) and compares them. Written in Python for the reason the form is (editor_forms.form_html):
the editor is the page an IFK has open all day, and its includes were a sixth of its time (bench/RESULTS.md
"Pages"). Every value is escaped; the markup is our own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.forms import Form
from django.utils.safestring import SafeString

from kooperationsplan.editor_forms import field_html
from kooperationsplan.markup import day, esc, joined


def _lines(text: Any) -> str:
    """The templates' `|linebreaksbr`: escaped, line breaks of any kind as <br>."""
    return esc(str(text).replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")


def _sources(reason: Mapping[str, Any]) -> str:
    return (
        f'<span class="small text-body-secondary">({esc(reason["rule_id"])}; {joined(reason["sources"], ", ")})</span>'
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
        valid = f", gültig ab {day(version.valid_from)}" if version.valid_from else ""
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
        parts.append(f'<div class="alert alert-danger py-2" role="alert">{joined(date_errors, " ")}</div>')
    if checks["allowed"]:
        parts.append('<p class="fw-semibold mb-1">Alle Voraussetzungen für die Aktivierung sind erfüllt.</p>')
    else:
        parts.append('<p class="fw-semibold mb-1">Noch nicht möglich. Es fehlt:</p>')
    reasons = "".join(f"<li>{esc(reason['text'])} {_sources(reason)}</li>" for reason in checks["reasons"])
    term = checks["term"]
    parts += [
        f'<ul id="aktivierung-gruende" class="mb-2">{reasons}</ul>',
        f'<p class="mb-0" id="aktivierung-termin">Bei Gültigkeit ab {day(term.valid_from)} gilt der Plan bis zum'
        f" {day(term.valid_to)}. <strong>Überprüfung spätestens am {day(term.review_due)}</strong>"
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
        field_html(form["lock_version"]),
    ]
    if errors:
        message = f"{joined(form.non_field_errors(), ' ')} {joined(form['lock_version'].errors, ' ')}"
        parts.append(f'<div class="alert alert-danger" role="alert">{message}</div>')
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


def page_html(
    context: Mapping[str, Any],
    *,
    parts: Mapping[str, str],
    csrf_token: str,
    urls: Mapping[str, str],
) -> SafeString:
    """_page.html: the editor page's content around its parts. `parts`: the HTML of "main" (the form or the
    read-only version), "preview", "versions", "activation" and "continue" ("" where the page has none);
    `urls`: "caseload", "case", "plans", "edit", "preview" and "script"."""
    case, plan, elb = context["case"], context["plan"], context["case"].elb
    conflict, editable = context.get("conflict"), context.get("editable")
    person = f"{esc(elb.first_name)} {esc(elb.last_name)}"
    heading = (
        ("Bearbeitungskonflikt: " if conflict else "")
        + f"Kooperationsplan v{esc(plan.version_number)}"
        + (" bearbeiten" if editable and not conflict else "")
    )
    parts_out = [
        '<nav aria-label="Brotkrümelnavigation">',
        '<ol class="breadcrumb">',
        f'<li class="breadcrumb-item"><a href="{esc(urls["caseload"])}">Fälle</a></li>',
        f'<li class="breadcrumb-item"><a href="{esc(urls["case"])}">{person} ({esc(elb.kundennummer)})</a></li>',
        f'<li class="breadcrumb-item"><a href="{esc(urls["plans"])}">Kooperationsplan</a></li>',
        f'<li class="breadcrumb-item active" aria-current="page">Version {esc(plan.version_number)}</li>',
        "</ol>",
        "</nav>",
        f'<h1 class="h3 mb-1">{heading}</h1>',
        f'<p class="mb-3">{person} · Kundennummer {esc(elb.kundennummer)} · Status:'
        f" <strong>{esc(plan.get_status_display())}</strong> · Kooperationsmodus:"
        f" {esc(case.get_cooperation_mode_display())}</p>",
    ]
    if context.get("refusal"):
        reasons = "".join(
            f'<li>{esc(reason["text"])} <span class="small">({esc(reason["rule_id"])};'
            f" {joined(reason['sources'], ', ')})</span></li>"
            for reason in context["refusal"]
        )
        parts_out.append(
            '<div class="alert alert-danger" role="alert"><p class="fw-semibold mb-1">Dieser Schritt ist nicht'
            f' möglich. Es wurde nichts geändert.</p><ul class="mb-0">{reasons}</ul></div>'
        )
    if context.get("has_errors"):
        parts_out.append(
            '<div class="alert alert-danger" role="alert">Bitte korrigieren Sie die markierten Angaben. Es wurde'
            " nichts gespeichert.</div>"
        )
    if conflict:
        rows = "".join(
            f'<tr><th scope="row">{esc(row["label"])}</th><td class="conflict-saved">{_lines(row["before"])}</td>'
            f'<td class="conflict-mine">{_lines(row["after"])}</td></tr>'
            for row in conflict["rows"]
        )
        if conflict.get("still_editable"):
            advice = (
                "<p>Sie können Ihre Eingaben unten prüfen und mit „Meine Eingaben speichern“ übernehmen – sie"
                f' ersetzen dann den gespeicherten Stand. Oder Sie <a href="{esc(urls["edit"])}">laden den'
                " gespeicherten Stand neu</a> und tragen Ihre Änderungen dort ein.</p>"
            )
        else:
            advice = (
                f"<p>Diese Version kann nicht mehr bearbeitet werden (Status: {esc(plan.get_status_display())})."
                " Bitte kopieren Sie Ihre Eingaben aus dem Formular unten.</p>"
            )
        parts_out += [
            '<div class="alert alert-warning" role="alert">Jemand anderes hat diesen Plan inzwischen gespeichert.'
            " Ihre Eingaben wurden <strong>nicht</strong> gespeichert und gehen nicht verloren: Sie stehen unten im"
            " Formular.</div>",
            '<section class="mb-4" aria-labelledby="konflikt-titel">',
            '<h2 id="konflikt-titel" class="h5">Gespeicherter Stand und Ihre Eingaben</h2>',
            '<table class="table" id="konflikt-tabelle">',
            '<caption class="visually-hidden">Felder, in denen sich der gespeicherte Stand und Ihre Eingaben'
            " unterscheiden</caption>",
            '<thead><tr><th scope="col">Feld</th><th scope="col">gespeicherter Stand</th><th scope="col">Ihre'
            " Eingabe</th></tr></thead>",
            f"<tbody>{rows}</tbody>",
            "</table>",
            advice,
            "</section>",
        ]
    live = (
        f' hx-post="{esc(urls["preview"])}" hx-trigger="input delay:500ms from:#kp-form, change from:#kp-form"'
        ' hx-include="#kp-form" hx-target="#vorschau-inhalt" hx-swap="innerHTML" hx-sync="this:replace"'
        if editable
        else ""
    )
    hint = (
        '<p class="small text-body-secondary">Vorschau Ihrer Eingaben in der Ich-Perspektive. Sie wird beim Tippen'
        " aktualisiert; gespeichert wird erst mit „Speichern“.</p>"
        if editable
        else ""
    )
    parts_out += [
        '<div id="editor-status" class="visually-hidden" role="status" aria-live="polite"></div>',
        f'<div class="row g-4" id="kp-editor" hx-headers=\'{{"X-CSRFToken": "{esc(csrf_token)}"}}\'>',
        f'<div class="col-xl-7">{parts["main"]}</div>',
        '<div class="col-xl-5">',
        f'<section class="border rounded p-3 mb-4" aria-labelledby="vorschau-titel"{live}>',
        '<h2 id="vorschau-titel" class="h5">So liest die eLb ihren Plan</h2>',
        hint,
        f'<div id="vorschau-inhalt">{parts["preview"]}</div>',
        "</section>",
        parts["versions"],
        "</div>",
        "</div>",
        parts["activation"],
        parts["continue"],
        f'<script src="{esc(urls["script"])}" defer></script>',
    ]
    return SafeString("\n".join(part for part in parts_out if part))
