"""Workflow services for Maßnahmen and AGH (RULES.md 3.4, 3.8; state machine 5.3)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from cases.models import Case, User
from kooperationsplan.escalations import breach_record
from kooperationsplan.facts import assignment_facts, case_facts, plan_facts
from kooperationsplan.models import (
    AssignmentStatus,
    AssignmentVia,
    BreachKind,
    Escalation,
    EscalationStatus,
    Kooperationsplan,
    KPStatus,
    Massnahme,
    MassnahmeZuweisung,
)
from kooperationsplan.reminders import Kind as ReminderKind
from kooperationsplan.reminders import reminders_close, reminders_close_on_event
from kooperationsplan.services import set_mode
from kooperationsplan.workflow import WorkflowRefused, freeze_letter, lock_case, record, require, today, transition
from letters.models import Letter
from rules import measures as m_rules
from rules.decision import Decision, Reason, allow, combine, refuse
from rules.letters import LetterKind, rfb_block
from rules.sanctions import minderung_level
from rules.states import ASSIGNMENT_TRANSITIONS, ESCALATION_TRANSITIONS, KP_TRANSITIONS, Mode


def _lock_assignment(assignment_id: int) -> tuple[MassnahmeZuweisung, Case]:
    assignment = MassnahmeZuweisung.objects.get(pk=assignment_id)
    case = lock_case(assignment.case_id)
    assignment = (
        MassnahmeZuweisung.objects.select_for_update(of=("self",))
        .select_related("massnahme__art", "plan", "letter")
        .get(pk=assignment_id)
    )
    return assignment, case


def _move(assignment: MassnahmeZuweisung, event: str) -> None:
    assignment.status = transition(ASSIGNMENT_TRANSITIONS, "5.3", assignment.status, event).target
    reminders_close_on_event(assignment, event)


def assignment_plan(
    *, plan_id: int, actor: User, massnahme_id: int, start_date: date, end_date: date, rueckmeldung_due: date
) -> MassnahmeZuweisung:
    """Record a measure in the KP (Soll-Inhalt 1): state PLANNED."""
    with transaction.atomic():
        plan = Kooperationsplan.objects.get(pk=plan_id)
        case = lock_case(plan.case_id)
        sources = ("001 §5.1",)
        if plan.status not in (KPStatus.DRAFT, KPStatus.ACTIVE, KPStatus.UNDER_REVIEW):
            raise WorkflowRefused(refuse(Reason("zuw.plan_not_open", "R-ZUW-1", sources, {"status": plan.status})))
        dates = require(m_rules.assignment_dates(start_date, end_date, rueckmeldung_due))
        massnahme = Massnahme.objects.get(pk=massnahme_id, active=True)
        assignment = MassnahmeZuweisung.objects.create(
            case=case,
            plan=plan,
            massnahme=massnahme,
            start_date=start_date,
            end_date=end_date,
            rueckmeldung_due=rueckmeldung_due,
        )
        record(
            case,
            actor,
            "massnahme.planned",
            f"Maßnahme im KP vereinbart: {massnahme.title}",
            dates,
            assignment=assignment.pk,
        )
        return assignment


def _measure_content(assignment: MassnahmeZuweisung) -> dict[str, object]:
    """§6.2 ZUW_SCHREIBEN_*: title, Träger and contact, content, start, end, schedule, Rückmeldung, KP reference."""
    massnahme = assignment.massnahme
    return {
        "massnahme": massnahme.title,
        "massnahme_nummer": massnahme.massnahme_nummer,
        "art": massnahme.art.name,
        "rechtsgrundlage": massnahme.art.rechtsgrundlage,
        "content": massnahme.content,
        "traeger": {
            "name": massnahme.traeger_name,
            "street": massnahme.traeger_street,
            "postal_code": massnahme.traeger_postal_code,
            "city": massnahme.traeger_city,
            "contact": massnahme.traeger_contact,
            "phone": massnahme.traeger_phone,
            "email": massnahme.traeger_email,
        },
        "location": massnahme.location,
        "schedule": massnahme.schedule,
        "start": assignment.start_date.isoformat(),
        "end": assignment.end_date.isoformat(),
        "rueckmeldung_due": assignment.rueckmeldung_due.isoformat(),
        "kp_version": assignment.plan.version_number,
        "assignment": assignment.pk,
    }


def zuweisungsschreiben_issue(*, assignment_id: int, actor: User, idempotency_key: str) -> MassnahmeZuweisung:
    """R-ZUW-1 / R-KP-9: the informational Zuweisungsschreiben without RFB, not a VA."""
    with transaction.atomic():
        assignment, case = _lock_assignment(assignment_id)
        decision, kind = m_rules.zuweisungsschreiben(case_facts(case), assignment_facts(assignment))
        require(decision)
        _move(assignment, "issue_schreiben")
        assignment.via = AssignmentVia.SCHREIBEN
        letter = freeze_letter(
            case=case,
            kind=kind,
            actor=actor,
            decision=decision,
            idempotency_key=idempotency_key,
            content=_measure_content(assignment),
        )
        assignment.letter = letter
        assignment.save()
        record(
            case,
            actor,
            "massnahme.schreiben",
            f"Zuweisungsschreiben (ohne RFB): {assignment.massnahme.title}",
            decision,
            assignment=assignment.pk,
            letter=letter.pk,
        )
        return assignment


def _issue_bescheid(
    *,
    case: Case,
    assignment: MassnahmeZuweisung,
    actor: User,
    decision: Decision,
    idempotency_key: str,
    valid_to: date,
    replaces: MassnahmeZuweisung | None,
) -> Letter:
    """ZUW_BESCHEID with RFB (§ 15 Abs. 5), Rechtsbehelfsbelehrung; an Aufhebung block if it replaces one (R-ZUW-4)."""
    facts = case_facts(case)
    level = minderung_level(facts.minderungen, today())
    rfb_decision, rfb = rfb_block(
        LetterKind.ZUW_BESCHEID,
        duty=f"Teilnahme an der Maßnahme „{assignment.massnahme.title}“ ab {assignment.start_date:%d.%m.%Y}; "
        f"Vorstellung beim Träger bis {assignment.rueckmeldung_due:%d.%m.%Y}",
        deadline=assignment.rueckmeldung_due,
        percent=level.percent,
        months=level.months,
    )
    require(rfb_decision)
    content = _measure_content(assignment)
    content["valid_to"] = valid_to.isoformat()
    content["traeger_ruecksprache_on"] = (
        assignment.traeger_ruecksprache_on.isoformat() if assignment.traeger_ruecksprache_on else None
    )
    if replaces is not None and replaces.letter is not None:
        content["aufhebung_of"] = {"date": replaces.letter.letter_date.isoformat(), "number": replaces.letter.number}
    return freeze_letter(
        case=case,
        kind=LetterKind.ZUW_BESCHEID,
        actor=actor,
        decision=combine(decision, rfb_decision, allow(level.reason)),
        idempotency_key=idempotency_key,
        rfb=rfb,
        content=content,
    )


def zuweisungsbescheid_issue(*, assignment_id: int, actor: User, idempotency_key: str) -> MassnahmeZuweisung:
    """R-ZUW-3: a Zuweisungsbescheid for a planned measure in COOP_WITH_RFB or NO_KP_15_6, never for an exempt
    type (R-ESC-4). An earlier Bescheid for the same measure is lifted and named (R-ZUW-4)."""
    with transaction.atomic():
        assignment, case = _lock_assignment(assignment_id)
        # R-ABB-4: the plan was drawn up anew because re-entry into an aborted measure was impossible.
        new_kp_after_abort = (
            assignment.plan.predecessor_id is not None
            and MassnahmeZuweisung.objects.filter(
                plan_id=assignment.plan.predecessor_id, status=AssignmentStatus.REPLACED
            ).exists()
        )
        decision = require(
            m_rules.zuweisungsbescheid(
                case_facts(case),
                assignment_facts(assignment),
                after_abort=False,
                traeger_ruecksprache_on=None,
                new_kp_after_abort=new_kp_after_abort,
            )
        )
        previous = (
            MassnahmeZuweisung.objects.select_for_update(of=("self",))
            .select_related("letter")
            .filter(
                case=case,
                massnahme=assignment.massnahme,
                via=AssignmentVia.BESCHEID,
                status__in=["BESCHEID_ISSUED", "REPORTED", "STARTED"],
            )
            .exclude(pk=assignment.pk)
            .first()
        )
        decisions = [decision]
        if previous is not None:
            decisions.append(require(m_rules.replace_bescheid(assignment_facts(previous))))
            previous.status = transition(ASSIGNMENT_TRANSITIONS, "5.3", previous.status, "aufheben").target
            previous.save(update_fields=["status"])
            assignment.aufhebung_of = previous
        _move(assignment, "issue_bescheid")
        assignment.via = AssignmentVia.BESCHEID
        assignment.valid_to = assignment.plan.valid_to or assignment.end_date
        letter = _issue_bescheid(
            case=case,
            assignment=assignment,
            actor=actor,
            decision=combine(*decisions),
            idempotency_key=idempotency_key,
            valid_to=assignment.valid_to,
            replaces=previous,
        )
        assignment.letter = letter
        assignment.save()
        if case.cooperation_mode == Mode.COOP_NO_RFB:
            set_mode(case, "rfb_letter_issued")
        record(
            case,
            actor,
            "massnahme.bescheid",
            f"Zuweisungsbescheid (mit RFB): {assignment.massnahme.title}",
            *decisions,
            assignment=assignment.pk,
            letter=letter.pk,
        )
        return assignment


def _simple_step(
    assignment_id: int, actor: User, event: str, field: str | None, day: date | None, summary: str, reason: Reason
) -> MassnahmeZuweisung:
    with transaction.atomic():
        assignment, case = _lock_assignment(assignment_id)
        _move(assignment, event)
        if field is not None:
            setattr(assignment, field, day or today())
        assignment.save()
        record(case, actor, f"massnahme.{event}", summary, allow(reason), assignment=assignment.pk)
        return assignment


def assignment_report(*, assignment_id: int, actor: User, reported_on: date | None = None) -> MassnahmeZuweisung:
    """Vorstellung/Rückmeldung confirmed by the Träger (D-05, R-MON-1)."""
    return _simple_step(
        assignment_id,
        actor,
        "report",
        "reported_on",
        reported_on,
        "Rückmeldung des Trägers erfasst",
        Reason("zuw.reported", "R-MON-1", ("001 §6.1",)),
    )


def assignment_start(*, assignment_id: int, actor: User, started_on: date | None = None) -> MassnahmeZuweisung:
    return _simple_step(
        assignment_id,
        actor,
        "start",
        "started_on",
        started_on,
        "Maßnahme begonnen",
        Reason("zuw.started", "R-MON-1", ("001 §6.1",)),
    )


def assignment_complete(*, assignment_id: int, actor: User) -> MassnahmeZuweisung:
    return _simple_step(
        assignment_id,
        actor,
        "complete",
        None,
        None,
        "Maßnahme abgeschlossen",
        Reason("zuw.completed", "R-MON-1", ("001 §6.1",)),
    )


def assignment_withdraw(*, assignment_id: int, actor: User) -> MassnahmeZuweisung:
    """R-ZUW-2: a Zuweisungsschreiben is withdrawn without an Aufhebung letter (it is not a VA)."""
    with transaction.atomic():
        assignment, case = _lock_assignment(assignment_id)
        decision = require(m_rules.withdraw_schreiben(assignment_facts(assignment)))
        _move(assignment, "withdraw")
        assignment.save()
        record(case, actor, "massnahme.withdrawn", "Zuweisungsschreiben zurückgenommen", decision)
        return assignment


def assignment_abort(*, assignment_id: int, actor: User, aborted_on: date, description: str) -> Escalation:
    """The Träger reports an abort (or cause for one). Via Schreiben: clarification with a Beraterische
    Intervention (R-ABB-1). Via Bescheid: R-ABB-7 is proposed, never applied automatically (P9)."""
    with transaction.atomic():
        assignment, case = _lock_assignment(assignment_id)
        decision = require(m_rules.abort_reported(assignment_facts(assignment)))
        _move(assignment, "abort_under_bescheid" if assignment.via == AssignmentVia.BESCHEID else "abort")
        assignment.aborted_on = aborted_on
        assignment.save()
        escalation = breach_record(
            case_id=case.pk,
            actor=actor,
            breach_kind=BreachKind.MASSNAHME_ABBRUCH,
            breach_date=aborted_on,
            description=description,
            assignment_id=assignment.pk,
        )
        record(
            case,
            actor,
            "massnahme.aborted",
            f"Abbruch gemeldet: {assignment.massnahme.title}",
            decision,
            assignment=assignment.pk,
            escalation=escalation.pk,
        )
        return escalation


def clarification_outcome(
    *,
    assignment_id: int,
    actor: User,
    talk_attended: bool,
    wichtiger_grund: bool,
    reentry_possible: bool,
    new_kp_possible: bool,
    traeger_ruecksprache_on: date | None = None,
    rueckmeldung_due: date | None = None,
    idempotency_key: str = "",
) -> MassnahmeZuweisung:
    """001 §6.2 after an abort: R-ABB-2 (adapt the KP without RFB), R-ABB-3 (Bescheid for the rest of the
    term after consulting the Träger), R-ABB-4 (new KP, agreements backed by Bescheid), R-ABB-5 (KP failed)."""
    with transaction.atomic():
        assignment, case = _lock_assignment(assignment_id)
        decision = require(
            m_rules.clarification_outcome(
                assignment_facts(assignment),
                wichtiger_grund=wichtiger_grund,
                reentry_possible=reentry_possible,
                talk_attended=talk_attended,
                new_kp_possible=new_kp_possible,
            )
        )
        outcome = decision.reasons[0].code
        escalation = (
            Escalation.objects.select_for_update()
            .filter(assignment=assignment, status__in=["INTERVENTION_INVITED", "BREACH_DETECTED"])
            .first()
        )
        _record_talk(escalation, attended=talk_attended, wichtiger_grund=wichtiger_grund)
        plan = Kooperationsplan.objects.select_for_update().get(pk=assignment.plan_id)
        decisions = [decision]
        if outcome == "abb.wichtiger_grund_adapt_kp":
            _move(assignment, "wichtiger_grund")
            _escalation_step(escalation, "wichtiger_grund")
            if plan.status == KPStatus.ACTIVE:
                plan.status = transition(KP_TRANSITIONS, "5.1", plan.status, "review").target
                plan.save(update_fields=["status"])
        elif outcome == "abb.bescheid_for_rest_of_term":
            if rueckmeldung_due is None or rueckmeldung_due <= today():
                raise WorkflowRefused(refuse(Reason("zuw.new_rueckmeldung_required", "R-ABB-3", ("001 §6.2",))))
            decisions.append(
                require(
                    combine(
                        m_rules.zuweisungsbescheid(
                            case_facts(case),
                            assignment_facts(assignment),
                            after_abort=True,
                            traeger_ruecksprache_on=traeger_ruecksprache_on,
                        ),
                        m_rules.remaining_term(plan_facts(plan), today()),
                    )
                )
            )
            _move(assignment, "reissue_by_bescheid")
            assignment.via = AssignmentVia.BESCHEID
            assignment.traeger_ruecksprache_on = traeger_ruecksprache_on
            assignment.rueckmeldung_due = rueckmeldung_due
            assignment.valid_to = plan.valid_to
            assignment.letter = _issue_bescheid(
                case=case,
                assignment=assignment,
                actor=actor,
                decision=combine(*decisions),
                idempotency_key=idempotency_key or f"zuw-bescheid-abbruch:{assignment.pk}",
                valid_to=plan.valid_to,
                replaces=None,
            )
            # The Bescheid is the demand with RFB of this breach's ladder (R-ESC-2 analogue, D-09).
            _escalation_step(escalation, "aufforderung", compliance_deadline=rueckmeldung_due)
            if case.cooperation_mode == Mode.COOP_NO_RFB:
                set_mode(case, "rfb_letter_issued")
        elif outcome == "abb.new_kp_with_bescheid":
            _move(assignment, "replace_by_new_kp")
            _escalation_step(escalation, "clarified")
            if plan.status == KPStatus.ACTIVE:
                plan.status = transition(KP_TRANSITIONS, "5.1", plan.status, "review").target
                plan.save(update_fields=["status"])
        elif outcome == "abb.kp_failed":
            _move(assignment, "kp_failed")
            plan.status = transition(KP_TRANSITIONS, "5.1", plan.status, "fail").target
            plan.ended_at = timezone.now()
            plan.save(update_fields=["status", "ended_at"])
            reminders_close(plan, [ReminderKind.D01_REVIEW, ReminderKind.D17_RUECKKEHR])  # R-ABB-5: no review
            set_mode(case, "kp_failed")
            _escalation_step(escalation, "clarified")
        assignment.save()
        record(
            case,
            actor,
            "massnahme.clarified",
            f"Klärung nach Abbruch: {assignment.get_status_display()}",
            *decisions,
            assignment=assignment.pk,
        )
        return assignment


def _record_talk(escalation: Escalation | None, *, attended: bool, wichtiger_grund: bool) -> None:
    """The clarifying talk is the Beraterische Intervention of the abort's escalation (R-ABB-1, D-08)."""
    if escalation is None:
        return
    if escalation.status == EscalationStatus.BREACH_DETECTED:
        escalation.status = transition(ESCALATION_TRANSITIONS, "5.4", escalation.status, "invite_intervention").target
    event = "intervention_attended" if attended else "intervention_missed"
    escalation.status = transition(ESCALATION_TRANSITIONS, "5.4", escalation.status, event).target
    reminders_close_on_event(escalation, event)
    escalation.wichtiger_grund = wichtiger_grund if attended else False
    escalation.save(update_fields=["status", "wichtiger_grund"])


def _escalation_step(escalation: Escalation | None, event: str, *, compliance_deadline: date | None = None) -> None:
    if escalation is None:
        return
    escalation.status = transition(ESCALATION_TRANSITIONS, "5.4", escalation.status, event).target
    reminders_close_on_event(escalation, event)
    if compliance_deadline is not None:
        escalation.compliance_deadline = compliance_deadline
    if escalation.status == EscalationStatus.RESOLVED:
        escalation.closed_at = timezone.now()
    escalation.save()
