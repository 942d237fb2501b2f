"""The KP editor: editing with formsets, live preview, activation, Fortschreibung, diff, conflicts.

Every write goes through the real services; the cases are walked there by the workflow helpers.
Targets: T1 (404 for another team), T4, T6 (forged formset data), T7 (conflict page), T8 (double
submit), T17/T21 (hostile input), T22 (CSRF), and a pinned query count for the editor page.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from html import unescape

import pytest
import time_machine
from django.db import connection
from django.forms.renderers import DjangoTemplates
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import AccessLog, TimelineEvent
from kooperationsplan import editor_forms, services
from kooperationsplan.editor_forms import (
    FAST_WIDGETS,
    MAX_ROWS,
    RENDERER,
    ActivationForm,
    EditorRenderer,
    EigenbemuehungForm,
    EigenbemuehungFormSet,
    MassnahmeFormSet,
    MassnahmeRowForm,
    PlanContentForm,
    StepForm,
    StepFormSet,
    field_html,
    row_html,
)
from kooperationsplan.models import ContentItem, Eigenbemuehung, Kooperationsplan, MassnahmeZuweisung, Step
from letters.models import Letter
from tests.conftest import client_for
from tests.factories import (
    EigenbemuehungFactory,
    MassnahmeFactory,
    MassnahmeZuweisungFactory,
    StepFactory,
    UserFactory,
)
from tests.kooperationsplan.workflow_helpers import BERLIN, active_plan, complete_pa, fill_draft, new_case

pytestmark = pytest.mark.django_db

EB_SENTENCE = (
    "Ich bewerbe mich mindestens 5-mal pro Monat. "
    "Den Nachweis (Bewerbungsliste) gebe ich bis zum 5. des Folgemonats ab."
)


# --- Helpers ---------------------------------------------------------------------------------------------


@pytest.fixture
def case(ifk_nord):
    case = new_case(ifk=ifk_nord)
    complete_pa(case)
    return case


@pytest.fixture
def draft(case):
    return services.kooperationsplan_start(case_id=case.pk, actor=case.responsible)


@pytest.fixture
def client(ifk_nord):
    return client_for(ifk_nord)


def url(name, plan, **query):
    path = reverse(f"kp:{name}", args=[plan.case_id, plan.pk])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def html_of(response) -> str:
    return unescape(response.content.decode())


STEPS = [
    {"text": "Ich aktualisiere meinen Lebenslauf.", "responsible": "ELB", "due_on": "2026-07-15", "done_on": ""},
    {"text": "Ich melde mich in der Jobbörse an.", "responsible": "ELB", "due_on": "", "done_on": ""},
    {"text": "Das Jobcenter prüft ein Bewerbungscoaching.", "responsible": "JC", "due_on": "", "done_on": "2026-03-01"},
]
EB = {
    "kind": "BEWERBUNG",
    "description": "",
    "min_count": "5",
    "period": "MONAT",
    "nachweis_form": "LISTE",
    "nachweis_due_day": "5",
    "min_count_zero_reason": "",
}


def form_data(plan, *, steps=None, ebs=None, measures=(), **overrides) -> dict[str, str]:
    """A complete, valid editor POST for `plan`, as the browser sends it."""
    steps = STEPS if steps is None else steps
    ebs = [EB] if ebs is None else ebs
    data = {
        "lock_version": str(plan.lock_version),
        "naechstes_ziel": "Ich finde eine Teilzeitstelle im Einzelhandel.",
        "text_SOLL_1": "Das Jobcenter unterstützt mich mit einem Bewerbungscoaching.",
        "text_SOLL_2": "Ich bewerbe mich regelmäßig auf passende Stellen.",
        "text_SOLL_3": "",
        "nicht_relevant_SOLL_3": "on",
        "text_SOLL_4": "",
        "nicht_relevant_SOLL_4": "on",
        "text_SOLL_5": "Ich arbeite wieder als Verkäuferin.",
        "text_SOLL_6": "",
        "nicht_relevant_SOLL_6": "on",
        "text_KANN_1": "",
        "text_KANN_2": "",
        "text_WEITERE": "",
        "gemeinsam_erarbeitet": "on",
        "vb_erlaeutert": "on",
        "infoblatt_vb_ausgehaendigt_on": timezone.localdate().isoformat(),
        "beratungsvermerk_ref": "BV-2026-0042",
        "schritte-TOTAL_FORMS": str(len(steps)),
        "schritte-INITIAL_FORMS": "0",
        "schritte-MIN_NUM_FORMS": "0",
        "schritte-MAX_NUM_FORMS": "1000",
        "eb-TOTAL_FORMS": str(len(ebs)),
        "eb-INITIAL_FORMS": "0",
        "eb-MIN_NUM_FORMS": "0",
        "eb-MAX_NUM_FORMS": "1000",
        "massnahmen-TOTAL_FORMS": str(len(measures)),
        "massnahmen-INITIAL_FORMS": "0",
        "massnahmen-MIN_NUM_FORMS": "0",
        "massnahmen-MAX_NUM_FORMS": "1000",
    }
    for index, measure in enumerate(measures):
        data.update({f"massnahmen-{index}-{key}": value for key, value in measure.items()})
    for index, step in enumerate(steps):
        data.update({f"schritte-{index}-{key}": value for key, value in step.items()})
    for index, eb in enumerate(ebs):
        data.update({f"eb-{index}-{key}": value for key, value in eb.items()})
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def snapshot(plan) -> tuple:
    """Everything a save could change, to prove that a refused request changed nothing."""
    plan = Kooperationsplan.objects.get(pk=plan.pk)
    return (
        plan.status,
        plan.lock_version,
        plan.naechstes_ziel,
        sorted(ContentItem.objects.filter(plan=plan).values_list("kind", "text", "nicht_relevant")),
        list(Step.objects.filter(plan=plan).order_by("position").values_list("text", "responsible", "due_on")),
        list(Eigenbemuehung.objects.filter(plan=plan).values_list("kind", "min_count", "period")),
    )


def events(case, code):
    return TimelineEvent.objects.filter(case=case, code=code).count()


# --- Editor page -----------------------------------------------------------------------------------------


def test_editor_shows_every_section_with_labels_and_the_preview(client, draft):
    response = client.get(url("plan_edit", draft))
    assert response.status_code == 200
    html = html_of(response)
    for label in (
        "Geplante Eingliederungsleistungen (Unterstützung durch das Jobcenter)",
        "Eigenbemühungen",
        "Integrationskurs oder Deutschsprachförderung",
        "Leistungen anderer Leistungsträger (Leistungen Dritter)",
        "Vermittlungsziel (übergeordnetes Ziel)",
        "Rehabilitationsbedarf",
        "Maßnahmen, Leistungen und Träger bei gesundheitlichen Beeinträchtigungen",
        "Leistungen für weitere Personen in der Bedarfsgemeinschaft",
        "Nächstes Ziel",
        "Info-Blatt „VB-Eigenbemühungen/Vorstellungsgespräche“ ausgehändigt am (R-EB-3)",
    ):
        assert label in html, label
    # "nicht relevant" exists exactly for Soll 3, 4 and 6 (R-KP-5), each with its own label.
    assert re.findall(r'name="nicht_relevant_(\w+)"', html) == ["SOLL_3", "SOLL_4", "SOLL_6"]
    for name in re.findall(r'<(?:input|textarea|select)[^>]*\bid="(id_[^"]+)"', html):
        if "TOTAL_FORMS" in name or "INITIAL_FORMS" in name or "NUM_FORMS" in name or "lock_version" in name:
            continue
        assert f'for="{name}"' in html, f"no label for {name}"
    assert "<legend" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in response.content.decode()
    assert "So liest die eLb ihren Plan" in html
    assert "rechtlich nicht verbindlich" in html
    assert f'name="lock_version" value="{draft.lock_version}"' in html
    assert "Schritt hinzufügen" in html
    assert "Eigenbemühung hinzufügen" in html
    assert "<script>" not in response.content.decode()
    assert AccessLog.objects.filter(case_id_accessed=draft.case_id).count() == 1


def test_save_stores_content_steps_and_eigenbemuehungen_in_order(client, draft, case):
    response = client.post(url("plan_edit", draft), form_data(draft))
    assert response.status_code == 302
    assert response["Location"] == url("plan_edit", draft)
    plan = Kooperationsplan.objects.get(pk=draft.pk)
    assert plan.lock_version == draft.lock_version + 1
    assert plan.naechstes_ziel == "Ich finde eine Teilzeitstelle im Einzelhandel."
    assert plan.gemeinsam_erarbeitet
    assert plan.vb_erlaeutert
    assert plan.beratungsvermerk_ref == "BV-2026-0042"
    items = {item.kind: (item.text, item.nicht_relevant) for item in plan.content_items.all()}
    assert items["SOLL_5"] == ("Ich arbeite wieder als Verkäuferin.", False)
    assert items["SOLL_3"] == ("", True)
    assert "KANN_1" not in items
    steps = list(plan.steps.order_by("position"))
    assert [step.text for step in steps] == [step["text"] for step in STEPS]
    assert steps[0].due_on == date(2026, 7, 15)
    assert (steps[2].responsible, steps[2].done_on) == ("JC", date(2026, 3, 1))
    eb = plan.eigenbemuehungen.get()
    assert (eb.kind, eb.min_count, eb.period, eb.nachweis_form, eb.nachweis_due_day) == (
        "BEWERBUNG",
        5,
        "MONAT",
        "LISTE",
        5,
    )
    assert events(case, "kooperationsplan.edited") == 1
    page = html_of(client.get(url("plan_edit", draft)))
    assert "Der Kooperationsplan v1 wurde gespeichert." in page
    assert EB_SENTENCE in page


def test_mandatory_soll_inhalte_give_german_errors_linked_to_the_field(client, draft):
    before = snapshot(draft)
    response = client.post(url("plan_edit", draft), form_data(draft, text_SOLL_1="", text_SOLL_5="  "))
    assert response.status_code == 400
    html = html_of(response)
    assert "Bitte korrigieren Sie die markierten Angaben." in html
    assert "Bitte füllen Sie den Soll-Inhalt „Geplante Eingliederungsleistungen" in html
    assert "Bitte füllen Sie den Soll-Inhalt „Vermittlungsziel (übergeordnetes Ziel)“ aus (R-KP-5)." in html
    textarea = re.search(r'<textarea[^>]*name="text_SOLL_1"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in textarea
    assert "id_text_SOLL_1_error" in textarea
    assert 'id="id_text_SOLL_1_error"' in html
    # The input is kept.
    assert "Ich bewerbe mich regelmäßig auf passende Stellen." in html
    assert snapshot(draft) == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"text_SOLL_3": "Ich besuche einen Deutschkurs."},
            "Bitte geben Sie entweder einen Text ein oder kreuzen Sie „nicht relevant“ an, nicht beides.",
        ),
        ({"eb-0-min_count": "0"}, "Eine Mindestanzahl von 0 braucht eine Begründung"),
        ({"eb-0-nachweis_due_day": "31"}, "kleiner oder gleich 28"),
        ({"eb-0-period": "JAHR"}, "Bitte eine gültige Auswahl treffen."),
        (
            {"schritte-1-text": "", "schritte-1-due_on": "2026-08-01"},
            "Bitte beschreiben Sie den Schritt oder kreuzen Sie „Entfernen“ an.",
        ),
        ({"schritte-0-due_on": "31.02.2026"}, "Bitte ein gültiges Datum eingeben"),
        ({"infoblatt_vb_ausgehaendigt_on": "gestern"}, "Bitte ein gültiges Datum eingeben"),
        ({"infoblatt_vb_ausgehaendigt_on": "9999-12-31"}, "darf nicht in der Zukunft liegen"),
    ],
)
def test_invalid_rows_and_fields_are_german_form_errors(client, draft, overrides, message):
    before = snapshot(draft)
    response = client.post(url("plan_edit", draft), form_data(draft, **overrides))
    assert response.status_code == 400
    assert message in html_of(response)
    assert snapshot(draft) == before


def test_zero_eigenbemuehungen_with_a_reason_are_saved(client, draft):
    data = form_data(draft, **{"eb-0-min_count": "0", "eb-0-min_count_zero_reason": "Reha-Antrag läuft."})
    assert client.post(url("plan_edit", draft), data).status_code == 302
    eb = Eigenbemuehung.objects.get(plan=draft)
    assert (eb.min_count, eb.min_count_zero_reason) == (0, "Reha-Antrag läuft.")


def test_rows_marked_entfernen_are_removed_and_untouched_new_rows_ignored(client, draft):
    client.post(url("plan_edit", draft), form_data(draft))
    draft.refresh_from_db()
    page = html_of(client.get(url("plan_edit", draft)))
    assert 'name="schritte-INITIAL_FORMS" value="3"' in page
    assert "Schritt 2 entfernen" in page
    data = form_data(draft, **{"schritte-1-DELETE": "on", "schritte-INITIAL_FORMS": "3"})
    # A row added with "Schritt hinzufügen" and left empty (its select keeps its default).
    data.update({"schritte-TOTAL_FORMS": "4", "schritte-3-text": "", "schritte-3-responsible": "ELB"})
    data.update({"schritte-3-due_on": ""})
    assert client.post(url("plan_edit", draft), data).status_code == 302
    texts = list(Step.objects.filter(plan=draft).order_by("position").values_list("text", flat=True))
    assert texts == [STEPS[0]["text"], STEPS[2]["text"]]


def test_more_rows_than_allowed_is_a_form_error(client, draft):
    before = snapshot(draft)
    rows = [{"text": f"Schritt {n}", "responsible": "ELB", "due_on": ""} for n in range(MAX_ROWS + 1)]
    response = client.post(url("plan_edit", draft), form_data(draft, steps=rows))
    assert response.status_code == 400
    assert f"Bitte höchstens {MAX_ROWS} Formulare abschicken." in html_of(response)
    assert snapshot(draft) == before


# --- T21 / T17: hostile input ------------------------------------------------------------------------------

BAD_FIELDS = [
    "text_SOLL_1",
    "naechstes_ziel",
    "text_KANN_1",
    "beratungsvermerk_ref",
    "schritte-0-text",
    "eb-0-description",
    "eb-0-min_count_zero_reason",
    "infoblatt_vb_ausgehaendigt_on",
    "schritte-0-due_on",
    "schritte-0-responsible",
    "eb-0-min_count",
    "lock_version",
    "schritte-TOTAL_FORMS",
]


@pytest.mark.parametrize("field", BAD_FIELDS)
@pytest.mark.parametrize("bad", ["Ich\x00bewerbe", "x" * 100_000, "Steuer\x07zeichen\x1b"])
def test_hostile_input_is_a_form_error_never_a_500(client, draft, field, bad):
    """T21: NUL bytes, control characters and 100k characters in every field: a form error, nothing saved."""
    before = snapshot(draft)
    response = client.post(url("plan_edit", draft), form_data(draft, **{field: bad}))
    assert response.status_code == 400, (field, response.status_code)
    assert "Bitte korrigieren Sie die markierten Angaben." in html_of(response) or field.endswith("TOTAL_FORMS")
    assert snapshot(draft) == before
    # The live preview takes the same input without failing and saves nothing.
    assert client.post(url("plan_preview", draft), form_data(draft, **{field: bad})).status_code == 200
    assert snapshot(draft) == before


def test_missing_management_form_is_a_form_error(client, draft):
    before = snapshot(draft)
    data = form_data(draft, **{"schritte-TOTAL_FORMS": None, "schritte-INITIAL_FORMS": None})
    response = client.post(url("plan_edit", draft), data)
    assert response.status_code == 400
    assert "Daten für das Management-Formular fehlen oder wurden manipuliert." in html_of(response)
    assert snapshot(draft) == before


def test_long_unicode_text_and_markup_are_saved_and_escaped(client, draft):
    """T17: 10,000 characters with emoji, RTL script, combining marks and <script> are kept and escaped."""
    text = ("Ich 👩‍💼 أبحث عن عمل e\u0301 <script>alert(1)</script> " * 200)[:10_000]
    response = client.post(url("plan_edit", draft), form_data(draft, text_SOLL_1=text))
    assert response.status_code == 302
    assert ContentItem.objects.get(plan=draft, kind="SOLL_1").text == text.strip()
    page = client.get(url("plan_edit", draft)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- T6: forged formset data -------------------------------------------------------------------------------


def test_forged_row_ids_and_extra_fields_never_touch_other_plans(client, draft, case, ifk_nord):
    other_case = new_case(ifk=ifk_nord)
    other_plan = active_plan(other_case)
    other_before = snapshot(other_plan)
    other_step = other_plan.steps.first()
    data = form_data(draft)
    data.update(
        {
            "schritte-0-id": str(other_step.pk),
            "schritte-0-plan": str(other_plan.pk),
            "schritte-0-DELETE": "",
            "schritte-1-id": str(other_step.pk),
            "schritte-1-DELETE": "on",
            "eb-0-id": str(other_plan.eigenbemuehungen.first().pk),
            "eb-0-plan": str(other_plan.pk),
            "status": "ACTIVE",
            "team": "999",
            "case": str(other_case.pk),
            "plan": str(other_plan.pk),
            "version_number": "7",
            "review_due": "2030-01-01",
        }
    )
    assert client.post(url("plan_edit", draft), data).status_code == 302
    assert snapshot(other_plan) == other_before
    assert Step.objects.filter(pk=other_step.pk, plan=other_plan, text=other_step.text).exists()
    draft.refresh_from_db()
    assert (draft.status, draft.version_number, draft.case_id, draft.review_due) == ("DRAFT", 1, case.pk, None)
    assert list(Step.objects.filter(plan=draft).order_by("position").values_list("text", flat=True)) == [
        STEPS[0]["text"],
        STEPS[2]["text"],
    ]


def test_a_plan_of_another_case_is_404_even_in_the_own_team(client, draft, ifk_nord):
    other_case = new_case(ifk=ifk_nord)
    complete_pa(other_case)
    other = services.kooperationsplan_start(case_id=other_case.pk, actor=ifk_nord)
    wrong = reverse("kp:plan_edit", args=[draft.case_id, other.pk])
    assert client.get(wrong).status_code == 404
    assert client.post(wrong, form_data(other)).status_code == 404
    assert Kooperationsplan.objects.get(pk=other.pk).lock_version == other.lock_version


# --- T7 / T8: concurrent edits and double submits ----------------------------------------------------------


def test_a_stale_save_gets_the_conflict_page_with_the_own_input_kept(draft, ifk_nord, ifk_nord2):
    first, second = client_for(ifk_nord), client_for(ifk_nord2)
    loaded = draft.lock_version  # both opened the editor at this version
    assert first.post(url("plan_edit", draft), form_data(draft, naechstes_ziel="Erste Fassung.")).status_code == 302
    saved = snapshot(draft)
    mine = form_data(draft, lock_version=str(loaded), naechstes_ziel="Meine eigene Fassung, bitte nicht verlieren.")
    response = second.post(url("plan_edit", draft), mine)
    assert response.status_code == 409
    html = html_of(response)
    assert "Bearbeitungskonflikt" in html
    assert "Ihre Eingaben wurden nicht gespeichert" in html.replace("<strong>", "").replace("</strong>", "")
    table = html[html.index('id="konflikt-tabelle"') :]
    table = table[: table.index("</table>")]
    assert "Nächstes Ziel" in table
    assert "Erste Fassung." in table
    assert "Meine eigene Fassung, bitte nicht verlieren." in table
    assert "Vermittlungsziel" not in table  # unchanged fields are not listed
    textarea = re.search(r'<textarea[^>]*name="naechstes_ziel"[^>]*>([^<]*)</textarea>', html).group(1)
    assert textarea.strip() == "Meine eigene Fassung, bitte nicht verlieren."
    assert snapshot(draft) == saved
    # The kept form carries the current version: submitting it is a deliberate overwrite.
    current = Kooperationsplan.objects.get(pk=draft.pk).lock_version
    assert f'name="lock_version" value="{current}"' in html
    assert second.post(url("plan_edit", draft), {**mine, "lock_version": str(current)}).status_code == 302
    assert Kooperationsplan.objects.get(pk=draft.pk).naechstes_ziel == "Meine eigene Fassung, bitte nicht verlieren."


def test_a_save_after_the_plan_was_activated_keeps_the_input_for_copying(client, draft, ifk_nord2):
    fill_draft(draft)
    draft.refresh_from_db()
    stale = form_data(draft, naechstes_ziel="Meine späte Änderung.")
    services.kooperationsplan_activate(plan_id=draft.pk, actor=ifk_nord2, lock_version=draft.lock_version)
    before = snapshot(draft)
    response = client.post(url("plan_edit", draft), stale)
    assert response.status_code == 409
    html = html_of(response)
    assert "Bearbeitungskonflikt" in html
    assert "Diese Version kann nicht mehr bearbeitet werden (Status: aktiv)." in html
    assert re.search(r'<textarea[^>]*name="naechstes_ziel"[^>]*>\s*Meine späte Änderung.</textarea>', html)
    assert "Meine Eingaben speichern" not in html
    assert snapshot(draft) == before


def test_double_submit_of_a_save_changes_once(client, draft, case):
    data = form_data(draft)
    assert client.post(url("plan_edit", draft), data).status_code == 302
    after_first = snapshot(draft)
    second = client.post(url("plan_edit", draft), data)
    assert second.status_code == 302
    assert snapshot(draft) == after_first
    assert events(case, "kooperationsplan.edited") == 1
    assert "Diese Eingaben waren bereits gespeichert." in html_of(client.get(second["Location"]))


# --- Live preview and rows -----------------------------------------------------------------------------


def test_preview_renders_the_unsaved_input_in_the_first_person(client, draft):
    before = snapshot(draft)
    data = form_data(draft, **{"schritte-1-DELETE": "on"})
    response = client.post(url("plan_preview", draft), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = html_of(response)
    assert "<html" not in html
    assert "Mein Ziel" in html
    assert "Ich arbeite wieder als Verkäuferin." in html
    assert "Meine nächsten Schritte" in html
    assert "Ich aktualisiere meinen Lebenslauf. Bis zum 15.07.2026." in html
    assert "Ich melde mich in der Jobbörse an." not in html  # marked "Entfernen"
    assert (
        "Das Jobcenter prüft ein Bewerbungscoaching. Darum kümmert sich das Jobcenter. Erledigt am 01.03.2026." in html
    )
    assert EB_SENTENCE in html
    assert "Das Jobcenter unterstützt mich" in html
    assert "rechtlich nicht verbindlich" in html
    assert "keine Rechtsfolgenbelehrung" in html
    assert snapshot(draft) == before
    # Scoped like every case view: one access-log row per request.
    assert AccessLog.objects.filter(case_id_accessed=draft.case_id, view_name="kp:plan_preview").count() == 1


def test_add_row_fragment_has_the_next_index_and_updates_total_forms(client, draft):
    response = client.get(_row_url(draft, "schritt", 3))
    assert response.status_code == 200
    html = html_of(response)
    assert 'name="schritte-3-text"' in html
    assert 'for="id_schritte-3-text"' in html
    assert "Schritt 4" in html
    assert "Schritt 4 entfernen" in html
    assert re.search(r'<input[^>]*id="id_schritte-TOTAL_FORMS"[^>]*value="4"|value="4"[^>]*id="id_schritte', html)
    assert 'hx-swap-oob="true"' in html
    assert "Schritt 4 wurde hinzugefügt." in html
    eb = html_of(client.get(_row_url(draft, "eigenbemuehung", 0)))
    assert 'name="eb-0-kind"' in eb
    assert 'name="eb-0-nachweis_due_day"' in eb
    assert 'id="id_eb-TOTAL_FORMS"' in eb


def _row_url(plan, kind, index, prefix=None):
    prefix = prefix or {"schritt": "schritte", "eigenbemuehung": "eb"}[kind]
    path = reverse("kp:plan_row", args=[plan.case_id, plan.pk, kind])
    return f"{path}?{prefix}-TOTAL_FORMS={index}"


def test_row_fragment_limits_and_bad_input(client, draft):
    full = html_of(client.get(_row_url(draft, "schritt", MAX_ROWS)))
    assert f"Es sind höchstens {MAX_ROWS} Schritte möglich." in full
    assert "schritte-30-text" not in full
    assert client.get(_row_url(draft, "schritt", "x%00")).status_code == 400
    assert client.get(_row_url(draft, "schritt", -1)).status_code == 400
    assert client.get(_row_url(draft, "unbekannt", 1, prefix="schritte")).status_code == 404


# --- Activation ----------------------------------------------------------------------------------------------


def test_activation_panel_lists_missing_requirements_in_german(client, draft):
    html = html_of(client.get(url("plan_edit", draft)))
    assert "Noch nicht möglich" in html
    assert "Der Soll-Inhalt „Geplante Eingliederungsleistungen (Unterstützung durch das Jobcenter)“ muss" in html
    assert "Beim Soll-Inhalt „Rehabilitationsbedarf“ fehlt ein Text oder die Angabe „nicht relevant“." in html
    assert "(R-KP-5; § 15 Abs. 2 SGB II, Fachliche Hinweise KP, Nr. 5)" in html
    assert "R-EB-3" in html
    assert re.search(r"<button[^>]*disabled[^>]*>Kooperationsplan aktivieren</button>", html)


def test_activation_panel_shows_the_review_date_it_would_get(client, draft):
    fill_draft(draft)
    with time_machine.travel(datetime(2026, 8, 31, 10, tzinfo=BERLIN), tick=False):
        html = html_of(client.get(url("plan_edit", draft)))
        assert "Alle Voraussetzungen für die Aktivierung sind erfüllt." in html
        assert "Überprüfung spätestens am 28.02.2027" in html  # R-KP-4: end-of-month clamp
        assert re.search(r"<button[^>]*>Kooperationsplan aktivieren</button>", html)
        assert not re.search(r"<button[^>]*disabled[^>]*>Kooperationsplan aktivieren", html)
        check = client.get(url("plan_activation_check", draft, **{"aktivierung-valid_from": "2026-09-15"}))
        assert check.status_code == 200
        assert "Überprüfung spätestens am 15.03.2027" in html_of(check)
        bad = client.get(url("plan_activation_check", draft, **{"aktivierung-valid_from": "9999-12-31"}))
        assert bad.status_code == 200
        assert "in der Zukunft liegen" in html_of(bad)


def test_activation_succeeds_and_names_the_review_date(client, draft, case):
    fill_draft(draft)
    draft.refresh_from_db()
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=BERLIN), tick=False):
        response = client.post(
            url("plan_activate", draft), {"aktivierung-lock_version": draft.lock_version, "aktivierung-valid_from": ""}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("kp:case", args=[case.pk])
        plan = Kooperationsplan.objects.get(pk=draft.pk)
        assert (plan.status, plan.valid_from, plan.review_due) == ("ACTIVE", date(2026, 3, 2), date(2026, 9, 2))
        messages = [str(m) for m in response.wsgi_request._messages]
        assert any("Überprüfung spätestens am 02.09.2026" in m for m in messages)


def test_activation_with_a_later_start_and_a_shorter_term(client, draft):
    fill_draft(draft)
    draft.refresh_from_db()
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=BERLIN), tick=False):
        response = client.post(
            url("plan_activate", draft),
            {
                "aktivierung-lock_version": draft.lock_version,
                "aktivierung-valid_from": "2026-03-16",
                "aktivierung-valid_to": "2026-06-30",
            },
        )
    assert response.status_code == 302
    plan = Kooperationsplan.objects.get(pk=draft.pk)
    # R-KP-4: a shorter term is allowed, and the review is due when it ends.
    assert (plan.valid_from, plan.valid_to, plan.review_due) == (
        date(2026, 3, 16),
        date(2026, 6, 30),
        date(2026, 6, 30),
    )


def test_refused_activation_shows_the_reasons_and_changes_nothing(client, draft, case):
    before = snapshot(draft)
    response = client.post(url("plan_activate", draft), {"aktivierung-lock_version": draft.lock_version})
    assert response.status_code == 409
    html = html_of(response)
    assert "Dieser Schritt ist nicht möglich. Es wurde nichts geändert." in html
    assert "Der Kooperationsplan muss das gemeinsame Ergebnis des Gesprächs wiedergeben." in html
    assert "Die Aushändigung des Info-Blatts" in html
    assert snapshot(draft) == before
    assert not Letter.objects.filter(case=case, kind="KP_DOKUMENT").exists()
    assert events(case, "kooperationsplan.activated") == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"aktivierung-valid_from": "9999-12-31"}, "in der Zukunft liegen"),
        ({"aktivierung-valid_from": "2001-01-01"}, "zurückliegen"),
        ({"aktivierung-valid_from": "\x00"}, "gültiges Datum"),
        ({"aktivierung-valid_to": "2001-01-01"}, "nicht vor „gültig ab“"),
        ({"aktivierung-lock_version": "x" * 100_000}, "ganze Zahl"),
        ({"aktivierung-return_without_rfb_reason": "x" * 100_000}, "aus höchstens 2000 Zeichen besteht"),
    ],
)
def test_bad_activation_input_is_a_form_error(client, draft, case, fields, message):
    fill_draft(draft)
    draft.refresh_from_db()
    before = snapshot(draft)
    response = client.post(url("plan_activate", draft), {"aktivierung-lock_version": draft.lock_version, **fields})
    assert response.status_code == 400
    assert message in html_of(response)
    assert snapshot(draft) == before


def test_double_submit_of_the_activation_activates_once(client, draft, case):
    fill_draft(draft)
    draft.refresh_from_db()
    data = {"aktivierung-lock_version": draft.lock_version}
    assert client.post(url("plan_activate", draft), data).status_code == 302
    second = client.post(url("plan_activate", draft), data)
    assert second.status_code == 302
    assert second["Location"] == reverse("kp:case", args=[case.pk])
    assert Letter.objects.filter(case=case, kind="KP_DOKUMENT").count() == 1
    assert events(case, "kooperationsplan.activated") == 1
    assert Kooperationsplan.objects.get(pk=draft.pk).lock_version == draft.lock_version + 1


# --- Fortschreibung and older versions ----------------------------------------------------------------------


def test_fortschreibung_of_an_active_plan_copies_the_content_into_a_new_draft(client, case):
    plan = active_plan(case)
    html = html_of(client.get(url("plan_edit", plan)))
    assert "Fortschreibung beginnen" in html
    assert 'name="naechstes_ziel"' not in html  # an active version is read-only
    response = client.post(url("plan_continue", plan))
    assert response.status_code == 302
    new = Kooperationsplan.objects.get(case=case, status="DRAFT")
    assert response["Location"] == url("plan_edit", new)
    assert (new.version_number, new.predecessor_id) == (2, plan.pk)
    assert Kooperationsplan.objects.get(pk=plan.pk).status == "UNDER_REVIEW"
    assert list(new.steps.values_list("text", flat=True)) == list(plan.steps.values_list("text", flat=True))
    assert new.content_items.count() == plan.content_items.count()
    # T8: a second click opens the same draft.
    again = client.post(url("plan_continue", plan))
    assert again["Location"] == url("plan_edit", new)
    assert Kooperationsplan.objects.filter(case=case).count() == 2


def test_fortschreibung_of_a_plan_under_review_and_the_old_version_stays_read_only(client, case):
    plan = active_plan(case)
    services.kooperationsplan_start_review(plan_id=plan.pk, actor=case.responsible)
    html = html_of(client.get(url("plan_edit", plan)))
    assert 'name="naechstes_ziel"' in html  # UNDER_REVIEW: adaptable in place (R-FS-1)
    assert client.post(url("plan_continue", plan)).status_code == 302
    new = Kooperationsplan.objects.get(case=case, status="DRAFT")
    new.refresh_from_db()
    new_data = form_data(new, naechstes_ziel="Ich beginne eine Weiterbildung.")
    assert client.post(url("plan_edit", new), new_data).status_code == 302
    new.refresh_from_db()
    assert client.post(url("plan_activate", new), {"aktivierung-lock_version": new.lock_version}).status_code == 302
    old = Kooperationsplan.objects.get(pk=plan.pk)
    assert old.status == "SUPERSEDED"
    before = snapshot(old)
    page = html_of(client.get(url("plan_edit", old)))
    assert "kann nicht mehr bearbeitet werden" in page
    assert 'name="naechstes_ziel"' not in page
    assert "Fortschreibung beginnen" not in page
    refused = client.post(url("plan_edit", old), form_data(old))
    assert refused.status_code == 409
    assert snapshot(old) == before


def test_fortschreibung_of_a_draft_is_refused(client, draft):
    before = snapshot(draft)
    response = client.post(url("plan_continue", draft))
    assert response.status_code == 409
    assert "Nur ein aktiver Kooperationsplan kann überprüft werden (Status: Entwurf)." in html_of(response)
    assert snapshot(draft) == before


# --- Diff view -------------------------------------------------------------------------------------------


def test_diff_lists_exactly_the_changed_fields(client, case):
    old = active_plan(case)
    services.kooperationsplan_start_review(plan_id=old.pk, actor=case.responsible)
    new = services.kooperationsplan_start(case_id=case.pk, actor=case.responsible)
    ContentItem.objects.filter(plan=new, kind="SOLL_3").update(
        text="Ich besuche einen Deutschkurs.", nicht_relevant=False
    )
    Kooperationsplan.objects.filter(pk=new.pk).update(naechstes_ziel="Ich beginne eine Weiterbildung.")
    StepFactory(plan=new, position=9, text="Ich melde mich beim Kurs an.", due_on=None)
    path = reverse("kp:plan_diff", args=[case.pk])
    response = client.get(path, {"von": old.pk, "zu": new.pk})
    assert response.status_code == 200
    html = html_of(response)
    table = html[html.index('id="vergleich"') : html.index("</table>")]
    labels = re.findall(r'<th scope="row">([^<]+)</th>', table)
    assert labels == [
        "Integrationskurs oder Deutschsprachförderung",
        "Integrationskurs oder Deutschsprachförderung: nicht relevant",
        "Nächstes Ziel",
        "Schritt 4",
        "gültig ab",
        "gültig bis",
        "Überprüfung spätestens am",
    ]
    assert "Ich besuche einen Deutschkurs." in table
    assert "Ich beginne eine Weiterbildung." in table
    assert f"{old.valid_from:%d.%m.%Y}" in table
    headers = re.findall(r'<th scope="col">([^<]+)', table)
    assert [header.strip() for header in headers] == ["Feld", "vorher", "nachher"]
    same = html_of(client.get(path, {"von": old.pk, "zu": old.pk}))
    assert "Keine Unterschiede" in same


def test_diff_with_a_plan_of_another_case_is_404_and_bad_input_400(client, case, ifk_nord):
    plan = active_plan(case)
    other = active_plan(new_case(ifk=ifk_nord))
    path = reverse("kp:plan_diff", args=[case.pk])
    assert client.get(path, {"von": plan.pk, "zu": other.pk}).status_code == 404
    assert client.get(path, {"von": other.pk, "zu": plan.pk}).status_code == 404
    assert client.get(path, {"von": "x\x00", "zu": plan.pk}).status_code == 400
    assert client.get(path, {"von": "9" * 40, "zu": plan.pk}).status_code == 400
    assert client.get(path).status_code == 200


# --- T1 scoping, T4 roles, T22 CSRF, methods ----------------------------------------------------------------


def editor_requests(plan):
    diff = reverse("kp:plan_diff", args=[plan.case_id])
    return [
        ("get", url("plan_edit", plan), {}),
        ("post", url("plan_edit", plan), form_data(plan)),
        ("post", url("plan_preview", plan), form_data(plan)),
        ("get", _row_url(plan, "schritt", 0), {}),
        ("get", _row_url(plan, "eigenbemuehung", 0), {}),
        ("get", url("plan_activation_check", plan), {}),
        ("post", url("plan_activate", plan), {"aktivierung-lock_version": plan.lock_version}),
        ("post", url("plan_continue", plan), {}),
        ("get", f"{diff}?von={plan.pk}&zu={plan.pk}", {}),
        ("get", diff, {}),
        ("get", url("plan_activate", plan), {}),  # wrong method: still 404, not 405
    ]


def test_another_team_gets_404_on_every_editor_url_and_fragment(draft, ifk_sued):
    fill_draft(draft)
    draft.refresh_from_db()
    before = snapshot(draft)
    client = client_for(ifk_sued)
    for method, path, data in editor_requests(draft):
        response = getattr(client, method)(path, data)
        assert response.status_code == 404, (method, path, response.status_code)
        page = response.content.decode()
        assert draft.case.elb.kundennummer not in page
        assert draft.case.elb.full_name not in page
    assert snapshot(draft) == before
    denied = AccessLog.objects.filter(case_id_accessed=draft.case_id, user=ifk_sued)
    assert denied.count() == len(editor_requests(draft))
    assert set(denied.values_list("outcome", flat=True)) == {AccessLog.Outcome.DENIED}


def test_team_lead_may_edit_and_fachadministration_only_read(draft, tl_nord, fachadmin):
    assert client_for(tl_nord).post(url("plan_edit", draft), form_data(draft)).status_code == 302
    draft.refresh_from_db()
    before = snapshot(draft)
    admin = client_for(fachadmin)
    page = html_of(admin.get(url("plan_edit", draft)))
    assert "Sie können diese Version ansehen, aber nicht bearbeiten." in page
    assert 'name="naechstes_ziel"' not in page
    assert admin.post(url("plan_edit", draft), form_data(draft)).status_code == 403
    assert admin.post(url("plan_activate", draft), {"aktivierung-lock_version": draft.lock_version}).status_code == 403
    assert snapshot(draft) == before


def test_wrong_methods_are_405_for_the_own_team(client, draft):
    assert client.get(url("plan_activate", draft)).status_code == 405
    assert client.get(url("plan_preview", draft)).status_code == 405
    assert client.post(_row_url(draft, "schritt", 0)).status_code == 405
    assert client.delete(url("plan_edit", draft)).status_code == 405


def test_posts_without_csrf_token_are_refused_and_htmx_header_works(draft, ifk_nord):
    """T22: without the token 403 and nothing changes; htmx sends it in the X-CSRFToken header."""
    fill_draft(draft)
    draft.refresh_from_db()
    before = snapshot(draft)
    client = Client(enforce_csrf_checks=True)
    client.force_login(ifk_nord)
    for path, data in [
        (url("plan_edit", draft), form_data(draft)),
        (url("plan_preview", draft), form_data(draft)),
        (url("plan_activate", draft), {"aktivierung-lock_version": draft.lock_version}),
        (url("plan_continue", draft), {}),
    ]:
        assert client.post(path, data).status_code == 403, path
    assert snapshot(draft) == before
    page = client.get(url("plan_edit", draft)).content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = client.post(url("plan_preview", draft), form_data(draft), HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert EB_SENTENCE in html_of(response)


# --- Query count ------------------------------------------------------------------------------------------


def editor_queries(client, plan) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url("plan_edit", plan))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_editor_query_count_does_not_grow_with_the_rows(client, draft, ifk_nord):
    fill_draft(draft)
    Step.objects.filter(plan=draft).delete()
    StepFactory(plan=draft, position=0)
    one = editor_queries(client, draft)
    StepFactory.create_batch(9, plan=draft)
    EigenbemuehungFactory.create_batch(9, plan=draft)
    MassnahmeZuweisungFactory.create_batch(5, plan=draft)
    MassnahmeFactory.create_batch(5)  # a bigger catalogue
    ten = editor_queries(client, draft)
    assert Step.objects.filter(plan=draft).count() == 10
    assert one == ten
    assert ten == EDITOR_QUERIES


# Session and user (2); case and access-log row, and in the same statement the plan with its four row sets, the
# version list, the measure catalogue, the case's rows for the activation check and the page header's team and
# badge (1: editor_load); the session renewal (3).
EDITOR_QUERIES = 6


def test_other_users_in_the_team_see_the_same_editor(draft):
    """The editor is the team's: a second IFK of Team Nord opens it too (scoping is by team, not by person)."""
    other = UserFactory(team=draft.case.team)
    assert client_for(other).get(url("plan_edit", draft)).status_code == 200


# --- Measures in the plan (Soll-Inhalt 1, R-ZUW-1) ---------------------------------------------------------


def measure_row(entry, **overrides) -> dict[str, str]:
    row = {"massnahme": str(entry.pk), "start_date": "2026-04-06", "end_date": "", "rueckmeldung_due": "2026-03-30"}
    return {**row, **overrides}


@pytest.fixture
def spring():
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=BERLIN), tick=False):
        yield


def test_a_measure_is_saved_as_planned_with_the_usual_duration_and_shown_in_the_first_person(client, draft, spring):
    massnahme = MassnahmeFactory(title="Bewerbungscenter Nord", duration_weeks=12, traeger_name="Bildung Nord gGmbH")
    response = client.post(url("plan_edit", draft), form_data(draft, measures=[measure_row(massnahme)]))
    assert response.status_code == 302
    assignment = MassnahmeZuweisung.objects.get(plan=draft)
    assert (assignment.status, assignment.via, assignment.case_id) == ("PLANNED", None, draft.case_id)
    # 12 weeks from Monday 06.04.2026: the last day is Sunday 28.06.2026.
    assert (assignment.start_date, assignment.end_date, assignment.rueckmeldung_due) == (
        date(2026, 4, 6),
        date(2026, 6, 28),
        date(2026, 3, 30),
    )
    html = html_of(client.get(url("plan_edit", draft)))
    assert (
        "Ich nehme an der Maßnahme „Bewerbungscenter Nord“ bei Bildung Nord gGmbH teil, vom 06.04.2026 bis zum "
        "28.06.2026. Ich melde mich bis zum 30.03.2026 beim Träger." in html
    )
    event = TimelineEvent.objects.filter(case=draft.case, code="kooperationsplan.edited").first()
    assert "R-ZUW-1:zuw.planned" in event.reason_codes


def test_the_live_preview_names_an_unsaved_measure(client, draft, spring):
    massnahme = MassnahmeFactory(title="AGH Stadtgrün", traeger_name="Grünwerk e. V.")
    response = client.post(url("plan_preview", draft), form_data(draft, measures=[measure_row(massnahme)]))
    assert "Ich nehme an der Maßnahme „AGH Stadtgrün“ bei Grünwerk e. V. teil" in html_of(response)
    assert not MassnahmeZuweisung.objects.filter(plan=draft).exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rueckmeldung_due": "2026-04-07"}, "spätestens am Tag des Beginns"),
        ({"end_date": "2026-04-01"}, "Das Ende darf nicht vor dem Beginn liegen."),
        ({"rueckmeldung_due": ""}, "bis wann sich die eLb beim Träger vorstellt"),
        ({"massnahme": "999999"}, "Diese Maßnahme ist nicht im Katalog."),
    ],
)
def test_bad_measure_rows_are_german_form_errors_and_change_nothing(client, draft, spring, overrides, message):
    massnahme = MassnahmeFactory()
    before = snapshot(draft)
    response = client.post(url("plan_edit", draft), form_data(draft, measures=[measure_row(massnahme, **overrides)]))
    assert response.status_code == 400
    assert message in html_of(response)
    assert snapshot(draft) == before
    assert not MassnahmeZuweisung.objects.filter(plan=draft).exists()


def test_a_withdrawn_catalogue_entry_cannot_be_planned(client, draft, spring):
    massnahme = MassnahmeFactory(active=False)
    response = client.post(url("plan_edit", draft), form_data(draft, measures=[measure_row(massnahme)]))
    assert response.status_code == 400
    assert not MassnahmeZuweisung.objects.filter(plan=draft).exists()


def test_saving_replaces_only_the_planned_measures_of_this_plan(client, case, spring):
    """T6: issued assignments (with their letter) and measures of other plans are never touched."""
    plan = active_plan(case)
    issued = MassnahmeZuweisungFactory(plan=plan, status="SCHREIBEN_ISSUED", via="SCHREIBEN")
    services.kooperationsplan_start_review(plan_id=plan.pk, actor=case.responsible)
    other = MassnahmeZuweisungFactory()
    plan.refresh_from_db()
    old_planned = MassnahmeZuweisungFactory(plan=plan)
    new = MassnahmeFactory(title="Neu im Plan")
    # The Eigenbemühungen stay as they are: their evidence periods run (a change would need a new version).
    unchanged = {**EB, "description": "Ich bewerbe mich schriftlich oder online."}
    response = client.post(url("plan_edit", plan), form_data(plan, ebs=[unchanged], measures=[measure_row(new)]))
    assert response.status_code == 302
    rows = MassnahmeZuweisung.objects.filter(plan=plan)
    assert set(rows.values_list("massnahme__title", "status")) == {
        (issued.massnahme.title, "SCHREIBEN_ISSUED"),
        ("Neu im Plan", "PLANNED"),
    }
    assert not MassnahmeZuweisung.objects.filter(pk=old_planned.pk).exists()
    assert MassnahmeZuweisung.objects.filter(pk=other.pk, status="PLANNED").exists()
    html = html_of(client.get(url("plan_edit", plan)))
    assert "Bereits zugewiesen (hier nicht änderbar)" in html


def test_fortschreibung_takes_the_unassigned_measures_into_the_new_version(client, case, spring):
    plan = active_plan(case)
    planned = MassnahmeZuweisungFactory(plan=plan)
    issued = MassnahmeZuweisungFactory(plan=plan, status="STARTED", via="SCHREIBEN")
    assert client.post(url("plan_continue", plan)).status_code == 302
    draft = Kooperationsplan.objects.get(case=case, status="DRAFT")
    copied = draft.assignments.get()
    measure = {"massnahme": str(copied.massnahme_id), "start_date": copied.start_date.isoformat()}
    measure |= {"end_date": copied.end_date.isoformat(), "rueckmeldung_due": copied.rueckmeldung_due.isoformat()}
    assert client.post(url("plan_edit", draft), form_data(draft, measures=[measure])).status_code == 302
    copied = draft.assignments.get()
    assert (copied.massnahme_id, copied.status, copied.start_date) == (
        planned.massnahme_id,
        "PLANNED",
        planned.start_date,
    )
    draft.refresh_from_db()
    assert client.post(url("plan_activate", draft), {"aktivierung-lock_version": draft.lock_version}).status_code == 302
    # The old version keeps the running measure; its never-assigned copy lives on in the new version only.
    assert not MassnahmeZuweisung.objects.filter(pk=planned.pk).exists()
    assert MassnahmeZuweisung.objects.get(pk=issued.pk).plan_id == plan.pk
    assert MassnahmeZuweisung.objects.filter(case=case, status="PLANNED").get().plan_id == draft.pk


def test_the_add_row_fragment_offers_the_catalogue(client, draft):
    MassnahmeFactory(title="Aktivierungscenter Süd")
    path = reverse("kp:plan_row", args=[draft.case_id, draft.pk, "massnahme"])
    response = client.get(path, {"massnahmen-TOTAL_FORMS": "0"})
    html = html_of(response)
    assert response.status_code == 200
    assert 'name="massnahmen-0-massnahme"' in html
    assert "Aktivierungscenter Süd" in html
    assert 'id="id_massnahmen-TOTAL_FORMS" value="1"' in html or 'value="1" id="id_massnahmen-TOTAL_FORMS"' in html


# --- Widget rendering (editor_forms.EditorRenderer) --------------------------------------------------------

HOSTILE_TEXT = "<b>\"Schritt\" & 'mehr'</b>\nzweite Zeile"
CATALOGUE = ((1, "Coaching <A & B>", 8), (2, "AGH „Garten“", 12))


def editor_forms_with(renderer, data):
    """Every editor form once, bound to `data` (None: unbound, with hostile initial values)."""
    initial = {
        **{field: HOSTILE_TEXT for field in ("naechstes_ziel", "text_SOLL_1", "text", "description")},
        "text_SOLL_3": "",
        "nicht_relevant_SOLL_3": True,
        "gemeinsam_erarbeitet": True,
        "infoblatt_vb_ausgehaendigt_on": date(2026, 3, 1),
        "lock_version": 3,
        "kind": "BEWERBUNG",
        "min_count": 0,
        "massnahme": 2,
        "due_on": date(2026, 7, 15),
    }
    kwargs = {"renderer": renderer} if data is not None else {"renderer": renderer, "initial": initial}
    return [
        PlanContentForm(data, **kwargs),
        StepForm(data, **kwargs),
        EigenbemuehungForm(data, **kwargs),
        MassnahmeRowForm(data, catalogue=CATALOGUE, **kwargs),
        ActivationForm(data, prefix="aktivierung", **kwargs),
    ]


BOUND = {
    "lock_version": "x",  # invalid: the hidden field
    "naechstes_ziel": HOSTILE_TEXT,
    "text_SOLL_1": "",
    "text_SOLL_2": HOSTILE_TEXT,
    "nicht_relevant_SOLL_3": "on",
    "text_SOLL_3": "beides",  # invalid together with "nicht relevant"
    "infoblatt_vb_ausgehaendigt_on": "2026-13-40",
    "beratungsvermerk_ref": '"Vermerk" <1>',
    "text": HOSTILE_TEXT,
    "responsible": "JC",
    "due_on": "2026-07-15",
    "kind": "gibt es nicht",
    "min_count": "0",
    "period": "MONAT",
    "nachweis_due_day": "99",
    "massnahme": "1",
    "start_date": "2026-05-01",
    "rueckmeldung_due": "2026-06-01",  # after the start: invalid
    "aktivierung-valid_from": "2020-01-01",
    "aktivierung-with_flyer": "on",
}


@pytest.mark.parametrize("data", [None, BOUND], ids=["unbound", "bound"])
def test_the_editor_renderer_writes_exactly_djangos_widget_html(data):
    ours = editor_forms_with(None, data)  # the forms' own renderer
    django = editor_forms_with(DjangoTemplates(), data)
    for mine, reference in zip(ours, django, strict=True):
        assert isinstance(mine.renderer, EditorRenderer)
        for name, field in mine.fields.items():
            assert field.widget.template_name in FAST_WIDGETS, name  # written in Python, not by Django
            assert str(mine[name]) == str(reference[name]), name
    for formset in (StepFormSet, EigenbemuehungFormSet, MassnahmeFormSet):
        mine, reference = formset(prefix="x"), formset(prefix="x")
        reference.renderer = DjangoTemplates()
        assert mine.renderer is mine.new_row(0).renderer is RENDERER
        assert str(mine.management_form) == str(reference.management_form)


def _layout(html: str) -> str:
    """The HTML without the template's indentation and line breaks between tags."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.parametrize("data", [None, BOUND], ids=["unbound", "bound"])
def test_field_html_writes_what_the_field_template_writes(data):
    """editor_forms.field_html ({% editor_field %}) is _field.html in Python: label, required note, widget, help
    text and errors, for every field of every editor form, with and without errors, with hostile text."""
    kinds = set()
    for form in editor_forms_with(None, data):
        for name in form.fields:
            field = form[name]
            reference = render_to_string("kooperationsplan/editor/_field.html", {"field": field})
            assert _layout(field_html(field)) == _layout(reference), name
            kinds.add((field.widget_type, field.field.required, bool(field.errors), bool(field.help_text)))
    widget_kinds = {kind[0] for kind in kinds}
    assert {"checkbox", "hidden", "textarea", "select", "date"} <= widget_kinds
    if data is not None:
        assert any(kind[2] for kind in kinds)  # some with errors
    assert any(kind[3] for kind in kinds)  # some with help text
    assert any(kind[1] for kind in kinds)  # some required


# Values an unbound field is shown with: nothing, text (hostile, with a line break), numbers, dates, booleans, text
# that is no choice, the marker the compiled markup is split on.
UNBOUND_VALUES = (None, "", HOSTILE_TEXT, "0", 0, 17, date(2026, 7, 15), "2026-07-15", True, False, "x", "\x00")


def _unbound_forms(name, value):
    """Every kind of unbound form of the editor, each with `value` as the initial value of field `name`."""
    initial = {name: value}
    steps = StepFormSet(initial=[initial], prefix="schritte")
    ebs = EigenbemuehungFormSet(initial=[initial, {}], prefix="eb")
    measures = MassnahmeFormSet(initial=[initial], prefix="massnahmen", form_kwargs={"catalogue": CATALOGUE})
    return [
        PlanContentForm(initial=initial),
        ActivationForm(prefix="aktivierung", initial=initial),
        *steps.forms,
        *ebs.forms,
        *measures.forms,
        steps.new_row(4),
        steps.management_form,
    ]


def test_unbound_fields_are_written_character_for_character_as_django_writes_them():
    """field_html of an unbound field writes its value into markup taken once from Django's rendering
    (editor_forms._unbound_html); the result is exactly Django's, for every field of the editor with every kind
    of value. A select whose choices are built per request (the measure catalogue) is not compiled."""
    compiled_kinds, names = set(), {name for form in _unbound_forms("", None) for name in form.fields}
    for name in sorted(names):
        choices = {
            str(value)
            for form in _unbound_forms(name, None)
            if name in form.fields
            for value, _ in getattr(form.fields[name], "choices", ())
        }
        for value in (*UNBOUND_VALUES, *choices):
            for form in _unbound_forms(name, value):
                if name not in form.fields:
                    continue
                field = form[name]
                before, after = editor_forms._around(field)
                assert field_html(field) == before + str(field) + after, (type(form).__name__, name, value)
                if editor_forms._unbound_html(field) is not None:
                    compiled_kinds.add(field.widget_type)
                elif name == "massnahme":
                    assert field.widget_type == "select"
    assert compiled_kinds == {"checkbox", "date", "hidden", "number", "select", "text", "textarea"}
    assert len(editor_forms._compiled) < editor_forms._COMPILED_MAX


# --- The editor form in Python (editor_forms.form_html, row_html) -------------------------------------------

ROW_TEMPLATES = {
    StepForm: "kooperationsplan/editor/_step_row.html",
    EigenbemuehungForm: "kooperationsplan/editor/_eb_row.html",
    MassnahmeRowForm: "kooperationsplan/editor/_measure_row.html",
}


def _management(prefix, total):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": "0"}


def _editor_formsets(data):
    """The form and the three formsets of the editor: unbound with hostile initial rows (data None) or bound
    to `data` with errors in the form, in rows and (too many measures) in a formset."""
    kwargs = {"form_kwargs": {"catalogue": CATALOGUE}}
    if data is None:
        step = {"text": HOSTILE_TEXT, "responsible": "JC", "due_on": date(2026, 7, 15)}
        eb = {"kind": "BEWERBUNG", "description": HOSTILE_TEXT, "min_count": 3, "period": "MONAT"}
        measure = {"massnahme": 2, "start_date": date(2026, 5, 4), "rueckmeldung_due": date(2026, 5, 1)}
        return (
            PlanContentForm(initial={"lock_version": 3, "naechstes_ziel": HOSTILE_TEXT, "nicht_relevant_SOLL_3": True}),
            StepFormSet(initial=[step, {}], prefix="schritte"),
            EigenbemuehungFormSet(initial=[eb], prefix="eb"),
            MassnahmeFormSet(initial=[measure], prefix="massnahmen", **kwargs),
        )
    rows = {
        **_management("schritte", 2),
        **{f"schritte-0-{key}": value for key, value in (("text", HOSTILE_TEXT), ("responsible", "JC"))},
        "schritte-1-due_on": "2026-02-30",
        **_management("eb", 1),
        **{f"eb-0-{key}": value for key, value in (("kind", "x"), ("min_count", "0"), ("description", "<i>"))},
        **_management("massnahmen", MAX_ROWS + 1),
        "massnahmen-0-massnahme": "1",
        "massnahmen-0-start_date": "2026-05-01",
        "massnahmen-0-rueckmeldung_due": "2026-06-01",
    }
    bound = {**data, **rows}
    return (
        PlanContentForm(bound),
        StepFormSet(bound, prefix="schritte"),
        EigenbemuehungFormSet(bound, prefix="eb"),
        MassnahmeFormSet(bound, prefix="massnahmen", **kwargs),
    )


@pytest.mark.parametrize("data", [None, BOUND], ids=["unbound", "bound"])
def test_row_html_writes_what_the_row_templates_write(data):
    """editor_forms.row_html ({% editor_row %}) is _step_row.html, _eb_row.html and _measure_row.html in Python,
    rows with hostile text, with and without errors; the htmx row fragment uses it too."""
    seen = set()
    for formset in _editor_formsets(data)[1:]:
        for number, form in enumerate(formset.forms, start=1):
            if data is not None:
                form.is_valid()
            reference = render_to_string(ROW_TEMPLATES[type(form)], {"form": form, "number": number})
            assert _layout(row_html(form, number)) == _layout(reference)
            seen.add((type(form), bool(form.errors)))
    assert {kind for kind, _ in seen} == set(ROW_TEMPLATES)
    if data is not None:  # every kind of row once with errors
        assert {kind for kind, errors in seen if errors} == set(ROW_TEMPLATES)


@pytest.mark.parametrize("conflict", [None, {"still_editable": True}, {"still_editable": False}])
@pytest.mark.parametrize("data", [None, BOUND], ids=["unbound", "bound"])
def test_form_html_writes_what_the_form_template_writes(rf, data, conflict):
    """{% editor_form %} (editor_forms.form_html) is _form.html in Python: the sections, the three formsets with
    their management forms, row and formset errors, the measures already assigned, the buttons; with hostile
    text, in a conflict and out of one."""
    from types import SimpleNamespace

    from django.template import engines

    from kooperationsplan.editor import MeasureContent

    form, steps, ebs, measures = _editor_formsets(data)
    if data is not None:
        assert not any([part.is_valid() for part in (form, steps, ebs, measures)])
        assert measures.non_form_errors()
        assert form["lock_version"].errors
    fixed = [
        MeasureContent(2, "AGH <Garten> & mehr", "Träger „A“", date(2026, 4, 1), None, None, "BESCHEID_ISSUED"),
    ]
    context = {
        "case": SimpleNamespace(pk=7),
        "plan": SimpleNamespace(pk=11),
        "form": form,
        "steps": steps,
        "ebs": ebs,
        "measures": measures,
        "fixed_measures": fixed,
        "conflict": conflict,
    }
    request = rf.get("/")
    reference = render_to_string("kooperationsplan/editor/_form.html", context, request=request)
    ours = engines["django"].from_string("{% load editor %}{% editor_form %}").render(context, request)

    def same_token(html):  # the CSRF token is masked differently on each use
        return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', 'name="csrfmiddlewaretoken" value=""', html)

    assert _layout(same_token(ours)) == _layout(same_token(reference))
    assert "AGH &lt;Garten&gt; &amp; mehr" in ours
    assert "<b>" not in ours
    assert ('id="kp-speichern"' in ours) is (not conflict or conflict["still_editable"])
