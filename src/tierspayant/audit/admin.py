"""Read-only back-office view of the disclosure log."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tierspayant.audit.models import DisclosureLog


@admin.register(DisclosureLog)
class DisclosureLogAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "professional", "channel", "purpose", "outcome", "beneficiary"]
    list_filter = ["outcome", "channel", "purpose"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
