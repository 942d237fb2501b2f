from __future__ import annotations

from datetime import date

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import ProhibitNullCharactersValidator

from cases.models import CooperationMode, Elb


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "Benutzername oder Passwort ist falsch.",
        "inactive": "Dieses Konto ist gesperrt.",
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Benutzername"
        self.fields["password"].label = "Passwort"


class CaseSearchForm(forms.Form):
    """The search and filters of the case list. Every field is optional; bad input is a German form error (T21)."""

    q = forms.CharField(
        label="Name oder Kundennummer",
        max_length=100,
        required=False,
        validators=[ProhibitNullCharactersValidator()],
        widget=forms.SearchInput(attrs={"class": "form-control"}),
    )
    geburtsdatum = forms.DateField(
        label="Geburtsdatum",
        help_text="im Format TT.MM.JJJJ",
        required=False,
        input_formats=["%d.%m.%Y"],
        error_messages={"invalid": "Bitte geben Sie das Geburtsdatum als TT.MM.JJJJ an, zum Beispiel 24.12.1990."},
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "numeric", "autocomplete": "off"}),
    )
    modus = forms.ChoiceField(
        label="Kooperationsmodus",
        required=False,
        choices=[("", "alle"), *CooperationMode.choices],
        error_messages={"invalid_choice": "Bitte wählen Sie einen Kooperationsmodus aus der Liste."},
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    nur_meine = forms.BooleanField(
        label="nur meine Fälle", required=False, widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
    )
    nur_minderjaehrige = forms.BooleanField(
        label="nur Minderjährige", required=False, widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
    )

    def clean_geburtsdatum(self) -> date | None:
        birth_date = self.cleaned_data["geburtsdatum"]
        # No eLb is born before 1900 (constraint elb_birth_date_plausible): "01.01.0090" is a typing error.
        if birth_date is not None and birth_date.year < 1900:
            raise forms.ValidationError("Bitte geben Sie ein Geburtsdatum ab dem 01.01.1900 an.")
        return birth_date

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


class CaseCreateForm(forms.ModelForm):
    """A new eLb and case. Bad input is a German form error; a duplicate Kundennummer creates nothing."""

    leistungsbeginn = forms.DateField(
        label="Beginn des Leistungsbezugs", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = Elb
        fields = [
            "kundennummer",
            "salutation",
            "first_name",
            "last_name",
            "birth_date",
            "street",
            "postal_code",
            "city",
            "phone",
            "email",
        ]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"})}
        error_messages = {
            "kundennummer": {"unique": "Diese Kundennummer ist bereits vergeben. Es wurde kein Fall angelegt."},
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(ProhibitNullCharactersValidator())

    def clean_kundennummer(self) -> str:
        return self.cleaned_data["kundennummer"].strip().upper()
