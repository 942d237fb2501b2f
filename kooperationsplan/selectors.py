"""Reads for the case pages: the case header, the timeline, and the tab lists. A fixed number of queries each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet

from cases.models import Case, TimelineEvent
from kooperationsplan.facts import case_facts
from kooperationsplan.models import (
    CURRENT_KP_STATUSES,
    Appointment,
    EigenbemuehungNachweis,
    Escalation,
    Exemption,
    Kooperationsplan,
    MassnahmeZuweisung,
    Schlichtung,
)
from kooperationsplan.reasons import TEXTS, explain, sentence, source_label
from letters.models import Letter
from letters.selectors import letters_of_case
from rules.facts import CaseFacts
from rules.plan import rfb_applies

TIMELINE_FILTERS = {
    "kooperationsplan": "Kooperationsplan",
    "potenzialanalyse": "Potenzialanalyse",
    "escalation": "Eskalation",
    "massnahme": "Maßnahmen",
    "appointment": "Termine",
    "schlichtung": "Schlichtung",
    "exemption": "Ausnahmen",
    "approval": "Teamleitung",
    "case": "Fall",
}


@dataclass(frozen=True)
class Deadline:
    label: str
    due_on: date
    overdue: bool


def case_header(case: Case, *, on: date, facts: CaseFacts | None = None) -> dict[str, Any]:
    """Cooperation mode, whether an RFB applies and why (rules), next deadlines, responsible IFK, minor/gV.

    `facts`: the case's facts if the page has loaded them already (the case page also needs them for the
    next actions), so they are loaded once per page."""
    facts = facts if facts is not None else case_facts(case)
    rfb = rfb_applies(facts)
    deadlines: list[Deadline] = []

    def add(label: str, due: date | None) -> None:
        if due is not None:
            deadlines.append(Deadline(label, due, due < on))

    current = Kooperationsplan.objects.filter(case=case, status__in=CURRENT_KP_STATUSES).first()
    if current is not None:
        add(f"Überprüfung KP v{current.version_number}", current.review_due)
    for escalation in Escalation.objects.filter(case=case, status__in=["AUFFORDERUNG_ISSUED", "ANHOERUNG"]):
        if escalation.status == "AUFFORDERUNG_ISSUED":
            add("Frist der Aufforderung", escalation.compliance_deadline)
        else:
            add("Äußerungsfrist der Anhörung", escalation.anhoerung_deadline)
    for assignment in MassnahmeZuweisung.objects.filter(
        case=case, status__in=["SCHREIBEN_ISSUED", "BESCHEID_ISSUED"]
    ).select_related("massnahme"):
        add(f"Rückmeldung „{assignment.massnahme.title}“", assignment.rueckmeldung_due)
    for schlichtung in Schlichtung.objects.filter(case=case, outcome="RUNNING"):
        add("Ende der Schlichtung", schlichtung.ends_on)
    for exemption in Exemption.objects.filter(case=case, status="ACTIVE"):
        add(f"Prüfung der Ausnahme ({exemption.get_reason_display()})", exemption.recheck_due)
    nachweis = (
        EigenbemuehungNachweis.objects.filter(eigenbemuehung__plan__case=case, received_on__isnull=True)
        .order_by("due_on")
        .first()
    )
    if nachweis is not None:
        add("Nachweis Eigenbemühungen", nachweis.due_on)
    vertretungen = list(case.elb.vertretungen.filter(valid_to__isnull=True)) if case.elb.is_minor_on(on) else []
    return {
        "rfb_applies": rfb.allowed,
        "rfb_reasons": [explain(reason) for reason in rfb.reasons],
        "deadlines": sorted(deadlines, key=lambda item: item.due_on)[:6],
        "current_plan": current,
        "minor": case.elb.is_minor_on(on),
        "vertretungen": vertretungen,
    }


def timeline_list(case: Case, *, kind: str = "") -> QuerySet[TimelineEvent]:
    events = TimelineEvent.objects.filter(case=case).select_related("actor")
    if kind in TIMELINE_FILTERS:
        events = events.filter(code__startswith=f"{kind}.")
    return events.order_by("-occurred_at", "-id")


def timeline_entry(event: TimelineEvent) -> dict[str, Any]:
    """An event for display: its reasons as German sentences (rule ID kept) and the rendered sources."""
    reasons = [
        {
            "rule_id": item["rule_id"],
            "text": sentence(item["code"], item.get("params", {})) if item["code"] in TEXTS else item["code"],
        }
        for item in event.data.get("reasons", [])
    ]
    return {
        "event": event,
        "reasons": reasons,
        "sources": [source_label(source) for source in event.sources],
    }


def plans_list(case: Case) -> list[Kooperationsplan]:
    return list(Kooperationsplan.objects.filter(case=case).order_by("-version_number"))


def measures_list(case: Case) -> list[MassnahmeZuweisung]:
    return list(
        MassnahmeZuweisung.objects.filter(case=case).select_related("massnahme__art", "plan").order_by("-created_at")
    )


def appointments_list(case: Case) -> list[Appointment]:
    return list(Appointment.objects.filter(case=case).select_related("letter").order_by("-starts_at"))


def letters_list(case: Case) -> list[Letter]:
    return list(letters_of_case(case))


def escalations_list(case: Case) -> list[Escalation]:
    return list(Escalation.objects.filter(case=case).select_related("massnahme_art").order_by("-breach_date", "-id"))
