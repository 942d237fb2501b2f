"""Letters: the letter catalogue (RULES.md 6.1), the frozen letter snapshot, and the E-Akte archive.

A letter is issued by freezing its full context (names, dates, duties, RFB inputs, reasons,
rule set) into a row; rendering turns that snapshot into a PDF later. A sent letter is never
re-rendered from live data; a correction is a new letter.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Func, Q
from django.db.models.functions import Now
from django.db.models.lookups import Exact

from cases.models import append_only_trigger, track_history


class LetterKind(models.TextChoices):
    """Letter codes of RULES.md 6.1."""

    EINL_KP_ERST = "EINL_KP_ERST", "Einladung zur Erstellung der Potenzialanalyse und des KP"
    EINL_RFB = "EINL_RFB", "Einladung (Meldeaufforderung) mit Rechtsfolgenbelehrung"
    EINL_OHNE_RFB = "EINL_OHNE_RFB", "Einladung ohne Rechtsfolgenbelehrung"
    EINL_BI = "EINL_BI", "Einladung zur beraterischen Intervention"
    EINL_UNTERSUCHUNG = "EINL_UNTERSUCHUNG", "Einladung zur ärztlichen/psychologischen Untersuchung"
    KP_DOKUMENT = "KP_DOKUMENT", "Kooperationsplan"
    ZUW_SCHREIBEN_AGH = "ZUW_SCHREIBEN_AGH", "Zuweisungsschreiben Arbeitsgelegenheit"
    ZUW_SCHREIBEN_AKTIVIERUNG = "ZUW_SCHREIBEN_AKTIVIERUNG", "Zuweisungsschreiben Maßnahme zur beruflichen Aktivierung"
    ZUW_BESCHEID = "ZUW_BESCHEID", "Zuweisungsbescheid"
    AUFF_15_5 = "AUFF_15_5", "Aufforderung nach § 15 Abs. 5 SGB II"
    AUFF_15_6 = "AUFF_15_6", "Aufforderung nach § 15 Abs. 6 SGB II"
    ANH_31 = "ANH_31", "Anhörung nach § 24 SGB X (Leistungsminderung § 31 SGB II)"
    ANH_32 = "ANH_32", "Anhörung nach § 24 SGB X (Meldeversäumnis § 32 SGB II)"
    AUFH_ZB = "AUFH_ZB", "Aufhebung eines Zuweisungsbescheids (§ 48 SGB X)"
    INFO_VB = "INFO_VB", "Info-Blatt Vermittlungsbudget: Eigenbemühungen/Vorstellungsgespräche"
    FLYER_KP = "FLYER_KP", "Flyer „Mein Kooperationsplan“"


# RULES.md 6.1: which kinds may never carry an RFB or a Rechtsbehelfsbelehrung. The full decision
# (with reasons and sources) is made by rules/; these sets back it up at the database (R-KP-2, R-LET-2).
NEVER_RFB_KINDS = (
    "KP_DOKUMENT",
    "EINL_KP_ERST",
    "EINL_OHNE_RFB",
    "EINL_BI",
    "ZUW_SCHREIBEN_AGH",
    "ZUW_SCHREIBEN_AKTIVIERUNG",
    "ANH_31",
    "ANH_32",
    "AUFH_ZB",
    "INFO_VB",
    "FLYER_KP",
)
ALWAYS_RFB_KINDS = ("EINL_RFB", "EINL_UNTERSUCHUNG", "ZUW_BESCHEID", "AUFF_15_5", "AUFF_15_6")
VA_KINDS = ("EINL_RFB", "EINL_UNTERSUCHUNG", "ZUW_BESCHEID", "AUFF_15_5", "AUFF_15_6", "AUFH_ZB")


class LetterStatus(models.TextChoices):
    # The words the letter list shows (issue 5): ISSUED is the outbox state until the PDF exists.
    ISSUED = "ISSUED", "wird erzeugt"
    AWAITING_RELEASE = "AWAITING_RELEASE", "wartet auf Freigabe"
    RENDERED = "RENDERED", "erzeugt"
    FAILED = "FAILED", "fehlgeschlagen"
    CANCELLED = "CANCELLED", "storniert"


@track_history(exclude=["pdf"])
class Letter(models.Model):
    """One issued letter: a frozen snapshot, later rendered to PDF/A and filed in the E-Akte."""

    Status = LetterStatus

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="letters", verbose_name="Fall")
    kind = models.CharField("Art", max_length=30, choices=LetterKind.choices)
    number = models.CharField("Schreiben-Nr.", max_length=30, unique=True)
    letter_date = models.DateField("Datum des Schreibens")
    recipients = models.JSONField("Empfänger", help_text="Liste der Anschriften; Minderjährige: P5.")
    context = models.JSONField("eingefrorener Inhalt")
    template_version = models.CharField("Vorlagenversion", max_length=20)
    rule_set = models.CharField("Regelwerk", max_length=40)
    with_rfb = models.BooleanField("mit Rechtsfolgenbelehrung")
    is_va = models.BooleanField("Verwaltungsakt (mit Rechtsbehelfsbelehrung)")
    status = models.CharField("Status", max_length=16, choices=Status.choices, default=Status.ISSUED)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField("ausgestellt am", db_default=Now())
    idempotency_key = models.CharField("Idempotenzschlüssel", max_length=64, unique=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField("freigegeben am", null=True, blank=True)
    pdf = models.BinaryField("PDF", null=True, blank=True, editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, null=True, blank=True)
    rendered_at = models.DateTimeField("erzeugt am", null=True, blank=True)
    render_attempts = models.PositiveSmallIntegerField("Erzeugungsversuche", default=0)
    render_error = models.TextField("Fehler bei der Erzeugung", blank=True)
    # Outbox (DESIGN.md "Jobs", T9): the row itself is the job; these say when it last went to the broker and
    # when a worker last claimed it (a lease, so that a redelivery after a killed worker can take over, T14).
    dispatched_at = models.DateTimeField("an den Hintergrunddienst übergeben am", null=True, blank=True)
    render_started_at = models.DateTimeField("Erzeugung begonnen am", null=True, blank=True)

    class Meta:
        verbose_name = "Schreiben"
        verbose_name_plural = "Schreiben"
        ordering = ["-letter_date", "-id"]
        indexes = [models.Index(fields=["case", "-letter_date"], name="letter_case_date_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=LetterKind.values), name="letter_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=LetterStatus.values), name="letter_status_valid"),
            models.CheckConstraint(
                condition=~Q(kind__in=NEVER_RFB_KINDS) | Q(with_rfb=False), name="letter_no_rfb_on_kinds_without"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=ALWAYS_RFB_KINDS) | Q(with_rfb=True), name="letter_rfb_on_kinds_with"
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=VA_KINDS) & Q(is_va=True)) | (~Q(kind__in=VA_KINDS) & Q(is_va=False)),
                name="letter_va_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(status="RENDERED")
                | Q(
                    sha256__isnull=False, sha256__regex=r"^[0-9a-f]{64}$", pdf__isnull=False, rendered_at__isnull=False
                ),
                name="letter_rendered_has_pdf_and_hash",
            ),
            models.CheckConstraint(
                condition=Q(
                    Exact(Func("recipients", function="jsonb_typeof", output_field=models.CharField()), "array"),
                    recipients__0__isnull=False,
                ),
                name="letter_has_recipient",
            ),
            models.CheckConstraint(
                condition=~Q(status="FAILED") | ~Q(render_error=""), name="letter_failed_has_german_error"
            ),
            models.CheckConstraint(
                condition=~Q(status="AWAITING_RELEASE") | Q(with_rfb=True), name="letter_release_only_for_rfb"
            ),
            # Four-eyes release: another person than the issuer, with a time.
            models.CheckConstraint(
                condition=Q(released_by__isnull=True, released_at__isnull=True)
                | (Q(released_by__isnull=False, released_at__isnull=False) & ~Q(released_by=models.F("issued_by"))),
                name="letter_release_by_other_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} Nr. {self.number}"


class ArchiveEntry(models.Model):
    """A document filed in the electronic case file (E-Akte, d3). Immutable (R-ARC-1)."""

    letter = models.OneToOneField(Letter, on_delete=models.PROTECT, related_name="archive_entry")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="archive_entries")
    document_type = models.CharField("Dokumentart", max_length=80)
    version = models.PositiveIntegerField("Version")
    sha256 = models.CharField("SHA-256", max_length=64)
    filed_at = models.DateTimeField("abgelegt am", db_default=Now())

    class Meta:
        verbose_name = "E-Akte-Eintrag"
        verbose_name_plural = "E-Akte"
        ordering = ["-filed_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "document_type", "version"], name="archive_unique_version"),
            models.UniqueConstraint(fields=["case", "sha256"], name="archive_unique_hash_per_case"),
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="archive_sha256_format"),
        ]
        triggers = [append_only_trigger("archive_immutable")]

    def __str__(self) -> str:
        return f"{self.document_type} v{self.version}"


class LetterRunKind(models.TextChoices):
    REVIEW_INVITATION = "REVIEW_INVITATION", "Einladungen zum Überprüfungsgespräch (KP-Fortschreibung)"


class LetterRunItemStatus(models.TextChoices):
    PENDING = "PENDING", "offen"
    DONE = "DONE", "ausgestellt"
    FAILED = "FAILED", "fehlgeschlagen"


class LetterRun(models.Model):
    """A mass letter run (Serienbrief) for the cases of one team (T20). The selection and the per-case step
    live in kooperationsplan.massrun; this row and its items are the progress record."""

    Kind = LetterRunKind

    team = models.ForeignKey("cases.Team", on_delete=models.PROTECT, related_name="+", verbose_name="Team")
    kind = models.CharField("Art", max_length=30, choices=Kind.choices)
    parameters = models.JSONField("Angaben für alle Schreiben", default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("angelegt am", db_default=Now())
    finished_at = models.DateTimeField("abgeschlossen am", null=True, blank=True)

    class Meta:
        verbose_name = "Serienbrief-Lauf"
        verbose_name_plural = "Serienbrief-Läufe"
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=LetterRunKind.values), name="letterrun_kind_valid")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.pk})"


class LetterRunItem(models.Model):
    """One case of a mass run: processed once (claimed under a row lock), its letter or its German reasons."""

    Status = LetterRunItemStatus

    run = models.ForeignKey(LetterRun, on_delete=models.PROTECT, related_name="items")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name="Fall")
    position = models.PositiveIntegerField("Reihenfolge")
    starts_at = models.DateTimeField("Termin")
    status = models.CharField("Status", max_length=8, choices=Status.choices, default=Status.PENDING)
    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    errors = models.JSONField("Gründe", default=list, blank=True)
    attempts = models.PositiveSmallIntegerField("Versuche", default=0)
    processed_at = models.DateTimeField("verarbeitet am", null=True, blank=True)

    class Meta:
        verbose_name = "Serienbrief-Fall"
        verbose_name_plural = "Serienbrief-Fälle"
        ordering = ["run", "position"]
        indexes = [models.Index(fields=["run", "status"], name="letterrunitem_run_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["run", "case"], name="letterrunitem_one_per_case"),
            models.UniqueConstraint(fields=["run", "position"], name="letterrunitem_unique_position"),
            models.CheckConstraint(
                condition=Q(status__in=LetterRunItemStatus.values), name="letterrunitem_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="DONE") | Q(letter__isnull=False), name="letterrunitem_done_has_letter"
            ),
            models.CheckConstraint(
                condition=~Q(status="FAILED") | (Q(letter__isnull=True) & ~Q(errors=[])),
                name="letterrunitem_failed_has_reasons",
            ),
        ]

    def __str__(self) -> str:
        return f"Lauf {self.run_id}, Fall {self.case_id}: {self.get_status_display()}"
