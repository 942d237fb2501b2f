"""Forms of the KP editor: the plan's content, the step and Eigenbemühungen formsets, activation and diff.

Input is validated here and nothing else: the services decide with the rule engine. The formsets are
plain forms without row ids, so a client can never address a row of another plan (T6); bad input
(NUL bytes, control characters, very long text) is a German form error, never a 500 (T21).
"""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.forms.renderers import DjangoTemplates
from django.utils import timezone
from django.utils.safestring import SafeString

from kooperationsplan.markup import day, esc, joined
from kooperationsplan.models import (
    MANDATORY_SOLL_KINDS,
    OPTIONAL_SOLL_KINDS,
    ContentKind,
    EigenbemuehungKind,
    EigenbemuehungNachweisForm,
    Period,
    StepResponsible,
)

# T17: 10,000 characters of free text must work; T21: 100,000 characters are a form error.
TEXT_MAX = 10_000
STEP_TEXT_MAX = 2_000
MAX_ROWS = 30
ISO_DATE = "%Y-%m-%d"

STEPS_PREFIX = "schritte"
EB_PREFIX = "eb"
MEASURES_PREFIX = "massnahmen"

# The order in which the editor shows the content items: Soll-Inhalte (R-KP-5), Kann-Inhalte (R-KP-6),
# further agreements (R-KP-7).
SOLL_KINDS = ("SOLL_1", "SOLL_2", "SOLL_3", "SOLL_4", "SOLL_5", "SOLL_6")
KANN_KINDS = ("KANN_1", "KANN_2")
EDITOR_KINDS = (*SOLL_KINDS, *KANN_KINDS, "WEITERE")

CONTENT_HELP = {
    "SOLL_1": "Welche Eingliederungsleistungen plant das Jobcenter? In der Ich-Perspektive der eLb.",
    "SOLL_2": "Welche Eigenbemühungen unternimmt die eLb? Einzelheiten unten unter „Eigenbemühungen“.",
    "SOLL_3": "Nur wenn relevant; sonst „nicht relevant“ ankreuzen.",
    "SOLL_4": "Nur wenn relevant; sonst „nicht relevant“ ankreuzen.",
    "SOLL_5": "Das übergeordnete Ziel, z. B. die angestrebte Tätigkeit.",
    "SOLL_6": "Nur wenn relevant; sonst „nicht relevant“ ankreuzen. Gesundheitsdaten nur, soweit nötig.",
    "KANN_1": "Nur mit Einverständnis der eLb und nur, soweit der Plan es braucht (besondere Kategorie).",
    "KANN_2": "Leistungen für weitere Personen der Bedarfsgemeinschaft.",
    "WEITERE": "Z. B. Suche nach Kinderbetreuung; auch diese Absprachen sind unverbindlich (R-KP-7).",
}

_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def no_control_characters(value: str) -> None:
    """T21: control characters other than tab and line breaks are refused (NUL has Django's own check)."""
    if any(unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS and char != "\x00" for char in value):
        raise ValidationError("Der Text enthält unzulässige Steuerzeichen.", code="control_characters")


# forms.CharField already carries ProhibitNullCharactersValidator (NUL bytes); this adds the other controls.
TEXT_VALIDATORS = [no_control_characters]


def text_field(label: str, *, required: bool = False, max_length: int = TEXT_MAX, rows: int = 3, **kwargs: Any) -> Any:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        validators=TEXT_VALIDATORS,
        widget=forms.Textarea(attrs={"rows": rows}) if rows > 1 else forms.TextInput(),
        **kwargs,
    )


def date_field(label: str, *, required: bool = False, **kwargs: Any) -> Any:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(format=ISO_DATE, attrs={"type": "date"}),
        **kwargs,
    )


def choices_with_blank(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", "Bitte wählen"), *choices]


# --- Widget rendering ---------------------------------------------------------------------------------------
# The editor page shows about 50 widgets. Django renders each through its widget templates (input.html with
# attrs.html, select.html with one template per option), which was a quarter of the page's time. The renderer
# below writes the same HTML for the widget templates the editor uses in Python, with Django's escaping; any
# other template goes through Django's renderer. test_editor.py compares both renderers widget by widget.

WIDGETS = "django/forms/widgets/"
OPTION_TEMPLATE = f"{WIDGETS}select_option.html"
FORM_TEMPLATE = "django/forms/div.html"


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html: False leaves the attribute out, True writes it without a value."""
    return "".join(
        f" {esc(name)}" + ("" if value is True else f'="{esc(value)}"')
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict[str, Any]) -> str:
    value = "" if widget["value"] is None else f' value="{esc(widget["value"])}"'
    name = esc(widget["name"])
    return f'<input type="{esc(widget["type"])}" name="{name}"{value}{_attrs(widget["attrs"])}>'


def _textarea(widget: dict[str, Any]) -> str:
    value = esc(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{esc(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _select(widget: dict[str, Any]) -> str | None:
    parts = [f'<select name="{esc(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _ in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{esc(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            value, label = esc(option["value"]), esc(option["label"])
            parts.append(f'\n  <option value="{value}"{_attrs(option["attrs"])}>{label}</option>\n')
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


FAST_WIDGETS = {
    **{f"{WIDGETS}{kind}.html": _input for kind in ("text", "number", "date", "hidden", "checkbox")},
    f"{WIDGETS}textarea.html": _textarea,
    f"{WIDGETS}select.html": _select,
}


class EditorRenderer(DjangoTemplates):
    """Django's form renderer, with the editor's widgets written in Python (see above)."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name == FORM_TEMPLATE and not context["fields"] and not context["errors"]:
            # A form of hidden fields only (the formsets' management forms): div.html writes just the fields.
            return "".join(str(field) for field in context["hidden_fields"])
        fast = FAST_WIDGETS.get(template_name)
        html = fast(context["widget"]) if fast is not None else None
        return html if html is not None else super().render(template_name, context, request)


RENDERER = EditorRenderer()

# One form field with label, widget, help text and errors, as templates/kooperationsplan/editor/_field.html writes
# it (the template stays the reference: test_editor.py compares both for every field of the editor, with and
# without errors). Written in Python for the same reason as the widgets: an include per field was a fifth of the
# editor's time.
REQUIRED_NOTE = ' <span class="small text-body-secondary">(Pflichtangabe)</span>'


def _around(field: forms.BoundField) -> tuple[str, str]:
    """The markup of `field_html` before and after the widget."""
    if field.is_hidden:
        return "", ""
    auto_id = esc(field.auto_id)
    parts = []
    if field.help_text:
        parts.append(f'<div id="{auto_id}_helptext" class="form-text">{esc(field.help_text)}</div>')
    if field.errors:
        parts.append(f'<div id="{auto_id}_error" class="invalid-feedback d-block">{joined(field.errors, " ")}</div>')
    label_for, label = esc(field.id_for_label), esc(field.label)
    if field.widget_type == "checkbox":
        after = [f'<label class="form-check-label" for="{label_for}">{label}</label>', *parts]
        return '<div class="form-check mb-2">', "\n" + "\n".join(after) + "</div>"
    required = REQUIRED_NOTE if field.field.required else ""
    before = f'<div class="mb-3"><label class="form-label" for="{label_for}">{label}{required}</label>\n'
    return before, "".join(f"\n{part}" for part in parts) + "</div>"


def field_html(field: forms.BoundField) -> SafeString:
    if not field.form.is_bound:
        html = _unbound_html(field)
        if html is not None:
            return SafeString(html)
    before, after = _around(field)
    return SafeString(before + str(field) + after)  # the widget: Django's HTML, escaped by the renderer


# --- Fields of unbound forms (the editor's GET) --------------------------------------------------------------
# A field of an unbound form has no errors, and its markup depends on its value only where the value goes: the
# value attribute of an input, the text of a textarea, the checked box, the selected option. `_unbound_html`
# takes everything else from Django's own rendering of the same field, once per kind of field (`_shape`), and
# writes only the value per request. Anything it does not know (another widget, a select whose choices are
# built per request like the measure catalogue, a value that is no choice) goes the whole way through Django.
# test_editor.py compares both ways for every field of the editor with many values, character for character.
_MARK = "\x00"  # never in a label or attribute of ours; the value is written in by us, never split
_WIDGET_KINDS: dict[type[forms.Widget], str] = {
    forms.CheckboxInput: "checkbox",
    forms.Select: "select",
    forms.Textarea: "textarea",
    **dict.fromkeys((forms.TextInput, forms.NumberInput, forms.DateInput, forms.HiddenInput), "input"),
}
_compiled: dict[tuple[Any, ...], Any] = {}
_COMPILED_MAX = 4096  # bounded: the shapes are fields of our forms, never input


def _shape(field: forms.BoundField) -> tuple[Any, ...] | None:
    """Everything but the value that field_html's output of an unbound field depends on; None: not compiled."""
    form, widget, definition = field.form, field.field.widget, field.field
    kind = _WIDGET_KINDS.get(type(widget))
    if kind is None or form.renderer is not RENDERER or definition.localize or definition.disabled:
        return None
    choices: tuple[Any, ...] = ()
    if kind == "select":
        base = type(form).base_fields.get(field.name)
        if base is None or list(base.choices) != list(definition.choices):
            return None  # choices of this request only (the catalogue)
        choices = tuple(map(tuple, definition.choices))
    return (
        type(form),
        type(widget),
        kind,
        field.html_name,
        field.auto_id,
        form.use_required_attribute,
        definition.required,
        str(field.label),
        str(field.help_text),
        tuple((name, str(value)) for name, value in widget.attrs.items()),
        choices,
    )


def _widget_with(field: forms.BoundField, value: Any) -> str:
    """What str(field) writes with another value (BoundField.as_widget)."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    return str(widget.render(name=field.html_name, value=value, attrs=attrs, renderer=field.form.renderer))


def _unbound_html(field: forms.BoundField) -> str | None:
    shape = _shape(field)
    if shape is None:
        return None
    kind = shape[2]
    compiled = _compiled.get(shape)
    if compiled is None:
        if len(_compiled) >= _COMPILED_MAX:
            _compiled.clear()
        before, after = _around(field)
        if kind == "checkbox":
            compiled = {flag: before + _widget_with(field, flag) + after for flag in (False, True)}
        elif kind == "select":
            compiled = {str(value): before + _widget_with(field, value) + after for value, _ in field.field.choices}
        else:
            marked = _widget_with(field, _MARK)
            if marked.count(_MARK) != 1:
                return None
            head, tail = marked.split(_MARK)
            compiled = (before + _widget_with(field, None) + after, before + head, tail + after)
        _compiled[shape] = compiled
    value, widget = field.value(), field.field.widget
    if kind == "checkbox":
        if not (value is None or value is True or value is False or value == ""):
            return None  # a value attribute: Django's way
        return compiled[bool(widget.check_test(value))]
    if kind == "select":
        return compiled.get("" if value is None else str(value))
    empty, head, tail = compiled
    shown = widget.format_value(value)
    if kind == "textarea":
        return head + (esc(shown) if shown else "") + tail
    return empty if shown is None else head + esc(shown) + tail


class BootstrapMixin:
    """Bootstrap classes on every widget; labels, errors and aria-describedby come from the templates."""

    default_renderer = RENDERER

    def style_fields(self) -> None:
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            elif isinstance(widget, forms.HiddenInput):
                continue
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        """Fields with errors get Bootstrap's red border as well as the linked message (not colour alone)."""
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            field = self.fields.get(name)  # type: ignore[attr-defined]
            if field is not None and "is-invalid" not in field.widget.attrs.get("class", ""):
                field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} is-invalid".strip()


def text_key(kind: str) -> str:
    return f"text_{kind}"


def not_relevant_key(kind: str) -> str:
    return f"nicht_relevant_{kind}"


class PlanContentForm(BootstrapMixin, forms.Form):
    """The plan itself: Soll- and Kann-Inhalte, next goal, and the checklist of R-KP-3, R-EB-2, R-EB-3."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2_000_000_000)
    naechstes_ziel = text_field("Nächstes Ziel", help_text="Das nächste Etappenziel, in der Ich-Perspektive der eLb.")
    gemeinsam_erarbeitet = forms.BooleanField(
        label="Der Plan wurde gemeinsam mit der eLb erarbeitet (R-KP-3)", required=False
    )
    vb_erlaeutert = forms.BooleanField(
        label="Die Leistungen aus dem Vermittlungsbudget wurden erläutert (R-EB-2)", required=False
    )
    infoblatt_vb_ausgehaendigt_on = date_field(
        "Info-Blatt „VB-Eigenbemühungen/Vorstellungsgespräche“ ausgehändigt am (R-EB-3)"
    )
    beratungsvermerk_ref = text_field(
        "Beratungsvermerk (Referenz)", max_length=100, rows=1, help_text="Z. B. das Aktenzeichen des Vermerks."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in EDITOR_KINDS:
            label = ContentKind(kind).label
            self.fields[text_key(kind)] = text_field(
                label, required=kind in MANDATORY_SOLL_KINDS, rows=3, help_text=CONTENT_HELP[kind]
            )
            if kind in MANDATORY_SOLL_KINDS:
                self.fields[text_key(kind)].error_messages["required"] = (
                    f"Bitte füllen Sie den Soll-Inhalt „{label}“ aus (R-KP-5)."
                )
            if kind in OPTIONAL_SOLL_KINDS:
                self.fields[not_relevant_key(kind)] = forms.BooleanField(
                    label=f"{label}: nicht relevant", required=False
                )
        self.fields["lock_version"].error_messages["required"] = (
            "Der Bearbeitungsstand fehlt. Bitte laden Sie die Seite neu."
        )
        self.style_fields()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        handed_out = cleaned.get("infoblatt_vb_ausgehaendigt_on")
        if handed_out is not None and handed_out > timezone.localdate():
            self.add_error(
                "infoblatt_vb_ausgehaendigt_on", "Das Datum der Aushändigung darf nicht in der Zukunft liegen."
            )
        for kind in OPTIONAL_SOLL_KINDS:
            if cleaned.get(text_key(kind)) and cleaned.get(not_relevant_key(kind)):
                self.add_error(
                    not_relevant_key(kind),
                    "Bitte geben Sie entweder einen Text ein oder kreuzen Sie „nicht relevant“ an, nicht beides.",
                )
        return cleaned

    def sections(self) -> list[dict[str, Any]]:
        """Fieldsets for the template: legend, the text field and, for Soll 3/4/6, the "nicht relevant" box."""
        groups = (
            ("Soll-Inhalte (R-KP-5)", SOLL_KINDS),
            ("Kann-Inhalte (R-KP-6)", KANN_KINDS),
            ("Weitere Absprachen (R-KP-7)", ("WEITERE",)),
        )
        return [
            {
                "legend": legend,
                "items": [
                    {
                        "kind": kind,
                        "text": self[text_key(kind)],
                        "not_relevant": self[not_relevant_key(kind)] if kind in OPTIONAL_SOLL_KINDS else None,
                        "mandatory": kind in MANDATORY_SOLL_KINDS,
                    }
                    for kind in kinds
                ],
            }
            for legend, kinds in groups
        ]

    def checklist_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in (
                "gemeinsam_erarbeitet",
                "vb_erlaeutert",
                "infoblatt_vb_ausgehaendigt_on",
                "beratungsvermerk_ref",
            )
        ]


class StepForm(BootstrapMixin, forms.Form):
    """A next step (001 §5). No id field: the service replaces the plan's own rows (T6)."""

    # The row's name (legend, "entfernen" box, "hinzufügen" button) and how `row_html` lays it out
    # (_step_row.html): a field on its own, or a Bootstrap row of columns.
    row_legend = "Schritt"
    row_layout = ((("col-12", "text"), ("col-md-4", "responsible"), ("col-md-4", "due_on"), ("col-md-4", "done_on")),)
    row_removed_note = "Dieser Schritt wird beim Speichern entfernt."

    text = text_field("Schritt (Ich-Perspektive)", required=True, max_length=STEP_TEXT_MAX, rows=2)
    responsible = forms.ChoiceField(
        label="verantwortlich", choices=StepResponsible.choices, initial=StepResponsible.ELB
    )
    due_on = date_field("bis")
    done_on = date_field("erledigt am")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].error_messages["required"] = (
            "Bitte beschreiben Sie den Schritt oder kreuzen Sie „Entfernen“ an."
        )
        self.style_fields()


class EigenbemuehungForm(BootstrapMixin, forms.Form):
    """An Eigenbemühung (R-EB-1): kind, minimum count, period, form and due day of the Nachweis."""

    row_legend = "Eigenbemühung"
    row_layout = (
        (("col-md-4", "kind"), ("col-md-4", "min_count"), ("col-md-4", "period")),
        "description",
        (("col-md-6", "nachweis_form"), ("col-md-6", "nachweis_due_day")),
        "min_count_zero_reason",
    )
    row_removed_note = "Diese Eigenbemühung wird beim Speichern entfernt."

    kind = forms.ChoiceField(label="Art", choices=choices_with_blank(EigenbemuehungKind.choices))
    description = text_field("Beschreibung (Ich-Perspektive)", max_length=STEP_TEXT_MAX, rows=2)
    min_count = forms.IntegerField(label="mindestens (Anzahl)", min_value=0, max_value=99)
    period = forms.ChoiceField(label="Zeitraum", choices=choices_with_blank(Period.choices))
    nachweis_form = forms.ChoiceField(
        label="Form des Nachweises", choices=choices_with_blank(EigenbemuehungNachweisForm.choices)
    )
    nachweis_due_day = forms.IntegerField(
        label="Nachweis bis zum Tag … des Folgezeitraums",
        min_value=1,
        max_value=28,
        help_text="Ein Tag von 1 bis 28, z. B. 5 für „bis zum 5. des Folgemonats“ (D-07).",
    )
    min_count_zero_reason = text_field(
        "Begründung bei Anzahl 0", max_length=300, rows=1, help_text="Nur nötig, wenn die Anzahl 0 ist (R-EB-1)."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].error_messages["required"] = "Bitte wählen Sie die Art der Eigenbemühung."
        self.fields["period"].error_messages["required"] = "Bitte wählen Sie den Zeitraum."
        self.fields["nachweis_form"].error_messages["required"] = "Bitte wählen Sie die Form des Nachweises."
        self.fields["min_count"].error_messages["required"] = "Bitte geben Sie die Mindestanzahl an (auch 0)."
        self.fields["nachweis_due_day"].error_messages["required"] = (
            "Bitte geben Sie an, bis zu welchem Tag der Nachweis vorliegen soll."
        )
        self.style_fields()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("min_count") == 0 and not cleaned.get("min_count_zero_reason"):
            self.add_error(
                "min_count_zero_reason",
                "Eine Mindestanzahl von 0 braucht eine Begründung, z. B. ein laufendes Reha-Verfahren (R-EB-1).",
            )
        return cleaned


class MassnahmeRowForm(BootstrapMixin, forms.Form):
    """A measure or AGH agreed in the KP (Soll-Inhalt 1, R-ZUW-1). After activation it is assigned by an
    informational Zuweisungsschreiben without RFB. The catalogue comes in once per request (`catalogue`)."""

    row_legend = "Maßnahme"
    row_layout = ("massnahme", (("col-md-4", "start_date"), ("col-md-4", "end_date"), ("col-md-4", "rueckmeldung_due")))
    row_removed_note = "Diese Maßnahme wird beim Speichern entfernt."

    massnahme = forms.TypedChoiceField(label="Maßnahme/AGH aus dem Katalog", coerce=int, empty_value=None)
    start_date = date_field("Beginn", required=True)
    end_date = date_field("Ende", help_text="Leer lassen für die übliche Dauer der Maßnahme.")
    rueckmeldung_due = date_field(
        "Vorstellung/Rückmeldung beim Träger bis",
        required=True,
        help_text="Steht im Zuweisungsschreiben (D-05); spätestens am Tag des Beginns.",
    )

    def __init__(self, *args: Any, catalogue: tuple[tuple[int, str, int], ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.durations = {pk: weeks for pk, _, weeks in catalogue}
        field = self.fields["massnahme"]
        field.choices = [("", "Bitte wählen"), *((pk, label) for pk, label, _ in catalogue)]
        field.error_messages["required"] = "Bitte wählen Sie die Maßnahme aus dem Katalog."
        field.error_messages["invalid_choice"] = "Diese Maßnahme ist nicht im Katalog."
        self.fields["start_date"].error_messages["required"] = "Bitte geben Sie den Beginn der Maßnahme an."
        self.fields["rueckmeldung_due"].error_messages["required"] = (
            "Bitte geben Sie an, bis wann sich die eLb beim Träger vorstellt oder zurückmeldet (R-ZUW-1)."
        )
        self.style_fields()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start: date | None = cleaned.get("start_date")
        massnahme = cleaned.get("massnahme")
        if start is not None and cleaned.get("end_date") is None and massnahme in self.durations:
            # The usual duration of the measure, counted from the first day.
            cleaned["end_date"] = start + timedelta(weeks=self.durations[massnahme], days=-1)
        end: date | None = cleaned.get("end_date")
        due: date | None = cleaned.get("rueckmeldung_due")
        if start is not None and end is not None and end < start:
            self.add_error("end_date", "Das Ende darf nicht vor dem Beginn liegen.")
        if start is not None and due is not None and due > start:
            self.add_error("rueckmeldung_due", "Die Vorstellung/Rückmeldung muss spätestens am Tag des Beginns liegen.")
        return cleaned


class RowFormSet(forms.BaseFormSet):
    """Rows of plain forms; the DELETE box of each row gets an accessible name ("Schritt 2 entfernen")."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            number = "" if index is None else f" {index + 1}"
            form.fields["DELETE"].label = f"{self.form.row_legend}{number} entfernen"
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input row-delete"

    def new_row(self, index: int) -> forms.Form:
        """An empty row with the given index, as the "hinzufügen" button appends it."""
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix(index),
            empty_permitted=True,
            use_required_attribute=False,
            renderer=self.renderer,
            **self.get_form_kwargs(index),
        )
        self.add_fields(form, index)
        return form


_ROWS = {
    "extra": 0,
    "can_delete": True,
    "max_num": MAX_ROWS,
    "validate_max": True,
    "absolute_max": MAX_ROWS,
    "renderer": RENDERER,  # for the rows and the management form
}
StepFormSet = formset_factory(StepForm, formset=RowFormSet, **_ROWS)
EigenbemuehungFormSet = formset_factory(EigenbemuehungForm, formset=RowFormSet, **_ROWS)
MassnahmeFormSet = formset_factory(MassnahmeRowForm, formset=RowFormSet, **_ROWS)

# The formsets by the kind of row the "hinzufügen" button asks for (kp:plan_row): formset, prefix, plural.
ROW_KINDS: dict[str, tuple[type[forms.BaseFormSet], str, str]] = {
    "schritt": (StepFormSet, STEPS_PREFIX, "Schritte"),
    "eigenbemuehung": (EigenbemuehungFormSet, EB_PREFIX, "Eigenbemühungen"),
    "massnahme": (MassnahmeFormSet, MEASURES_PREFIX, "Maßnahmen"),
}


class ActivationForm(BootstrapMixin, forms.Form):
    """DRAFT → ACTIVE (R-KP-4): optional start and end of the term; the review date follows from the rules."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2_000_000_000)
    valid_from = date_field("gültig ab", help_text="Leer lassen für heute.")
    valid_to = date_field(
        "gültig bis", help_text="Leer lassen für sechs Monate. Die Überprüfung bleibt spätestens nach sechs Monaten."
    )
    return_without_rfb_reason = text_field(
        "Rückkehr zur Zusammenarbeit ohne RFB: Begründung (R-RET-1)",
        max_length=2_000,
        help_text="Nur ausfüllen, wenn der Fall zur Zusammenarbeit ohne Rechtsfolgenbelehrung zurückkehren soll.",
    )
    with_flyer = forms.BooleanField(label="Flyer/Informationsmaterial beilegen (R-KP-7)", required=False)

    EARLIEST_DAYS_BACK = 30
    LATEST_DAYS_AHEAD = 180

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        today = timezone.localdate()
        valid_from: date | None = cleaned.get("valid_from")
        valid_to: date | None = cleaned.get("valid_to")
        if valid_from is not None and valid_from < today - timedelta(days=self.EARLIEST_DAYS_BACK):
            self.add_error("valid_from", f"„gültig ab“ darf höchstens {self.EARLIEST_DAYS_BACK} Tage zurückliegen.")
        elif valid_from is not None and valid_from > today + timedelta(days=self.LATEST_DAYS_AHEAD):
            self.add_error(
                "valid_from", f"„gültig ab“ darf höchstens {self.LATEST_DAYS_AHEAD} Tage in der Zukunft liegen."
            )
        elif valid_to is not None:
            start = valid_from or today
            if valid_to < start:
                self.add_error("valid_to", "„gültig bis“ darf nicht vor „gültig ab“ liegen.")
            elif valid_to > start + timedelta(days=3 * 366):
                self.add_error("valid_to", "„gültig bis“ darf höchstens drei Jahre nach „gültig ab“ liegen.")
        return cleaned


class ActivationPreviewForm(ActivationForm):
    """The same dates for the live check of the review date (GET, no lock version needed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lock_version"].required = False


class DiffForm(forms.Form):
    von = forms.IntegerField(label="Version vorher", min_value=1, max_value=2**62)
    zu = forms.IntegerField(label="Version nachher", min_value=1, max_value=2**62)


class RowIndexForm(forms.Form):
    """The next row index of a formset (the current TOTAL_FORMS), sent by the "hinzufügen" button."""

    index = forms.IntegerField(min_value=0, max_value=MAX_ROWS)


# --- The editor form in Python ------------------------------------------------------------------------------
# The rows of the three formsets and the editor form around them, as templates/kooperationsplan/editor/
# _step_row.html, _eb_row.html, _measure_row.html and _form.html write them. Those templates stay the reference:
# test_editor.py renders both ways (unbound, bound with errors and hostile text, in a conflict) and compares them.
# Written in Python for the reason the fields are: the loops and includes of the form were a quarter of the
# editor's time (bench/RESULTS.md "Pages"). Every value is escaped; the markup is our own.


def row_html(form: forms.Form, number: int) -> SafeString:
    """One row of a formset: legend, row errors, the fields as the form's `row_layout` places them, and the
    "entfernen" box."""
    parts = [
        f'<fieldset class="formset-row border rounded p-3 mb-3" id="{esc(form.prefix)}-zeile">',
        f'<legend class="fs-6 fw-semibold float-none w-auto px-1 mb-1">{esc(form.row_legend)} {int(number)}</legend>',
    ]
    if form.non_field_errors():
        parts.append(f'<div class="alert alert-danger py-2" role="alert">{joined(form.non_field_errors(), " ")}</div>')
    for part in form.row_layout:
        if isinstance(part, str):
            parts.append(field_html(form[part]))
        else:
            columns = "".join(f'<div class="{column}">{field_html(form[name])}</div>' for column, name in part)
            parts.append(f'<div class="row g-2">{columns}</div>')
    parts.append(field_html(form["DELETE"]))
    parts.append(f'<p class="delete-note small text-danger mb-0" hidden>{esc(form.row_removed_note)}</p></fieldset>')
    return SafeString("\n".join(parts))


def _formset_html(formset: forms.BaseFormSet, add_url: str) -> str:
    """Management form, formset errors, the rows (in `<prefix>-zeilen`) and the "hinzufügen" button."""
    rows_id = esc(f"{formset.prefix}-zeilen")
    management = formset.management_form
    if management.is_bound:
        parts = [str(management)]
    else:  # hidden fields only: what the renderer writes for it, field by field
        parts = ["".join(field_html(management[name]) for name in management.fields)]
    if formset.non_form_errors():
        parts.append(f'<div class="alert alert-danger" role="alert">{joined(formset.non_form_errors(), " ")}</div>')
    rows = "".join(row_html(form, number) for number, form in enumerate(formset.forms, start=1))
    parts.append(f'<div id="{rows_id}" class="formset-rows">{rows}</div>')
    total_id = esc(f"id_{formset.prefix}-TOTAL_FORMS")
    label = esc(f"{formset.form.row_legend} hinzufügen")
    parts.append(
        f'<button type="button" class="btn btn-outline-primary btn-sm" hx-get="{esc(add_url)}"'
        f' hx-include="#{total_id}" hx-target="#{rows_id}" hx-swap="beforeend">{label}</button>'
    )
    return "\n".join(parts)


def form_html(
    *,
    form: PlanContentForm,
    steps: forms.BaseFormSet,
    ebs: forms.BaseFormSet,
    measures: forms.BaseFormSet,
    fixed_measures: Any,
    conflict: dict[str, Any] | None,
    csrf_token: str,
    urls: dict[str, str],
) -> SafeString:
    """The editor form (_form.html). `urls`: "save", "cancel" and the "add row" URL of each formset by prefix."""
    parts = [
        f'<form id="kp-form" method="post" action="{esc(urls["save"])}" novalidate>',
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{esc(csrf_token)}">',
        field_html(form["lock_version"]),
    ]
    if form.non_field_errors() or form["lock_version"].errors:
        errors = f"{joined(form.non_field_errors(), ' ')} {joined(form['lock_version'].errors, ' ')}"
        parts.append(f'<div class="alert alert-danger" role="alert">{errors}</div>')
    if conflict:
        parts.append('<h2 class="h5">Ihre Eingaben (nicht gespeichert)</h2>')
    for section in form.sections():
        parts.append(f'<fieldset class="mb-4"><legend class="h5">{esc(section["legend"])}</legend>')
        for item in section["items"]:
            parts.append(field_html(item["text"]))
            if item["not_relevant"] is not None:
                parts.append(f'<div class="mb-3">{field_html(item["not_relevant"])}</div>')
        parts.append("</fieldset>")
    parts += [
        '<fieldset class="mb-4"><legend class="h5">Nächstes Ziel und nächste Schritte</legend>',
        field_html(form["naechstes_ziel"]),
        _formset_html(steps, urls[STEPS_PREFIX]),
        "</fieldset>",
        '<fieldset class="mb-4"><legend class="h5">Eigenbemühungen (R-EB-1)</legend>',
        '<p class="small">Für jede Eigenbemühung: Art, Mindestanzahl, Zeitraum und wie und bis wann sie nachgewiesen'
        " wird.</p>",
        _formset_html(ebs, urls[EB_PREFIX]),
        "</fieldset>",
        '<fieldset class="mb-4"><legend class="h5">Maßnahmen und Arbeitsgelegenheiten (Soll-Inhalt 1, R-ZUW-1)'
        "</legend>",
        '<p class="small">Nach der Aktivierung erhält die eLb zu jeder Maßnahme zuerst ein Zuweisungsschreiben ohne'
        " Rechtsfolgenbelehrung.</p>",
    ]
    if fixed_measures:
        listed = "".join(
            f"<li>{esc(measure.title)} ({esc(measure.traeger)}), {day(measure.start_date)} bis"
            f" {day(measure.end_date)}</li>"
            for measure in fixed_measures
        )
        parts.append('<p class="small mb-1">Bereits zugewiesen (hier nicht änderbar):</p>')
        parts.append(f'<ul class="small" id="zugewiesene-massnahmen">{listed}</ul>')
    parts += [
        _formset_html(measures, urls[MEASURES_PREFIX]),
        "</fieldset>",
        '<fieldset class="mb-4"><legend class="h5">Checkliste zum Beratungsgespräch</legend>',
        *(field_html(field) for field in form.checklist_fields()),
        "</fieldset>",
    ]
    if not conflict or conflict.get("still_editable"):
        label = "Meine Eingaben speichern" if conflict else "Speichern"
        parts.append(
            '<div class="d-flex gap-2 align-items-center">'
            f'<button type="submit" class="btn btn-primary" id="kp-speichern">{label}</button>'
            f'<a class="btn btn-link" href="{esc(urls["cancel"])}">Abbrechen</a></div>'
        )
    parts.append("</form>")
    return SafeString("\n".join(parts))
