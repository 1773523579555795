"""Back-office: insurers' funding (operator staff set it through the service after a passkey
step-up; an insurer's staff read their own),
settlements per run (list with totals by domain, files, a chart of amounts over time) and
the payment-delay report, scoped to the staff member's insurer (``ScopedAdmin``)."""

from __future__ import annotations

import base64
import datetime
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from tierspayant.accounts.access import require_recent_second_factor
from tierspayant.accounts.backoffice import ScopedAdmin, scoped_queryset, staff_insurer_id
from tierspayant.registry.choices import Domain
from tierspayant.registry.models import Insurer
from tierspayant.settlement import charts
from tierspayant.settlement.choices import FundingMode
from tierspayant.settlement.delays import delay_report
from tierspayant.settlement.models import InsurerFunding, InsurerSettlement
from tierspayant.settlement.services import InvalidFunding, set_funding

#: Lines of late invoices a report page lists (the command lists more).
PAGE_LIMIT = 200


def _png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


class FundingForm(forms.Form):
    """An insurer's funding: the IBAN in clear (encrypted by the service, never shown again;
    left empty on a change, the IBAN on file is kept)."""

    insurer = forms.ModelChoiceField(
        label="Organisme complémentaire", queryset=Insurer.objects.order_by("name")
    )
    mode = forms.ChoiceField(label="Mode de financement", choices=FundingMode.choices)
    account_name = forms.CharField(label="Titulaire du compte", max_length=70)
    iban = forms.CharField(
        label="IBAN du compte de l'organisme",
        required=False,
        max_length=34,
        help_text="Chiffré à l'enregistrement ; laisser vide pour conserver l'IBAN enregistré.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    bic = forms.CharField(label="BIC", max_length=11)
    mandate_id = forms.CharField(
        label="Référence du mandat (prélèvement)", max_length=35, required=False
    )
    mandate_date = forms.DateField(label="Date de signature du mandat (AAAA-MM-JJ)", required=False)
    payment_delay_days = forms.IntegerField(
        label="Délai de paiement (jours)", min_value=0, max_value=365, initial=7
    )

    #: The service's field names -> this form's.
    FIELDS = {"holder_name": "account_name"}


@admin.register(InsurerFunding)
class InsurerFundingAdmin(ScopedAdmin):
    """Fundings, read-only (an insurer's staff see their own); operator staff holding
    ``settlement.change_insurerfunding`` set one on the page *Définir le financement d'un
    organisme*, through ``settlement.services.set_funding``, after a passkey step-up."""

    insurer_path = "insurer"
    list_display = [
        "insurer",
        "mode",
        "iban_masked",
        "bic",
        "mandate_id",
        "payment_delay_days",
        "updated_at",
    ]
    readonly_fields = [
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
    fields = tuple(readonly_fields)
    change_list_template = "admin/settlement/insurerfunding_changelist.html"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def may_set(self, request: HttpRequest) -> bool:
        """Operator staff holding ``settlement.change_insurerfunding``."""
        return staff_insurer_id(request.user) is None and request.user.has_perm(
            "settlement.change_insurerfunding"
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        return super().changelist_view(
            request, {**(extra_context or {}), "may_set": self.may_set(request)}
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "definir/",
                self.admin_site.admin_view(self.set_view),
                name="settlement_insurerfunding_set",
            ),
            *super().get_urls(),
        ]

    def set_view(self, request: HttpRequest) -> HttpResponse:
        """Set an insurer's funding (``?organisme=<id>`` fills in the one on file). Refused
        (403) before the step-up to anyone who may not set it."""
        if not self.may_set(request):
            raise PermissionDenied
        return require_recent_second_factor()(self._set)(request)

    def _set(self, request: HttpRequest) -> HttpResponse:
        initial: dict[str, Any] = {}
        chosen = request.GET.get("organisme", "")
        existing = (
            InsurerFunding.objects.filter(insurer_id=chosen).first() if chosen.isdigit() else None
        )
        if existing is not None:
            initial = {
                "insurer": existing.insurer_id,
                "mode": existing.mode,
                "account_name": existing.account_name,
                "bic": existing.bic,
                "mandate_id": existing.mandate_id,
                "mandate_date": existing.mandate_date,
                "payment_delay_days": existing.payment_delay_days,
            }
        form = FundingForm(request.POST or None, initial=initial)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                data = form.cleaned_data
                try:
                    funding = set_funding(
                        settings.TIERSPAYANT_KEYRING.encryption,
                        insurer=data["insurer"],
                        mode=data["mode"],
                        account_name=data["account_name"],
                        iban=data["iban"],
                        bic=data["bic"],
                        mandate_id=data["mandate_id"],
                        mandate_date=data["mandate_date"],
                        payment_delay_days=data["payment_delay_days"],
                        now=timezone.now(),
                    )
                except InvalidFunding as exc:
                    field = FundingForm.FIELDS.get(exc.field, exc.field)
                    form.add_error(field if field in form.fields else None, exc.message)
                else:
                    self.log_change(request, funding, "Financement défini.")
                    messages.success(
                        request,
                        f"Financement de {funding.insurer} enregistré "
                        f"({funding.get_mode_display()}, compte {funding.iban_masked}).",
                    )
                    return redirect(reverse("admin:settlement_insurerfunding_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Définir le financement d'un organisme",
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/settlement/set_funding.html", context, status=status)


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
