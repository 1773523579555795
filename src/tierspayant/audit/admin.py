"""Back-office views of the disclosure log, scoped per insurer.

Operator staff see the whole log. Insurer staff (``registry.InsurerStaff``) see only the rows
naming their own insurer's beneficiaries, and reach a person's access history by internal id
or by NIR and birth date (sent in a POST body, never in a URL); from there they can issue the
signed, expiring link for the person's own page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from tierspayant.accounts.backoffice import ScopedAdmin
from tierspayant.audit.models import DisclosureLog, InsurerApiToken
from tierspayant.audit.selectors import (
    InvalidIdentity,
    access_history,
    insurer_beneficiaries_by_identity,
    staff_insurer,
    visible_beneficiary,
)
from tierspayant.audit.services import issue_history_link, revoke_insurer_token


class IdentityForm(forms.Form):
    nir = forms.CharField(label="NIR (15 caractères)", max_length=21, strip=True)
    birth_date = forms.DateField(
        label="Date de naissance", widget=forms.DateInput(attrs={"type": "date"})
    )


@admin.register(DisclosureLog)
class DisclosureLogAdmin(ScopedAdmin):
    insurer_path = "beneficiary__contract__insurer"
    list_display = [
        "occurred_at",
        "professional",
        "channel",
        "purpose",
        "outcome",
        "beneficiary",
        "seq",
    ]
    list_filter = ["outcome", "channel", "purpose"]
    exclude = ["prev_hash", "row_hash"]
    change_list_template = "admin/audit/disclosurelog/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("historique/", wrap(self.access_history_search), name="audit_history_search"),
            path(
                "historique/<uuid:beneficiary_id>/",
                wrap(self.access_history_view),
                name="audit_history",
            ),
            *super().get_urls(),
        ]

    def _allowed(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def access_history_search(self, request: HttpRequest) -> HttpResponse:
        """Find a beneficiary of the user's insurer by NIR and birth date (POST only)."""
        self._allowed(request)
        form = IdentityForm(request.POST or None)
        matches = None
        if request.method == "POST" and form.is_valid():
            try:
                matches = insurer_beneficiaries_by_identity(
                    settings.TIERSPAYANT_KEYRING,
                    insurer=staff_insurer(request.user),
                    nir=form.cleaned_data["nir"],
                    birth_date=form.cleaned_data["birth_date"],
                )
            except InvalidIdentity:
                form.add_error("nir", "NIR invalide (15 caractères, clé comprise).")
            else:
                if len(matches) == 1:
                    return HttpResponseRedirect(
                        reverse("admin:audit_history", args=[matches[0].pk])
                    )
                if not matches:
                    messages.warning(
                        request, "Aucun bénéficiaire de votre organisme ne correspond."
                    )
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Historique des accès d'un bénéficiaire",
            "matches": matches,
        }
        return TemplateResponse(request, "admin/audit/history_search.html", context)

    def access_history_view(self, request: HttpRequest, beneficiary_id: Any) -> HttpResponse:
        """A beneficiary's access history, and (POST) a fresh link for the person's page."""
        self._allowed(request)
        insurer = staff_insurer(request.user)
        beneficiary = visible_beneficiary(beneficiary_id, insurer=insurer)
        if beneficiary is None:
            raise Http404("bénéficiaire inconnu de votre organisme")
        link = None
        if request.method == "POST" and "issue_link" in request.POST:
            token = issue_history_link(
                beneficiary=beneficiary, insurer=beneficiary.contract.insurer
            )
            link = request.build_absolute_uri(reverse("audit-beneficiary-history", args=[token]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Historique des accès — bénéficiaire {beneficiary.pk}",
            "beneficiary": beneficiary,
            "entries": access_history(beneficiary, insurer=insurer),
            "link": link,
            "link_days": settings.TIERSPAYANT_AUDIT_LINK_DAYS,
        }
        return TemplateResponse(request, "admin/audit/history.html", context)


@admin.register(InsurerApiToken)
class InsurerApiTokenAdmin(ScopedAdmin):
    """Insurers' tokens: issued by ``tierspayant create-insurer-token``, revocable here."""

    insurer_path = "insurer"

    list_display = ["name", "insurer", "prefix", "scopes", "expires_at", "revoked_at"]
    list_filter = ["insurer"]
    readonly_fields = [
        "insurer",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    exclude = ["secret_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Révoquer les jetons sélectionnés")
    def revoke(self, request: HttpRequest, queryset: QuerySet[InsurerApiToken]) -> None:
        now = timezone.now()
        for token in queryset:
            revoke_insurer_token(token=token, now=now)
