"""The back-office download of a family's attestation (no model admin: attestations are not
stored). ``urls.py`` mounts :func:`backoffice_urlpatterns` under ``admin/`` inside the
admin's namespace (``admin:attestations_download``), behind the back-office's sign-in gate.

Rules: the user needs the view permission on beneficiaries; insurer staff reach only their
insurer's members (the ``BeneficiaryAdmin`` queryset: another insurer's answers 404, like a
canary); each download is counted against the staff member's read quota and logged
(``services.read_attestation_as_staff``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone

from tierspayant.attestations.services import (
    AttestationUnavailable,
    attestation_filename,
    read_attestation_as_staff,
)
from tierspayant.audit.choices import Channel
from tierspayant.audit.context import request_context
from tierspayant.guard.errors import GuardUnavailable, QuotaExceeded
from tierspayant.registry.models import Beneficiary


def attestation_download(request: HttpRequest, beneficiary_id: uuid.UUID) -> HttpResponse:
    """GET ``?annee=AAAA`` (default: this year): the PDF attestation of the beneficiary's
    family. 404 for a member out of the user's scope, 429/503 past the quota or without the
    quota store, 404 with a French message when no rights are open that year."""
    model_admin = admin.site.get_model_admin(Beneficiary)
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    raw_year = request.GET.get("annee", "")
    if raw_year and not (raw_year.isascii() and raw_year.isdigit() and len(raw_year) == 4):
        return HttpResponse(
            "Année invalide : AAAA attendu.", status=400, content_type="text/plain; charset=utf-8"
        )
    year = int(raw_year) if raw_year else timezone.localdate().year
    beneficiary = (
        model_admin.get_queryset(request)
        .select_related("contract", "contract__insurer")
        .filter(pk=beneficiary_id, is_canary=False)
        .first()
    )
    if beneficiary is None or request.user.pk is None:
        raise Http404("Bénéficiaire introuvable.")
    try:
        pdf = read_attestation_as_staff(
            settings.TIERSPAYANT_KEYRING.encryption,
            staff_id=request.user.pk,
            beneficiary=beneficiary,
            year=year,
            context=request_context(request, Channel.BACKOFFICE),
            now=timezone.now(),
            quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
            per_hour=settings.TIERSPAYANT_HISTORY_STAFF_HOURLY_QUOTA,
            per_day=settings.TIERSPAYANT_HISTORY_STAFF_DAILY_QUOTA,
        )
    except QuotaExceeded as refusal:
        return HttpResponse(refusal.message, status=429, content_type="text/plain; charset=utf-8")
    except GuardUnavailable as refusal:
        return HttpResponse(refusal.message, status=503, content_type="text/plain; charset=utf-8")
    except AttestationUnavailable as exc:
        return HttpResponse(str(exc), status=404, content_type="text/plain; charset=utf-8")
    response = HttpResponse(pdf, content_type="application/pdf")
    name = attestation_filename(beneficiary.pk, year)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def backoffice_urlpatterns(site: admin.AdminSite) -> list[URLPattern]:
    """The download page, behind ``site``'s sign-in gate (mounted by ``urls.py``)."""
    return [
        path(
            "attestations/beneficiaire/<uuid:beneficiary_id>/",
            site.admin_view(attestation_download),
            name="attestations_download",
        ),
    ]
