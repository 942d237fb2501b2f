"""Pages for notifications (every user) and for absences with cover (team leads).

Thin views: they validate input and call one service. Another team's staff or absence answers 404;
a user who is not a team lead gets 403 on the absence pages (T4).
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cases.models import Role, User
from kooperationsplan.models import AbsenceCover
from kooperationsplan.notifications import (
    notification_mark_read,
    notifications_mark_all_read,
    notifications_visible,
)
from kooperationsplan.notifications_cover import (
    AbsenceRefused,
    absence_end,
    absence_set,
    team_absences,
    team_members,
)
from kooperationsplan.reminders import notifications_pending_filter

PAGE_SIZE = 30
RETURN_TO = {"arbeitsplatz": "worklist", "benachrichtigungen": "notifications:list"}


class ReturnForm(forms.Form):
    zurueck = forms.ChoiceField(choices=[(key, key) for key in RETURN_TO], required=False)


def _back(request: HttpRequest) -> HttpResponse:
    form = ReturnForm(request.POST)
    target = form.cleaned_data["zurueck"] if form.is_valid() and form.cleaned_data["zurueck"] else "benachrichtigungen"
    return redirect(RETURN_TO[target])


@require_http_methods(["GET"])
def notification_list(request: HttpRequest) -> HttpResponse:
    """All notifications of the user (and of colleagues they cover today), those needing attention first."""
    user = cast(User, request.user)
    show_all = request.GET.get("alle") == "1"
    rows = notifications_visible(user, on=timezone.localdate())
    if not show_all:
        rows = rows.filter(notifications_pending_filter())
    rows = rows.select_related("case__elb", "reminder", "user").order_by("-created_at", "-pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("seite"))
    return render(request, "kooperationsplan/notifications.html", {"page": page, "show_all": show_all})


@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    if not notification_mark_read(user=cast(User, request.user), notification_id=notification_id):
        raise Http404("Benachrichtigung nicht gefunden")
    return _back(request)


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications_mark_all_read(user=cast(User, request.user))
    messages.success(request, f"{count} Benachrichtigung{'en' if count != 1 else ''} als gelesen markiert.")
    return _back(request)


# --- Absences (team leads) -----------------------------------------------------------------------------


class AbsenceForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Abwesende Integrationsfachkraft")
    cover = forms.ModelChoiceField(queryset=User.objects.none(), label="Vertretung")
    starts_on = forms.DateField(label="abwesend vom", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="abwesend bis einschließlich", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: object, actor: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        members = team_members(actor)
        for name in ("user", "cover"):
            field = cast(forms.ModelChoiceField, self.fields[name])
            field.queryset = members
            field.label_from_instance = lambda member: member.get_full_name() or member.username

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and starts_on > ends_on:
            self.add_error("ends_on", "Das Ende der Abwesenheit liegt vor ihrem Beginn.")
        if data.get("user") and data.get("user") == data.get("cover"):
            self.add_error("cover", "Eine Person kann sich nicht selbst vertreten.")
        return data


def _team_lead(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if user.role != Role.TEAMLEITUNG or user.team_id is None:
        raise PermissionDenied("Nur die Teamleitung verwaltet Abwesenheiten.")
    return user


def _refuse_foreign_staff(request: HttpRequest, actor: User) -> None:
    """Another team's staff do not exist for this team lead: 404, like another team's case."""
    for key in ("user", "cover"):
        raw = request.POST.get(key, "")
        if raw.isdigit() and User.objects.filter(pk=int(raw)).exclude(team_id=actor.team_id).exists():
            raise Http404("Mitarbeiter/in nicht gefunden")


@require_http_methods(["GET", "POST"])
def absences(request: HttpRequest) -> HttpResponse:
    actor = _team_lead(request)
    form = AbsenceForm(request.POST or None, actor=actor)
    status = 200
    if request.method == "POST":
        _refuse_foreign_staff(request, actor)
        if form.is_valid():
            data = form.cleaned_data
            try:
                absence = absence_set(
                    actor=actor,
                    user=data["user"],
                    cover=data["cover"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                )
            except AbsenceRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(
                    request,
                    f"Abwesenheit eingetragen: {absence.user.get_full_name() or absence.user.username} vom "
                    f"{absence.starts_on:%d.%m.%Y} bis {absence.ends_on:%d.%m.%Y}, Vertretung "
                    f"{absence.cover.get_full_name() or absence.cover.username}.",
                )
                return redirect("notifications:absences")
        status = 400
    today = timezone.localdate()
    return render(
        request,
        "kooperationsplan/absences.html",
        {"form": form, "absences": list(team_absences(actor, on=today)), "today": today},
        status=status,
    )


@require_POST
def absence_finish(request: HttpRequest, absence_id: int) -> HttpResponse:
    actor = _team_lead(request)
    try:
        absence = absence_end(actor=actor, absence_id=absence_id)
    except AbsenceCover.DoesNotExist as missing:
        raise Http404("Abwesenheit nicht gefunden") from missing
    except AbsenceRefused as refused:
        messages.error(request, str(refused))
    else:
        name = absence.user.get_full_name() or absence.user.username
        messages.success(request, f"Die Abwesenheit von {name} ist beendet; die Einträge liegen wieder bei {name}.")
    return redirect("notifications:absences")
