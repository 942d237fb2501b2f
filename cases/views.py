"""Views are thin: they validate input and call selectors or services."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.utils import DatabaseError, IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cases.forms import CaseCreateForm, CaseSearchForm, LoginForm
from cases.models import User
from cases.selectors import case_list_caseload
from cases.services import case_create as case_create_service

CASELOAD_PAGE_SIZE = 25


def home(request: HttpRequest) -> HttpResponse:
    return redirect("worklist")


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    template_name = "registration/logged_out.html"


@login_not_required
@never_cache
@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """Liveness and database check for the load balancer and docker-compose (T10)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "nicht erreichbar"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    """The case list with search and filters. Invalid input shows the form errors and no list (T21)."""
    user = cast(User, request.user)
    form = CaseSearchForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "cases/caseload.html", {"form": form, "page": None})
    data = form.cleaned_data if form.is_bound else {}
    cases = case_list_caseload(
        user,
        query=data.get("q", ""),
        birth_date=data.get("geburtsdatum"),
        mode=data.get("modus", ""),
        mine_only=data.get("nur_meine", False),
        minors_only=data.get("nur_minderjaehrige", False),
    )
    page = Paginator(cases, CASELOAD_PAGE_SIZE).get_page(request.GET.get("seite"))
    return render(request, "cases/caseload.html", {"form": form, "page": page, "query": data.get("q", "")})


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)


def case_create(request: HttpRequest) -> HttpResponse:
    """Create an eLb and an open case for the own team (IFK and team leads)."""
    user = cast(User, request.user)
    if user.team_id is None:
        raise PermissionDenied
    form = CaseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        elb_data = {field: form.cleaned_data[field] for field in CaseCreateForm.Meta.fields}
        try:
            case = case_create_service(
                actor=user, elb_data=elb_data, leistungsbeginn=form.cleaned_data["leistungsbeginn"]
            )
        except IntegrityError:
            form.add_error("kundennummer", "Diese Kundennummer ist bereits vergeben. Es wurde kein Fall angelegt.")
        else:
            messages.success(request, f"Der Fall für {case.elb.full_name} wurde angelegt.")
            return redirect("kp:case", case_id=case.pk)
    return render(request, "cases/case_create.html", {"form": form}, status=400 if form.errors else 200)
