"""The Kooperationsplan (§ 15 SGB II) and everything that hangs on it.

State machines of RULES.md section 5: KP versions (5.1), measure assignments (5.3) and the
escalation ladder (5.4). The case cooperation mode (5.2) is stored on cases.Case. Status
values are TextChoices backed by CheckConstraints; transitions are performed only by the
services, which ask rules/ first.
"""

from __future__ import annotations

from datetime import timedelta

import pgtrigger
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Now

from cases.models import track_history

USER = settings.AUTH_USER_MODEL


class KPStatus(models.TextChoices):
    """RULES.md 5.1 (one record per version)."""

    DRAFT = "DRAFT", "Entwurf"
    ACTIVE = "ACTIVE", "aktiv"
    UNDER_REVIEW = "UNDER_REVIEW", "in Überprüfung"
    DISPUTED = "DISPUTED", "strittig (Schlichtung)"
    SUPERSEDED = "SUPERSEDED", "fortgeschrieben (abgelöst)"
    ABANDONED = "ABANDONED", "nicht zustande gekommen"
    NOT_CONTINUED = "NOT_CONTINUED", "nicht fortgeschrieben"
    FAILED = "FAILED", "gescheitert"
    ENDED = "ENDED", "beendet"


CURRENT_KP_STATUSES = (KPStatus.ACTIVE, KPStatus.UNDER_REVIEW, KPStatus.DISPUTED)


@track_history()
class Kooperationsplan(models.Model):
    """One version of the Kooperationsplan of a case."""

    # Indexed by kp_case_idx (Meta.indexes), which also carries the columns the worklist reads.
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="plans", verbose_name="Fall", db_index=False
    )
    version_number = models.PositiveIntegerField("Version")
    predecessor = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="successor", verbose_name="Vorversion"
    )
    status = models.CharField("Status", max_length=14, choices=KPStatus.choices, default=KPStatus.DRAFT)
    naechstes_ziel = models.TextField("nächstes Ziel", blank=True)
    valid_from = models.DateField("gültig ab", null=True, blank=True)
    valid_to = models.DateField("gültig bis", null=True, blank=True)
    review_due = models.DateField("Überprüfung spätestens am", null=True, blank=True)
    gemeinsam_erarbeitet = models.BooleanField("gemeinsam mit der eLb erarbeitet (R-KP-3)", default=False)
    vb_erlaeutert = models.BooleanField("Vermittlungsbudget erläutert (R-EB-2)", default=False)
    infoblatt_vb_ausgehaendigt_on = models.DateField("Info-Blatt VB ausgehändigt am (R-EB-3)", null=True, blank=True)
    beratungsvermerk_ref = models.CharField("Beratungsvermerk (Referenz)", max_length=100, blank=True)
    with_rfb_context = models.BooleanField(
        "nach Rückkehr ohne RFB aktiviert",
        default=False,
        help_text="Gesetzt, wenn die Version die Rückkehr zur Zusammenarbeit ohne RFB markiert (R-RET-1).",
    )
    return_without_rfb_reason = models.TextField("Begründung Rückkehr ohne RFB", blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="angelegt von")
    created_at = models.DateTimeField("angelegt am", db_default=Now())
    activated_at = models.DateTimeField("aktiviert am", null=True, blank=True)
    ended_at = models.DateTimeField("beendet am", null=True, blank=True)
    lock_version = models.PositiveIntegerField("Bearbeitungsstand", default=1)

    class Meta:
        verbose_name = "Kooperationsplan"
        verbose_name_plural = "Kooperationspläne"
        ordering = ["case", "-version_number"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=KPStatus.values), name="kp_status_valid"),
            models.UniqueConstraint(fields=["case", "version_number"], name="kp_unique_version_per_case"),
            models.UniqueConstraint(
                fields=["case"], condition=Q(status__in=CURRENT_KP_STATUSES), name="kp_one_current_per_case"
            ),
            models.UniqueConstraint(fields=["case"], condition=Q(status="DRAFT"), name="kp_one_draft_per_case"),
            models.CheckConstraint(
                condition=Q(status__in=["DRAFT", "ABANDONED"])
                | Q(
                    valid_from__isnull=False,
                    valid_to__isnull=False,
                    review_due__isnull=False,
                    activated_at__isnull=False,
                ),
                name="kp_activated_has_dates",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="kp_valid_to_after_from"
            ),
            models.CheckConstraint(
                condition=Q(review_due__isnull=True)
                | (Q(review_due__gte=F("valid_from")) & Q(review_due__lte=F("valid_to"))),
                name="kp_review_within_term",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["DRAFT", "ABANDONED"])
                | (
                    Q(gemeinsam_erarbeitet=True, infoblatt_vb_ausgehaendigt_on__isnull=False)
                    & Q(beratungsvermerk_ref__regex=r"\S")
                ),
                name="kp_activated_checklist",
            ),
            models.CheckConstraint(condition=Q(version_number__gte=1), name="kp_version_positive"),
        ]
        indexes = [
            # The nightly D-01 scan and the worklist read current plans by review date (kooperationsplan.nightly).
            models.Index(
                fields=["review_due"],
                include=["id", "case"],
                condition=Q(status__in=["ACTIVE", "UNDER_REVIEW"]),
                name="kp_current_review_due_idx",
            ),
            # A case's plans (the foreign key's index), with what the worklist's per-case look-ups read, so they
            # need not visit the table (kooperationsplan.worklist, docs/decisions/0009).
            models.Index(fields=["case"], include=["id", "status", "review_due", "version_number"], name="kp_case_idx"),
        ]

    def __str__(self) -> str:
        return f"Kooperationsplan v{self.version_number} ({self.get_status_display()})"


class ContentKind(models.TextChoices):
    """Soll- and Kann-Inhalte of 001 §5 / R-KP-5, R-KP-6, R-KP-7."""

    EINGLIEDERUNGSLEISTUNGEN = "SOLL_1", "Geplante Eingliederungsleistungen (Unterstützung durch das Jobcenter)"
    EIGENBEMUEHUNGEN = "SOLL_2", "Eigenbemühungen"
    SPRACHFOERDERUNG = "SOLL_3", "Integrationskurs oder Deutschsprachförderung"
    LEISTUNGEN_DRITTER = "SOLL_4", "Leistungen anderer Leistungsträger (Leistungen Dritter)"
    VERMITTLUNGSZIEL = "SOLL_5", "Vermittlungsziel (übergeordnetes Ziel)"
    REHABEDARF = "SOLL_6", "Rehabilitationsbedarf"
    GESUNDHEIT = "KANN_1", "Maßnahmen, Leistungen und Träger bei gesundheitlichen Beeinträchtigungen"
    BG_LEISTUNGEN = "KANN_2", "Leistungen für weitere Personen in der Bedarfsgemeinschaft"
    WEITERE = "WEITERE", "Weitere Aktivitäten"


# R-KP-5: items 1, 2, 5 must be filled; 3, 4, 6 need content or an explicit "nicht relevant".
MANDATORY_SOLL_KINDS = ("SOLL_1", "SOLL_2", "SOLL_5")
OPTIONAL_SOLL_KINDS = ("SOLL_3", "SOLL_4", "SOLL_6")
SINGLE_KINDS = MANDATORY_SOLL_KINDS + OPTIONAL_SOLL_KINDS + ("KANN_1",)


@track_history()
class ContentItem(models.Model):
    plan = models.ForeignKey(Kooperationsplan, on_delete=models.CASCADE, related_name="content_items")
    kind = models.CharField("Inhalt", max_length=8, choices=ContentKind.choices)
    text = models.TextField("Text (Ich-Perspektive)", blank=True)
    nicht_relevant = models.BooleanField("nicht relevant", default=False)
    bg_member = models.ForeignKey(
        "cases.Elb",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="Person der Bedarfsgemeinschaft (R-KP-6)",
    )
    position = models.PositiveSmallIntegerField("Reihenfolge", default=0)

    class Meta:
        verbose_name = "Inhalt des KP"
        verbose_name_plural = "Inhalte des KP"
        ordering = ["plan", "kind", "position"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ContentKind.values), name="content_kind_valid"),
            models.UniqueConstraint(
                fields=["plan", "kind"], condition=Q(kind__in=SINGLE_KINDS), name="content_single_kinds_once"
            ),
            models.CheckConstraint(
                condition=(Q(nicht_relevant=True) & Q(text="")) | (Q(nicht_relevant=False) & ~Q(text="")),
                name="content_filled_xor_not_relevant",
            ),
            models.CheckConstraint(
                condition=Q(nicht_relevant=False) | Q(kind__in=OPTIONAL_SOLL_KINDS),
                name="content_not_relevant_only_optional",
            ),
            models.CheckConstraint(
                condition=Q(bg_member__isnull=True) | Q(kind="KANN_2"), name="content_bg_member_only_kann_2"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}"


class StepResponsible(models.TextChoices):
    ELB = "ELB", "ich (eLb)"
    JOBCENTER = "JC", "Jobcenter"
    DRITTE = "DRITTE", "Dritte"


@track_history()
class Step(models.Model):
    """A next step of the plan (001 §5: "die nächsten Schritte")."""

    Responsible = StepResponsible

    plan = models.ForeignKey(Kooperationsplan, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField("Reihenfolge", default=0)
    text = models.TextField("Schritt (Ich-Perspektive)")
    responsible = models.CharField("verantwortlich", max_length=6, choices=Responsible.choices, default=Responsible.ELB)
    due_on = models.DateField("bis", null=True, blank=True)
    done_on = models.DateField("erledigt am", null=True, blank=True)

    class Meta:
        verbose_name = "Schritt"
        verbose_name_plural = "Schritte"
        ordering = ["plan", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="step_text_required"),
            models.CheckConstraint(condition=Q(responsible__in=StepResponsible.values), name="step_responsible_valid"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class Period(models.TextChoices):
    WOCHE = "WOCHE", "pro Woche"
    MONAT = "MONAT", "pro Monat"
    QUARTAL = "QUARTAL", "pro Quartal"
    LAUFZEIT = "LAUFZEIT", "während der Laufzeit des KP"


class EigenbemuehungKind(models.TextChoices):
    BEWERBUNG = "BEWERBUNG", "Bewerbungen"
    INITIATIV = "INITIATIV", "Initiativbewerbungen"
    VORSTELLUNG = "VORSTELLUNG", "Vorstellungsgespräche"
    STELLENSUCHE = "STELLENSUCHE", "Stellensuche (z. B. Jobbörse)"
    SONSTIGE = "SONSTIGE", "sonstige Eigenbemühung"


class EigenbemuehungNachweisForm(models.TextChoices):
    LISTE = "LISTE", "Bewerbungsliste"
    KOPIEN = "KOPIEN", "Kopien der Bewerbungen/Antworten"
    ONLINE = "ONLINE", "Upload im Online-Postfach"
    PERSOENLICH = "PERSOENLICH", "persönlich im Gespräch"


@track_history()
class Eigenbemuehung(models.Model):
    """An Eigenbemühungen item: kind, minimum count, period, form and due date of the Nachweis (R-EB-1)."""

    Kind = EigenbemuehungKind

    NachweisForm = EigenbemuehungNachweisForm

    # Indexed by eb_plan_idx (Meta.indexes).
    plan = models.ForeignKey(
        Kooperationsplan, on_delete=models.CASCADE, related_name="eigenbemuehungen", db_index=False
    )
    kind = models.CharField("Art", max_length=12, choices=Kind.choices)
    description = models.TextField("Beschreibung (Ich-Perspektive)", blank=True)
    min_count = models.PositiveSmallIntegerField("mindestens (Anzahl)")
    min_count_zero_reason = models.CharField("Begründung bei Anzahl 0", max_length=300, blank=True)
    period = models.CharField("Zeitraum", max_length=8, choices=Period.choices)
    nachweis_form = models.CharField("Form des Nachweises", max_length=11, choices=NachweisForm.choices)
    nachweis_due_day = models.PositiveSmallIntegerField(
        "Nachweis bis zum … des Folgezeitraums", help_text="Tag (1–28) im Zeitraum nach dem Bemühungszeitraum (D-07)."
    )

    class Meta:
        verbose_name = "Eigenbemühung"
        verbose_name_plural = "Eigenbemühungen"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EigenbemuehungKind.values), name="eb_kind_valid"),
            models.CheckConstraint(condition=Q(period__in=Period.values), name="eb_period_valid"),
            models.CheckConstraint(
                condition=Q(nachweis_form__in=EigenbemuehungNachweisForm.values), name="eb_nachweis_form_valid"
            ),
            models.CheckConstraint(
                condition=Q(min_count__gt=0) | ~Q(min_count_zero_reason=""), name="eb_zero_count_needs_reason"
            ),
            models.CheckConstraint(
                condition=Q(nachweis_due_day__gte=1, nachweis_due_day__lte=28), name="eb_due_day_range"
            ),
        ]
        # A plan's Eigenbemühungen (the foreign key's index), with the id the worklist's Nachweis look-up needs.
        indexes = [models.Index(fields=["plan"], include=["id"], name="eb_plan_idx")]

    def __str__(self) -> str:
        return f"{self.min_count} {self.get_kind_display()} {self.get_period_display()}"


@track_history(exclude=["case"])  # the case is derived from the Eigenbemühung, whose history is kept
class EigenbemuehungNachweis(models.Model):
    """The evidence for one period of an Eigenbemühungen item (D-07, R-EB-4)."""

    eigenbemuehung = models.ForeignKey(Eigenbemuehung, on_delete=models.PROTECT, related_name="nachweise")
    # The case of the Eigenbemühung's plan, kept by the database (trigger nachweis_case_of_plan: whatever is
    # written, it is the plan's case), so that the worklist finds a case's open Nachweise without going through its
    # plans and Eigenbemühungen (kooperationsplan.worklist, docs/decisions/0009).
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="+", editable=False, db_index=False, verbose_name="Fall"
    )
    period_start = models.DateField("Zeitraum von")
    period_end = models.DateField("Zeitraum bis")
    due_on = models.DateField("Nachweis fällig am")
    received_on = models.DateField("eingegangen am", null=True, blank=True)
    count_reported = models.PositiveSmallIntegerField("nachgewiesene Anzahl", null=True, blank=True)

    class Meta:
        verbose_name = "Nachweis Eigenbemühungen"
        verbose_name_plural = "Nachweise Eigenbemühungen"
        constraints = [
            models.UniqueConstraint(fields=["eigenbemuehung", "period_start"], name="nachweis_one_per_period"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="nachweis_period_ordered"),
            models.CheckConstraint(condition=Q(due_on__gt=F("period_end")), name="nachweis_due_after_period"),
            models.CheckConstraint(
                condition=Q(received_on__isnull=True, count_reported__isnull=True)
                | Q(received_on__isnull=False, count_reported__isnull=False),
                name="nachweis_received_with_count",
            ),
        ]
        indexes = [
            models.Index(fields=["due_on"], condition=Q(received_on__isnull=True), name="nachweis_open_due_idx"),
            # A case's open Nachweise with what the worklist shows (kooperationsplan.worklist).
            models.Index(
                fields=["case", "due_on"],
                include=["id", "period_start", "period_end"],
                condition=Q(received_on__isnull=True),
                name="nachweis_open_by_case_idx",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="nachweis_case_of_plan",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func=(
                    'NEW.case_id := (SELECT p.case_id FROM "kooperationsplan_eigenbemuehung" e JOIN'
                    ' "kooperationsplan_kooperationsplan" p ON p.id = e.plan_id WHERE e.id = NEW.eigenbemuehung_id);'
                    " RETURN NEW;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Nachweis {self.period_start:%d.%m.%Y}–{self.period_end:%d.%m.%Y}"


class MassnahmeArt(models.Model):
    """A type of measure; P2: whether an Aufforderung with RFB is excluded is data per type (R-ESC-4)."""

    code = models.CharField("Kürzel", max_length=20, unique=True)
    name = models.CharField("Bezeichnung", max_length=200)
    rechtsgrundlage = models.CharField("Rechtsgrundlage", max_length=100)
    is_agh = models.BooleanField("Arbeitsgelegenheit (AGH)", default=False)
    exempt_from_rfb = models.BooleanField(
        "von Aufforderungen/Zuweisungsbescheiden mit RFB ausgenommen (R-ESC-4)", default=False
    )
    exempt_source = models.CharField("Quelle der Ausnahme", max_length=200, blank=True)

    class Meta:
        verbose_name = "Maßnahmeart"
        verbose_name_plural = "Maßnahmearten"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(exempt_from_rfb=False) | ~Q(exempt_source=""), name="massnahmeart_exemption_has_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.rechtsgrundlage})"


class Massnahme(models.Model):
    """A concrete measure or AGH offer in the catalogue, with the Träger's contact data (R-ZUW-1)."""

    art = models.ForeignKey(MassnahmeArt, on_delete=models.PROTECT, related_name="massnahmen", verbose_name="Art")
    title = models.CharField("Titel", max_length=200)
    massnahme_nummer = models.CharField("Maßnahmenummer", max_length=40, unique=True)
    content = models.TextField("Inhalte")
    traeger_name = models.CharField("Träger", max_length=200)
    traeger_street = models.CharField("Straße und Hausnummer", max_length=200)
    traeger_postal_code = models.CharField("Postleitzahl", max_length=5)
    traeger_city = models.CharField("Ort", max_length=100)
    traeger_contact = models.CharField("Ansprechperson", max_length=200)
    traeger_phone = models.CharField("Telefon", max_length=50)
    traeger_email = models.EmailField("E-Mail", blank=True)
    location = models.CharField("Ort der Durchführung", max_length=200)
    schedule = models.CharField("Zeiten", max_length=200)
    duration_weeks = models.PositiveSmallIntegerField("Dauer (Wochen)")
    active = models.BooleanField("im Angebot", default=True)

    class Meta:
        verbose_name = "Maßnahme/AGH"
        verbose_name_plural = "Maßnahmen und AGH (Katalog)"
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_weeks__gte=1), name="massnahme_duration_positive"),
            models.CheckConstraint(
                condition=~Q(traeger_name="") & ~Q(traeger_phone="") & ~Q(traeger_contact=""),
                name="massnahme_traeger_contact_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} – {self.traeger_name}"


class AssignmentStatus(models.TextChoices):
    """RULES.md 5.3."""

    PLANNED = "PLANNED", "im KP geplant"
    SCHREIBEN_ISSUED = "SCHREIBEN_ISSUED", "Zuweisungsschreiben versandt"
    BESCHEID_ISSUED = "BESCHEID_ISSUED", "Zuweisungsbescheid erlassen"
    REPORTED = "REPORTED", "Vorstellung/Rückmeldung bestätigt"
    NOT_REPORTED = "NOT_REPORTED", "keine Rückmeldung"
    STARTED = "STARTED", "begonnen"
    COMPLETED = "COMPLETED", "abgeschlossen"
    CLARIFICATION = "CLARIFICATION", "Abbruch – Klärung läuft"
    CANCELLED = "CANCELLED", "beendet (wichtiger Grund)"
    REPLACED = "REPLACED", "ersetzt durch neuen KP"
    KP_FAILED = "KP_FAILED", "KP gescheitert"
    BREACH = "BREACH", "Abbruch trotz Zuweisungsbescheid"
    WITHDRAWN = "WITHDRAWN", "zurückgenommen"
    AUFGEHOBEN = "AUFGEHOBEN", "Bescheid aufgehoben"


class AssignmentVia(models.TextChoices):
    SCHREIBEN = "SCHREIBEN", "Zuweisungsschreiben (ohne RFB)"
    BESCHEID = "BESCHEID", "Zuweisungsbescheid (mit RFB)"


@track_history()
class MassnahmeZuweisung(models.Model):
    """An assignment of the eLb to a measure or AGH (RULES.md 5.3)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="assignments", verbose_name="Fall")
    plan = models.ForeignKey(Kooperationsplan, on_delete=models.PROTECT, related_name="assignments", verbose_name="KP")
    massnahme = models.ForeignKey(Massnahme, on_delete=models.PROTECT, related_name="assignments")
    status = models.CharField(
        "Status", max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.PLANNED
    )
    via = models.CharField("Zuweisung durch", max_length=9, choices=AssignmentVia.choices, null=True, blank=True)
    start_date = models.DateField("Beginn")
    end_date = models.DateField("Ende")
    rueckmeldung_due = models.DateField("Vorstellung/Rückmeldung bis (D-05)")
    reported_on = models.DateField("Rückmeldung am", null=True, blank=True)
    started_on = models.DateField("begonnen am", null=True, blank=True)
    aborted_on = models.DateField("abgebrochen am", null=True, blank=True)
    traeger_ruecksprache_on = models.DateField("Rücksprache mit dem Träger am (R-ABB-3)", null=True, blank=True)
    valid_to = models.DateField("Bescheid gültig bis", null=True, blank=True)
    aufhebung_of = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="aufgehoben_durch",
        verbose_name="hebt Bescheid auf (R-ZUW-4)",
    )
    letter = models.ForeignKey(
        "letters.Letter", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="Schreiben"
    )
    created_at = models.DateTimeField("angelegt am", db_default=Now())

    class Meta:
        verbose_name = "Maßnahmezuweisung"
        verbose_name_plural = "Maßnahmezuweisungen"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=AssignmentStatus.values), name="assignment_status_valid"),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="assignment_end_after_start"),
            models.CheckConstraint(
                condition=Q(status="PLANNED") | Q(via__isnull=False), name="assignment_issued_has_via"
            ),
            models.CheckConstraint(
                condition=Q(via__isnull=True) | Q(via__in=["SCHREIBEN", "BESCHEID"]), name="assignment_via_valid"
            ),
            models.CheckConstraint(
                condition=~Q(via="BESCHEID") | Q(valid_to__isnull=False), name="assignment_bescheid_has_validity"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["SCHREIBEN_ISSUED", "WITHDRAWN"]) | Q(via="SCHREIBEN"),
                name="assignment_schreiben_states",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["BESCHEID_ISSUED", "BREACH", "AUFGEHOBEN"]) | Q(via="BESCHEID"),
                name="assignment_bescheid_states",
            ),
        ]
        indexes = [
            models.Index(
                fields=["rueckmeldung_due"],
                condition=Q(status__in=["SCHREIBEN_ISSUED", "BESCHEID_ISSUED"]),
                name="assignment_open_report_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.massnahme.title} ({self.get_status_display()})"


class AppointmentKind(models.TextChoices):
    ERSTGESPRAECH = "ERST", "Erstgespräch Potenzialanalyse und KP"
    FOLGETERMIN = "FOLGE", "Folgetermin"
    UEBERPRUEFUNG = "REVIEW", "Überprüfung/Fortschreibung des KP"
    BERATERISCHE_INTERVENTION = "BI", "Beraterische Intervention"
    AERZTLICH = "AERZTLICH", "ärztliche Untersuchung"
    PSYCHOLOGISCH = "PSYCH", "psychologische Untersuchung"
    AUF_WUNSCH = "WUNSCH", "auf Wunsch der eLb"
    WIDERSPRUCH = "WIDERSPRUCH", "im Widerspruchsverfahren"


class AppointmentOutcome(models.TextChoices):
    PENDING = "PENDING", "offen"
    ATTENDED = "ATTENDED", "wahrgenommen"
    NOT_ATTENDED = "NOT_ATTENDED", "nicht wahrgenommen"
    CANCELLED = "CANCELLED", "abgesagt"
    POSTPONED = "POSTPONED", "verlegt"


class AppointmentChannel(models.TextChoices):
    VOR_ORT = "VOR_ORT", "persönlich vor Ort"
    TELEFON = "TELEFON", "telefonisch"
    VIDEO = "VIDEO", "per Video"


@track_history()
class Appointment(models.Model):
    """An appointment and its invitation (Einladung) with the outcome (R-INV-*, D-08)."""

    Outcome = AppointmentOutcome

    Channel = AppointmentChannel

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="appointments", verbose_name="Fall")
    kind = models.CharField("Art", max_length=12, choices=AppointmentKind.choices)
    starts_at = models.DateTimeField("Termin")
    channel = models.CharField("Form", max_length=7, choices=Channel.choices, default=Channel.VOR_ORT)
    location = models.CharField("Ort/Raum", max_length=200)
    meldezweck = models.CharField("Meldezweck (§ 309 SGB III)", max_length=300)
    documents_to_bring = models.TextField("mitzubringende Unterlagen", blank=True)
    with_rfb = models.BooleanField("mit Rechtsfolgenbelehrung")
    rfb_deviation_reason = models.TextField("Begründung der Abweichung (R-INV-4)", blank=True)
    outcome = models.CharField("Ergebnis", max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_recorded_at = models.DateTimeField("Ergebnis erfasst am", null=True, blank=True)
    wichtiger_grund = models.BooleanField("wichtiger Grund", null=True, blank=True)
    escalation = models.ForeignKey(
        "Escalation", on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    letter = models.ForeignKey("letters.Letter", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "Termin/Einladung"
        verbose_name_plural = "Termine und Einladungen"
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AppointmentKind.values), name="appointment_kind_valid"),
            models.CheckConstraint(
                condition=Q(outcome__in=AppointmentOutcome.values), name="appointment_outcome_valid"
            ),
            models.CheckConstraint(condition=Q(meldezweck__regex=r"\S"), name="appointment_meldezweck_required"),
            models.CheckConstraint(
                condition=Q(channel__in=["VOR_ORT", "TELEFON", "VIDEO"]), name="appointment_channel_valid"
            ),
            # R-INV-3: the Beraterische Intervention is never invited with RFB;
            # R-INV-5: an examination always is.
            models.CheckConstraint(condition=~Q(kind="BI") | Q(with_rfb=False), name="appointment_bi_without_rfb"),
            models.CheckConstraint(
                condition=~Q(kind__in=["AERZTLICH", "PSYCH"]) | Q(with_rfb=True),
                name="appointment_examination_with_rfb",
            ),
            models.CheckConstraint(
                condition=Q(outcome="PENDING") | Q(outcome_recorded_at__isnull=False),
                name="appointment_outcome_recorded",
            ),
        ]
        indexes = [models.Index(fields=["case", "-starts_at"], name="appointment_case_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} am {self.starts_at:%d.%m.%Y %H:%M}"


class EscalationStatus(models.TextChoices):
    """RULES.md 5.4 (one record per breach)."""

    BREACH_DETECTED = "BREACH_DETECTED", "Pflichtverstoß festgestellt"
    INTERVENTION_INVITED = "INTERVENTION_INVITED", "zur beraterischen Intervention eingeladen"
    INTERVENTION_DONE = "INTERVENTION_DONE", "beraterische Intervention durchgeführt"
    NOT_ATTENDED = "NOT_ATTENDED", "beraterische Intervention nicht wahrgenommen"
    RESOLVED = "RESOLVED", "erledigt"
    AUFFORDERUNG_ISSUED = "AUFFORDERUNG_ISSUED", "Aufforderung mit RFB erlassen"
    MONITORING = "MONITORING", "weitere Beobachtung ohne Aufforderung"
    ANHOERUNG = "ANHOERUNG", "Anhörung läuft"
    DECISION_PENDING = "DECISION_PENDING", "Entscheidung offen"
    NO_MINDERUNG = "NO_MINDERUNG", "keine Leistungsminderung"
    MINDERUNG_FESTGESTELLT = "MINDERUNG_FESTGESTELLT", "Leistungsminderung festgestellt"
    ENDED = "ENDED", "Minderungszeitraum beendet"
    AUFGEHOBEN = "AUFGEHOBEN", "Minderung aufgehoben"


class BreachKind(models.TextChoices):
    EB_FEHLEN = "EB_FEHLEN", "Eigenbemühungen nicht oder unvollständig nachgewiesen"
    KEINE_VORSTELLUNG = "KEINE_VORSTELLUNG", "keine Vorstellung beim Maßnahmeträger"
    MASSNAHME_NICHT_ANGETRETEN = "NICHT_ANGETRETEN", "Maßnahme nicht angetreten"
    MASSNAHME_ABBRUCH = "ABBRUCH", "Maßnahme abgebrochen / Anlass zum Abbruch"
    MELDEVERSAEUMNIS = "MELDEVERSAEUMNIS", "Meldeversäumnis (§ 32 SGB II)"
    SONSTIGE = "SONSTIGE", "sonstige Absprache nicht eingehalten"


class EscalationMonitoringReason(models.TextChoices):
    EXEMPT_TYPE = "EXEMPT_TYPE", "ausgenommene Maßnahmeart (R-ESC-4)"
    PSYCH = "PSYCH", "psychische Erkrankung/komplexe Handlungsbedarfe (R-ESC-5)"


class EscalationLegalBasis(models.TextChoices):
    P31 = "P31", "§ 31 Abs. 1 SGB II"
    P32 = "P32", "§ 32 SGB II"


@track_history()
class Escalation(models.Model):
    """The escalation ladder for one breach (RULES.md 5.4; R-ESC-1..6, R-SAN-1, P8)."""

    MonitoringReason = EscalationMonitoringReason

    LegalBasis = EscalationLegalBasis

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="escalations", verbose_name="Fall")
    plan = models.ForeignKey(
        Kooperationsplan, on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    status = models.CharField(
        "Stufe", max_length=24, choices=EscalationStatus.choices, default=EscalationStatus.BREACH_DETECTED
    )
    legal_basis = models.CharField("Rechtsgrundlage", max_length=3, choices=LegalBasis.choices, default=LegalBasis.P31)
    breach_kind = models.CharField("Art des Verstoßes", max_length=17, choices=BreachKind.choices)
    breach_date = models.DateField("Datum des Verstoßes")
    description = models.TextField("Sachverhalt")
    massnahme_art = models.ForeignKey(
        MassnahmeArt,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="betroffene Maßnahmeart (R-ESC-4)",
    )
    assignment = models.ForeignKey(
        MassnahmeZuweisung, on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    eigenbemuehung = models.ForeignKey(
        Eigenbemuehung, on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    wichtiger_grund = models.BooleanField("wichtiger Grund", null=True, blank=True)
    monitoring_reason = models.CharField(
        "Grund für Beobachtung", max_length=11, choices=MonitoringReason.choices, blank=True
    )
    psych_vermerk = models.TextField("Vermerk (R-ESC-5, ohne Diagnosen)", blank=True)
    compliance_deadline = models.DateField("Frist zur Mitwirkung (D-09)", null=True, blank=True)
    anhoerung_deadline = models.DateField("Äußerungsfrist (D-10)", null=True, blank=True)
    minderung_percent = models.PositiveSmallIntegerField("Minderung (%)", null=True, blank=True)
    minderung_months = models.PositiveSmallIntegerField("Dauer (Monate)", null=True, blank=True)
    minderung_start = models.DateField("Minderung ab", null=True, blank=True)
    no_minderung_reason = models.CharField("Grund: keine Minderung", max_length=200, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("angelegt am", db_default=Now())
    closed_at = models.DateTimeField("abgeschlossen am", null=True, blank=True)

    class Meta:
        verbose_name = "Eskalation"
        verbose_name_plural = "Eskalationen"
        ordering = ["-breach_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=EscalationStatus.values), name="escalation_status_valid"),
            models.CheckConstraint(condition=Q(breach_kind__in=BreachKind.values), name="escalation_breach_kind_valid"),
            models.CheckConstraint(
                condition=~Q(status="MONITORING") | ~Q(monitoring_reason=""), name="escalation_monitoring_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(monitoring_reason="PSYCH") | Q(psych_vermerk__regex=r"\S"),
                name="escalation_psych_needs_vermerk",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["MINDERUNG_FESTGESTELLT", "ENDED", "AUFGEHOBEN"])
                | Q(
                    minderung_percent__isnull=False,
                    minderung_months__isnull=False,
                    minderung_percent__in=[10, 20, 30],
                    minderung_months__in=[1, 2, 3],
                    minderung_start__isnull=False,
                ),
                name="escalation_minderung_complete",
            ),
            models.CheckConstraint(
                condition=Q(minderung_percent__isnull=True) | Q(minderung_percent__lte=30),
                name="escalation_minderung_cap",
            ),
            models.CheckConstraint(
                condition=~Q(status="AUFFORDERUNG_ISSUED") | Q(compliance_deadline__isnull=False),
                name="escalation_aufforderung_has_deadline",
            ),
            models.CheckConstraint(
                condition=~Q(status="ANHOERUNG") | Q(anhoerung_deadline__isnull=False),
                name="escalation_anhoerung_has_deadline",
            ),
            models.CheckConstraint(
                condition=~Q(status="NO_MINDERUNG") | Q(no_minderung_reason__regex=r"\S"),
                name="escalation_no_minderung_has_reason",
            ),
            # R-SAN-1 / L-18: a § 32 Meldeversäumnis is always 10 % for one month.
            models.CheckConstraint(
                condition=~Q(legal_basis="P32")
                | Q(minderung_percent__isnull=True)
                | Q(minderung_percent=10, minderung_months=1),
                name="escalation_p32_fixed_level",
            ),
            models.CheckConstraint(condition=Q(legal_basis__in=["P31", "P32"]), name="escalation_legal_basis_valid"),
            models.CheckConstraint(
                condition=Q(monitoring_reason__in=["", "EXEMPT_TYPE", "PSYCH"]),
                name="escalation_monitoring_reason_valid",
            ),
        ]
        indexes = [models.Index(fields=["case", "status"], name="escalation_case_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_breach_kind_display()} vom {self.breach_date:%d.%m.%Y} ({self.get_status_display()})"


class TeamLeadApprovalKind(models.TextChoices):
    SCHLICHTUNG_NACH_SCHEITERN = "SCHLICHTUNG", "Schlichtung nach gescheitertem KP (R-ABB-6)"
    PSYCH_SKIP = "PSYCH_SKIP", "Verzicht auf Aufforderung (R-ESC-5)"
    REVIEW_OVERDUE = "REVIEW_OVERDUE", "Überprüfung seit mehr als 14 Tagen überfällig"
    LETTER_RELEASE = "LETTER_RELEASE", "Freigabe eines Schreibens mit RFB"
    MINDERUNG = "MINDERUNG", "Feststellung einer Leistungsminderung"


class TeamLeadApprovalStatus(models.TextChoices):
    OPEN = "OPEN", "offen"
    APPROVED = "APPROVED", "zugestimmt"
    DECLINED = "DECLINED", "abgelehnt"
    RETURNED = "RETURNED", "zurückgegeben"


class TeamLeadApproval(models.Model):
    """A task for the team lead (RULES.md 5.4 TL review queue; R-ABB-6)."""

    Kind = TeamLeadApprovalKind

    Status = TeamLeadApprovalStatus

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="tl_approvals")
    kind = models.CharField("Art", max_length=14, choices=Kind.choices)
    status = models.CharField("Status", max_length=8, choices=Status.choices, default=Status.OPEN)
    subject_type = models.CharField("Gegenstand (Typ)", max_length=40)
    subject_id = models.BigIntegerField("Gegenstand (Nr.)")
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    requested_at = models.DateTimeField("angefragt am", db_default=Now())
    request_note = models.TextField("Anliegen", blank=True)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    decided_at = models.DateTimeField("entschieden am", null=True, blank=True)
    comment = models.TextField("Kommentar", blank=True)

    class Meta:
        verbose_name = "Vorlage an die Teamleitung"
        verbose_name_plural = "Vorlagen an die Teamleitung"
        ordering = ["requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=TeamLeadApprovalKind.values), name="tlapproval_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=TeamLeadApprovalStatus.values), name="tlapproval_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="OPEN", decided_at__isnull=True, decided_by__isnull=True)
                | (~Q(status="OPEN") & Q(decided_at__isnull=False, decided_by__isnull=False)),
                name="tlapproval_decision_recorded",
            ),
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id"],
                condition=Q(status="OPEN"),
                name="tlapproval_one_open_per_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


class SchlichtungRequestedBy(models.TextChoices):
    ELB = "ELB", "eLb"
    IFK = "IFK", "Integrationsfachkraft"
    BEIDE = "BEIDE", "beide Seiten"


class SchlichtungOutcome(models.TextChoices):
    RUNNING = "RUNNING", "läuft"
    AGREEMENT = "AGREEMENT", "Einigung"
    NO_AGREEMENT = "NO_AGREEMENT", "keine Einigung"


@track_history()
class Schlichtung(models.Model):
    """A Schlichtungsverfahren under § 15a SGB II (R-SCH-1..4). Ends at the latest after 4 weeks."""

    RequestedBy = SchlichtungRequestedBy

    Outcome = SchlichtungOutcome

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="schlichtungen", verbose_name="Fall")
    plan = models.ForeignKey(
        Kooperationsplan, on_delete=models.PROTECT, null=True, blank=True, related_name="schlichtungen"
    )
    requested_by = models.CharField("beantragt von", max_length=5, choices=RequestedBy.choices)
    disagreement = models.TextField("strittige Punkte")
    schlichter_name = models.CharField("Schlichtungsperson", max_length=200)
    tl_approval = models.ForeignKey(
        TeamLeadApproval,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="Zustimmung der Teamleitung (R-ABB-6)",
    )
    started_on = models.DateField("begonnen am")
    ends_on = models.DateField("endet spätestens am (D-12)")
    ended_on = models.DateField("beendet am", null=True, blank=True)
    outcome = models.CharField("Ergebnis", max_length=12, choices=Outcome.choices, default=Outcome.RUNNING)
    proposal = models.TextField("gemeinsamer Lösungsvorschlag", blank=True)
    deviation_justification = models.TextField("Begründung einer Abweichung vom Vorschlag (R-SCH-4)", blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "Schlichtung"
        verbose_name_plural = "Schlichtungen"
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=SchlichtungOutcome.values), name="schlichtung_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(requested_by__in=SchlichtungRequestedBy.values), name="schlichtung_requested_by_valid"
            ),
            # L-07 (§ 15a Abs. 4 SGB II): at the latest 4 weeks after it began.
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("started_on")) & Q(ends_on__lte=F("started_on") + timedelta(days=28)),
                name="schlichtung_max_four_weeks",
            ),
            models.CheckConstraint(
                condition=(Q(outcome="RUNNING") & Q(ended_on__isnull=True))
                | (
                    ~Q(outcome="RUNNING")
                    & Q(ended_on__isnull=False)
                    & Q(ended_on__lte=F("ends_on"))
                    & Q(ended_on__gte=F("started_on"))
                ),
                name="schlichtung_end_recorded_in_time",
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(outcome="RUNNING"), name="schlichtung_one_running_per_case"
            ),
        ]
        indexes = [models.Index(fields=["ends_on"], condition=Q(outcome="RUNNING"), name="schlichtung_running_idx")]

    def __str__(self) -> str:
        return f"Schlichtung ab {self.started_on:%d.%m.%Y} ({self.get_outcome_display()})"


class ExemptionReason(models.TextChoices):
    EINSTELLUNGSZUSAGE = "EINSTELLUNGSZUSAGE", "Einstellungszusage (001 §8.1)"
    PARAGRAPH_10 = "PARAGRAPH_10", "§ 10 SGB II (001 §8.2)"
    PROFILLAGE_I = "PROFILLAGE_I", "Profillage I (001 §8.3)"


class ExemptionStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "gilt"
    LAPSED = "LAPSED", "entfallen"
    ENDED = "ENDED", "beendet (KP aktiviert)"


@track_history()
class Exemption(models.Model):
    """An exception from the KP (001 §8) with the Kennung KP and its reason (R-EXC-1..5, P6)."""

    Reason = ExemptionReason

    Status = ExemptionStatus

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="exemptions", verbose_name="Fall")
    reason = models.CharField("Ausnahmegrund", max_length=18, choices=Reason.choices)
    status = models.CharField("Status", max_length=6, choices=Status.choices, default=Status.ACTIVE)
    kennung_kp = models.BooleanField("Kennung KP in FMG.job eingetragen")
    kennung_reason = models.TextField("Begründung der Kennung KP")
    einstellungszusage = models.ForeignKey(
        "cases.Einstellungszusage", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paragraph10_reason = models.ForeignKey(
        "cases.Paragraph10Reason", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # R-EXC-3 checklist (Profillage I).
    vollzeit_sv_beschaeftigt = models.BooleanField("Vollzeit sozialversicherungspflichtig beschäftigt", default=False)
    selbststaendig = models.BooleanField("selbstständig tätig", default=False)
    moeglichkeiten_ausgeschoepft = models.BooleanField(
        "unter Ausschöpfung der individuellen Möglichkeiten erwerbstätig", default=False
    )
    keine_verringerung_6_monate = models.BooleanField(
        "keine Verringerung/Beendigung des Leistungsbezugs in den nächsten 6 Monaten zu erwarten", default=False
    )
    recheck_due = models.DateField("erneute Prüfung spätestens am (D-02, D-03, D-04)")
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_on = models.DateField("erfasst am")
    ended_on = models.DateField("beendet am", null=True, blank=True)
    kennung_removed_on = models.DateField("Kennung KP entfernt am", null=True, blank=True)

    class Meta:
        verbose_name = "Ausnahme (Kennung KP)"
        verbose_name_plural = "Ausnahmen (Kennung KP)"
        constraints = [
            models.CheckConstraint(condition=Q(reason__in=ExemptionReason.values), name="exemption_reason_valid"),
            models.CheckConstraint(condition=Q(status__in=ExemptionStatus.values), name="exemption_status_valid"),
            # P6 / R-EXC-4: the Kennung KP with a meaningful reason is required for every exemption.
            models.CheckConstraint(
                condition=Q(kennung_kp=True, kennung_reason__regex=r"\S"), name="exemption_kennung_kp_required"
            ),
            models.CheckConstraint(
                condition=~Q(reason="EINSTELLUNGSZUSAGE") | Q(einstellungszusage__isnull=False),
                name="exemption_ez_linked",
            ),
            models.CheckConstraint(
                condition=~Q(reason="PARAGRAPH_10") | Q(paragraph10_reason__isnull=False), name="exemption_p10_linked"
            ),
            # R-EXC-3: all checklist conditions for Profillage I.
            models.CheckConstraint(
                condition=~Q(reason="PROFILLAGE_I")
                | (
                    (Q(vollzeit_sv_beschaeftigt=True) | Q(selbststaendig=True) | Q(moeglichkeiten_ausgeschoepft=True))
                    & Q(keine_verringerung_6_monate=True)
                ),
                name="exemption_profillage_checklist",
            ),
            models.CheckConstraint(
                condition=Q(recheck_due__gte=F("recorded_on")), name="exemption_recheck_after_record"
            ),
            models.CheckConstraint(
                condition=Q(status="ACTIVE", ended_on__isnull=True) | (~Q(status="ACTIVE") & Q(ended_on__isnull=False)),
                name="exemption_end_recorded",
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="ACTIVE"), name="exemption_one_active_per_case"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("recorded_on")),
                name="exemption_end_after_record",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.get_status_display()})"


class ReminderKind(models.TextChoices):
    """Reminders of the nightly jobs, by deadline of RULES.md section 7."""

    PA_FAELLIG = "PA_FAELLIG", "Potenzialanalyse fällig (R-PA-2)"
    KP_FEHLT = "KP_FEHLT", "Kooperationsplan fehlt (R-KP-1)"
    D01_REVIEW = "D01_REVIEW", "Überprüfung des KP (D-01)"
    D02_P10_RECHECK = "D02_P10", "§ 10-Prüfung (D-02)"
    D03_PROFILLAGE_RECHECK = "D03_PL1", "Prüfung Profillage I (D-03)"
    D04_EINSTELLUNG = "D04_EZ", "Einstellungszusage (D-04)"
    D05_RUECKMELDUNG = "D05_RUECKMELDUNG", "Rückmeldung Maßnahme (D-05)"
    D06_MASSNAHME = "D06_MASSNAHME", "Beginn/Ende Maßnahme (D-06)"
    D07_NACHWEIS = "D07_NACHWEIS", "Nachweis Eigenbemühungen (D-07)"
    D08_BI_ERGEBNIS = "D08_BI", "Ergebnis beraterische Intervention (D-08)"
    D09_MITWIRKUNG = "D09_MITWIRKUNG", "Mitwirkungsfrist (D-09)"
    D10_ANHOERUNG = "D10_ANHOERUNG", "Äußerungsfrist Anhörung (D-10)"
    D11_FESTSTELLUNG = "D11_FESTSTELLUNG", "Frist Feststellung Minderung (D-11)"
    D12_SCHLICHTUNG = "D12_SCHLICHTUNG", "Ende Schlichtung (D-12)"
    D13_WIDERSPRUCH = "D13_WIDERSPRUCH", "Widerspruchsfrist (D-13)"
    D14_U25 = "D14_U25", "Beratungsangebot U25 (D-14)"
    D16_TL_SCHLICHTUNG = "D16_TL", "Zustimmung Teamleitung zur Schlichtung (D-16)"
    D17_RUECKKEHR = "D17_RUECKKEHR", "Rückkehr ohne RFB prüfen (D-17)"


class ReminderStatus(models.TextChoices):
    OPEN = "OPEN", "offen"
    DONE = "DONE", "erledigt"
    OBSOLETE = "OBSOLETE", "gegenstandslos"


class Reminder(models.Model):
    """A reminder created by a nightly scan; unique per subject, kind and due date (T12)."""

    Status = ReminderStatus

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="reminders")
    assignee = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField("Art", max_length=16, choices=ReminderKind.choices)
    subject_type = models.CharField("Gegenstand (Typ)", max_length=40)
    subject_id = models.BigIntegerField("Gegenstand (Nr.)")
    due_on = models.DateField("fällig am")
    remind_on = models.DateField("Erinnerung am")
    rule_id = models.CharField("Regel", max_length=20)
    status = models.CharField("Status", max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField("erzeugt am", db_default=Now())
    done_at = models.DateTimeField("erledigt am", null=True, blank=True)

    class Meta:
        verbose_name = "Erinnerung"
        verbose_name_plural = "Erinnerungen"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ReminderKind.values), name="reminder_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ReminderStatus.values), name="reminder_status_valid"),
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "kind", "due_on", "remind_on"],
                name="reminder_unique_subject_kind_due",
            ),
            models.CheckConstraint(
                condition=Q(status="OPEN", done_at__isnull=True) | (~Q(status="OPEN") & Q(done_at__isnull=False)),
                name="reminder_done_recorded",
            ),
        ]
        indexes = [models.Index(fields=["assignee", "status", "due_on"], name="reminder_worklist_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} fällig {self.due_on:%d.%m.%Y}"


class Notification(models.Model):
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="notifications")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reminder = models.ForeignKey(
        Reminder, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    message = models.CharField("Nachricht", max_length=300)
    created_at = models.DateTimeField("erzeugt am", db_default=Now())
    read_at = models.DateTimeField("gelesen am", null=True, blank=True)
    emailed_at = models.DateTimeField("per E-Mail gesendet am", null=True, blank=True)
    key = models.CharField(
        "Schlüssel",
        max_length=80,
        blank=True,
        db_default="",
        help_text="Für Benachrichtigungen ohne Erinnerung (D-18): je Person nur einmal.",
    )

    class Meta:
        verbose_name = "Benachrichtigung"
        verbose_name_plural = "Benachrichtigungen"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "reminder"], name="notification_once_per_reminder_and_user"),
            models.UniqueConstraint(
                fields=["user", "key"], condition=~Q(key=""), name="notification_key_once_per_user"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["user"], condition=Q(emailed_at__isnull=True), name="notification_unemailed_idx"),
        ]

    def __str__(self) -> str:
        return self.message


class NotificationDigest(models.Model):
    """The daily e-mail digest of one person: at most one per person and day (T12)."""

    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="Empfänger/in")
    day = models.DateField("Tag")
    sent_at = models.DateTimeField("gesendet am", db_default=Now())
    notification_count = models.PositiveIntegerField("Anzahl Benachrichtigungen")

    class Meta:
        verbose_name = "E-Mail-Zusammenfassung"
        verbose_name_plural = "E-Mail-Zusammenfassungen"
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="digest_once_per_user_and_day"),
            models.CheckConstraint(condition=Q(notification_count__gte=1), name="digest_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Zusammenfassung vom {self.day:%d.%m.%Y}"


class DateRange(Func):
    """PostgreSQL daterange(lower, upper, bounds) for the exclusion constraint of AbsenceCover."""

    function = "DATERANGE"
    output_field = DateRangeField()


@track_history()
class AbsenceCover(models.Model):
    """An IFK's absence with a cover from the same team, set by the team lead.

    During the period (both days included) the cover sees the absent IFK's reminders, notifications and
    worklist entries; afterwards they are the IFK's own again (nothing is moved, see docs/decisions/0006).
    """

    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="absences", verbose_name="abwesend")
    cover = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="covers", verbose_name="Vertretung")
    starts_on = models.DateField("abwesend vom")
    ends_on = models.DateField("abwesend bis einschließlich")
    set_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="eingetragen von")
    created_at = models.DateTimeField("eingetragen am", db_default=Now())
    withdrawn = models.BooleanField("zurückgenommen", default=False)
    ended_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="beendet von"
    )
    ended_at = models.DateTimeField("beendet am", null=True, blank=True)

    class Meta:
        verbose_name = "Abwesenheit mit Vertretung"
        verbose_name_plural = "Abwesenheiten mit Vertretung"
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(starts_on__lte=F("ends_on")), name="absence_period_ordered"),
            models.CheckConstraint(condition=~Q(cover=F("user")), name="absence_cover_not_self"),
            models.CheckConstraint(
                condition=Q(ended_by__isnull=True, ended_at__isnull=True)
                | Q(ended_by__isnull=False, ended_at__isnull=False),
                name="absence_end_recorded",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn=False) | Q(ended_by__isnull=False), name="absence_withdrawal_recorded"
            ),
            # One absence per person at a time, even for two team leads saving at once.
            ExclusionConstraint(
                name="absence_no_overlap_per_user",
                expressions=[
                    ("user", RangeOperators.EQUAL),
                    (
                        DateRange("starts_on", "ends_on", RangeBoundary(inclusive_lower=True, inclusive_upper=True)),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=Q(withdrawn=False),
            ),
        ]
        indexes = [
            models.Index(
                fields=["cover", "starts_on", "ends_on"], condition=Q(withdrawn=False), name="absence_cover_idx"
            )
        ]

    def __str__(self) -> str:
        return f"Abwesenheit {self.starts_on:%d.%m.%Y}–{self.ends_on:%d.%m.%Y}"
