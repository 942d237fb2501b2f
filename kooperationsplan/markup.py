"""Escaping for the markup the hot pages write in Python (the KP editor's form, the worklist's rows)."""

from __future__ import annotations

from html import escape
from typing import Any

from django.utils.functional import Promise


def esc(value: Any) -> str:
    """django.utils.html.conditional_escape without its lazy-argument wrapper (a third of the editor widgets'
    time): safe strings as they are, anything else through html.escape, which Django's escape uses too."""
    if isinstance(value, Promise):
        value = str(value)
    as_html = getattr(value, "__html__", None)
    return as_html() if as_html is not None else escape(str(value), quote=True)
