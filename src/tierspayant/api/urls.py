"""API URLs: JSON under /api/v1/, FHIR under /fhir/r4/."""

from django.urls import path

from tierspayant.api.fhir import audit_event, claim_views, lot_views, returns, task_views
from tierspayant.api.fhir import views as fhir_views
from tierspayant.api.json_api import api

fhir_urlpatterns = [
    path("", lot_views.batch, name="fhir-batch"),
    path("ClaimResponse", returns.claim_responses, name="fhir-claim-responses"),
    path("metadata", fhir_views.capability_statement, name="fhir-metadata"),
    path(
        "CoverageEligibilityRequest",
        fhir_views.coverage_eligibility_request,
        name="fhir-coverage-eligibility-request",
    ),
    path("AuditEvent/_search", audit_event.audit_event_search, name="fhir-audit-event-search"),
    path("Claim", claim_views.claim, name="fhir-claim"),
    path("Task", task_views.task, name="fhir-task"),
    path(
        "PaymentReconciliation/<int:statement_id>",
        claim_views.payment_reconciliation_read,
        name="fhir-payment-reconciliation",
    ),
]

json_urlpatterns = [path("", api.urls)]
