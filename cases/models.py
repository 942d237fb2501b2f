"""Cases: Jobcenter, teams and staff, the eLb and their case, Potenzialanalyse, timeline, access log.

Models that hold Sozialdaten (§ 35 SGB I, §§ 67 ff. SGB X) are tracked by django-pghistory
(trigger-based, so `.update()` and raw SQL are recorded too). Health information is
special-category data (Art. 9 GDPR) and kept in its own model so it is only loaded where needed.
"""

from __future__ import annotations

from datetime import date

import pghistory
import pgtrigger
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

KUNDENNUMMER_PATTERN = r"^[0-9]{3}[A-Z][0-9]{6}$"
BG_NUMMER_PATTERN = r"^[0-9]{5}BG[0-9]{7}$"
POSTAL_CODE_PATTERN = r"^[0-9]{5}$"

kundennummer_validator = RegexValidator(
    KUNDENNUMMER_PATTERN, "Die Kundennummer hat das Format 123A456789 (3 Ziffern, 1 Großbuchstabe, 6 Ziffern)."
)
bg_nummer_validator = RegexValidator(BG_NUMMER_PATTERN, "Die BG-Nummer hat das Format 12345BG1234567.")
postal_code_validator = RegexValidator(POSTAL_CODE_PATTERN, "Die Postleitzahl hat fünf Ziffern.")


def track_history(**options):
    """History of every change to Sozialdaten, protected against edits (append-only)."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        append_only=True,
        **options,
    )


def append_only_trigger(name: str = "append_only") -> pgtrigger.Protect:
    """Database trigger: rows may be inserted, never updated or deleted."""
    return pgtrigger.Protect(name=name, operation=pgtrigger.Update | pgtrigger.Delete)


class Bundesland(models.TextChoices):
    BW = "BW", "Baden-Württemberg"
    BY = "BY", "Bayern"
    BE = "BE", "Berlin"
    BB = "BB", "Brandenburg"
    HB = "HB", "Bremen"
    HH = "HH", "Hamburg"
    HE = "HE", "Hessen"
    MV = "MV", "Mecklenburg-Vorpommern"
    NI = "NI", "Niedersachsen"
    NW = "NW", "Nordrhein-Westfalen"
    RP = "RP", "Rheinland-Pfalz"
    SL = "SL", "Saarland"
    SN = "SN", "Sachsen"
    ST = "ST", "Sachsen-Anhalt"
    SH = "SH", "Schleswig-Holstein"
    TH = "TH", "Thüringen"


class Jobcenter(models.Model):
    """The Jobcenter: letterhead data and the local switches of RULES.md (P1, P2 via measure types, P7)."""

    name = models.CharField("Name", max_length=200, unique=True)
    street = models.CharField("Straße und Hausnummer", max_length=200)
    postal_code = models.CharField("Postleitzahl", max_length=5, validators=[postal_code_validator])
    city = models.CharField("Ort", max_length=100)
    phone = models.CharField("Telefon", max_length=50)
    email = models.EmailField("E-Mail")
    website = models.CharField("Internetadresse", max_length=200, blank=True)
    opening_hours = models.CharField("Öffnungszeiten", max_length=200, blank=True)
    widerspruch_address = models.TextField(
        "Anschrift für Widersprüche",
        help_text="Wird in der Rechtsbehelfsbelehrung genannt (RULES.md 6.4).",
    )
    bundesland = models.CharField(
        "Bundesland (Feiertagskalender)", max_length=2, choices=Bundesland.choices, default=Bundesland.NW
    )
    followup_invitation_rfb = models.BooleanField(
        "Folgeeinladungen mit Rechtsfolgenbelehrung",
        default=True,
        help_text="P1 / R-INV-2: an = Praxis nach Fachlichen Hinweisen 4.2; aus = Praxis nach 000 "
        "(keine RFB, solange die Zusammenarbeit funktioniert).",
    )
    anhoerung_days = models.PositiveSmallIntegerField(
        "Äußerungsfrist der Anhörung (Tage)", default=14, help_text="P7 / D-10."
    )
    return_min_months = models.PositiveSmallIntegerField(
        "Mindestdauer zuverlässiger Mitwirkung vor Rückkehr ohne RFB (Monate)", default=3, help_text="R-RET-1."
    )
    four_eyes_rfb_letters = models.BooleanField("Vier-Augen-Freigabe für Schreiben mit RFB", default=False)

    class Meta:
        verbose_name = "Jobcenter"
        verbose_name_plural = "Jobcenter"
        constraints = [
            models.CheckConstraint(
                condition=Q(postal_code__regex=POSTAL_CODE_PATTERN), name="jobcenter_postal_code_format"
            ),
            models.CheckConstraint(condition=Q(anhoerung_days__gte=1), name="jobcenter_anhoerung_days_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    jobcenter = models.ForeignKey(Jobcenter, on_delete=models.PROTECT, related_name="teams", verbose_name="Jobcenter")
    name = models.CharField("Name", max_length=100)

    class Meta:
        verbose_name = "Team"
        verbose_name_plural = "Teams"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["jobcenter", "name"], name="team_unique_name_per_jobcenter")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    IFK = "IFK", "Integrationsfachkraft"
    TEAMLEITUNG = "TL", "Teamleitung"
    FACHADMIN = "FA", "Fachadministration"


def person_name(first_name: str, last_name: str, username: str) -> str:
    """The name a member of staff is shown by: `User.get_full_name()`, or the username if there is none (for
    rows read without the model)."""
    return f"{first_name} {last_name}".strip() or username


class User(AbstractUser):
    """A member of staff. IFK and Teamleitung belong to exactly one team."""

    role = models.CharField("Rolle", max_length=3, choices=Role.choices, default=Role.IFK)
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="members", verbose_name="Team"
    )
    phone = models.CharField("Telefon (Durchwahl)", max_length=50, blank=True)
    room = models.CharField("Raum", max_length=50, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = "Mitarbeiter/in"
        verbose_name_plural = "Mitarbeitende"
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
            models.CheckConstraint(
                condition=Q(role=Role.FACHADMIN) | Q(team__isnull=False), name="user_ifk_and_tl_have_team"
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_ifk(self) -> bool:
        return self.role == Role.IFK

    @property
    def is_teamleitung(self) -> bool:
        return self.role == Role.TEAMLEITUNG

    @property
    def is_fachadmin(self) -> bool:
        return self.role == Role.FACHADMIN


class Bedarfsgemeinschaft(models.Model):
    jobcenter = models.ForeignKey(Jobcenter, on_delete=models.PROTECT, related_name="bedarfsgemeinschaften")
    bg_nummer = models.CharField("BG-Nummer", max_length=14, unique=True, validators=[bg_nummer_validator])

    class Meta:
        verbose_name = "Bedarfsgemeinschaft"
        verbose_name_plural = "Bedarfsgemeinschaften"
        constraints = [
            models.CheckConstraint(condition=Q(bg_nummer__regex=BG_NUMMER_PATTERN), name="bg_nummer_format"),
        ]

    def __str__(self) -> str:
        return self.bg_nummer


class Salutation(models.TextChoices):
    FRAU = "FRAU", "Frau"
    HERR = "HERR", "Herr"
    NEUTRAL = "NEUTRAL", "ohne Anrede"


SALUTATIONS = ["FRAU", "HERR", "NEUTRAL"]


@track_history()
class Elb(models.Model):
    """An erwerbsfähige leistungsberechtigte Person (eLb)."""

    kundennummer = models.CharField("Kundennummer", max_length=10, unique=True, validators=[kundennummer_validator])
    salutation = models.CharField("Anrede", max_length=7, choices=Salutation.choices, default=Salutation.NEUTRAL)
    first_name = models.CharField("Vorname", max_length=100)
    last_name = models.CharField("Nachname", max_length=100)
    birth_date = models.DateField("Geburtsdatum")
    street = models.CharField("Straße und Hausnummer", max_length=200)
    postal_code = models.CharField("Postleitzahl", max_length=5, validators=[postal_code_validator])
    city = models.CharField("Ort", max_length=100)
    phone = models.CharField("Telefon", max_length=50, blank=True)
    email = models.EmailField("E-Mail", blank=True)
    bedarfsgemeinschaft = models.ForeignKey(
        Bedarfsgemeinschaft,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name="Bedarfsgemeinschaft",
    )

    class Meta:
        verbose_name = "eLb"
        verbose_name_plural = "eLb"
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kundennummer__regex=KUNDENNUMMER_PATTERN), name="elb_kundennummer_format"
            ),
            models.CheckConstraint(condition=Q(salutation__in=SALUTATIONS), name="elb_salutation_valid"),
            models.CheckConstraint(condition=Q(postal_code__regex=POSTAL_CODE_PATTERN), name="elb_postal_code_format"),
            models.CheckConstraint(condition=Q(birth_date__gte=date(1900, 1, 1)), name="elb_birth_date_plausible"),
            models.CheckConstraint(condition=~Q(last_name=""), name="elb_last_name_required"),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="elb_name_idx"),
            models.Index(fields=["birth_date"], name="elb_birth_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.kundennummer})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    def is_minor_on(self, day: date) -> bool:
        """Minor on the given day; letters take the age on the letter date (P5, R-MIN-1)."""
        return self.age_on(day) < 18

    @property
    def is_minor(self) -> bool:
        return self.is_minor_on(timezone.localdate())


class GesetzlicheVertretungRelation(models.TextChoices):
    MUTTER = "MUTTER", "Mutter"
    VATER = "VATER", "Vater"
    VORMUND = "VORMUND", "Vormund"
    PFLEGER = "PFLEGER", "Pfleger/in"
    SONSTIGE = "SONSTIGE", "Sonstige"


@track_history()
class GesetzlicheVertretung(models.Model):
    """A legal representative of a minor eLb; each one receives the letters of P5."""

    Relation = GesetzlicheVertretungRelation

    elb = models.ForeignKey(Elb, on_delete=models.PROTECT, related_name="vertretungen", verbose_name="eLb")
    relation = models.CharField("Beziehung", max_length=10, choices=Relation.choices)
    salutation = models.CharField("Anrede", max_length=7, choices=Salutation.choices, default=Salutation.NEUTRAL)
    first_name = models.CharField("Vorname", max_length=100)
    last_name = models.CharField("Nachname", max_length=100)
    street = models.CharField("Straße und Hausnummer", max_length=200)
    postal_code = models.CharField("Postleitzahl", max_length=5, validators=[postal_code_validator])
    city = models.CharField("Ort", max_length=100)
    phone = models.CharField("Telefon", max_length=50, blank=True)
    valid_from = models.DateField("gültig ab", default=date.today)
    valid_to = models.DateField("gültig bis", null=True, blank=True)

    class Meta:
        verbose_name = "gesetzliche Vertretung"
        verbose_name_plural = "gesetzliche Vertretungen"
        constraints = [
            models.CheckConstraint(
                condition=Q(relation__in=GesetzlicheVertretungRelation.values), name="gv_relation_valid"
            ),
            models.CheckConstraint(condition=Q(salutation__in=SALUTATIONS), name="gv_salutation_valid"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")), name="gv_period_ordered"
            ),
            models.CheckConstraint(condition=Q(postal_code__regex=POSTAL_CODE_PATTERN), name="gv_postal_code_format"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.get_relation_display()})"


class CooperationMode(models.TextChoices):
    """The cooperation mode of a case (RULES.md 5.2). Changed only by kooperationsplan services."""

    NO_KP_YET = "NO_KP_YET", "Noch kein Kooperationsplan"
    COOP_NO_RFB = "COOP_NO_RFB", "Zusammenarbeit ohne RFB"
    COOP_WITH_RFB = "COOP_WITH_RFB", "Zusammenarbeit mit RFB"
    SCHLICHTUNG_PENDING = "SCHLICHTUNG_PENDING", "Schlichtung läuft"
    NO_KP_15_6 = "NO_KP_15_6", "Kein KP (§ 15 Abs. 6 SGB II)"
    EXEMPT = "EXEMPT", "Ausnahme (Kennung KP)"


class Profillage(models.IntegerChoices):
    PL_I = 1, "Profillage I (Beschäftigte/Selbstständige)"
    PL_II = 2, "Profillage II"
    PL_III = 3, "Profillage III"
    PL_IV = 4, "Profillage IV"
    PL_V = 5, "Profillage V"
    PL_VI = 6, "Profillage VI"


@track_history()
class Case(models.Model):
    """The case (Leistungsfall) of one eLb, worked by one team and one responsible IFK."""

    elb = models.ForeignKey(Elb, on_delete=models.PROTECT, related_name="cases", verbose_name="eLb")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases", verbose_name="Team")
    responsible = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="responsible_cases", verbose_name="zuständige IFK"
    )
    leistungsbeginn = models.DateField("Beginn des Leistungsbezugs")
    closed_on = models.DateField("Fall abgeschlossen am", null=True, blank=True)
    cooperation_mode = models.CharField(
        "Kooperationsmodus", max_length=20, choices=CooperationMode.choices, default=CooperationMode.NO_KP_YET
    )
    profillage = models.PositiveSmallIntegerField("Profillage", choices=Profillage.choices, null=True, blank=True)
    created_at = models.DateTimeField("angelegt am", default=timezone.now)

    class Meta:
        verbose_name = "Fall"
        verbose_name_plural = "Fälle"
        constraints = [
            models.CheckConstraint(condition=Q(cooperation_mode__in=CooperationMode.values), name="case_mode_valid"),
            models.CheckConstraint(
                condition=Q(profillage__isnull=True) | Q(profillage__in=Profillage.values), name="case_profillage_valid"
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("leistungsbeginn")),
                name="case_closed_after_start",
            ),
            models.UniqueConstraint(
                fields=["elb"], condition=Q(closed_on__isnull=True), name="case_one_open_case_per_elb"
            ),
        ]
        indexes = [
            models.Index(fields=["team", "closed_on"], name="case_team_open_idx"),
            # An IFK's open cases in a team, without visiting the table (the worklist's scope, case_scope_sql).
            models.Index(
                fields=["responsible", "team"],
                include=["id"],
                condition=Q(closed_on__isnull=True),
                name="case_open_by_ifk_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Fall {self.pk} – {self.elb}"

    @property
    def aktenzeichen(self) -> str:
        return f"{self.elb.kundennummer}/{self.pk}"


class HealthInformationRehaStatus(models.TextChoices):
    NONE = "NONE", "kein Reha-Bedarf bekannt"
    CHECKING = "CHECKING", "Reha-Bedarf wird geprüft"
    PENDING = "PENDING", "Reha-Verfahren läuft"
    APPROVED = "APPROVED", "Reha-Leistung bewilligt"


@track_history()
class HealthInformation(models.Model):
    """Health and Reha information: special-category data (Art. 9 GDPR), shown only where needed."""

    special_category = True

    RehaStatus = HealthInformationRehaStatus

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="health", verbose_name="Fall")
    reha_status = models.CharField("Reha-Status", max_length=10, choices=RehaStatus.choices, default=RehaStatus.NONE)
    reha_traeger = models.CharField("Reha-Träger", max_length=200, blank=True)
    limitations = models.TextField(
        "gesundheitliche Einschränkungen (nur mit Einverständnis und soweit für den KP nötig)", blank=True
    )
    consent_recorded_on = models.DateField("Einverständnis dokumentiert am", null=True, blank=True)

    class Meta:
        verbose_name = "Gesundheit und Reha (besondere Kategorie)"
        verbose_name_plural = "Gesundheit und Reha (besondere Kategorie)"
        constraints = [
            models.CheckConstraint(
                condition=Q(reha_status__in=HealthInformationRehaStatus.values), name="health_reha_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(limitations="") | Q(consent_recorded_on__isnull=False),
                name="health_limitations_need_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"Gesundheit und Reha – Fall {self.case_id}"


class Paragraph10ReasonKind(models.TextChoices):
    SCHULE = "SCHULE", "Schulpflicht"
    ELTERNZEIT = "ELTERNZEIT", "Erziehung eines Kindes unter 3 Jahren / Elternzeit"
    PFLEGE = "PFLEGE", "Pflege einer/eines Angehörigen"
    GESUNDHEIT = "GESUNDHEIT", "gesundheitliche Gründe"
    SONSTIGES = "SONSTIGES", "sonstiger wichtiger Grund"


@track_history()
class Paragraph10Reason(models.Model):
    """A § 10 SGB II reason why work or a measure is temporarily not zumutbar (001 §8.2, R-EXC-2, D-02)."""

    Kind = Paragraph10ReasonKind

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="paragraph10_reasons", verbose_name="Fall")
    kind = models.CharField("Grund", max_length=10, choices=Kind.choices)
    since = models.DateField("seit")
    expected_end = models.DateField("voraussichtliches Ende", null=True, blank=True)
    last_checked_on = models.DateField("zuletzt geprüft am")
    zukunftsziel = models.BooleanField(
        "KP zielt auf künftige Beendigung/Verringerung der Hilfebedürftigkeit", default=False
    )
    note = models.TextField("Vermerk", blank=True)
    ended_on = models.DateField("entfallen am", null=True, blank=True)

    class Meta:
        verbose_name = "§ 10-Grund"
        verbose_name_plural = "§ 10-Gründe"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=Paragraph10ReasonKind.values), name="p10_kind_valid"),
            models.CheckConstraint(
                condition=Q(expected_end__isnull=True) | Q(expected_end__gte=models.F("since")),
                name="p10_end_after_start",
            ),
            models.CheckConstraint(condition=Q(last_checked_on__gte=models.F("since")), name="p10_checked_after_start"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("since")), name="p10_end_not_before_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} seit {self.since:%d.%m.%Y}"


@track_history()
class Einstellungszusage(models.Model):
    """A firm job offer (001 §8.1, R-EXC-1, D-04)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="einstellungszusagen", verbose_name="Fall")
    employer = models.CharField("Arbeitgeber", max_length=200)
    start_date = models.DateField("Beschäftigungsbeginn")
    firm = models.BooleanField("feste Zusage", default=True)
    further_support_needed = models.BooleanField("weitere Unterstützung zur Arbeitsaufnahme nötig", default=False)
    recorded_on = models.DateField("erfasst am")
    start_confirmed_on = models.DateField("Arbeitsaufnahme bestätigt am", null=True, blank=True)

    class Meta:
        verbose_name = "Einstellungszusage"
        verbose_name_plural = "Einstellungszusagen"
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__gte=models.F("recorded_on")), name="ez_start_not_before_record"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employer} ab {self.start_date:%d.%m.%Y}"


class PotenzialanalyseStatus(models.TextChoices):
    IN_PROGRESS = "IN_PROGRESS", "in Bearbeitung"
    COMPLETE = "COMPLETE", "abgeschlossen"


@track_history()
class Potenzialanalyse(models.Model):
    """The Potenzialanalyse (§ 15 Abs. 1 SGB II, 001 §3). A KP needs a complete one (R-PA-1)."""

    Status = PotenzialanalyseStatus

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="potenzialanalyse", verbose_name="Fall")
    status = models.CharField("Status", max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    strengths = models.TextField("Stärken", blank=True)
    qualifications = models.TextField("Qualifikationen und Berufserfahrung", blank=True)
    handlungsbedarfe = models.TextField("Handlungsbedarfe / Unterstützungsbedarfe", blank=True)
    obstacles = models.TextField("Hemmnisse", blank=True)
    health_reha_assessed = models.BooleanField(
        "gesundheitliche Situation und Reha-Bedarf besprochen",
        default=False,
        help_text="Einzelheiten stehen ausschließlich unter Gesundheit und Reha.",
    )
    reused_from_agentur = models.BooleanField(
        "Feststellungen der Agentur für Arbeit übernommen (§ 9a SGB III)", default=False
    )
    completed_at = models.DateTimeField("abgeschlossen am", null=True, blank=True)
    completed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="abgeschlossen von"
    )
    version = models.PositiveIntegerField("Bearbeitungsstand", default=1)
    updated_at = models.DateTimeField("geändert am", auto_now=True)

    class Meta:
        verbose_name = "Potenzialanalyse"
        verbose_name_plural = "Potenzialanalysen"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PotenzialanalyseStatus.values), name="pa_status_valid"),
            models.CheckConstraint(
                condition=Q(status="IN_PROGRESS")
                | (
                    Q(completed_at__isnull=False, completed_by__isnull=False, health_reha_assessed=True)
                    & ~Q(strengths="")
                    & ~Q(handlungsbedarfe="")
                    & ~Q(obstacles="")
                ),
                name="pa_complete_has_all_parts",
            ),
        ]

    def __str__(self) -> str:
        return f"Potenzialanalyse Fall {self.case_id} ({self.get_status_display()})"


class TimelineEvent(models.Model):
    """One event on the case timeline: who did what, and why (reason codes and legal sources)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="timeline", verbose_name="Fall")
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="ausgeführt von"
    )
    occurred_at = models.DateTimeField("Zeitpunkt", db_default=Now())
    code = models.CharField("Ereignis", max_length=80, help_text="Punktierter Code, z. B. kooperationsplan.activated")
    summary = models.CharField("Kurzbeschreibung", max_length=300)
    reason_codes = models.JSONField("Begründungscodes", default=list)
    sources = models.JSONField("Rechtsquellen", default=list)
    rule_set = models.CharField("Regelwerk", max_length=40)
    data = models.JSONField("Daten", default=dict, blank=True)

    class Meta:
        verbose_name = "Ereignis"
        verbose_name_plural = "Ereignisse (Zeitstrahl)"
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["case", "-occurred_at"], name="timeline_case_time_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[a-z_]+(\.[a-z0-9_]+)+$"), name="timeline_code_dotted"),
            models.CheckConstraint(condition=~Q(reason_codes=[]), name="timeline_has_reason"),
            models.CheckConstraint(condition=~Q(sources=[]), name="timeline_has_source"),
        ]
        triggers = [append_only_trigger("timeline_append_only")]

    def __str__(self) -> str:
        return f"{self.code} ({self.occurred_at:%d.%m.%Y %H:%M})"


class AccessLogOutcome(models.TextChoices):
    GRANTED = "granted", "gewährt"
    DENIED = "denied", "verweigert"


class AccessLog(models.Model):
    """Who read which case, when, through which view; denials too (T1, T2). Append-only by trigger."""

    Outcome = AccessLogOutcome

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="Benutzer/in")
    case_id_accessed = models.BigIntegerField("Fall-Nr.")
    view_name = models.CharField("Ansicht", max_length=120)
    path = models.CharField("Pfad", max_length=500)
    outcome = models.CharField("Ergebnis", max_length=7, choices=Outcome.choices)
    at = models.DateTimeField("Zeitpunkt", db_default=Now())

    class Meta:
        verbose_name = "Zugriffsprotokoll"
        verbose_name_plural = "Zugriffsprotokoll"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["case_id_accessed", "-at"], name="accesslog_case_idx"),
            models.Index(fields=["user", "-at"], name="accesslog_user_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=AccessLogOutcome.values), name="accesslog_outcome_valid")
        ]
        triggers = [append_only_trigger("accesslog_append_only")]

    def __str__(self) -> str:
        return f"{self.user_id} → Fall {self.case_id_accessed}: {self.outcome}"


class CalendarFeedToken(models.Model):
    """The secret of a user's calendar subscription (iCalendar feed). Only its SHA-256 is stored.

    The token itself is shown once, when it is created; whoever holds the feed URL can read the
    dates of the user's cases, so it can be revoked (and a new one created) at any time. Revoked rows
    are kept so that a request with an old token is logged as "revoked" rather than "unknown".
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="calendar_tokens", verbose_name="Benutzer/in")
    token_hash = models.CharField("SHA-256 des Tokens", max_length=64, unique=True)
    # The application's clock, like revoked_at and last_used_at, so that the three are comparable.
    created_at = models.DateTimeField("erzeugt am", default=timezone.now)
    last_used_at = models.DateTimeField("zuletzt abgerufen am", null=True, blank=True)
    revoked_at = models.DateTimeField("widerrufen am", null=True, blank=True)

    class Meta:
        verbose_name = "Kalender-Abo"
        verbose_name_plural = "Kalender-Abos"
        constraints = [
            # The format of a SHA-256 digest, not a secret (S106 reads "token" as a password).
            models.CheckConstraint(
                condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106
                name="calendar_token_hash_format",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="calendar_token_one_active_per_user"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=models.F("created_at")),
                name="calendar_token_revoked_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"Kalender-Abo von {self.user_id} ({'widerrufen' if self.revoked_at else 'gültig'})"
