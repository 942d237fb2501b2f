"""The editor page's side parts in Python (kooperationsplan.editor_html) write what their reference templates write:
the preview, the version list, the activation box and its checks; every branch, with hostile text."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
from django.template import engines
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from kooperationsplan import editor, services
from kooperationsplan.editor_forms import ActivationForm
from kooperationsplan.editor_html import activation_checks_html, preview_html
from kooperationsplan.models import Kooperationsplan, KPStatus
from rules import plan as plan_rules
from tests.conftest import client_for
from tests.kooperationsplan.workflow_helpers import active_plan, complete_pa, new_case

HOSTILE = "<b>\"Ziel\" & 'mehr'</b>\r\nzweite Zeile\rdritte\nvierte"
TEMPLATES = "kooperationsplan/editor"


def _layout(html: str) -> str:
    """The HTML without the template's indentation and line breaks between tags."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def _same_token(html: str) -> str:  # the CSRF token is masked differently on each use
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', 'name="csrfmiddlewaretoken" value=""', html)


def _tag(tag: str, context: dict, request=None) -> str:
    return engines["django"].from_string("{% load editor %}{% " + tag + " %}").render(context, request)


def _content(**parts):
    return editor.PlanContent(
        **{"naechstes_ziel": "", "items": {}, "steps": (), "eigenbemuehungen": (), "checklist": {}, **parts}
    )


@pytest.mark.parametrize("filled", [False, True])
@pytest.mark.parametrize("dated", [False, True])
def test_preview_html_writes_what_the_preview_template_writes(filled, dated):
    plan = Kooperationsplan(valid_from=date(2026, 3, 2), valid_to=date(2026, 9, 1), review_due=date(2026, 8, 3))
    if not dated:
        plan = Kooperationsplan()
    content = _content()
    if filled:
        content = _content(
            naechstes_ziel=HOSTILE,
            items={"SOLL_5": (HOSTILE, False), "SOLL_2": ("Ich bewerbe mich.", False), "WEITERE": (HOSTILE, False)},
            steps=(editor.StepContent(HOSTILE, "ELB", date(2026, 4, 1), None),),
        )
    preview = editor.preview(content, plan)
    assert any(section["paragraphs"] or section["items"] for section in preview["sections"]) is filled
    reference = render_to_string(f"{TEMPLATES}/_preview.html", {"preview": preview})
    ours = preview_html(preview)
    assert _layout(ours) == _layout(reference)
    assert _layout(_tag("editor_preview", {"preview": preview})) == _layout(reference)
    if filled:
        assert "&lt;b&gt;&quot;Ziel&quot; &amp; &#x27;mehr&#x27;&lt;/b&gt;<br>zweite Zeile<br>dritte<br>vierte" in ours


def _version(pk, number, status, valid_from=None, predecessor_id=None):
    return Kooperationsplan(
        pk=pk, version_number=number, status=status, valid_from=valid_from, predecessor_id=predecessor_id
    )


@pytest.mark.parametrize(
    ("shown", "draft"),
    [(3, 3), (2, 3), (1, None)],
    ids=["the draft", "an older version while a draft exists", "the first version without a draft"],
)
def test_versions_html_writes_what_the_versions_template_writes(shown, draft):
    versions = [
        _version(3, 3, KPStatus.DRAFT, predecessor_id=2),
        _version(2, 2, KPStatus.UNDER_REVIEW, date(2026, 3, 2), predecessor_id=1),
        _version(1, 1, KPStatus.SUPERSEDED, date(2025, 9, 1)),
    ]
    if draft is None:
        versions = versions[2:]
    by_pk = {version.pk: version for version in versions}
    context = {
        "case": SimpleNamespace(pk=7),
        "plan": by_pk[shown],
        "versions": versions,
        "draft": by_pk.get(draft) if draft else None,
    }
    reference = render_to_string(f"{TEMPLATES}/_versions.html", context)
    ours = _tag("editor_versions", context)
    assert _layout(ours) == _layout(reference)
    assert 'aria-current="page"' in ours
    assert ("Zum Entwurf" in ours) is (draft is not None and draft != shown)
    assert ("?von=" in ours) is (by_pk[shown].predecessor_id is not None)


def _checks(allowed: bool):
    term = plan_rules.kp_term(date(2026, 3, 2), None)
    reasons = [] if allowed else [{"text": HOSTILE, "rule_id": "R-KP-3", "sources": ["§ 15 Abs. 2 <SGB II>", "a & b"]}]
    return {
        "allowed": allowed,
        "reasons": reasons,
        "term": term,
        "term_reason": {"rule_id": "R-KP-4", "sources": ["§ 15 Abs. 3 SGB II"]},
    }


@pytest.mark.parametrize("allowed", [True, False])
@pytest.mark.parametrize("date_errors", [[], ["„gültig ab“ <falsch>", "zweiter Fehler"]])
def test_activation_checks_html_writes_what_the_checks_template_writes(allowed, date_errors):
    checks = _checks(allowed)
    reference = render_to_string(f"{TEMPLATES}/_activation_checks.html", {"checks": checks, "date_errors": date_errors})
    assert _layout(activation_checks_html(checks, date_errors)) == _layout(reference)


ACTIVATION_INPUT = {
    "aktivierung-lock_version": "x",
    "aktivierung-valid_from": "2020-01-01",
    "aktivierung-return_without_rfb_reason": "\x01",
    "aktivierung-with_flyer": "on",
}


@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "bound with errors"])
@pytest.mark.parametrize("allowed", [True, False])
@pytest.mark.parametrize("offer_return", [True, False])
def test_activation_html_writes_what_the_activation_template_writes(bound, allowed, offer_return):
    if bound:
        form = ActivationForm(ACTIVATION_INPUT, prefix=editor.ACTIVATION_PREFIX)
        assert not form.is_valid()
        assert form["lock_version"].errors
        assert form["return_without_rfb_reason"].errors
    else:
        form = ActivationForm(prefix=editor.ACTIVATION_PREFIX, initial={"lock_version": 4})
    context = {
        "case": SimpleNamespace(pk=7),
        "plan": SimpleNamespace(pk=11),
        "activation_form": form,
        "checks": _checks(allowed),
        "offer_return": offer_return,
    }
    request = RequestFactory().get("/")
    reference = render_to_string(f"{TEMPLATES}/_activation.html", context, request=request)
    ours = _tag("editor_activation", context, request)
    assert _layout(_same_token(ours)) == _layout(_same_token(reference))
    assert reverse("kp:plan_activate", args=(7, 11)) in ours
    assert (" disabled>" in ours) is not allowed
    assert ("return_without_rfb_reason" in ours) is (offer_return or bound)


# --- The whole page content ({% editor_page %}, _page.html) ----------------------------------------------------


def _both_ways(response, **changes):
    """The editor page's content written both ways from the context the view rendered plan_page.html with."""
    context = {**response.context[0].flatten(), **changes}
    request = response.wsgi_request
    reference = render_to_string(f"{TEMPLATES}/_page.html", context, request=request)
    ours = _tag("editor_page", context, request)

    def same_tokens(html: str) -> str:
        return re.sub(r'"X-CSRFToken": "\w+"', '"X-CSRFToken": ""', _same_token(html))

    return _layout(same_tokens(ours)), _layout(same_tokens(reference))


@pytest.fixture
def ifk_case(ifk_nord):
    case = new_case(ifk=ifk_nord)
    complete_pa(case)
    return case


def test_editor_page_writes_what_the_page_template_writes(ifk_nord, ifk_case):
    """{% editor_page %} (editor_html.page_html) is _page.html in Python, for the editor of a draft (with the
    activation box), invalid input, a refused step, both kinds of conflict and a read-only version with the
    Fortschreibung; the parts inside are the same functions the part tests compare."""
    client = client_for(ifk_nord)
    active = active_plan(ifk_case)
    readonly = client.get(reverse("kp:plan_edit", args=(ifk_case.pk, active.pk)))
    assert readonly.context["can_continue"]
    assert not readonly.context["editable"]
    ours, reference = _both_ways(readonly)
    assert ours == reference
    assert "Fortschreibung beginnen" in ours
    services.kooperationsplan_start_review(plan_id=active.pk, actor=ifk_nord)
    draft = services.kooperationsplan_start(case_id=ifk_case.pk, actor=ifk_nord)  # the Fortschreibung
    edit = reverse("kp:plan_edit", args=(ifk_case.pk, draft.pk))
    shown = client.get(edit)
    assert shown.context["editable"]
    assert shown.context["activation_form"] is not None
    for changes in (
        {},
        {"refusal": [{"text": HOSTILE, "rule_id": "R-KP-4", "sources": ["§ 15 <SGB II>", "a & b"]}]},
        {"has_errors": True},
    ):
        ours, reference = _both_ways(shown, **changes)
        assert ours == reference, changes
    invalid = client.post(edit, {"lock_version": str(draft.lock_version), "schritte-TOTAL_FORMS": "x"})
    assert invalid.status_code == 400
    ours, reference = _both_ways(invalid)
    assert ours == reference
    conflict = {"rows": [{"label": "Nächstes Ziel", "before": HOSTILE, "after": "Meins"}], "still_editable": True}
    for still_editable in (True, False):
        ours, reference = _both_ways(shown, conflict={**conflict, "still_editable": still_editable})
        assert ours == reference, still_editable
        assert "Bearbeitungskonflikt: " in ours
        assert ("laden den gespeicherten Stand neu" in ours) is still_editable
