"""Root URLs. The back-office (Django admin) opens to staff verified by a passkey
(``accounts.backoffice.BackOfficeSite``)."""

from django.contrib import admin
from django.urls import include, path

from tierspayant.accounts.backoffice import BackOfficeSite
from tierspayant.api.urls import fhir_urlpatterns, json_urlpatterns
from tierspayant.portal import views_history

admin.site.__class__ = BackOfficeSite

urlpatterns = [
    path("", include("tierspayant.portal.urls")),
    path("cle-acces/", include("tierspayant.portal.passkey_urls")),  # WebAuthn JSON endpoints
    path("admin/", admin.site.urls),
    path("api/v1/", include(json_urlpatterns)),
    path("fhir/r4/", include(fhir_urlpatterns)),
    # A beneficiary's access history, through the signed link their insurer sent them.
    path(
        "historique/<str:token>/",
        views_history.beneficiary_history,
        name="audit-beneficiary-history",
    ),
]
