"""factory_boy factories for the domain models: valid, minimal, synthetic (Faker de_DE, example.org).

Every factory builds a row that passes all database constraints. Related rows stay consistent:
a case's team is the team of its responsible IFK, and rows hanging on a case are created,
issued or recorded by that IFK. Pass the owning object (`case=`, `plan=`, `letter=`) to attach
several rows to the same one; the derived fields follow it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta

import factory
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from factory.django import DjangoModelFactory

from cases.models import (
    AccessLog,
    Bedarfsgemeinschaft,
    Case,
    Einstellungszusage,
    Elb,
    GesetzlicheVertretung,
    HealthInformation,
    Jobcenter,
    Paragraph10Reason,
    Potenzialanalyse,
    Role,
    Salutation,
    Team,
    TimelineEvent,
    User,
)
from kooperationsplan.models import (
    AbsenceCover,
    Appointment,
    ContentItem,
    Eigenbemuehung,
    EigenbemuehungNachweis,
    Escalation,
    Exemption,
    Kooperationsplan,
    Massnahme,
    MassnahmeArt,
    MassnahmeZuweisung,
    Notification,
    Reminder,
    Schlichtung,
    Step,
    TeamLeadApproval,
)
from letters.models import ArchiveEntry, Letter
from rules.ruleset import CURRENT

PASSWORD = "pw"


# A surname that is neither in Faker's German list nor part of a name in it (nor of a word on our pages): for
# tests asserting that an eLb's name does not appear, where a random name could equal a member of staff's.
SYNTHETIC_LAST_NAME = "Quendlerhof"


def de(provider: str, **kwargs) -> factory.Faker:
    """A German Faker value (names, addresses, phone numbers)."""
    return factory.Faker(provider, locale="de_DE", **kwargs)


def today():
    return timezone.localdate()


def days_from_today(days: int):
    return factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=days))


def kundennummer(n: int) -> str:
    """Unique and valid (^[0-9]{3}[A-Z][0-9]{6}$) for the first 900 million numbers."""
    prefix, suffix = divmod(n, 1_000_000)
    return f"{100 + prefix % 900:03d}K{suffix:06d}"


class JobcenterFactory(DjangoModelFactory):
    class Meta:
        model = Jobcenter

    name = factory.Sequence(lambda n: f"Jobcenter Musterstadt {n}")
    street = de("street_address")
    postal_code = de("postcode")
    city = de("city")
    phone = de("phone_number")
    email = factory.Sequence(lambda n: f"jobcenter{n}@example.org")
    widerspruch_address = factory.LazyAttribute(lambda o: f"{o.name}\nWiderspruchsstelle\n{o.postal_code} {o.city}")


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    jobcenter = factory.SubFactory(JobcenterFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(DjangoModelFactory):
    """An IFK by default; `UserFactory(tl=True)` is a Teamleitung, `UserFactory(fa=True)` Fachadministration."""

    class Meta:
        model = User

    class Params:
        tl = factory.Trait(role=Role.TEAMLEITUNG)
        fa = factory.Trait(role=Role.FACHADMIN, team=None)

    username = factory.Sequence(lambda n: f"mitarbeiter{n}")
    first_name = de("first_name")
    last_name = de("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password(PASSWORD)
    role = Role.IFK
    team = factory.SubFactory(TeamFactory)


class BedarfsgemeinschaftFactory(DjangoModelFactory):
    class Meta:
        model = Bedarfsgemeinschaft

    jobcenter = factory.SubFactory(JobcenterFactory)
    bg_nummer = factory.Sequence(lambda n: f"12345BG{n % 10_000_000:07d}")


class ElbFactory(DjangoModelFactory):
    """An adult eLb; `ElbFactory(minor=True)` is 16 years old."""

    class Meta:
        model = Elb

    class Params:
        minor = factory.Trait(birth_date=de("date_of_birth", minimum_age=16, maximum_age=16))

    kundennummer = factory.Sequence(kundennummer)
    first_name = de("first_name")
    last_name = de("last_name")
    birth_date = de("date_of_birth", minimum_age=25, maximum_age=55)
    street = de("street_address")
    postal_code = de("postcode")
    city = de("city")
    email = factory.LazyAttribute(lambda o: f"{o.kundennummer.lower()}@example.org")


class GesetzlicheVertretungFactory(DjangoModelFactory):
    class Meta:
        model = GesetzlicheVertretung

    elb = factory.SubFactory(ElbFactory, minor=True)
    relation = GesetzlicheVertretung.Relation.MUTTER
    salutation = Salutation.FRAU
    first_name = de("first_name_female")
    last_name = factory.SelfAttribute("elb.last_name")
    street = factory.SelfAttribute("elb.street")
    postal_code = factory.SelfAttribute("elb.postal_code")
    city = factory.SelfAttribute("elb.city")


class CaseFactory(DjangoModelFactory):
    """The team always follows the responsible IFK: pass `responsible=` or `responsible__team=`."""

    class Meta:
        model = Case

    elb = factory.SubFactory(ElbFactory)
    responsible = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.responsible.team)
    leistungsbeginn = days_from_today(-180)

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        if kwargs["team"] != kwargs["responsible"].team:
            raise ValueError("CaseFactory: the team must be the responsible IFK's team; pass responsible__team=…")
        return kwargs


class HealthInformationFactory(DjangoModelFactory):
    class Meta:
        model = HealthInformation

    case = factory.SubFactory(CaseFactory)


class Paragraph10ReasonFactory(DjangoModelFactory):
    class Meta:
        model = Paragraph10Reason

    case = factory.SubFactory(CaseFactory)
    kind = Paragraph10Reason.Kind.ELTERNZEIT
    since = days_from_today(-90)
    expected_end = days_from_today(365)
    last_checked_on = factory.LazyFunction(today)


class EinstellungszusageFactory(DjangoModelFactory):
    class Meta:
        model = Einstellungszusage

    case = factory.SubFactory(CaseFactory)
    employer = de("company")
    recorded_on = factory.LazyFunction(today)
    start_date = days_from_today(21)


class PotenzialanalyseFactory(DjangoModelFactory):
    """In progress by default; `complete=True` fills every part the constraint pa_complete_has_all_parts asks for."""

    class Meta:
        model = Potenzialanalyse

    class Params:
        complete = factory.Trait(
            status=Potenzialanalyse.Status.COMPLETE,
            strengths="Ich bin zuverlässig und arbeite gern im Team.",
            qualifications="Ausbildung zur Verkäuferin, fünf Jahre Berufserfahrung im Einzelhandel.",
            handlungsbedarfe="Bewerbungsunterlagen aktualisieren.",
            obstacles="Kinderbetreuung am Nachmittag ist noch nicht geklärt.",
            health_reha_assessed=True,
            completed_at=factory.LazyFunction(timezone.now),
            completed_by=factory.SelfAttribute("case.responsible"),
        )

    case = factory.SubFactory(CaseFactory)


def _next_version(plan) -> int:
    return (plan.case.plans.aggregate(highest=Max("version_number"))["highest"] or 0) + 1


class KooperationsplanFactory(DjangoModelFactory):
    """A draft by default; `active=True` is an activated plan (6 months, R-KP-4) with the R-KP-3/R-EB-3 checklist."""

    class Meta:
        model = Kooperationsplan

    class Params:
        active = factory.Trait(
            status="ACTIVE",
            valid_from=factory.LazyFunction(today),
            valid_to=days_from_today(182),
            review_due=factory.SelfAttribute("valid_to"),
            activated_at=factory.LazyFunction(timezone.now),
            gemeinsam_erarbeitet=True,
            vb_erlaeutert=True,
            infoblatt_vb_ausgehaendigt_on=factory.LazyFunction(today),
            beratungsvermerk_ref="BV-2026-0001",
        )

    case = factory.SubFactory(CaseFactory)
    version_number = factory.LazyAttribute(_next_version)
    naechstes_ziel = "Ich möchte eine Teilzeitstelle im Einzelhandel finden."
    created_by = factory.SelfAttribute("case.responsible")


class ContentItemFactory(DjangoModelFactory):
    """A filled "Weitere Aktivitäten" item (several per plan allowed); pass `kind=` for the Soll-Inhalte."""

    class Meta:
        model = ContentItem

    class Params:
        nicht_relevant_soll_3 = factory.Trait(kind="SOLL_3", text="", nicht_relevant=True)

    plan = factory.SubFactory(KooperationsplanFactory)
    kind = "WEITERE"
    text = "Ich nehme an der Informationsveranstaltung zur Weiterbildung teil."


class StepFactory(DjangoModelFactory):
    class Meta:
        model = Step

    plan = factory.SubFactory(KooperationsplanFactory)
    text = "Ich aktualisiere meinen Lebenslauf."
    due_on = days_from_today(14)


class EigenbemuehungFactory(DjangoModelFactory):
    class Meta:
        model = Eigenbemuehung

    plan = factory.SubFactory(KooperationsplanFactory)
    kind = Eigenbemuehung.Kind.BEWERBUNG
    description = "Ich bewerbe mich auf Stellen im Einzelhandel."
    min_count = 4
    period = "MONAT"
    nachweis_form = Eigenbemuehung.NachweisForm.LISTE
    nachweis_due_day = 5


class EigenbemuehungNachweisFactory(DjangoModelFactory):
    class Meta:
        model = EigenbemuehungNachweis

    eigenbemuehung = factory.SubFactory(EigenbemuehungFactory)
    case = factory.LazyAttribute(lambda o: o.eigenbemuehung.plan.case)  # the trigger sets it anyway
    period_start = days_from_today(-60)
    period_end = factory.LazyAttribute(lambda o: o.period_start + timedelta(days=29))
    due_on = factory.LazyAttribute(lambda o: o.period_end + timedelta(days=5))


class MassnahmeArtFactory(DjangoModelFactory):
    """A measure type with Aufforderungen allowed; `exempt=True` is excluded from RFB (P2, R-ESC-4)."""

    class Meta:
        model = MassnahmeArt

    class Params:
        exempt = factory.Trait(exempt_from_rfb=True, exempt_source="Fachliche Hinweise KP 6.1 (§ 16k SGB II)")

    code = factory.Sequence(lambda n: f"MAT{n}")
    name = "Maßnahme zur Aktivierung und beruflichen Eingliederung"
    rechtsgrundlage = "§ 16 Abs. 1 SGB II i. V. m. § 45 SGB III"


class MassnahmeFactory(DjangoModelFactory):
    class Meta:
        model = Massnahme

    art = factory.SubFactory(MassnahmeArtFactory)
    title = "Bewerbungscenter"
    massnahme_nummer = factory.Sequence(lambda n: f"962/{n:06d}/25")
    content = "Bewerbungstraining, Stellensuche, Vorbereitung auf Vorstellungsgespräche."
    traeger_name = de("company")
    traeger_street = de("street_address")
    traeger_postal_code = de("postcode")
    traeger_city = de("city")
    traeger_contact = de("name")
    traeger_phone = de("phone_number")
    traeger_email = factory.Sequence(lambda n: f"traeger{n}@example.org")
    location = factory.SelfAttribute("traeger_city")
    schedule = "Mo–Fr 8:30–12:30 Uhr"
    duration_weeks = 12


class MassnahmeZuweisungFactory(DjangoModelFactory):
    """A measure planned in an active plan; the case follows the plan (pass `plan=`)."""

    class Meta:
        model = MassnahmeZuweisung

    plan = factory.SubFactory(KooperationsplanFactory, active=True)
    case = factory.SelfAttribute("plan.case")
    massnahme = factory.SubFactory(MassnahmeFactory)
    start_date = days_from_today(21)
    end_date = factory.LazyAttribute(lambda o: o.start_date + timedelta(weeks=12))
    rueckmeldung_due = days_from_today(14)

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        if kwargs["case"] != kwargs["plan"].case:
            raise ValueError("MassnahmeZuweisungFactory: the case must be the plan's case; pass plan=…")
        return kwargs


def _next_week_at_ten():
    day = timezone.localdate() + timedelta(days=7)
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


class AppointmentFactory(DjangoModelFactory):
    class Meta:
        model = Appointment

    case = factory.SubFactory(CaseFactory)
    kind = "FOLGE"
    starts_at = factory.LazyFunction(_next_week_at_ten)
    location = "Raum 1.23"
    meldezweck = "Besprechung Ihres Bewerberangebots und Ihrer beruflichen Situation"
    with_rfb = False
    created_by = factory.SelfAttribute("case.responsible")


class EscalationFactory(DjangoModelFactory):
    class Meta:
        model = Escalation

    case = factory.SubFactory(CaseFactory)
    breach_kind = "EB_FEHLEN"
    breach_date = days_from_today(-3)
    description = "Der Nachweis der Eigenbemühungen für den Vormonat ist nicht eingegangen."
    created_by = factory.SelfAttribute("case.responsible")


class TeamLeadApprovalFactory(DjangoModelFactory):
    """An open request to the team lead to approve a Schlichtung for the case (R-ABB-6)."""

    class Meta:
        model = TeamLeadApproval

    case = factory.SubFactory(CaseFactory)
    kind = TeamLeadApproval.Kind.SCHLICHTUNG_NACH_SCHEITERN
    subject_type = "cases.case"
    subject_id = factory.SelfAttribute("case.pk")
    requested_by = factory.SelfAttribute("case.responsible")
    request_note = "Die eLb wünscht eine Schlichtung nach dem Scheitern des Kooperationsplans."


class SchlichtungFactory(DjangoModelFactory):
    """A running Schlichtung with the maximum duration of 4 weeks (§ 15a Abs. 4 SGB II, D-12)."""

    class Meta:
        model = Schlichtung

    case = factory.SubFactory(CaseFactory)
    requested_by = Schlichtung.RequestedBy.ELB
    disagreement = "Anzahl der monatlichen Bewerbungen."
    schlichter_name = de("name")
    started_on = factory.LazyFunction(today)
    ends_on = factory.LazyAttribute(lambda o: o.started_on + timedelta(days=28))
    created_by = factory.SelfAttribute("case.responsible")


class ExemptionFactory(DjangoModelFactory):
    """An active exemption for an Einstellungszusage with the Kennung KP (P6, R-EXC-1)."""

    class Meta:
        model = Exemption

    class Params:
        profillage_i = factory.Trait(
            reason=Exemption.Reason.PROFILLAGE_I,
            einstellungszusage=None,
            vollzeit_sv_beschaeftigt=True,
            keine_verringerung_6_monate=True,
        )
        paragraph_10 = factory.Trait(
            reason=Exemption.Reason.PARAGRAPH_10,
            einstellungszusage=None,
            paragraph10_reason=factory.SubFactory(Paragraph10ReasonFactory, case=factory.SelfAttribute("..case")),
        )

    case = factory.SubFactory(CaseFactory)
    reason = Exemption.Reason.EINSTELLUNGSZUSAGE
    kennung_kp = True
    kennung_reason = "Feste Einstellungszusage liegt vor; Arbeitsaufnahme in drei Wochen."
    einstellungszusage = factory.SubFactory(EinstellungszusageFactory, case=factory.SelfAttribute("..case"))
    recorded_on = factory.LazyFunction(today)
    recheck_due = factory.LazyAttribute(lambda o: o.recorded_on + timedelta(days=30))
    recorded_by = factory.SelfAttribute("case.responsible")


class ReminderFactory(DjangoModelFactory):
    """An open "KP fehlt" reminder for the case, assigned to its IFK."""

    class Meta:
        model = Reminder

    case = factory.SubFactory(CaseFactory)
    assignee = factory.SelfAttribute("case.responsible")
    kind = "KP_FEHLT"
    subject_type = "cases.case"
    subject_id = factory.SelfAttribute("case.pk")
    due_on = days_from_today(7)
    remind_on = factory.LazyFunction(today)
    rule_id = "R-KP-1"


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification

    reminder = factory.SubFactory(ReminderFactory)
    user = factory.SelfAttribute("reminder.assignee")
    case = factory.SelfAttribute("reminder.case")
    message = "Für diesen Fall fehlt noch ein Kooperationsplan."


class AbsenceCoverFactory(DjangoModelFactory):
    """An IFK absent today and tomorrow, covered by a colleague of the same team, entered by the team lead."""

    class Meta:
        model = AbsenceCover

    user = factory.SubFactory(UserFactory)
    cover = factory.SubFactory(UserFactory, team=factory.SelfAttribute("..user.team"))
    set_by = factory.SubFactory(UserFactory, team=factory.SelfAttribute("..user.team"), tl=True)
    starts_on = factory.LazyFunction(today)
    ends_on = days_from_today(1)


def _recipient(elb: Elb) -> dict[str, str]:
    return {
        "name": elb.full_name,
        "street": elb.street,
        "postal_code": elb.postal_code,
        "city": elb.city,
    }


class LetterFactory(DjangoModelFactory):
    """An issued first invitation (no RFB, no VA); `rendered=True` adds the PDF and its SHA-256."""

    class Meta:
        model = Letter

    class Params:
        rendered = factory.Trait(
            status=Letter.Status.RENDERED,
            pdf=factory.Sequence(lambda n: f"%PDF-1.7\n% Testschreiben {n}\n%%EOF\n".encode()),
            sha256=factory.LazyAttribute(lambda o: hashlib.sha256(o.pdf).hexdigest()),
            rendered_at=factory.LazyFunction(timezone.now),
            render_attempts=1,
        )

    case = factory.SubFactory(CaseFactory)
    kind = "EINL_KP_ERST"
    number = factory.Sequence(lambda n: f"S-{n:08d}")
    letter_date = factory.LazyFunction(today)
    recipients = factory.LazyAttribute(lambda o: [_recipient(o.case.elb)])
    context = factory.LazyAttribute(lambda o: {"aktenzeichen": o.case.elb.kundennummer})
    template_version = "1"
    rule_set = CURRENT.id
    with_rfb = False
    is_va = False
    issued_by = factory.SelfAttribute("case.responsible")
    idempotency_key = factory.Sequence(lambda n: f"test-letter-{n}")


class ArchiveEntryFactory(DjangoModelFactory):
    """The E-Akte entry of a rendered letter (R-ARC-1)."""

    class Meta:
        model = ArchiveEntry

    letter = factory.SubFactory(LetterFactory, rendered=True)
    case = factory.SelfAttribute("letter.case")
    document_type = factory.SelfAttribute("letter.kind")
    version = 1
    sha256 = factory.SelfAttribute("letter.sha256")


class TimelineEventFactory(DjangoModelFactory):
    class Meta:
        model = TimelineEvent

    case = factory.SubFactory(CaseFactory)
    actor = factory.SelfAttribute("case.responsible")
    code = "case.created"
    summary = "Fall angelegt"
    reason_codes = factory.LazyFunction(lambda: ["R-PA-2"])
    sources = factory.LazyFunction(lambda: ["§ 15 Abs. 1 SGB II"])
    rule_set = CURRENT.id


class AccessLogFactory(DjangoModelFactory):
    class Meta:
        model = AccessLog

    user = factory.SubFactory(UserFactory)
    case_id_accessed = factory.Sequence(lambda n: n + 1)
    view_name = "cases:case_detail"
    path = factory.LazyAttribute(lambda o: f"/faelle/{o.case_id_accessed}/")
    outcome = AccessLog.Outcome.GRANTED


# Database assertions shared by the constraint tests: the row is refused by PostgreSQL itself
# (no full_clean), by the named constraint, and nothing changes.


def assert_update_rejected(obj, constraint: str, **changes) -> None:
    """`.update(**changes)` on the saved row `obj` fails with the named constraint; the row stays as it was."""
    rows = type(obj).objects.filter(pk=obj.pk)
    before = rows.values(*changes).get()
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        rows.update(**changes)
    assert f'"{constraint}"' in str(exc.value), f"expected {constraint}, got: {exc.value}"
    assert rows.values(*changes).get() == before


def assert_insert_rejected(constraint: str, model_factory, **kwargs) -> None:
    """Saving a new row built by `model_factory(**kwargs)` fails with the named constraint; no row is added."""
    model = model_factory._meta.model
    count = model.objects.count()
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        model_factory(**kwargs)
    assert f'"{constraint}"' in str(exc.value), f"expected {constraint}, got: {exc.value}"
    assert model.objects.count() == count


def unique_constraint_on(model, column: str) -> str:
    """The PostgreSQL name of the single-column unique constraint behind `unique=True` or a OneToOneField."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    (name,) = [n for n, c in constraints.items() if c["unique"] and not c["primary_key"] and c["columns"] == [column]]
    return name
