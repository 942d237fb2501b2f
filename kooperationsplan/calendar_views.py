"""The calendar subscription: the user's settings page and the feed itself (kooperationsplan.calendar_feed)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from cases.models import User
from kooperationsplan import calendar_feed


def _staff_with_cases(request: HttpRequest) -> User:
    """IFK and team leads can be responsible for cases; the Fachadministration has no feed."""
    user = cast(User, request.user)
    if user.team_id is None:
        raise PermissionDenied("Ein Kalender-Abo gibt es nur für Mitarbeitende eines Teams.")
    return user


def _feed_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("calendar_feed", args=[token]))


@require_http_methods(["GET", "POST"])
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """Create (or renew) and revoke the feed URL. A new URL is shown once, in the answer to the POST."""
    user = _staff_with_cases(request)
    new_url = ""
    if request.method == "POST":
        action = request.POST.get("aktion")
        if action == "erzeugen":
            new_url = _feed_url(request, calendar_feed.calendar_token_create(user=user))
        elif action == "widerrufen":
            if calendar_feed.calendar_token_revoke(user=user):
                messages.success(request, "Die Kalender-Adresse wurde widerrufen. Sie funktioniert nicht mehr.")
            return redirect("calendar_settings")
        else:
            return render(request, "team/calendar_settings.html", {"token": None, "invalid": True}, status=400)
    return render(
        request,
        "team/calendar_settings.html",
        {"token": calendar_feed.calendar_token_current(user), "new_url": new_url},
    )


@login_not_required
@never_cache
@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed. Authenticates by the token alone (calendar programs have no session);
    an unknown or revoked token answers 404 and is logged."""
    user = calendar_feed.calendar_token_user(token)
    if user is None:
        raise Http404("Kalender nicht gefunden")
    events = calendar_feed.feed_events(user, on=timezone.localdate())
    calendar_feed.log_feed_access(user, events)
    body = calendar_feed.render_calendar(
        events,
        host=request.get_host(),
        case_url=lambda case_id: request.build_absolute_uri(reverse("kp:case", args=[case_id])),
        now=timezone.now(),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kooperationsplan.ics"'
    # Case data: never in a shared cache (the session-based no-store of the middleware does not apply here).
    response["Cache-Control"] = "no-store, private"
    return response
