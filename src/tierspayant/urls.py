"""Root URLs. The back-office (Django admin) opens to staff verified by a passkey
(``accounts.backoffice.BackOfficeSite``)."""

from django.contrib import admin
from django.urls import include, path

from tierspayant.accounts.backoffice import BackOfficeSite
from tierspayant.api.urls import fhir_urlpatterns, json_urlpatterns
from tierspayant.attestations.admin import backoffice_urlpatterns as attestation_urlpatterns
from tierspayant.portal import views_history, views_staff_history

admin.site.__class__ = BackOfficeSite
# The back-office's access-history pages read through eligibility (counted, logged): they
# live in portal and join the admin's URLs and namespace (``admin:audit_history...``).
_admin_patterns, _admin_app, _admin_namespace = admin.site.urls
_backoffice = (
    [
        *views_staff_history.backoffice_urlpatterns(admin.site),
        *attestation_urlpatterns(admin.site),
        *_admin_patterns,
    ],
    _admin_app,
    _admin_namespace,
)

urlpatterns = [
    path("", include("tierspayant.portal.urls")),
    path("cle-acces/", include("tierspayant.portal.passkey_urls")),  # WebAuthn JSON endpoints
    path("admin/", _backoffice),
    path("api/v1/", include(json_urlpatterns)),
    path("fhir/r4/", include(fhir_urlpatterns)),
    # A beneficiary's access history, through the signed link their insurer sent them.
    path(
        "historique/<str:token>/",
        views_history.beneficiary_history,
        name="audit-beneficiary-history",
    ),
]
