"""The back-office's access-history pages: a member found by NIR and birth date (POST body,
never a URL) or by internal id, their consultations, and the signed link for their own page.

They live here, not in ``audit/admin.py``, because every read goes through
``eligibility.services.read_history_as_staff`` (counted against the staff member's read quota
and logged in the disclosure log), and the layers forbid ``audit`` from importing
``eligibility``. They are mounted under the back-office's URLs (``admin:audit_history_search``
and ``admin:audit_history``, behind ``admin.site.admin_view``) by :data:`urlpatterns`, ahead of
the admin's own, with the rules of ``DisclosureLogAdmin``: the ``view_disclosurelog``
permission; insurer staff reach only their insurer's members (another's: 404); operator
staff reach every member.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from tierspayant.accounts.backoffice import staff_insurer
from tierspayant.audit.choices import Channel
from tierspayant.audit.context import request_context
from tierspayant.audit.models import DisclosureLog
from tierspayant.audit.selectors import (
    InvalidIdentity,
    insurer_beneficiaries_by_identity,
    visible_beneficiary,
)
from tierspayant.audit.services import issue_history_link
from tierspayant.eligibility.services import HistoryRead, read_history_as_staff
from tierspayant.guard.errors import GuardUnavailable, QuotaExceeded
from tierspayant.registry.models import Beneficiary, Insurer


class IdentityForm(forms.Form):
    nir = forms.CharField(label="NIR (15 caractères)", max_length=21, strip=True)
    birth_date = forms.DateField(
        label="Date de naissance", widget=forms.DateInput(attrs={"type": "date"})
    )


def _insurer_of_allowed_staff(request: HttpRequest) -> Insurer | None:
    """The insurer the user works for (None: operator); PermissionDenied without the
    disclosure log's view permission (the rule of ``DisclosureLogAdmin``)."""
    if not admin.site.get_model_admin(DisclosureLog).has_view_permission(request):
        raise PermissionDenied
    insurer: Insurer | None = staff_insurer(request.user)
    return insurer


def _read(
    request: HttpRequest, insurer: Insurer | None, find: Callable[[], list[Beneficiary]]
) -> HistoryRead:
    """Raises QuotaExceeded, GuardUnavailable or InvalidIdentity (see the service)."""
    staff_id = request.user.pk
    if staff_id is None:  # admin_view lets only signed-in staff through: never reached
        raise PermissionDenied
    return read_history_as_staff(
        staff_id=staff_id,
        insurer=insurer,
        find=find,
        context=request_context(request, Channel.BACKOFFICE),
        now=timezone.now(),
        quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
        per_hour=settings.TIERSPAYANT_HISTORY_STAFF_HOURLY_QUOTA,
        per_day=settings.TIERSPAYANT_HISTORY_STAFF_DAILY_QUOTA,
    )


def _refused(request: HttpRequest, refusal: QuotaExceeded | GuardUnavailable) -> HttpResponse:
    """429 past the staff member's quota, 503 when the quota store is down; in French."""
    context = {
        **admin.site.each_context(request),
        "title": "Consultation refusée",
        "message": refusal.message,
        "quota": isinstance(refusal, QuotaExceeded),
    }
    status = 429 if isinstance(refusal, QuotaExceeded) else 503
    return TemplateResponse(request, "admin/audit/history_refused.html", context, status=status)


def _histories(
    request: HttpRequest, read: HistoryRead, *, title: str, link: str | None = None
) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": title,
        "histories": read.histories,
        "link": link,
        "link_days": settings.TIERSPAYANT_AUDIT_LINK_DAYS,
    }
    return TemplateResponse(request, "admin/audit/history.html", context)


def access_history_search(request: HttpRequest) -> HttpResponse:
    """Find the user's insurer's members by NIR and birth date (POST only) and show their
    histories at once (several when birth ranks share the identity): one counted, logged
    read. None found: a warning, and a ``no_match`` row."""
    insurer = _insurer_of_allowed_staff(request)
    form = IdentityForm(request.POST or None)
    searched = False
    if request.method == "POST" and form.is_valid():
        nir, born = form.cleaned_data["nir"], form.cleaned_data["birth_date"]
        try:
            read = _read(
                request,
                insurer,
                lambda: insurer_beneficiaries_by_identity(
                    settings.TIERSPAYANT_KEYRING, insurer=insurer, nir=nir, birth_date=born
                ),
            )
        except (QuotaExceeded, GuardUnavailable) as refusal:
            return _refused(request, refusal)
        except InvalidIdentity:
            form.add_error("nir", "NIR invalide (15 caractères, clé comprise).")
        else:
            if read.histories:
                return _histories(request, read, title="Historique des accès d'un bénéficiaire")
            searched = True
    context = {
        **admin.site.each_context(request),
        "form": form,
        "title": "Historique des accès d'un bénéficiaire",
        "no_match": searched,
    }
    return TemplateResponse(request, "admin/audit/history_search.html", context)


def access_history_view(request: HttpRequest, beneficiary_id: Any) -> HttpResponse:
    """A member's access history by internal id (404 if not the user's insurer's: logged as
    ``no_match``), and (POST ``issue_link``) a fresh link for the person's own page."""
    insurer = _insurer_of_allowed_staff(request)
    try:
        read = _read(
            request,
            insurer,
            lambda: [
                b for b in [visible_beneficiary(beneficiary_id, insurer=insurer)] if b is not None
            ],
        )
    except (QuotaExceeded, GuardUnavailable) as refusal:
        return _refused(request, refusal)
    if not read.histories:
        raise Http404("bénéficiaire inconnu de votre organisme")
    [(beneficiary, _)] = read.histories
    link = None
    if request.method == "POST" and "issue_link" in request.POST:
        token = issue_history_link(beneficiary=beneficiary, insurer=beneficiary.contract.insurer)
        link = request.build_absolute_uri(reverse("audit-beneficiary-history", args=[token]))
    return _histories(
        request, read, title=f"Historique des accès — bénéficiaire {beneficiary.pk}", link=link
    )


def backoffice_urlpatterns(site: admin.AdminSite) -> list[URLPattern]:
    """These pages, behind ``site``'s sign-in gate; urls.py mounts them first under
    ``admin/``, inside the admin's namespace (ahead of the disclosure log's own URLs, whose
    ``<path:object_id>/`` would otherwise take ``historique/``)."""
    return [
        path(
            "audit/disclosurelog/historique/",
            site.admin_view(access_history_search),
            name="audit_history_search",
        ),
        path(
            "audit/disclosurelog/historique/<uuid:beneficiary_id>/",
            site.admin_view(access_history_view),
            name="audit_history",
        ),
    ]
