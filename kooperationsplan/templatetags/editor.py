"""The KP editor's form in Python (kooperationsplan.editor_forms): {% editor_field field %} for one field,
{% editor_row form number %} for one formset row, {% editor_form %} for the whole form (from the page context)."""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.safestring import SafeString

from kooperationsplan.editor_forms import ROW_KINDS, field_html, form_html, row_html

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
