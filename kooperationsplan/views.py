"""Case pages and the workflow actions. Views are thin: they load the case through the scoping selector
(404 for other teams, one access-log row), validate input, and call one service."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cases.models import Case, Potenzialanalyse, User
from kooperationsplan import escalations, exemptions, measures, schlichtung, services
from kooperationsplan import forms as kp_forms
from kooperationsplan.actions import Action, case_next_actions
from kooperationsplan.facts import CaseData, case_data_for_view
from kooperationsplan.models import (
    Appointment,
    EigenbemuehungNachweis,
    Escalation,
    Exemption,
    Kooperationsplan,
    MassnahmeZuweisung,
    Schlichtung,
)
from kooperationsplan.reasons import explain
from kooperationsplan.selectors import (
    TIMELINE_FILTERS,
    appointments_list,
    case_header,
    letters_list,
    measures_list,
    plans_list,
    timeline_entry,
    timeline_list,
)
from kooperationsplan.workflow import ConcurrentEdit, WorkflowRefused
from letters.models import Letter
from letters.views import preview_copies

TIMELINE_PAGE_SIZE = 30


def _page(
    request: HttpRequest, data: CaseData, template: str, tab: str, status: int = 200, **context: Any
) -> HttpResponse:
    """A page of the case (`data`: the case and its rows, `case_data_for_view`) with the case's header."""
    today = timezone.localdate()
    header = case_header(data.case, on=today, data=data)
    return render(
        request, template, {"case": data.case, "tab": tab, "header": header, "today": today, **context}, status=status
    )


@require_http_methods(["GET"])
def case_overview(request: HttpRequest, case_id: int) -> HttpResponse:
    data = case_data_for_view(request, case_id)  # the rows, read once for header, next actions and escalations
    actions = case_next_actions(data.case, on=timezone.localdate(), data=data)
    return _page(
        request,
        data,
        "kooperationsplan/case_overview.html",
        "overview",
        allowed_actions=[action for action in actions if action.allowed],
        refused_actions=[action for action in actions if not action.allowed],
        escalations=data.escalations,
        approvals=data.open_approvals,
    )


@require_http_methods(["GET"])
def case_timeline(request: HttpRequest, case_id: int) -> HttpResponse:
    data = case_data_for_view(request, case_id)
    kind = request.GET.get("typ", "")
    kind = kind if kind in TIMELINE_FILTERS else ""
    page = Paginator(timeline_list(data.case, kind=kind), TIMELINE_PAGE_SIZE).get_page(request.GET.get("seite"))
    return _page(
        request,
        data,
        "kooperationsplan/case_timeline.html",
        "timeline",
        page=page,
        entries=[timeline_entry(event) for event in page.object_list],
        filters=TIMELINE_FILTERS,
        kind=kind,
    )


@require_http_methods(["GET"])
def case_plans(request: HttpRequest, case_id: int) -> HttpResponse:
    data = case_data_for_view(request, case_id)
    return _page(request, data, "kooperationsplan/case_plans.html", "plans", plans=plans_list(data.case))


@require_http_methods(["GET"])
def case_measures(request: HttpRequest, case_id: int) -> HttpResponse:
    data = case_data_for_view(request, case_id)
    return _page(request, data, "kooperationsplan/case_measures.html", "measures", assignments=measures_list(data.case))


@require_http_methods(["GET"])
def case_appointments(request: HttpRequest, case_id: int) -> HttpResponse:
    data = case_data_for_view(request, case_id)
    appointments = appointments_list(data.case)
    return _page(request, data, "kooperationsplan/case_appointments.html", "appointments", appointments=appointments)


@require_http_methods(["GET"])
def case_letters(request: HttpRequest, case_id: int) -> HttpResponse:
    data = case_data_for_view(request, case_id)
    return _page(request, data, "kooperationsplan/case_letters.html", "letters", letters=letters_list(data.case))


@require_http_methods(["GET", "POST"])
def potenzialanalyse_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    """The PA form; a save against an older version shows the conflict page with both versions (T7)."""
    case_data = case_data_for_view(request, case_id)  # the header's rows: a refused save changes nothing
    case = case_data.case
    user = cast(User, request.user)
    pa = Potenzialanalyse.objects.filter(case=case).first() or Potenzialanalyse(case=case)
    form = kp_forms.PotenzialanalyseForm(request.POST or None, instance=pa, initial={"version": pa.version})
    if request.method == "POST" and form.is_valid():
        data = {field: form.cleaned_data[field] for field in kp_forms.PotenzialanalyseForm.Meta.fields}
        try:
            saved = services.potenzialanalyse_save(
                case_id=case.pk, actor=user, version=form.cleaned_data["version"], data=data
            )
            if "abschliessen" in request.POST:
                services.potenzialanalyse_complete(case_id=case.pk, actor=user, version=saved.version)
                messages.success(request, "Die Potenzialanalyse ist abgeschlossen.")
                return redirect("kp:case", case_id=case.pk)
        except ConcurrentEdit:
            current = Potenzialanalyse.objects.get(case=case)
            return render(
                request,
                "kooperationsplan/conflict.html",
                {"case": case, "current": current, "fields": _pa_conflict_rows(current, data), "form": form},
                status=409,
            )
        except WorkflowRefused as refused:
            messages.error(request, "Die Potenzialanalyse wurde gespeichert, ist aber noch nicht vollständig.")
            for reason in refused.decision.reasons:
                messages.warning(request, explain(reason)["text"])
            return redirect("kp:pa", case_id=case.pk)
        messages.success(request, "Die Potenzialanalyse wurde gespeichert.")
        return redirect("kp:pa", case_id=case.pk)
    return _page(
        request, case_data, "kooperationsplan/case_pa.html", "pa", form=form, pa=pa, status=400 if form.errors else 200
    )


def _pa_conflict_rows(current: Potenzialanalyse, mine: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "label": Potenzialanalyse._meta.get_field(field).verbose_name,
            "saved": getattr(current, field),
            "mine": mine.get(field),
        }
        for field in kp_forms.PotenzialanalyseForm.Meta.fields
    ]


# --- Workflow actions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    title: str
    form: Callable[..., forms.Form]
    run: Callable[[Case, User, dict[str, Any], dict[str, int]], str]
    needs: str = ""  # the target object of the action: "escalation", "assignment", "appointment", "nachweis"
    success: str = ""


def _of_case(queryset: QuerySet[Any], **lookup: Any) -> Any:
    """The one object of this case a step acts on; another case's object (or none) is 404 (T1)."""
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404
    return found


def _escalation(case: Case, target: dict[str, int]) -> Escalation:
    return _of_case(Escalation.objects.all(), pk=target.get("escalation"), case=case)


def _assignment(case: Case, target: dict[str, int]) -> MassnahmeZuweisung:
    return _of_case(MassnahmeZuweisung.objects.all(), pk=target.get("assignment"), case=case)


def _appointment(case: Case, target: dict[str, int]) -> Appointment:
    return _of_case(Appointment.objects.all(), pk=target.get("appointment"), case=case)


def _nachweis(case: Case, target: dict[str, int]) -> EigenbemuehungNachweis:
    return _of_case(EigenbemuehungNachweis.objects.all(), pk=target.get("nachweis"), eigenbemuehung__plan__case=case)


def _active_exemption(case: Case) -> Exemption:
    return _of_case(Exemption.objects.all(), case=case, status=Exemption.Status.ACTIVE)


def _running_schlichtung(case: Case) -> Schlichtung:
    return _of_case(Schlichtung.objects.all(), case=case, outcome=Schlichtung.Outcome.RUNNING)


def _draft(case: Case) -> Kooperationsplan:
    return _of_case(Kooperationsplan.objects.all(), case=case, status="DRAFT")


def _key(case: Case, action: str, data: dict[str, Any]) -> str:
    """The idempotency key of one submitted form (T8): the same form token always gives the same key.
    Hashed, because the composite of action, case and token can exceed the column's 64 characters."""
    raw = f"{action}:{case.pk}:{data.get('token', '')}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _run_kp_start(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    draft = services.kooperationsplan_start(case_id=case.pk, actor=user)
    return reverse("kp:plan_edit", args=[case.pk, draft.pk])


def _run_invitation(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    escalations.invitation_issue(
        case_id=case.pk,
        actor=user,
        kind=data["kind"],
        starts_at=data["starts_at"],
        location=data["location"],
        meldezweck=data["meldezweck"],
        documents_to_bring=data["documents_to_bring"],
        choice=data["choice"],
        deviation_reason=data["deviation_reason"],
        idempotency_key=_key(case, "invite", data),
    )
    return reverse("kp:appointments", args=[case.pk])


def _run_breach(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    escalations.breach_record(
        case_id=case.pk,
        actor=user,
        breach_kind=data["breach_kind"],
        breach_date=data["breach_date"],
        description=data["description"],
        assignment_id=data.get("assignment"),
    )
    return reverse("kp:case", args=[case.pk])


def _on_escalation(
    call: Callable[..., Any], **fixed: Any
) -> Callable[[Case, User, dict[str, Any], dict[str, int]], str]:
    def run(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
        escalation = _escalation(case, target)
        kwargs = {key: value for key, value in data.items() if key not in ("token", "date", "time")}
        if "token" in data:
            kwargs["idempotency_key"] = _key(case, call.__name__, {"token": f"{escalation.pk}:{data['token']}"})
        call(escalation_id=escalation.pk, actor=user, **fixed, **kwargs)
        return reverse("kp:case", args=[case.pk])

    return run


def _on_assignment(call: Callable[..., Any]) -> Callable[[Case, User, dict[str, Any], dict[str, int]], str]:
    def run(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
        assignment = _assignment(case, target)
        kwargs = {key: value for key, value in data.items() if key != "token"}
        if "token" in data:
            kwargs["idempotency_key"] = _key(case, call.__name__, {"token": f"{assignment.pk}:{data['token']}"})
        call(assignment_id=assignment.pk, actor=user, **kwargs)
        return reverse("kp:measures", args=[case.pk])

    return run


def _run_aufforderung_15_6(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    escalations.aufforderung_15_6_issue(
        case_id=case.pk,
        actor=user,
        duty=data["duty"],
        deadline=data["deadline"],
        breach_description=data["breach_description"],
        idempotency_key=_key(case, "auff156", data),
    )
    return reverse("kp:letters", args=[case.pk])


def _run_kp_review(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    plan = Kooperationsplan.objects.filter(case=case, status="ACTIVE").first()
    if plan is None:
        raise Http404
    services.kooperationsplan_start_review(plan_id=plan.pk, actor=user)
    return reverse("kp:plans", args=[case.pk])


def _run_kp_abandon(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    services.kooperationsplan_abandon(plan_id=_draft(case).pk, actor=user, note=data["note"])
    return reverse("kp:case", args=[case.pk])


def _run_schlichtung(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    schlichtung.schlichtung_start(
        case_id=case.pk,
        actor=user,
        requested_by=data["requested_by"],
        disagreement=data["disagreement"],
        schlichter_name=data["schlichter_name"],
    )
    return reverse("kp:case", args=[case.pk])


def _run_schlichtung_approval(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    schlichtung.schlichtung_request_approval(case_id=case.pk, actor=user, note=data["note"])
    return reverse("kp:case", args=[case.pk])


def _run_exemption(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    exemptions.exemption_record(
        case_id=case.pk,
        actor=user,
        reason=data["reason"],
        kennung_kp=data["kennung_kp"],
        kennung_reason=data["kennung_reason"],
        einstellungszusage={"employer": data["employer"], "start_date": data["start_date"], "firm": True},
        paragraph10={
            "kind": data["p10_kind"],
            "expected_end": data["p10_expected_end"],
            "zukunftsziel": data["zukunftsziel"],
        },
        checklist={
            key: data[key]
            for key in (
                "vollzeit_sv_beschaeftigt",
                "selbststaendig",
                "moeglichkeiten_ausgeschoepft",
                "keine_verringerung_6_monate",
            )
        },
    )
    return reverse("kp:case", args=[case.pk])


def _run_kp_adapt(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    plan = Kooperationsplan.objects.filter(case=case, status="UNDER_REVIEW").first()
    if plan is None:
        raise Http404
    services.kooperationsplan_adapt(plan_id=plan.pk, actor=user, change_note=data["note"])
    return reverse("kp:plans", args=[case.pk])


def _run_appointment_outcome(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    escalations.appointment_outcome_record(appointment_id=_appointment(case, target).pk, actor=user, **data)
    return reverse("kp:appointments", args=[case.pk])


def _run_nachweis(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    escalations.nachweis_record(nachweis_id=_nachweis(case, target).pk, actor=user, **data)
    return reverse("kp:case", args=[case.pk])


def _run_exemption_recheck(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    checklist_fields = (
        "vollzeit_sv_beschaeftigt",
        "selbststaendig",
        "moeglichkeiten_ausgeschoepft",
        "keine_verringerung_6_monate",
    )
    exemptions.exemption_recheck(
        exemption_id=_active_exemption(case).pk,
        actor=user,
        continues=data["continues"],
        note=data["note"],
        expected_end=data["expected_end"],
        checklist={key: data[key] for key in checklist_fields},
    )
    return reverse("kp:case", args=[case.pk])


def _run_ez_outcome(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    exemptions.einstellungszusage_outcome(
        exemption_id=_active_exemption(case).pk, actor=user, outcome=data["outcome"], on=data["on"]
    )
    return reverse("kp:case", args=[case.pk])


def _run_schlichtung_agreement(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    draft = _draft(case)
    schlichtung.schlichtung_agreement(
        schlichtung_id=_running_schlichtung(case).pk,
        actor=user,
        plan_id=draft.pk,
        lock_version=draft.lock_version,
        proposal=data["proposal"],
        follows_proposal=data["follows_proposal"],
        deviation_justification=data["deviation_justification"],
    )
    return reverse("kp:case", args=[case.pk])


def _run_schlichtung_no_agreement(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    schlichtung.schlichtung_no_agreement(
        schlichtung_id=_running_schlichtung(case).pk, actor=user, proposal=data["proposal"]
    )
    return reverse("kp:case", args=[case.pk])


def _run_case_close(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    services.case_close(case_id=case.pk, actor=user, closed_on=data["closed_on"], note=data["note"])
    return reverse("kp:case", args=[case.pk])


def _run_abort(case: Case, user: User, data: dict[str, Any], target: dict[str, int]) -> str:
    assignment = _assignment(case, target)
    measures.assignment_abort(
        assignment_id=assignment.pk, actor=user, aborted_on=data["aborted_on"], description=data["description"]
    )
    return reverse("kp:case", args=[case.pk])


STEPS: dict[str, Step] = {
    "kp_start": Step("Kooperationsplan erstellen", kp_forms.ConfirmForm, _run_kp_start),
    "kp_review": Step("Überprüfung des Kooperationsplans beginnen", kp_forms.ConfirmForm, _run_kp_review),
    "kp_abandon": Step("Kein Kooperationsplan zustande gekommen", kp_forms.NoteForm, _run_kp_abandon),
    "invitation": Step(
        "Einladung erstellen", kp_forms.InvitationForm, _run_invitation, success="Die Einladung wurde erstellt."
    ),
    "breach_record": Step("Pflichtverstoß erfassen", kp_forms.BreachForm, _run_breach),
    "intervention_invite": Step(
        "Zur beraterischen Intervention einladen (ohne RFB)",
        kp_forms.InterventionInviteForm,
        _on_escalation(escalations.intervention_invite),
        needs="escalation",
    ),
    "intervention_outcome": Step(
        "Ergebnis der beraterischen Intervention",
        kp_forms.InterventionOutcomeForm,
        _on_escalation(escalations.intervention_outcome),
        needs="escalation",
    ),
    "aufforderung_15_5": Step(
        "Aufforderung nach § 15 Abs. 5 SGB II (mit RFB)",
        kp_forms.AufforderungForm,
        _on_escalation(escalations.aufforderung_15_5_issue),
        needs="escalation",
        success="Die Aufforderung mit Rechtsfolgenbelehrung wurde erstellt.",
    ),
    "psych_skip": Step(
        "Von der Aufforderung absehen (R-ESC-5)",
        kp_forms.VermerkForm,
        _on_escalation(escalations.aufforderung_skip_psych),
        needs="escalation",
    ),
    "exempt_monitoring": Step(
        "Ausgenommene Maßnahmeart: keine Aufforderung",
        kp_forms.ConfirmForm,
        _on_escalation(escalations.escalation_monitor_exempt),
        needs="escalation",
    ),
    "aufforderung_complied": Step(
        "Pflicht erfüllt", kp_forms.ConfirmForm, _on_escalation(escalations.aufforderung_complied), needs="escalation"
    ),
    "anhoerung": Step(
        "Anhörung nach § 24 SGB X",
        kp_forms.IdempotentForm,
        _on_escalation(escalations.anhoerung_issue),
        needs="escalation",
    ),
    "anhoerung_close": Step(
        "Anhörung abschließen", kp_forms.ConfirmForm, _on_escalation(escalations.anhoerung_close), needs="escalation"
    ),
    "minderung_outcome": Step(
        "Ergebnis der Leistungsabteilung erfassen",
        kp_forms.MinderungOutcomeForm,
        _on_escalation(escalations.minderung_outcome),
        needs="escalation",
    ),
    "anhoerung_32": Step(
        "Anhörung wegen Meldeversäumnis (§ 32 SGB II)",
        kp_forms.IdempotentForm,
        _on_escalation(escalations.anhoerung_32_issue),
        needs="escalation",
        success="Die Anhörung wegen Meldeversäumnis wurde erstellt.",
    ),
    "minderung_lift": Step(
        "Minderung: Pflicht erfüllt oder Zeitraum beendet",
        kp_forms.MinderungLiftForm,
        _on_escalation(escalations.minderung_lift),
        needs="escalation",
    ),
    "kp_adapt": Step("Überprüfung abschließen: angepasst (gleiche Version)", kp_forms.ChangeNoteForm, _run_kp_adapt),
    "appointment_outcome": Step(
        "Ergebnis des Termins erfassen",
        kp_forms.AppointmentOutcomeForm,
        _run_appointment_outcome,
        needs="appointment",
        success="Das Ergebnis des Termins wurde gespeichert.",
    ),
    "nachweis_record": Step(
        "Nachweis der Eigenbemühungen erfassen",
        kp_forms.NachweisForm,
        _run_nachweis,
        needs="nachweis",
        success="Der Nachweis wurde gespeichert.",
    ),
    "exemption_recheck": Step("Ausnahme erneut prüfen", kp_forms.ExemptionRecheckForm, _run_exemption_recheck),
    "ez_outcome": Step(
        "Einstellungszusage: Arbeitsaufnahme, Verschiebung oder Rücknahme",
        kp_forms.EinstellungszusageOutcomeForm,
        _run_ez_outcome,
    ),
    "schlichtung_agreement": Step(
        "Schlichtung: Einigung", kp_forms.SchlichtungAgreementForm, _run_schlichtung_agreement
    ),
    "schlichtung_no_agreement": Step(
        "Schlichtung: keine Einigung", kp_forms.SchlichtungNoAgreementForm, _run_schlichtung_no_agreement
    ),
    "case_close": Step(
        "Fall abschließen (Leistungsbezug beendet)",
        kp_forms.CaseCloseForm,
        _run_case_close,
        success="Der Fall ist abgeschlossen.",
    ),
    "aufforderung_15_6": Step(
        "Aufforderung nach § 15 Abs. 6 SGB II (mit RFB)", kp_forms.Aufforderung156Form, _run_aufforderung_15_6
    ),
    "schlichtung_start": Step("Schlichtung einleiten", kp_forms.SchlichtungForm, _run_schlichtung),
    "schlichtung_approval": Step(
        "Zustimmung der Teamleitung zur Schlichtung anfragen", kp_forms.NoteForm, _run_schlichtung_approval
    ),
    "exemption_record": Step("Ausnahme erfassen (Kennung KP)", kp_forms.ExemptionForm, _run_exemption),
    "zuw_schreiben": Step(
        "Zuweisungsschreiben erstellen (ohne RFB)",
        kp_forms.IdempotentForm,
        _on_assignment(measures.zuweisungsschreiben_issue),
        needs="assignment",
    ),
    "zuw_bescheid": Step(
        "Zuweisungsbescheid erlassen (mit RFB)",
        kp_forms.IdempotentForm,
        _on_assignment(measures.zuweisungsbescheid_issue),
        needs="assignment",
    ),
    "zuw_withdraw": Step(
        "Zuweisungsschreiben zurücknehmen",
        kp_forms.ConfirmForm,
        _on_assignment(measures.assignment_withdraw),
        needs="assignment",
    ),
    "assignment_report": Step(
        "Rückmeldung des Trägers erfassen",
        kp_forms.ConfirmForm,
        _on_assignment(measures.assignment_report),
        needs="assignment",
    ),
    "assignment_start": Step(
        "Beginn der Maßnahme erfassen",
        kp_forms.ConfirmForm,
        _on_assignment(measures.assignment_start),
        needs="assignment",
    ),
    "assignment_complete": Step(
        "Maßnahme abgeschlossen",
        kp_forms.ConfirmForm,
        _on_assignment(measures.assignment_complete),
        needs="assignment",
    ),
    "abort": Step("Abbruch erfassen", kp_forms.AbortForm, _run_abort, needs="assignment"),
    "clarification": Step(
        "Ergebnis der Klärung nach Abbruch",
        kp_forms.ClarificationForm,
        _on_assignment(measures.clarification_outcome),
        needs="assignment",
    ),
}

# The explanation API's action names that open the same step form.
ALIASES = {"invite_erst": "invitation", "invite_folge": "invitation", "invite_aerztlich": "invitation"}


def _target(request: HttpRequest) -> dict[str, int]:
    target: dict[str, int] = {}
    for key in ("escalation", "assignment", "appointment", "nachweis"):
        raw = request.POST.get(key) or request.GET.get(key)
        if raw is not None:
            if not raw.isdigit() or len(raw) > 18:
                raise Http404
            target[key] = int(raw)
    return target


def _current_action(data: CaseData, name: str, target: dict[str, int]) -> Action | None:
    for action in case_next_actions(data.case, on=timezone.localdate(), data=data):
        action_name = ALIASES.get(action.name, action.name)
        if action_name == name and all(action.target.get(key) == value for key, value in target.items()):
            return action
    return None


@require_http_methods(["GET", "POST"])
def case_action(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    """One workflow step: GET shows its form with the rule engine's verdict, POST runs the service."""
    data = case_data_for_view(request, case_id)  # the rules' rows for the verdict and the header
    case = data.case
    step = STEPS.get(action)
    if step is None:
        raise Http404
    user = cast(User, request.user)
    target = _target(request)
    if step.needs and step.needs not in target:
        raise Http404
    explanation = _current_action(data, action, target)
    form_kwargs: dict[str, Any] = {}
    if action == "breach_record":
        form_kwargs["assignments"] = [
            (a.pk, str(a)) for a in MassnahmeZuweisung.objects.filter(case=case).select_related("massnahme")
        ]
    form = step.form(
        request.POST if request.method == "POST" else None, initial={"token": secrets.token_hex(16)}, **form_kwargs
    )
    refused_reasons: list[dict[str, Any]] = []
    previews: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid() and action in LETTER_STEPS and "vorschau" in request.POST:
        previews, refused_reasons = _letter_previews(case, user, step, dict(form.cleaned_data), target)
    elif request.method == "POST" and form.is_valid():
        try:
            url = step.run(case, user, dict(form.cleaned_data), target)
        except WorkflowRefused as refused:
            refused_reasons = [explain(reason) for reason in refused.decision.reasons]
        else:
            messages.success(request, step.success or f"{step.title}: erledigt.")
            return redirect(url)
    status = 422 if refused_reasons else 400 if form.errors else 200
    return _page(
        request,
        data,
        "kooperationsplan/case_action.html",
        "overview",
        step=step,
        action_name=action,
        form=form,
        target=target,
        explanation=explanation,
        refused_reasons=refused_reasons,
        previews=previews,
        with_preview=action in LETTER_STEPS,
        status=status,
    )


# The steps that issue a letter: their form offers a preview of exactly the letter the step would issue.
LETTER_STEPS = frozenset(
    {
        "invitation",
        "intervention_invite",
        "aufforderung_15_5",
        "aufforderung_15_6",
        "anhoerung",
        "anhoerung_32",
        "zuw_schreiben",
        "zuw_bescheid",
    }
)


class _PreviewOnly(Exception):
    """Raised to roll back a step that was run only to show its letters."""


def _letter_previews(
    case: Case, user: User, step: Step, data: dict[str, Any], target: dict[str, int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run the step in a transaction that is rolled back and render the letters it froze (DESIGN.md "issue =
    freeze, then render"): the preview is the letter the step will issue, with the rules' RFB and recipients;
    nothing is saved, no job is dispatched. A refusal comes back as the step's own reasons."""
    previews: list[dict[str, Any]] = []
    last = Letter.objects.filter(case=case).order_by("-pk").values_list("pk", flat=True).first() or 0
    # A fresh token: the preview must never find (and show) a letter issued before under the form's token.
    data = {**data, "token": f"vorschau-{secrets.token_hex(16)}"} if "token" in data else data
    try:
        with transaction.atomic():
            step.run(case, user, data, target)
            for letter in Letter.objects.filter(case=case, pk__gt=last).order_by("pk"):
                previews.append(
                    {"title": letter.get_kind_display(), "letter": letter, "copies": preview_copies(letter)}
                )
            raise _PreviewOnly
    except _PreviewOnly:
        return previews, []
    except WorkflowRefused as refused:
        return [], [explain(reason) for reason in refused.decision.reasons]
