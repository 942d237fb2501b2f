"""{% worklist_row %} and {% worklist_notification %}: the repeated rows of Mein Arbeitsplatz, written in Python.

The worklist is the page an IFK opens most, and its rows were most of its template time (bench/RESULTS.md
"Pages"). The markup is that of the reference partials templates/kooperationsplan/_worklist_row.html and
_worklist_notification.html. test_worklist.py renders both ways, with hostile text, and compares them.
Every value is escaped (html.escape, which Django's escape filter uses too); the markup is our own.
"""

from __future__ import annotations

from html import escape
from typing import Any

from django import template
from django.utils.safestring import SafeString

from kooperationsplan.worklist import WorklistItem, WorklistNotification

register = template.Library()


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def item_row_html(item: WorklistItem, show_responsible: bool) -> SafeString:
    urgency = f'<strong class="text-danger-emphasis">{_e(item.urgency)}</strong>' if item.overdue else _e(item.urgency)
    responsible = f"<td>{_e(item.responsible)}</td>" if show_responsible else ""
    return SafeString(
        f'<tr data-kind="{_e(item.kind)}"><td>{urgency}</td>'
        f'<td><time datetime="{item.due_on.isoformat()}">{_e(item.due_on_text)}</time></td>'
        f'<td>{_e(item.label)} <span class="text-body-secondary small">({_e(item.deadline)})</span><br>'
        f'<span class="small">{_e(item.detail)}</span></td>'
        f'<td><a href="{_e(item.url)}">{_e(item.elb_name)}</a></td><td>{_e(item.kundennummer)}</td>{responsible}</tr>'
    )


def notification_row_html(notification: WorklistNotification, *, viewer_id: int, csrf_token: str) -> SafeString:
    details = f"erhalten am {_e(notification.created_on_text)}"
    if notification.due_on:
        details += (
            f' · fällig am <time datetime="{notification.due_on.isoformat()}">{_e(notification.due_on_text)}</time>'
        )
    if notification.user_id != viewer_id:
        details += f" · in Vertretung für {_e(notification.owner_name)}"
    if notification.case_id:
        link = f'<a href="{_e(notification.case_url)}">{_e(notification.elb_name)}</a>'
        details += f" · {link} ({_e(notification.kundennummer)})"
    pk = int(notification.pk)
    return SafeString(
        '<li class="list-group-item d-flex flex-wrap justify-content-between align-items-start gap-2"'
        f' data-kind="NOTIFICATION"><div><span class="d-block" id="nachricht-{pk}">{_e(notification.message)}</span>'
        f'<span class="small text-body-secondary"> {details} </span></div>'
        f'<form method="post" action="{_e(notification.read_url)}">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(csrf_token)}">'
        '<input type="hidden" name="zurueck" value="arbeitsplatz">'
        f'<button type="submit" class="btn btn-outline-primary btn-sm" aria-describedby="nachricht-{pk}">'
        "Als gelesen markieren</button></form></li>"
    )


@register.simple_tag
def worklist_row(item: WorklistItem, show_responsible: bool) -> SafeString:
    return item_row_html(item, show_responsible)


@register.simple_tag(takes_context=True)
def worklist_notification(context: Any, notification: WorklistNotification) -> SafeString:
    # The page's one token, as {% csrf_token %} writes it (the csrf context processor's lazy value).
    return notification_row_html(
        notification, viewer_id=context["request"].user.pk, csrf_token=str(context["csrf_token"])
    )
