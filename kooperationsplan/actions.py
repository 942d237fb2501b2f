"""The explanation API: for a case, every possible next action, allowed or refused, with German reasons
and legal sources. The UI shows allowed actions as buttons and refused ones disabled with their reason
(DESIGN.md "The UI never offers an action the engine forbids"). Reads only; decides through rules/."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone

from cases.models import Case
from kooperationsplan.facts import CaseData, assignment_facts, escalation_facts, exemption_facts
from kooperationsplan.models import (
    EscalationStatus as EscalationStatusChoices,
)
from kooperationsplan.models import (
    Exemption,
    TeamLeadApproval,
)
from kooperationsplan.reasons import explain
from rules import escalation as esc_rules
from rules import exemptions as x_rules
from rules import measures as m_rules
from rules import plan as plan_rules
from rules import schlichtung as s_rules
from rules.decision import Decision, Reason, allow, combine, refuse
from rules.facts import CaseFacts, EscalationFacts
from rules.invitations import AppointmentKind, appointment_outcome, invitation
from rules.states import AssignmentStatus, EscalationStatus, KPStatus, Mode

# Escalations whose ladder has no further step here (a Minderung festgestellt is lifted separately).
CLOSED_ESCALATION_STATUSES = ("RESOLVED", "NO_MINDERUNG", "MINDERUNG_FESTGESTELLT", "ENDED", "AUFGEHOBEN", "MONITORING")


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    allowed: bool
    reasons: list[dict[str, Any]]
    target: dict[str, int] = field(default_factory=dict)
    hint: str = ""

    @property
    def query(self) -> str:
        """The target as the query string of the step's URL (e.g. "?escalation=12")."""
        return "?" + urlencode(self.target) if self.target else ""


def _action(name: str, label: str, decision: Decision, **target: int) -> Action:
    return Action(name, label, decision.allowed, [explain(reason) for reason in decision.reasons], target)


def case_next_actions(case: Case, *, on: date, data: CaseData | None = None) -> list[Action]:
    """`data`: the case's rows if the caller reads them for more than the actions (the case overview shares
    them with its header), so that every table is read once per page."""
    if case.closed_on is not None:
        return []  # RULES.md 5.1: a closed case takes no further step
    data = data if data is not None else CaseData(case)
    facts = data.facts
    actions: list[Action] = []
    actions += _plan_actions(facts, on)
    actions += _invitation_actions(facts, on)
    actions += _escalation_actions(data, facts, on)
    actions += _measure_actions(data, facts)
    actions += _appointment_actions(data, on)
    actions += _nachweis_actions(data, on)
    actions += _mode_actions(data, facts, on)
    return actions


def _plan_actions(facts: CaseFacts, on: date) -> list[Action]:
    actions = []
    if facts.draft is None and facts.mode is not Mode.SCHLICHTUNG_PENDING:
        decision = combine(plan_rules.pa_complete(facts), plan_rules.kp_may_start(facts))
        label = "Kooperationsplan fortschreiben" if facts.current_plan else "Kooperationsplan erstellen"
        actions.append(_action("kp_start", label, decision))
    if facts.draft is not None:
        actions.append(
            _action("kp_activate", "Kooperationsplan aktivieren", plan_rules.kp_may_activate(facts, facts.draft))
        )
        if facts.current_plan is None and facts.mode is not Mode.SCHLICHTUNG_PENDING:
            abandon = plan_rules.kp_may_be_abandoned(facts, note="(Vermerk)")
            actions.append(_action("kp_abandon", "Kein Kooperationsplan zustande gekommen", abandon))
    current = facts.current_plan
    if current is not None and current.status is KPStatus.ACTIVE:
        actions.append(
            _action(
                "kp_review", "Überprüfung beginnen", plan_rules.review_may_start(current, on=on, early_trigger=False)
            )
        )
    if current is not None and current.status is KPStatus.UNDER_REVIEW and facts.draft is None:
        # R-FS-1 "ADAPTED": the plan under review stays the same version, with a change note.
        adapted, _ = plan_rules.review_after_adaptation(current, on=on)
        actions.append(_action("kp_adapt", "Überprüfung abschließen: angepasst (gleiche Version)", adapted))
    if facts.mode is Mode.COOP_WITH_RFB and facts.draft is not None:
        decision = plan_rules.return_without_rfb(facts, on=on, reason_text="(Begründung)", return_min_months=3)
        actions.append(_action("return_without_rfb", "Rückkehr zur Zusammenarbeit ohne RFB", decision))
    if facts.mode is Mode.NO_KP_15_6:
        actions.append(_action("kp_offer_again", "KP erneut anbieten", esc_rules.offer_kp_again(facts)))
    return actions


def _invitation_actions(facts: CaseFacts, on: date) -> list[Action]:
    kinds = (
        (AppointmentKind.ERSTGESPRAECH, "Einladung zum Erstgespräch"),
        (AppointmentKind.FOLGETERMIN, "Einladung zu einem Folgetermin"),
        (AppointmentKind.AERZTLICH, "Einladung zur ärztlichen Untersuchung"),
    )
    actions = []
    for kind, label in kinds:
        if kind is AppointmentKind.ERSTGESPRAECH and facts.first_invitation_sent:
            continue
        result = invitation(facts, kind, on=on, meldezweck="(Meldezweck)")
        suffix = " (mit RFB)" if result.with_rfb else " (ohne RFB)"
        actions.append(_action(f"invite_{kind.value.lower()}", label + suffix, result.decision))
    return actions


def _escalation_actions(data: CaseData, facts: CaseFacts, on: date) -> list[Action]:
    actions = [_action("breach_record", "Pflichtverstoß erfassen", esc_rules.breach_may_be_recorded(facts))]
    for escalation in data.escalations:
        if escalation.status not in CLOSED_ESCALATION_STATUSES:
            actions += _ladder_step(facts, escalation_facts(escalation), on, escalation.pk)
    if facts.mode in (Mode.NO_KP_15_6, Mode.SCHLICHTUNG_PENDING):
        actions.append(
            _action("aufforderung_15_6", "Aufforderung nach § 15 Abs. 6 SGB II", esc_rules.aufforderung_15_6(facts))
        )
    for escalation in data.escalations:
        if (
            escalation.status == EscalationStatusChoices.MINDERUNG_FESTGESTELLT
            and escalation.minderung_start is not None
        ):
            decision = esc_rules.lift_minderung(started=escalation.minderung_start, on=on)
            actions.append(
                _action(
                    "minderung_lift",
                    "Minderung: Pflicht erfüllt oder Zeitraum beendet",
                    decision,
                    escalation=escalation.pk,
                )
            )
    return actions


def _ladder_step(facts: CaseFacts, esc: EscalationFacts, on: date, escalation_id: int) -> list[Action]:
    status = esc.status
    target = {"escalation": escalation_id}
    if status is EscalationStatus.BREACH_DETECTED and esc.minderung_basis_p32:
        return [
            _action(
                "anhoerung_32",
                "Anhörung wegen Meldeversäumnis (§ 32 SGB II)",
                esc_rules.anhoerung_32(facts, esc, on=on),
                **target,
            )
        ]
    if status is EscalationStatus.BREACH_DETECTED:
        return [
            _action(
                "intervention_invite",
                "Zur beraterischen Intervention einladen (ohne RFB)",
                esc_rules.intervention_may_be_invited(esc),
                **target,
            )
        ]
    if status is EscalationStatus.INTERVENTION_INVITED:
        return [
            _action(
                "intervention_outcome",
                "Ergebnis der beraterischen Intervention erfassen",
                allow(Reason("escalation.no_wichtiger_grund", "R-ESC-2", ("001 §6.1",))),
                **target,
            )
        ]
    if status in (EscalationStatus.INTERVENTION_DONE, EscalationStatus.NOT_ATTENDED):
        return [
            _action(
                "aufforderung_15_5",
                "Aufforderung nach § 15 Abs. 5 SGB II (mit RFB)",
                esc_rules.aufforderung_15_5(facts, esc),
                **target,
            ),
            _action(
                "psych_skip",
                "Von der Aufforderung absehen (Vermerk)",
                esc_rules.psych_skip(esc, vermerk="(Vermerk)"),
                **target,
            ),
            _action(
                "exempt_monitoring",
                "Ausgenommene Maßnahmeart: nur Gespräch und KP-Anpassung",
                esc_rules.exempt_type_monitoring(esc),
                **target,
            ),
        ]
    if status is EscalationStatus.AUFFORDERUNG_ISSUED:
        return [
            _action(
                "aufforderung_complied",
                "Pflicht erfüllt",
                allow(Reason("escalation.complied", "R-ESC-3", ("001 §6.1",))),
                **target,
            ),
            _action("anhoerung", "Anhörung nach § 24 SGB X", esc_rules.anhoerung(facts, esc, on=on), **target),
        ]
    if status is EscalationStatus.ANHOERUNG:
        return [
            _action("anhoerung_close", "Anhörung abschließen", esc_rules.decision_may_be_prepared(esc, on=on), **target)
        ]
    if status is EscalationStatus.DECISION_PENDING:
        decision = combine(
            esc_rules.schlichtung_blocks_minderung(facts, esc.breach_date, meldeversaeumnis=esc.minderung_basis_p32),
            esc_rules.feststellung_still_possible(esc.breach_date, on),
        )
        return [_action("minderung_outcome", "Ergebnis der Leistungsabteilung erfassen", decision, **target)]
    return []


def _measure_actions(data: CaseData, facts: CaseFacts) -> list[Action]:
    actions = []
    for assignment in data.open_assignments:
        facts_a = assignment_facts(assignment)
        target = {"assignment": assignment.pk}
        status = facts_a.status
        if status is AssignmentStatus.PLANNED:
            decision, _ = m_rules.zuweisungsschreiben(facts, facts_a)
            actions.append(_action("zuw_schreiben", "Zuweisungsschreiben erstellen (ohne RFB)", decision, **target))
            bescheid = m_rules.zuweisungsbescheid(facts, facts_a, after_abort=False, traeger_ruecksprache_on=None)
            actions.append(_action("zuw_bescheid", "Zuweisungsbescheid erlassen (mit RFB)", bescheid, **target))
        if status is AssignmentStatus.SCHREIBEN_ISSUED:
            actions.append(
                _action(
                    "zuw_withdraw", "Zuweisungsschreiben zurücknehmen", m_rules.withdraw_schreiben(facts_a), **target
                )
            )
        if status in (AssignmentStatus.SCHREIBEN_ISSUED, AssignmentStatus.BESCHEID_ISSUED):
            reported = allow(Reason("zuw.reported", "R-MON-1", ("001 §6.1",)))
            actions.append(_action("assignment_report", "Rückmeldung des Trägers erfassen", reported, **target))
        if status is AssignmentStatus.REPORTED:
            started = allow(Reason("zuw.started", "R-MON-1", ("001 §6.1",)))
            actions.append(_action("assignment_start", "Beginn der Maßnahme erfassen", started, **target))
        if status is AssignmentStatus.STARTED:
            actions.append(_action("abort", "Abbruch erfassen", m_rules.abort_reported(facts_a), **target))
            completed = allow(Reason("zuw.completed", "R-MON-1", ("001 §6.1",)))
            actions.append(_action("assignment_complete", "Maßnahme abgeschlossen", completed, **target))
        if status is AssignmentStatus.CLARIFICATION:
            actions.append(
                _action(
                    "clarification",
                    "Ergebnis der Klärung erfassen",
                    allow(Reason("abb.clarifying_talk", "R-ABB-1", ("001 §6.2",))),
                    **target,
                )
            )
    return actions


def _appointment_actions(data: CaseData, on: date) -> list[Action]:
    """R-MON-1 / R-INV-7: the outcome of every past appointment is recorded (the intervention's with its ladder)."""
    due = [row for row in data.pending_appointments if timezone.localtime(row.starts_at).date() <= on]
    actions = []
    for appointment in due:
        decision = appointment_outcome(
            is_intervention=False,  # excluded above: its outcome belongs to the escalation
            recorded=False,  # only pending ones
            outcome=None,
            appointment_day=timezone.localtime(appointment.starts_at).date(),
            on=on,
        )
        actions.append(
            Action(
                "appointment_outcome",
                f"Ergebnis des Termins vom {appointment.starts_at:%d.%m.%Y} erfassen",
                decision.allowed,
                [explain(reason) for reason in decision.reasons],
                {"appointment": appointment.pk},
            )
        )
    return actions


def _nachweis_actions(data: CaseData, on: date) -> list[Action]:
    """D-07 / R-EB-4: evidence that is due (or overdue) can be recorded as received."""
    open_items = [nachweis for nachweis in data.open_nachweise if nachweis.period_end < on]
    decision = allow(Reason("eb.evidence_recorded", "R-EB-1", ("001 §5.2",)))
    return [
        Action(
            "nachweis_record",
            f"Nachweis Eigenbemühungen {nachweis.period_start:%d.%m.}–{nachweis.period_end:%d.%m.%Y} erfassen",
            True,
            [explain(reason) for reason in decision.reasons],
            {"nachweis": nachweis.pk},
        )
        for nachweis in open_items
    ]


def _exemption_actions(data: CaseData, on: date) -> list[Action]:
    """D-02, D-03, D-04: the re-check of a running exemption, or what became of the Einstellungszusage."""
    exemption = data.active_exemption
    if exemption is None:
        return []
    facts = exemption_facts(exemption)
    if exemption.reason == Exemption.Reason.EINSTELLUNGSZUSAGE:
        decision = allow(Reason("exemption.ez", "R-EXC-1", ("001 §8.1",), {"until": facts.job_start}))
        return [_action("ez_outcome", "Einstellungszusage: Arbeitsaufnahme, Verschiebung oder Rücknahme", decision)]
    decision, _ = x_rules.recheck_continues(facts, on=on)
    if not decision.allowed:
        decision = x_rules.exemption_lapses(facts, on=on, bundesland=data.facts.bundesland)
    return [_action("exemption_recheck", "Ausnahme erneut prüfen", decision)]


def _schlichtung_actions(facts: CaseFacts) -> list[Action]:
    """R-SCH-2 / R-SCH-4: a running Schlichtung ends with an agreement (the agreed KP is activated) or without."""
    if facts.mode is not Mode.SCHLICHTUNG_PENDING:
        return []
    agreement, no_agreement = s_rules.schlichtung_outcomes(facts)
    return [
        _action("schlichtung_agreement", "Schlichtung: Einigung (vereinbarten KP aktivieren)", agreement),
        _action("schlichtung_no_agreement", "Schlichtung: keine Einigung", no_agreement),
    ]


def _mode_actions(data: CaseData, facts: CaseFacts, on: date) -> list[Action]:
    actions = _schlichtung_actions(facts) + _exemption_actions(data, on)
    closing = plan_rules.case_may_be_closed(
        facts, closed_on=on, leistungsbeginn=data.case.leistungsbeginn, on=on, note="(Vermerk folgt)"
    )
    actions.append(_action("case_close", "Fall abschließen (Leistungsbezug beendet)", closing))
    if facts.mode is not Mode.EXEMPT:
        # R-ABB-6: in § 15 Abs. 6 (NO_KP_15_6) after a failed KP, a Schlichtung needs the team lead's approval.
        failed = (
            data.case.plans.filter(status=KPStatus.FAILED).order_by("-pk").values_list("pk", flat=True).first()
            if facts.mode is Mode.NO_KP_15_6
            else None
        )
        after_failed = failed is not None
        approved = (
            after_failed
            and TeamLeadApproval.objects.filter(
                kind=TeamLeadApproval.Kind.SCHLICHTUNG_NACH_SCHEITERN,
                subject_type="kooperationsplan.Kooperationsplan",
                subject_id=failed,
                status=TeamLeadApproval.Status.APPROVED,
            ).exists()
        )
        decision = s_rules.schlichtung_may_start(
            facts, on=on, disagreement="(strittige Punkte)", after_failed_kp=after_failed, tl_approved=approved
        )
        actions.append(_action("schlichtung_start", "Schlichtung einleiten", decision))
    if facts.mode in (Mode.EXEMPT, Mode.SCHLICHTUNG_PENDING):
        reason = "exemption.already_exempt" if facts.mode is Mode.EXEMPT else "exemption.schlichtung_running"
        actions.append(
            _action(
                "exemption_record", "Ausnahme erfassen (Kennung KP)", refuse(Reason(reason, "R-EXC-5", ("001 §8",)))
            )
        )
    else:
        actions.append(
            _action(
                "exemption_record",
                "Ausnahme erfassen (Kennung KP)",
                allow(Reason("exemption.individual", "R-EXC-5", ("001 §8",))),
            )
        )
    return actions
