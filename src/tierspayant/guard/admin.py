"""Back-office for the security team: alerts, suspensions (lifted by staff with a reason),
lockdown history, and the security dashboard (server-rendered SVG, no JavaScript)."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from tierspayant.accounts.access import require_recent_second_factor, stepped_up
from tierspayant.accounts.backoffice import ScopedAdmin
from tierspayant.guard.charts import line_chart
from tierspayant.guard.choices import AlertStatus, LockdownLevel
from tierspayant.guard.dashboard import (
    hourly_volume,
    open_alerts,
    suspended_accounts,
    top_accounts_today,
)
from tierspayant.guard.lockdown import lockdown_level, set_lockdown
from tierspayant.guard.models import Alert, LockdownEvent, Suspension
from tierspayant.guard.suspension import NotSuspended, lift_suspension


class ReasonForm(forms.Form):
    """A required reason (logged)."""

    reason = forms.CharField(label="Motif", widget=forms.Textarea(attrs={"rows": 3}))


class LockdownForm(ReasonForm):
    """The level to switch to, with a required reason."""

    level = forms.ChoiceField(label="Niveau", choices=LockdownLevel.choices)


class ReadOnly(ScopedAdmin):
    """The security team's records: operator staff only, written by the guard's services."""

    insurer_path = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnly):
    list_display = [
        "raised_at",
        "kind",
        "severity",
        "action",
        "professional",
        "channel",
        "evidence_summary",
        "status",
    ]
    list_filter = ["status", "severity", "kind", "action"]
    readonly_fields = tuple(f.name for f in Alert._meta.fields)
    actions = ["close_alerts"]

    @admin.display(description="preuves")
    def evidence_summary(self, obj: Alert) -> str:
        """The evidence as staff read it: a French sentence with its figures."""
        return obj.evidence_text()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        """The change page shows the evidence's sentence, never its raw dict."""
        return [f for f in super().get_fields(request, obj) if f != "evidence"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [*super().get_readonly_fields(request, obj), "evidence_summary"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return ScopedAdmin.has_change_permission(self, request, obj)

    @admin.action(description="Marquer comme traitées")
    def close_alerts(self, request: HttpRequest, queryset: Any) -> None:
        queryset.filter(status=AlertStatus.OPEN).update(
            status=AlertStatus.CLOSED, closed_at=timezone.now(), closed_by=request.user
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "tableau-de-bord/",
                self.admin_site.admin_view(self.dashboard),
                name="guard_dashboard",
            ),
            path(
                "confinement/",
                self.admin_site.admin_view(
                    require_recent_second_factor()(require_POST(self.toggle_lockdown))
                ),
                name="guard_lockdown",
            ),
            *super().get_urls(),
        ]

    def dashboard(self, request: HttpRequest) -> HttpResponse:
        """Open alerts, suspended accounts, lookups per hour with baseline, top accounts."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        now = timezone.now()
        level = lockdown_level()
        raw = request.GET.get("professionnel", "")
        professional_id = int(raw) if raw.isdigit() else None
        volume = hourly_volume(now=now, tz=tz, professional_id=professional_id)
        scope = f"compte {professional_id}" if professional_id else "toute la plateforme"
        chart = line_chart(
            {"vérifications": volume.counts, "référence (médiane 4 semaines)": volume.baseline},
            x_labels=volume.labels,
            title=f"Vérifications de droits par heure ({scope})",
            y_label="vérifications",
            dashed=["référence (médiane 4 semaines)"],
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Tableau de bord sécurité",
            "chart": mark_safe(chart),  # noqa: S308 - built here, every text escaped
            "alerts": open_alerts(),
            "suspended": suspended_accounts(),
            "top": top_accounts_today(now=now, tz=tz),
            "level": level,
            "locked": level != LockdownLevel.OPEN,
            "can_lockdown": request.user.has_perm("guard.toggle_lockdown"),
            "stepped_up": stepped_up(request),
            "form": LockdownForm(initial={"level": level.value}),
            "professional_id": professional_id or "",
        }
        return render(request, "admin/guard/dashboard.html", context)

    def toggle_lockdown(self, request: HttpRequest) -> HttpResponse:
        """The lockdown switch: a level (``level``: open, restricted, full; the old
        ``active`` 1/0 means full/open) with a reason. Permission ``guard.toggle_lockdown``,
        operator staff only (the lockdown spans insurers), identity confirmed with a passkey
        in the last few minutes (step-up, ``accounts.access``). Each change is a
        ``LockdownEvent`` and a security event of the staff account."""
        if self._closed_to(request) or not request.user.has_perm("guard.toggle_lockdown"):
            raise PermissionDenied
        data = request.POST.copy()
        if "level" not in data and "active" in data:
            data["level"] = LockdownLevel.FULL if data["active"] == "1" else LockdownLevel.OPEN
        form = LockdownForm(data)
        if form.is_valid():
            level = LockdownLevel(form.cleaned_data["level"])
            set_lockdown(
                level=level,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                source="admin",
                now=timezone.now(),
            )
            messages.success(request, f"Niveau de confinement : {level.label}.")
        else:
            messages.error(request, "Un niveau et un motif sont obligatoires.")
        return redirect(reverse("admin:guard_dashboard"))


@admin.register(Suspension)
class SuspensionAdmin(ReadOnly):
    list_display = ["suspended_at", "professional", "reason_text", "lifted_at", "lifted_by"]
    list_filter = ["reason"]

    @admin.display(description="motif", ordering="reason")
    def reason_text(self, obj: Suspension) -> str:
        return obj.reason_label()

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:suspension_id>/lever/",
                self.admin_site.admin_view(require_recent_second_factor()(self.lift)),
                name="guard_suspension_lift",
            ),
            *super().get_urls(),
        ]

    def lift(self, request: HttpRequest, suspension_id: int) -> HttpResponse:
        """Lift a suspension: staff with ``guard.change_suspension``, with a reason, having
        confirmed their identity with a passkey in the last few minutes (step-up,
        ``accounts.access``; asked before the form is shown, so the reason is not lost)."""
        if not request.user.has_perm("guard.change_suspension"):
            raise PermissionDenied
        suspension = self.get_object(request, str(suspension_id))
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                lift_suspension(
                    professional=suspension.professional,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    now=timezone.now(),
                )
                messages.success(request, "Suspension levée.")
            except NotSuspended:
                messages.error(request, "Ce compte n'est pas suspendu.")
            return redirect(reverse("admin:guard_suspension_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Lever la suspension du compte {suspension.professional_id}",
            "suspension": suspension,
            "form": form,
        }
        return render(request, "admin/guard/lift.html", context)


@admin.register(LockdownEvent)
class LockdownEventAdmin(ReadOnly):
    list_display = ["at", "level", "active", "actor", "source", "reason"]
