"""Workflow services for exceptions from the KP and the Kennung KP (001 §8; RULES.md 3.13; P6)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from cases.models import Case, Einstellungszusage, Paragraph10Reason, User
from kooperationsplan.facts import case_facts, exemption_facts
from kooperationsplan.models import Exemption
from kooperationsplan.services import set_mode
from kooperationsplan.workflow import lock_case, record, require, today
from rules import exemptions as x_rules
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
        set_mode(case, "exemption_recorded")
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


def exemption_lapse(*, exemption_id: int, actor: User | None, on: date | None = None) -> Exemption:
    """The exemption lapses (job not started, § 10 ended, Profillage changed): NO_KP_YET, Kennung removed."""
    with transaction.atomic():
        exemption = Exemption.objects.get(pk=exemption_id)
        case: Case = lock_case(exemption.case_id)
        exemption = (
            Exemption.objects.select_for_update(of=("self",))
            .select_related("einstellungszusage", "paragraph10_reason")
            .get(pk=exemption_id)
        )
        on = on or today()
        decision = require(
            x_rules.exemption_lapses(exemption_facts(exemption), on=on, bundesland=case.team.jobcenter.bundesland)
        )
        exemption.status = Exemption.Status.LAPSED
        exemption.ended_on = on
        exemption.kennung_removed_on = on
        exemption.save(update_fields=["status", "ended_on", "kennung_removed_on"])
        set_mode(case, "exemption_lapsed")
        record(
            case,
            actor,
            "exemption.lapsed",
            f"Ausnahme entfallen ({exemption.get_reason_display()}), Kennung KP entfernt; KP unverzüglich erstellen",
            decision,
            exemption=exemption.pk,
        )
        return exemption
