"""Building blocks for workflow tests: a case walked through the real services, never by hand."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from cases.models import Case, Potenzialanalyse, User
from kooperationsplan import services
from kooperationsplan.models import ContentItem, Eigenbemuehung, Kooperationsplan, Step
from tests.factories import CaseFactory, GesetzlicheVertretungFactory, UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
_keys = itertools.count(1)


def key(prefix: str = "k") -> str:
    """A fresh idempotency key, as a form would carry one."""
    return f"{prefix}-{next(_keys)}"


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=BERLIN)


def new_case(*, minor: bool = False, ifk: User | None = None) -> Case:
    ifk = ifk or UserFactory()
    case = CaseFactory(responsible=ifk, elb__minor=minor) if minor else CaseFactory(responsible=ifk)
    if minor:
        GesetzlicheVertretungFactory(elb=case.elb, relation="MUTTER", salutation="FRAU")
        GesetzlicheVertretungFactory(elb=case.elb, relation="VATER", salutation="HERR", first_name="Jürgen")
    return case


def complete_pa(case: Case) -> None:
    existing = Potenzialanalyse.objects.filter(case=case).first()
    pa = services.potenzialanalyse_save(
        case_id=case.pk,
        actor=case.responsible,
        version=existing.version if existing else 1,
        data={
            "strengths": "Ich bin zuverlässig und kann gut mit Kundinnen und Kunden umgehen.",
            "qualifications": "Ausbildung als Verkäuferin.",
            "handlungsbedarfe": "Bewerbungsunterlagen aktualisieren.",
            "obstacles": "Kinderbetreuung am Nachmittag ist ungeklärt.",
            "health_reha_assessed": True,
        },
    )
    services.potenzialanalyse_complete(case_id=case.pk, actor=case.responsible, version=pa.version)


def fill_draft(plan: Kooperationsplan, *, eb_count: int = 5) -> Kooperationsplan:
    """A draft with all Soll-Inhalte, three steps, EB "5 Bewerbungen pro Monat, Nachweis bis zum 5."."""
    texts = {
        "SOLL_1": "Das Jobcenter unterstützt mich mit einem Bewerbungscoaching.",
        "SOLL_2": "Ich bewerbe mich jeden Monat auf mindestens fünf passende Stellen.",
        "SOLL_5": "Ich arbeite wieder als Verkäuferin in Teilzeit.",
    }
    for kind, text in texts.items():
        ContentItem.objects.update_or_create(plan=plan, kind=kind, defaults={"text": text, "nicht_relevant": False})
    for kind in ("SOLL_3", "SOLL_4", "SOLL_6"):
        ContentItem.objects.update_or_create(plan=plan, kind=kind, defaults={"text": "", "nicht_relevant": True})
    if not plan.steps.exists():
        for position, text in enumerate(
            (
                "Ich aktualisiere meinen Lebenslauf.",
                "Ich melde mich in der Jobbörse an.",
                "Ich kläre die Kinderbetreuung am Nachmittag.",
            )
        ):
            Step.objects.create(plan=plan, position=position, text=text)
    if not plan.eigenbemuehungen.exists():
        Eigenbemuehung.objects.create(
            plan=plan,
            kind="BEWERBUNG",
            description="Ich bewerbe mich schriftlich oder online.",
            min_count=eb_count,
            period="MONAT",
            nachweis_form="LISTE",
            nachweis_due_day=5,
        )
    # RULES.md 6.2: the KP document names the next goal; without it the letter is not issued.
    plan.naechstes_ziel = plan.naechstes_ziel or "Ich finde eine Teilzeitstelle im Verkauf."
    plan.gemeinsam_erarbeitet = True
    plan.vb_erlaeutert = True
    plan.infoblatt_vb_ausgehaendigt_on = timezone.localdate()
    plan.beratungsvermerk_ref = "BV-0001"
    plan.save()
    return plan


def active_plan(case: Case, *, valid_from: date | None = None) -> Kooperationsplan:
    """PA complete → draft → filled → activated, through the services."""
    if not Potenzialanalyse.objects.filter(case=case, status="COMPLETE").exists():
        complete_pa(case)
    draft = services.kooperationsplan_start(case_id=case.pk, actor=case.responsible)
    fill_draft(draft)
    draft.refresh_from_db()
    return services.kooperationsplan_activate(
        plan_id=draft.pk, actor=case.responsible, lock_version=draft.lock_version, valid_from=valid_from
    )


def in_days(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)
