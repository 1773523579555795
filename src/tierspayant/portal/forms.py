"""Portal forms. Dates are taken as text (ISO, from ``<input type=date>``) so that the rights
check service validates them and logs a refusal like any other bad input."""

from django import forms


class OtpTokenForm(forms.Form):
    """A 6-digit TOTP code."""

    otp_token = forms.CharField(
        label="Code à 6 chiffres",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class RightsCheckForm(forms.Form):
    """What the professional reads from the patient's card."""

    nir = forms.CharField(
        label="NIR (numéro de sécurité sociale, 15 caractères)",
        max_length=25,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    rang = forms.CharField(label="Rang de naissance (si jumeaux)", required=False, max_length=1)
    birth_date = forms.CharField(
        label="Date de naissance", max_length=10, widget=forms.DateInput(attrs={"type": "date"})
    )
    amc_number = forms.CharField(label="Numéro AMC (facultatif)", required=False, max_length=10)
    care_date = forms.CharField(
        label="Date des soins",
        required=False,
        max_length=10,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class ApiTokenForm(forms.Form):
    """A label for a new API token."""

    name = forms.CharField(label="Libellé (ex. logiciel du magasin)", max_length=100)
