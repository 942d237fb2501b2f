"""{% worklist_row %} and {% worklist_notification %}: the repeated rows of Mein Arbeitsplatz, written in Python.

The worklist is the page an IFK opens most, and its rows were most of its template time (bench/RESULTS.md
"Pages"). The markup is that of the reference partials templates/kooperationsplan/_worklist_row.html and
_worklist_notification.html. test_worklist.py renders both ways, with hostile text, and compares them.
Every value is escaped (kooperationsplan.markup.esc, as Django's escape filter does); the markup is our own.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from kooperationsplan.markup import esc
from kooperationsplan.worklist import WorklistItem, WorklistNotification

register = template.Library()


def item_row_html(item: WorklistItem, show_responsible: bool) -> SafeString:
    urgency = (
        f'<strong class="text-danger-emphasis">{esc(item.urgency)}</strong>' if item.overdue else esc(item.urgency)
    )
    responsible = f"<td>{esc(item.responsible)}</td>" if show_responsible else ""
    return SafeString(
        f'<tr data-kind="{esc(item.kind)}"><td>{urgency}</td>'
        f'<td><time datetime="{item.due_on.isoformat()}">{esc(item.due_on_text)}</time></td>'
        f'<td>{esc(item.label)} <span class="text-body-secondary small">({esc(item.deadline)})</span><br>'
        f'<span class="small">{esc(item.detail)}</span></td>'
        f'<td><a href="{esc(item.url)}">{esc(item.elb_name)}</a></td>'
        f"<td>{esc(item.kundennummer)}</td>{responsible}</tr>"
    )


def notification_row_html(notification: WorklistNotification, *, viewer_id: int, csrf_token: str) -> SafeString:
    details = f"erhalten am {esc(notification.created_on_text)}"
    if notification.due_on:
        details += (
            f' · fällig am <time datetime="{notification.due_on.isoformat()}">{esc(notification.due_on_text)}</time>'
        )
    if notification.user_id != viewer_id:
        details += f" · in Vertretung für {esc(notification.owner_name)}"
    if notification.case_id:
        link = f'<a href="{esc(notification.case_url)}">{esc(notification.elb_name)}</a>'
        details += f" · {link} ({esc(notification.kundennummer)})"
    pk = int(notification.pk)
    return SafeString(
        '<li class="list-group-item d-flex flex-wrap justify-content-between align-items-start gap-2"'
        f' data-kind="NOTIFICATION"><div><span class="d-block" id="nachricht-{pk}">{esc(notification.message)}</span>'
        f'<span class="small text-body-secondary"> {details} </span></div>'
        f'<form method="post" action="{esc(notification.read_url)}">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{esc(csrf_token)}">'
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
