"""Forms of the workflow steps. Input is validated here; the services decide with the rule engine."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.utils import timezone

from cases.models import Potenzialanalyse
from kooperationsplan.models import AppointmentKind, BreachKind

NUL = ProhibitNullCharactersValidator()
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def no_control_characters(value: str) -> None:
    """T21: control characters other than tab and line breaks are refused (NUL has its own validator)."""
    if any(unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS for char in value):
        raise forms.ValidationError("Der Text enthält unzulässige Steuerzeichen.", code="control_characters")


def text(label: str, *, required: bool = True, max_length: int = 2000, rows: int = 3, help_text: str = "") -> Any:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        validators=[NUL, no_control_characters],
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}) if rows > 1 else forms.TextInput(),
    )


def day(label: str, *, required: bool = True, help_text: str = "") -> Any:
    return forms.DateField(
        label=label, required=required, help_text=help_text, widget=forms.DateInput(attrs={"type": "date"})
    )


class IdempotentForm(forms.Form):
    """Carries a one-time token, so that a double submit creates one letter (T8)."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64, validators=[NUL])


class ConfirmForm(forms.Form):
    pass


class PotenzialanalyseForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Potenzialanalyse
        fields = [
            "strengths",
            "qualifications",
            "handlungsbedarfe",
            "obstacles",
            "health_reha_assessed",
            "reused_from_agentur",
        ]
        widgets = {
            field: forms.Textarea(attrs={"rows": 4})
            for field in ("strengths", "qualifications", "handlungsbedarfe", "obstacles")
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("strengths", "qualifications", "handlungsbedarfe", "obstacles"):
            field = self.fields[name]
            field.max_length = 10_000
            field.validators += [NUL, MaxLengthValidator(10_000)]


INVITATION_KINDS = [
    (AppointmentKind.ERSTGESPRAECH, AppointmentKind.ERSTGESPRAECH.label),
    (AppointmentKind.FOLGETERMIN, AppointmentKind.FOLGETERMIN.label),
    (AppointmentKind.UEBERPRUEFUNG, AppointmentKind.UEBERPRUEFUNG.label),
    (AppointmentKind.AERZTLICH, AppointmentKind.AERZTLICH.label),
    (AppointmentKind.PSYCHOLOGISCH, AppointmentKind.PSYCHOLOGISCH.label),
    (AppointmentKind.AUF_WUNSCH, AppointmentKind.AUF_WUNSCH.label),
    (AppointmentKind.WIDERSPRUCH, AppointmentKind.WIDERSPRUCH.label),
]


class InvitationForm(IdempotentForm):
    kind = forms.ChoiceField(label="Art des Termins", choices=INVITATION_KINDS)
    date = day("Datum")
    time = forms.TimeField(label="Uhrzeit", widget=forms.TimeInput(attrs={"type": "time"}))
    location = text("Ort/Raum", max_length=200, rows=1)
    meldezweck = text("Meldezweck", max_length=300, rows=1, help_text="Pflichtangabe (§ 309 SGB III).")
    documents_to_bring = text("Mitzubringende Unterlagen", required=False, rows=2)
    choice = forms.ChoiceField(
        label="Rechtsfolgenbelehrung",
        choices=[
            ("DEFAULT", "nach den Regeln"),
            ("WITH", "mit RFB (Abweichung)"),
            ("WITHOUT", "ohne RFB (Abweichung)"),
        ],
        initial="DEFAULT",
    )
    deviation_reason = text("Begründung einer Abweichung", required=False, rows=2)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("date") and data.get("time"):
            starts = timezone.make_aware(timezone.datetime.combine(data["date"], data["time"]))
            if starts <= timezone.now():
                self.add_error("date", "Der Termin muss in der Zukunft liegen.")
            data["starts_at"] = starts
        return data


class BreachForm(forms.Form):
    breach_kind = forms.ChoiceField(label="Art des Verstoßes", choices=BreachKind.choices)
    breach_date = day("Datum des Verstoßes")
    description = text("Sachverhalt")
    assignment = forms.TypedChoiceField(label="betroffene Maßnahme", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, assignments: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignment"].choices = [("", "– keine –"), *(assignments or [])]


class InterventionInviteForm(IdempotentForm):
    date = day("Datum")
    time = forms.TimeField(label="Uhrzeit", widget=forms.TimeInput(attrs={"type": "time"}))
    location = text("Ort/Raum", max_length=200, rows=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("date") and data.get("time"):
            data["starts_at"] = timezone.make_aware(timezone.datetime.combine(data["date"], data["time"]))
        return data


class InterventionOutcomeForm(forms.Form):
    attended = forms.TypedChoiceField(
        label="Wurde die beraterische Intervention wahrgenommen?",
        choices=[("1", "ja"), ("0", "nein")],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    wichtiger_grund = forms.BooleanField(label="Ein wichtiger Grund wurde dargelegt und anerkannt", required=False)


class AufforderungForm(IdempotentForm):
    duty = text("Konkrete Mitwirkungshandlung (was, wie viele, wie nachzuweisen)")
    deadline = day("Frist")


class Aufforderung156Form(AufforderungForm):
    breach_description = text("Anlass (z. B. kein KP nach Schlichtung)", required=False, rows=2)


class VermerkForm(forms.Form):
    vermerk = text("Vermerk (keine Diagnosen)", help_text="Begründen Sie, warum von der Aufforderung abgesehen wird.")


class MinderungOutcomeForm(forms.Form):
    festgestellt = forms.TypedChoiceField(
        label="Ergebnis der Leistungsabteilung",
        choices=[("1", "Leistungsminderung festgestellt"), ("0", "keine Leistungsminderung")],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    no_minderung_reason = text("Grund, wenn keine Minderung", required=False, max_length=200, rows=1)


class NoteForm(forms.Form):
    note = text("Vermerk")


class ChangeNoteForm(forms.Form):
    note = text("Was wurde angepasst?", help_text="Der Vermerk steht im Zeitstrahl (R-FS-1).")


class SchlichtungForm(forms.Form):
    requested_by = forms.ChoiceField(
        label="beantragt von", choices=[("ELB", "eLb"), ("IFK", "Integrationsfachkraft"), ("BEIDE", "beide Seiten")]
    )
    disagreement = text("Strittige Punkte")
    schlichter_name = text("Schlichtungsperson", max_length=200, rows=1)


class ExemptionForm(forms.Form):
    reason = forms.ChoiceField(
        label="Ausnahmegrund",
        choices=[
            ("EINSTELLUNGSZUSAGE", "Einstellungszusage (001 §8.1)"),
            ("PARAGRAPH_10", "§ 10 SGB II (001 §8.2)"),
            ("PROFILLAGE_I", "Profillage I (001 §8.3)"),
        ],
    )
    kennung_kp = forms.BooleanField(label="Kennung KP in FMG.job eingetragen", required=False)
    kennung_reason = text("Begründung der Kennung KP (aussagekräftig)")
    employer = text("Arbeitgeber (Einstellungszusage)", required=False, max_length=200, rows=1)
    start_date = day("Beschäftigungsbeginn (Einstellungszusage)", required=False)
    p10_kind = forms.ChoiceField(
        label="§ 10-Grund",
        required=False,
        choices=[
            ("", "–"),
            ("SCHULE", "Schulpflicht"),
            ("ELTERNZEIT", "Elternzeit/Kind unter 3"),
            ("PFLEGE", "Pflege"),
            ("GESUNDHEIT", "gesundheitliche Gründe"),
            ("SONSTIGES", "sonstiger Grund"),
        ],
    )
    p10_expected_end = day("voraussichtliches Ende des § 10-Grundes", required=False)
    zukunftsziel = forms.BooleanField(label="KP zielt auf künftige Beendigung der Hilfebedürftigkeit", required=False)
    vollzeit_sv_beschaeftigt = forms.BooleanField(
        label="Vollzeit sozialversicherungspflichtig beschäftigt", required=False
    )
    selbststaendig = forms.BooleanField(label="selbstständig tätig", required=False)
    moeglichkeiten_ausgeschoepft = forms.BooleanField(
        label="an der Grenze der Möglichkeiten erwerbstätig", required=False
    )
    keine_verringerung_6_monate = forms.BooleanField(
        label="keine Verringerung in den nächsten 6 Monaten zu erwarten", required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("reason") == "EINSTELLUNGSZUSAGE" and not data.get("start_date"):
            self.add_error("start_date", "Bitte geben Sie den Beschäftigungsbeginn an.")
        if data.get("reason") == "PARAGRAPH_10" and not data.get("p10_kind"):
            self.add_error("p10_kind", "Bitte wählen Sie den § 10-Grund.")
        return data


class AbortForm(forms.Form):
    aborted_on = day("abgebrochen am")
    description = text("Meldung des Trägers")


class ClarificationForm(IdempotentForm):
    talk_attended = forms.BooleanField(label="Das klärende Gespräch wurde wahrgenommen", required=False)
    wichtiger_grund = forms.BooleanField(label="Es lag ein wichtiger Grund vor", required=False)
    reentry_possible = forms.BooleanField(label="Ein Wiedereinstieg in die Maßnahme ist möglich", required=False)
    new_kp_possible = forms.BooleanField(label="Ein neuer Kooperationsplan kann erarbeitet werden", required=False)
    traeger_ruecksprache_on = day("Rücksprache mit dem Träger am", required=False)
    rueckmeldung_due = day("neue Frist zur Vorstellung (bei Bescheid)", required=False)


class AppointmentOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Ergebnis des Termins",
        choices=[
            ("ATTENDED", "wahrgenommen"),
            ("NOT_ATTENDED", "nicht wahrgenommen"),
            ("CANCELLED", "abgesagt"),
            ("POSTPONED", "verlegt"),
        ],
        widget=forms.RadioSelect,
    )
    wichtiger_grund = forms.BooleanField(
        label="Für das Versäumnis wurde ein wichtiger Grund dargelegt und nachgewiesen", required=False
    )
    dispatch_proven = forms.BooleanField(
        label="Versand und Zugang der Einladung sind nachgewiesen (R-INV-7)",
        required=False,
        help_text="Nur bei einem versäumten Termin mit Rechtsfolgenbelehrung von Bedeutung.",
    )


class NachweisForm(forms.Form):
    received_on = day("eingegangen am")
    count_reported = forms.IntegerField(label="nachgewiesene Anzahl", min_value=0, max_value=999)

    def clean_received_on(self) -> Any:
        value = self.cleaned_data["received_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("Das Eingangsdatum darf nicht in der Zukunft liegen.")
        return value


class ExemptionRecheckForm(forms.Form):
    continues = forms.TypedChoiceField(
        label="Ergebnis der Prüfung",
        choices=[("1", "Die Voraussetzungen bestehen fort"), ("0", "Die Voraussetzungen sind entfallen")],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    note = text("Vermerk zur Prüfung")
    expected_end = day("voraussichtliches Ende des § 10-Grundes", required=False)
    vollzeit_sv_beschaeftigt = forms.BooleanField(
        label="Profillage I: Vollzeit sozialversicherungspflichtig beschäftigt", required=False
    )
    selbststaendig = forms.BooleanField(label="Profillage I: selbstständig tätig", required=False)
    moeglichkeiten_ausgeschoepft = forms.BooleanField(
        label="Profillage I: an der Grenze der Möglichkeiten erwerbstätig", required=False
    )
    keine_verringerung_6_monate = forms.BooleanField(
        label="Profillage I: keine Verringerung in den nächsten 6 Monaten zu erwarten", required=False
    )


class EinstellungszusageOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Was ist mit der Einstellungszusage geschehen?",
        choices=[
            ("started", "Die Arbeit wurde aufgenommen"),
            ("postponed", "Der Beginn wurde verschoben"),
            ("withdrawn", "Die Zusage wurde zurückgenommen"),
        ],
        widget=forms.RadioSelect,
    )
    on = day("Datum (Arbeitsaufnahme oder neuer Beginn)", help_text="Bei einer Rücknahme: das Datum der Mitteilung.")


class SchlichtungAgreementForm(forms.Form):
    proposal = text("Gemeinsamer Lösungsvorschlag der Schlichtung")
    follows_proposal = forms.BooleanField(
        label="Der vereinbarte Kooperationsplan folgt dem Lösungsvorschlag", required=False, initial=True
    )
    deviation_justification = text("Begründung einer Abweichung vom Vorschlag (R-SCH-4)", required=False)


class SchlichtungNoAgreementForm(forms.Form):
    proposal = text(
        "Lösungsvorschlag der Schlichtung", help_text="Auch ohne Einigung wird der Vorschlag festgehalten (R-SCH-4)."
    )


class MinderungLiftForm(forms.Form):
    complied = forms.TypedChoiceField(
        label="Anlass",
        choices=[
            ("1", "Die Pflicht ist erfüllt oder die Bereitschaft ernsthaft erklärt"),
            ("0", "Der Minderungszeitraum ist abgelaufen"),
        ],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )


class CaseCloseForm(forms.Form):
    closed_on = day("Leistungsbezug beendet am")
    note = text("Vermerk", help_text="Zum Beispiel: Arbeitsaufnahme mit bedarfsdeckendem Einkommen, Umzug.")
