"""Back-office: Pro Santé Connect links, for operator staff only.

Staff link an account by the professional's RPPS: the service derives the account and the
identity ("8" + RPPS) from the register, so no form writes an account or an identifier of its
choice (the back-office rule, docs/security.md); a link is never edited, only removed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from tierspayant.accounts.backoffice import ScopedAdmin
from tierspayant.prosanteconnect import services
from tierspayant.prosanteconnect.models import ProSanteConnectLink


class StaffLinkForm(forms.ModelForm):
    """The add form: only the professional's RPPS (11 digits)."""

    rpps = forms.RegexField(
        label="RPPS du professionnel",
        regex=r"^\d{11}$",
        max_length=11,
        error_messages={"invalid": "Le RPPS compte 11 chiffres."},
    )

    class Meta:
        model = ProSanteConnectLink
        fields: tuple[str, ...] = ()

    def clean_rpps(self) -> str:
        rpps = str(self.cleaned_data["rpps"])
        refusal = services.staff_link_refusal(rpps)
        if refusal is not None:
            raise forms.ValidationError(refusal)
        return rpps


@admin.register(ProSanteConnectLink)
class ProSanteConnectLinkAdmin(ScopedAdmin):
    """Links: listed, added by RPPS (through :func:`services.link_professional_by_staff`),
    removed (:func:`services.unlink`); never changed."""

    insurer_path = None
    list_display = ("__str__", "account", "linked_at", "linked_by", "last_used_at")
    readonly_fields = ("account", "national_id", "linked_at", "linked_by", "last_used_at")
    form = StaffLinkForm

    @admin.display(description="compte")
    def account(self, obj: ProSanteConnectLink) -> str:
        return str(obj.user)

    @admin.display(description="RPPS du professionnel")
    def rpps(self, obj: ProSanteConnectLink) -> str:
        return obj.national_id[1:] if obj.national_id.startswith("8") else ""

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("rpps",) if obj is None else self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        link = services.link_professional_by_staff(
            form.cleaned_data["rpps"], staff=request.user, now=timezone.now()
        )
        obj.__dict__.update({k: v for k, v in link.__dict__.items() if not k.startswith("_")})
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.unlink(obj)
