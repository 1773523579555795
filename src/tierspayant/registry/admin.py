"""Back-office views of the register, scoped per insurer (``accounts.backoffice``).
Ciphertexts and blind indexes are never shown; the canary flag only to the operator's
security role, and never written here (``guard.canaries`` plants canaries)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from tierspayant.accounts.backoffice import ScopedAdmin, staff_insurer_id
from tierspayant.registry.models import Beneficiary, Contract, Insurer


@admin.register(Insurer)
class InsurerAdmin(ScopedAdmin):
    insurer_path = "pk"
    list_display = ["name", "amc_number"]

    # Insurer staff see their own insurer; only the operator adds or changes insurers.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return staff_insurer_id(request.user) is None and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return staff_insurer_id(request.user) is None and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return staff_insurer_id(request.user) is None and super().has_delete_permission(
            request, obj
        )


@admin.register(Contract)
class ContractAdmin(ScopedAdmin):
    insurer_path = "insurer"
    list_display = ["number", "insurer", "contract_type", "responsible", "valid_from", "valid_to"]
    list_filter = ["insurer", "contract_type", "responsible"]


@admin.register(Beneficiary)
class BeneficiaryAdmin(ScopedAdmin):
    insurer_path = "contract__insurer"
    security_fields = ["is_canary"]
    list_display = ["id", "contract", "quality", "rights_start", "rights_end", "is_canary"]
    list_filter = ["quality", "contract__insurer", "is_canary"]
    exclude = [
        "nir_ciphertext",
        "birth_date_ciphertext",
        "identity_index",
        "member_number_ciphertext",
        "member_number_index",
    ]
    readonly_fields = ["id", "attestation"]

    @admin.display(description="attestation de tiers payant")
    def attestation(self, obj: Beneficiary) -> str:
        """A link to the family's attestation for this year (``attestations.admin``: counted
        and logged when followed)."""
        if obj.pk is None or obj.is_canary:
            return "-"
        url = reverse("admin:attestations_download", args=[obj.pk])
        return format_html('<a href="{}">Télécharger l\'attestation (PDF)</a>', url)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Members arrive through the member file (``registry.services``: NIR encrypted and
        indexed), never typed here."""
        return False
