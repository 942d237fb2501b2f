"""Workflow services for invitations and the escalation ladder (RULES.md 3.3, 3.6, 3.7, 3.11, 3.14; 5.4)."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from cases.models import Case, User
from kooperationsplan.facts import case_facts, escalation_facts
from kooperationsplan.models import (
    Appointment,
    BreachKind,
    Eigenbemuehung,
    EigenbemuehungNachweis,
    Escalation,
    Kooperationsplan,
    MassnahmeZuweisung,
    TeamLeadApproval,
)
from kooperationsplan.models import (
    AppointmentKind as AppointmentKindChoices,
)
from kooperationsplan.models import (
    AppointmentOutcome as AppointmentOutcomeChoices,
)
from kooperationsplan.reminders import Kind as ReminderKind
from kooperationsplan.reminders import reminders_close, reminders_close_for_case, reminders_close_on_event
from kooperationsplan.services import set_mode
from kooperationsplan.workflow import WorkflowRefused, freeze_letter, lock_case, record, require, today, transition
from letters.models import Letter
from rules import escalation as esc_rules
from rules.deadlines import bekanntgabe
from rules.decision import Reason, allow, combine, refuse
from rules.invitations import (
    AppointmentKind,
    RfbChoice,
    appointment_outcome,
    invitation,
    missed_appointment_consequence,
)
from rules.letters import LetterKind, rfb_block
from rules.sanctions import minderung_level
from rules.states import ESCALATION_TRANSITIONS, EscalationStatus, Mode

KIND_LABELS = dict(AppointmentKindChoices.choices)


def invitation_issue(
    *,
    case_id: int,
    actor: User,
    kind: str,
    starts_at: datetime,
    location: str,
    meldezweck: str,
    idempotency_key: str,
    choice: str = RfbChoice.DEFAULT,
    deviation_reason: str = "",
    documents_to_bring: str = "",
    escalation: Escalation | None = None,
) -> Appointment:
    """An appointment with its invitation letter (R-INV-1..6, P1). The rules pick the letter and the RFB."""
    with transaction.atomic():
        case = lock_case(case_id)
        existing = Appointment.objects.filter(letter__idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        facts = case_facts(case)
        result = invitation(
            facts,
            AppointmentKind(kind),
            on=today(),
            choice=RfbChoice(choice),
            deviation_reason=deviation_reason,
            meldezweck=meldezweck,
        )
        require(result.decision)
        rfb = None
        if result.with_rfb:
            # § 32 SGB II: a Meldeversäumnis is 10 % for one month (R-INV-5, R-SAN-1).
            _, rfb = rfb_block(
                result.letter_kind,
                duty=f"Termin am {timezone.localtime(starts_at):%d.%m.%Y um %H:%M Uhr}, {location}: {meldezweck}",
                deadline=timezone.localtime(starts_at).date(),
                percent=10,
                months=1,
            )
        appointment = Appointment.objects.create(
            case=case,
            kind=kind,
            starts_at=starts_at,
            location=location,
            meldezweck=meldezweck.strip(),
            documents_to_bring=documents_to_bring,
            with_rfb=result.with_rfb,
            rfb_deviation_reason=deviation_reason.strip(),
            escalation=escalation,
            created_by=actor,
        )
        letter = freeze_letter(
            case=case,
            kind=result.letter_kind,
            actor=actor,
            decision=result.decision,
            idempotency_key=idempotency_key,
            rfb=rfb,
            content={
                "appointment_kind": KIND_LABELS[kind],
                "starts_at": timezone.localtime(starts_at).isoformat(),
                "location": location,
                "meldezweck": meldezweck.strip(),
                "documents_to_bring": documents_to_bring,
                "fahrtkosten_note": True,
            },
        )
        appointment.letter = letter
        appointment.save(update_fields=["letter"])
        if kind not in (AppointmentKind.AERZTLICH, AppointmentKind.PSYCHOLOGISCH):
            # L-13 / D-14: the invitation to a talk is the Beratungsangebot after a Minderung (under 25).
            reminders_close_for_case(case, [ReminderKind.D14_U25])
        record(
            case,
            actor,
            "appointment.invited",
            f"Einladung: {KIND_LABELS[kind]} am {timezone.localtime(starts_at):%d.%m.%Y %H:%M}"
            f" ({'mit' if result.with_rfb else 'ohne'} RFB)",
            result.decision,
            appointment=appointment.pk,
            letter=letter.pk,
        )
        return appointment


def _lock_escalation(escalation_id: int) -> tuple[Escalation, Case]:
    escalation = Escalation.objects.get(pk=escalation_id)
    case = lock_case(escalation.case_id)
    escalation = (
        Escalation.objects.select_for_update(of=("self",)).select_related("massnahme_art").get(pk=escalation_id)
    )
    return escalation, case


def _move(escalation: Escalation, event: str) -> None:
    row = transition(ESCALATION_TRANSITIONS, "5.4", escalation.status, event)
    escalation.status = row.target
    reminders_close_on_event(escalation, event)


def breach_record(
    *,
    case_id: int,
    actor: User,
    breach_kind: str,
    breach_date: date,
    description: str,
    assignment_id: int | None = None,
    eigenbemuehung_id: int | None = None,
) -> Escalation:
    """A breach of a KP agreement starts the ladder (R-MON-1, R-EB-4). The measure type decides R-ESC-4."""
    with transaction.atomic():
        case = lock_case(case_id)
        facts = case_facts(case)
        decision = require(esc_rules.breach_may_be_recorded(facts))
        sources = ("001 §6.1",)
        if not description.strip():
            raise WorkflowRefused(refuse(Reason("breach.description_required", "R-MON-1", sources)))
        if breach_date > today():
            raise WorkflowRefused(refuse(Reason("breach.in_future", "R-MON-1", sources)))
        plan = Kooperationsplan.objects.filter(case=case, status__in=["ACTIVE", "UNDER_REVIEW", "DISPUTED"]).first()
        assignment = (
            MassnahmeZuweisung.objects.select_related("massnahme__art").get(pk=assignment_id, case=case)
            if assignment_id
            else None
        )
        eb = Eigenbemuehung.objects.get(pk=eigenbemuehung_id, plan__case=case) if eigenbemuehung_id else None
        transition(ESCALATION_TRANSITIONS, "5.4", "NEW", "breach")
        escalation = Escalation.objects.create(
            case=case,
            plan=plan,
            status=EscalationStatus.BREACH_DETECTED,
            breach_kind=breach_kind,
            breach_date=breach_date,
            description=description.strip(),
            assignment=assignment,
            massnahme_art=assignment.massnahme.art if assignment else None,
            eigenbemuehung=eb,
            created_by=actor,
        )
        if eb is not None:
            # R-EB-4: the breach proposed by D-07 is recorded; the evidence reminders have been acted on.
            for nachweis in eb.nachweise.filter(received_on__isnull=True):
                reminders_close(nachweis, [ReminderKind.D07_NACHWEIS])
        record(
            case,
            actor,
            "escalation.breach_recorded",
            f"Pflichtverstoß festgestellt: {escalation.get_breach_kind_display()}",
            decision,
            escalation=escalation.pk,
        )
        return escalation


def intervention_invite(
    *, escalation_id: int, actor: User, starts_at: datetime, location: str, idempotency_key: str
) -> Appointment:
    """Step 1 (R-ESC-1): invitation to the Beraterische Intervention, without RFB (R-INV-3); minors with
    their gesetzliche Vertretung (R-MIN-1)."""
    with transaction.atomic():
        escalation, _ = _lock_escalation(escalation_id)
        require(esc_rules.intervention_may_be_invited(escalation_facts(escalation)))
        _move(escalation, "invite_intervention")
        appointment = invitation_issue(
            case_id=escalation.case_id,
            actor=actor,
            kind=AppointmentKind.BERATERISCHE_INTERVENTION,
            starts_at=starts_at,
            location=location,
            meldezweck="Klärendes Gespräch (beraterische Intervention) zu den Absprachen aus Ihrem Kooperationsplan",
            idempotency_key=idempotency_key,
            escalation=escalation,
        )
        escalation.save(update_fields=["status"])
        return appointment


def intervention_outcome(*, escalation_id: int, actor: User, attended: bool, wichtiger_grund: bool) -> Escalation:
    """The outcome of the intervention (D-08): wichtiger Grund → resolved; otherwise the next step is open."""
    with transaction.atomic():
        escalation, case = _lock_escalation(escalation_id)
        _move(escalation, "intervention_attended" if attended else "intervention_missed")
        sources = ("001 §6.1",)
        escalation.wichtiger_grund = wichtiger_grund if attended else False
        appointment = escalation.appointments.filter(kind="BI").order_by("-starts_at").first()
        if appointment is not None:
            appointment.outcome = "ATTENDED" if attended else "NOT_ATTENDED"
            appointment.outcome_recorded_at = timezone.now()
            appointment.wichtiger_grund = escalation.wichtiger_grund
            appointment.save(update_fields=["outcome", "outcome_recorded_at", "wichtiger_grund"])
        if attended and wichtiger_grund:
            _move(escalation, "wichtiger_grund")
            escalation.closed_at = timezone.now()
            reason = Reason("escalation.wichtiger_grund", "R-ABB-2", ("001 §6.1", "001 §6.2"))
            summary = "Beraterische Intervention: wichtiger Grund anerkannt"
        elif attended:
            reason = Reason("escalation.no_wichtiger_grund", "R-ESC-2", sources)
            summary = "Beraterische Intervention: kein wichtiger Grund"
        else:
            reason = Reason("escalation.intervention_not_attended", "R-ESC-2", sources)
            summary = "Beraterische Intervention nicht wahrgenommen"
        escalation.save()
        record(case, actor, "escalation.intervention_outcome", summary, allow(reason), escalation=escalation.pk)
        return escalation


def aufforderung_15_5_issue(
    *, escalation_id: int, actor: User, duty: str, deadline: date, idempotency_key: str
) -> Escalation:
    """Step 2 (R-ESC-2, not R-ESC-4): Aufforderung § 15 Abs. 5 with a concrete RFB (R-LET-1, R-SAN-1);
    minors: to the gesetzliche Vertretung (R-MIN-2). The KP stays in force; the case mode becomes
    COOP_WITH_RFB (RULES.md 5.2)."""
    with transaction.atomic():
        escalation, case = _lock_escalation(escalation_id)
        facts = case_facts(case)
        esc = escalation_facts(escalation)
        decision = require(esc_rules.aufforderung_15_5(facts, esc))
        _check_deadline(deadline)
        level = esc_rules.concrete_minderung(facts, esc)
        rfb_decision, rfb = rfb_block(
            LetterKind.AUFF_15_5, duty=duty, deadline=deadline, percent=level.percent, months=level.months
        )
        require(rfb_decision)
        _move(escalation, "aufforderung")
        escalation.compliance_deadline = deadline
        escalation.save()
        if case.cooperation_mode == Mode.COOP_NO_RFB:
            set_mode(case, "rfb_letter_issued")
        full = combine(decision, rfb_decision, allow(level.reason))
        letter = freeze_letter(
            case=case,
            kind=LetterKind.AUFF_15_5,
            actor=actor,
            decision=full,
            idempotency_key=idempotency_key,
            rfb=rfb,
            content={
                "duty": duty.strip(),
                "deadline": deadline.isoformat(),
                "kp_version": escalation.plan.version_number if escalation.plan else None,
                "breach": escalation.description,
                "breach_date": escalation.breach_date.isoformat(),
                "escalation": escalation.pk,
            },
        )
        record(
            case,
            actor,
            "escalation.aufforderung_15_5",
            f"Aufforderung nach § 15 Abs. 5 SGB II mit RFB ({level.percent} %, {level.months} Monat(e))",
            full,
            escalation=escalation.pk,
            letter=letter.pk,
        )
        return escalation


def _check_deadline(deadline: date) -> None:
    """D-09: the deadline lies after the Bekanntgabe (PRACTICE: "≥ Bekanntgabe + reasonable time")."""
    if deadline <= bekanntgabe(today()):
        raise WorkflowRefused(
            refuse(
                Reason(
                    "escalation.deadline_too_short",
                    "R-ESC-3",
                    ("§ 37 Abs. 2 SGB X", "001 §6.1"),
                    {"earliest": bekanntgabe(today()).isoformat()},
                )
            )
        )


def aufforderung_skip_psych(*, escalation_id: int, actor: User, vermerk: str) -> Escalation:
    """R-ESC-5: no Aufforderung for psychische Erkrankung/komplexe Handlungsbedarfe, with a Vermerk
    (no diagnoses). The team lead sees the decision in the queue."""
    with transaction.atomic():
        escalation, case = _lock_escalation(escalation_id)
        decision = require(esc_rules.psych_skip(escalation_facts(escalation), vermerk=vermerk))
        _move(escalation, "monitor")
        escalation.monitoring_reason = Escalation.MonitoringReason.PSYCH
        escalation.psych_vermerk = vermerk.strip()
        escalation.save()
        TeamLeadApproval.objects.create(
            case=case,
            kind=TeamLeadApproval.Kind.PSYCH_SKIP,
            subject_type="kooperationsplan.Escalation",
            subject_id=escalation.pk,
            requested_by=actor,
            request_note=vermerk.strip(),
        )
        record(
            case,
            actor,
            "escalation.psych_skip",
            "Von der Aufforderung nach § 15 Abs. 5 SGB II abgesehen (dokumentiert)",
            decision,
            escalation=escalation.pk,
        )
        return escalation


def escalation_monitor_exempt(*, escalation_id: int, actor: User) -> Escalation:
    """R-ESC-4: for an exempt measure type only intervention and KP adaptation; the ladder ends here."""
    with transaction.atomic():
        escalation, case = _lock_escalation(escalation_id)
        decision = require(esc_rules.exempt_type_monitoring(escalation_facts(escalation)))
        _move(escalation, "monitor")
        escalation.monitoring_reason = Escalation.MonitoringReason.EXEMPT_TYPE
        escalation.save()
        record(
            case,
            actor,
            "escalation.exempt_monitoring",
            "Keine Aufforderung: ausgenommene Maßnahmeart",
            decision,
            escalation=escalation.pk,
        )
        return escalation


def aufforderung_complied(*, escalation_id: int, actor: User) -> Escalation:
    """The duty was met by the deadline (D-09): the escalation is resolved."""
    with transaction.atomic():
        escalation, case = _lock_escalation(escalation_id)
        _move(escalation, "complied")
        escalation.closed_at = timezone.now()
        escalation.save()
        record(
            case,
            actor,
            "escalation.complied",
            "Mitwirkungspflicht erfüllt",
            allow(Reason("escalation.complied", "R-ESC-3", ("001 §6.1", "001 §6.3"))),
            escalation=escalation.pk,
        )
        return escalation


def anhoerung_issue(*, escalation_id: int, actor: User, idempotency_key: str) -> Escalation:
    """Step 3 (R-ESC-3, R-ESC-6, R-NOKP-2): Anhörung § 24 SGB X naming the breach, the Aufforderung and the
    intended Minderung (%, months, start); Äußerungsfrist per P7; an in-person Anhörung is offered (L-10)."""
    with transaction.atomic():
        escalation, case = _lock_escalation(escalation_id)
        facts = case_facts(case)
        esc = escalation_facts(escalation)
        if esc.status is EscalationStatus.BREACH_DETECTED:
            # R-ABB-7 (P9): the IFK takes up the proposal after an abort under a Zuweisungsbescheid.
            bescheid = escalation.assignment.letter if escalation.assignment_id else None
            if bescheid is None or bescheid.kind != LetterKind.ZUW_BESCHEID:
                raise WorkflowRefused(
                    refuse(Reason("anhoerung.aufforderung_missing", "R-ESC-6", ("§ 24 SGB X", "001 §6.1")))
                )
            decision = require(
                combine(
                    esc_rules.direct_anhoerung_after_bescheid_abort(esc),
                    esc_rules.schlichtung_blocks_minderung(
                        facts, esc.breach_date, meldeversaeumnis=esc.minderung_basis_p32
                    ),
                    esc_rules.feststellung_still_possible(esc.breach_date, today()),
                )
            )
            reference, event = bescheid, "direct_anhoerung"
        else:
            decision = require(esc_rules.anhoerung(facts, esc, on=today()))
            reference = case.letters.filter(
                kind__in=["AUFF_15_5", "AUFF_15_6"], context__content__escalation=escalation.pk
            ).first()
            if reference is None and escalation.assignment_id and escalation.assignment.letter_id:
                # After an abort, the Zuweisungsbescheid was this breach's demand with RFB (R-ABB-3).
                bescheid = escalation.assignment.letter
                reference = bescheid if bescheid.kind == LetterKind.ZUW_BESCHEID else None
            if reference is None:
                raise WorkflowRefused(refuse(Reason("anhoerung.aufforderung_missing", "R-ESC-6", ("§ 24 SGB X",))))
            event = "anhoerung"
        level = esc_rules.concrete_minderung(facts, esc)
        _move(escalation, event)
        days = case.team.jobcenter.anhoerung_days
        escalation.anhoerung_deadline = esc_rules.anhoerung_deadline(bekanntgabe(today()), days=days)
        escalation.save()
        full = combine(decision, allow(level.reason))
        letter = freeze_letter(
            case=case,
            kind=LetterKind.ANH_31,
            actor=actor,
            decision=full,
            idempotency_key=idempotency_key,
            content=anhoerung_content(
                escalation,
                reference,
                percent=level.percent,
                months=level.months,
                repeated=level.reason.code == "minderung.repeated",
            ),
        )
        record(
            case,
            actor,
            "escalation.anhoerung",
            f"Anhörung nach § 24 SGB X (beabsichtigt: {level.percent} % für {level.months} Monat(e))",
            full,
            escalation=escalation.pk,
            letter=letter.pk,
        )
        return escalation


def anhoerung_content(
    escalation: Escalation,
    reference: Letter,
    *,
    percent: int,
    months: int,
    repeated: bool,
    lifted_on_compliance: bool = True,
) -> dict[str, object]:
    """RULES.md 6.2 ANH_31 / ANH_32 (R-ESC-6): the letter it refers to, the breach, the intended Minderung
    (%, months, start per L-15), the Äußerungsfrist (D-10) and the offer of an in-person Anhörung (L-10)."""
    return {
        "reference_kind": reference.kind,
        "reference_number": reference.number,
        "reference_date": reference.letter_date.isoformat(),
        "breach": escalation.description,
        "breach_date": escalation.breach_date.isoformat(),
        "percent": percent,
        "months": months,
        "start_rule": "ab dem Monat nach Bekanntgabe des Feststellungsbescheids",
        "answer_until": escalation.anhoerung_deadline.isoformat(),
        "in_person_offer": True,
        "lifted_on_compliance": lifted_on_compliance,
        "repeated": repeated,
    }


def anhoerung_close(*, escalation_id: int, actor: User) -> Escalation:
    """ANHOERUNG → DECISION_PENDING once the Äußerungsfrist is over or the answer arrived (D-10)."""
    with transaction.atomic():
        escalation, case = _lock_escalation(escalation_id)
        decision = require(esc_rules.decision_may_be_prepared(escalation_facts(escalation), on=today()))
        _move(escalation, "anhoerung_closed")
        escalation.save()
        record(case, actor, "escalation.decision_pending", "Anhörung abgeschlossen", decision, escalation=escalation.pk)
        return escalation


def minderung_outcome(
    *, escalation_id: int, actor: User, festgestellt: bool, no_minderung_reason: str = "", start: date | None = None
) -> Escalation:
    """P8: the Leistungsabteilung decides; this records the outcome. A Minderung is refused by the rules
    during a Schlichtung (R-SCH-3) and after 6 months (L-15); its level follows R-SAN-1."""
    with transaction.atomic():
        escalation, case = _lock_escalation(escalation_id)
        facts = case_facts(case)
        esc = escalation_facts(escalation)
        if festgestellt:
            decision = require(
                combine(
                    esc_rules.schlichtung_blocks_minderung(
                        facts, esc.breach_date, meldeversaeumnis=esc.minderung_basis_p32
                    ),
                    esc_rules.feststellung_still_possible(esc.breach_date, today()),
                )
            )
            level = esc_rules.concrete_minderung(facts, esc)
            _move(escalation, "minderung")
            escalation.minderung_percent = level.percent
            escalation.minderung_months = level.months
            escalation.minderung_start = start or esc_rules.minderung_start(today())
            full = combine(decision, allow(level.reason))
            summary = f"Leistungsminderung festgestellt: {level.percent} % für {level.months} Monat(e)"
        else:
            if not no_minderung_reason.strip():
                raise WorkflowRefused(
                    refuse(Reason("minderung.reason_required", "R-ESC-3", ("§ 31 Abs. 1 SGB II", "P8")))
                )
            _move(escalation, "no_minderung")
            escalation.no_minderung_reason = no_minderung_reason.strip()
            full = allow(Reason("minderung.none", "R-ESC-3", ("§ 31 Abs. 1 SGB II", "§ 31a Abs. 3 SGB II", "P8")))
            summary = f"Keine Leistungsminderung: {no_minderung_reason.strip()}"
        escalation.closed_at = timezone.now()
        escalation.save()
        record(case, actor, "escalation.minderung_outcome", summary, full, escalation=escalation.pk)
        return escalation


def aufforderung_15_6_issue(
    *, case_id: int, actor: User, duty: str, deadline: date, breach_description: str, idempotency_key: str
) -> Escalation:
    """R-NOKP-1: without a KP, Mitwirkung is demanded by Aufforderung § 15 Abs. 6 with RFB."""
    with transaction.atomic():
        case = lock_case(case_id)
        facts = case_facts(case)
        decision = require(esc_rules.aufforderung_15_6(facts))
        _check_deadline(deadline)
        transition(ESCALATION_TRANSITIONS, "5.4", "NEW", "aufforderung_15_6")
        level = minderung_level(facts.minderungen, today())
        rfb_decision, rfb = rfb_block(
            LetterKind.AUFF_15_6, duty=duty, deadline=deadline, percent=level.percent, months=level.months
        )
        require(rfb_decision)
        escalation = Escalation.objects.create(
            case=case,
            status=EscalationStatus.AUFFORDERUNG_ISSUED,
            breach_kind=BreachKind.SONSTIGE,
            breach_date=today(),
            description=breach_description.strip() or "Kein Kooperationsplan zustande gekommen (§ 15 Abs. 6 SGB II)",
            compliance_deadline=deadline,
            created_by=actor,
        )
        full = combine(decision, rfb_decision, allow(level.reason))
        letter = freeze_letter(
            case=case,
            kind=LetterKind.AUFF_15_6,
            actor=actor,
            decision=full,
            idempotency_key=idempotency_key,
            rfb=rfb,
            content={
                "duty": duty.strip(),
                "deadline": deadline.isoformat(),
                "reference": "kein Kooperationsplan",
                "escalation": escalation.pk,
            },
        )
        record(
            case,
            actor,
            "escalation.aufforderung_15_6",
            "Aufforderung nach § 15 Abs. 6 SGB II mit RFB",
            full,
            escalation=escalation.pk,
            letter=letter.pk,
        )
        return escalation


# --- Appointments, Nachweise and the Minderung after the ladder ---------------------------------------------


def appointment_outcome_record(
    *, appointment_id: int, actor: User, outcome: str, wichtiger_grund: bool = False, dispatch_proven: bool = False
) -> Appointment:
    """The outcome of an appointment other than the Beraterische Intervention (that one is the intervention's
    outcome, D-08). A missed appointment after an invitation with a correct RFB opens a § 32 record for the
    Anhörung (R-INV-7); without an RFB, without proof of Zugang or with a wichtiger Grund there is no Minderung
    path and a new invitation is the next step."""
    with transaction.atomic():
        appointment = Appointment.objects.get(pk=appointment_id)
        case = lock_case(appointment.case_id)
        appointment = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment_id)
        decision = appointment_outcome(
            is_intervention=appointment.kind == AppointmentKindChoices.BERATERISCHE_INTERVENTION,
            recorded=appointment.outcome != AppointmentOutcomeChoices.PENDING,
            outcome=outcome,
            appointment_day=timezone.localtime(appointment.starts_at).date(),
            on=today(),
        )
        require(decision)
        missed = outcome == AppointmentOutcomeChoices.NOT_ATTENDED
        appointment.outcome = outcome
        appointment.outcome_recorded_at = timezone.now()
        appointment.wichtiger_grund = wichtiger_grund if missed else None
        decisions = [decision]
        summary = f"Termin am {timezone.localtime(appointment.starts_at):%d.%m.%Y}: {appointment.get_outcome_display()}"
        if missed:
            consequence = missed_appointment_consequence(
                with_rfb=appointment.with_rfb, dispatch_proven=dispatch_proven, wichtiger_grund=wichtiger_grund
            )
            decisions.append(consequence)
            if consequence.allowed:
                transition(ESCALATION_TRANSITIONS, "5.4", "NEW", "breach")
                appointment.escalation = Escalation.objects.create(
                    case=case,
                    plan=Kooperationsplan.objects.filter(case=case, status__in=["ACTIVE", "UNDER_REVIEW"]).first(),
                    status=EscalationStatus.BREACH_DETECTED,
                    legal_basis=Escalation.LegalBasis.P32,
                    breach_kind=BreachKind.MELDEVERSAEUMNIS,
                    breach_date=timezone.localtime(appointment.starts_at).date(),
                    description=f"Termin am {timezone.localtime(appointment.starts_at):%d.%m.%Y um %H:%M Uhr} "
                    f"({appointment.get_kind_display()}) ohne wichtigen Grund nicht wahrgenommen",
                    created_by=actor,
                )
                summary += " – Meldeversäumnis, Anhörung nach § 24 SGB X möglich"
        appointment.save()
        record(
            case,
            actor,
            "appointment.outcome",
            summary,
            *decisions,
            appointment=appointment.pk,
            escalation=appointment.escalation_id,
        )
        return appointment


def anhoerung_32_issue(*, escalation_id: int, actor: User, idempotency_key: str) -> Escalation:
    """R-INV-7 / R-ESC-6: the Anhörung about a § 32 Minderung after a Meldeversäumnis (ANH_32): the invitation
    and the missed appointment, the intended 10 % for one month, Äußerungsfrist (P7), in-person offer (L-10)."""
    with transaction.atomic():
        escalation, case = _lock_escalation(escalation_id)
        facts = case_facts(case)
        esc = escalation_facts(escalation)
        decision = require(esc_rules.anhoerung_32(facts, esc, on=today()))
        appointment = (
            escalation.appointments.exclude(kind=AppointmentKindChoices.BERATERISCHE_INTERVENTION)
            .select_related("letter")
            .first()
        )
        if appointment is None or appointment.letter is None:
            raise WorkflowRefused(refuse(Reason("anhoerung.aufforderung_missing", "R-ESC-6", ("§ 24 SGB X",))))
        level = esc_rules.concrete_minderung(facts, esc)
        _move(escalation, "anhoerung_32")
        escalation.anhoerung_deadline = esc_rules.anhoerung_deadline(
            bekanntgabe(today()), days=case.team.jobcenter.anhoerung_days
        )
        escalation.save()
        full = combine(decision, allow(level.reason))
        invitation_letter = appointment.letter
        letter = freeze_letter(
            case=case,
            kind=LetterKind.ANH_32,
            actor=actor,
            decision=full,
            idempotency_key=idempotency_key,
            content={
                **anhoerung_content(
                    escalation,
                    invitation_letter,
                    percent=level.percent,
                    months=level.months,
                    repeated=False,
                    lifted_on_compliance=False,
                ),
                "appointment_starts_at": timezone.localtime(appointment.starts_at).isoformat(),
                "escalation": escalation.pk,
            },
        )
        record(
            case,
            actor,
            "escalation.anhoerung_32",
            f"Anhörung nach § 24 SGB X wegen Meldeversäumnis (beabsichtigt: {level.percent} % für "
            f"{level.months} Monat)",
            full,
            escalation=escalation.pk,
            letter=letter.pk,
        )
        return escalation


def nachweis_record(*, nachweis_id: int, actor: User, received_on: date, count_reported: int) -> EigenbemuehungNachweis:
    """D-07 / R-EB-4: the evidence of one period of an Eigenbemühung arrived. Fewer than agreed is incomplete
    (the IFK may then record the breach); complete evidence that arrives while the breach record still waits
    for the intervention closes that record (R-EB-4 edge, PRACTICE)."""
    with transaction.atomic():
        nachweis = EigenbemuehungNachweis.objects.select_related("eigenbemuehung__plan").get(pk=nachweis_id)
        case = lock_case(nachweis.eigenbemuehung.plan.case_id)
        nachweis = (
            EigenbemuehungNachweis.objects.select_for_update(of=("self",))
            .select_related("eigenbemuehung")
            .get(pk=nachweis_id)
        )
        sources = ("001 §5.2", "001 §6.1")
        if nachweis.received_on is not None:
            raise WorkflowRefused(refuse(Reason("eb.received", "R-EB-4", sources)))
        if received_on > today():
            raise WorkflowRefused(refuse(Reason("eb.received_in_future", "R-EB-4", sources)))
        if count_reported < 0 or count_reported > 999:
            raise WorkflowRefused(refuse(Reason("eb.count_invalid", "R-EB-4", sources)))
        eb = nachweis.eigenbemuehung
        completeness = esc_rules.eb_evidence_complete(min_count=eb.min_count, count_reported=count_reported)
        nachweis.received_on = received_on
        nachweis.count_reported = count_reported
        nachweis.save(update_fields=["received_on", "count_reported"])
        decisions = [allow(Reason("eb.evidence_recorded", "R-EB-1", sources)), completeness]
        summary = (
            f"Nachweis Eigenbemühungen {nachweis.period_start:%d.%m.%Y}–{nachweis.period_end:%d.%m.%Y}: "
            f"{count_reported} von mindestens {eb.min_count}"
        )
        if completeness.allowed:
            waiting = Escalation.objects.select_for_update(of=("self",)).filter(
                case=case, eigenbemuehung=eb, status=EscalationStatus.BREACH_DETECTED
            )
            for escalation in waiting:
                _move(escalation, "evidence_received")
                escalation.closed_at = timezone.now()
                escalation.save(update_fields=["status", "closed_at"])
                summary += "; der Pflichtverstoß ist damit erledigt"
        record(case, actor, "eigenbemuehung.nachweis", summary, *decisions, nachweis=nachweis.pk)
        return nachweis


def minderung_lift(*, escalation_id: int, actor: User, complied: bool) -> Escalation:
    """R-SAN-2 / D-15: the Minderung ends (period over) or is lifted once the eLb complies or seriously declares
    readiness; the Leistungsabteilung is told the same day (P8: it decides and lifts, this records it)."""
    with transaction.atomic():
        escalation, case = _lock_escalation(escalation_id)
        if escalation.status != EscalationStatus.MINDERUNG_FESTGESTELLT or escalation.minderung_start is None:
            raise WorkflowRefused(
                refuse(
                    Reason(
                        "minderung.not_festgestellt", "R-SAN-2", ("§ 31a Abs. 1 SGB II",), {"status": escalation.status}
                    )
                )
            )
        if complied:
            decision = esc_rules.lift_minderung(started=escalation.minderung_start, on=today())
            _move(escalation, "pflicht_erfuellt")
            summary = "Pflicht erfüllt: Aufhebung der Minderung an die Leistungsabteilung gemeldet"
        else:
            decision = allow(Reason("minderung.period_over", "R-SAN-2", ("§ 31b Abs. 2 SGB II",)))
            _move(escalation, "minderung_period_over")
            summary = "Minderungszeitraum beendet"
        escalation.save(update_fields=["status"])
        record(case, actor, "escalation.minderung_lifted", summary, decision, escalation=escalation.pk)
        return escalation
