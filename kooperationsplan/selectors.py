"""Reads for the case pages: the case header, the timeline, and the tab lists. A fixed number of queries each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet

from cases.models import Case, TimelineEvent
from kooperationsplan.facts import CaseData
from kooperationsplan.models import (
    Appointment,
    AssignmentStatus,
    EscalationStatus,
    Kooperationsplan,
    MassnahmeZuweisung,
    SchlichtungOutcome,
)
from kooperationsplan.reasons import TEXTS, explain, sentence, source_label
from letters.models import Letter
from letters.selectors import letters_of_case
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


def case_header(case: Case, *, on: date, data: CaseData | None = None) -> dict[str, Any]:
    """Cooperation mode, whether an RFB applies and why (rules), next deadlines, responsible IFK, minor/gV.

    `data`: the case's rows if the page reads them for more than the header (the case overview also shows
    the next actions), so that every table is read once per page."""
    data = data if data is not None else CaseData(case)
    rfb = rfb_applies(data.facts)
    deadlines: list[Deadline] = []

    def add(label: str, due: date | None) -> None:
        if due is not None:
            deadlines.append(Deadline(label, due, due < on))

    current = data.current_plan
    if current is not None:
        add(f"Überprüfung KP v{current.version_number}", current.review_due)
    for escalation in data.escalations:
        if escalation.status == EscalationStatus.AUFFORDERUNG_ISSUED:
            add("Frist der Aufforderung", escalation.compliance_deadline)
        elif escalation.status == EscalationStatus.ANHOERUNG:
            add("Äußerungsfrist der Anhörung", escalation.anhoerung_deadline)
    for assignment in data.open_assignments:
        if assignment.status in (AssignmentStatus.SCHREIBEN_ISSUED, AssignmentStatus.BESCHEID_ISSUED):
            add(f"Rückmeldung „{assignment.massnahme.title}“", assignment.rueckmeldung_due)
    for schlichtung in data.schlichtungen:
        if schlichtung.outcome == SchlichtungOutcome.RUNNING:
            add("Ende der Schlichtung", schlichtung.ends_on)
    if data.active_exemption is not None:
        exemption = data.active_exemption
        add(f"Prüfung der Ausnahme ({exemption.get_reason_display()})", exemption.recheck_due)
    if data.open_nachweise:
        add("Nachweis Eigenbemühungen", data.open_nachweise[0].due_on)
    minor = case.elb.is_minor_on(on)
    vertretungen = list(case.elb.vertretungen.filter(valid_to__isnull=True)) if minor else []
    return {
        "rfb_applies": rfb.allowed,
        "rfb_reasons": [explain(reason) for reason in rfb.reasons],
        "deadlines": sorted(deadlines, key=lambda item: item.due_on)[:6],
        "current_plan": current,
        "minor": minor,
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
