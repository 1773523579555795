"""Back-office: insurers' funding (operator staff edit, an insurer's staff read their own),
settlements per run (list with totals by domain, files, a chart of amounts over time) and
the payment-delay report, scoped to the staff member's insurer (``ScopedAdmin``)."""

from __future__ import annotations

import base64
import datetime
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from tierspayant.accounts.backoffice import ScopedAdmin, scoped_queryset, staff_insurer_id
from tierspayant.registry.choices import Domain
from tierspayant.registry.models import Insurer
from tierspayant.settlement import charts
from tierspayant.settlement.delays import delay_report
from tierspayant.settlement.models import InsurerFunding, InsurerSettlement
from tierspayant.settlement.services import InvalidFunding, check_funding, set_funding

#: Lines of late invoices a report page lists (the command lists more).
PAGE_LIMIT = 200


def _png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


class InsurerFundingForm(forms.ModelForm):  # type: ignore[type-arg]
    """The funding's fields and the IBAN in clear (encrypted on save, never shown again;
    left empty on a change, the IBAN on file is kept)."""

    iban = forms.CharField(
        label="IBAN du compte de l'organisme",
        required=False,
        max_length=34,
        help_text="Chiffré à l'enregistrement ; laisser vide pour conserver l'IBAN enregistré.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = InsurerFunding
        fields = [
            "insurer",
            "mode",
            "account_name",
            "bic",
            "mandate_id",
            "mandate_date",
            "payment_delay_days",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        insurer = data.get("insurer") or getattr(self.instance, "insurer", None)
        if self.errors or insurer is None:
            return data
        try:
            check_funding(
                settings.TIERSPAYANT_KEYRING.encryption,
                insurer=insurer,
                mode=data["mode"],
                account_name=data["account_name"],
                iban=data.get("iban", ""),
                bic=data.get("bic", ""),
                mandate_id=data.get("mandate_id", ""),
                mandate_date=data.get("mandate_date"),
                payment_delay_days=data["payment_delay_days"],
            )
        except InvalidFunding as exc:
            target = exc.field if exc.field in self.fields else None
            if exc.field == "holder_name":
                target = "account_name"
            self.add_error(target, exc.message)
        return data


@admin.register(InsurerFunding)
class InsurerFundingAdmin(ScopedAdmin):
    """Operator staff set an insurer's funding; an insurer's staff only read their own."""

    insurer_path = "insurer"
    form = InsurerFundingForm
    list_display = [
        "insurer",
        "mode",
        "iban_masked",
        "bic",
        "mandate_id",
        "payment_delay_days",
        "updated_at",
    ]
    readonly_fields = ["iban_masked", "updated_at"]

    def _insurer_staff(self, request: HttpRequest) -> bool:
        return staff_insurer_id(request.user) is not None

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return not self._insurer_staff(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._insurer_staff(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = [
            "insurer",
            "mode",
            "account_name",
            "iban_masked",
            "bic",
            "mandate_id",
            "mandate_date",
            "payment_delay_days",
            "updated_at",
        ]
        if self.has_change_permission(request, obj):
            fields.insert(3, "iban")
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and "insurer" not in readonly:
            readonly.append("insurer")  # one funding per insurer: never moved to another
        return readonly

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = set_funding(
            settings.TIERSPAYANT_KEYRING.encryption,
            insurer=data.get("insurer") or obj.insurer,
            mode=data["mode"],
            account_name=data["account_name"],
            iban=data.get("iban", ""),
            bic=data["bic"],
            mandate_id=data.get("mandate_id", ""),
            mandate_date=data.get("mandate_date"),
            payment_delay_days=data["payment_delay_days"],
            now=timezone.now(),
        )
        obj.pk = saved.pk
        obj.refresh_from_db()


@admin.register(InsurerSettlement)
class InsurerSettlementAdmin(ScopedAdmin):
    """Each run's settlement with each insurer, read-only: totals, totals by domain, the
    files to download, a chart of amounts over time; and the payment-delay report."""

    insurer_path = "insurer"
    list_display = [
        "run",
        "execution_date",
        "insurer",
        "funding_mode",
        "paid_count",
        "paid_total",
        "recovered_total",
        "net_total",
        "control_sum",
        "domains",
        "downloads",
    ]
    list_filter = ["insurer"]
    readonly_fields = [
        "run",
        "insurer",
        "created_at",
        "funding_mode",
        "paid_total",
        "recovered_total",
        "net_total",
        "control_sum",
        "transfer_count",
        "paid_count",
        "rejected_count",
        "cancelled_count",
        "recovered_count",
        "domains",
        "downloads",
        "export_sha256",
        "notice_sha256",
        "debit_sha256",
    ]
    fields = tuple(readonly_fields)
    change_list_template = "admin/settlement/insurersettlement_changelist.html"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("run", "insurer")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="date d'exécution", ordering="run__execution_date")
    def execution_date(self, obj: InsurerSettlement) -> datetime.date:
        return obj.run.execution_date

    @admin.display(description="payé par domaine (euros)")
    def domains(self, obj: InsurerSettlement) -> str:
        labels = dict(Domain.choices)
        return (
            ", ".join(
                f"{labels.get(domain, 'Autres')} {amount}"
                for domain, amount in obj.totals_by_domain.items()
            )
            or "-"
        )

    @admin.display(description="fichiers")
    def downloads(self, obj: InsurerSettlement) -> str:
        links = [("export", "export CSV"), ("notice", "avis PDF")]
        if obj.debit_name:
            links.append(("debit", "prélèvement pain.008"))
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:settlement_insurersettlement_file", args=[obj.pk, kind]), label)
                for kind, label in links
            ),
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "retards/",
                self.admin_site.admin_view(self.delays_view),
                name="settlement_insurersettlement_delays",
            ),
            path(
                "<path:object_id>/fichier/<str:kind>/",
                self.admin_site.admin_view(self.file_view),
                name="settlement_insurersettlement_file",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        """The list, with the chart of the settlements in the user's scope (latest 24)."""
        if self.has_view_permission(request):
            insurer_id = staff_insurer_id(request.user)
            shown = list(self.get_queryset(request).order_by("-run__created_at")[:24])
            title = (
                "Montants réglés par campagne"
                if insurer_id is not None
                else "Montants réglés par campagne (tous les organismes)"
            )
            extra_context = {
                **(extra_context or {}),
                "chart": _png_data_uri(charts.amounts_over_time(shown, title=title)),
            }
        return super().changelist_view(request, extra_context)

    def file_view(self, request: HttpRequest, object_id: str, kind: str) -> HttpResponseBase:
        """Download one file of a settlement in the user's scope (404 otherwise)."""
        settlement = self.get_object(request, object_id)
        if not self.has_view_permission(request, settlement):
            raise PermissionDenied
        names = {
            "export": (settlement.export_name, "text/csv"),
            "notice": (settlement.notice_name, "application/pdf"),
            "debit": (settlement.debit_name, "application/xml"),
        }
        if kind not in names or not names[kind][0]:
            raise Http404("fichier introuvable")
        name, content_type = names[kind]
        file_path = Path(settlement.run.directory) / name
        if request.method != "GET":
            raise Http404("fichier introuvable")
        try:
            handle = file_path.open("rb")
        except OSError:
            raise Http404("fichier introuvable") from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"{settlement.run.reference}-{name}",
            content_type=content_type,
        )

    def delays_view(self, request: HttpRequest) -> HttpResponse:
        """The payment-delay report of one insurer in the user's scope: an insurer's staff
        see their own; operator staff pick one (``?organisme=<id>``)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        insurers = scoped_queryset(self.admin_site, request, Insurer).order_by("name")
        chosen = (
            insurers.filter(pk=request.GET.get("organisme", "")).first()
            if (request.GET.get("organisme", "").isdigit())
            else None
        )
        if chosen is None and staff_insurer_id(request.user) is not None:
            chosen = insurers.first()
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Délais de paiement des organismes",
            "insurers": insurers if staff_insurer_id(request.user) is None else [],
            "opts": self.model._meta,
        }
        if chosen is not None:
            report = delay_report(chosen, as_of=timezone.now().astimezone(datetime.UTC).date())
            context.update(
                report=report,
                late=report.late[:PAGE_LIMIT],
                more=max(0, len(report.late) - PAGE_LIMIT),
                chart=_png_data_uri(charts.delay_distribution(report)),
                heading=format_html("{} (AMC {})", chosen.name, chosen.amc_number),
            )
        return render(request, "admin/settlement/delays.html", context)
