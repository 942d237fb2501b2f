"""Workflow services for the Potenzialanalyse and the Kooperationsplan (RULES.md 3.1, 3.2, 3.9; 5.1, 5.2).

Each service: lock the case, load facts, ask rules/, change state in one transaction, write one
timeline event, freeze the letters the step requires. A refused step raises WorkflowRefused and
changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases.models import CooperationMode, Potenzialanalyse, User
from kooperationsplan.facts import case_facts, plan_facts
from kooperationsplan.models import (
    CURRENT_KP_STATUSES,
    AssignmentStatus,
    AssignmentVia,
    ContentItem,
    Eigenbemuehung,
    EigenbemuehungNachweis,
    Exemption,
    Kooperationsplan,
    KPStatus,
    Massnahme,
    MassnahmeZuweisung,
    Reminder,
    Step,
)
from kooperationsplan.reminders import Kind as ReminderKind
from kooperationsplan.reminders import reminders_close
from kooperationsplan.workflow import (
    ConcurrentEdit,
    WorkflowRefused,
    freeze_letter,
    lock_case,
    record,
    require,
    today,
    transition,
)
from rules import measures as measure_rules
from rules import plan as plan_rules
from rules.deadlines import nachweis_periods
from rules.decision import Reason, allow, combine, refuse
from rules.letters import LetterKind, enclosures
from rules.states import KP_TRANSITIONS, MODE_TRANSITIONS, Mode

PA_TEXT_FIELDS = ("strengths", "qualifications", "handlungsbedarfe", "obstacles")


# --- Potenzialanalyse (R-PA-1, R-PA-2) -------------------------------------------------------------


def potenzialanalyse_save(*, case_id: int, actor: User, version: int, data: dict[str, Any]) -> Potenzialanalyse:
    """Save the PA; a save against an older version is refused (T7, DESIGN.md "Concurrent edits")."""
    with transaction.atomic():
        case = lock_case(case_id)
        pa, created = Potenzialanalyse.objects.select_for_update().get_or_create(case=case)
        if not created and pa.version != version:
            raise ConcurrentEdit
        for field in (*PA_TEXT_FIELDS, "health_reha_assessed", "reused_from_agentur"):
            if field in data:
                setattr(pa, field, data[field])
        pa.version += 1
        pa.save()
        decision = allow(Reason("pa.saved", "R-PA-2", ("§ 15 Abs. 1 SGB II", "001 §3")))
        record(case, actor, "potenzialanalyse.saved", "Potenzialanalyse gespeichert", decision, version=pa.version)
        return pa


def potenzialanalyse_complete(*, case_id: int, actor: User, version: int) -> Potenzialanalyse:
    """Complete the PA (R-PA-1): strengths, support needs, obstacles and health/Reha must be recorded."""
    with transaction.atomic():
        case = lock_case(case_id)
        pa = Potenzialanalyse.objects.select_for_update().filter(case=case).first()
        sources = ("§ 15 Abs. 1 SGB II", "001 §3")
        if pa is None:
            raise WorkflowRefused(refuse(Reason("pa.missing", "R-PA-1", sources)))
        if pa.version != version:
            raise ConcurrentEdit
        if pa.status == Potenzialanalyse.Status.COMPLETE:
            raise WorkflowRefused(refuse(Reason("pa.already_complete", "R-PA-1", sources)))
        missing = [field for field in ("strengths", "handlungsbedarfe", "obstacles") if not getattr(pa, field).strip()]
        reasons = [Reason("pa.part_missing", "R-PA-1", sources, {"part": field}) for field in missing]
        if not pa.health_reha_assessed:
            reasons.append(Reason("pa.health_not_assessed", "R-PA-1", sources))
        if reasons:
            raise WorkflowRefused(refuse(*reasons))
        pa.status = Potenzialanalyse.Status.COMPLETE
        pa.completed_at = timezone.now()
        pa.completed_by = actor
        pa.version += 1
        pa.save()
        reminders_close(case, [ReminderKind.PA_FAELLIG])
        record(
            case,
            actor,
            "potenzialanalyse.completed",
            "Potenzialanalyse abgeschlossen",
            allow(Reason("pa.complete", "R-PA-1", sources)),
        )
        return pa


# --- Kooperationsplan --------------------------------------------------------------------------------


def set_mode(case: Any, event: str) -> str:
    """Move the case along RULES.md 5.2; refuses an event the table does not allow from the current mode."""
    row = transition(MODE_TRANSITIONS, "5.2", case.cooperation_mode, event)
    case.cooperation_mode = row.target
    case.save(update_fields=["cooperation_mode"])
    return row.target


def kooperationsplan_start(*, case_id: int, actor: User) -> Kooperationsplan:
    """Start a draft (RULES.md 5.1 "– → DRAFT"); at a Fortschreibung the current content is copied."""
    with transaction.atomic():
        case = lock_case(case_id)
        facts = case_facts(case)
        decision = require(plan_rules.kp_may_start(facts))
        transition(KP_TRANSITIONS, "5.1", "NEW", "start")
        current = Kooperationsplan.objects.filter(case=case, status__in=CURRENT_KP_STATUSES).first()
        last = Kooperationsplan.objects.filter(case=case).order_by("-version_number").first()
        draft = Kooperationsplan.objects.create(
            case=case,
            version_number=(last.version_number + 1) if last else 1,
            predecessor=current,
            naechstes_ziel=current.naechstes_ziel if current else "",
            created_by=actor,
        )
        if current is not None:
            _copy_content(current, draft)
        reminders_close(case, [ReminderKind.KP_FEHLT])
        record(
            case,
            actor,
            "kooperationsplan.draft_started",
            f"Entwurf Kooperationsplan v{draft.version_number} begonnen",
            decision,
            plan=draft.pk,
        )
        return draft


def _copy_content(source: Kooperationsplan, target: Kooperationsplan) -> None:
    ContentItem.objects.bulk_create(
        ContentItem(
            plan=target,
            kind=item.kind,
            text=item.text,
            nicht_relevant=item.nicht_relevant,
            bg_member=item.bg_member,
            position=item.position,
        )
        for item in source.content_items.all()
    )
    Step.objects.bulk_create(
        Step(plan=target, position=step.position, text=step.text, responsible=step.responsible, due_on=step.due_on)
        for step in source.steps.filter(done_on__isnull=True)
    )
    Eigenbemuehung.objects.bulk_create(
        Eigenbemuehung(
            plan=target,
            kind=eb.kind,
            description=eb.description,
            min_count=eb.min_count,
            min_count_zero_reason=eb.min_count_zero_reason,
            period=eb.period,
            nachweis_form=eb.nachweis_form,
            nachweis_due_day=eb.nachweis_due_day,
        )
        for eb in source.eigenbemuehungen.all()
    )
    # Measures agreed but not yet assigned move on with the plan; issued ones keep their letter and plan.
    MassnahmeZuweisung.objects.bulk_create(
        MassnahmeZuweisung(
            case=target.case,
            plan=target,
            massnahme_id=assignment.massnahme_id,
            start_date=assignment.start_date,
            end_date=assignment.end_date,
            rueckmeldung_due=assignment.rueckmeldung_due,
        )
        for assignment in source.assignments.filter(status=AssignmentStatus.PLANNED).order_by("pk")
    )


def kooperationsplan_check_version(plan: Kooperationsplan, lock_version: int) -> None:
    if plan.lock_version != lock_version:
        raise ConcurrentEdit


def kooperationsplan_activate(
    *,
    plan_id: int,
    actor: User,
    lock_version: int,
    valid_from: date | None = None,
    valid_to: date | None = None,
    return_without_rfb_reason: str = "",
    with_flyer: bool = False,
) -> Kooperationsplan:
    """DRAFT → ACTIVE (R-PA-1, R-KP-2, R-KP-3, R-KP-5, R-EB-1, R-EB-3; review date R-KP-4).

    Side effects (RULES.md 5.1): a Fortschreibung supersedes the version under review; the case mode
    follows 5.2 (return without RFB per R-RET-1 lifts open Zuweisungsbescheide, R-ZUW-5); a § 10
    exemption ends and the Kennung KP is removed (R-EXC-4); the KP document is frozen without RFB
    (R-KP-2) for the E-Akte (R-ARC-1).
    """
    with transaction.atomic():
        draft = Kooperationsplan.objects.select_related("case").get(pk=plan_id)
        case = lock_case(draft.case_id)
        draft = Kooperationsplan.objects.select_for_update().get(pk=plan_id)
        kooperationsplan_check_version(draft, lock_version)
        facts = case_facts(case)
        activation = require(plan_rules.kp_may_activate(facts, plan_facts(draft)))
        transition(KP_TRANSITIONS, "5.1", draft.status, "activate")
        if case.cooperation_mode == Mode.SCHLICHTUNG_PENDING:
            raise WorkflowRefused(
                refuse(Reason("kp.schlichtung_running_use_agreement", "R-SCH-4", ("§ 15a Abs. 2 SGB II",)))
            )

        decisions = [activation]
        current = Kooperationsplan.objects.select_for_update().filter(case=case, status__in=CURRENT_KP_STATUSES).first()
        if current is not None:
            event = "schlichtung_agreement" if current.status == KPStatus.DISPUTED else "supersede"
            row = transition(KP_TRANSITIONS, "5.1", current.status, event)
            current.status = row.target
            current.ended_at = timezone.now()
            current.save(update_fields=["status", "ended_at"])
            reminders_close(current, [ReminderKind.D01_REVIEW, ReminderKind.D17_RUECKKEHR])  # R-FS-1: reviewed
            # Its measures that were never assigned were copied into the new version at the Fortschreibung.
            current.assignments.filter(status=AssignmentStatus.PLANNED).delete()
            # Its evidence periods that have not begun are replaced by those of the new version (D-07).
            EigenbemuehungNachweis.objects.filter(
                eigenbemuehung__plan=current, received_on__isnull=True, period_start__gte=valid_from or today()
            ).delete()

        wants_return = bool(return_without_rfb_reason.strip())
        if wants_return:
            jobcenter = case.team.jobcenter
            decisions.append(
                require(
                    plan_rules.return_without_rfb(
                        facts,
                        on=today(),
                        reason_text=return_without_rfb_reason,
                        return_min_months=jobcenter.return_min_months,
                    )
                )
            )
        new_mode, mode_reason = plan_rules.mode_after_activation(facts, return_without_rfb=wants_return)
        decisions.append(allow(mode_reason))
        _apply_mode_after_activation(case, facts.mode, new_mode)

        term = plan_rules.kp_term(valid_from or today(), valid_to)
        decisions.append(allow(term.reason))
        draft.status = KPStatus.ACTIVE
        draft.valid_from = term.valid_from
        draft.valid_to = term.valid_to
        draft.review_due = term.review_due
        draft.activated_at = timezone.now()
        draft.with_rfb_context = wants_return
        draft.return_without_rfb_reason = return_without_rfb_reason.strip()
        draft.lock_version += 1
        draft.save()
        _create_nachweis_periods(draft)

        if wants_return:
            _lift_open_bescheide(case, draft, actor)
        _end_exemption(case, actor)

        document = freeze_letter(
            case=case,
            kind=LetterKind.KP_DOKUMENT,
            actor=actor,
            decision=combine(*decisions),
            idempotency_key=f"kp-dokument:{draft.pk}",
            content=_kp_document_content(draft, with_flyer=with_flyer),
            letter_date=today(),
        )
        record(
            case,
            actor,
            "kooperationsplan.activated",
            f"Kooperationsplan v{draft.version_number} aktiviert, Überprüfung spätestens am "
            f"{draft.review_due:%d.%m.%Y}",
            *decisions,
            plan=draft.pk,
            letter=document.pk,
        )
        return draft


def _create_nachweis_periods(plan: Kooperationsplan) -> None:
    """R-EB-1 / D-07: one evidence row per period of every Eigenbemühung over the KP term, each with the day the
    Nachweis is due; the nightly scan reminds of them and proposes a breach after the grace period (R-EB-4)."""
    if plan.valid_from is None or plan.valid_to is None:
        return
    EigenbemuehungNachweis.objects.bulk_create(
        (
            EigenbemuehungNachweis(
                eigenbemuehung=eb, case_id=plan.case_id, period_start=start, period_end=end, due_on=due
            )
            for eb in plan.eigenbemuehungen.all()
            for start, end, due in nachweis_periods(plan.valid_from, plan.valid_to, eb.period, eb.nachweis_due_day)
        ),
        ignore_conflicts=True,
    )


def _apply_mode_after_activation(case: Any, old: Mode, new: Mode) -> None:
    if old == new:
        return
    event = {
        (Mode.NO_KP_YET, Mode.COOP_NO_RFB): "kp_activated",
        (Mode.NO_KP_15_6, Mode.COOP_NO_RFB): "kp_activated",
        (Mode.COOP_WITH_RFB, Mode.COOP_NO_RFB): "return_without_rfb",
        (Mode.EXEMPT, Mode.COOP_NO_RFB): "voluntary_kp_activated",
    }.get((old, new))
    if event is None:
        raise WorkflowRefused(
            refuse(Reason("transition.not_allowed", "RULES-5.2", ("RULES.md 5.2",), {"from": old, "to": new}))
        )
    set_mode(case, event)


def _lift_open_bescheide(case: Any, plan: Kooperationsplan, actor: User) -> None:
    """R-ZUW-5: Zuweisungsbescheide replaced by the consensual KP are lifted under § 48 SGB X."""
    open_bescheide = MassnahmeZuweisung.objects.select_for_update(of=("self",)).filter(
        case=case, via=AssignmentVia.BESCHEID, status__in=["BESCHEID_ISSUED", "REPORTED", "STARTED"]
    )
    for assignment in open_bescheide.select_related("massnahme", "letter"):
        decision = allow(Reason("zuw.aufhebung_48", "R-ZUW-5", ("§ 48 SGB X", "001 §6.5")))
        letter = freeze_letter(
            case=case,
            kind=LetterKind.AUFH_ZB,
            actor=actor,
            decision=decision,
            idempotency_key=f"aufh-zb:{assignment.pk}",
            content={
                "bescheid_date": assignment.letter.letter_date.isoformat() if assignment.letter else "",
                "bescheid_number": assignment.letter.number if assignment.letter else "",
                "massnahme": assignment.massnahme.title,
                "effective_from": today().isoformat(),
                "reason": "Ersetzt durch den einvernehmlichen Kooperationsplan "
                f"v{plan.version_number} (§ 48 SGB X, für die Zukunft).",
            },
        )
        assignment.status = AssignmentStatus.AUFGEHOBEN
        assignment.save(update_fields=["status"])
        record(
            case,
            actor,
            "massnahme.bescheid_aufgehoben",
            f"Zuweisungsbescheid „{assignment.massnahme.title}“ aufgehoben",
            decision,
            assignment=assignment.pk,
            letter=letter.pk,
        )


def _end_exemption(case: Any, actor: User) -> None:
    """R-EXC-4: when a KP is activated, the exemption ends and the Kennung KP is removed (logged)."""
    exemption = Exemption.objects.select_for_update().filter(case=case, status=Exemption.Status.ACTIVE).first()
    if exemption is None:
        return
    exemption.status = Exemption.Status.ENDED
    exemption.ended_on = today()
    exemption.kennung_removed_on = today()
    exemption.save(update_fields=["status", "ended_on", "kennung_removed_on"])
    reminders_close(
        exemption,
        [ReminderKind.D02_P10_RECHECK, ReminderKind.D03_PROFILLAGE_RECHECK, ReminderKind.D04_EINSTELLUNG],
    )
    record(
        case,
        actor,
        "exemption.ended",
        "Ausnahme beendet, Kennung KP entfernt",
        allow(Reason("exemption.kennung_removed", "R-EXC-4", ("001 §8.3",))),
        exemption=exemption.pk,
    )


def _kp_document_content(plan: Kooperationsplan, *, with_flyer: bool) -> dict[str, Any]:
    """The KP document (§6.2 KP_DOKUMENT): no RFB, no signature, a note that it is not legally binding."""
    return {
        "version": plan.version_number,
        "valid_from": plan.valid_from.isoformat() if plan.valid_from else None,
        "valid_to": plan.valid_to.isoformat() if plan.valid_to else None,
        "review_due": plan.review_due.isoformat() if plan.review_due else None,
        "naechstes_ziel": plan.naechstes_ziel,
        "items": [
            {
                "kind": item.kind,
                "label": item.get_kind_display(),
                "text": item.text,
                "nicht_relevant": item.nicht_relevant,
            }
            for item in plan.content_items.order_by("kind", "position")
        ],
        "steps": [
            {"text": step.text, "responsible": step.get_responsible_display(), "due_on": _iso(step.due_on)}
            for step in plan.steps.all()
        ],
        "eigenbemuehungen": [
            {
                "kind": eb.get_kind_display(),
                "description": eb.description,
                "min_count": eb.min_count,
                "period": eb.get_period_display(),
                "nachweis_form": eb.get_nachweis_form_display(),
                "nachweis_due_day": eb.nachweis_due_day,
            }
            for eb in plan.eigenbemuehungen.all()
        ],
        "massnahmen": [
            {"title": a.massnahme.title, "traeger": a.massnahme.traeger_name, "start": _iso(a.start_date)}
            for a in plan.assignments.select_related("massnahme")
        ],
        "not_binding_note": True,
        "enclosures": [kind.value for kind in enclosures(with_flyer=with_flyer)],
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def kooperationsplan_start_review(*, plan_id: int, actor: User, early_trigger: bool = False) -> Kooperationsplan:
    """ACTIVE → UNDER_REVIEW (R-FS-1; early on a trigger such as an abort with wichtiger Grund, R-ABB-2)."""
    with transaction.atomic():
        plan = Kooperationsplan.objects.get(pk=plan_id)
        case = lock_case(plan.case_id)
        plan = Kooperationsplan.objects.select_for_update().get(pk=plan_id)
        decision = require(plan_rules.review_may_start(plan_facts(plan), on=today(), early_trigger=early_trigger))
        row = transition(KP_TRANSITIONS, "5.1", plan.status, "review")
        plan.status = row.target
        plan.lock_version += 1
        plan.save(update_fields=["status", "lock_version"])
        record(case, actor, "kooperationsplan.review_started", "Überprüfung des Kooperationsplans begonnen", decision)
        return plan


def kooperationsplan_adapt(*, plan_id: int, actor: User, change_note: str) -> Kooperationsplan:
    """UNDER_REVIEW → ACTIVE, same version, with a change note (R-FS-1 "ADAPTED"); the next review is due at the
    latest 6 months after this one (R-KP-4)."""
    with transaction.atomic():
        plan = Kooperationsplan.objects.get(pk=plan_id)
        case = lock_case(plan.case_id)
        plan = Kooperationsplan.objects.select_for_update().get(pk=plan_id)
        sources = ("§ 15 Abs. 3 SGB II", "001 §6.4")
        if not change_note.strip():
            raise WorkflowRefused(refuse(Reason("review.change_note_required", "R-FS-1", sources)))
        decision, next_review = plan_rules.review_after_adaptation(plan_facts(plan), on=today())
        require(decision)
        row = transition(KP_TRANSITIONS, "5.1", plan.status, "adapt")
        plan.status = row.target
        plan.review_due = next_review
        plan.lock_version += 1
        plan.save(update_fields=["status", "review_due", "lock_version"])
        reminders_close(plan, [ReminderKind.D01_REVIEW, ReminderKind.D17_RUECKKEHR])  # R-FS-1 "ADAPTED"
        record(
            case,
            actor,
            "kooperationsplan.adapted",
            f"Kooperationsplan angepasst (gleiche Version), Überprüfung spätestens am {next_review:%d.%m.%Y}",
            decision,
            note=change_note.strip(),
        )
        return plan


def kooperationsplan_abandon(*, plan_id: int, actor: User, note: str) -> Kooperationsplan:
    """DRAFT → ABANDONED: no agreement in the Beratung; the case moves to NO_KP_15_6 (R-NOKP-1)."""
    with transaction.atomic():
        plan = Kooperationsplan.objects.get(pk=plan_id)
        case = lock_case(plan.case_id)
        plan = Kooperationsplan.objects.select_for_update().get(pk=plan_id)
        decision = require(plan_rules.kp_may_be_abandoned(case_facts(case), note=note))
        row = transition(KP_TRANSITIONS, "5.1", plan.status, "abandon")
        plan.status = row.target
        plan.ended_at = timezone.now()
        plan.save(update_fields=["status", "ended_at"])
        if case.cooperation_mode == CooperationMode.NO_KP_YET:
            set_mode(case, "no_kp_reached")
        record(
            case,
            actor,
            "kooperationsplan.abandoned",
            "Kein Kooperationsplan zustande gekommen",
            decision,
            note=note.strip(),
        )
        return plan


EDITABLE_STATUSES = (KPStatus.DRAFT, KPStatus.UNDER_REVIEW)


def kooperationsplan_save_content(
    *,
    plan_id: int,
    actor: User,
    lock_version: int,
    naechstes_ziel: str,
    items: dict[str, tuple[str, bool]],
    steps: list[dict[str, Any]],
    eigenbemuehungen: list[dict[str, Any]],
    checklist: dict[str, Any],
    massnahmen: list[dict[str, Any]] | None = None,
) -> Kooperationsplan:
    """Edit a draft (or a plan under review, R-FS-1 "ADAPTED"). A save against an older version is refused
    (T7); only the plan's own rows are replaced, never rows of another plan (T6)."""
    with transaction.atomic():
        plan = Kooperationsplan.objects.get(pk=plan_id)
        case = lock_case(plan.case_id)
        plan = Kooperationsplan.objects.select_for_update().get(pk=plan_id)
        kooperationsplan_check_version(plan, lock_version)
        if plan.status not in EDITABLE_STATUSES:
            raise WorkflowRefused(refuse(Reason("kp.not_draft", "R-KP-2", ("RULES.md 5.1",), {"status": plan.status})))
        plan.naechstes_ziel = naechstes_ziel.strip()
        for field in ("gemeinsam_erarbeitet", "vb_erlaeutert", "infoblatt_vb_ausgehaendigt_on", "beratungsvermerk_ref"):
            if field in checklist:
                setattr(plan, field, checklist[field])
        plan.lock_version += 1
        plan.save()
        plan.content_items.all().delete()
        ContentItem.objects.bulk_create(
            ContentItem(plan=plan, kind=kind, text="" if not_relevant else text.strip(), nicht_relevant=not_relevant)
            for kind, (text, not_relevant) in items.items()
            if not_relevant or text.strip()
        )
        plan.steps.all().delete()
        Step.objects.bulk_create(Step(plan=plan, position=index, **step) for index, step in enumerate(steps))
        if [_eb_values(eb) for eb in plan.eigenbemuehungen.order_by("pk")] != [
            _eb_values(eb) for eb in eigenbemuehungen
        ]:
            if plan.eigenbemuehungen.filter(nachweise__isnull=False).exists():
                # Evidence periods refer to these items: a change of the Eigenbemühungen needs a new version.
                raise WorkflowRefused(refuse(Reason("kp.eb_has_evidence", "R-FS-1", ("001 §6.4", "001 §5.2"))))
            plan.eigenbemuehungen.all().delete()
            Eigenbemuehung.objects.bulk_create(Eigenbemuehung(plan=plan, **eb) for eb in eigenbemuehungen)
        decisions = [allow(Reason("kp.should_be_made", "R-KP-1", ("§ 15 Abs. 2 SGB II", "001 §4.1")))]
        if massnahmen is not None:
            decisions += _replace_planned_measures(plan, massnahmen)
        record(
            case,
            actor,
            "kooperationsplan.edited",
            f"Kooperationsplan v{plan.version_number} bearbeitet",
            *decisions,
            plan=plan.pk,
            lock_version=plan.lock_version,
        )
        return plan


EB_FIELDS = ("kind", "description", "min_count", "min_count_zero_reason", "period", "nachweis_form", "nachweis_due_day")


def _eb_values(eb: Any) -> tuple[Any, ...]:
    """The content of an Eigenbemühung, from a row or from the editor's values, for comparison."""
    get = eb.get if isinstance(eb, dict) else lambda field, default=None: getattr(eb, field, default)
    return tuple(
        get(field, "") if field in ("description", "min_count_zero_reason") else get(field) for field in EB_FIELDS
    )


def _replace_planned_measures(plan: Kooperationsplan, massnahmen: list[dict[str, Any]]) -> list[Any]:
    """The measures agreed in this plan and not yet assigned (R-ZUW-1). Only the plan's own PLANNED rows are
    replaced; issued assignments keep their letter (T6). Refuses an unknown measure or inconsistent dates."""
    wanted = {row["massnahme_id"] for row in massnahmen}
    offered = set(
        Massnahme.objects.filter(Q(active=True) | Q(assignments__plan=plan), pk__in=wanted).values_list("pk", flat=True)
    )
    sources = ("001 §5.1",)
    if wanted - offered:
        raise WorkflowRefused(refuse(Reason("zuw.not_in_catalogue", "R-ZUW-1", sources)))
    decisions = [
        require(measure_rules.assignment_dates(row["start_date"], row["end_date"], row["rueckmeldung_due"]))
        for row in massnahmen
    ]
    plan.assignments.filter(status=AssignmentStatus.PLANNED).delete()
    MassnahmeZuweisung.objects.bulk_create(
        MassnahmeZuweisung(
            case_id=plan.case_id,
            plan=plan,
            massnahme_id=row["massnahme_id"],
            start_date=row["start_date"],
            end_date=row["end_date"],
            rueckmeldung_due=row["rueckmeldung_due"],
        )
        for row in massnahmen
    )
    return decisions


def end_current_plan(case: Any, actor: User | None, reason: Reason) -> Kooperationsplan | None:
    """RULES.md 5.1 "ACTIVE, UNDER_REVIEW → ENDED" (Leistungsbezug ends, an exemption starts): the plan in force
    ends and its review reminders are closed. Called inside the caller's transaction, with the case locked."""
    plan = (
        Kooperationsplan.objects.select_for_update()
        .filter(case=case, status__in=(KPStatus.ACTIVE, KPStatus.UNDER_REVIEW))
        .first()
    )
    if plan is None:
        return None
    plan.status = transition(KP_TRANSITIONS, "5.1", plan.status, "end").target
    plan.ended_at = timezone.now()
    plan.save(update_fields=["status", "ended_at"])
    reminders_close(plan, [ReminderKind.D01_REVIEW, ReminderKind.D17_RUECKKEHR])
    record(case, actor, "kooperationsplan.ended", f"Kooperationsplan v{plan.version_number} beendet", allow(reason))
    return plan


def case_close(*, case_id: int, actor: User, closed_on: date, note: str) -> Any:
    """The Leistungsbezug ended: the case is closed, its plan in force ends (RULES.md 5.1) and its open reminders
    become obsolete; the case then leaves every list, the worklist and the nightly scans."""
    with transaction.atomic():
        case = lock_case(case_id)
        decision = require(
            plan_rules.case_may_be_closed(
                case_facts(case), closed_on=closed_on, leistungsbeginn=case.leistungsbeginn, on=today(), note=note
            )
        )
        end_current_plan(case, actor, Reason("kp.ended_with_case", "RULES-5.1", ("RULES.md 5.1",)))
        case.closed_on = closed_on
        case.save(update_fields=["closed_on"])
        Reminder.objects.filter(case=case, status=Reminder.Status.OPEN).update(
            status=Reminder.Status.OBSOLETE, done_at=timezone.now()
        )
        record(
            case,
            actor,
            "case.closed",
            f"Fall abgeschlossen: Leistungsbezug endete am {closed_on:%d.%m.%Y}",
            decision,
            note=note.strip(),
        )
        return case
