"""The letters of the demo history (seed_demo): every invitation, KP document, Zuweisung, Aufforderung and
Anhörung the demo cases have gone through is frozen as a real Letter snapshot, through the same letter service
and content builders as the workflow, so that the cases' "Schreiben" tab and the E-Akte are not empty.

The history was built directly (kooperationsplan/demo.py), so the letters are frozen afterwards with the
letter date their step had. Which kind and whether it carries an RFB come from the rules (rules.invitations,
rules.letters) and the demo objects; the letters wait in the outbox and are rendered by `seed_demo --pdf` or a
worker (letters.services.dispatch_deferred).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from cases.models import Case, Jobcenter
from kooperationsplan.escalations import KIND_LABELS, anhoerung_content
from kooperationsplan.facts import case_facts
from kooperationsplan.measures import _measure_content
from kooperationsplan.models import (
    Appointment,
    AssignmentVia,
    Escalation,
    EscalationStatus,
    Kooperationsplan,
    MassnahmeZuweisung,
)
from kooperationsplan.services import _kp_document_content
from kooperationsplan.workflow import freeze_letter
from letters.services import dispatch_deferred
from rules.decision import Reason, allow, combine
from rules.invitations import AppointmentKind, invitation
from rules.letters import LetterKind, rfb_block

PLANS_WITH_DOCUMENT = ("ACTIVE", "UNDER_REVIEW", "DISPUTED", "SUPERSEDED", "FAILED", "NOT_CONTINUED", "ENDED")
AFTER_AUFFORDERUNG = (
    EscalationStatus.AUFFORDERUNG_ISSUED,
    EscalationStatus.ANHOERUNG,
    EscalationStatus.DECISION_PENDING,
    EscalationStatus.NO_MINDERUNG,
    EscalationStatus.MINDERUNG_FESTGESTELLT,
    EscalationStatus.ENDED,
    EscalationStatus.AUFGEHOBEN,
)
AFTER_ANHOERUNG = AFTER_AUFFORDERUNG[1:]


def freeze_demo_letters(jobcenter: Jobcenter) -> int:
    """Freeze the letters of the demo history of this Jobcenter; returns how many."""
    cases = list(Case.objects.filter(team__jobcenter=jobcenter).select_related("elb", "team__jobcenter", "responsible"))
    count = 0
    with dispatch_deferred():
        for case in cases:
            count += _invitations(case) + _kp_documents(case) + _zuweisungen(case) + _escalations(case)
    return count


def _letter_day(day: date, case: Case, days_before: int) -> date:
    """The letter went out `days_before` the event, never before the case began."""
    return max(day - timedelta(days=days_before), case.leistungsbeginn)


def _invitations(case: Case) -> int:
    facts = case_facts(case)
    count = 0
    for appointment in Appointment.objects.filter(case=case, letter__isnull=True).order_by("starts_at"):
        starts = timezone.localtime(appointment.starts_at)
        letter_date = _letter_day(starts.date(), case, 10)
        kind = AppointmentKind(appointment.kind)
        # The history: at the time of the first talk's invitation it was the first one (R-INV-1).
        at_the_time = replace(facts, first_invitation_sent=kind is not AppointmentKind.ERSTGESPRAECH)
        result = invitation(at_the_time, kind, on=letter_date, meldezweck=appointment.meldezweck)
        rfb = None
        if result.with_rfb:
            _, rfb = rfb_block(
                result.letter_kind,
                duty=f"Termin am {starts:%d.%m.%Y um %H:%M Uhr}, {appointment.location}: {appointment.meldezweck}",
                deadline=starts.date(),
                percent=10,
                months=1,
            )
        appointment.letter = freeze_letter(
            case=case,
            kind=result.letter_kind,
            actor=case.responsible,
            decision=result.decision,
            idempotency_key=f"demo:termin:{appointment.pk}",
            rfb=rfb,
            letter_date=letter_date,
            content={
                "appointment_kind": KIND_LABELS[appointment.kind],
                "starts_at": starts.isoformat(),
                "location": appointment.location,
                "meldezweck": appointment.meldezweck,
                "documents_to_bring": appointment.documents_to_bring,
                "fahrtkosten_note": True,
            },
        )
        appointment.save(update_fields=["letter"])
        count += 1
    return count


def _kp_documents(case: Case) -> int:
    plans = Kooperationsplan.objects.filter(case=case, status__in=PLANS_WITH_DOCUMENT, activated_at__isnull=False)
    count = 0
    for plan in plans.order_by("version_number"):
        reason = Reason("kp.never_rfb", "R-KP-2", ("000", "001 §1", "001 §4.1"))
        freeze_letter(
            case=case,
            kind=LetterKind.KP_DOKUMENT,
            actor=case.responsible,
            decision=allow(reason, Reason("archive.file", "R-ARC-1", ("001 §6.6",))),
            idempotency_key=f"kp-dokument:{plan.pk}",
            content=_kp_document_content(plan, with_flyer=False),
            letter_date=timezone.localtime(plan.activated_at).date(),
        )
        count += 1
    return count


def _zuweisungen(case: Case) -> int:
    assignments = (
        MassnahmeZuweisung.objects.filter(case=case, via__isnull=False, letter__isnull=True)
        .select_related("massnahme__art", "plan")
        .order_by("pk")
    )
    count = 0
    for assignment in assignments:
        letter_date = _letter_day(assignment.rueckmeldung_due, case, 14)
        content: dict[str, Any] = _measure_content(assignment)
        rfb = None
        if assignment.via == AssignmentVia.BESCHEID:
            kind = LetterKind.ZUW_BESCHEID
            decision, rfb = rfb_block(
                kind,
                duty=f"Teilnahme an der Maßnahme „{assignment.massnahme.title}“ ab {assignment.start_date:%d.%m.%Y}; "
                f"Vorstellung beim Träger bis {assignment.rueckmeldung_due:%d.%m.%Y}",
                deadline=assignment.rueckmeldung_due,
                percent=10,
                months=1,
            )
            decision = combine(
                decision,
                allow(Reason("zuw.bescheid_with_rfb", "R-ZUW-3", ("001 §6.2",), {"mode": case.cooperation_mode})),
            )
            content["valid_to"] = (assignment.valid_to or assignment.end_date).isoformat()
            content["traeger_ruecksprache_on"] = (
                assignment.traeger_ruecksprache_on.isoformat() if assignment.traeger_ruecksprache_on else None
            )
        else:
            kind = (
                LetterKind.ZUW_SCHREIBEN_AGH
                if assignment.massnahme.art.is_agh
                else LetterKind.ZUW_SCHREIBEN_AKTIVIERUNG
            )
            decision = allow(Reason("zuw.schreiben_without_rfb", "R-ZUW-1", ("001 §5.1",)))
        assignment.letter = freeze_letter(
            case=case,
            kind=kind,
            actor=case.responsible,
            decision=decision,
            idempotency_key=f"demo:zuweisung:{assignment.pk}",
            rfb=rfb,
            content=content,
            letter_date=letter_date,
        )
        assignment.save(update_fields=["letter"])
        count += 1
    return count


def _escalations(case: Case) -> int:
    count = 0
    escalations = Escalation.objects.filter(case=case, legal_basis="P31", status__in=AFTER_AUFFORDERUNG).order_by("pk")
    for escalation in escalations:
        if escalation.compliance_deadline is None:
            continue
        letter_date = _letter_day(escalation.compliance_deadline, case, 21)
        without_kp = escalation.plan_id is None
        kind = LetterKind.AUFF_15_6 if without_kp else LetterKind.AUFF_15_5
        duty = "Legen Sie die vereinbarten Nachweise Ihrer Eigenbemühungen vor."
        decision, rfb = rfb_block(kind, duty=duty, deadline=escalation.compliance_deadline, percent=10, months=1)
        demand = (
            Reason("nokp.aufforderung_15_6", "R-NOKP-1", ("§ 15 Abs. 6 SGB II", "001 §7"))
            if without_kp
            else Reason("escalation.aufforderung_15_5", "R-ESC-2", ("§ 15 Abs. 5 SGB II", "001 §6.1"))
        )
        aufforderung = freeze_letter(
            case=case,
            kind=kind,
            actor=case.responsible,
            decision=combine(decision, allow(demand)),
            idempotency_key=f"demo:aufforderung:{escalation.pk}",
            rfb=rfb,
            letter_date=letter_date,
            content={
                "duty": duty,
                "deadline": escalation.compliance_deadline.isoformat(),
                "kp_version": escalation.plan.version_number if escalation.plan else None,
                "breach": escalation.description,
                "breach_date": escalation.breach_date.isoformat(),
                "reference": "kein Kooperationsplan" if without_kp else "",
                "escalation": escalation.pk,
            },
        )
        count += 1
        if escalation.status in AFTER_ANHOERUNG and escalation.anhoerung_deadline is not None:
            freeze_letter(
                case=case,
                kind=LetterKind.ANH_31,
                actor=case.responsible,
                decision=allow(Reason("escalation.anhoerung", "R-ESC-3", ("§ 24 SGB X", "001 §6.1"))),
                idempotency_key=f"demo:anhoerung:{escalation.pk}",
                letter_date=_letter_day(escalation.anhoerung_deadline, case, 17),
                content=anhoerung_content(
                    escalation,
                    aufforderung,
                    percent=escalation.minderung_percent or 10,
                    months=escalation.minderung_months or 1,
                    repeated=False,
                ),
            )
            count += 1
    return count
