"""Synthetic demo data: one Jobcenter, two teams, staff logins and 60 eLb in every cooperation mode.

Everything is made up: names and streets come from Faker (de_DE) with a fixed seed, Kundennummern,
BG numbers and Maßnahme numbers are generated, e-mail addresses use the reserved domains
`example.org` and `.invalid`. No real Sozialdaten.

Dates are computed relative to a reference day (normally `timezone.localdate()`) so that the
demo always shows plans that are overdue, plans due for review within the next four weeks, a running
Schlichtung and so on. The data follows RULES.md and the database constraints: a KP is only active
on top of a complete Potenzialanalyse (R-PA-1), has the six Soll-Inhalte (R-KP-5), a review date six
months after the start (R-KP-4), and every exemption carries the Kennung KP with a reason (P6, R-EXC-4).

`seed_demo()` is idempotent: once the demo Jobcenter exists it changes nothing, except that it resets
a demo login whose password is no longer "demo".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pghistory
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from faker import Faker

from cases.models import (
    Bedarfsgemeinschaft,
    Bundesland,
    Case,
    CooperationMode,
    Einstellungszusage,
    Elb,
    GesetzlicheVertretung,
    GesetzlicheVertretungRelation,
    HealthInformation,
    HealthInformationRehaStatus,
    Jobcenter,
    Paragraph10Reason,
    Paragraph10ReasonKind,
    Potenzialanalyse,
    PotenzialanalyseStatus,
    Profillage,
    Role,
    Salutation,
    Team,
    TimelineEvent,
    User,
)
from kooperationsplan.demo_letters import freeze_demo_letters
from kooperationsplan.models import (
    Appointment,
    AppointmentKind,
    AppointmentOutcome,
    AssignmentStatus,
    AssignmentVia,
    BreachKind,
    ContentItem,
    ContentKind,
    Eigenbemuehung,
    EigenbemuehungKind,
    EigenbemuehungNachweis,
    EigenbemuehungNachweisForm,
    Escalation,
    EscalationStatus,
    Exemption,
    ExemptionReason,
    Kooperationsplan,
    KPStatus,
    Massnahme,
    MassnahmeArt,
    MassnahmeZuweisung,
    Period,
    Schlichtung,
    SchlichtungOutcome,
    SchlichtungRequestedBy,
    Step,
    StepResponsible,
    TeamLeadApproval,
    TeamLeadApprovalKind,
)
from rules.dates import add_months
from rules.ruleset import CURRENT

DEMO_JOBCENTER_NAME = "Jobcenter Musterstadt"
DEMO_PASSWORD = "demo"  # noqa: S105 (documented demo login, printed by the command, synthetic data only)
DEMO_URL = "http://127.0.0.1:8000/"
FAKER_SEED = 4711
TEAM_NORD = "Team Nord"
TEAM_SUED = "Team Süd"

# Synthetic postal codes of the fictitious Musterstadt, so that addresses stay plausible.
MUSTERSTADT_POSTAL_CODES = ("12345", "12347", "12349", "12351", "12353", "12355", "12357")


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    team: str | None
    room: str
    extension: str


DEMO_LOGINS = (
    DemoLogin("ifk.nord1", Role.IFK, TEAM_NORD, "A 1.12", "211"),
    DemoLogin("ifk.nord2", Role.IFK, TEAM_NORD, "A 1.14", "212"),
    DemoLogin("ifk.sued1", Role.IFK, TEAM_SUED, "B 2.03", "231"),
    DemoLogin("ifk.sued2", Role.IFK, TEAM_SUED, "B 2.05", "232"),
    DemoLogin("tl.nord", Role.TEAMLEITUNG, TEAM_NORD, "A 1.01", "201"),
    DemoLogin("tl.sued", Role.TEAMLEITUNG, TEAM_SUED, "B 2.01", "221"),
    DemoLogin("admin", Role.FACHADMIN, None, "C 0.10", "290"),
)


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


@dataclass
class SeedResult:
    created: bool
    reference_day: date
    mode_counts: dict[str, dict[str, int]]
    logins: list[User]
    passwords_reset: list[str] = field(default_factory=list)
    missing_logins: list[str] = field(default_factory=list)


def seed_demo(*, today: date | None = None) -> SeedResult:
    """Create the demo data once (one transaction); a second call changes nothing."""
    reference_day = today or timezone.localdate()
    with transaction.atomic():
        jobcenter = Jobcenter.objects.filter(name=DEMO_JOBCENTER_NAME).first()
        if jobcenter is not None:
            reset, missing = _refresh_demo_passwords()
            return SeedResult(
                created=False,
                reference_day=reference_day,
                mode_counts=demo_mode_counts(jobcenter),
                logins=demo_logins(),
                passwords_reset=reset,
                missing_logins=missing,
            )
        with pghistory.context(source="seed_demo"):
            jobcenter = _DemoBuilder(reference_day).build()
        return SeedResult(
            created=True,
            reference_day=reference_day,
            mode_counts=demo_mode_counts(jobcenter),
            logins=demo_logins(),
        )


def demo_mode_counts(jobcenter: Jobcenter) -> dict[str, dict[str, int]]:
    """Open cases per cooperation mode and team: {mode: {team name: count}}."""
    counts: dict[str, dict[str, int]] = {mode: {} for mode in CooperationMode.values}
    rows = (
        Case.objects.filter(team__jobcenter=jobcenter, closed_on__isnull=True)
        .values("cooperation_mode", "team__name")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["cooperation_mode"]][row["team__name"]] = row["n"]
    return counts


def demo_logins() -> list[User]:
    order = {login.username: index for index, login in enumerate(DEMO_LOGINS)}
    users = User.objects.filter(username__in=order).select_related("team")
    return sorted(users, key=lambda user: order[user.username])


def _refresh_demo_passwords() -> tuple[list[str], list[str]]:
    """Reset a demo password only if it changed, so that a repeated run leaves the hashes alone."""
    users = {user.username: user for user in User.objects.filter(username__in=[x.username for x in DEMO_LOGINS])}
    reset: list[str] = []
    for user in users.values():
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            reset.append(user.username)
    missing = [login.username for login in DEMO_LOGINS if login.username not in users]
    return sorted(reset), missing


# --- Scenario table -------------------------------------------------------------------------------------------

M = CooperationMode


@dataclass(frozen=True)
class _Spec:
    """One eLb with one open case. `household` "partner"/"child" joins the BG of the eLb listed before."""

    mode: str
    variant: str
    review_in: int | None = None  # days from the reference day to the review date of the current plan
    household: str = "single"
    assignment: str | None = None  # status of a measure assignment on the current plan
    art: str = "AKTIVIERUNG"
    version2: bool = False
    sprachfoerderung: bool = False
    reha: bool = False
    p10_kind: str = Paragraph10ReasonKind.ELTERNZEIT
    selbststaendig: bool = False
    tl_request: bool = False


_NORD = (
    _Spec(M.NO_KP_YET, "new"),
    _Spec(M.NO_KP_YET, "new", household="partner"),
    _Spec(M.NO_KP_YET, "pa_in_progress"),
    _Spec(M.NO_KP_YET, "pa_in_progress"),
    _Spec(M.NO_KP_YET, "pa_complete"),
    _Spec(M.NO_KP_YET, "pa_complete", household="child"),
    _Spec(M.COOP_NO_RFB, "coop", review_in=-38, assignment=AssignmentStatus.STARTED),
    _Spec(M.COOP_NO_RFB, "coop", review_in=-16),
    _Spec(M.COOP_NO_RFB, "coop", review_in=-6, version2=True),
    _Spec(M.COOP_NO_RFB, "coop", review_in=5, assignment=AssignmentStatus.SCHREIBEN_ISSUED, art="AGH"),
    _Spec(M.COOP_NO_RFB, "coop", review_in=11, household="child"),
    _Spec(M.COOP_NO_RFB, "coop", review_in=19, sprachfoerderung=True),
    _Spec(M.COOP_NO_RFB, "coop", review_in=26, assignment=AssignmentStatus.STARTED, art="16K"),
    _Spec(M.COOP_NO_RFB, "coop", review_in=45, version2=True),
    _Spec(M.COOP_NO_RFB, "coop", review_in=80, assignment=AssignmentStatus.CLARIFICATION),
    _Spec(M.COOP_NO_RFB, "coop", review_in=110, reha=True, assignment=AssignmentStatus.STARTED, art="REHA"),
    _Spec(M.COOP_NO_RFB, "coop", review_in=140, household="partner"),
    _Spec(M.COOP_NO_RFB, "coop_return", review_in=170, version2=True),
    _Spec(M.COOP_WITH_RFB, "rfb_auff_eb", review_in=22),
    _Spec(M.COOP_WITH_RFB, "rfb_resolved", review_in=15, art="AGH"),
    _Spec(M.COOP_WITH_RFB, "rfb_bescheid", review_in=60),
    _Spec(M.COOP_WITH_RFB, "rfb_auff_vorstellung", review_in=-9),
    _Spec(M.SCHLICHTUNG_PENDING, "schl_disputed", review_in=-12),
    _Spec(M.SCHLICHTUNG_PENDING, "schl_draft"),
    _Spec(M.NO_KP_15_6, "failed"),
    _Spec(M.NO_KP_15_6, "abandoned"),
    _Spec(M.NO_KP_15_6, "not_continued"),
    _Spec(M.EXEMPT, "ez"),
    _Spec(M.EXEMPT, "p10", household="partner"),
    _Spec(M.EXEMPT, "pl1"),
)

_SUED = (
    _Spec(M.NO_KP_YET, "new"),
    _Spec(M.NO_KP_YET, "new"),
    _Spec(M.NO_KP_YET, "pa_in_progress"),
    _Spec(M.NO_KP_YET, "pa_in_progress", household="partner"),
    _Spec(M.NO_KP_YET, "pa_complete"),
    _Spec(M.NO_KP_YET, "pa_complete"),
    _Spec(M.COOP_NO_RFB, "coop", review_in=-45, assignment=AssignmentStatus.STARTED, art="AGH"),
    _Spec(M.COOP_NO_RFB, "coop", review_in=-21),
    _Spec(M.COOP_NO_RFB, "coop", review_in=-8, version2=True),
    _Spec(M.COOP_NO_RFB, "coop", review_in=7, assignment=AssignmentStatus.SCHREIBEN_ISSUED),
    _Spec(M.COOP_NO_RFB, "coop", review_in=12, sprachfoerderung=True),
    _Spec(M.COOP_NO_RFB, "coop", review_in=18),
    _Spec(M.COOP_NO_RFB, "coop", review_in=24, household="child"),
    _Spec(M.COOP_NO_RFB, "coop", review_in=50, assignment=AssignmentStatus.STARTED, art="16A"),
    _Spec(M.COOP_NO_RFB, "coop", review_in=85, assignment=AssignmentStatus.CLARIFICATION, art="AGH"),
    _Spec(M.COOP_NO_RFB, "coop", review_in=120, version2=True, reha=True),
    _Spec(M.COOP_NO_RFB, "coop", review_in=150, household="partner"),
    _Spec(M.COOP_NO_RFB, "coop", review_in=175, assignment=AssignmentStatus.SCHREIBEN_ISSUED, art="AGH"),
    _Spec(M.COOP_WITH_RFB, "rfb_resolved", review_in=30),
    _Spec(M.COOP_WITH_RFB, "rfb_auff_eb", review_in=70, household="child"),
    _Spec(M.COOP_WITH_RFB, "rfb_auff_vorstellung", review_in=-10, art="AGH"),
    _Spec(M.COOP_WITH_RFB, "rfb_auff_eb", review_in=9),
    _Spec(M.SCHLICHTUNG_PENDING, "schl_draft"),
    _Spec(M.SCHLICHTUNG_PENDING, "schl_disputed", review_in=-3),
    _Spec(M.NO_KP_15_6, "failed", tl_request=True),
    _Spec(M.NO_KP_15_6, "abandoned_schlichtung"),
    _Spec(M.NO_KP_15_6, "abandoned"),
    _Spec(M.EXEMPT, "ez"),
    _Spec(M.EXEMPT, "p10", p10_kind=Paragraph10ReasonKind.PFLEGE),
    _Spec(M.EXEMPT, "pl1", selbststaendig=True),
)

_MASSNAHME_ARTEN = (
    # code, name, Rechtsgrundlage, is_agh, exempt (P2 / R-ESC-4: 001 §6.1)
    ("AGH", "Arbeitsgelegenheit mit Mehraufwandsentschädigung", "§ 16d SGB II", True, False),
    (
        "AKTIVIERUNG",
        "Maßnahme zur Aktivierung und beruflichen Eingliederung",
        "§ 16 Abs. 1 SGB II i. V. m. § 45 SGB III",
        False,
        False,
    ),
    ("16K", "Ganzheitliche Betreuung", "§ 16k SGB II", False, True),
    ("REHA", "Leistungen im Reha-Verfahren", "§ 16 Abs. 1 SGB II i. V. m. §§ 112 ff. SGB III", False, True),
    ("16A", "Kommunale Eingliederungsleistungen", "§ 16a SGB II", False, True),
    ("16E", "Eingliederung von Langzeitarbeitslosen", "§ 16e SGB II", False, True),
    ("16I", "Teilhabe am Arbeitsmarkt", "§ 16i SGB II", False, True),
)
EXEMPT_SOURCE = "001 §6.1; R-ESC-4"

_MASSNAHMEN = (
    # number, art, title, Träger, content, schedule, weeks
    (
        "MS-AGH-001",
        "AGH",
        "AGH Grünpflege im Stadtteil",
        "Beschäftigungsgesellschaft Musterstadt gGmbH",
        "Pflege von Grünflächen und Spielplätzen im Stadtteil, Anleitung durch Fachkräfte, "
        "begleitendes Bewerbungscoaching.",
        "Mo–Do 8:00–13:00 Uhr",
        26,
    ),
    (
        "MS-AGH-002",
        "AGH",
        "AGH Sozialkaufhaus",
        "Diakonisches Werk Musterstadt e. V.",
        "Mitarbeit im Verkauf, Warenannahme und Lager des Sozialkaufhauses, Einführung in Kassensysteme.",
        "Mo–Fr 9:00–13:30 Uhr",
        26,
    ),
    (
        "MS-AKT-001",
        "AKTIVIERUNG",
        "Perspektive Arbeit – Coaching und Bewerbungstraining",
        "Bildungswerk Musterstadt GmbH",
        "Einzelcoaching, Bewerbungstraining, Profiling und betriebliche Erprobung bis zu 4 Wochen.",
        "Mo–Fr 8:30–12:30 Uhr",
        12,
    ),
    (
        "MS-AKT-002",
        "AKTIVIERUNG",
        "Logistik kompakt – Orientierung und Staplerschein",
        "Qualifizierungszentrum Musterstadt gGmbH",
        "Berufliche Orientierung in der Lagerlogistik, Flurförderzeugschein, Praktikum bei Betrieben der Region.",
        "Mo–Fr 7:30–14:00 Uhr",
        12,
    ),
    (
        "MS-16K-001",
        "16K",
        "Neustart – ganzheitliche Betreuung",
        "Caritasverband Musterstadt e. V.",
        "Aufsuchende, ganzheitliche Betreuung zur Stabilisierung der Lebenssituation und Heranführung an Arbeit.",
        "nach Vereinbarung, 2 Termine pro Woche",
        52,
    ),
    (
        "MS-REHA-001",
        "REHA",
        "Berufliche Rehabilitation – Assessment und Training",
        "Berufsförderungswerk Musterstadt gGmbH",
        "Eignungsabklärung, Arbeitserprobung und Training im Rahmen des Reha-Verfahrens.",
        "Mo–Fr 8:00–15:00 Uhr",
        20,
    ),
    (
        "MS-16A-001",
        "16A",
        "Schuldner- und Insolvenzberatung",
        "Stadt Musterstadt, Fachbereich Soziales",
        "Kommunale Schuldnerberatung: Haushaltsplan, Verhandlungen mit Gläubigern, Vorbereitung der Insolvenz.",
        "nach Terminvereinbarung",
        26,
    ),
    (
        "MS-16E-001",
        "16E",
        "Beschäftigung mit Lohnkostenzuschuss – Lagerhelfer/in",
        "Musterstädter Logistikdienste GmbH",
        "Sozialversicherungspflichtige Beschäftigung im Lager mit Lohnkostenzuschuss und begleitendem Coaching.",
        "Vollzeit, Schichtdienst",
        104,
    ),
    (
        "MS-16I-001",
        "16I",
        "Teilhabe am Arbeitsmarkt – Hausmeisterservice",
        "Stadtteilwerkstatt Musterstadt gGmbH",
        "Geförderte Beschäftigung im Hausmeisterservice mit beschäftigungsbegleitendem Coaching.",
        "Teilzeit 30 Std./Woche",
        260,
    ),
)

_GOALS = (
    "Fachkraft für Lagerlogistik",
    "Verkäuferin oder Verkäufer im Einzelhandel",
    "Pflegehilfskraft in der Altenpflege",
    "Berufskraftfahrerin oder Berufskraftfahrer",
    "Bürokraft im Empfang",
    "Küchenhilfe in der Gemeinschaftsverpflegung",
    "Reinigungskraft in der Gebäudereinigung",
    "Helferin oder Helfer im Garten- und Landschaftsbau",
    "Kassiererin oder Kassierer im Lebensmittelhandel",
    "Produktionshelferin oder Produktionshelfer",
)
_APPRENTICESHIPS = (
    "Kauffrau oder Kaufmann im Einzelhandel",
    "Anlagenmechanikerin oder Anlagenmechaniker SHK",
    "Medizinische Fachangestellte oder Medizinischer Fachangestellter",
    "Fachlageristin oder Fachlagerist",
)
_STRENGTHS = (
    "Zuverlässig und pünktlich, arbeitet gern im Team.",
    "Freundliches Auftreten, gute Umgangsformen im Kundenkontakt.",
    "Handwerkliches Geschick, körperlich belastbar.",
    "Hohe Motivation, schnell in neue Aufgaben eingearbeitet.",
    "Gute Organisation des Alltags, sorgfältige Arbeitsweise.",
)
_QUALIFICATIONS = (
    "Hauptschulabschluss; mehrere Jahre Helfertätigkeit im Lager.",
    "Mittlerer Schulabschluss; abgeschlossene Ausbildung im Einzelhandel, seit drei Jahren ohne Beschäftigung.",
    "Ohne Berufsabschluss; Erfahrung in Reinigung und Gastronomie.",
    "Berufsabschluss im Herkunftsland (nicht anerkannt); Deutschkenntnisse auf Niveau A2.",
    "Fachoberschulreife; Führerschein Klasse B und C1.",
)
_HANDLUNGSBEDARFE = (
    "Bewerbungsunterlagen aktualisieren; Bewerbungsstrategie für Helfertätigkeiten entwickeln.",
    "Berufliche Orientierung und Praxiserprobung; Heranführung an einen geregelten Tagesablauf.",
    "Deutschsprachförderung; Anerkennung des ausländischen Berufsabschlusses prüfen.",
    "Kinderbetreuung für die Randzeiten klären; Teilzeitstellen gezielt suchen.",
)
_OBSTACLES = (
    "Lange Zeit ohne Beschäftigung; Lücken im Lebenslauf.",
    "Eingeschränkte Mobilität ohne eigenes Fahrzeug.",
    "Betreuung eines Kindes im Grundschulalter, Betreuung nur bis 14 Uhr gesichert.",
    "Schulden belasten die Lebenssituation.",
    "Keine Hemmnisse über die fehlende Berufspraxis hinaus erkennbar.",
)
_EMPLOYERS = (
    "Musterstädter Logistikdienste GmbH",
    "Bäckerei Sonnenkorn Musterstadt",
    "Pflegedienst Lindenhof GmbH",
    "Gebäudeservice Blank & Partner KG",
    "Autohaus am Stadtring GmbH",
)


def _ascii(text: str) -> str:
    for umlaut, replacement in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, replacement).replace(umlaut.upper(), replacement.capitalize())
    normalized = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in normalized.lower() if ch.isalnum() or ch == "-")


def _postal_code(fake: Faker) -> str:
    return fake.random_element(MUSTERSTADT_POSTAL_CODES)


class _DemoBuilder:
    def __init__(self, reference_day: date) -> None:
        self.today = reference_day
        self.fake = Faker("de_DE")
        self.fake.seed_instance(FAKER_SEED)
        self.tz = timezone.get_current_timezone()
        self.elb_count = 0
        self.bg_count = 0
        self.users: dict[str, User] = {}
        self.ifks: dict[str, list[User]] = {}
        self.teamleads: dict[str, User] = {}
        self.arten: dict[str, MassnahmeArt] = {}
        self.massnahmen: dict[str, list[Massnahme]] = {}
        self.previous_elb: Elb | None = None

    # --- helpers ------------------------------------------------------------------------------------------

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def at(self, day: date, hour: int = 10, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz)

    def event(
        self,
        case: Case,
        code: str,
        summary: str,
        reasons: list[str],
        sources: list[str],
        on: date,
        actor: User | None = None,
        hour: int = 10,
        **data: object,
    ) -> None:
        TimelineEvent.objects.create(
            case=case,
            actor=actor or case.responsible,
            occurred_at=self.at(on, hour),
            code=code,
            summary=summary,
            reason_codes=reasons,
            sources=sources,
            rule_set=CURRENT.id,
            data=data,
        )

    # --- organisation -------------------------------------------------------------------------------------

    def build(self) -> Jobcenter:
        jobcenter = Jobcenter.objects.create(
            name=DEMO_JOBCENTER_NAME,
            street="Musterstraße 1",
            postal_code="12345",
            city="Musterstadt",
            phone="0123 4567-0",
            email="kontakt@jobcenter-musterstadt.invalid",
            website="https://www.jobcenter-musterstadt.invalid",
            opening_hours="Mo–Fr 8:00–12:30 Uhr, Do 14:00–17:30 Uhr",
            widerspruch_address="Jobcenter Musterstadt\nWiderspruchsstelle\nMusterstraße 1\n12345 Musterstadt",
            bundesland=Bundesland.NW,
        )
        teams = {name: Team.objects.create(jobcenter=jobcenter, name=name) for name in (TEAM_NORD, TEAM_SUED)}
        self._create_users(teams)
        self._create_catalogue()
        for team_name, specs in ((TEAM_NORD, _NORD), (TEAM_SUED, _SUED)):
            self.previous_elb = None
            for index, spec in enumerate(specs):
                ifk = self.ifks[team_name][index % 2]
                self._create_case(jobcenter, teams[team_name], ifk, spec)
        freeze_demo_letters(jobcenter)
        return jobcenter

    def _create_users(self, teams: dict[str, Team]) -> None:
        for login in DEMO_LOGINS:
            female = self.fake.boolean()
            first_name = self.fake.first_name_female() if female else self.fake.first_name_male()
            is_admin = login.role == Role.FACHADMIN
            user, _ = User.objects.update_or_create(
                username=login.username,
                defaults={
                    "first_name": first_name,
                    "last_name": self._last_name(),
                    "email": f"{login.username}@jobcenter-musterstadt.invalid",
                    "role": login.role,
                    "team": teams[login.team] if login.team else None,
                    "phone": f"0123 4567-{login.extension}",
                    "room": login.room,
                    "is_active": True,
                    "is_staff": is_admin,
                    "is_superuser": is_admin,
                },
            )
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            self.users[login.username] = user
            if login.role == Role.IFK and login.team:
                self.ifks.setdefault(login.team, []).append(user)
            if login.role == Role.TEAMLEITUNG and login.team:
                self.teamleads[login.team] = user

    def _create_catalogue(self) -> None:
        for code, name, basis, is_agh, exempt in _MASSNAHME_ARTEN:
            self.arten[code], _ = MassnahmeArt.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "rechtsgrundlage": basis,
                    "is_agh": is_agh,
                    "exempt_from_rfb": exempt,
                    "exempt_source": EXEMPT_SOURCE if exempt else "",
                },
            )
        for number, art, title, traeger, content, schedule, weeks in _MASSNAHMEN:
            contact = f"{self.fake.first_name()} {self._last_name()}"
            massnahme, _ = Massnahme.objects.get_or_create(
                massnahme_nummer=number,
                defaults={
                    "art": self.arten[art],
                    "title": title,
                    "content": content,
                    "traeger_name": traeger,
                    "traeger_street": self.fake.street_address(),
                    "traeger_postal_code": _postal_code(self.fake),
                    "traeger_city": "Musterstadt",
                    "traeger_contact": contact,
                    "traeger_phone": self.fake.phone_number(),
                    "traeger_email": f"{_ascii(contact.split()[-1])}@{_ascii(traeger.split()[0])}.example.org",
                    "location": f"{traeger}, Musterstadt",
                    "schedule": schedule,
                    "duration_weeks": weeks,
                },
            )
            self.massnahmen.setdefault(art, []).append(massnahme)

    # --- people -------------------------------------------------------------------------------------------

    def _last_name(self) -> str:
        """Faker de_DE also yields inverted names such as "Dussen van"; those read oddly in letters."""
        name = self.fake.last_name()
        while name.split()[-1].islower():
            name = self.fake.last_name()
        return name

    def _person_name(self) -> tuple[str, str]:
        roll = self.fake.random_int(0, 99)
        if roll < 48:
            return Salutation.FRAU, self.fake.first_name_female()
        if roll < 96:
            return Salutation.HERR, self.fake.first_name_male()
        return Salutation.NEUTRAL, self.fake.first_name_nonbinary()

    def _new_bg(self, jobcenter: Jobcenter) -> Bedarfsgemeinschaft:
        self.bg_count += 1
        return Bedarfsgemeinschaft.objects.create(
            jobcenter=jobcenter, bg_nummer=f"12345BG{1000000 + self.bg_count:07d}"
        )

    def _create_elb(self, jobcenter: Jobcenter, spec: _Spec) -> Elb:
        self.elb_count += 1
        n = self.elb_count
        salutation, first_name = self._person_name()
        partner_of = self.previous_elb if spec.household in ("partner", "child") else None
        if spec.household == "child":
            # 16 or 17 years old today, and still a minor for at least two more months (R-MIN-1, P5).
            birth_date = add_years(self.today, -(16 + n % 2)) - timedelta(days=self.fake.random_int(10, 300))
        elif self.fake.random_int(0, 9) == 0 and spec.mode != M.NO_KP_YET:
            birth_date = add_years(self.today, -self.fake.random_int(19, 24)) - timedelta(
                days=self.fake.random_int(0, 364)
            )
        else:
            birth_date = add_years(self.today, -self.fake.random_int(25, 61)) - timedelta(
                days=self.fake.random_int(0, 364)
            )
        if partner_of is not None:
            last_name = partner_of.last_name if spec.household == "child" or self.fake.boolean() else None
            street, postal_code, bg = partner_of.street, partner_of.postal_code, partner_of.bedarfsgemeinschaft
        else:
            last_name, street, postal_code, bg = None, None, None, self._new_bg(jobcenter)
        last_name = last_name or self._last_name()
        street = street or self.fake.street_address()
        postal_code = postal_code or _postal_code(self.fake)
        phone = self.fake.phone_number() if self.fake.random_int(0, 9) < 8 else ""
        email = f"{_ascii(first_name)}.{_ascii(last_name)}.{n}@example.org" if self.fake.boolean() else ""
        elb = Elb.objects.create(
            # Kundennummer format 123A456789 (3 digits, 1 capital letter, 6 digits), generated and synthetic.
            kundennummer=f"{100 + n:03d}D{(n * 7919 + FAKER_SEED) % 1_000_000:06d}",
            salutation=salutation,
            first_name=first_name,
            last_name=last_name,
            birth_date=birth_date,
            street=street,
            postal_code=postal_code,
            city="Musterstadt",
            phone=phone,
            email=email,
            bedarfsgemeinschaft=bg,
        )
        if spec.household == "child":
            assert partner_of is not None  # noqa: S101 (the scenario table lists the parent first)
            self._create_vertretungen(elb, partner_of)
        return elb

    def _create_vertretungen(self, minor: Elb, parent: Elb) -> None:
        """The parent in the BG is one gesetzliche Vertretung; every second minor has a second one (P5)."""
        relation = (
            GesetzlicheVertretungRelation.VATER
            if parent.salutation == Salutation.HERR
            else GesetzlicheVertretungRelation.MUTTER
        )
        GesetzlicheVertretung.objects.create(
            elb=minor,
            relation=relation,
            salutation=parent.salutation,
            first_name=parent.first_name,
            last_name=parent.last_name,
            street=parent.street,
            postal_code=parent.postal_code,
            city=parent.city,
            phone=parent.phone,
            valid_from=minor.birth_date,
        )
        if self.elb_count % 2 == 0:
            other_is_father = relation == GesetzlicheVertretungRelation.MUTTER
            GesetzlicheVertretung.objects.create(
                elb=minor,
                relation=GesetzlicheVertretungRelation.VATER
                if other_is_father
                else GesetzlicheVertretungRelation.MUTTER,
                salutation=Salutation.HERR if other_is_father else Salutation.FRAU,
                first_name=self.fake.first_name_male() if other_is_father else self.fake.first_name_female(),
                last_name=self._last_name(),
                street=self.fake.street_address(),
                postal_code=_postal_code(self.fake),
                city="Musterstadt",
                phone=self.fake.phone_number(),
                valid_from=minor.birth_date,
            )

    # --- cases --------------------------------------------------------------------------------------------

    def _create_case(self, jobcenter: Jobcenter, team: Team, ifk: User, spec: _Spec) -> None:
        elb = self._create_elb(jobcenter, spec)
        self.previous_elb = elb
        getattr(self, f"_scenario_{spec.variant}")(elb, team, ifk, spec)

    def _open_case(self, elb: Elb, team: Team, ifk: User, leistungsbeginn: date, mode: str, **extra: object) -> Case:
        case = Case.objects.create(
            elb=elb,
            team=team,
            responsible=ifk,
            leistungsbeginn=leistungsbeginn,
            cooperation_mode=mode,
            created_at=self.at(leistungsbeginn, 8),
            **extra,
        )
        self.event(
            case,
            "case.opened",
            "Fall angelegt; die Potenzialanalyse ist unverzüglich zu erstellen.",
            ["R-PA-2"],
            ["§ 15 Abs. 1 SGB II", "001 §4.1"],
            leistungsbeginn,
            hour=8,
        )
        return case

    def _potenzialanalyse(self, case: Case, ifk: User, completed_on: date | None) -> Potenzialanalyse:
        fake = self.fake
        if completed_on is None:
            return Potenzialanalyse.objects.create(
                case=case,
                status=PotenzialanalyseStatus.IN_PROGRESS,
                strengths=fake.random_element(_STRENGTHS),
                qualifications=fake.random_element(_QUALIFICATIONS),
            )
        pa = Potenzialanalyse.objects.create(
            case=case,
            status=PotenzialanalyseStatus.COMPLETE,
            strengths=fake.random_element(_STRENGTHS),
            qualifications=fake.random_element(_QUALIFICATIONS),
            handlungsbedarfe=fake.random_element(_HANDLUNGSBEDARFE),
            obstacles=fake.random_element(_OBSTACLES),
            health_reha_assessed=True,
            reused_from_agentur=fake.random_int(0, 4) == 0,
            completed_at=self.at(completed_on, 11),
            completed_by=ifk,
        )
        if not Appointment.objects.filter(case=case, kind=AppointmentKind.ERSTGESPRAECH).exists():
            # R-INV-1: the Potenzialanalyse was worked out in the first talk, to which the eLb was invited
            # without RFB.
            self._appointment(
                case,
                AppointmentKind.ERSTGESPRAECH,
                completed_on,
                "Erstellung der Potenzialanalyse und des Kooperationsplans",
                with_rfb=False,
                outcome=AppointmentOutcome.ATTENDED,
            )
        self.event(
            case,
            "potenzialanalyse.completed",
            "Potenzialanalyse abgeschlossen (Stärken, Handlungsbedarfe, Hemmnisse, Gesundheit/Reha besprochen).",
            ["R-PA-1"],
            ["§ 15 Abs. 1 SGB II", "001 §3"],
            completed_on,
            hour=11,
        )
        return pa

    def _appointment(
        self,
        case: Case,
        kind: str,
        starts_on: date,
        meldezweck: str,
        *,
        with_rfb: bool,
        hour: int = 9,
        outcome: str = AppointmentOutcome.PENDING,
        escalation: Escalation | None = None,
        wichtiger_grund: bool | None = None,
    ) -> Appointment:
        recorded = outcome != AppointmentOutcome.PENDING
        return Appointment.objects.create(
            case=case,
            kind=kind,
            starts_at=self.at(starts_on, hour, 30),
            location=f"Jobcenter Musterstadt, Musterstraße 1, Raum {case.responsible.room}",
            meldezweck=meldezweck,
            documents_to_bring="Personalausweis, Lebenslauf, Nachweise über Eigenbemühungen",
            with_rfb=with_rfb,
            outcome=outcome,
            outcome_recorded_at=self.at(starts_on, hour + 1) if recorded else None,
            wichtiger_grund=wichtiger_grund,
            escalation=escalation,
            created_by=case.responsible,
        )

    def _goal(self, elb: Elb) -> tuple[str, bool]:
        if elb.is_minor_on(self.today):
            return self.fake.random_element(_APPRENTICESHIPS), True
        return self.fake.random_element(_GOALS), False

    def _plan(
        self,
        case: Case,
        ifk: User,
        spec: _Spec,
        *,
        valid_from: date | None,
        status: str = KPStatus.ACTIVE,
        version: int = 1,
        predecessor: Kooperationsplan | None = None,
        ended_on: date | None = None,
        massnahme: Massnahme | None = None,
        bg_partner: Elb | None = None,
        created_on: date | None = None,
    ) -> Kooperationsplan:
        """A KP version; activated ones satisfy R-PA-1, R-KP-3, R-KP-4, R-KP-5 and R-EB-3."""
        goal, apprenticeship = self._goal(case.elb)
        activated = valid_from is not None
        valid_to = add_months(valid_from, 6) if valid_from else None
        created_on = created_on or (valid_from - timedelta(days=self.fake.random_int(1, 7)) if valid_from else None)
        assert created_on is not None  # noqa: S101 (drafts always pass created_on)
        plan = Kooperationsplan.objects.create(
            case=case,
            version_number=version,
            predecessor=predecessor,
            status=status,
            naechstes_ziel=(
                f"Ich habe bis zum {add_months(created_on, 3):%d.%m.%Y} mindestens zwei Vorstellungsgespräche "
                f"als {goal} geführt."
            ),
            valid_from=valid_from,
            valid_to=valid_to,
            review_due=valid_to,
            gemeinsam_erarbeitet=activated,
            vb_erlaeutert=activated,
            infoblatt_vb_ausgehaendigt_on=valid_from,
            beratungsvermerk_ref=f"BV-{case.elb.kundennummer}-{version}" if activated else "",
            created_by=ifk,
            created_at=self.at(created_on, 9),
            activated_at=self.at(valid_from, 10) if valid_from else None,
            ended_at=self.at(ended_on, 15) if ended_on else None,
        )
        self._content(plan, spec, goal, apprenticeship, massnahme, bg_partner)
        self._steps(plan, goal, apprenticeship, massnahme, created_on)
        self._eigenbemuehungen(plan, goal, apprenticeship)
        if activated:
            self.event(
                case,
                "kooperationsplan.activated",
                f"Kooperationsplan Version {version} gemeinsam erarbeitet und aktiviert; "
                f"Überprüfung spätestens am {plan.review_due:%d.%m.%Y}.",
                ["R-KP-4", "R-KP-5", "R-EB-3", "R-PA-1"],
                ["§ 15 Abs. 2 SGB II", "§ 15 Abs. 3 SGB II", "001 §4.3", "001 §5"],
                valid_from,
                plan_id=plan.pk,
                version=version,
            )
        return plan

    def _content(
        self,
        plan: Kooperationsplan,
        spec: _Spec,
        goal: str,
        apprenticeship: bool,
        massnahme: Massnahme | None,
        bg_partner: Elb | None,
    ) -> None:
        if massnahme is not None:
            soll_1 = (
                f"Ich nehme an „{massnahme.title}“ beim Träger {massnahme.traeger_name} teil. "
                "Das Jobcenter übernimmt die Kosten und meine Fahrtkosten."
            )
        else:
            soll_1 = (
                "Ich erhalte vom Jobcenter passende Stellenangebote. Bewerbungskosten und Fahrtkosten zu "
                "Vorstellungsgesprächen kann ich aus dem Vermittlungsbudget erstattet bekommen."
            )
        if apprenticeship:
            soll_2 = "Ich bewerbe mich jeden Monat mindestens dreimal um einen Ausbildungsplatz."
            soll_5 = f"Mein Ziel ist ein Ausbildungsplatz als {goal} ab dem 1. August {self.today.year + 1}."
        else:
            soll_2 = (
                f"Ich bewerbe mich jeden Monat mindestens fünfmal als {goal} und weise das bis zum 5. des "
                "Folgemonats mit einer Bewerbungsliste nach."
            )
            soll_5 = f"Mein Ziel ist eine sozialversicherungspflichtige Beschäftigung als {goal}."
        soll_3 = (
            "Ich besuche den Integrationskurs (Sprachniveau B1) an der Volkshochschule Musterstadt."
            if spec.sprachfoerderung
            else ""
        )
        soll_4 = (
            "Ich beantrage bei der Familienkasse den Kinderzuschlag und lege den Bescheid dem Jobcenter vor."
            if self.fake.random_int(0, 3) == 0
            else ""
        )
        soll_6 = (
            "Ich wirke im laufenden Reha-Verfahren mit und nehme die Termine des Reha-Trägers wahr."
            if spec.reha
            else ""
        )
        items = [
            (ContentKind.EINGLIEDERUNGSLEISTUNGEN, soll_1),
            (ContentKind.EIGENBEMUEHUNGEN, soll_2),
            (ContentKind.SPRACHFOERDERUNG, soll_3),
            (ContentKind.LEISTUNGEN_DRITTER, soll_4),
            (ContentKind.VERMITTLUNGSZIEL, soll_5),
            (ContentKind.REHABEDARF, soll_6),
        ]
        for position, (kind, text) in enumerate(items):
            # R-KP-5: items 3, 4 and 6 are either filled or explicitly "nicht relevant".
            ContentItem.objects.create(plan=plan, kind=kind, text=text, nicht_relevant=not text, position=position)
        if bg_partner is not None:
            # R-KP-6: the BG member is linked by id; their own plan stays separate.
            ContentItem.objects.create(
                plan=plan,
                kind=ContentKind.BG_LEISTUNGEN,
                text="Für die Kinderbetreuung in unserer Bedarfsgemeinschaft kläre ich mit dem Jugendamt einen "
                "Platz in der Randzeitenbetreuung.",
                bg_member=bg_partner,
                position=6,
            )

    def _steps(
        self, plan: Kooperationsplan, goal: str, apprenticeship: bool, massnahme: Massnahme | None, start: date
    ) -> None:
        texts: list[tuple[str, str, int | None]] = [
            ("Ich aktualisiere meinen Lebenslauf und lasse ihn im Jobcenter prüfen.", StepResponsible.ELB, 14),
        ]
        if massnahme is not None:
            texts.append(
                (f"Ich melde mich beim Träger {massnahme.traeger_name} zur Vorstellung.", StepResponsible.ELB, 21)
            )
        if apprenticeship:
            texts.append(("Ich vereinbare einen Termin bei der Berufsberatung.", StepResponsible.ELB, 30))
        else:
            texts.append(
                (f"Ich bewerbe mich jeden Monat auf mindestens fünf Stellen als {goal}.", StepResponsible.ELB, None)
            )
        if self.fake.boolean():
            texts.append(
                ("Ich lege mein Bewerberprofil in der Jobbörse der Bundesagentur an.", StepResponsible.ELB, 10)
            )
        texts.append(("Ich erhalte vom Jobcenter passende Vermittlungsvorschläge.", StepResponsible.JOBCENTER, None))
        for position, (text, responsible, due_in) in enumerate(texts[:4]):
            due_on = start + timedelta(days=due_in) if due_in is not None else None
            done_on = due_on - timedelta(days=2) if due_on is not None and due_on < self.today else None
            Step.objects.create(
                plan=plan, position=position, text=text, responsible=responsible, due_on=due_on, done_on=done_on
            )

    def _eigenbemuehungen(self, plan: Kooperationsplan, goal: str, apprenticeship: bool) -> None:
        # R-EB-1: kind, minimum count, period, form and due day of the Nachweis.
        Eigenbemuehung.objects.create(
            plan=plan,
            kind=EigenbemuehungKind.BEWERBUNG,
            description=(
                "Ich bewerbe mich um Ausbildungsplätze."
                if apprenticeship
                else f"Ich bewerbe mich schriftlich oder online als {goal}."
            ),
            min_count=3 if apprenticeship else 5,
            period=Period.MONAT,
            nachweis_form=EigenbemuehungNachweisForm.LISTE,
            nachweis_due_day=5,
        )
        if self.fake.boolean():
            Eigenbemuehung.objects.create(
                plan=plan,
                kind=EigenbemuehungKind.INITIATIV,
                description="Ich spreche Betriebe in Musterstadt persönlich oder telefonisch an.",
                min_count=2,
                period=Period.MONAT,
                nachweis_form=EigenbemuehungNachweisForm.KOPIEN,
                nachweis_due_day=5,
            )

    def _missed_period(self) -> tuple[date, date, date]:
        """The monthly period whose Nachweis (due on the 5th) is at least 25 days overdue: (start, end, due)."""
        due = date(self.today.year, self.today.month, 5)
        while due > self.day(-25):
            due = add_months(due, -1)
        start = add_months(due, -1).replace(day=1)
        return start, due.replace(day=1) - timedelta(days=1), due

    def _nachweise(self, plan: Kooperationsplan, missed_start: date | None = None) -> None:
        """Evidence for the last three completed months of the plan (D-07); one missing for an EB breach."""
        assert plan.valid_from is not None  # noqa: S101
        for eb in plan.eigenbemuehungen.order_by("id"):
            start = self.today.replace(day=1)
            for _ in range(3):
                start = add_months(start, -1)
                end = add_months(start, 1) - timedelta(days=1)
                due = add_months(start, 1).replace(day=eb.nachweis_due_day)
                if start < plan.valid_from or due >= self.today:
                    continue
                missed = start == missed_start and eb.kind == EigenbemuehungKind.BEWERBUNG
                EigenbemuehungNachweis.objects.create(
                    eigenbemuehung=eb,
                    period_start=start,
                    period_end=end,
                    due_on=due,
                    received_on=None if missed else due - timedelta(days=self.fake.random_int(0, 4)),
                    count_reported=None if missed else eb.min_count + self.fake.random_int(0, 2),
                )

    def _health(self, case: Case, status: str) -> None:
        HealthInformation.objects.create(
            case=case,
            reha_status=status,
            reha_traeger="Deutsche Rentenversicherung" if status != HealthInformationRehaStatus.NONE else "",
        )

    def _assignment(
        self,
        case: Case,
        plan: Kooperationsplan,
        massnahme: Massnahme,
        status: str,
        *,
        start: date,
        via: str = AssignmentVia.SCHREIBEN,
        **extra: object,
    ) -> MassnahmeZuweisung:
        return MassnahmeZuweisung.objects.create(
            case=case,
            plan=plan,
            massnahme=massnahme,
            status=status,
            via=via,
            start_date=start,
            end_date=start + timedelta(weeks=massnahme.duration_weeks),
            **extra,
        )

    def _schreiben_event(self, case: Case, assignment: MassnahmeZuweisung, on: date) -> None:
        self.event(
            case,
            "massnahme.schreiben_issued",
            f"Zuweisungsschreiben ohne RFB für „{assignment.massnahme.title}“ versandt; "
            f"Vorstellung bis {assignment.rueckmeldung_due:%d.%m.%Y}.",
            ["R-ZUW-1", "R-KP-9"],
            ["001 §5.1"],
            on,
            assignment_id=assignment.pk,
        )

    def _massnahme(self, code: str) -> Massnahme:
        return self.fake.random_element(self.massnahmen[code])

    def _start_for_plan(self, spec: _Spec) -> tuple[date, date | None]:
        """(valid_from of the current plan, valid_from of version 1 if the current one is version 2)."""
        assert spec.review_in is not None  # noqa: S101
        # add_months(add_months(d, -6), 6) <= d: the review date may move a few days earlier, never later.
        valid_from = add_months(self.day(spec.review_in), -6)
        v1_from = add_months(valid_from, -6) if spec.version2 else None
        return valid_from, v1_from

    def _leistungsbeginn_before(self, first: date) -> date:
        return first - timedelta(days=self.fake.random_int(35, 220))

    def _active_plan_case(
        self, elb: Elb, team: Team, ifk: User, spec: _Spec, *, massnahme: Massnahme | None = None
    ) -> tuple[Case, Kooperationsplan]:
        """Case with a complete PA and an ACTIVE plan (v1, or v2 with v1 SUPERSEDED)."""
        valid_from, v1_from = self._start_for_plan(spec)
        first_from = v1_from or valid_from
        case = self._open_case(elb, team, ifk, self._leistungsbeginn_before(first_from), spec.mode)
        self._potenzialanalyse(case, ifk, first_from - timedelta(days=self.fake.random_int(3, 20)))
        if spec.reha:
            self._health(case, HealthInformationRehaStatus.PENDING)
        bg_partner = self._bg_partner(elb)
        predecessor = None
        if v1_from is not None:
            predecessor = self._plan(
                case, ifk, spec, valid_from=v1_from, status=KPStatus.SUPERSEDED, ended_on=valid_from
            )
            done = self.massnahmen["AKTIVIERUNG"][0]
            self._assignment(
                case,
                predecessor,
                done,
                AssignmentStatus.COMPLETED,
                start=v1_from + timedelta(days=21),
                rueckmeldung_due=v1_from + timedelta(days=14),
                reported_on=v1_from + timedelta(days=12),
                started_on=v1_from + timedelta(days=21),
            )
        plan = self._plan(
            case,
            ifk,
            spec,
            valid_from=valid_from,
            version=2 if predecessor else 1,
            predecessor=predecessor,
            massnahme=massnahme,
            bg_partner=bg_partner,
        )
        if predecessor is not None:
            self.event(
                case,
                "kooperationsplan.fortgeschrieben",
                f"Kooperationsplan fortgeschrieben: Version 2 löst Version 1 ab (gültig ab {valid_from:%d.%m.%Y}).",
                ["R-FS-1"],
                ["§ 15 Abs. 3 SGB II", "001 §6.4"],
                valid_from,
                plan_id=plan.pk,
                predecessor_id=predecessor.pk,
            )
        return case, plan

    def _bg_partner(self, elb: Elb) -> Elb | None:
        """Another adult member of the BG, for a Kann-Inhalt on BG members (R-KP-6), in every second plan."""
        if elb.bedarfsgemeinschaft_id is None or elb.is_minor_on(self.today) or self.fake.boolean():
            return None
        others = Elb.objects.filter(bedarfsgemeinschaft_id=elb.bedarfsgemeinschaft_id).exclude(pk=elb.pk)
        return next((other for other in others.order_by("pk") if not other.is_minor_on(self.today)), None)

    def _review_appointment(self, case: Case, plan: Kooperationsplan) -> None:
        """Plans due within four weeks get the review talk; P1: follow-up invitations carry an RFB by default."""
        assert plan.review_due is not None  # noqa: S101
        if not self.today < plan.review_due <= self.day(28):
            return
        starts_on = max(self.day(3), plan.review_due - timedelta(days=3))
        self._appointment(
            case,
            AppointmentKind.UEBERPRUEFUNG,
            starts_on,
            "Überprüfung und Fortschreibung Ihres Kooperationsplans",
            with_rfb=True,
            hour=self.fake.random_element((9, 10, 13)),
        )
        self.event(
            case,
            "termin.invited",
            f"Einladung zur Überprüfung des Kooperationsplans am {starts_on:%d.%m.%Y} versandt.",
            ["R-FS-1", "R-INV-2"],
            ["§ 15 Abs. 3 SGB II", "§ 59 SGB II i. V. m. § 309 SGB III", "001 §4.2"],
            min(self.day(-1), starts_on - timedelta(days=14)),
        )

    # --- scenarios: no KP yet -----------------------------------------------------------------------------

    def _scenario_new(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        case = self._open_case(elb, team, ifk, self.day(-self.fake.random_int(4, 12)), spec.mode)
        starts_on = self.day(self.fake.random_int(4, 10))
        self._appointment(
            case,
            AppointmentKind.ERSTGESPRAECH,
            starts_on,
            "Erstellung der Potenzialanalyse und des Kooperationsplans",
            with_rfb=False,
        )
        self.event(
            case,
            "termin.invited",
            f"Erste Einladung zur Potenzialanalyse und zum Kooperationsplan am {starts_on:%d.%m.%Y} "
            "(ohne Rechtsfolgenbelehrung).",
            ["R-INV-1"],
            ["§ 15 Abs. 4 SGB II", "001 §4.2"],
            case.leistungsbeginn + timedelta(days=1),
        )

    def _scenario_pa_in_progress(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        case = self._open_case(elb, team, ifk, self.day(-self.fake.random_int(18, 35)), spec.mode)
        first_talk = case.leistungsbeginn + timedelta(days=9)
        self._appointment(
            case,
            AppointmentKind.ERSTGESPRAECH,
            first_talk,
            "Erstellung der Potenzialanalyse und des Kooperationsplans",
            with_rfb=False,
            outcome=AppointmentOutcome.ATTENDED,
        )
        self._potenzialanalyse(case, ifk, None)
        follow_up = self.day(self.fake.random_int(3, 12))
        self._appointment(
            case,
            AppointmentKind.FOLGETERMIN,
            follow_up,
            "Fortsetzung der Potenzialanalyse und Erstellung des Kooperationsplans",
            with_rfb=True,
            hour=13,
        )
        self.event(
            case,
            "termin.invited",
            f"Folgeeinladung zum {follow_up:%d.%m.%Y}: Potenzialanalyse fortsetzen (mit Rechtsfolgenbelehrung).",
            ["R-INV-2"],
            ["§ 59 SGB II i. V. m. § 309 SGB III", "001 §4.2"],
            first_talk,
            hour=11,
        )

    def _scenario_pa_complete(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        case = self._open_case(elb, team, ifk, self.day(-self.fake.random_int(25, 45)), spec.mode)
        self._potenzialanalyse(case, ifk, self.day(-self.fake.random_int(2, 8)))
        self._appointment(
            case,
            AppointmentKind.FOLGETERMIN,
            self.day(self.fake.random_int(2, 9)),
            "Gemeinsame Erarbeitung Ihres Kooperationsplans",
            with_rfb=True,
            hour=10,
        )

    # --- scenarios: cooperation -----------------------------------------------------------------------------

    def _scenario_coop(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        massnahme = self._massnahme(spec.art) if spec.assignment else None
        case, plan = self._active_plan_case(elb, team, ifk, spec, massnahme=massnahme)
        self._nachweise(plan)
        self._review_appointment(case, plan)
        if spec.reha:
            self.event(
                case,
                "gesundheit.reha_recorded",
                "Reha-Verfahren läuft; Mitwirkung im Kooperationsplan vereinbart (keine RFB-Aufforderung möglich).",
                ["R-KP-5", "R-ESC-4"],
                ["001 §5", "001 §6.1"],
                plan.valid_from or self.today,
            )
        if massnahme is None:
            return
        assert plan.valid_from is not None  # noqa: S101
        if spec.assignment == AssignmentStatus.SCHREIBEN_ISSUED:
            issued = max(plan.valid_from, self.day(-6))
            assignment = self._assignment(
                case,
                plan,
                massnahme,
                spec.assignment,
                start=self.day(self.fake.random_int(12, 20)),
                rueckmeldung_due=self.day(self.fake.random_int(3, 9)),
            )
            self._schreiben_event(case, assignment, issued)
        elif spec.assignment == AssignmentStatus.STARTED:
            start = max(plan.valid_from + timedelta(days=21), self.day(14 - 7 * massnahme.duration_weeks))
            assert start < self.today  # noqa: S101 (scenario table: the plan is old enough)
            assignment = self._assignment(
                case,
                plan,
                massnahme,
                spec.assignment,
                start=start,
                rueckmeldung_due=start - timedelta(days=7),
                reported_on=start - timedelta(days=9),
                started_on=start,
            )
            self._schreiben_event(case, assignment, start - timedelta(days=21))
        elif spec.assignment == AssignmentStatus.CLARIFICATION:
            self._aborted_measure(case, plan, massnahme)

    def _aborted_measure(self, case: Case, plan: Kooperationsplan, massnahme: Massnahme) -> None:
        """R-ABB-1: the Träger reports an abort; the IFK invites to a beraterische Intervention without RFB."""
        start = self.day(-35)
        aborted = self.day(-6)
        assignment = self._assignment(
            case,
            plan,
            massnahme,
            AssignmentStatus.CLARIFICATION,
            start=start,
            rueckmeldung_due=start - timedelta(days=7),
            reported_on=start - timedelta(days=8),
            started_on=start,
            aborted_on=aborted,
        )
        self._schreiben_event(case, assignment, start - timedelta(days=20))
        escalation = Escalation.objects.create(
            case=case,
            plan=plan,
            status=EscalationStatus.INTERVENTION_INVITED,
            breach_kind=BreachKind.MASSNAHME_ABBRUCH,
            breach_date=aborted,
            description=(
                f"Der Träger {massnahme.traeger_name} meldet, dass die Teilnahme an „{massnahme.title}“ am "
                f"{aborted:%d.%m.%Y} abgebrochen wurde."
            ),
            massnahme_art=massnahme.art,
            assignment=assignment,
            created_by=case.responsible,
            created_at=self.at(aborted + timedelta(days=1), 9),
        )
        bi_on = self.day(4)
        self._appointment(
            case,
            AppointmentKind.BERATERISCHE_INTERVENTION,
            bi_on,
            "Klärung des Abbruchs der Maßnahme und der weiteren Schritte (beraterische Intervention)",
            with_rfb=False,
            hour=10,
            escalation=escalation,
        )
        self.event(
            case,
            "massnahme.aborted",
            f"Träger meldet Abbruch von „{massnahme.title}“ am {aborted:%d.%m.%Y}; Klärung läuft.",
            ["R-ABB-1"],
            ["§ 31 Abs. 1 Satz 1 Nr. 3 SGB II", "001 §6.2"],
            aborted + timedelta(days=1),
            hour=9,
            assignment_id=assignment.pk,
        )
        self.event(
            case,
            "eskalation.intervention_invited",
            f"Einladung zur beraterischen Intervention am {bi_on:%d.%m.%Y} ohne Rechtsfolgenbelehrung.",
            ["R-ESC-1", "R-INV-3"],
            ["001 §6.1", "001 §6.2", "001 §4.2"],
            aborted + timedelta(days=1),
            hour=10,
            escalation_id=escalation.pk,
        )

    def _scenario_coop_return(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        """R-RET-1: after a complied Aufforderung the Fortschreibung returns to cooperation without RFB."""
        case, plan = self._active_plan_case(elb, team, ifk, spec)
        predecessor = plan.predecessor
        assert predecessor is not None  # noqa: S101
        assert predecessor.valid_from is not None  # noqa: S101
        plan.with_rfb_context = True
        plan.return_without_rfb_reason = (
            "Die Eigenbemühungen wurden nach der Aufforderung vier Monate lang vollständig und pünktlich nachgewiesen."
        )
        plan.save(update_fields=["with_rfb_context", "return_without_rfb_reason"])
        breach = predecessor.valid_from + timedelta(days=40)
        Escalation.objects.create(
            case=case,
            plan=predecessor,
            status=EscalationStatus.RESOLVED,
            breach_kind=BreachKind.EB_FEHLEN,
            breach_date=breach,
            description="Die Bewerbungsliste für den Vormonat wurde nicht eingereicht.",
            eigenbemuehung=predecessor.eigenbemuehungen.order_by("id").first(),
            wichtiger_grund=False,
            compliance_deadline=breach + timedelta(days=35),
            created_by=ifk,
            created_at=self.at(breach, 9),
            closed_at=self.at(breach + timedelta(days=30), 12),
        )
        self.event(
            case,
            "eskalation.aufforderung_issued",
            "Aufforderung nach § 15 Abs. 5 SGB II mit Rechtsfolgenbelehrung zu den Eigenbemühungen versandt.",
            ["R-ESC-2"],
            ["§ 15 Abs. 5 SGB II", "§ 31 Abs. 1 Satz 1 Nr. 1 SGB II", "001 §6.1"],
            breach + timedelta(days=14),
        )
        self.event(
            case,
            "eskalation.resolved",
            "Eigenbemühungen fristgerecht nachgewiesen; Eskalation erledigt.",
            ["R-ESC-2"],
            ["001 §6.1"],
            breach + timedelta(days=30),
        )
        self.event(
            case,
            "fall.mode_changed",
            "Rückkehr zur Zusammenarbeit ohne Rechtsfolgenbelehrung mit der Fortschreibung des Kooperationsplans.",
            ["R-RET-1"],
            ["001 §6.3"],
            plan.valid_from or self.today,
            mode=M.COOP_NO_RFB,
        )

    # --- scenarios: cooperation with RFB (escalation ladder, RULES.md 5.4) ----------------------------------

    def _mode_with_rfb_event(self, case: Case, on: date) -> None:
        self.event(
            case,
            "fall.mode_changed",
            "Zusammenarbeit mit Rechtsfolgenbelehrung: der Kooperationsplan bleibt in Kraft und unverbindlich.",
            ["R-ESC-2"],
            ["§ 15 Abs. 5 SGB II", "000", "001 §6.1"],
            on,
            hour=12,
            mode=M.COOP_WITH_RFB,
        )

    def _aufforderung_event(self, case: Case, on: date, deadline: date, minor: bool) -> None:
        reasons = ["R-ESC-2", "R-MIN-2"] if minor else ["R-ESC-2"]
        recipient = " an die gesetzliche Vertretung (Kopie an die eLb)" if minor else ""
        self.event(
            case,
            "eskalation.aufforderung_issued",
            f"Aufforderung nach § 15 Abs. 5 SGB II mit Rechtsfolgenbelehrung{recipient}; "
            f"Frist zur Mitwirkung bis {deadline:%d.%m.%Y}.",
            reasons,
            ["§ 15 Abs. 5 SGB II", "§ 31 Abs. 1 Satz 1 Nr. 1 SGB II", "001 §6.1"],
            on,
            hour=11,
        )

    def _scenario_rfb_auff_eb(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        """EB evidence missing (R-EB-4) → intervention (R-ESC-1) → Aufforderung § 15 Abs. 5 (R-ESC-2)."""
        case, plan = self._active_plan_case(elb, team, ifk, spec)
        missed_start, _, missed_due = self._missed_period()
        self._nachweise(plan, missed_start=missed_start)
        self._review_appointment(case, plan)
        minor = elb.is_minor_on(self.today)
        breach = missed_due + timedelta(days=7)  # D-07: due date + 7 days grace
        bi_on, auff_on = breach + timedelta(days=12), breach + timedelta(days=16)
        deadline = max(auff_on + timedelta(days=21), self.day(5))
        escalation = Escalation.objects.create(
            case=case,
            plan=plan,
            status=EscalationStatus.AUFFORDERUNG_ISSUED,
            breach_kind=BreachKind.EB_FEHLEN,
            breach_date=breach,
            description=(
                f"Der Nachweis der Bewerbungen für {missed_start:%m/%Y} (fällig am {missed_due:%d.%m.%Y}) "
                "ist trotz Nachfrist nicht eingegangen."
            ),
            eigenbemuehung=plan.eigenbemuehungen.get(kind=EigenbemuehungKind.BEWERBUNG),
            wichtiger_grund=False,
            compliance_deadline=deadline,
            created_by=ifk,
            created_at=self.at(breach, 9),
        )
        self._appointment(
            case,
            AppointmentKind.BERATERISCHE_INTERVENTION,
            bi_on,
            "Gespräch über die fehlenden Nachweise der Eigenbemühungen (beraterische Intervention)",
            with_rfb=False,
            outcome=AppointmentOutcome.ATTENDED,
            escalation=escalation,
            wichtiger_grund=False,
        )
        self.event(
            case,
            "eskalation.breach_detected",
            f"Nachweis der Eigenbemühungen für {missed_start:%m/%Y} fehlt (Nachfrist abgelaufen).",
            ["R-EB-4", "R-MON-1"],
            ["001 §5.2", "001 §6.1"],
            breach,
            hour=8,
            escalation_id=escalation.pk,
        )
        self.event(
            case,
            "eskalation.intervention_invited",
            f"Einladung zur beraterischen Intervention am {bi_on:%d.%m.%Y} ohne Rechtsfolgenbelehrung"
            + (" gemeinsam mit der gesetzlichen Vertretung." if minor else "."),
            ["R-ESC-1", "R-INV-3", "R-MIN-1"] if minor else ["R-ESC-1", "R-INV-3"],
            ["001 §6.1", "001 §4.2", "001 §4.1"] if minor else ["001 §6.1", "001 §4.2"],
            breach + timedelta(days=2),
            escalation_id=escalation.pk,
        )
        self.event(
            case,
            "eskalation.intervention_done",
            "Beraterische Intervention durchgeführt; ein wichtiger Grund wurde nicht dargelegt.",
            ["R-ESC-1"],
            ["001 §6.1"],
            bi_on,
            hour=11,
            escalation_id=escalation.pk,
        )
        self._aufforderung_event(case, auff_on, deadline, minor)
        self._mode_with_rfb_event(case, auff_on)

    def _scenario_rfb_resolved(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        """No Vorstellung at the Träger → Aufforderung → complied by the deadline (RESOLVED)."""
        massnahme = self._massnahme(spec.art)
        case, plan = self._active_plan_case(elb, team, ifk, spec, massnahme=massnahme)
        self._nachweise(plan)
        self._review_appointment(case, plan)
        due, breach, bi_on, auff_on = self.day(-85), self.day(-83), self.day(-72), self.day(-68)
        complied, deadline, start = self.day(-55), self.day(-50), self.day(-45)
        assignment = self._assignment(
            case,
            plan,
            massnahme,
            AssignmentStatus.STARTED,
            start=start,
            rueckmeldung_due=due,
            reported_on=complied,
            started_on=start,
        )
        self._schreiben_event(case, assignment, due - timedelta(days=10))
        escalation = Escalation.objects.create(
            case=case,
            plan=plan,
            status=EscalationStatus.RESOLVED,
            breach_kind=BreachKind.KEINE_VORSTELLUNG,
            breach_date=breach,
            description=f"Keine Vorstellung beim Träger {massnahme.traeger_name} bis zum {due:%d.%m.%Y}.",
            massnahme_art=massnahme.art,
            assignment=assignment,
            wichtiger_grund=False,
            compliance_deadline=deadline,
            created_by=ifk,
            created_at=self.at(breach, 9),
            closed_at=self.at(complied, 14),
        )
        self._appointment(
            case,
            AppointmentKind.BERATERISCHE_INTERVENTION,
            bi_on,
            "Gespräch über die fehlende Vorstellung beim Maßnahmeträger (beraterische Intervention)",
            with_rfb=False,
            outcome=AppointmentOutcome.ATTENDED,
            escalation=escalation,
            wichtiger_grund=False,
        )
        self.event(
            case,
            "eskalation.intervention_invited",
            f"Einladung zur beraterischen Intervention am {bi_on:%d.%m.%Y} ohne Rechtsfolgenbelehrung.",
            ["R-ESC-1", "R-INV-3"],
            ["001 §6.1", "001 §4.2"],
            breach + timedelta(days=1),
            escalation_id=escalation.pk,
        )
        self._aufforderung_event(case, auff_on, deadline, elb.is_minor_on(self.today))
        self._mode_with_rfb_event(case, auff_on)
        self.event(
            case,
            "eskalation.resolved",
            f"Vorstellung beim Träger am {complied:%d.%m.%Y} nachgeholt; Aufforderung erfüllt.",
            ["R-ESC-2"],
            ["001 §6.1"],
            complied,
            hour=14,
            escalation_id=escalation.pk,
        )

    def _scenario_rfb_bescheid(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        """R-ABB-3: abort without wichtiger Grund → Träger consulted → Zuweisungsbescheid with RFB."""
        massnahme = self._massnahme(spec.art)
        case, plan = self._active_plan_case(elb, team, ifk, spec, massnahme=massnahme)
        self._nachweise(plan)
        self._review_appointment(case, plan)
        start, aborted, bi_on = self.day(-63), self.day(-30), self.day(-18)
        ruecksprache, bescheid_on, reentry = self.day(-12), self.day(-9), self.day(11)
        assignment = MassnahmeZuweisung.objects.create(
            case=case,
            plan=plan,
            massnahme=massnahme,
            status=AssignmentStatus.BESCHEID_ISSUED,
            via=AssignmentVia.BESCHEID,
            start_date=reentry,
            end_date=max(reentry, start + timedelta(weeks=massnahme.duration_weeks)),
            rueckmeldung_due=self.day(4),
            started_on=start,
            aborted_on=aborted,
            traeger_ruecksprache_on=ruecksprache,
            valid_to=plan.valid_to,
        )
        escalation = Escalation.objects.create(
            case=case,
            plan=plan,
            status=EscalationStatus.AUFFORDERUNG_ISSUED,
            breach_kind=BreachKind.MASSNAHME_ABBRUCH,
            breach_date=aborted,
            description=f"Teilnahme an „{massnahme.title}“ am {aborted:%d.%m.%Y} ohne wichtigen Grund abgebrochen.",
            massnahme_art=massnahme.art,
            assignment=assignment,
            wichtiger_grund=False,
            compliance_deadline=assignment.rueckmeldung_due,
            created_by=ifk,
            created_at=self.at(aborted + timedelta(days=1), 9),
        )
        self._appointment(
            case,
            AppointmentKind.BERATERISCHE_INTERVENTION,
            bi_on,
            "Klärung des Abbruchs der Maßnahme (beraterische Intervention)",
            with_rfb=False,
            outcome=AppointmentOutcome.ATTENDED,
            escalation=escalation,
            wichtiger_grund=False,
        )
        self.event(
            case,
            "massnahme.aborted",
            f"Träger meldet Abbruch von „{massnahme.title}“ am {aborted:%d.%m.%Y}.",
            ["R-ABB-1"],
            ["001 §6.2"],
            aborted + timedelta(days=1),
            hour=9,
        )
        self.event(
            case,
            "eskalation.intervention_done",
            "Beraterische Intervention durchgeführt; kein wichtiger Grund, Wiedereinstieg nach Rücksprache "
            "mit dem Träger möglich.",
            ["R-ABB-3"],
            ["001 §6.2"],
            bi_on,
            hour=11,
            escalation_id=escalation.pk,
        )
        self.event(
            case,
            "massnahme.bescheid_issued",
            f"Zuweisungsbescheid mit RFB für die restliche Laufzeit des KP (bis {plan.valid_to:%d.%m.%Y}); "
            f"Wiedereinstieg am {reentry:%d.%m.%Y}.",
            ["R-ABB-3", "R-ZUW-3"],
            ["§ 15 Abs. 5 SGB II", "001 §6.2"],
            bescheid_on,
            hour=11,
            assignment_id=assignment.pk,
        )
        self._mode_with_rfb_event(case, bescheid_on)

    def _scenario_rfb_auff_vorstellung(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        """No Vorstellung, intervention not attended → Aufforderung § 15 Abs. 5 (5.4: NOT_ATTENDED → AUFF)."""
        massnahme = self._massnahme(spec.art)
        case, plan = self._active_plan_case(elb, team, ifk, spec, massnahme=massnahme)
        self._nachweise(plan)
        due, breach, bi_on, auff_on, deadline = self.day(-35), self.day(-33), self.day(-22), self.day(-18), self.day(7)
        assignment = self._assignment(
            case, plan, massnahme, AssignmentStatus.NOT_REPORTED, start=self.day(-28), rueckmeldung_due=due
        )
        self._schreiben_event(case, assignment, due - timedelta(days=10))
        escalation = Escalation.objects.create(
            case=case,
            plan=plan,
            status=EscalationStatus.AUFFORDERUNG_ISSUED,
            breach_kind=BreachKind.KEINE_VORSTELLUNG,
            breach_date=breach,
            description=f"Keine Vorstellung beim Träger {massnahme.traeger_name} bis zum {due:%d.%m.%Y}.",
            massnahme_art=massnahme.art,
            assignment=assignment,
            compliance_deadline=deadline,
            created_by=ifk,
            created_at=self.at(breach, 9),
        )
        self._appointment(
            case,
            AppointmentKind.BERATERISCHE_INTERVENTION,
            bi_on,
            "Gespräch über die fehlende Vorstellung beim Maßnahmeträger (beraterische Intervention)",
            with_rfb=False,
            outcome=AppointmentOutcome.NOT_ATTENDED,
            escalation=escalation,
        )
        self.event(
            case,
            "eskalation.intervention_not_attended",
            f"Beraterische Intervention am {bi_on:%d.%m.%Y} nicht wahrgenommen.",
            ["R-ESC-1"],
            ["001 §6.1"],
            bi_on,
            hour=12,
            escalation_id=escalation.pk,
        )
        self._aufforderung_event(case, auff_on, deadline, elb.is_minor_on(self.today))
        self._mode_with_rfb_event(case, auff_on)

    # --- scenarios: Schlichtung, no KP ----------------------------------------------------------------------

    def _schlichtung(
        self, case: Case, plan: Kooperationsplan, started: date, requested_by: str, outcome: str, disagreement: str
    ) -> Schlichtung:
        ends_on = started + timedelta(days=28)  # L-07 / D-12
        ended = outcome != SchlichtungOutcome.RUNNING
        schlichtung = Schlichtung.objects.create(
            case=case,
            plan=plan,
            requested_by=requested_by,
            disagreement=disagreement,
            schlichter_name=f"{self.fake.first_name()} {self._last_name()} (Schlichtungsstelle Musterstadt)",
            started_on=started,
            ends_on=ends_on,
            ended_on=ends_on if ended else None,
            outcome=outcome,
            proposal=(
                "Bewerbungen auf Teilzeitstellen im Umfang von 25 Wochenstunden; Teilnahme an einem "
                "Bewerbungscoaching statt einer Arbeitsgelegenheit."
                if ended
                else ""
            ),
            created_by=case.responsible,
        )
        self.event(
            case,
            "schlichtung.started",
            f"Schlichtungsverfahren begonnen; es endet spätestens am {ends_on:%d.%m.%Y}.",
            ["R-SCH-1", "R-SCH-2"],
            ["§ 15a SGB II", "001 §1"],
            started,
            schlichtung_id=schlichtung.pk,
        )
        if ended:
            self.event(
                case,
                "schlichtung.ended",
                "Schlichtung nach vier Wochen ohne Einigung beendet; es gilt § 15 Abs. 6 SGB II.",
                ["R-SCH-2", "R-SCH-4", "R-NOKP-1"],
                ["§ 15a Abs. 4 SGB II", "§ 15 Abs. 6 SGB II", "001 §7"],
                ends_on,
                hour=16,
                schlichtung_id=schlichtung.pk,
            )
        return schlichtung

    def _scenario_schl_disputed(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        """Disagreement at the Fortschreibung: plan DISPUTED, Schlichtung running (R-SCH-1)."""
        case, plan = self._active_plan_case(elb, team, ifk, spec)
        plan.status = KPStatus.DISPUTED
        plan.save(update_fields=["status"])
        started = self.day(-self.fake.random_int(3, 18))
        self.event(
            case,
            "kooperationsplan.disputed",
            "Keine Einigung über die Fortschreibung des Kooperationsplans.",
            ["R-FS-1", "R-SCH-1"],
            ["§ 15 Abs. 3 SGB II", "§ 15a SGB II"],
            started - timedelta(days=2),
            plan_id=plan.pk,
        )
        self._schlichtung(
            case,
            plan,
            started,
            SchlichtungRequestedBy.ELB,
            SchlichtungOutcome.RUNNING,
            "Die eLb hält die vereinbarte Zahl von fünf Bewerbungen pro Monat wegen der Kinderbetreuung für zu hoch.",
        )

    def _scenario_schl_draft(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        """No agreement on the first KP: the draft stays open while the Schlichtung runs."""
        drafted = self.day(-self.fake.random_int(22, 30))
        case = self._open_case(elb, team, ifk, drafted - timedelta(days=30), spec.mode)
        self._potenzialanalyse(case, ifk, drafted - timedelta(days=5))
        plan = self._plan(case, ifk, spec, valid_from=None, status=KPStatus.DRAFT, created_on=drafted)
        self._schlichtung(
            case,
            plan,
            self.day(-self.fake.random_int(4, 20)),
            SchlichtungRequestedBy.BEIDE,
            SchlichtungOutcome.RUNNING,
            "Strittig ist die Teilnahme an einer Arbeitsgelegenheit; die eLb wünscht eine Umschulung.",
        )

    def _scenario_failed(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        """R-ABB-5: measure aborted and intervention not attended → KP FAILED, mode NO_KP_15_6."""
        valid_from = self.day(-120)
        massnahme = self.massnahmen["AKTIVIERUNG"][1]
        case = self._open_case(elb, team, ifk, self._leistungsbeginn_before(valid_from), spec.mode)
        self._potenzialanalyse(case, ifk, valid_from - timedelta(days=6))
        failed_on = self.day(-20)
        plan = self._plan(
            case, ifk, spec, valid_from=valid_from, status=KPStatus.FAILED, ended_on=failed_on, massnahme=massnahme
        )
        start, aborted, bi_on = self.day(-70), self.day(-35), self.day(-25)
        assignment = self._assignment(
            case,
            plan,
            massnahme,
            AssignmentStatus.KP_FAILED,
            start=start,
            rueckmeldung_due=start - timedelta(days=7),
            reported_on=start - timedelta(days=8),
            started_on=start,
            aborted_on=aborted,
        )
        escalation = Escalation.objects.create(
            case=case,
            plan=plan,
            status=EscalationStatus.NOT_ATTENDED,
            breach_kind=BreachKind.MASSNAHME_ABBRUCH,
            breach_date=aborted,
            description=f"Teilnahme an „{massnahme.title}“ am {aborted:%d.%m.%Y} abgebrochen.",
            massnahme_art=massnahme.art,
            assignment=assignment,
            created_by=ifk,
            created_at=self.at(aborted + timedelta(days=1), 9),
        )
        self._appointment(
            case,
            AppointmentKind.BERATERISCHE_INTERVENTION,
            bi_on,
            "Klärung des Abbruchs der Maßnahme (beraterische Intervention)",
            with_rfb=False,
            outcome=AppointmentOutcome.NOT_ATTENDED,
            escalation=escalation,
        )
        self.event(
            case,
            "massnahme.aborted",
            f"Träger meldet Abbruch von „{massnahme.title}“ am {aborted:%d.%m.%Y}.",
            ["R-ABB-1"],
            ["001 §6.2"],
            aborted + timedelta(days=1),
            hour=9,
        )
        self.event(
            case,
            "eskalation.intervention_not_attended",
            f"Beraterische Intervention am {bi_on:%d.%m.%Y} nicht wahrgenommen.",
            ["R-ABB-5"],
            ["001 §6.2"],
            bi_on,
            hour=12,
            escalation_id=escalation.pk,
        )
        self.event(
            case,
            "kooperationsplan.failed",
            "Kooperationsplan gescheitert: Maßnahme kann nicht fortgesetzt werden, Klärungsgespräch nicht "
            "wahrgenommen. Weitere Mitwirkung nur noch per Aufforderung nach § 15 Abs. 6 SGB II.",
            ["R-ABB-5", "R-NOKP-1"],
            ["§ 15 Abs. 6 SGB II", "001 §6.2", "001 §7"],
            failed_on,
            hour=15,
            plan_id=plan.pk,
        )
        if spec.tl_request:
            # R-ABB-6 / D-16: a Schlichtung after a failed KP needs the team lead's approval; the request is open.
            requested_on = self.day(-2)
            TeamLeadApproval.objects.create(
                case=case,
                kind=TeamLeadApprovalKind.SCHLICHTUNG_NACH_SCHEITERN,
                subject_type=Kooperationsplan._meta.label,
                subject_id=plan.pk,
                requested_by=ifk,
                requested_at=self.at(requested_on, 14),
                request_note="Die eLb hat Gesprächsbereitschaft signalisiert; ich schlage eine Schlichtung vor.",
            )
            self.event(
                case,
                "teamleitung.requested",
                "Zustimmung der Teamleitung zur Schlichtung nach gescheitertem KP angefragt.",
                ["R-ABB-6"],
                ["001 §6.2"],
                requested_on,
                hour=14,
            )

    def _scenario_abandoned(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        """R-NOKP-1: no KP came about in the Beratung; the draft is ABANDONED."""
        drafted = self.day(-self.fake.random_int(35, 60))
        case = self._open_case(elb, team, ifk, drafted - timedelta(days=25), spec.mode)
        self._potenzialanalyse(case, ifk, drafted - timedelta(days=3))
        abandoned = drafted + timedelta(days=14)
        plan = self._plan(
            case, ifk, spec, valid_from=None, status=KPStatus.ABANDONED, created_on=drafted, ended_on=abandoned
        )
        self.event(
            case,
            "kooperationsplan.abandoned",
            "Kein Kooperationsplan zustande gekommen; Mitwirkung wird per Aufforderung nach § 15 Abs. 6 SGB II "
            "verlangt.",
            ["R-NOKP-1"],
            ["§ 15 Abs. 6 SGB II", "001 §7"],
            abandoned,
            hour=15,
            plan_id=plan.pk,
        )

    def _scenario_abandoned_schlichtung(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        """Schlichtung about the first KP ended after four weeks without agreement (R-SCH-2, R-SCH-4)."""
        drafted = self.day(-70)
        case = self._open_case(elb, team, ifk, drafted - timedelta(days=21), spec.mode)
        self._potenzialanalyse(case, ifk, drafted - timedelta(days=4))
        started = self.day(-60)
        plan = self._plan(
            case,
            ifk,
            spec,
            valid_from=None,
            status=KPStatus.ABANDONED,
            created_on=drafted,
            ended_on=started + timedelta(days=28),
        )
        self._schlichtung(
            case,
            plan,
            started,
            SchlichtungRequestedBy.ELB,
            SchlichtungOutcome.NO_AGREEMENT,
            "Die eLb lehnt jede Bewerbung außerhalb ihres früheren Berufs ab.",
        )

    def _scenario_not_continued(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        """Fortschreibung disputed, Schlichtung without agreement → plan NOT_CONTINUED (5.1, L-06)."""
        valid_from = add_months(self.day(-40), -6)
        case = self._open_case(elb, team, ifk, self._leistungsbeginn_before(valid_from), spec.mode)
        self._potenzialanalyse(case, ifk, valid_from - timedelta(days=5))
        started = self.day(-38)
        plan = self._plan(
            case,
            ifk,
            spec,
            valid_from=valid_from,
            status=KPStatus.NOT_CONTINUED,
            ended_on=started + timedelta(days=28),
        )
        self._schlichtung(
            case,
            plan,
            started,
            SchlichtungRequestedBy.IFK,
            SchlichtungOutcome.NO_AGREEMENT,
            "Keine Einigung über die Fortschreibung: die eLb lehnt die vereinbarten Eigenbemühungen ab.",
        )

    # --- scenarios: exemptions (001 §8, R-EXC-1..5) -------------------------------------------------------

    def _exemption_event(self, case: Case, exemption: Exemption, reasons: list[str], sources: list[str]) -> None:
        self.event(
            case,
            "ausnahme.recorded",
            f"Ausnahme vom Kooperationsplan ({exemption.get_reason_display()}); Kennung KP in FMG.job "
            f"eingetragen; erneute Prüfung spätestens am {exemption.recheck_due:%d.%m.%Y}.",
            [*reasons, "R-EXC-4", "R-EXC-5"],
            [*sources, "001 §8.3"],
            exemption.recorded_on,
            hour=11,
            exemption_id=exemption.pk,
        )

    def _scenario_ez(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        recorded = self.day(-self.fake.random_int(3, 12))
        case = self._open_case(elb, team, ifk, recorded - timedelta(days=self.fake.random_int(30, 200)), spec.mode)
        start = self.day(self.fake.random_int(10, 45))  # R-EXC-1: within 8 weeks of the exemption
        employer = self.fake.random_element(_EMPLOYERS)
        zusage = Einstellungszusage.objects.create(
            case=case,
            employer=employer,
            start_date=start,
            firm=True,
            further_support_needed=False,
            recorded_on=recorded,
        )
        exemption = Exemption.objects.create(
            case=case,
            reason=ExemptionReason.EINSTELLUNGSZUSAGE,
            kennung_kp=True,
            kennung_reason=(
                f"Feste Einstellungszusage der {employer} zum {start:%d.%m.%Y}; die Arbeit beginnt innerhalb von "
                "acht Wochen und für die Aufnahme ist keine weitere Förderung nötig."
            ),
            einstellungszusage=zusage,
            recheck_due=start,  # D-04
            recorded_by=ifk,
            recorded_on=recorded,
        )
        self._exemption_event(case, exemption, ["R-EXC-1"], ["001 §8.1"])

    def _scenario_p10(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        checked = self.day(-self.fake.random_int(20, 90))
        if spec.p10_kind == Paragraph10ReasonKind.ELTERNZEIT:
            since = self.day(-self.fake.random_int(150, 400))
            expected_end = add_years(since, 3) - timedelta(days=1)
            note = "Betreuung des Kindes unter drei Jahren in Elternzeit; eine Betreuung ist noch nicht gesichert."
            reason_text = (
                f"Erziehung eines Kindes unter drei Jahren (Elternzeit bis voraussichtlich {expected_end:%d.%m.%Y}); "
                "Arbeit und Maßnahmen sind derzeit nicht zumutbar (§ 10 SGB II)."
            )
        else:
            since = self.day(-self.fake.random_int(200, 500))
            expected_end = self.day(self.fake.random_int(60, 120))
            note = "Pflege der Mutter (Pflegegrad 4); Umzug in eine Pflegeeinrichtung ist beantragt."
            reason_text = (
                f"Pflege einer Angehörigen bis voraussichtlich {expected_end:%d.%m.%Y}; Arbeit ist mit der Pflege "
                "derzeit nicht vereinbar (§ 10 SGB II). Integration danach vorausschauend planen."
            )
        case = self._open_case(elb, team, ifk, since - timedelta(days=self.fake.random_int(0, 60)), spec.mode)
        reason = Paragraph10Reason.objects.create(
            case=case,
            kind=spec.p10_kind,
            since=since,
            expected_end=expected_end,
            last_checked_on=checked,
            zukunftsziel=spec.p10_kind == Paragraph10ReasonKind.PFLEGE,
            note=note,
        )
        exemption = Exemption.objects.create(
            case=case,
            reason=ExemptionReason.PARAGRAPH_10,
            kennung_kp=True,
            kennung_reason=reason_text,
            paragraph10_reason=reason,
            # D-02: last check + 6 months, at the latest when the reason is known to end.
            recheck_due=min(add_months(checked, 6), expected_end),
            recorded_by=ifk,
            recorded_on=checked,
        )
        self._exemption_event(case, exemption, ["R-EXC-2"], ["§ 10 SGB II", "001 §8.2"])

    def _scenario_pl1(self, elb: Elb, team: Team, ifk: User, spec: _Spec) -> None:
        recorded = self.day(-self.fake.random_int(15, 120))
        case = self._open_case(
            elb,
            team,
            ifk,
            recorded - timedelta(days=self.fake.random_int(60, 400)),
            spec.mode,
            profillage=Profillage.PL_I,
        )
        if spec.selbststaendig:
            reason_text = (
                "Selbstständig als Fliesenlegerin/Fliesenleger mit voller Auslastung; alle Möglichkeiten zur "
                "Steigerung des Einkommens sind ausgeschöpft, in den nächsten sechs Monaten ist keine Verringerung "
                "der Hilfebedürftigkeit zu erwarten."
            )
        else:
            reason_text = (
                "Vollzeit sozialversicherungspflichtig beschäftigt (ergänzender Leistungsbezug wegen Familiengröße); "
                "in den nächsten sechs Monaten ist keine Verringerung der Hilfebedürftigkeit zu erwarten."
            )
        exemption = Exemption.objects.create(
            case=case,
            reason=ExemptionReason.PROFILLAGE_I,
            kennung_kp=True,
            kennung_reason=reason_text,
            vollzeit_sv_beschaeftigt=not spec.selbststaendig,
            selbststaendig=spec.selbststaendig,
            moeglichkeiten_ausgeschoepft=True,
            keine_verringerung_6_monate=True,
            recheck_due=add_months(recorded, 6),  # D-03
            recorded_by=ifk,
            recorded_on=recorded,
        )
        self._exemption_event(case, exemption, ["R-EXC-3"], ["001 §8.3"])
