"""Load the facts the rule engine decides on (rules.facts) from the database: a few queries per case.

`CaseData` holds the rows of one case that the facts and the case page read (plans, escalations, open
assignments, …), each set loaded once, on first use: the case page's header, its next actions and the
facts share one, so every table is read once per page.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Any, cast

from django.db import connection
from django.http import HttpRequest
from django.utils import timezone

from cases.models import (
    Case,
    Einstellungszusage,
    GesetzlicheVertretung,
    Jobcenter,
    Paragraph10Reason,
    Potenzialanalyse,
    Team,
    User,
)
from cases.rows import execute_prepared, instance, instances, json_columns, json_rows, merge_params, prefetched
from cases.selectors import case_get_for_view_with
from kooperationsplan.models import (
    CURRENT_KP_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentOutcome,
    AssignmentStatus,
    AssignmentVia,
    ContentItem,
    Eigenbemuehung,
    EigenbemuehungNachweis,
    Escalation,
    EscalationStatus,
    Exemption,
    Kooperationsplan,
    KPStatus,
    Massnahme,
    MassnahmeArt,
    MassnahmeZuweisung,
    Schlichtung,
    Step,
    TeamLeadApproval,
)
from kooperationsplan.notifications import header_columns, header_read
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


_ROW_MODELS = (
    Appointment,
    Case,
    ContentItem,
    Eigenbemuehung,
    EigenbemuehungNachweis,
    Einstellungszusage,
    Escalation,
    Exemption,
    GesetzlicheVertretung,
    Jobcenter,
    Kooperationsplan,
    Letter,
    Massnahme,
    MassnahmeArt,
    MassnahmeZuweisung,
    Paragraph10Reason,
    Potenzialanalyse,
    Schlichtung,
    Step,
    Team,
    TeamLeadApproval,
)


# The rows of one case in one statement (cases/rows.py): each set a JSON array of rows in the order its
# readers expect, each row the model's columns (`json_columns`) and, where the ORM version used
# select_related or prefetch_related, the related rows after them. Table names and columns come from the
# models; the values are parameters. tests/kooperationsplan/test_case_rows.py compares every set with the
# ORM query it replaces.
# A plan's content items and Eigenbemühungen (on a plan `p`), in the order their readers expect; the KP editor
# reads them the same way.
PLAN_CONTENT_ITEMS = json_rows(ContentItem, "ci", where="ci.plan_id = p.id", order_by="ci.kind, ci.position, ci.id")
PLAN_EIGENBEMUEHUNGEN = json_rows(Eigenbemuehung, "eb", where="eb.plan_id = p.id", order_by="eb.id")
PENDING_APPOINTMENTS = (
    "apt.case_id = %(case)s AND apt.outcome = %(appointment_pending)s AND apt.kind <> %(intervention)s"
)
OPEN_APPROVALS = "tla.case_id = %(case)s AND tla.status = %(approval_open)s"


def _case_rows_sql() -> tuple[str, str]:
    """The select list and the FROM clause of the statement (the KP editor reads the same list as one JSON array
    in its own statement: `CASE_ROWS_JSON`)."""
    t = {model.__name__: model._meta.db_table for model in _ROW_MODELS}
    columns = f"""
  (SELECT coalesce(json_agg(json_build_array(
        {json_columns(Kooperationsplan, "p")},
        (SELECT count(*) FROM "{t["Step"]}" s WHERE s.plan_id = p.id),
        {PLAN_CONTENT_ITEMS},
        {PLAN_EIGENBEMUEHUNGEN}
     ) ORDER BY p.version_number DESC, p.id DESC), '[]')
   FROM "{t["Kooperationsplan"]}" p WHERE p.case_id = %(case)s AND p.status = ANY(%(plan_statuses)s)),
  (SELECT coalesce(json_agg(json_build_array({json_columns(Escalation, "e")}, {json_columns(MassnahmeArt, "a")},
        {json_columns(MassnahmeZuweisung, "z")}) ORDER BY e.breach_date DESC, e.id DESC), '[]')
   FROM "{t["Escalation"]}" e
   LEFT JOIN "{t["MassnahmeArt"]}" a ON a.id = e.massnahme_art_id
   LEFT JOIN "{t["MassnahmeZuweisung"]}" z ON z.id = e.assignment_id
   WHERE e.case_id = %(case)s),
  (SELECT coalesce(json_agg(json_build_array({json_columns(MassnahmeZuweisung, "z")}, {json_columns(Massnahme, "m")},
        {json_columns(MassnahmeArt, "a")}) ORDER BY z.id), '[]')
   FROM "{t["MassnahmeZuweisung"]}" z
   JOIN "{t["Massnahme"]}" m ON m.id = z.massnahme_id
   JOIN "{t["MassnahmeArt"]}" a ON a.id = m.art_id
   WHERE z.case_id = %(case)s AND NOT z.status = ANY(%(closed_assignments)s)),
  (SELECT json_build_array({json_columns(Exemption, "x")}, {json_columns(Einstellungszusage, "ez")},
        {json_columns(Paragraph10Reason, "pr")})
   FROM "{t["Exemption"]}" x
   LEFT JOIN "{t["Einstellungszusage"]}" ez ON ez.id = x.einstellungszusage_id
   LEFT JOIN "{t["Paragraph10Reason"]}" pr ON pr.id = x.paragraph10_reason_id
   WHERE x.case_id = %(case)s AND x.status = %(exemption_active)s
   ORDER BY x.id LIMIT 1),
  {json_rows(Schlichtung, "sch", where="sch.case_id = %(case)s", order_by="sch.started_on DESC, sch.id DESC")},
  (SELECT coalesce(json_agg({json_columns(EigenbemuehungNachweis, "n")} ORDER BY n.due_on, n.id), '[]')
   FROM "{t["EigenbemuehungNachweis"]}" n
   WHERE n.case_id = %(case)s AND n.received_on IS NULL),
  {json_rows(Appointment, "apt", where=PENDING_APPOINTMENTS, order_by="apt.starts_at, apt.id")},
  {json_rows(TeamLeadApproval, "tla", where=OPEN_APPROVALS, order_by="tla.requested_at, tla.id")},
  EXISTS (SELECT 1 FROM "{t["Potenzialanalyse"]}" pa WHERE pa.case_id = c.id AND pa.status = %(pa_complete)s),
  (SELECT count(*) FROM "{t["GesetzlicheVertretung"]}" gv WHERE gv.elb_id = c.elb_id AND gv.valid_to IS NULL),
  EXISTS (SELECT 1 FROM "{t["Letter"]}" l WHERE l.case_id = c.id AND l.kind = %(first_letter)s)
    OR EXISTS (SELECT 1 FROM "{t["Appointment"]}" ap WHERE ap.case_id = c.id AND ap.kind = %(first_talk)s),
  (SELECT count(*) FROM "{t["MassnahmeZuweisung"]}" b
   WHERE b.case_id = c.id AND b.via = %(bescheid)s AND b.status = ANY(%(open_bescheide)s)),
  jc.followup_invitation_rfb,
  jc.bundesland
"""  # noqa: S608 (names from the models' meta; values are parameters)
    tables = f"""
FROM "{t["Case"]}" c
JOIN "{t["Team"]}" tm ON tm.id = c.team_id
JOIN "{t["Jobcenter"]}" jc ON jc.id = tm.jobcenter_id
WHERE c.id = %(case)s
"""
    return columns, tables


_CASE_ROWS_COLUMNS, _CASE_ROWS_FROM = _case_rows_sql()
_CASE_ROWS_SQL = f"SELECT {_CASE_ROWS_COLUMNS} {_CASE_ROWS_FROM}"
# The same row as one JSON array, for a statement that reads it with other rows (values keep their JSON types:
# arrays, numbers, booleans, text), with the parameters of `case_rows_params`.
CASE_ROWS_JSON = f"(SELECT json_build_array({_CASE_ROWS_COLUMNS}) {_CASE_ROWS_FROM})"


def case_rows_params(case_id: int) -> dict[str, Any]:
    return {
        "case": case_id,
        "plan_statuses": [*CURRENT_KP_STATUSES, KPStatus.DRAFT],
        "closed_assignments": list(CLOSED_ASSIGNMENT_STATUSES),
        "exemption_active": Exemption.Status.ACTIVE,
        "pa_complete": Potenzialanalyse.Status.COMPLETE,
        "first_letter": LetterKind.EINL_KP_ERST,
        "first_talk": AppointmentKind.ERSTGESPRAECH,
        "bescheid": AssignmentVia.BESCHEID,
        "open_bescheide": list(OPEN_BESCHEID_STATUSES),
        "appointment_pending": AppointmentOutcome.PENDING,
        "intervention": AppointmentKind.BERATERISCHE_INTERVENTION,
        "approval_open": TeamLeadApproval.Status.OPEN,
    }


class CaseData:
    """The rows of one case that the rules and the case page read, all read by one statement on first use.

    The lists hold rows of this one case (they grow with its own history, never with the number of cases),
    each in the order its readers expect; related rows are attached as select_related and prefetch_related
    would attach them, so reading them costs no query.
    """

    def __init__(self, case: Case, rows: list[Any] | None = None) -> None:
        """`rows`: the row of `CASE_ROWS_JSON`, read by the caller's statement (else read on first use)."""
        self.case = case
        if rows is not None:
            self.__dict__["_rows"] = tuple(rows)

    @cached_property
    def facts(self) -> rf.CaseFacts:
        return case_facts(self.case, self)

    @cached_property
    def _rows(self) -> tuple[Any, ...]:
        with connection.cursor() as cursor:
            execute_prepared(cursor, "case_rows", _CASE_ROWS_SQL, case_rows_params(self.case.pk))
            row = cursor.fetchone()
        if row is None:
            raise Case.DoesNotExist(f"Fall {self.case.pk} nicht gefunden")
        return row

    @cached_property
    def plans(self) -> list[Kooperationsplan]:
        """The plans in force and the draft, newest version first, with content items, Eigenbemühungen and
        the number of steps (`step_count`)."""
        plans = []
        for values, step_count, content, efforts in self._rows[0]:
            plan = instance(Kooperationsplan, values)
            plan.step_count = step_count
            prefetched(plan, "content_items", instances(ContentItem, content))
            prefetched(plan, "eigenbemuehungen", instances(Eigenbemuehung, efforts))
            plans.append(plan)
        return plans

    @property
    def current_plan(self) -> Kooperationsplan | None:
        return next((plan for plan in self.plans if plan.status in CURRENT_KP_STATUSES), None)

    @property
    def draft(self) -> Kooperationsplan | None:
        return next((plan for plan in self.plans if plan.status == KPStatus.DRAFT), None)

    @cached_property
    def escalations(self) -> list[Escalation]:
        """All escalations, latest breach first (the model's order), with Maßnahmeart and assignment."""
        escalations = []
        for values, art, assignment in self._rows[1]:
            escalation = instance(Escalation, values)
            escalation.massnahme_art = instance(MassnahmeArt, art)
            escalation.assignment = instance(MassnahmeZuweisung, assignment)
            escalations.append(escalation)
        return escalations

    @cached_property
    def open_assignments(self) -> list[MassnahmeZuweisung]:
        """The assignments that still take a step, with measure and Maßnahmeart, oldest first."""
        assignments = []
        for values, massnahme_values, art in self._rows[2]:
            assignment = instance(MassnahmeZuweisung, values)
            massnahme = instance(Massnahme, massnahme_values)
            massnahme.art = instance(MassnahmeArt, art)
            assignment.massnahme = massnahme
            assignments.append(assignment)
        return assignments

    @cached_property
    def active_exemption(self) -> Exemption | None:
        if self._rows[3] is None:
            return None
        values, zusage, reason = self._rows[3]
        exemption = instance(Exemption, values)
        exemption.einstellungszusage = instance(Einstellungszusage, zusage)
        exemption.paragraph10_reason = instance(Paragraph10Reason, reason)
        return exemption

    @cached_property
    def schlichtungen(self) -> list[Schlichtung]:
        """Latest first (at most one is running)."""
        return instances(Schlichtung, self._rows[4])

    @cached_property
    def open_nachweise(self) -> list[EigenbemuehungNachweis]:
        """Evidence of Eigenbemühungen not yet received, the earliest due first."""
        return instances(EigenbemuehungNachweis, self._rows[5])

    @cached_property
    def pending_appointments(self) -> list[Appointment]:
        """Appointments whose outcome is not recorded yet, earliest first; not the Beraterische Intervention's
        (its outcome belongs to the escalation)."""
        return instances(Appointment, self._rows[6])

    @cached_property
    def open_approvals(self) -> list[TeamLeadApproval]:
        """Requests to the team lead not yet decided, oldest first."""
        return instances(TeamLeadApproval, self._rows[7])

    @cached_property
    def summary(self) -> dict[str, Any]:
        """Potenzialanalyse complete, legal representatives, first invitation sent, open Bescheide, and the
        Jobcenter's settings."""
        names = (
            "pa_complete",
            "vertretungen",
            "first_invitation_sent",
            "open_bescheide",
            "followup_invitation_rfb",
            "bundesland",
        )
        return dict(zip(names, self._rows[8:], strict=True))

    def reliable_since(self) -> date | None:
        """The day of the last RFB step resolved (the latest `closed_at`; none if one has no date)."""
        resolved = [row.closed_at for row in self.escalations if row.status == EscalationStatus.RESOLVED]
        if not resolved or None in resolved:
            # As `ORDER BY closed_at DESC` in PostgreSQL: a resolved escalation without a date comes first.
            return None
        return max(day for day in resolved if day is not None).date()


def case_data_for_view(request: HttpRequest, case_id: int) -> CaseData:
    """The case as `case_get_for_view` reads it (scoped, with its access-log row), its rows (`CaseData`) and the
    page header's team and badge (notifications.header_columns), in one statement: the case pages all show the
    case's header, which reads the rows."""
    header, header_params = header_columns(cast(User, request.user), on=timezone.localdate())
    case, (rows, count, team) = case_get_for_view_with(
        request, case_id, "case_data", (CASE_ROWS_JSON, *header), merge_params(case_rows_params(case_id), header_params)
    )
    header_read(request, count, team)
    return CaseData(case, rows)


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
