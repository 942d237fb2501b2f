"""The KP editor's page in Python (kooperationsplan.editor_forms, kooperationsplan.editor_html):
{% editor_field field %} for one field, {% editor_row form number %} for one formset row, {% editor_form %} for
the whole form, {% editor_preview %}, {% editor_versions %} and {% editor_activation %} for the side parts, and
{% editor_page %} for the page's whole content with all of them (each from the page context)."""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.safestring import SafeString

from kooperationsplan.editor_forms import ROW_KINDS, field_html, form_html, row_html
from kooperationsplan.editor_html import activation_html, page_html, preview_html, versions_html

register = template.Library()
register.simple_tag(field_html, name="editor_field")
register.simple_tag(row_html, name="editor_row")


@register.simple_tag(takes_context=True)
def editor_form(context: template.Context) -> SafeString:
    case_id, plan_id = context["case"].pk, context["plan"].pk
    urls: dict[str, Any] = {
        "save": reverse("kp:plan_edit", args=(case_id, plan_id)),
        "cancel": reverse("kp:plans", args=(case_id,)),
        **{prefix: reverse("kp:plan_row", args=(case_id, plan_id, kind)) for kind, (_, prefix, _) in ROW_KINDS.items()},
    }
    return form_html(
        form=context["form"],
        steps=context["steps"],
        ebs=context["ebs"],
        measures=context["measures"],
        fixed_measures=context.get("fixed_measures"),
        conflict=context.get("conflict"),
        csrf_token=get_token(context["request"]),
        urls=urls,
    )


@register.simple_tag(takes_context=True)
def editor_preview(context: template.Context) -> SafeString:
    return preview_html(context["preview"])


@register.simple_tag(takes_context=True)
def editor_versions(context: template.Context) -> SafeString:
    case_id = context["case"].pk

    def edit_url(plan_id: int) -> str:
        return reverse("kp:plan_edit", args=(case_id, plan_id))

    urls = {"edit": edit_url, "diff": reverse("kp:plan_diff", args=(case_id,))}
    return versions_html(plan=context["plan"], versions=context["versions"], draft=context.get("draft"), urls=urls)


@register.simple_tag(takes_context=True)
def editor_activation(context: template.Context) -> SafeString:
    case_id, plan_id = context["case"].pk, context["plan"].pk
    return activation_html(
        form=context["activation_form"],
        checks=context["checks"],
        offer_return=bool(context.get("offer_return")),
        csrf_token=get_token(context["request"]),
        urls={
            "activate": reverse("kp:plan_activate", args=(case_id, plan_id)),
            "check": reverse("kp:plan_activation_check", args=(case_id, plan_id)),
        },
    )


@register.simple_tag(takes_context=True)
def editor_page(context: template.Context) -> SafeString:
    """The content of plan_page.html (_page.html is the reference): the parts above, and for a version that is
    not edited here its read-only view and the Fortschreibung (templates: pages nobody works on all day)."""
    case_id, plan_id, request = context["case"].pk, context["plan"].pk, context["request"]
    flat = context.flatten()

    def included(name: str) -> str:
        return render_to_string(f"kooperationsplan/editor/{name}", flat, request=request)

    parts = {
        "main": editor_form(context) if context.get("editable") else included("_readonly.html"),
        "preview": editor_preview(context),
        "versions": editor_versions(context),
        "activation": editor_activation(context) if context.get("activation_form") else "",
        "continue": included("_continue.html") if context.get("can_continue") else "",
    }
    urls = {
        "caseload": reverse("cases:caseload"),
        "case": reverse("kp:case", args=(case_id,)),
        "plans": reverse("kp:plans", args=(case_id,)),
        "edit": reverse("kp:plan_edit", args=(case_id, plan_id)),
        "preview": reverse("kp:plan_preview", args=(case_id, plan_id)),
        "script": static("js/editor.js"),
    }
    return page_html(flat, parts=parts, csrf_token=get_token(request), urls=urls)
