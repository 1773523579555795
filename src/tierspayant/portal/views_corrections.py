"""Portal pages of the professional's invoices after they are sent (issue 16 part 3): the
latest invoices with their state, one invoice's events (payment, cancellation, dispute and
staff's decision...) with French forms to cancel it (confirmed) or dispute it (reason).
Rectification is offered through the API (``POST /api/v1/invoices/{n}/rectify``). Only the
invoice's professional sees it (another's is a 404)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tierspayant.corrections.selectors import invoice_by_id, recent_invoices, timeline
from tierspayant.corrections.services import (
    CorrectionRefused,
    InvoiceNotFound,
    cancel_invoice,
    dispute_deadline,
    dispute_invoice,
)
from tierspayant.invoices.lifecycle import TransitionRefused
from tierspayant.invoices.models import Invoice
from tierspayant.portal.decorators import professional_required


class CancelForm(forms.Form):
    """Why the invoice is cancelled, and the confirmation."""

    reason = forms.CharField(label="Motif de l'annulation", max_length=300)
    confirm = forms.BooleanField(
        label="Je confirme l'annulation de cette facture (définitive)", required=True
    )


class DisputeForm(forms.Form):
    """Why the professional contests the rejection or the payment."""

    reason = forms.CharField(
        label="Motif de la contestation", max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )


def _own(request: HttpRequest, invoice_id: int) -> Invoice:
    invoice = invoice_by_id(request.user.professional.pk, invoice_id)  # type: ignore[union-attr]
    if invoice is None:
        raise Http404
    return invoice


@professional_required
def invoices(request: HttpRequest) -> HttpResponse:
    """The professional's latest invoices (every channel), newest first, with their state."""
    rows = recent_invoices(request.user.professional.pk)  # type: ignore[union-attr]
    return render(request, "portal/invoices.html", {"invoices": rows})


def _page(
    request: HttpRequest,
    invoice: Invoice,
    cancel_form: CancelForm | None = None,
    dispute_form: DisputeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "invoice": invoice,
        "events": timeline(invoice),
        "may_cancel": invoice.status in ("accepted", "paid"),
        "may_dispute": invoice.status in ("rejected", "paid"),
        "dispute_until": dispute_deadline(invoice),
        "cancel_form": cancel_form or CancelForm(),
        "dispute_form": dispute_form or DisputeForm(),
    }
    return render(request, "portal/invoice_detail.html", context, status=status)


@professional_required
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """One invoice: amounts, reasons, the events' timeline, and the forms its state allows."""
    return _page(request, _own(request, invoice_id))


@professional_required
@require_POST
def invoice_cancel(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Cancel the invoice (confirmation and reason required)."""
    invoice = _own(request, invoice_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _page(request, invoice, cancel_form=form, status=400)
    try:
        cancel_invoice(
            request.user.professional,  # type: ignore[union-attr]
            invoice.invoice_number,
            reason=form.cleaned_data["reason"],
            now=timezone.now(),
            actor=request.user,
        )
    except (CorrectionRefused, TransitionRefused, InvoiceNotFound) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(request, f"Facture {invoice.invoice_number} annulée.")
    return redirect("portal:invoice", invoice_id=invoice.pk)


@professional_required
@require_POST
def invoice_dispute(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Dispute the invoice's rejection or payment (reason required)."""
    invoice = _own(request, invoice_id)
    form = DisputeForm(request.POST)
    if not form.is_valid():
        return _page(request, invoice, dispute_form=form, status=400)
    try:
        dispute_invoice(
            request.user.professional,  # type: ignore[union-attr]
            invoice.invoice_number,
            reason=form.cleaned_data["reason"],
            now=timezone.now(),
            actor=request.user,
        )
    except (CorrectionRefused, TransitionRefused, InvoiceNotFound) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(
            request, f"Contestation de la facture {invoice.invoice_number} enregistrée."
        )
    return redirect("portal:invoice", invoice_id=invoice.pk)
