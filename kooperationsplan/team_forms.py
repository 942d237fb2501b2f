"""Forms of the team lead's desk and the team figures. Bad input is a German form error (T21)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from cases.models import User
from kooperationsplan.forms import text
from rules.ruleset import CURRENT

COMMENT_MAX = 2000
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ApproveForm(forms.Form):
    comment = text("Kommentar (freiwillig)", required=False, max_length=COMMENT_MAX, rows=2)


class ReleaseForm(forms.Form):
    """The four-eyes release has nothing to enter: the team lead has read the letter and its RFB."""


class DeclineForm(forms.Form):
    comment = text("Begründung der Ablehnung", max_length=COMMENT_MAX, rows=2)


class ReturnForm(forms.Form):
    comment = text(
        "Kommentar an die Integrationsfachkraft",
        max_length=COMMENT_MAX,
        rows=3,
        help_text="Die Integrationsfachkraft sieht den Kommentar im Arbeitsplatz und im Zeitstrahl des Falls.",
    )


class ReassignForm(forms.Form):
    new_responsible = forms.TypedChoiceField(label="neue zuständige Integrationsfachkraft", coerce=int)
    reason = text("Grund der neuen Zuständigkeit", max_length=COMMENT_MAX, rows=2)

    def __init__(self, *args: Any, targets: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["new_responsible"]
        field.choices = [("", "bitte wählen"), *((user.pk, user.get_full_name() or user.username) for user in targets)]
        field.error_messages["invalid_choice"] = "Bitte wählen Sie eine Integrationsfachkraft aus der Liste."


def month_start(day: date) -> date:
    return day.replace(day=1)


class MonthForm(forms.Form):
    """The month of the figures: from the start of the rule set (P3) up to the running month."""

    monat = forms.CharField(
        label="Monat",
        max_length=7,
        help_text="im Format JJJJ-MM, zum Beispiel 2026-03",
        widget=forms.TextInput(attrs={"type": "month", "class": "form-control"}),
    )

    def clean_monat(self) -> date:
        raw = self.cleaned_data["monat"]
        match = MONTH.match(raw)
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise forms.ValidationError("Bitte geben Sie den Monat als JJJJ-MM an, zum Beispiel 2026-03.")
        month = date(int(match.group(1)), int(match.group(2)), 1)
        earliest = month_start(CURRENT.valid_from)
        if month < earliest:
            raise forms.ValidationError(f"Kennzahlen gibt es ab {earliest:%m.%Y} (Inkrafttreten des Regelwerks).")
        if month > month_start(timezone.localdate()):
            raise forms.ValidationError("Für künftige Monate gibt es noch keine Kennzahlen.")
        return month
