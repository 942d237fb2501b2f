"""{% editor_field field %}: one form field of the KP editor (kooperationsplan.editor_forms.field_html)."""

from __future__ import annotations

from django import template

from kooperationsplan.editor_forms import field_html

register = template.Library()
register.simple_tag(field_html, name="editor_field")
