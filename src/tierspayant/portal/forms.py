"""Portal forms. Dates are taken as text (ISO, from ``<input type=date>``) so that the rights
check service validates them and logs a refusal like any other bad input."""

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed

from tierspayant.accounts.backoffice import may_sign_in_during_lockdown
from tierspayant.guard.lockdown import lockdown_active


class SignInForm(AuthenticationForm):
    """Django's password form. During a lockdown, an account that may not reach the
    back-office then (:func:`~tierspayant.accounts.backoffice.may_sign_in_during_lockdown`)
    gets the wrong password's answer, and the attempt counts as a failure for django-axes:
    the closed portal is no oracle for stolen passwords, and no session is opened."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if lockdown_active() and not may_sign_in_during_lockdown(user):
            user_login_failed.send(
                sender=__name__,
                credentials={"username": self.cleaned_data.get("username")},
                request=self.request,
            )
            raise self.get_invalid_login_error()


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
