"""Mass letter runs (Serienbriefe, T20): invitations to the review talk for every KP of the user's team whose
review is due in the next 4 weeks (R-FS-1, D-01).

The letter for each case is decided by the rules, exactly as for a single invitation
(`escalations.invitation_issue`: EINL_RFB by default after the first invitation, EINL_OHNE_RFB under the
000 practice, R-INV-2, P1). The run and its items are rows (letters.LetterRun / LetterRunItem); a Celery task
processes the items, each once: an item is claimed under a row lock (SKIP LOCKED) and its invitation is
issued in the same transaction that marks it done, so a crash or a second worker never issues a letter
twice. A refused case keeps its German reasons and can be retried alone ("nur Fehlgeschlagene wiederholen").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from celery import shared_task
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.models import Case, User
from cases.selectors import case_get_for_view, case_list_visible
from kooperationsplan.escalations import invitation_issue
from kooperationsplan.forms import NUL
from kooperationsplan.models import Appointment, AppointmentKind, Kooperationsplan, KPStatus
from kooperationsplan.reasons import explain
from kooperationsplan.workflow import WorkflowRefused
from letters.models import LetterRun, LetterRunItem
from letters.views import preview_copies
from rules.dates import is_working_day
from rules.decision import Reason

logger = logging.getLogger(__name__)

# D-01: the reminder 28 days before the review is the moment to schedule the talk.
WINDOW_DAYS = 28
DEFAULT_MELDEZWECK = "Gespräch zur Überprüfung und Fortschreibung Ihres Kooperationsplans (§ 15 Abs. 3 SGB II)"
RECENT_RUNS = 10


# --- Selection -------------------------------------------------------------------------------------------------


def massrun_candidates(user: User, *, on: date) -> QuerySet[Kooperationsplan]:
    """Active KP of the user's team with the review due from today to 4 weeks ahead, without an upcoming
    review appointment already (one query, whatever the number of plans)."""
    upcoming_review = Appointment.objects.filter(
        case=OuterRef("case"), kind=AppointmentKind.UEBERPRUEFUNG, starts_at__gte=timezone.now()
    )
    return (
        Kooperationsplan.objects.filter(
            case__in=case_list_visible(user).filter(team_id=user.team_id, closed_on__isnull=True),
            status=KPStatus.ACTIVE,
            review_due__gte=on,
            review_due__lte=on + timedelta(days=WINDOW_DAYS),
        )
        .filter(~Exists(upcoming_review))
        .select_related("case__elb", "case__responsible")
        .order_by("review_due", "pk")
    )


def appointment_slots(
    first: datetime, count: int, *, slot_minutes: int, per_day: int, bundesland: str
) -> list[datetime]:
    """Consecutive appointments: `per_day` a day from the first time on, on working days only (rules.dates).
    The wall-clock time is kept in Europe/Berlin, also across the change to and from summer time (T16)."""
    local = timezone.localtime(first)
    zone = timezone.get_current_timezone()
    slots: list[datetime] = []
    day = local.date()
    while len(slots) < count:
        if is_working_day(day, bundesland):
            start = datetime.combine(day, local.time(), tzinfo=zone)
            slots += [start + timedelta(minutes=slot_minutes * i) for i in range(min(per_day, count - len(slots)))]
        day += timedelta(days=1)
    return slots


# --- Services ----------------------------------------------------------------------------------------------------


def massrun_start(*, actor: User, parameters: dict[str, Any], on: date) -> LetterRun:
    """Create the run with one item per selected case (appointment slot fixed now) and process it after commit."""
    if actor.team_id is None:
        raise PermissionDenied("Serienbriefe sind für Mitarbeitende eines Teams.")
    first = datetime.fromisoformat(parameters["first_appointment"])
    with transaction.atomic():
        plans = list(massrun_candidates(actor, on=on))
        run = LetterRun.objects.create(
            team_id=actor.team_id, kind=LetterRun.Kind.REVIEW_INVITATION, parameters=parameters, created_by=actor
        )
        slots = appointment_slots(
            first,
            len(plans),
            slot_minutes=parameters["slot_minutes"],
            per_day=parameters["per_day"],
            bundesland=actor.team.jobcenter.bundesland,
        )
        LetterRunItem.objects.bulk_create(
            LetterRunItem(run=run, case_id=plan.case_id, position=index, starts_at=slot)
            for index, (plan, slot) in enumerate(zip(plans, slots, strict=True))
        )
        if not plans:
            run.finished_at = timezone.now()
            run.save(update_fields=["finished_at"])
        else:
            _dispatch_on_commit(run.pk)
    return run


def massrun_retry_failed(*, run_id: int, actor: User) -> int:
    """ "nur Fehlgeschlagene wiederholen": only the FAILED items go back to PENDING; done ones stay done."""
    with transaction.atomic():
        run = _run_for(actor, run_id, lock=True)
        count = LetterRunItem.objects.filter(run=run, status=LetterRunItem.Status.FAILED).update(
            status=LetterRunItem.Status.PENDING, errors=[]
        )
        if count:
            run.finished_at = None
            run.save(update_fields=["finished_at"])
            _dispatch_on_commit(run.pk)
    return count


def massrun_resume(*, run_id: int, actor: User) -> None:
    """Hand a run with open items to the worker again (e.g. after the broker was down). Harmless twice."""
    run = _run_for(actor, run_id)
    if LetterRunItem.objects.filter(run=run, status=LetterRunItem.Status.PENDING).exists():
        _dispatch(run.pk)


def massrun_process(*, run_id: int) -> int:
    """Process the open items of a run, each once; returns how many this call processed."""
    run = LetterRun.objects.select_related("created_by").get(pk=run_id)
    processed = 0
    while _process_next(run):
        processed += 1
    LetterRun.objects.filter(pk=run_id, finished_at__isnull=True).exclude(
        Exists(LetterRunItem.objects.filter(run=OuterRef("pk"), status=LetterRunItem.Status.PENDING))
    ).update(finished_at=timezone.now())
    return processed


def _process_next(run: LetterRun) -> bool:
    with transaction.atomic():
        item = (
            LetterRunItem.objects.select_for_update(skip_locked=True)
            .filter(run=run, status=LetterRunItem.Status.PENDING)
            .order_by("position")
            .first()
        )
        if item is None:
            return False
        item.attempts += 1
        item.processed_at = timezone.now()
        try:
            appointment = invitation_issue(
                case_id=item.case_id,
                actor=run.created_by,
                kind=AppointmentKind.UEBERPRUEFUNG,
                starts_at=item.starts_at,
                location=run.parameters["location"],
                meldezweck=run.parameters["meldezweck"],
                documents_to_bring=run.parameters.get("documents_to_bring", ""),
                idempotency_key=f"massrun:{run.pk}:{item.case_id}",
            )
        except WorkflowRefused as refused:
            item.status, item.letter_id = LetterRunItem.Status.FAILED, None
            item.errors = [_reason_json(reason) for reason in refused.decision.reasons]
        except (OperationalError, InterfaceError):
            raise  # transient: the task retries, the item stays open
        except Exception:
            # A defect must not stop the other cases; the invitation's own savepoint rolled back.
            logger.exception("Serienbrief %s, Fall %s: unerwarteter Fehler", run.pk, item.case_id)
            item.status, item.letter_id = LetterRunItem.Status.FAILED, None
            item.errors = [
                {"text": "Technischer Fehler beim Ausstellen. Bitte versuchen Sie es erneut.", "rule_id": ""}
            ]
        else:
            item.status, item.letter_id, item.errors = LetterRunItem.Status.DONE, appointment.letter_id, []
        item.save(update_fields=["status", "letter", "errors", "attempts", "processed_at"])
    return True


def _reason_json(reason: Reason) -> dict[str, Any]:
    explained = explain(reason)
    return {"text": explained["text"], "rule_id": explained["rule_id"], "sources": explained["sources"]}


def _dispatch_on_commit(run_id: int) -> None:
    transaction.on_commit(lambda: _dispatch(run_id), robust=True)


def _dispatch(run_id: int) -> None:
    try:
        process_letter_run.apply_async((run_id,), retry=False)
    except Exception:
        # T9: the run and its items are saved; "Lauf fortsetzen" hands it over once the broker is back.
        logger.warning("Serienbrief %s: Übergabe an den Hintergrunddienst fehlgeschlagen", run_id)


@shared_task(
    acks_late=True,  # idempotent: each item is claimed under a lock and done in the same transaction
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    max_retries=5,
)
def process_letter_run(run_id: int) -> int:
    return massrun_process(run_id=run_id)


# --- Reads -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    failed: int
    pending: int

    @property
    def processed(self) -> int:
        return self.done + self.failed

    @property
    def percent(self) -> int:
        return round(100 * self.processed / self.total) if self.total else 100


def massrun_progress(run: LetterRun) -> Progress:
    counts = dict(LetterRunItem.objects.filter(run=run).values_list("status").annotate(n=Count("id")))
    status = LetterRunItem.Status
    return Progress(
        total=sum(counts.values()),
        done=counts.get(status.DONE, 0),
        failed=counts.get(status.FAILED, 0),
        pending=counts.get(status.PENDING, 0),
    )


def _run_for(user: User, run_id: int, *, lock: bool = False) -> LetterRun:
    """A run of the user's own team; another team's run does not exist for them (404, T1)."""
    runs = LetterRun.objects.filter(pk=run_id, team_id=user.team_id) if user.team_id else LetterRun.objects.none()
    run = (runs.select_for_update() if lock else runs).first()
    if run is None:
        raise Http404("Serienbrief nicht gefunden")
    return run


# --- Forms and views -------------------------------------------------------------------------------------------


class MassRunForm(forms.Form):
    # type=date needs the ISO format for its value (the German display format would be dropped).
    first_date = forms.DateField(
        label="Datum des ersten Termins", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    first_time = forms.TimeField(label="Uhrzeit des ersten Termins", widget=forms.TimeInput(attrs={"type": "time"}))
    slot_minutes = forms.IntegerField(label="Dauer eines Termins (Minuten)", min_value=10, max_value=120, initial=30)
    per_day = forms.IntegerField(label="Termine pro Tag", min_value=1, max_value=20, initial=8)
    location = forms.CharField(label="Ort/Raum", max_length=200, validators=[NUL])
    meldezweck = forms.CharField(
        label="Meldezweck",
        max_length=300,
        validators=[NUL],
        initial=DEFAULT_MELDEZWECK,
        help_text="Pflichtangabe (§ 309 SGB III), steht in jeder Einladung.",
    )
    documents_to_bring = forms.CharField(
        label="Mitzubringende Unterlagen",
        max_length=2000,
        required=False,
        validators=[NUL],
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("first_date") and data.get("first_time"):
            first = timezone.make_aware(datetime.combine(data["first_date"], data["first_time"]))
            if first <= timezone.now():
                self.add_error("first_date", "Der erste Termin muss in der Zukunft liegen.")
            elif not time(7) <= data["first_time"] <= time(18):
                self.add_error("first_time", "Termine liegen zwischen 07:00 und 18:00 Uhr.")
            data["first_appointment"] = first
        return data

    def parameters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "first_appointment": data["first_appointment"].isoformat(),
            "slot_minutes": data["slot_minutes"],
            "per_day": data["per_day"],
            "location": data["location"].strip(),
            "meldezweck": data["meldezweck"].strip(),
            "documents_to_bring": data["documents_to_bring"].strip(),
        }


def _team_user(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if user.team_id is None:
        raise PermissionDenied("Serienbriefe sind für Mitarbeitende eines Teams.")
    return user


def _initial() -> dict[str, Any]:
    return {
        "first_date": timezone.localdate() + timedelta(days=8),
        "first_time": time(9),
        "meldezweck": DEFAULT_MELDEZWECK,
    }


@require_http_methods(["GET", "POST"])
def massrun_index(request: HttpRequest) -> HttpResponse:
    """Start page: the selection (KP due for review in 4 weeks), the form, and the team's recent runs."""
    user = _team_user(request)
    today = timezone.localdate()
    form = MassRunForm(request.POST or None, initial=_initial())
    if request.method == "POST" and form.is_valid():
        run = massrun_start(actor=user, parameters=form.parameters(), on=today)
        messages.success(request, "Der Serienbrief wurde gestartet.")
        return redirect("massrun:run", run_id=run.pk)
    runs = list(
        LetterRun.objects.filter(team_id=user.team_id)
        .select_related("created_by")
        .annotate(n=Count("items"))
        .order_by("-created_at", "-id")[:RECENT_RUNS]
    )
    return render(
        request,
        "kooperationsplan/massrun/index.html",
        {
            "form": form,
            "candidates": list(massrun_candidates(user, on=today)),
            "window_end": today + timedelta(days=WINDOW_DAYS),
            "runs": runs,
        },
        status=400 if form.errors else 200,
    )


def _run_context(run: LetterRun) -> dict[str, Any]:
    items = run.items.select_related("case__elb", "letter").defer("letter__pdf", "letter__context")
    return {
        "run": run,
        "progress": massrun_progress(run),
        "failed_items": [item for item in items if item.status == LetterRunItem.Status.FAILED],
        "done_items": [item for item in items if item.status == LetterRunItem.Status.DONE],
    }


@require_GET
def massrun_run(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_for(_team_user(request), run_id)
    return render(request, "kooperationsplan/massrun/run.html", _run_context(run))


@require_GET
def massrun_progress_fragment(request: HttpRequest, run_id: int) -> HttpResponse:
    """The progress bar and lists (htmx, polled while items are open)."""
    run = _run_for(_team_user(request), run_id)
    return render(request, "kooperationsplan/massrun/_progress.html", _run_context(run))


@require_POST
def massrun_retry(request: HttpRequest, run_id: int) -> HttpResponse:
    count = massrun_retry_failed(run_id=run_id, actor=_team_user(request))
    if count:
        messages.success(request, f"{count} fehlgeschlagene Fälle werden erneut verarbeitet.")
    else:
        messages.info(request, "Es gibt keine fehlgeschlagenen Fälle.")
    return redirect("massrun:run", run_id=run_id)


@require_POST
def massrun_continue(request: HttpRequest, run_id: int) -> HttpResponse:
    massrun_resume(run_id=run_id, actor=_team_user(request))
    messages.info(request, "Der Serienbrief wird fortgesetzt.")
    return redirect("massrun:run", run_id=run_id)


class _DryRun(Exception):
    """Raised to roll back the preview's issue after the letter was built."""


@require_GET
def massrun_preview(request: HttpRequest, case_id: int) -> HttpResponse:
    """The invitation of one case BEFORE it is issued: the real service builds it (rules, recipients, RFB)
    inside a transaction that is then rolled back, so the preview is exactly what the run will issue."""
    user = _team_user(request)
    case = case_get_for_view(request, case_id)
    form = MassRunForm(request.GET or None, initial=_initial())
    params = form.parameters() if form.is_valid() else None
    if params is None:
        first = timezone.make_aware(datetime.combine(*(_initial()[key] for key in ("first_date", "first_time"))))
        params = {
            "first_appointment": first.isoformat(),
            "location": "Raum (Beispiel)",
            "meldezweck": DEFAULT_MELDEZWECK,
        }
    copies, errors, letter = _dry_run(case, user, params)
    return render(
        request,
        "kooperationsplan/massrun/preview.html",
        {"case": case, "copies": copies, "refused": errors, "letter": letter, "error": ""},
    )


def _dry_run(case: Case, user: User, params: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]], Any]:
    captured: dict[str, Any] = {}
    try:
        with transaction.atomic():
            try:
                appointment = invitation_issue(
                    case_id=case.pk,
                    actor=user,
                    kind=AppointmentKind.UEBERPRUEFUNG,
                    starts_at=datetime.fromisoformat(params["first_appointment"]),
                    location=params["location"],
                    meldezweck=params["meldezweck"],
                    documents_to_bring=params.get("documents_to_bring", ""),
                    idempotency_key=f"massrun-preview:{user.pk}:{case.pk}:{timezone.now().timestamp()}",
                )
            except WorkflowRefused as refused:
                captured["errors"] = [_reason_json(reason) for reason in refused.decision.reasons]
            else:
                letter = appointment.letter
                letter.number = "Entwurf"
                captured["letter"] = letter
                captured["copies"] = preview_copies(letter)
            raise _DryRun
    except _DryRun:
        pass
    return captured.get("copies", []), captured.get("errors", []), captured.get("letter")
