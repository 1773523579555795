"""The passkey JSON endpoints, under the ``otp_webauthn`` namespace the library's template
tags reverse, served by the portal's subclasses (:mod:`tierspayant.portal.passkeys`)."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog

from tierspayant.portal import passkeys

app_name = "otp_webauthn"

urlpatterns = [
    path(
        "enregistrement/debut/",
        passkeys.PasskeyRegistrationBegin.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "enregistrement/fin/",
        passkeys.PasskeyRegistrationComplete.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "verification/debut/",
        passkeys.PasskeyAuthenticationBegin.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "verification/fin/",
        passkeys.PasskeyAuthenticationComplete.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
