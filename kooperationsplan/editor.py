"""The KP editor under /faelle/<case_id>/kp/: draft editing with a live first-person preview, activation,
Fortschreibung, read-only older versions, and the comparison of two versions.

Every view loads the case through `case_get_for_view` first (team scoping with 404 and one access-log
row, T1/T2; the editor's GET reads its rows in the same statement, `editor_load`), so even a wrong HTTP method
on another team's case answers 404. Views are thin: they validate input with editor_forms and call the services,
which ask rules/. A save against an older `lock_version` is refused by the service and answered with a conflict
page that keeps the input (T7).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CooperationMode, Role, User
from cases.rows import execute_prepared, instance, instances, json_columns, json_rows, merge_params, prefetched
from cases.selectors import case_get_for_view, case_get_for_view_with
from kooperationsplan import services
from kooperationsplan.editor_forms import (
    EB_PREFIX,
    EDITOR_KINDS,
    MAX_ROWS,
    MEASURES_PREFIX,
    ROW_KINDS,
    STEPS_PREFIX,
    ActivationForm,
    ActivationPreviewForm,
    DiffForm,
    EigenbemuehungFormSet,
    MassnahmeFormSet,
    PlanContentForm,
    RowIndexForm,
    StepFormSet,
    not_relevant_key,
    text_key,
)
from kooperationsplan.editor_html import activation_checks_html, preview_html
from kooperationsplan.facts import (
    CASE_ROWS_JSON,
    PLAN_CONTENT_ITEMS,
    PLAN_EIGENBEMUEHUNGEN,
    CaseData,
    case_facts,
    case_rows_params,
    plan_facts,
)
from kooperationsplan.models import (
    OPTIONAL_SOLL_KINDS,
    AssignmentStatus,
    ContentItem,
    ContentKind,
    Eigenbemuehung,
    EigenbemuehungKind,
    EigenbemuehungNachweisForm,
    Kooperationsplan,
    KPStatus,
    Massnahme,
    MassnahmeArt,
    MassnahmeZuweisung,
    Period,
    Step,
    StepResponsible,
)
from kooperationsplan.notifications import header_columns, header_read
from kooperationsplan.reasons import explain
from kooperationsplan.workflow import ConcurrentEdit, WorkflowRefused
from rules import plan as plan_rules
from rules.decision import Decision, Reason, combine, refuse

EDITABLE_STATUSES = (KPStatus.DRAFT, KPStatus.UNDER_REVIEW)
CONTINUABLE_STATUSES = (KPStatus.ACTIVE, KPStatus.UNDER_REVIEW)
WRITER_ROLES = (Role.IFK, Role.TEAMLEITUNG)
ACTIVATION_PREFIX = "aktivierung"
TEMPLATES = "kooperationsplan/editor"


# --- The plan's content as plain values: for the service, the preview, the conflict check and the diff ---


@dataclass(frozen=True)
class StepContent:
    text: str
    responsible: str
    due_on: date | None
    done_on: date | None


@dataclass(frozen=True)
class EigenbemuehungContent:
    kind: str
    description: str
    min_count: int | None
    period: str
    nachweis_form: str
    nachweis_due_day: int | None
    min_count_zero_reason: str


@dataclass(frozen=True)
class MeasureContent:
    """A measure of the plan. Only PLANNED ones are edited here; issued ones are shown and kept (R-ZUW-1)."""

    massnahme_id: int
    title: str
    traeger: str
    start_date: date | None
    end_date: date | None
    rueckmeldung_due: date | None
    status: str = AssignmentStatus.PLANNED

    @property
    def editable(self) -> bool:
        return self.status == AssignmentStatus.PLANNED


@dataclass(frozen=True)
class CatalogueEntry:
    pk: int
    title: str
    traeger: str
    art: str
    duration_weeks: int

    @property
    def label(self) -> str:
        return f"{self.title} – {self.traeger} ({self.art})"


@dataclass(frozen=True)
class PlanContent:
    naechstes_ziel: str
    items: Mapping[str, tuple[str, bool]]  # kind -> (text, nicht relevant); only filled or "nicht relevant" kinds
    steps: tuple[StepContent, ...]
    eigenbemuehungen: tuple[EigenbemuehungContent, ...]
    checklist: Mapping[str, Any]
    massnahmen: tuple[MeasureContent, ...] = ()

    @property
    def fixed_massnahmen(self) -> tuple[MeasureContent, ...]:
        return tuple(measure for measure in self.massnahmen if not measure.editable)


def _items(raw: Iterable[tuple[str, str, bool]]) -> dict[str, tuple[str, bool]]:
    """As the service stores them: "nicht relevant" wins with an empty text, empty items are dropped."""
    items: dict[str, tuple[str, bool]] = {}
    for kind, text, not_relevant in raw:
        if not_relevant and kind in OPTIONAL_SOLL_KINDS:
            items[kind] = ("", True)
        elif text.strip():
            items[kind] = (text.strip(), False)
    return items


def content_from_plan(plan: Kooperationsplan) -> PlanContent:
    """The saved content (uses the prefetched rows of `plan_load`). Several "Weitere" items are shown as one."""
    texts: dict[str, list[str]] = {}
    flags: dict[str, bool] = {}
    for item in plan.content_items.all():
        texts.setdefault(item.kind, []).append(item.text)
        flags[item.kind] = flags.get(item.kind, False) or item.nicht_relevant
    return PlanContent(
        naechstes_ziel=plan.naechstes_ziel,
        items=_items((kind, "\n\n".join(t for t in texts[kind] if t), flags[kind]) for kind in texts),
        steps=tuple(StepContent(step.text, step.responsible, step.due_on, step.done_on) for step in plan.steps.all()),
        eigenbemuehungen=tuple(
            EigenbemuehungContent(
                eb.kind,
                eb.description,
                eb.min_count,
                eb.period,
                eb.nachweis_form,
                eb.nachweis_due_day,
                eb.min_count_zero_reason,
            )
            for eb in plan.eigenbemuehungen.all()
        ),
        massnahmen=tuple(
            MeasureContent(
                assignment.massnahme_id,
                assignment.massnahme.title,
                assignment.massnahme.traeger_name,
                assignment.start_date,
                assignment.end_date,
                assignment.rueckmeldung_due,
                assignment.status,
            )
            for assignment in plan.assignments.all()
        ),
        checklist={
            "gemeinsam_erarbeitet": plan.gemeinsam_erarbeitet,
            "vb_erlaeutert": plan.vb_erlaeutert,
            "infoblatt_vb_ausgehaendigt_on": plan.infoblatt_vb_ausgehaendigt_on,
            "beratungsvermerk_ref": plan.beratungsvermerk_ref,
        },
    )


def _kept_rows(formset: forms.BaseFormSet) -> list[dict[str, Any]]:
    """The valid values of the rows not marked "Entfernen", in form order (the new position)."""
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if data.get("DELETE"):
            continue
        rows.append(data)
    return rows


def content_from_forms(
    form: PlanContentForm,
    steps: forms.BaseFormSet,
    ebs: forms.BaseFormSet,
    measures: forms.BaseFormSet,
    *,
    saved: PlanContent,
    catalogue: Mapping[int, CatalogueEntry],
) -> PlanContent:
    """The submitted content. Lenient for the preview: fields that do not validate are left out. Measures that
    are already issued are not part of the form and are carried over from the saved plan."""
    data = getattr(form, "cleaned_data", None) or {}
    planned = tuple(
        MeasureContent(
            row["massnahme"],
            catalogue[row["massnahme"]].title,
            catalogue[row["massnahme"]].traeger,
            row.get("start_date"),
            row.get("end_date"),
            row.get("rueckmeldung_due"),
        )
        for row in _kept_rows(measures)
        if row.get("massnahme") in catalogue
    )
    return PlanContent(
        naechstes_ziel=data.get("naechstes_ziel", ""),
        items=_items(
            (kind, data.get(text_key(kind), ""), bool(data.get(not_relevant_key(kind)))) for kind in EDITOR_KINDS
        ),
        steps=tuple(
            StepContent(
                row["text"], row.get("responsible") or StepResponsible.ELB, row.get("due_on"), row.get("done_on")
            )
            for row in _kept_rows(steps)
            if row.get("text")
        ),
        eigenbemuehungen=tuple(
            EigenbemuehungContent(
                row["kind"],
                row.get("description", ""),
                row.get("min_count"),
                row.get("period", ""),
                row.get("nachweis_form", ""),
                row.get("nachweis_due_day"),
                row.get("min_count_zero_reason", ""),
            )
            for row in _kept_rows(ebs)
            if row.get("kind")
        ),
        massnahmen=saved.fixed_massnahmen + planned,
        checklist={
            key: data.get(key)
            for key in (
                "gemeinsam_erarbeitet",
                "vb_erlaeutert",
                "infoblatt_vb_ausgehaendigt_on",
                "beratungsvermerk_ref",
            )
            if key in data
        },
    )


def _service_arguments(content: PlanContent) -> dict[str, Any]:
    return {
        "naechstes_ziel": content.naechstes_ziel,
        "items": {kind: content.items.get(kind, ("", False)) for kind in EDITOR_KINDS},
        "steps": [asdict(step) for step in content.steps],
        "eigenbemuehungen": [asdict(eb) for eb in content.eigenbemuehungen],
        "massnahmen": [
            {
                "massnahme_id": measure.massnahme_id,
                "start_date": measure.start_date,
                "end_date": measure.end_date,
                "rueckmeldung_due": measure.rueckmeldung_due,
            }
            for measure in content.massnahmen
            if measure.editable
        ],
        "checklist": dict(content.checklist),
    }


# --- First-person preview (R-KP-3: the plan is read in the Ich-Perspektive of the eLb) ---------------------

EB_SENTENCES = {
    EigenbemuehungKind.BEWERBUNG: "Ich bewerbe mich mindestens {times} {period}.",
    EigenbemuehungKind.INITIATIV: "Ich bewerbe mich mindestens {times} {period} initiativ, also ohne Stellenanzeige.",
    EigenbemuehungKind.VORSTELLUNG: "Ich nehme mindestens {times} {period} an Vorstellungsgesprächen teil.",
    EigenbemuehungKind.STELLENSUCHE: "Ich suche mindestens {times} {period} nach passenden Stellen, "
    "zum Beispiel in der Jobbörse.",
    EigenbemuehungKind.SONSTIGE: "Ich kümmere mich mindestens {times} {period} um diese Eigenbemühung.",
}
PERIOD_PHRASES = {
    Period.WOCHE: "pro Woche",
    Period.MONAT: "pro Monat",
    Period.QUARTAL: "pro Quartal",
    Period.LAUFZEIT: "während der Laufzeit des Plans",
}
FOLLOWING_PERIOD = {
    Period.WOCHE: "Tag der Folgewoche",
    Period.MONAT: "des Folgemonats",
    Period.QUARTAL: "Tag des Folgequartals",
    Period.LAUFZEIT: "Tag nach dem Ende des Plans",
}
STEP_RESPONSIBLE_NOTES = {
    StepResponsible.JOBCENTER: "Darum kümmert sich das Jobcenter.",
    StepResponsible.DRITTE: "Darum kümmern sich Dritte.",
}
# Measures that are part of the plan as the eLb reads it (not withdrawn, lifted or replaced ones).
SHOWN_MEASURES = (
    AssignmentStatus.PLANNED,
    AssignmentStatus.SCHREIBEN_ISSUED,
    AssignmentStatus.BESCHEID_ISSUED,
    AssignmentStatus.REPORTED,
    AssignmentStatus.NOT_REPORTED,
    AssignmentStatus.STARTED,
)
NOT_BINDING_NOTE = (
    "Dieser Plan ist unser gemeinsames Ergebnis. Er ist rechtlich nicht verbindlich: Ich unterschreibe ihn nicht, "
    "und er enthält keine Rechtsfolgenbelehrung."
)


def _times(count: int) -> str:
    return "einmal" if count == 1 else f"{count}-mal"


def eigenbemuehung_sentences(eb: EigenbemuehungContent) -> list[str]:
    """R-EB-1 in the eLb's words: "Ich bewerbe mich mindestens 5-mal pro Monat. Den Nachweis (…) gebe ich …"."""
    sentences = []
    period = PERIOD_PHRASES.get(eb.period, "")
    if eb.min_count == 0:
        reason = f" Grund: {eb.min_count_zero_reason}" if eb.min_count_zero_reason else ""
        sentences.append(
            f"Eine Mindestanzahl ({EigenbemuehungKind(eb.kind).label}) ist derzeit nicht vereinbart.{reason}"
        )
    elif eb.min_count is not None and period:
        sentences.append(EB_SENTENCES[eb.kind].format(times=_times(eb.min_count), period=period))
    if eb.description:
        sentences.append(eb.description)
    if eb.nachweis_form and eb.nachweis_due_day and eb.period:
        form_label = EigenbemuehungNachweisForm(eb.nachweis_form).label
        following = FOLLOWING_PERIOD[eb.period]
        sentences.append(f"Den Nachweis ({form_label}) gebe ich bis zum {eb.nachweis_due_day}. {following} ab.")
    return sentences


def step_sentence(step: StepContent) -> str:
    parts = [step.text]
    if step.due_on:
        parts.append(f"Bis zum {step.due_on:%d.%m.%Y}.")
    if step.responsible in STEP_RESPONSIBLE_NOTES:
        parts.append(STEP_RESPONSIBLE_NOTES[step.responsible])
    if step.done_on:
        parts.append(f"Erledigt am {step.done_on:%d.%m.%Y}.")
    return " ".join(parts)


def measure_sentence(measure: MeasureContent) -> str:
    """R-KP-3 / R-ZUW-1: the measure in the eLb's words, with the date of the Vorstellung/Rückmeldung."""
    parts = [f"Ich nehme an der Maßnahme „{measure.title}“ bei {measure.traeger} teil"]
    if measure.start_date and measure.end_date:
        parts[0] += f", vom {measure.start_date:%d.%m.%Y} bis zum {measure.end_date:%d.%m.%Y}"
    parts[0] += "."
    if measure.rueckmeldung_due:
        parts.append(f"Ich melde mich bis zum {measure.rueckmeldung_due:%d.%m.%Y} beim Träger.")
    parts.append("Alle Einzelheiten stehen im Zuweisungsschreiben.")
    return " ".join(parts)


def preview(content: PlanContent, plan: Kooperationsplan) -> dict[str, Any]:
    """The plan as the eLb reads it. Sections 1-5 always appear; the others only when they have content."""

    def text(kind: str) -> str:
        return content.items.get(kind, ("", False))[0]

    always = [
        {"title": "Mein Ziel", "paragraphs": [text("SOLL_5")]},
        {"title": "Mein nächstes Ziel", "paragraphs": [content.naechstes_ziel]},
        {"title": "Meine nächsten Schritte", "items": [step_sentence(step) for step in content.steps]},
        {
            "title": "Meine Eigenbemühungen",
            "paragraphs": [text("SOLL_2")],
            "items": [" ".join(eigenbemuehung_sentences(eb)) for eb in content.eigenbemuehungen],
        },
        {
            "title": "Das Jobcenter unterstützt mich",
            "paragraphs": [text("SOLL_1")],
            "items": [measure_sentence(measure) for measure in content.massnahmen if measure.status in SHOWN_MEASURES],
        },
    ]
    optional = [
        ("Deutschkurs und Sprachförderung", "SOLL_3"),
        ("Unterstützung durch andere Stellen", "SOLL_4"),
        ("Rehabilitation", "SOLL_6"),
        ("Meine Gesundheit", "KANN_1"),
        ("Meine Familie (Bedarfsgemeinschaft)", "KANN_2"),
        ("Weitere Absprachen", "WEITERE"),
    ]
    sections = always + [{"title": title, "paragraphs": [text(kind)]} for title, kind in optional if text(kind)]
    for section in sections:
        section["paragraphs"] = [p for p in section.get("paragraphs", []) if p]
        section["items"] = [i for i in section.get("items", []) if i]
    if plan.valid_from and plan.valid_to and plan.review_due:
        term = (
            f"Mein Plan gilt vom {plan.valid_from:%d.%m.%Y} bis zum {plan.valid_to:%d.%m.%Y}. Spätestens am "
            f"{plan.review_due:%d.%m.%Y} sprechen wir gemeinsam darüber, wie es weitergeht."
        )
    else:
        term = (
            "Mein Plan gilt ab seiner Aktivierung, in der Regel für sechs Monate. Spätestens dann sprechen wir "
            "gemeinsam darüber, wie es weitergeht."
        )
    return {"sections": sections, "term": term, "note": NOT_BINDING_NOTE}


# --- Field-by-field comparison (diff view, conflict page, read-only view) --------------------------------


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    return str(value)


def _step_value(step: StepContent) -> str:
    responsible = StepResponsible(step.responsible).label if step.responsible in StepResponsible.values else "–"
    done = f"; erledigt am: {_fmt(step.done_on)}" if step.done_on else ""
    return f"{step.text} (verantwortlich: {responsible}; bis: {_fmt(step.due_on)}{done})"


def _eb_value(eb: EigenbemuehungContent) -> str:
    kind = EigenbemuehungKind(eb.kind).label if eb.kind in EigenbemuehungKind.values else eb.kind
    period = Period(eb.period).label if eb.period in Period.values else "–"
    nachweis = (
        EigenbemuehungNachweisForm(eb.nachweis_form).label
        if eb.nachweis_form in EigenbemuehungNachweisForm.values
        else "–"
    )
    parts = [
        f"{kind}: mindestens {_fmt(eb.min_count)} {period}",
        f"Nachweis: {nachweis} bis zum Tag {_fmt(eb.nachweis_due_day)} des Folgezeitraums",
    ]
    if eb.description:
        parts.append(f"Beschreibung: {eb.description}")
    if eb.min_count_zero_reason:
        parts.append(f"Begründung bei 0: {eb.min_count_zero_reason}")
    return "; ".join(parts)


def _measure_value(measure: MeasureContent) -> str:
    status = AssignmentStatus(measure.status).label if measure.status in AssignmentStatus.values else measure.status
    return (
        f"{measure.title} ({measure.traeger}; {_fmt(measure.start_date)} bis {_fmt(measure.end_date)}; "
        f"Rückmeldung bis {_fmt(measure.rueckmeldung_due)}; {status})"
    )


def comparable_fields(
    content: PlanContent, plan: Kooperationsplan | None, *, steps: int = 0, ebs: int = 0, measures: int = 0
) -> dict[str, str]:
    """Label -> displayed value, in page order. `plan` adds the validity dates; `steps`/`ebs`/`measures` pad
    the rows."""
    fields: dict[str, str] = {}
    for kind in EDITOR_KINDS:
        label = ContentKind(kind).label
        text, not_relevant = content.items.get(kind, ("", False))
        fields[label] = _fmt(text)
        if kind in OPTIONAL_SOLL_KINDS:
            fields[f"{label}: nicht relevant"] = _fmt(not_relevant)
    fields["Nächstes Ziel"] = _fmt(content.naechstes_ziel)
    for index in range(max(len(content.steps), steps)):
        row = content.steps[index] if index < len(content.steps) else None
        fields[f"Schritt {index + 1}"] = _step_value(row) if row else "–"
    for index in range(max(len(content.eigenbemuehungen), ebs)):
        eb = content.eigenbemuehungen[index] if index < len(content.eigenbemuehungen) else None
        fields[f"Eigenbemühung {index + 1}"] = _eb_value(eb) if eb else "–"
    for index in range(max(len(content.massnahmen), measures)):
        measure = content.massnahmen[index] if index < len(content.massnahmen) else None
        fields[f"Maßnahme {index + 1}"] = _measure_value(measure) if measure else "–"
    if plan is not None:
        fields["gültig ab"] = _fmt(plan.valid_from)
        fields["gültig bis"] = _fmt(plan.valid_to)
        fields["Überprüfung spätestens am"] = _fmt(plan.review_due)
    return fields


def changed_fields(
    before: PlanContent,
    after: PlanContent,
    *,
    before_plan: Kooperationsplan | None,
    after_plan: Kooperationsplan | None,
) -> list[dict[str, str]]:
    """Exactly the fields whose displayed value differs, as rows "Feld | vorher | nachher"."""
    steps = max(len(before.steps), len(after.steps))
    ebs = max(len(before.eigenbemuehungen), len(after.eigenbemuehungen))
    measures = max(len(before.massnahmen), len(after.massnahmen))
    old = comparable_fields(before, before_plan, steps=steps, ebs=ebs, measures=measures)
    new = comparable_fields(after, after_plan, steps=steps, ebs=ebs, measures=measures)
    return [{"label": label, "before": old[label], "after": new[label]} for label in old if old[label] != new[label]]


# --- Loading and page context -------------------------------------------------------------------------


_PLAN_COLUMNS = f"""{json_columns(Kooperationsplan, "p")},
  {PLAN_CONTENT_ITEMS},
  {json_rows(Step, "st", where="st.plan_id = p.id", order_by="st.position, st.id")},
  {PLAN_EIGENBEMUEHUNGEN},
  (SELECT coalesce(json_agg(json_build_array({json_columns(MassnahmeZuweisung, "z")}, {json_columns(Massnahme, "m")})
        ORDER BY z.id), '[]')
   FROM "{MassnahmeZuweisung._meta.db_table}" z JOIN "{Massnahme._meta.db_table}" m ON m.id = z.massnahme_id
   WHERE z.plan_id = p.id)"""  # noqa: S608 (names from the models' meta)
_PLAN_FROM = f'''FROM "{Kooperationsplan._meta.db_table}" p WHERE p.case_id = %(case)s AND p.id = %(plan)s'''
_PLAN_ROWS_SQL = f"SELECT {_PLAN_COLUMNS} {_PLAN_FROM}"


def _plan_from_row(case: Case, row: Any) -> Kooperationsplan:
    if row is None:
        raise Http404("Kooperationsplan nicht gefunden")
    values, content, steps, efforts, assignments = row
    plan = cast(Kooperationsplan, instance(Kooperationsplan, values))
    prefetched(plan, "content_items", instances(ContentItem, content))
    prefetched(plan, "steps", instances(Step, steps))
    prefetched(plan, "eigenbemuehungen", instances(Eigenbemuehung, efforts))
    rows = []
    for assignment_values, massnahme in assignments:
        assignment = cast(MassnahmeZuweisung, instance(MassnahmeZuweisung, assignment_values))
        assignment.massnahme = instance(Massnahme, massnahme)
        rows.append(assignment)
    prefetched(plan, "assignments", rows)
    plan.case = case
    return plan


def plan_load(case: Case, plan_id: int) -> Kooperationsplan:
    """A plan of this case with its content items, steps, Eigenbemühungen and assignments (with the measure)
    attached as prefetch_related would attach them: one statement, whatever the row count (cases/rows.py;
    tests/kooperationsplan/test_case_rows.py compares it with the ORM)."""
    with connection.cursor() as cursor:
        execute_prepared(cursor, "plan_rows", _PLAN_ROWS_SQL, {"case": case.pk, "plan": plan_id})
        return _plan_from_row(case, cursor.fetchone())


def _may_write(request: HttpRequest) -> bool:
    return cast(User, request.user).role in WRITER_ROLES


def _require_writer(request: HttpRequest) -> User:
    """T4: the Fachadministration may look at a plan but not change it."""
    if not _may_write(request):
        raise PermissionDenied
    return cast(User, request.user)


def _explain(reason: Reason) -> dict[str, Any]:
    """explain() with the Soll-Inhalt code and the status replaced by their German labels."""
    params = dict(reason.params)
    if params.get("item") in ContentKind.values:
        params["item"] = ContentKind(str(params["item"])).label
    if params.get("status") in KPStatus.values:
        params["status"] = KPStatus(str(params["status"])).label
    return explain(replace(reason, params=params))


EditorForms = tuple[PlanContentForm, forms.BaseFormSet, forms.BaseFormSet, forms.BaseFormSet]


_CATALOGUE_COLUMNS = "m.id, m.title, m.traeger_name, a.name, m.duration_weeks"
_CATALOGUE_FROM = f"""
FROM "{Massnahme._meta.db_table}" m JOIN "{MassnahmeArt._meta.db_table}" a ON a.id = m.art_id
WHERE m.active
    OR m.id IN (SELECT z.massnahme_id FROM "{MassnahmeZuweisung._meta.db_table}" z WHERE z.plan_id = %(plan)s)
"""  # noqa: S608 (names from the models' meta)
_CATALOGUE_SQL = f"SELECT {_CATALOGUE_COLUMNS} {_CATALOGUE_FROM} ORDER BY m.title, m.id"
_CATALOGUE_JSON = (
    f"(SELECT coalesce(json_agg(json_build_array({_CATALOGUE_COLUMNS}) ORDER BY m.title, m.id), '[]')"
    f" {_CATALOGUE_FROM})"
)


def _catalogue(rows: Iterable[Any]) -> dict[int, CatalogueEntry]:
    return {pk: CatalogueEntry(pk, *fields) for pk, *fields in rows}


def measure_catalogue(plan: Kooperationsplan) -> dict[int, CatalogueEntry]:
    """The measures on offer, plus any the plan already uses (one query, whatever the catalogue size).

    `pk IN (the plan's measures)`, not a join over all assignments with DISTINCT: that join grows with
    every assignment of every case."""
    with connection.cursor() as cursor:
        execute_prepared(cursor, "measure_catalogue", _CATALOGUE_SQL, {"plan": plan.pk})
        return _catalogue(cursor.fetchall())


_VERSIONS_JSON = json_rows(
    Kooperationsplan, "p", where="p.case_id = %(case)s", order_by="p.version_number DESC, p.id DESC"
)
_VERSIONS_SQL = f"SELECT {_VERSIONS_JSON}"


def plan_versions(case: Case) -> list[Kooperationsplan]:
    """Every version of the case's plan, newest first (one statement)."""
    with connection.cursor() as cursor:
        execute_prepared(cursor, "plan_versions", _VERSIONS_SQL, {"case": case.pk})
        return instances(Kooperationsplan, cursor.fetchone()[0])


# What the editor page shows, in the statement of `case_get_for_view`: the plan as `plan_load` reads it, the
# versions as `plan_versions`, the catalogue as `measure_catalogue` and the case's rows for the activation check
# as `CaseData` (each the same SQL, as one JSON value; test_case_rows.py compares the results).
_EDITOR_COLUMNS = (
    f"(SELECT json_build_array({_PLAN_COLUMNS}) {_PLAN_FROM})",
    _VERSIONS_JSON,
    _CATALOGUE_JSON,
    CASE_ROWS_JSON,
)


@dataclass(frozen=True)
class EditorRows:
    case: Case
    plan: Kooperationsplan
    versions: list[Kooperationsplan]
    catalogue: dict[int, CatalogueEntry]
    data: CaseData


def editor_load(request: HttpRequest, case_id: int, plan_id: int) -> EditorRows:
    """The case (`case_get_for_view`: scoped, with its access-log row), the plan, its versions, the measure
    catalogue, the case's rows and the page header's team and badge, in one statement; 404 for a case out of
    scope or a plan of another case."""
    header, header_params = header_columns(cast(User, request.user), on=timezone.localdate())
    case, (plan_row, versions, catalogue, case_rows, count, team) = case_get_for_view_with(
        request,
        case_id,
        "editor",
        (*_EDITOR_COLUMNS, *header),
        merge_params(case_rows_params(case_id), {"plan": plan_id}, header_params),
    )
    header_read(request, count, team)
    return EditorRows(
        case=case,
        plan=_plan_from_row(case, plan_row),
        versions=instances(Kooperationsplan, versions),
        catalogue=_catalogue(catalogue),
        data=CaseData(case, case_rows),
    )


def _measure_kwargs(catalogue: Mapping[int, CatalogueEntry]) -> dict[str, Any]:
    return {"catalogue": tuple((entry.pk, entry.label, entry.duration_weeks) for entry in catalogue.values())}


def _initial(content: PlanContent, plan: Kooperationsplan) -> tuple[dict[str, Any], list[dict[str, Any]], list[Any]]:
    initial: dict[str, Any] = {"lock_version": plan.lock_version, "naechstes_ziel": content.naechstes_ziel}
    for kind, (text, not_relevant) in content.items.items():
        initial[text_key(kind)] = text
        if kind in OPTIONAL_SOLL_KINDS:
            initial[not_relevant_key(kind)] = not_relevant
    initial.update(content.checklist)
    return initial, [asdict(step) for step in content.steps], [asdict(eb) for eb in content.eigenbemuehungen]


def _bound_forms(data: QueryDict, catalogue: Mapping[int, CatalogueEntry]) -> EditorForms:
    return (
        PlanContentForm(data),
        StepFormSet(data, prefix=STEPS_PREFIX),
        EigenbemuehungFormSet(data, prefix=EB_PREFIX),
        MassnahmeFormSet(data, prefix=MEASURES_PREFIX, form_kwargs=_measure_kwargs(catalogue)),
    )


def _initial_forms(
    content: PlanContent, plan: Kooperationsplan, catalogue: Mapping[int, CatalogueEntry]
) -> EditorForms:
    initial, steps, ebs = _initial(content, plan)
    measures = [
        {
            "massnahme": measure.massnahme_id,
            "start_date": measure.start_date,
            "end_date": measure.end_date,
            "rueckmeldung_due": measure.rueckmeldung_due,
        }
        for measure in content.massnahmen
        if measure.editable
    ]
    return (
        PlanContentForm(initial=initial),
        StepFormSet(initial=steps, prefix=STEPS_PREFIX),
        EigenbemuehungFormSet(initial=ebs, prefix=EB_PREFIX),
        MassnahmeFormSet(initial=measures, prefix=MEASURES_PREFIX, form_kwargs=_measure_kwargs(catalogue)),
    )


def _submitted(bound: EditorForms, saved: PlanContent, catalogue: Mapping[int, CatalogueEntry]) -> PlanContent:
    form, steps, ebs, measures = bound
    return content_from_forms(form, steps, ebs, measures, saved=saved, catalogue=catalogue)


def activation_decision(case: Case, plan: Kooperationsplan, data: CaseData | None = None) -> Decision:
    """The guards of DRAFT → ACTIVE (RULES.md 5.1) on the saved state, as the service will apply them (`data`:
    the case's rows if already read)."""
    decision = plan_rules.kp_may_activate(case_facts(case, data), plan_facts(plan))
    if case.cooperation_mode == CooperationMode.SCHLICHTUNG_PENDING:
        running = refuse(Reason("kp.schlichtung_running_use_agreement", "R-SCH-4", ("§ 15a Abs. 2 SGB II",)))
        decision = combine(decision, running)
    return decision


def activation_checks(
    case: Case,
    plan: Kooperationsplan,
    *,
    valid_from: date | None = None,
    valid_to: date | None = None,
    data: CaseData | None = None,
) -> dict[str, Any]:
    decision = activation_decision(case, plan, data)
    term = plan_rules.kp_term(valid_from or timezone.localdate(), valid_to)
    return {
        "allowed": decision.allowed,
        "reasons": [_explain(reason) for reason in decision.reasons],
        "term": term,
        "term_reason": _explain(term.reason),
    }


def _render(
    request: HttpRequest,
    case: Case,
    plan: Kooperationsplan,
    *,
    status: int = 200,
    bound: EditorForms | None = None,
    catalogue: Mapping[int, CatalogueEntry] | None = None,
    activation_form: ActivationForm | None = None,
    refusal: Decision | None = None,
    conflict: dict[str, Any] | None = None,
    loaded: EditorRows | None = None,
) -> HttpResponse:
    """The editor page; `loaded`: what `editor_load` read with the plan (else read here as needed)."""
    saved = content_from_plan(plan)
    versions = loaded.versions if loaded else plan_versions(case)
    if loaded and catalogue is None:
        catalogue = loaded.catalogue
    draft = next((version for version in versions if version.status == KPStatus.DRAFT), None)
    may_write = _may_write(request)
    editable = plan.status in EDITABLE_STATUSES and may_write
    context: dict[str, Any] = {
        "case": case,
        "plan": plan,
        "versions": versions,
        "draft": draft,
        "may_write": may_write,
        "editable": editable or conflict is not None,
        "refusal": [_explain(reason) for reason in refusal.reasons] if refusal else None,
        "conflict": conflict,
        "can_continue": may_write and plan.status in CONTINUABLE_STATUSES and draft is None,
        "details": comparable_fields(saved, plan),
    }
    if editable or conflict is not None:
        catalogue = catalogue if catalogue is not None else measure_catalogue(plan)
        forms_shown = bound or _initial_forms(saved, plan, catalogue)
        form, steps, ebs, measures = forms_shown
        shown = _submitted(forms_shown, saved, catalogue) if bound else saved
        context.update(
            form=form,
            steps=steps,
            ebs=ebs,
            measures=measures,
            fixed_measures=saved.fixed_massnahmen,
            preview=preview(shown, plan),
            has_errors=bound is not None and not all(part.is_valid() for part in forms_shown),
        )
    else:
        context["preview"] = preview(saved, plan)
    if may_write and plan.status == KPStatus.DRAFT and conflict is None:
        activation_form = activation_form or ActivationForm(
            prefix=ACTIVATION_PREFIX, initial={"lock_version": plan.lock_version}
        )
        dates = activation_form.cleaned_data if activation_form.is_bound and activation_form.is_valid() else {}
        context.update(
            activation_form=activation_form,
            checks=activation_checks(
                case,
                plan,
                valid_from=dates.get("valid_from"),
                valid_to=dates.get("valid_to"),
                data=loaded.data if loaded else None,
            ),
            offer_return=case.cooperation_mode == CooperationMode.COOP_WITH_RFB,
        )
    return render(request, f"{TEMPLATES}/plan_page.html", context, status=status)


def _method_not_allowed(request: HttpRequest, *allowed: str) -> HttpResponse | None:
    if request.method not in allowed:
        return HttpResponseNotAllowed(allowed)
    return None


# --- Views ----------------------------------------------------------------------------------------------


def plan_edit(request: HttpRequest, case_id: int, plan_id: int) -> HttpResponse:
    """GET: the editor (DRAFT, UNDER_REVIEW) or the read-only version. POST: save the content (T6, T7, T8)."""
    if request.method == "GET":
        loaded = editor_load(request, case_id, plan_id)
        return _render(request, loaded.case, loaded.plan, loaded=loaded)
    case = case_get_for_view(request, case_id)
    if refused := _method_not_allowed(request, "GET", "POST"):
        return refused

    plan = plan_load(case, plan_id)
    user = _require_writer(request)
    catalogue = measure_catalogue(plan)
    bound = _bound_forms(request.POST, catalogue)
    valid = all([part.is_valid() for part in bound])
    content = _submitted(bound, content_from_plan(plan), catalogue)
    if plan.status not in EDITABLE_STATUSES:
        # Activated or superseded since the editor was opened: keep the input for copying (T7).
        return _conflict(request, case, plan_id, content)
    if not valid:
        return _render(request, case, plan, status=400, bound=bound, catalogue=catalogue)
    try:
        services.kooperationsplan_save_content(
            plan_id=plan.pk,
            actor=user,
            lock_version=bound[0].cleaned_data["lock_version"],
            **_service_arguments(content),
        )
    except ConcurrentEdit:
        return _conflict(request, case, plan_id, content)
    except WorkflowRefused as refused:
        return _render(request, case, plan, status=409, bound=bound, refusal=refused.decision, catalogue=catalogue)
    messages.success(request, f"Der Kooperationsplan v{plan.version_number} wurde gespeichert.")
    return redirect("kp:plan_edit", case_id=case.pk, plan_id=plan.pk)


def _conflict(request: HttpRequest, case: Case, plan_id: int, mine: PlanContent) -> HttpResponse:
    """T7: somebody saved in between. Show the saved state next to the own input; change nothing.

    T8: a second identical POST (double click) finds its own content saved and is answered like a success.
    """
    current = plan_load(case, plan_id)
    saved = content_from_plan(current)
    if saved == mine:
        messages.info(request, "Diese Eingaben waren bereits gespeichert.")
        return redirect("kp:plan_edit", case_id=case.pk, plan_id=current.pk)
    data = request.POST.copy()
    data["lock_version"] = str(current.lock_version)
    conflict = {
        "rows": changed_fields(saved, mine, before_plan=None, after_plan=None),
        "still_editable": current.status in EDITABLE_STATUSES,
    }
    catalogue = measure_catalogue(current)
    bound = _bound_forms(data, catalogue)
    for part in bound:
        part.is_valid()
    return _render(request, case, current, status=409, bound=bound, conflict=conflict, catalogue=catalogue)


def plan_preview(request: HttpRequest, case_id: int, plan_id: int) -> HttpResponse:
    """The live first-person preview of the submitted (unsaved) input, as an htmx fragment. Saves nothing."""
    case = case_get_for_view(request, case_id)
    if refused := _method_not_allowed(request, "POST"):
        return refused
    plan = plan_load(case, plan_id)
    catalogue = measure_catalogue(plan)
    bound = _bound_forms(request.POST, catalogue)
    for part in bound:
        part.is_valid()
    content = _submitted(bound, content_from_plan(plan), catalogue)
    return HttpResponse(preview_html(preview(content, plan)))


def plan_row(request: HttpRequest, case_id: int, plan_id: int, kind: str) -> HttpResponse:
    """An empty formset row (htmx, hx-swap="beforeend") and the new TOTAL_FORMS (hx-swap-oob)."""
    case = case_get_for_view(request, case_id)
    if refused := _method_not_allowed(request, "GET"):
        return refused
    plan = plan_load(case, plan_id)
    if kind not in ROW_KINDS:
        raise Http404("Unbekannte Zeilenart")
    formset_class, prefix, plural = ROW_KINDS[kind]
    noun = formset_class.form.row_legend
    formset_kwargs = {"form_kwargs": _measure_kwargs(measure_catalogue(plan))} if kind == "massnahme" else {}
    index_form = RowIndexForm({"index": request.GET.get(f"{prefix}-TOTAL_FORMS", "")})
    if not index_form.is_valid():
        return HttpResponse("Ungültige Zeilennummer.", status=400, content_type="text/plain; charset=utf-8")
    index = index_form.cleaned_data["index"]
    context: dict[str, Any] = {"case": case, "plan": plan, "prefix": prefix}
    if index >= MAX_ROWS:
        context["status"] = f"Es sind höchstens {MAX_ROWS} {plural} möglich."
    else:
        context.update(
            form=formset_class(prefix=prefix, **formset_kwargs).new_row(index),
            number=index + 1,
            total=index + 1,
            status=f"{noun} {index + 1} wurde hinzugefügt.",
        )
    return render(request, f"{TEMPLATES}/row_fragment.html", context)


def plan_activation_check(request: HttpRequest, case_id: int, plan_id: int) -> HttpResponse:
    """The activation checks and the review date for the chosen "gültig ab" (htmx fragment, R-KP-4)."""
    case = case_get_for_view(request, case_id)
    if refused := _method_not_allowed(request, "GET"):
        return refused
    plan = plan_load(case, plan_id)
    form = ActivationPreviewForm(request.GET, prefix=ACTIVATION_PREFIX)
    dates = form.cleaned_data if form.is_valid() else {}
    checks = activation_checks(case, plan, valid_from=dates.get("valid_from"), valid_to=dates.get("valid_to"))
    date_errors = [error for field in ("valid_from", "valid_to") for error in form.errors.get(field, [])]
    return HttpResponse(activation_checks_html(checks, date_errors))


def plan_activate(request: HttpRequest, case_id: int, plan_id: int) -> HttpResponse:
    """DRAFT → ACTIVE through the service; a refusal shows the German reasons and changes nothing (T11)."""
    case = case_get_for_view(request, case_id)
    if refused := _method_not_allowed(request, "POST"):
        return refused
    user = _require_writer(request)
    plan = plan_load(case, plan_id)
    form = ActivationForm(request.POST, prefix=ACTIVATION_PREFIX)
    if not form.is_valid():
        return _render(request, case, plan, status=400, activation_form=form)
    try:
        active = services.kooperationsplan_activate(
            plan_id=plan.pk,
            actor=user,
            lock_version=form.cleaned_data["lock_version"],
            valid_from=form.cleaned_data["valid_from"],
            valid_to=form.cleaned_data["valid_to"],
            return_without_rfb_reason=form.cleaned_data["return_without_rfb_reason"],
            with_flyer=form.cleaned_data["with_flyer"],
        )
    except ConcurrentEdit:
        current = plan_load(case, plan_id)
        if current.status != KPStatus.DRAFT and current.activated_at is not None:
            # T8: the second click of a double submit; the first one activated the plan.
            messages.info(request, _activated_message(current))
            return redirect(reverse("kp:case", args=[case.pk]))
        messages.error(
            request,
            "Der Plan wurde inzwischen geändert und nicht aktiviert. Bitte prüfen Sie den gespeicherten Stand.",
        )
        return _render(request, case, current, status=409)
    except WorkflowRefused as refusal:
        return _render(request, case, plan, status=409, activation_form=form, refusal=refusal.decision)
    messages.success(request, _activated_message(active))
    return redirect(reverse("kp:case", args=[case.pk]))


def _activated_message(plan: Kooperationsplan) -> str:
    return (
        f"Der Kooperationsplan v{plan.version_number} ist aktiv (gültig ab {plan.valid_from:%d.%m.%Y}). "
        f"Überprüfung spätestens am {plan.review_due:%d.%m.%Y}."
    )


def plan_continue(request: HttpRequest, case_id: int, plan_id: int) -> HttpResponse:
    """Fortschreibung (R-FS-1): a new draft version with the content of the current plan.

    An ACTIVE plan first goes UNDER_REVIEW; both steps happen in one transaction, so a refusal of the
    second changes nothing. A second click finds the draft and opens it (T8).
    """
    case = case_get_for_view(request, case_id)
    if refused := _method_not_allowed(request, "POST"):
        return refused
    user = _require_writer(request)
    plan = plan_load(case, plan_id)
    if started := _continuation(request, case, plan):
        return started
    if plan.status not in CONTINUABLE_STATUSES:
        sources = ("§ 15 Abs. 3 SGB II", "001 §6.4")
        decision = refuse(Reason("kp.not_active", "R-FS-1", sources, {"status": plan.status}))
        return _render(request, case, plan, status=409, refusal=decision)
    try:
        with transaction.atomic():
            if plan.status == KPStatus.ACTIVE:
                services.kooperationsplan_start_review(plan_id=plan.pk, actor=user)
            draft = services.kooperationsplan_start(case_id=case.pk, actor=user)
    except WorkflowRefused as refusal:
        if started := _continuation(request, case, plan):
            return started
        return _render(request, case, plan_load(case, plan_id), status=409, refusal=refusal.decision)
    messages.success(request, f"Fortschreibung begonnen: Entwurf v{draft.version_number} mit dem bisherigen Inhalt.")
    return redirect("kp:plan_edit", case_id=case.pk, plan_id=draft.pk)


def _continuation(request: HttpRequest, case: Case, plan: Kooperationsplan) -> HttpResponse | None:
    """T8: if the Fortschreibung of this plan has already begun, open its draft instead of starting another."""
    draft = Kooperationsplan.objects.filter(case=case, status=KPStatus.DRAFT, predecessor=plan).first()
    if draft is None:
        return None
    messages.info(request, f"Die Fortschreibung ist bereits begonnen: Entwurf v{draft.version_number}.")
    return redirect("kp:plan_edit", case_id=case.pk, plan_id=draft.pk)


def plan_diff(request: HttpRequest, case_id: int) -> HttpResponse:
    """Exactly the changed fields between two versions of the same case ("Feld | vorher | nachher")."""
    case = case_get_for_view(request, case_id)
    if refused := _method_not_allowed(request, "GET"):
        return refused
    versions = list(Kooperationsplan.objects.filter(case=case).only("pk", "version_number", "status"))
    form = DiffForm(request.GET or None)
    context: dict[str, Any] = {"case": case, "versions": versions, "form": form}
    selected = [versions[1].pk if len(versions) > 1 else None, versions[0].pk if versions else None]
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
    elif form.is_bound:
        before = plan_load(case, form.cleaned_data["von"])
        after = plan_load(case, form.cleaned_data["zu"])
        selected = [before.pk, after.pk]
        context.update(
            before=before,
            after=after,
            rows=changed_fields(
                content_from_plan(before), content_from_plan(after), before_plan=before, after_plan=after
            ),
        )
    context["choices"] = list(zip((form["von"], form["zu"]), selected, strict=True))
    return render(request, f"{TEMPLATES}/diff.html", context, status=status)
