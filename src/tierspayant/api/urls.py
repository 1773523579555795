"""API URLs: JSON under /api/v1/, FHIR under /fhir/r4/."""

from django.urls import path

from tierspayant.api.fhir import views as fhir_views
from tierspayant.api.json_api import api

fhir_urlpatterns = [
    path("metadata", fhir_views.capability_statement, name="fhir-metadata"),
    path(
        "CoverageEligibilityRequest",
        fhir_views.coverage_eligibility_request,
        name="fhir-coverage-eligibility-request",
    ),
]

json_urlpatterns = [path("", api.urls)]
