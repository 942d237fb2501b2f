"""Load the facts the rule engine decides on (rules.facts) from the database: a few queries per case."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from cases.models import Case, Potenzialanalyse
from kooperationsplan.models import (
    CURRENT_KP_STATUSES,
    Appointment,
    AppointmentKind,
    AssignmentVia,
    ContentItem,
    Escalation,
    EscalationStatus,
    Exemption,
    Kooperationsplan,
    KPStatus,
    MassnahmeZuweisung,
    Schlichtung,
)
from letters.models import Letter, LetterKind
from rules import facts as rf
from rules import states
from rules.sanctions import MinderungBasis, PastMinderung

OPEN_BESCHEID_STATUSES = ("BESCHEID_ISSUED", "REPORTED", "STARTED")


def plan_facts(plan: Kooperationsplan) -> rf.PlanFacts:
    items = list(plan.content_items.all())
    filled = frozenset(rf.ContentKind(item.kind) for item in items if item.text.strip() and not item.nicht_relevant)
    not_relevant = frozenset(rf.ContentKind(item.kind) for item in items if item.nicht_relevant)
    return rf.PlanFacts(
        status=states.KPStatus(plan.status),
        version_number=plan.version_number,
        valid_from=plan.valid_from,
        valid_to=plan.valid_to,
        review_due=plan.review_due,
        filled=filled,
        not_relevant=not_relevant,
        gemeinsam_erarbeitet=plan.gemeinsam_erarbeitet,
        infoblatt_on=plan.infoblatt_vb_ausgehaendigt_on,
        beratungsvermerk=plan.beratungsvermerk_ref,
        eigenbemuehungen=tuple(
            rf.EigenbemuehungFacts(eb.min_count, eb.min_count_zero_reason, eb.nachweis_form, eb.nachweis_due_day)
            for eb in plan.eigenbemuehungen.all()
        ),
        steps=plan.steps.count(),
        naechstes_ziel=bool(plan.naechstes_ziel.strip()),
    )


def assignment_facts(assignment: MassnahmeZuweisung) -> rf.AssignmentFacts:
    massnahme = assignment.massnahme
    return rf.AssignmentFacts(
        status=states.AssignmentStatus(assignment.status),
        exempt_type=massnahme.art.exempt_from_rfb,
        is_agh=massnahme.art.is_agh,
        via_bescheid=assignment.via == AssignmentVia.BESCHEID,
        traeger_complete=all(
            (massnahme.traeger_name, massnahme.traeger_street, massnahme.traeger_city, massnahme.traeger_phone)
        ),
        start_date=assignment.start_date,
        end_date=assignment.end_date,
        rueckmeldung_due=assignment.rueckmeldung_due,
    )


def escalation_facts(escalation: Escalation) -> rf.EscalationFacts:
    exempt = escalation.massnahme_art is not None and escalation.massnahme_art.exempt_from_rfb
    return rf.EscalationFacts(
        status=states.EscalationStatus(escalation.status),
        breach_date=escalation.breach_date,
        exempt_type=exempt,
        wichtiger_grund=escalation.wichtiger_grund,
        compliance_deadline=escalation.compliance_deadline,
        anhoerung_deadline=escalation.anhoerung_deadline,
        minderung_basis_p32=escalation.legal_basis == Escalation.LegalBasis.P32,
    )


def exemption_facts(exemption: Exemption) -> rf.ExemptionFacts:
    ez = exemption.einstellungszusage
    p10 = exemption.paragraph10_reason
    return rf.ExemptionFacts(
        reason=rf.ExemptionReason(exemption.reason),
        recorded_on=exemption.recorded_on,
        recheck_due=exemption.recheck_due,
        kennung_kp=exemption.kennung_kp,
        kennung_reason=exemption.kennung_reason,
        job_start=ez.start_date if ez else None,
        firm_offer=ez.firm if ez else False,
        further_support_needed=ez.further_support_needed if ez else False,
        job_started=bool(ez and ez.start_confirmed_on),
        paragraph10_ended=bool(p10 and p10.ended_on),
        zukunftsziel=bool(p10 and p10.zukunftsziel),
        vollzeit=exemption.vollzeit_sv_beschaeftigt,
        selbststaendig=exemption.selbststaendig,
        ausgeschoepft=exemption.moeglichkeiten_ausgeschoepft,
        keine_verringerung_6_monate=exemption.keine_verringerung_6_monate,
    )


def schlichtung_facts(schlichtung: Schlichtung) -> rf.SchlichtungFacts:
    return rf.SchlichtungFacts(
        started_on=schlichtung.started_on,
        ends_on=schlichtung.ends_on,
        running=schlichtung.outcome == Schlichtung.Outcome.RUNNING,
        after_failed_kp=schlichtung.tl_approval_id is not None,
        tl_approved=schlichtung.tl_approval_id is not None,
    )


def case_facts(case: Case) -> rf.CaseFacts:
    """Everything the rules need about one case."""
    plans = list(
        Kooperationsplan.objects.filter(case=case, status__in=[*CURRENT_KP_STATUSES, KPStatus.DRAFT]).prefetch_related(
            "content_items", "eigenbemuehungen", "steps"
        )
    )
    current = next((plan for plan in plans if plan.status in CURRENT_KP_STATUSES), None)
    draft = next((plan for plan in plans if plan.status == KPStatus.DRAFT), None)
    schlichtung = Schlichtung.objects.filter(case=case).order_by("-started_on", "-pk").first()
    exemption = (
        Exemption.objects.filter(case=case, status=Exemption.Status.ACTIVE)
        .select_related("einstellungszusage", "paragraph10_reason")
        .first()
    )
    minderungen = tuple(
        PastMinderung(
            MinderungBasis.MELDEVERSAEUMNIS if row.legal_basis == "P32" else MinderungBasis.PFLICHTVERLETZUNG,
            row.minderung_percent or 0,
            row.minderung_start,
            row.minderung_months or 1,
        )
        for row in Escalation.objects.filter(
            case=case,
            status__in=[
                EscalationStatus.MINDERUNG_FESTGESTELLT,
                EscalationStatus.ENDED,
                EscalationStatus.AUFGEHOBEN,
            ],
        )
        if row.minderung_start is not None
    )
    jobcenter = case.team.jobcenter
    last_rfb_step = (
        Escalation.objects.filter(case=case, status=EscalationStatus.RESOLVED).order_by("-closed_at").first()
    )
    return rf.CaseFacts(
        mode=states.Mode(case.cooperation_mode),
        birth_date=case.elb.birth_date,
        pa_complete=Potenzialanalyse.objects.filter(case=case, status=Potenzialanalyse.Status.COMPLETE).exists(),
        vertretungen=case.elb.vertretungen.filter(valid_to__isnull=True).count(),
        # R-INV-1: the first invitation is counted per Leistungsfall; an appointment for the first talk (also
        # one arranged without a letter, e.g. in person) means the next invitation is no longer the first.
        first_invitation_sent=Case.objects.filter(
            Exists(Letter.objects.filter(case=OuterRef("pk"), kind=LetterKind.EINL_KP_ERST))
            | Exists(Appointment.objects.filter(case=OuterRef("pk"), kind=AppointmentKind.ERSTGESPRAECH)),
            pk=case.pk,
        ).exists(),
        followup_invitation_rfb=jobcenter.followup_invitation_rfb,
        current_plan=plan_facts(current) if current else None,
        draft=plan_facts(draft) if draft else None,
        schlichtung=schlichtung_facts(schlichtung) if schlichtung else None,
        exemption=exemption_facts(exemption) if exemption else None,
        open_bescheide=MassnahmeZuweisung.objects.filter(
            case=case, via=AssignmentVia.BESCHEID, status__in=OPEN_BESCHEID_STATUSES
        ).count(),
        minderungen=minderungen,
        reliable_since=last_rfb_step.closed_at.date() if last_rfb_step and last_rfb_step.closed_at else None,
        bundesland=jobcenter.bundesland,
    )


def content_item_texts(plan: Kooperationsplan) -> dict[str, ContentItem]:
    return {item.kind: item for item in plan.content_items.all()}
