"""Load the facts the rule engine decides on (rules.facts) from the database: a few queries per case.

`CaseData` holds the rows of one case that the facts and the case page read (plans, escalations, open
assignments, …), each set loaded once, on first use: the case page's header, its next actions and the
facts share one, so every table is read once per page.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Any

from django.db.models import BooleanField, Exists, ExpressionWrapper, F, Func, OuterRef, QuerySet, Subquery

from cases.models import Case, GesetzlicheVertretung, Potenzialanalyse
from kooperationsplan.models import (
    CURRENT_KP_STATUSES,
    Appointment,
    AppointmentKind,
    AssignmentStatus,
    AssignmentVia,
    ContentItem,
    EigenbemuehungNachweis,
    Escalation,
    EscalationStatus,
    Exemption,
    Kooperationsplan,
    KPStatus,
    MassnahmeZuweisung,
    Schlichtung,
    Step,
)
from letters.models import Letter, LetterKind
from rules import facts as rf
from rules import states
from rules.sanctions import MinderungBasis, PastMinderung

OPEN_BESCHEID_STATUSES = ("BESCHEID_ISSUED", "REPORTED", "STARTED")
# Assignments that take no further step (RULES.md 5.3): the others are "open".
CLOSED_ASSIGNMENT_STATUSES = (
    AssignmentStatus.COMPLETED,
    AssignmentStatus.CANCELLED,
    AssignmentStatus.REPLACED,
    AssignmentStatus.KP_FAILED,
    AssignmentStatus.WITHDRAWN,
    AssignmentStatus.AUFGEHOBEN,
)
MINDERUNG_STATUSES = (EscalationStatus.MINDERUNG_FESTGESTELLT, EscalationStatus.ENDED, EscalationStatus.AUFGEHOBEN)


def plan_facts(plan: Kooperationsplan, *, steps: int | None = None) -> rf.PlanFacts:
    """`steps`: the number of steps if already counted (else counted from `plan.steps`)."""
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
        steps=plan.steps.count() if steps is None else steps,
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


def _count(rows: QuerySet[Any]) -> Subquery:
    """The number of `rows` as a scalar subquery (0 when there are none)."""
    return Subquery(rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n"))


class CaseData:
    """The rows of one case that the rules and the case page read, each set loaded once, on first use.

    The lists hold rows of this one case (they grow with its own history, never with the number of cases),
    each in the order its readers expect.
    """

    def __init__(self, case: Case) -> None:
        self.case = case

    @cached_property
    def facts(self) -> rf.CaseFacts:
        return case_facts(self.case, self)

    @cached_property
    def plans(self) -> list[Kooperationsplan]:
        """The plans in force and the draft, newest version first, with content items, Eigenbemühungen and
        the number of steps (`step_count`)."""
        return list(
            Kooperationsplan.objects.filter(case=self.case, status__in=[*CURRENT_KP_STATUSES, KPStatus.DRAFT])
            .annotate(step_count=_count(Step.objects.filter(plan=OuterRef("pk"))))
            .prefetch_related("content_items", "eigenbemuehungen")
        )

    @property
    def current_plan(self) -> Kooperationsplan | None:
        return next((plan for plan in self.plans if plan.status in CURRENT_KP_STATUSES), None)

    @property
    def draft(self) -> Kooperationsplan | None:
        return next((plan for plan in self.plans if plan.status == KPStatus.DRAFT), None)

    @cached_property
    def escalations(self) -> list[Escalation]:
        """All escalations, latest breach first (the model's order), with Maßnahmeart and assignment."""
        return list(Escalation.objects.filter(case=self.case).select_related("massnahme_art", "assignment"))

    @cached_property
    def open_assignments(self) -> list[MassnahmeZuweisung]:
        """The assignments that still take a step, with measure and Maßnahmeart, oldest first."""
        return list(
            MassnahmeZuweisung.objects.filter(case=self.case)
            .exclude(status__in=CLOSED_ASSIGNMENT_STATUSES)
            .select_related("massnahme__art")
            .order_by("pk")
        )

    @cached_property
    def active_exemption(self) -> Exemption | None:
        return (
            Exemption.objects.filter(case=self.case, status=Exemption.Status.ACTIVE)
            .select_related("einstellungszusage", "paragraph10_reason")
            .first()
        )

    @cached_property
    def schlichtungen(self) -> list[Schlichtung]:
        """Latest first (at most one is running)."""
        return list(Schlichtung.objects.filter(case=self.case).order_by("-started_on", "-pk"))

    @cached_property
    def open_nachweise(self) -> list[EigenbemuehungNachweis]:
        """Evidence of Eigenbemühungen not yet received, the earliest due first."""
        return list(
            EigenbemuehungNachweis.objects.filter(
                eigenbemuehung__plan__case=self.case, received_on__isnull=True
            ).order_by("due_on", "pk")
        )

    @cached_property
    def summary(self) -> dict[str, Any]:
        """One query for the rest: Potenzialanalyse complete, legal representatives, first invitation sent,
        open Bescheide, and the Jobcenter's settings."""
        case = OuterRef("pk")
        first_invitation = Exists(Letter.objects.filter(case=case, kind=LetterKind.EINL_KP_ERST)) | Exists(
            Appointment.objects.filter(case=case, kind=AppointmentKind.ERSTGESPRAECH)
        )
        return (
            Case.objects.filter(pk=self.case.pk)
            .annotate(
                pa_complete=Exists(Potenzialanalyse.objects.filter(case=case, status=Potenzialanalyse.Status.COMPLETE)),
                vertretungen=_count(
                    GesetzlicheVertretung.objects.filter(elb=OuterRef("elb_id"), valid_to__isnull=True)
                ),
                # R-INV-1: the first invitation is counted per Leistungsfall; an appointment for the first talk
                # (also one arranged without a letter, e.g. in person) means the next one is no longer the first.
                first_invitation_sent=ExpressionWrapper(first_invitation, output_field=BooleanField()),
                open_bescheide=_count(
                    MassnahmeZuweisung.objects.filter(
                        case=case, via=AssignmentVia.BESCHEID, status__in=OPEN_BESCHEID_STATUSES
                    )
                ),
                followup_invitation_rfb=F("team__jobcenter__followup_invitation_rfb"),
                bundesland=F("team__jobcenter__bundesland"),
            )
            .values(
                "pa_complete",
                "vertretungen",
                "first_invitation_sent",
                "open_bescheide",
                "followup_invitation_rfb",
                "bundesland",
            )
            .get()
        )

    def reliable_since(self) -> date | None:
        """The day of the last RFB step resolved (the latest `closed_at`; none if one has no date)."""
        resolved = [row.closed_at for row in self.escalations if row.status == EscalationStatus.RESOLVED]
        if not resolved or None in resolved:
            # As `ORDER BY closed_at DESC` in PostgreSQL: a resolved escalation without a date comes first.
            return None
        return max(day for day in resolved if day is not None).date()


def case_facts(case: Case, data: CaseData | None = None) -> rf.CaseFacts:
    """Everything the rules need about one case: seven queries, fewer when `data` has read some of them."""
    data = data if data is not None else CaseData(case)
    current, draft = data.current_plan, data.draft
    schlichtung = data.schlichtungen[0] if data.schlichtungen else None
    exemption = data.active_exemption
    minderungen = tuple(
        PastMinderung(
            MinderungBasis.MELDEVERSAEUMNIS if row.legal_basis == "P32" else MinderungBasis.PFLICHTVERLETZUNG,
            row.minderung_percent or 0,
            row.minderung_start,
            row.minderung_months or 1,
        )
        for row in data.escalations
        if row.status in MINDERUNG_STATUSES and row.minderung_start is not None
    )
    summary = data.summary
    return rf.CaseFacts(
        mode=states.Mode(case.cooperation_mode),
        birth_date=case.elb.birth_date,
        pa_complete=summary["pa_complete"],
        vertretungen=summary["vertretungen"],
        first_invitation_sent=summary["first_invitation_sent"],
        followup_invitation_rfb=summary["followup_invitation_rfb"],
        current_plan=plan_facts(current, steps=current.step_count) if current else None,
        draft=plan_facts(draft, steps=draft.step_count) if draft else None,
        schlichtung=schlichtung_facts(schlichtung) if schlichtung else None,
        exemption=exemption_facts(exemption) if exemption else None,
        open_bescheide=summary["open_bescheide"],
        minderungen=minderungen,
        reliable_since=data.reliable_since(),
        bundesland=summary["bundesland"],
    )


def content_item_texts(plan: Kooperationsplan) -> dict[str, ContentItem]:
    return {item.kind: item for item in plan.content_items.all()}
