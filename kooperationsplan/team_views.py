"""Pages of the team lead (RULES.md 5.4): the escalation queue, its items and the team figures.

Thin views: check the role (T4: 403 for everyone but a team lead), load through the scoping selectors
(another team's item answers 404 and its case access is logged as denied), validate, call one service.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from cases.models import Case, User
from cases.selectors import case_get_for_view
from kooperationsplan import figures as team_figures
from kooperationsplan import teamdesk
from kooperationsplan.models import Kooperationsplan, TeamLeadApproval, TeamLeadApprovalKind
from kooperationsplan.reasons import explain
from kooperationsplan.team_forms import ApproveForm, DeclineForm, MonthForm, ReassignForm, ReleaseForm, ReturnForm
from kooperationsplan.workflow import WorkflowRefused
from letters.models import Letter
from rules.teamdesk import TLAction

PAGE_SIZE = 20

ACTIONS = {
    "zustimmen": (TLAction.APPROVE, ApproveForm),
    "ablehnen": (TLAction.DECLINE, DeclineForm),
    "zurueckgeben": (TLAction.RETURN, ReturnForm),
}


def _teamleitung(request: HttpRequest) -> User:
    user = cast(User, request.user)
    teamdesk.require_teamleitung(user)
    return user


@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    """The queue: overdue reviews, open requests; each section paginated on its own."""
    user = _teamleitung(request)
    today = timezone.localdate()
    reviews = Paginator(teamdesk.overdue_reviews(user, on=today), PAGE_SIZE).get_page(
        request.GET.get("seite_ueberpruefungen")
    )
    requests = Paginator(teamdesk.open_requests(user), PAGE_SIZE).get_page(request.GET.get("seite_vorlagen"))
    letters = Paginator(teamdesk.letters_to_release(user), PAGE_SIZE).get_page(request.GET.get("seite_freigaben"))
    return render(
        request,
        "team/desk.html",
        {
            "letters": letters,
            "four_eyes": cast(Any, user.team).jobcenter.four_eyes_rfb_letters,
            "today": today,
            "reviews": reviews,
            "review_rows": [(plan, (today - plan.review_due).days) for plan in reviews.object_list],
            "requests": requests,
        },
    )


def _form_class(action: str, approve_form: type[forms.Form]) -> type[forms.Form]:
    return approve_form if action == "zustimmen" else ACTIONS[action][1]


def _forms(
    case: Case, data: Any = None, *, failed: str = "", approve_form: type[forms.Form] = ApproveForm
) -> dict[str, forms.Form]:
    """The action forms of an item; only the submitted one is bound, so the others stay empty."""
    built: dict[str, forms.Form] = {}
    for slug in ACTIONS:
        built[slug] = _form_class(slug, approve_form)(data if failed == slug else None, prefix=slug)
    built["neu-zuweisen"] = ReassignForm(
        data if failed == "neu-zuweisen" else None, prefix="neu-zuweisen", targets=teamdesk.reassign_targets(case)
    )
    return built


def _item_page(
    request: HttpRequest,
    template: str,
    case: Case,
    *,
    status: int = 200,
    data: Any = None,
    failed: str = "",
    refused: WorkflowRefused | None = None,
    approve_form: type[forms.Form] = ApproveForm,
    **context: Any,
) -> HttpResponse:
    return render(
        request,
        template,
        {
            "case": case,
            "forms": _forms(case, data, failed=failed, approve_form=approve_form),
            "failed": failed,
            "refused_reasons": [explain(reason) for reason in refused.decision.reasons] if refused else [],
            **context,
        },
        status=status,
    )


def _scoped(request: HttpRequest, model: Any, pk: int, find: Any, missing: str) -> tuple[Any, Case]:
    """An item of the queue and its case. The case goes through the scoping selector first (another team's
    item: 404 and a `denied` access-log row, T1), then the item must still be in this TL's queue."""
    case_id = model.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise Http404
    case = case_get_for_view(request, case_id)
    item = find()
    if item is None:
        raise Http404(missing)
    return item, case


def _review(request: HttpRequest, user: User, plan_id: int) -> tuple[Kooperationsplan, Case, int]:
    today = timezone.localdate()
    plan, case = _scoped(
        request,
        Kooperationsplan,
        plan_id,
        lambda: teamdesk.review_item(user, plan_id, on=today),
        "Diese Überprüfung liegt nicht in der Warteschlange.",
    )
    return plan, case, (today - plan.review_due).days


def _request(request: HttpRequest, user: User, approval_id: int) -> tuple[TeamLeadApproval, Case]:
    return _scoped(
        request,
        TeamLeadApproval,
        approval_id,
        lambda: teamdesk.request_item(user, approval_id),
        "Diese Vorlage ist nicht (mehr) offen.",
    )


@require_GET
def review_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _teamleitung(request)
    plan, case, days = _review(request, user, plan_id)
    return _item_page(request, "team/review_item.html", case, plan=plan, days_overdue=days, actions=("zustimmen",))


@require_GET
def request_detail(request: HttpRequest, approval_id: int) -> HttpResponse:
    user = _teamleitung(request)
    approval, case = _request(request, user, approval_id)
    return _item_page(request, "team/request_item.html", case, approval=approval, actions=_request_actions(approval))


def _request_actions(approval: TeamLeadApproval) -> tuple[str, ...]:
    # R-ABB-6: only a Schlichtung request can be declined; the case then stays NO_KP_15_6.
    if approval.kind == TeamLeadApprovalKind.SCHLICHTUNG_NACH_SCHEITERN:
        return ("zustimmen", "ablehnen")
    return ("zustimmen",)


SUCCESS = {
    TLAction.APPROVE: "Die Zustimmung wurde gespeichert.",
    TLAction.DECLINE: "Die Ablehnung wurde gespeichert.",
    TLAction.RETURN: "Die Vorlage wurde mit Ihrem Kommentar an die Integrationsfachkraft zurückgegeben.",
}


LETTER_SUCCESS = {
    TLAction.APPROVE: "Das Schreiben wurde freigegeben und wird jetzt erzeugt.",
    TLAction.RETURN: "Das Schreiben wurde storniert und mit Ihrem Kommentar an die Integrationsfachkraft "
    "zurückgegeben.",
}


@require_POST
def review_action(request: HttpRequest, plan_id: int, action: str) -> HttpResponse:
    user = _teamleitung(request)
    plan, case, days = _review(request, user, plan_id)
    if action not in ("zustimmen", "zurueckgeben", "neu-zuweisen"):
        raise Http404
    page = {"plan": plan, "days_overdue": days, "actions": ("zustimmen",)}
    return _act(
        request,
        user,
        case,
        action,
        "team/review_item.html",
        page,
        decide=lambda tl_action, comment: teamdesk.review_act(
            plan_id=plan.pk, actor=user, action=tl_action, comment=comment, on=timezone.localdate()
        ),
        plan_id=plan.pk,
    )


@require_POST
def request_action(request: HttpRequest, approval_id: int, action: str) -> HttpResponse:
    user = _teamleitung(request)
    approval, case = _request(request, user, approval_id)
    allowed = _request_actions(approval)
    if action not in (*allowed, "zurueckgeben", "neu-zuweisen"):
        raise Http404
    page = {"approval": approval, "actions": allowed}
    return _act(
        request,
        user,
        case,
        action,
        "team/request_item.html",
        page,
        decide=lambda tl_action, comment: teamdesk.request_act(
            approval_id=approval.pk, actor=user, action=tl_action, comment=comment
        ),
    )


def _act(
    request: HttpRequest,
    user: User,
    case: Case,
    action: str,
    template: str,
    page: dict[str, Any],
    *,
    decide: Any,
    plan_id: int | None = None,
    approve_form: type[forms.Form] = ApproveForm,
) -> HttpResponse:
    """Validate the submitted form and run its service; a refusal shows the reasons and changes nothing."""
    if action == "neu-zuweisen":
        form: forms.Form = ReassignForm(request.POST, prefix=action, targets=teamdesk.reassign_targets(case))
    else:
        form = _form_class(action, approve_form)(request.POST, prefix=action)
    if not form.is_valid():
        return _item_page(
            request, template, case, status=400, data=request.POST, failed=action, approve_form=approve_form, **page
        )
    try:
        if action == "neu-zuweisen":
            teamdesk.queue_reassign(
                case_id=case.pk,
                actor=user,
                new_responsible_id=form.cleaned_data["new_responsible"],
                reason=form.cleaned_data["reason"],
                plan_id=plan_id,
                on=timezone.localdate(),
            )
            message = "Der Fall wurde neu zugewiesen."
        else:
            tl_action = ACTIONS[action][0]
            decide(tl_action, form.cleaned_data.get("comment", ""))
            message = SUCCESS[tl_action] if approve_form is ApproveForm else LETTER_SUCCESS[tl_action]
    except WorkflowRefused as refused:
        return _item_page(
            request,
            template,
            case,
            status=422,
            data=request.POST,
            failed=action,
            refused=refused,
            approve_form=approve_form,
            **page,
        )
    messages.success(request, message)
    return redirect("team:desk")


def _letter(request: HttpRequest, user: User, letter_id: int) -> tuple[Letter, Case]:
    return _scoped(
        request,
        Letter,
        letter_id,
        lambda: teamdesk.letter_item(user, letter_id),
        "Dieses Schreiben wartet nicht auf eine Freigabe.",
    )


@require_GET
def letter_detail(request: HttpRequest, letter_id: int) -> HttpResponse:
    user = _teamleitung(request)
    letter, case = _letter(request, user, letter_id)
    return _item_page(
        request, "team/letter_item.html", case, letter=letter, actions=("zustimmen",), approve_form=ReleaseForm
    )


@require_POST
def letter_action(request: HttpRequest, letter_id: int, action: str) -> HttpResponse:
    user = _teamleitung(request)
    letter, case = _letter(request, user, letter_id)
    if action not in ("zustimmen", "zurueckgeben", "neu-zuweisen"):
        raise Http404
    return _act(
        request,
        user,
        case,
        action,
        "team/letter_item.html",
        {"letter": letter, "actions": ("zustimmen",)},
        decide=lambda tl_action, comment: teamdesk.letter_act(
            letter_id=letter.pk, actor=user, action=tl_action, comment=comment
        ),
        approve_form=ReleaseForm,
    )


@require_GET
def figures_page(request: HttpRequest) -> HttpResponse:
    user = _teamleitung(request)
    form, month = _month(request)
    if month is None:
        return render(request, "team/figures.html", {"form": form, "figures": None}, status=400)
    figures = team_figures.team_figures(cast(Any, user.team), month)
    return render(
        request,
        "team/figures.html",
        {
            "form": form,
            "figures": figures,
            "columns": team_figures.COLUMNS,
            "bars": team_figures.coverage_bars(figures),
            "chart": {
                "label_width": team_figures.CHART_LABEL_WIDTH,
                "plot_width": team_figures.CHART_PLOT_WIDTH,
                "bar_height": team_figures.CHART_BAR_HEIGHT,
                "height": len(figures.rows) * (team_figures.CHART_BAR_HEIGHT + team_figures.CHART_GAP),
                "width": team_figures.CHART_LABEL_WIDTH + team_figures.CHART_PLOT_WIDTH + 120,
            },
        },
    )


@require_GET
def figures_csv(request: HttpRequest) -> HttpResponse:
    user = _teamleitung(request)
    form, month = _month(request)
    if month is None:
        return render(request, "team/figures.html", {"form": form, "figures": None}, status=400)
    team = cast(Any, user.team)
    figures = team_figures.team_figures(team, month)
    response = HttpResponse(team_figures.figures_csv(figures), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kennzahlen-{slugify(team.name)}-{month:%Y-%m}.csv"'
    return response


def _month(request: HttpRequest) -> tuple[MonthForm, Any]:
    """The chosen month; without one, the running month."""
    data = request.GET if "monat" in request.GET else {"monat": f"{timezone.localdate():%Y-%m}"}
    form = MonthForm(data)
    return form, form.cleaned_data["monat"] if form.is_valid() else None
