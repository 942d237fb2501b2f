"""T21 over every workflow step of the next-steps panel: NUL bytes, control characters and 100,000 characters in
each field of each step's form give a German form error (400) or a refusal (422) — or 404 where the value names
an object, such as a forged target id — never a 500, and change nothing."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from cases.models import Case, TimelineEvent
from kooperationsplan import escalations
from kooperationsplan.models import (
    Appointment,
    EigenbemuehungNachweis,
    Escalation,
    Kooperationsplan,
    MassnahmeZuweisung,
)
from kooperationsplan.views import STEPS
from letters.models import Letter
from tests.conftest import client_for
from tests.factories import MassnahmeZuweisungFactory
from tests.kooperationsplan.workflow_helpers import BERLIN, active_plan, at, key, new_case

pytestmark = pytest.mark.django_db

HOSTILE = ["a\x00b", "x" * 100_000, "\x07\x1b[31m", "2026-02-30"]


@pytest.fixture
def world(ifk_nord):
    """One case with one object of every kind a step can target."""
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=BERLIN), tick=False) as clock:
        case = new_case(ifk=ifk_nord)
        plan = active_plan(case)
        assignment = MassnahmeZuweisungFactory(plan=plan)
        appointment = escalations.invitation_issue(
            case_id=case.pk,
            actor=ifk_nord,
            kind="FOLGE",
            starts_at=at(date(2026, 3, 3)),
            location="Raum 1",
            meldezweck="Gespräch",
            idempotency_key=key(),
        )
        escalation = escalations.breach_record(
            case_id=case.pk,
            actor=ifk_nord,
            breach_kind="EB_FEHLEN",
            breach_date=date(2026, 3, 1),
            description="Nachweis fehlt.",
        )
        nachweis = EigenbemuehungNachweis.objects.create(
            eigenbemuehung=plan.eigenbemuehungen.get(),
            period_start=date(2026, 2, 1),
            period_end=date(2026, 2, 28),
            due_on=date(2026, 3, 5),
        )
        clock.move_to(datetime(2026, 3, 10, 9, tzinfo=BERLIN))
        yield {
            "case": case,
            "targets": {
                "escalation": escalation.pk,
                "assignment": assignment.pk,
                "appointment": appointment.pk,
                "nachweis": nachweis.pk,
            },
        }


def state(case) -> tuple:
    return (
        Case.objects.get(pk=case.pk).cooperation_mode,
        tuple(Kooperationsplan.objects.filter(case=case).values_list("status", "lock_version")),
        tuple(Escalation.objects.filter(case=case).values_list("status")),
        tuple(MassnahmeZuweisung.objects.filter(case=case).values_list("status")),
        tuple(Appointment.objects.filter(case=case).values_list("outcome")),
        tuple(EigenbemuehungNachweis.objects.filter(eigenbemuehung__plan__case=case).values_list("received_on")),
        Letter.objects.filter(case=case).count(),
        TimelineEvent.objects.filter(case=case).count(),
    )


FORMS_WITH_FIELDS = sorted(name for name, step in STEPS.items() if set(step.form().fields) - {"token"})


@pytest.mark.parametrize("name", FORMS_WITH_FIELDS)
def test_hostile_input_in_every_step_form_is_refused_without_a_500(world, name):
    case, targets = world["case"], world["targets"]
    step = STEPS[name]
    client = client_for(case.responsible)
    query = f"?{step.needs}={targets[step.needs]}" if step.needs else ""
    fields = set(step.form().fields) - {"token"}
    before = state(case)
    for bad in HOSTILE:
        # Every field of the form at once: Django cleans each of them, so each one meets the hostile value.
        response = client.post(f"/faelle/{case.pk}/aktion/{name}/{query}", {**dict.fromkeys(fields, bad), "token": "t"})
        assert response.status_code in (400, 404, 422), (name, repr(bad[:10]), response.status_code)
        assert state(case) == before, name
