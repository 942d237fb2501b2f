"""Workflow services for exceptions from the KP and the Kennung KP (001 §8; RULES.md 3.13; P6)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from cases.models import Case, Einstellungszusage, Paragraph10Reason, User
from kooperationsplan.facts import case_facts, exemption_facts
from kooperationsplan.models import Exemption
from kooperationsplan.reminders import Kind as ReminderKind
from kooperationsplan.reminders import reminders_close
from kooperationsplan.services import end_current_plan, set_mode
from kooperationsplan.workflow import WorkflowRefused, lock_case, record, require, today
from rules import exemptions as x_rules
from rules.decision import Decision, Reason, allow, refuse
from rules.facts import ExemptionFacts, ExemptionReason


def exemption_record(
    *,
    case_id: int,
    actor: User,
    reason: str,
    kennung_kp: bool,
    kennung_reason: str,
    einstellungszusage: dict[str, Any] | None = None,
    paragraph10: dict[str, Any] | None = None,
    checklist: dict[str, bool] | None = None,
) -> Exemption:
    """R-EXC-1..5: an individual exemption with its Kennung KP; the case mode becomes EXEMPT."""
    with transaction.atomic():
        case = lock_case(case_id)
        on = today()
        checklist = checklist or {}
        ez_data = einstellungszusage or {}
        p10_data = paragraph10 or {}
        facts = ExemptionFacts(
            reason=ExemptionReason(reason),
            recorded_on=on,
            recheck_due=on,
            kennung_kp=kennung_kp,
            kennung_reason=kennung_reason,
            job_start=ez_data.get("start_date"),
            firm_offer=bool(ez_data.get("firm")),
            further_support_needed=bool(ez_data.get("further_support_needed")),
            zukunftsziel=bool(p10_data.get("zukunftsziel")),
            vollzeit=checklist.get("vollzeit_sv_beschaeftigt", False),
            selbststaendig=checklist.get("selbststaendig", False),
            ausgeschoepft=checklist.get("moeglichkeiten_ausgeschoepft", False),
            keine_verringerung_6_monate=checklist.get("keine_verringerung_6_monate", False),
        )
        decision = require(x_rules.exemption_may_be_recorded(case_facts(case), facts, on=on))
        ez = p10 = None
        if facts.reason is ExemptionReason.EINSTELLUNGSZUSAGE:
            ez = Einstellungszusage.objects.create(
                case=case,
                employer=ez_data.get("employer", ""),
                start_date=ez_data["start_date"],
                firm=True,
                further_support_needed=False,
                recorded_on=on,
            )
        elif facts.reason is ExemptionReason.PARAGRAPH_10:
            p10 = Paragraph10Reason.objects.create(
                case=case,
                kind=p10_data["kind"],
                since=p10_data.get("since", on),
                expected_end=p10_data.get("expected_end"),
                last_checked_on=on,
                zukunftsziel=facts.zukunftsziel,
                note=p10_data.get("note", ""),
            )
        recheck = x_rules.recheck_due(facts)
        if p10 is not None and p10.expected_end is not None:
            recheck = min(recheck, p10.expected_end)
        if facts.reason is ExemptionReason.PROFILLAGE_I and case.profillage != 1:
            case.profillage = 1
            case.save(update_fields=["profillage"])
        exemption = Exemption.objects.create(
            case=case,
            reason=reason,
            kennung_kp=True,
            kennung_reason=kennung_reason.strip(),
            einstellungszusage=ez,
            paragraph10_reason=p10,
            vollzeit_sv_beschaeftigt=facts.vollzeit,
            selbststaendig=facts.selbststaendig,
            moeglichkeiten_ausgeschoepft=facts.ausgeschoepft,
            keine_verringerung_6_monate=facts.keine_verringerung_6_monate,
            recheck_due=recheck,
            recorded_by=actor,
            recorded_on=on,
        )
        end_current_plan(case, actor, Reason("kp.ended_by_exemption", "R-EXC-4", ("001 §8", "RULES.md 5.1")))
        set_mode(case, "exemption_recorded")
        reminders_close(case, [ReminderKind.KP_FEHLT])  # R-EXC-4: no KP is made, with the Kennung KP
        record(
            case,
            actor,
            "exemption.recorded",
            f"Ausnahme erfasst: {exemption.get_reason_display()}, Kennung KP gesetzt, "
            f"erneute Prüfung spätestens am {recheck:%d.%m.%Y}",
            decision,
            exemption=exemption.pk,
        )
        return exemption


RECHECK_REMINDERS = (ReminderKind.D02_P10_RECHECK, ReminderKind.D03_PROFILLAGE_RECHECK, ReminderKind.D04_EINSTELLUNG)


def exemption_lapse(*, exemption_id: int, actor: User | None, on: date | None = None) -> Exemption:
    """The exemption lapses (job not started, § 10 ended, Profillage changed): NO_KP_YET, Kennung removed."""
    with transaction.atomic():
        exemption, case = _lock_exemption(exemption_id)
        on = on or today()
        decision = require(
            x_rules.exemption_lapses(exemption_facts(exemption), on=on, bundesland=case.team.jobcenter.bundesland)
        )
        _lapse(exemption, case, actor, on, decision)
        return exemption


def _lapse(exemption: Exemption, case: Case, actor: User | None, on: date, decision: Decision) -> None:
    """The exemption lapses: NO_KP_YET, the Kennung KP is removed and the removal logged (R-EXC-4)."""
    exemption.status = Exemption.Status.LAPSED
    exemption.ended_on = on
    exemption.kennung_removed_on = on
    exemption.save()
    reminders_close(exemption, RECHECK_REMINDERS)
    set_mode(case, "exemption_lapsed")
    record(
        case,
        actor,
        "exemption.lapsed",
        f"Ausnahme entfallen ({exemption.get_reason_display()}), Kennung KP entfernt; KP unverzüglich erstellen",
        decision,
        exemption=exemption.pk,
    )


def _lock_exemption(exemption_id: int) -> tuple[Exemption, Case]:
    exemption = Exemption.objects.get(pk=exemption_id)
    case: Case = lock_case(exemption.case_id)
    exemption = (
        Exemption.objects.select_for_update(of=("self",))
        .select_related("einstellungszusage", "paragraph10_reason")
        .get(pk=exemption_id)
    )
    if exemption.status != Exemption.Status.ACTIVE:
        raise WorkflowRefused(refuse(Reason("exemption.not_active", "R-EXC-5", ("001 §8",))))
    return exemption, case


def exemption_recheck(
    *,
    exemption_id: int,
    actor: User,
    continues: bool,
    note: str,
    expected_end: date | None = None,
    checklist: dict[str, bool] | None = None,
) -> Exemption:
    """D-02 / D-03: the re-check of a § 10 or Profillage I exemption (at the latest every 6 months). If the
    conditions still apply, the next re-check is set; otherwise the exemption lapses (R-EXC-2, R-EXC-3)."""
    with transaction.atomic():
        exemption, case = _lock_exemption(exemption_id)
        on = today()
        if not note.strip():
            raise WorkflowRefused(refuse(Reason("exemption.recheck_note_required", "R-EXC-5", ("001 §8",))))
        p10 = exemption.paragraph10_reason
        if exemption.reason == Exemption.Reason.PARAGRAPH_10 and p10 is not None:
            p10.last_checked_on = on
            p10.note = note.strip()
            if continues:
                p10.expected_end = expected_end
            else:
                p10.ended_on = on
            p10.save(update_fields=["last_checked_on", "note", "expected_end", "ended_on"])
        elif exemption.reason == Exemption.Reason.PROFILLAGE_I:
            for field, value in (checklist or {}).items():
                setattr(exemption, field, bool(value))
        else:
            raise WorkflowRefused(refuse(Reason("exemption.ez_no_recheck", "R-EXC-1", ("001 §8.1",))))
        facts = exemption_facts(exemption)
        if continues:
            decision, next_check = x_rules.recheck_continues(facts, on=on)
            require(decision)
            if p10 is not None and p10.expected_end is not None:
                next_check = min(next_check, max(p10.expected_end, on))
            exemption.recheck_due = next_check
            exemption.save()
            reminders_close(exemption, RECHECK_REMINDERS)
            record(
                case,
                actor,
                "exemption.rechecked",
                f"Ausnahme geprüft ({exemption.get_reason_display()}): besteht fort, nächste Prüfung spätestens am "
                f"{next_check:%d.%m.%Y}",
                decision,
                exemption=exemption.pk,
                note=note.strip(),
            )
            return exemption
        decision = require(x_rules.exemption_lapses(facts, on=on, bundesland=case.team.jobcenter.bundesland))
        _lapse(exemption, case, actor, on, decision)
        return exemption


def einstellungszusage_outcome(*, exemption_id: int, actor: User, outcome: str, on: date) -> Exemption:
    """D-04 / R-EXC-1: the job has started (the exemption holds), the start was postponed (beyond the 8 weeks the
    exemption lapses), or the offer was withdrawn (it lapses at once)."""
    with transaction.atomic():
        exemption, case = _lock_exemption(exemption_id)
        ez = exemption.einstellungszusage
        sources = ("001 §8.1",)
        if exemption.reason != Exemption.Reason.EINSTELLUNGSZUSAGE or ez is None:
            raise WorkflowRefused(refuse(Reason("exemption.not_ez", "R-EXC-1", sources)))
        if outcome == "started":
            if on > today() or on < ez.recorded_on:
                raise WorkflowRefused(refuse(Reason("exemption.ez_start_date_invalid", "R-EXC-1", sources)))
            ez.start_confirmed_on = on
            ez.save(update_fields=["start_confirmed_on"])
            reminders_close(exemption, [ReminderKind.D04_EINSTELLUNG])
            record(
                case,
                actor,
                "exemption.job_started",
                f"Arbeitsaufnahme bei {ez.employer} am {on:%d.%m.%Y} bestätigt",
                allow(Reason("exemption.job_started", "R-EXC-1", sources)),
                exemption=exemption.pk,
            )
            return exemption
        if outcome == "postponed":
            if on <= ez.start_date:
                raise WorkflowRefused(refuse(Reason("exemption.ez_start_date_invalid", "R-EXC-1", sources)))
            ez.start_date = on
        elif outcome == "withdrawn":
            ez.firm = False
        else:
            raise WorkflowRefused(refuse(Reason("exemption.ez_outcome_unknown", "R-EXC-1", sources)))
        ez.save(update_fields=["start_date", "firm"])
        decision = x_rules.exemption_lapses(
            exemption_facts(exemption), on=today(), bundesland=case.team.jobcenter.bundesland
        )
        if decision.allowed:
            _lapse(exemption, case, actor, today(), decision)
            return exemption
        exemption.recheck_due = ez.start_date
        exemption.save(update_fields=["recheck_due"])
        reminders_close(exemption, [ReminderKind.D04_EINSTELLUNG])
        record(
            case,
            actor,
            "exemption.job_postponed",
            f"Arbeitsaufnahme verschoben auf den {ez.start_date:%d.%m.%Y}; die Ausnahme besteht fort",
            allow(Reason("exemption.ez", "R-EXC-1", sources, {"until": ez.start_date.isoformat()})),
            exemption=exemption.pk,
        )
        return exemption
