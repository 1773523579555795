"""Back-office of corrections (issue 16 part 4): the overpayment ledger (entries, read-only;
balances per professional and insurer, with the write-off of an invoice's overpayment) and
the queue of open disputes with its decision page. Insurer staff reach only their insurer's
entries and invoices (``ScopedAdmin``); a row out of scope answers 404.

Deciding needs ``corrections.decide_dispute``; writing off needs ``corrections.write_off``
and a recent passkey check (step-up), as the other sensitive staff actions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from tierspayant.accounts.access import step_up_redirect, stepped_up
from tierspayant.accounts.backoffice import ScopedAdmin, scoped_queryset
from tierspayant.corrections.models import LedgerEntry
from tierspayant.corrections.selectors import ledger_lines, open_disputes, timeline
from tierspayant.corrections.services import (
    CorrectionRefused,
    InvoiceNotFound,
    decide_dispute,
    outstanding,
    write_off,
)
from tierspayant.invoices.lifecycle import TransitionRefused
from tierspayant.invoices.models import Invoice
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Insurer

DECIDE_PERMISSION = "corrections.decide_dispute"
WRITE_OFF_PERMISSION = "corrections.write_off"


class DisputeDecisionForm(forms.Form):
    """Staff's decision on a dispute, with the reason the professional will read."""

    decision = forms.ChoiceField(
        label="Décision",
        choices=[("upheld", "Contestation fondée"), ("dismissed", "Contestation rejetée")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Motif (communiqué au professionnel)",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class WriteOffForm(forms.Form):
    """The amount given up (euros) and why."""

    amount = forms.DecimalField(
        label="Montant abandonné (€)", min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    reason = forms.CharField(
        label="Motif de l'abandon", max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ScopedAdmin):
    """Entries of the overpayment ledger, read-only (they are written by services)."""

    insurer_path = "insurer"
    list_display = [
        "at",
        "professional",
        "insurer",
        "invoice",
        "kind",
        "amount",
        "run_reference",
        "reason",
    ]
    list_filter = ["kind"]
    readonly_fields = tuple(f.name for f in LedgerEntry._meta.fields if f.name != "id")
    change_list_template = "admin/corrections/ledgerentry/change_list.html"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("soldes/", view(self.balances_view), name="corrections_balances"),
            path(
                "soldes/<int:invoice_id>/abandon/",
                view(self.write_off_view),
                name="corrections_write_off",
            ),
            path("contestations/", view(self.disputes_view), name="corrections_disputes"),
            path(
                "contestations/<int:invoice_id>/decision/",
                view(self.decide_view),
                name="corrections_decide",
            ),
            *super().get_urls(),
        ]

    # --- helpers ------------------------------------------------------------------------

    def _invoices(self, request: HttpRequest) -> QuerySet[Invoice]:
        """The invoices the staff member may reach (the invoices admin's scope)."""
        return scoped_queryset(self.admin_site, request, Invoice)

    def _invoice(self, request: HttpRequest, invoice_id: int) -> Invoice:
        invoice = (
            self._invoices(request)
            .select_related("professional", "insurer")
            .filter(pk=invoice_id)
            .first()
        )
        if invoice is None:
            raise Http404("objet introuvable")
        return invoice

    def _page(
        self, request: HttpRequest, template: str, title: str, status: int = 200, **extra: Any
    ) -> HttpResponse:
        context = {**self.admin_site.each_context(request), "title": title, **extra}
        return render(request, f"admin/corrections/{template}", context, status=status)

    # --- ledger -------------------------------------------------------------------------

    def balances_view(self, request: HttpRequest) -> HttpResponse:
        """Each professional's balance with each insurer and the invoices still owing,
        largest first, within the staff member's scope."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        lines = ledger_lines(self.get_queryset(request))[:200]
        professionals = Professional.objects.in_bulk({line.professional_id for line in lines})
        insurers = Insurer.objects.in_bulk({line.insurer_id for line in lines})
        rows = [
            {
                "professional": professionals[line.professional_id],
                "insurer": insurers[line.insurer_id],
                "total": line.total,
                "invoices": [
                    {
                        "invoice": invoice,
                        "amount": amount,
                        "url": reverse("admin:corrections_write_off", args=[invoice.pk]),
                    }
                    for invoice, amount in line.invoices
                ],
            }
            for line in lines
        ]
        may_write_off = request.user.has_perm(WRITE_OFF_PERMISSION)
        return self._page(
            request, "balances.html", "Soldes des indus", rows=rows, may_write_off=may_write_off
        )

    def write_off_view(self, request: HttpRequest, invoice_id: int) -> HttpResponse:
        """Write off (part of) the overpayment of one invoice: amount and reason required,
        never more than is owed; a recent passkey check before the POST is taken."""
        if not (self.has_view_permission(request) and request.user.has_perm(WRITE_OFF_PERMISSION)):
            raise PermissionDenied
        invoice = self._invoice(request, invoice_id)
        if not self.get_queryset(request).filter(invoice=invoice).exists():
            raise Http404("objet introuvable")
        if request.method == "POST" and not stepped_up(request):
            return step_up_redirect(request)
        owed = outstanding(invoice)
        form = WriteOffForm(request.POST or None, initial={"amount": owed})
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    write_off(
                        request.user,
                        invoice.professional,
                        invoice.insurer,  # type: ignore[arg-type]
                        invoice,
                        amount=form.cleaned_data["amount"],
                        reason=form.cleaned_data["reason"],
                        now=timezone.now(),
                    )
                except CorrectionRefused as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                    status = 400
                except (TransitionRefused, InvoiceNotFound) as exc:
                    messages.error(request, str(exc))
                    status = 409
                else:
                    messages.success(
                        request, f"Indu de la facture {invoice.invoice_number} abandonné."
                    )
                    return redirect(reverse("admin:corrections_balances"))
            else:
                status = 400
        return self._page(
            request,
            "write_off.html",
            f"Abandonner l'indu de la facture {invoice.invoice_number}",
            status=status,
            invoice=invoice,
            owed=owed,
            form=form,
        )

    # --- disputes -----------------------------------------------------------------------

    def disputes_view(self, request: HttpRequest) -> HttpResponse:
        """Open disputes within the staff member's scope, overdue first, then nearest
        deadline."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.now().date()
        rows = [
            {"dispute": d, "url": reverse("admin:corrections_decide", args=[d.invoice.pk])}
            for d in open_disputes(self._invoices(request), today)[:200]
        ]
        may_decide = request.user.has_perm(DECIDE_PERMISSION)
        return self._page(
            request,
            "disputes.html",
            "Contestations à décider",
            rows=rows,
            may_decide=may_decide,
            today=today,
        )

    def decide_view(self, request: HttpRequest, invoice_id: int) -> HttpResponse:
        """One disputed invoice: its events, the dispute's reason and deadline, and the
        decision form (reason required). Out of scope or unknown: 404."""
        if not (self.has_view_permission(request) and request.user.has_perm(DECIDE_PERMISSION)):
            raise PermissionDenied
        invoice = self._invoice(request, invoice_id)
        form = DisputeDecisionForm(request.POST or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    decide_dispute(
                        request.user,
                        invoice,
                        upheld=form.cleaned_data["decision"] == "upheld",
                        reason=form.cleaned_data["reason"],
                        now=timezone.now(),
                    )
                except CorrectionRefused as exc:
                    form.add_error("reason", exc.message)
                    status = 400
                except (TransitionRefused, InvoiceNotFound) as exc:
                    messages.error(request, str(exc))
                    status = 409
                else:
                    messages.success(
                        request,
                        f"Contestation de la facture {invoice.invoice_number} décidée ; "
                        "le professionnel la voit sur la page de sa facture.",
                    )
                    return redirect(reverse("admin:corrections_disputes"))
            else:
                status = 400
        events = timeline(invoice)
        disputed = [e for e in events if e.kind == "disputed"]
        return self._page(
            request,
            "decide.html",
            f"Décider la contestation de la facture {invoice.invoice_number}",
            status=status,
            invoice=invoice,
            events=events,
            dispute=disputed[-1] if disputed else None,
            open=invoice.status == "disputed",
            form=form,
        )
