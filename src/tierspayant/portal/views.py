"""Portal views: thin wrappers that parse, call a service, render."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tierspayant.accounts.access import (
    require_recent_second_factor,
    step_up_redirect,
    verified_required,
)
from tierspayant.accounts.codes import verify_code
from tierspayant.audit.choices import Channel
from tierspayant.audit.context import request_context
from tierspayant.eligibility.services import InvalidRightsCheck, RightsCheckInput, check_rights
from tierspayant.guard.choices import LockdownLevel
from tierspayant.guard.lockdown import lockdown_level, password_changed
from tierspayant.guard.services import (
    AccountSuspended,
    GuardUnavailable,
    PortalLocked,
    QuotaExceeded,
    StepUpRequired,
)
from tierspayant.portal.decorators import professional_required
from tierspayant.portal.forms import ApiTokenForm, OtpTokenForm, RightsCheckForm, SignInForm
from tierspayant.portal.sessions_security import mark_second_factor, second_factor_at
from tierspayant.providers.choices import Scope
from tierspayant.providers.models import ApiToken
from tierspayant.providers.services import issue_api_token, revoke_api_token


class LoginView(auth_views.LoginView):
    """Password step of sign-in (django-axes counts failures); the second factor follows."""

    template_name = "portal/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        """Adds ``psc_enabled``: the Pro Santé Connect button shows only when configured."""
        context = super().get_context_data(**kwargs)
        context["psc_enabled"] = bool(settings.TIERSPAYANT_PSC_ISSUER)
        return context


def _safe_next(request: HttpRequest, default: str = "portal:home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _qr_svg_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """First sign-in: enrol a TOTP application by QR code, confirmed by a first valid code.

    Only reachable while the account has no confirmed device: a stolen password cannot
    enrol a second authenticator.
    """
    user = request.user
    if not user.is_authenticated:
        return redirect("portal:login")
    if user.is_verified():  # type: ignore[attr-defined,union-attr]  # e.g. just enrolled a passkey
        return redirect(_safe_next(request))
    if user_has_device(user):
        return redirect("portal:otp-verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Application TOTP", confirmed=False)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if verify_code(device, form.cleaned_data["otp_token"], now=timezone.now()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            mark_second_factor(request, device)
            messages.success(request, "Double authentification activée.")
            return redirect(_safe_next(request))
        form.add_error("otp_token", "Code incorrect ou expiré : réessayez.")
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return render(
        request,
        "portal/otp_setup.html",
        {"form": form, "qr": _qr_svg_data_uri(device.config_url), "secret": secret},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in: a TOTP code from an enrolled device (throttled by django-otp).
    During a lockdown only the passkey is offered (full: staff to the back-office; restricted:
    everyone, the TOTP form is replaced by the reason; ``portal.middleware`` refuses a code)."""
    user = request.user
    if not user.is_authenticated:
        return redirect("portal:login")
    if not user_has_device(user):
        return redirect("portal:otp-setup")
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
            if verify_code(device, form.cleaned_data["otp_token"], now=timezone.now()):
                mark_second_factor(request, device)
                return redirect(_safe_next(request))
        form.add_error(
            "otp_token", "Code incorrect, expiré, ou trop d'essais : patientez et réessayez."
        )
    has_passkey = WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    level = lockdown_level()
    return render(
        request,
        "portal/otp_verify.html",
        {
            "form": form,
            "has_passkey": has_passkey,
            "lockdown": level == LockdownLevel.FULL,
            "restricted": level == LockdownLevel.RESTRICTED,
        },
        status=400 if form.errors else 200,
    )


@verified_required
def home(request: HttpRequest) -> HttpResponse:
    """The professional's landing page."""
    return render(request, "portal/home.html")


@professional_required
@require_http_methods(["GET", "POST"])
def rights_check(request: HttpRequest) -> HttpResponse:
    """Rights check form and answer (POST only carries the NIR: never in a URL)."""
    form = RightsCheckForm(request.POST or None)
    result = None
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = check_rights(
                settings.TIERSPAYANT_KEYRING,
                professional=request.user.professional,  # type: ignore[union-attr]
                query=RightsCheckInput(
                    nir=data["nir"],
                    rang=data["rang"],
                    birth_date=data["birth_date"],
                    amc_number=data["amc_number"],
                    care_date=data["care_date"],
                ),
                context=request_context(request, Channel.PORTAL),
                now=timezone.now(),
                today=timezone.localdate(),
                quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
                daily_quota=settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA,
                policy=settings.TIERSPAYANT_GUARD_POLICY,
                step_up_verified_at=second_factor_at(request),
            )
        except InvalidRightsCheck as exc:
            form.add_error(exc.field, exc.message)
            status = 400
        except StepUpRequired:
            return step_up_redirect(request)
        except AccountSuspended:
            return render(request, "portal/suspended.html", status=403)
        except PortalLocked:
            return render(request, "portal/maintenance.html", status=503)
        except QuotaExceeded as exc:
            status = 429
            form.add_error(None, exc.message)
        except GuardUnavailable:
            status = 503
            form.add_error(None, "Service momentanément indisponible : réessayez dans un instant.")
    elif request.method == "POST":
        status = 400
    return render(
        request, "portal/rights_check.html", {"form": form, "result": result}, status=status
    )


@professional_required
@require_recent_second_factor(methods=("POST",))  # token creation is a step-up action
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """List the professional's API tokens and create one (its secret is shown once)."""
    professional = request.user.professional  # type: ignore[union-attr]
    form = ApiTokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        issued = issue_api_token(
            professional=professional,
            name=form.cleaned_data["name"],
            scopes=list(Scope),  # rights checks, claims and approvals, statements
            now=timezone.now(),
            valid_days=settings.TIERSPAYANT_API_TOKEN_DAYS,
        )
        form = ApiTokenForm()
    tokens = ApiToken.objects.filter(professional=professional).order_by("-created_at")
    return render(
        request,
        "portal/api_tokens.html",
        {"form": form, "tokens": tokens, "issued": issued, "now": timezone.now()},
    )


@professional_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of the professional's own tokens (another's id gives 404)."""
    professional = request.user.professional  # type: ignore[union-attr]
    token = ApiToken.objects.filter(professional=professional, pk=token_id).first()
    if token is None:
        return HttpResponse("Jeton introuvable.", status=404)
    revoke_api_token(token=token, now=timezone.now())
    messages.success(request, "Jeton révoqué.")
    return redirect("portal:api-tokens")


@verified_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change the password (current one, then the new one twice); required after a lockdown."""
    form = PasswordChangeForm(request.user, request.POST or None)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        professional = getattr(user, "professional", None)
        if professional is not None:
            password_changed(professional=professional)
        messages.success(request, "Mot de passe changé.")
        return redirect("portal:home")
    return render(
        request, "portal/password_change.html", {"form": form}, status=400 if form.errors else 200
    )
