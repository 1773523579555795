"""Root URLs. The back-office (Django admin) demands a verified second factor (OTPAdminSite)."""

from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from tierspayant.api.urls import fhir_urlpatterns, json_urlpatterns
from tierspayant.audit import views as audit_views

admin.site.__class__ = OTPAdminSite
admin.site.site_header = "tierspayant · back-office"

urlpatterns = [
    path("", include("tierspayant.portal.urls")),
    path("cle-acces/", include("tierspayant.portal.passkey_urls")),  # WebAuthn JSON endpoints
    path("admin/", admin.site.urls),
    path("api/v1/", include(json_urlpatterns)),
    path("fhir/r4/", include(fhir_urlpatterns)),
    # A beneficiary's access history, through the signed link their insurer sent them.
    path(
        "historique/<str:token>/",
        audit_views.beneficiary_history,
        name="audit-beneficiary-history",
    ),
]
