"""``/api/v1/``: JSON endpoints with OpenAPI (``/api/v1/docs``, ``/api/v1/openapi.json``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from tierspayant.api.auth import EligibilityBearer
from tierspayant.api.schemas import EligibilityIn, EligibilityOut, ErrorOut
from tierspayant.audit.choices import Channel
from tierspayant.audit.context import request_context
from tierspayant.eligibility.services import InvalidRightsCheck, RightsCheckInput, check_rights
from tierspayant.guard.services import (
    AccountSuspended,
    GuardRefusal,
    GuardUnavailable,
    PortalLocked,
    QuotaExceeded,
)

api = NinjaAPI(
    title="tierspayant API",
    version="1",
    description="Rights checks for practice software. Authenticate with "
    "`Authorization: Bearer <token>` (tokens are created in the portal).",
    urls_namespace="api-v1",
)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError):  # type: ignore[no-untyped-def]
    # Same shape as every other refusal (ErrorOut), as the OpenAPI document declares.
    return api.create_response(
        request,
        {"code": "unauthorized", "message": "Jeton d'API absent, invalide, expiré ou révoqué."},
        status=401,
    )


@api.exception_handler(ValidationError)
def _schema(request: HttpRequest, exc: ValidationError):  # type: ignore[no-untyped-def]
    # Name the field and the problem; never echo the submitted value back.
    details = [
        {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e["msg"]}
        for e in exc.errors
    ]
    return api.create_response(
        request,
        {"code": "invalid", "message": "Requête invalide.", "details": details},
        status=422,
    )


@api.exception_handler(InvalidRightsCheck)
def _invalid(request: HttpRequest, exc: InvalidRightsCheck):  # type: ignore[no-untyped-def]
    return api.create_response(
        request, {"code": "invalid", "field": exc.field, "message": exc.message}, status=400
    )


@api.exception_handler(QuotaExceeded)
def _quota(request: HttpRequest, exc: QuotaExceeded):  # type: ignore[no-untyped-def]
    return api.create_response(
        request, {"code": "quota_exceeded", "message": exc.message}, status=429
    )


@api.exception_handler(AccountSuspended)
def _suspended(request: HttpRequest, exc: AccountSuspended):  # type: ignore[no-untyped-def]
    return api.create_response(request, {"code": "suspended", "message": exc.message}, status=403)


@api.exception_handler(PortalLocked)
def _locked(request: HttpRequest, exc: PortalLocked):  # type: ignore[no-untyped-def]
    return api.create_response(request, {"code": "maintenance", "message": exc.message}, status=503)


@api.exception_handler(GuardRefusal)
def _refused(request: HttpRequest, exc: GuardRefusal):  # type: ignore[no-untyped-def]
    # Any other guard refusal (a step-up has no meaning for software): refuse plainly.
    return api.create_response(request, {"code": exc.reason, "message": exc.message}, status=403)


@api.exception_handler(GuardUnavailable)
def _guard(request: HttpRequest, exc: GuardUnavailable):  # type: ignore[no-untyped-def]
    return api.create_response(
        request,
        {"code": "unavailable", "message": "Service momentanément indisponible."},
        status=503,
    )


@api.post(
    "/eligibility",
    auth=EligibilityBearer(),
    response={
        200: EligibilityOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        429: ErrorOut,
        503: ErrorOut,
    },
    summary="Rights check (is this patient covered on the date of care?)",
    exclude_unset=True,
)
def eligibility(request: HttpRequest, payload: EligibilityIn) -> EligibilityOut:
    """Check rights for the patient described by ``payload``; logs one disclosure row."""
    result = check_rights(
        settings.TIERSPAYANT_KEYRING,
        professional=request.auth,  # type: ignore[attr-defined]
        query=RightsCheckInput(
            nir=payload.nir,
            birth_date=payload.birth_date,
            rang=payload.rang,
            amc_number=payload.amc_number,
            care_date=payload.care_date,
            member_number=payload.member_number,
            convention_type=payload.convention_type,
            routing_criterion=payload.routing_criterion,
            domain=payload.domain,
        ),
        context=request_context(request, Channel.API),
        now=timezone.now(),
        today=timezone.localdate(),
        quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
        daily_quota=settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA,
        policy=settings.TIERSPAYANT_GUARD_POLICY,
        tables_dir=settings.TIERSPAYANT_GUARANTEE_TABLES_DIR,
    )
    fields: dict[str, Any] = {
        "outcome": result.outcome.value,
        "care_date": result.care_date,
        "rights_start": result.rights_start,
        "rights_end": result.rights_end,
        "amc_number": result.amc_number,
        "tiers_payant_domains": [d.value for d in result.domains],
        "reference": result.log_id,
    }
    if payload.member_number:  # v2 only: a v1 answer keeps its shape (unset fields excluded)
        fields.update(
            engagement=result.engagement,
            engagement_expires_at=result.engagement_expires_at,
            domain_rules=result.domain_rules,
        )
    return EligibilityOut(**fields)


from tierspayant.api.care_api import care_router  # noqa: E402 - care: mounted last

api.add_router("/", care_router)

from tierspayant.api.calculation_api import calculation_router  # noqa: E402

api.add_router("/", calculation_router)
from tierspayant.api.lots_api import lots_router  # noqa: E402 - lots: beside care

api.add_router("/", lots_router)
from tierspayant.api.invoices_api import invoices_router  # noqa: E402 - corrections (issue 16)

api.add_router("/", invoices_router)
from tierspayant.api.returns_api import returns_router  # noqa: E402 - returns: beside lots

api.add_router("/", returns_router)
