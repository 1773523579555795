"""Back-office views of the register. Ciphertexts and blind indexes are never shown."""

from django.contrib import admin

from tierspayant.registry.models import Beneficiary, Contract, Insurer


@admin.register(Insurer)
class InsurerAdmin(admin.ModelAdmin):
    list_display = ["name", "amc_number"]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["number", "insurer", "contract_type", "responsible", "valid_from", "valid_to"]
    list_filter = ["insurer", "contract_type", "responsible"]


@admin.register(Beneficiary)
class BeneficiaryAdmin(admin.ModelAdmin):
    list_display = ["id", "contract", "quality", "rights_start", "rights_end"]
    list_filter = ["quality", "contract__insurer"]
    exclude = ["nir_ciphertext", "birth_date_ciphertext", "identity_index"]
    readonly_fields = ["id"]
