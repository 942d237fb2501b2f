"""Scenario tests: one per situation of the source documents, walking the real services end to end."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from cases.models import TimelineEvent
from kooperationsplan import escalations, exemptions, measures, schlichtung, services
from kooperationsplan.models import (
    Escalation,
    Exemption,
    Kooperationsplan,
    MassnahmeZuweisung,
    Schlichtung,
    TeamLeadApproval,
)
from kooperationsplan.workflow import WorkflowRefused
from letters.models import Letter
from tests.factories import MassnahmeArtFactory, MassnahmeFactory, UserFactory
from tests.kooperationsplan.workflow_helpers import BERLIN, active_plan, at, fill_draft, in_days, key, new_case

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def letters_of(case, kind):
    return list(Letter.objects.filter(case=case, kind=kind).order_by("pk"))


def walk_to_anhoerung(case, clock):
    """(a)/(b): KP → EB missing → BI → no wichtiger Grund → Aufforderung § 15 Abs. 5 → not complied → Anhörung."""
    plan = active_plan(case)
    eb = plan.eigenbemuehungen.get()
    clock.move_to(datetime(2026, 4, 14, 9, tzinfo=BERLIN))
    escalation = escalations.breach_record(
        case_id=case.pk,
        actor=case.responsible,
        breach_kind="EB_FEHLEN",
        breach_date=date(2026, 4, 13),
        description="Nachweis der Bewerbungen für März fehlt (fällig 05.04.2026, Nachfrist 7 Tage).",
        eigenbemuehung_id=eb.pk,
    )
    escalations.intervention_invite(
        escalation_id=escalation.pk,
        actor=case.responsible,
        starts_at=at(in_days(7)),
        location="Raum 1.07",
        idempotency_key=key(),
    )
    clock.move_to(datetime(2026, 4, 21, 11, tzinfo=BERLIN))
    escalations.intervention_outcome(
        escalation_id=escalation.pk, actor=case.responsible, attended=True, wichtiger_grund=False
    )
    escalations.aufforderung_15_5_issue(
        escalation_id=escalation.pk,
        actor=case.responsible,
        duty="Legen Sie Nachweise über fünf Bewerbungen für den Monat April vor.",
        deadline=date(2026, 5, 8),
        idempotency_key=key(),
    )
    clock.move_to(datetime(2026, 5, 14, 9, tzinfo=BERLIN))
    escalations.anhoerung_issue(escalation_id=escalation.pk, actor=case.responsible, idempotency_key=key())
    return plan, Escalation.objects.get(pk=escalation.pk)


def test_scenario_a_eb_missing_to_anhoerung_with_concrete_minderung(clock):
    case = new_case()
    plan, escalation = walk_to_anhoerung(case, clock)

    case.refresh_from_db()
    plan.refresh_from_db()
    assert case.cooperation_mode == "COOP_WITH_RFB"
    assert plan.status == "ACTIVE"  # an Aufforderung does not end the KP (RULES.md 5.1 invariant)
    assert escalation.status == "ANHOERUNG"
    assert escalation.anhoerung_deadline == date(2026, 5, 31)  # Bekanntgabe 17.05. + 14 days (P7)

    (kp,) = letters_of(case, "KP_DOKUMENT")
    assert (kp.with_rfb, kp.is_va, kp.context["rfb"]) == (False, False, None)
    (bi,) = letters_of(case, "EINL_BI")
    assert not bi.with_rfb
    (auff,) = letters_of(case, "AUFF_15_5")
    assert (auff.with_rfb, auff.is_va) == (True, True)
    assert (auff.context["rfb"]["percent"], auff.context["rfb"]["months"]) == (10, 1)
    assert auff.context["rfb"]["deadline"] == "2026-05-08"
    (anh,) = letters_of(case, "ANH_31")
    assert anh.context["content"]["percent"] == 10
    assert anh.context["content"]["reference_number"] == auff.number
    assert anh.context["content"]["in_person_offer"] is True
    assert [r["role"] for r in anh.recipients] == ["elb"]


def test_scenario_b_minor_letters_go_to_the_gesetzliche_vertretung(clock):
    case = new_case(minor=True)
    walk_to_anhoerung(case, clock)

    (bi,) = letters_of(case, "EINL_BI")
    assert [r["role"] for r in bi.recipients] == ["elb", "gesetzliche_vertretung", "gesetzliche_vertretung"]
    for kind in ("AUFF_15_5", "ANH_31"):
        (letter,) = letters_of(case, kind)
        assert [r["role"] for r in letter.recipients] == [
            "gesetzliche_vertretung",
            "gesetzliche_vertretung",
            "kopie_elb",
        ]
    (kp,) = letters_of(case, "KP_DOKUMENT")  # R-KP-8: the minor receives the KP, no gV consent needed
    assert [r["role"] for r in kp.recipients] == ["elb"]


def aborted_measure(case, clock, *, exempt=False):
    plan = active_plan(case)
    art = MassnahmeArtFactory(exempt=True) if exempt else MassnahmeArtFactory()
    massnahme = MassnahmeFactory(art=art)
    assignment = measures.assignment_plan(
        plan_id=plan.pk,
        actor=case.responsible,
        massnahme_id=massnahme.pk,
        start_date=in_days(14),
        end_date=in_days(100),
        rueckmeldung_due=in_days(7),
    )
    measures.zuweisungsschreiben_issue(assignment_id=assignment.pk, actor=case.responsible, idempotency_key=key())
    measures.assignment_report(assignment_id=assignment.pk, actor=case.responsible)
    clock.move_to(datetime(2026, 3, 17, 9, tzinfo=BERLIN))
    measures.assignment_start(assignment_id=assignment.pk, actor=case.responsible)
    clock.move_to(datetime(2026, 4, 1, 9, tzinfo=BERLIN))
    escalation = measures.assignment_abort(
        assignment_id=assignment.pk,
        actor=case.responsible,
        aborted_on=date(2026, 3, 31),
        description="Der Träger meldet: seit 31.03.2026 nicht mehr erschienen.",
    )
    escalations.intervention_invite(
        escalation_id=escalation.pk,
        actor=case.responsible,
        starts_at=at(in_days(6)),
        location="Raum 1.07",
        idempotency_key=key(),
    )
    return plan, assignment, escalation


def test_scenario_c_abort_with_wichtiger_grund_adapts_the_kp_without_rfb(clock):
    case = new_case()
    plan, assignment, escalation = aborted_measure(case, clock)
    (schreiben,) = letters_of(case, "ZUW_SCHREIBEN_AKTIVIERUNG")
    assert (schreiben.with_rfb, schreiben.is_va) == (False, False)

    measures.clarification_outcome(
        assignment_id=assignment.pk,
        actor=case.responsible,
        talk_attended=True,
        wichtiger_grund=True,
        reentry_possible=False,
        new_kp_possible=True,
    )
    assignment.refresh_from_db()
    plan.refresh_from_db()
    case.refresh_from_db()
    assert assignment.status == "CANCELLED"
    assert plan.status == "UNDER_REVIEW"
    assert case.cooperation_mode == "COOP_NO_RFB"
    assert Escalation.objects.get(pk=escalation.pk).status == "RESOLVED"

    draft = services.kooperationsplan_start(case_id=case.pk, actor=case.responsible)
    fill_draft(draft)
    draft.refresh_from_db()
    v2 = services.kooperationsplan_activate(plan_id=draft.pk, actor=case.responsible, lock_version=draft.lock_version)
    plan.refresh_from_db()
    assert (v2.version_number, v2.status, plan.status) == (2, "ACTIVE", "SUPERSEDED")
    assert not Letter.objects.filter(case=case, with_rfb=True).exists()


def test_scenario_d_abort_without_grund_gives_a_bescheid_for_the_rest_of_the_term(clock):
    case = new_case()
    plan, assignment, _ = aborted_measure(case, clock)
    with pytest.raises(WorkflowRefused) as refused:
        measures.clarification_outcome(
            assignment_id=assignment.pk,
            actor=case.responsible,
            talk_attended=True,
            wichtiger_grund=False,
            reentry_possible=True,
            new_kp_possible=True,
            rueckmeldung_due=in_days(10),
        )
    assert "zuw.traeger_ruecksprache_missing" in refused.value.decision.codes
    assert MassnahmeZuweisung.objects.get(pk=assignment.pk).status == "CLARIFICATION"

    measures.clarification_outcome(
        assignment_id=assignment.pk,
        actor=case.responsible,
        talk_attended=True,
        wichtiger_grund=False,
        reentry_possible=True,
        new_kp_possible=True,
        traeger_ruecksprache_on=date(2026, 4, 6),
        rueckmeldung_due=in_days(10),
    )
    assignment.refresh_from_db()
    case.refresh_from_db()
    assert (assignment.status, assignment.via, assignment.valid_to) == ("BESCHEID_ISSUED", "BESCHEID", plan.valid_to)
    assert case.cooperation_mode == "COOP_WITH_RFB"
    (bescheid,) = letters_of(case, "ZUW_BESCHEID")
    assert (bescheid.with_rfb, bescheid.is_va) == (True, True)
    assert bescheid.context["content"]["valid_to"] == plan.valid_to.isoformat()
    assert bescheid.context["content"]["traeger_ruecksprache_on"] == "2026-04-06"


def test_scenario_e_reentry_impossible_new_kp_then_bescheid(clock):
    case = new_case()
    plan, assignment, _ = aborted_measure(case, clock)
    measures.clarification_outcome(
        assignment_id=assignment.pk,
        actor=case.responsible,
        talk_attended=True,
        wichtiger_grund=False,
        reentry_possible=False,
        new_kp_possible=True,
    )
    assignment.refresh_from_db()
    assert assignment.status == "REPLACED"
    draft = services.kooperationsplan_start(case_id=case.pk, actor=case.responsible)
    fill_draft(draft)
    draft.refresh_from_db()
    v2 = services.kooperationsplan_activate(plan_id=draft.pk, actor=case.responsible, lock_version=draft.lock_version)
    other = measures.assignment_plan(
        plan_id=v2.pk,
        actor=case.responsible,
        massnahme_id=MassnahmeFactory().pk,
        start_date=in_days(20),
        end_date=in_days(80),
        rueckmeldung_due=in_days(10),
    )
    # R-ABB-4: the agreements of the new KP are backed by RFB (Zuweisungsbescheid).
    measures.zuweisungsbescheid_issue(assignment_id=other.pk, actor=case.responsible, idempotency_key=key())
    other.refresh_from_db()
    case.refresh_from_db()
    assert (other.status, other.via) == ("BESCHEID_ISSUED", "BESCHEID")
    assert case.cooperation_mode == "COOP_WITH_RFB"
    (bescheid,) = letters_of(case, "ZUW_BESCHEID")
    assert (bescheid.with_rfb, bescheid.is_va) == (True, True)
    assert "R-ABB-4" in [reason["rule_id"] for reason in bescheid.context["reasons"]]
    assert Kooperationsplan.objects.get(pk=plan.pk).status == "SUPERSEDED"


def test_scenario_f_failed_kp_tl_approval_schlichtung_expiry_then_15_6(clock):
    case = new_case()
    tl = UserFactory(tl=True, team=case.team)
    plan, assignment, _ = aborted_measure(case, clock)
    measures.clarification_outcome(
        assignment_id=assignment.pk,
        actor=case.responsible,
        talk_attended=False,
        wichtiger_grund=False,
        reentry_possible=False,
        new_kp_possible=False,
    )
    case.refresh_from_db()
    assert Kooperationsplan.objects.get(pk=plan.pk).status == "FAILED"
    assert case.cooperation_mode == "NO_KP_15_6"

    with pytest.raises(WorkflowRefused) as refused:
        schlichtung.schlichtung_start(
            case_id=case.pk,
            actor=case.responsible,
            requested_by="IFK",
            disagreement="Keine Einigung über Maßnahme",
            schlichter_name="Frau Neutral",
        )
    assert "schlichtung.tl_approval_required" in refused.value.decision.codes
    approval = schlichtung.schlichtung_request_approval(case_id=case.pk, actor=case.responsible, note="Bitte zustimmen")
    schlichtung.approval_decide(approval_id=approval.pk, actor=tl, approve=True)
    s = schlichtung.schlichtung_start(
        case_id=case.pk,
        actor=case.responsible,
        requested_by="IFK",
        disagreement="Keine Einigung über Maßnahme",
        schlichter_name="Frau Neutral",
    )
    assert s.ends_on == date(2026, 4, 29)
    case.refresh_from_db()
    assert case.cooperation_mode == "SCHLICHTUNG_PENDING"
    with pytest.raises(WorkflowRefused):
        escalations.aufforderung_15_6_issue(
            case_id=case.pk,
            actor=case.responsible,
            duty="5 Bewerbungen",
            deadline=in_days(20),
            breach_description="",
            idempotency_key=key(),
        )

    clock.move_to(datetime(2026, 4, 29, 2, tzinfo=BERLIN))
    assert schlichtung.schlichtung_expire_due(on=date(2026, 4, 29)) == [s.pk]
    assert schlichtung.schlichtung_expire_due(on=date(2026, 4, 29)) == []
    s.refresh_from_db()
    case.refresh_from_db()
    assert (s.outcome, s.ended_on, case.cooperation_mode) == ("NO_AGREEMENT", date(2026, 4, 29), "NO_KP_15_6")

    escalations.aufforderung_15_6_issue(
        case_id=case.pk,
        actor=case.responsible,
        duty="Legen Sie Nachweise über fünf Bewerbungen vor.",
        deadline=date(2026, 5, 20),
        breach_description="Kein KP nach Schlichtung",
        idempotency_key=key(),
    )
    (auff,) = letters_of(case, "AUFF_15_6")
    assert (auff.with_rfb, auff.is_va, auff.context["rfb"]["percent"]) == (True, True, 10)


def test_scenario_g_return_without_rfb_lifts_the_open_bescheid(clock):
    case = new_case()
    plan, assignment, _ = aborted_measure(case, clock)
    measures.clarification_outcome(
        assignment_id=assignment.pk,
        actor=case.responsible,
        talk_attended=True,
        wichtiger_grund=False,
        reentry_possible=True,
        new_kp_possible=True,
        traeger_ruecksprache_on=date(2026, 4, 6),
        rueckmeldung_due=in_days(10),
    )
    escalation = Escalation.objects.get(assignment=assignment)
    clock.move_to(datetime(2026, 4, 16, 9, tzinfo=BERLIN))
    escalations.aufforderung_complied(escalation_id=escalation.pk, actor=case.responsible)
    clock.move_to(datetime(2026, 8, 20, 9, tzinfo=BERLIN))
    services.kooperationsplan_start_review(plan_id=plan.pk, actor=case.responsible)
    draft = services.kooperationsplan_start(case_id=case.pk, actor=case.responsible)
    fill_draft(draft)
    draft.refresh_from_db()
    services.kooperationsplan_activate(
        plan_id=draft.pk,
        actor=case.responsible,
        lock_version=draft.lock_version,
        return_without_rfb_reason="Seit April hält sich Frau Muster zuverlässig an alle Absprachen.",
    )
    case.refresh_from_db()
    assignment.refresh_from_db()
    assert case.cooperation_mode == "COOP_NO_RFB"
    assert assignment.status == "AUFGEHOBEN"
    (aufhebung,) = letters_of(case, "AUFH_ZB")
    (bescheid,) = letters_of(case, "ZUW_BESCHEID")
    assert (aufhebung.is_va, aufhebung.with_rfb) == (True, False)
    assert aufhebung.context["content"]["bescheid_number"] == bescheid.number


def test_scenario_h_einstellungszusage_lapses_when_the_job_does_not_start(clock):
    case = new_case()
    exemption = exemptions.exemption_record(
        case_id=case.pk,
        actor=case.responsible,
        reason="EINSTELLUNGSZUSAGE",
        kennung_kp=True,
        kennung_reason="Feste Einstellungszusage der Muster GmbH ab 01.04.2026, keine Förderung nötig.",
        einstellungszusage={"employer": "Muster GmbH", "start_date": date(2026, 4, 1), "firm": True},
    )
    case.refresh_from_db()
    assert (case.cooperation_mode, exemption.recheck_due) == ("EXEMPT", date(2026, 4, 1))
    # D-04: start + 3 working days; Karfreitag (03.04.) and Ostermontag (06.04.) are no working days in NW.
    with pytest.raises(WorkflowRefused):
        exemptions.exemption_lapse(exemption_id=exemption.pk, actor=None, on=date(2026, 4, 8))
    exemptions.exemption_lapse(exemption_id=exemption.pk, actor=None, on=date(2026, 4, 9))
    case.refresh_from_db()
    exemption.refresh_from_db()
    assert (case.cooperation_mode, exemption.status, exemption.kennung_removed_on) == (
        "NO_KP_YET",
        "LAPSED",
        date(2026, 4, 9),
    )

    too_far = new_case()
    with pytest.raises(WorkflowRefused) as refused:
        exemptions.exemption_record(
            case_id=too_far.pk,
            actor=too_far.responsible,
            reason="EINSTELLUNGSZUSAGE",
            kennung_kp=True,
            kennung_reason="Zusage der Muster GmbH, Beginn erst im Sommer.",
            einstellungszusage={"employer": "Muster GmbH", "start_date": date(2026, 4, 28), "firm": True},
        )
    assert "exemption.ez_too_far" in refused.value.decision.codes


def test_scenario_i_paragraph_10_recheck_every_six_months(clock):
    case = new_case()
    exemption = exemptions.exemption_record(
        case_id=case.pk,
        actor=case.responsible,
        reason="PARAGRAPH_10",
        kennung_kp=True,
        kennung_reason="Elternzeit bis zum dritten Geburtstag des Kindes, Wiedereinstieg wird vorbereitet.",
        paragraph10={
            "kind": "ELTERNZEIT",
            "since": date(2025, 10, 1),
            "expected_end": date(2027, 9, 30),
            "zukunftsziel": True,
        },
    )
    assert exemption.recheck_due == date(2026, 9, 2)  # 02.03. + 6 months (D-02)
    # R-EXC-2: a voluntary KP is possible and ends the exemption (R-EXC-4).
    plan = active_plan(case)
    exemption.refresh_from_db()
    case.refresh_from_db()
    assert (plan.status, case.cooperation_mode, exemption.status) == ("ACTIVE", "COOP_NO_RFB", "ENDED")
    assert exemption.kennung_removed_on == date(2026, 3, 2)


def test_scenario_j_profillage_i_needs_the_full_checklist_and_the_kennung(clock):
    case = new_case()
    incomplete = {"vollzeit_sv_beschaeftigt": True, "keine_verringerung_6_monate": False}
    with pytest.raises(WorkflowRefused) as refused:
        exemptions.exemption_record(
            case_id=case.pk,
            actor=case.responsible,
            reason="PROFILLAGE_I",
            kennung_kp=True,
            kennung_reason="Vollzeit beschäftigt, alle Möglichkeiten ausgeschöpft.",
            checklist=incomplete,
        )
    assert "exemption.pl1_reduction_possible" in refused.value.decision.codes
    full = {**incomplete, "keine_verringerung_6_monate": True}
    with pytest.raises(WorkflowRefused) as refused:
        exemptions.exemption_record(
            case_id=case.pk,
            actor=case.responsible,
            reason="PROFILLAGE_I",
            kennung_kp=True,
            kennung_reason="PL1",
            checklist=full,
        )
    assert "exemption.kennung_reason_not_meaningful" in refused.value.decision.codes
    assert not Exemption.objects.filter(case=case).exists()
    exemption = exemptions.exemption_record(
        case_id=case.pk,
        actor=case.responsible,
        reason="PROFILLAGE_I",
        kennung_kp=True,
        kennung_reason="Vollzeit sozialversicherungspflichtig beschäftigt, keine Verringerung absehbar.",
        checklist=full,
    )
    case.refresh_from_db()
    assert (case.cooperation_mode, case.profillage, exemption.recheck_due) == ("EXEMPT", 1, date(2026, 9, 2))


def test_scenario_k_exempt_measure_type_never_reaches_an_aufforderung(clock):
    case = new_case()
    _, assignment, escalation = aborted_measure(case, clock, exempt=True)
    escalations.intervention_outcome(
        escalation_id=escalation.pk, actor=case.responsible, attended=True, wichtiger_grund=False
    )
    with pytest.raises(WorkflowRefused) as refused:
        escalations.aufforderung_15_5_issue(
            escalation_id=escalation.pk,
            actor=case.responsible,
            duty="Teilnahme",
            deadline=in_days(20),
            idempotency_key=key(),
        )
    assert refused.value.decision.codes == ("escalation.exempt_type",)
    with pytest.raises(WorkflowRefused):
        measures.clarification_outcome(
            assignment_id=assignment.pk,
            actor=case.responsible,
            talk_attended=True,
            wichtiger_grund=False,
            reentry_possible=True,
            new_kp_possible=True,
            traeger_ruecksprache_on=date(2026, 4, 6),
            rueckmeldung_due=in_days(10),
        )
    escalations.escalation_monitor_exempt(escalation_id=escalation.pk, actor=case.responsible)
    assert Escalation.objects.get(pk=escalation.pk).status == "MONITORING"
    assert not Letter.objects.filter(case=case, kind__in=["AUFF_15_5", "ZUW_BESCHEID"]).exists()
    case.refresh_from_db()
    assert case.cooperation_mode == "COOP_NO_RFB"


def test_every_step_left_one_timeline_event_with_reasons_and_sources(clock):
    case = new_case()
    walk_to_anhoerung(case, clock)
    events = list(TimelineEvent.objects.filter(case=case))
    assert len(events) >= 8
    for event in events:
        assert event.reason_codes
        assert event.sources
        assert event.rule_set
    assert not TeamLeadApproval.objects.filter(case=case).exists()
    assert not Schlichtung.objects.filter(case=case).exists()
    assert not MassnahmeZuweisung.objects.filter(case=case).exists()
