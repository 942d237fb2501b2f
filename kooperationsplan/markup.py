"""Escaping and the templates' filters for the markup the hot pages write in Python (the KP editor, the worklist's
rows)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
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


def joined(values: Iterable[Any], separator: str) -> str:
    """The templates' `|join:separator`: each value escaped (an error list joined by " ", sources by ", ")."""
    return separator.join(esc(value) for value in values)


def day(value: date | None) -> str:
    """The templates' `|date:"d.m.Y"` ("" for none)."""
    return "" if value is None else value.strftime("%d.%m.%Y")
