"""The KP editor's page parts in Python (kooperationsplan.editor_forms, kooperationsplan.editor_html):
{% editor_field field %} for one field, {% editor_row form number %} for one formset row, {% editor_form %} for
the whole form, {% editor_preview %}, {% editor_versions %} and {% editor_activation %} for the side parts (each
from the page context)."""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.safestring import SafeString

from kooperationsplan.editor_forms import ROW_KINDS, field_html, form_html, row_html
from kooperationsplan.editor_html import activation_html, preview_html, versions_html

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
