"""Portal pages of the professional's bank account and its change workflow.

The change form is shown once the user has confirmed their identity again (step-up:
passkey, or TOTP for an account without one); the service re-checks that confirmation's age.
The emailed code is typed on the confirmation page. IBANs are shown masked.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tierspayant.accounts.access import (
    passkey_required_for,
    require_recent_second_factor,
    step_up_redirect,
    stepped_up,
)
from tierspayant.accounts.throttling import client_ip
from tierspayant.portal.decorators import professional_required
from tierspayant.portal.sessions_security import second_factor_at
from tierspayant.providers.banking import (
    BankChangeNotCancellable,
    InvalidBankDetails,
    InvalidConfirmationCode,
    NoContactOnFile,
    StepUpFailed,
    cancel_bank_account_change,
    confirm_bank_account_change,
    current_bank_account,
    pending_bank_change,
    request_bank_account_change,
)
from tierspayant.providers.models import BankAccount, BankAccountChange


class NoEchoInput(forms.TextInput):
    """A text input that never renders the submitted value back (an IBAN is shown masked
    only, even to the person who typed it)."""

    def format_value(self, value: object) -> None:
        return None


class BankChangeForm(forms.Form):
    """New details (the step-up happened before the form was shown)."""

    holder_name = forms.CharField(label="Titulaire du compte", max_length=70)
    iban = forms.CharField(
        label="IBAN", max_length=42, widget=NoEchoInput(attrs={"autocomplete": "off"})
    )
    bic = forms.CharField(
        label="BIC (facultatif pour une banque française)", required=False, max_length=11
    )


class ConfirmForm(forms.Form):
    """The code received by email."""

    code = forms.CharField(label="Code reçu par courriel", min_length=8, max_length=8)


@professional_required
@require_recent_second_factor(methods=("POST",))
@require_http_methods(["GET", "POST"])
def bank_account(request: HttpRequest) -> HttpResponse:
    """Current account (masked), pending change, history; the change form once the user has
    stepped up (otherwise a button to the step-up page, so nothing typed is lost)."""
    professional = request.user.professional  # type: ignore[union-attr]
    now = timezone.now()
    form = BankChangeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            requested = request_bank_account_change(
                settings.TIERSPAYANT_KEYRING.encryption,
                professional=professional,
                user=request.user,
                second_factor_at=second_factor_at(request),
                step_up_seconds=settings.TIERSPAYANT_STEP_UP_SECONDS,
                iban=data["iban"],
                bic=data["bic"],
                holder_name=data["holder_name"],
                ip=client_ip(request),
                user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:300],
                now=now,
                code_minutes=settings.TIERSPAYANT_BANK_CODE_MINUTES,
                confirm_url=lambda pk: request.build_absolute_uri(
                    reverse("portal:bank-confirm", args=[pk])
                ),
            )
        except StepUpFailed:
            return step_up_redirect(request)
        except InvalidBankDetails as exc:
            form.add_error(exc.field, exc.message)
            status = 400
        except NoContactOnFile as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            messages.success(
                request, "Un code de confirmation a été envoyé à votre adresse de contact."
            )
            return redirect("portal:bank-confirm", change_id=requested.change.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "portal/bank_account.html",
        {
            "form": form,
            "stepped_up": stepped_up(request),
            "passkey_required": passkey_required_for(request.user),
            "current": current_bank_account(professional, now=now),
            "pending": pending_bank_change(professional, now=now),
            "history": BankAccount.objects.filter(professional=professional),
            "changes": BankAccountChange.objects.filter(professional=professional)[:20],
            "now": now,
        },
        status=status,
    )


def _own_change(request: HttpRequest, change_id: int) -> BankAccountChange:
    try:
        return BankAccountChange.objects.select_related("new_account").get(
            pk=change_id,
            professional=request.user.professional,  # type: ignore[union-attr]
        )
    except BankAccountChange.DoesNotExist:
        raise Http404 from None


@professional_required
@require_http_methods(["GET", "POST"])
def bank_confirm(request: HttpRequest, change_id: int) -> HttpResponse:
    """Type the emailed code; the change then waits its cooling-off period."""
    change = _own_change(request, change_id)
    form = ConfirmForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            confirm_bank_account_change(
                professional=request.user.professional,  # type: ignore[union-attr]
                change_id=change.pk,
                code=form.cleaned_data["code"],
                ip=client_ip(request),
                now=timezone.now(),
                cooling_off_hours=settings.TIERSPAYANT_BANK_COOLING_OFF_HOURS,
            )
        except InvalidConfirmationCode as exc:
            form.add_error("code", exc.message)
            status = 400
        else:
            messages.success(
                request, "Changement confirmé : il prendra effet après le délai de sécurité."
            )
            return redirect("portal:bank-account")
    elif request.method == "POST":
        status = 400
    return render(
        request, "portal/bank_confirm.html", {"form": form, "change": change}, status=status
    )


@professional_required
@require_POST
def bank_cancel(request: HttpRequest, change_id: int) -> HttpResponse:
    """Cancel a pending change: the previous account stays in force."""
    change = _own_change(request, change_id)
    try:
        cancel_bank_account_change(
            professional=request.user.professional,  # type: ignore[union-attr]
            change_id=change.pk,
            now=timezone.now(),
        )
        messages.success(request, "Changement annulé.")
    except BankChangeNotCancellable as exc:
        messages.error(request, exc.message)
    return redirect("portal:bank-account")
