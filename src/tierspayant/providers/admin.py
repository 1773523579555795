"""Back-office views of professionals and tokens (token secrets are never stored)."""

from django.contrib import admin

from tierspayant.providers.models import ApiToken, Professional


@admin.register(Professional)
class ProfessionalAdmin(admin.ModelAdmin):
    list_display = ["display_name", "profession", "rpps", "adeli", "finess"]
    list_filter = ["profession"]
    search_fields = ["display_name", "rpps", "adeli", "finess"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "professional", "prefix", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["prefix", "secret_hash", "created_at", "last_used_at"]
