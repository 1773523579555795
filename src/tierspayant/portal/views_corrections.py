"""Portal pages of the professional's invoices after they are sent (issue 16 part 3): the
latest invoices with their state, one invoice's events (payment, cancellation, dispute and
staff's decision...) with French forms to cancel it (confirmed), dispute it (reason) or
rectify it (a replacement under a new number, its lines pre-filled from the original's; as
the API's ``POST /api/v1/invoices/{n}/rectify``). Only the invoice's professional sees it
(another's is a 404)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tierspayant.corrections.selectors import (
    invoice_by_id,
    original_of,
    recent_invoices,
    timeline,
)
from tierspayant.corrections.services import (
    CorrectionRefused,
    InvoiceNotFound,
    cancel_invoice,
    dispute_deadline,
    dispute_invoice,
    rectify_invoice,
)
from tierspayant.invoices.lifecycle import TransitionRefused
from tierspayant.invoices.models import Invoice
from tierspayant.portal.decorators import professional_required
from tierspayant.portal.forms_corrections import (
    BaseLineFormSet,
    RectifyForm,
    line_errors,
    line_formset,
    replacement,
)

#: The French name of a field a refused rectification names (``CorrectionRefused.field``).
_RECTIFY_FIELDS = {
    "invoice.lines": "Lignes",
    "invoice": "Facture rectificative",
}


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
    rectify: tuple[RectifyForm, BaseLineFormSet, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    events = timeline(invoice)
    may_rectify = invoice.status in ("accepted", "paid")
    if rectify is None and may_rectify:
        header = RectifyForm(prefix="rect", initial={"care_date": invoice.care_date.isoformat()})
        rectify = (header, line_formset(invoice), [])
    context = {
        "invoice": invoice,
        "events": events,
        "may_cancel": invoice.status in ("accepted", "paid"),
        "may_dispute": invoice.status in ("rejected", "paid"),
        "may_rectify": may_rectify,
        "dispute_until": dispute_deadline(invoice),
        "cancel_form": cancel_form or CancelForm(),
        "dispute_form": dispute_form or DisputeForm(),
        "rectify_form": rectify[0] if rectify else None,
        "rectify_lines": rectify[1] if rectify else None,
        "rectify_errors": rectify[2] if rectify else [],
        "replaced": original_of(invoice),
        "replacement": next(
            (e.related for e in events if e.kind == "rectified" and e.related), None
        ),
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


@professional_required
@require_POST
def invoice_rectify(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Replace the invoice by a corrected one under a new number (reason required); on
    success, the replacement's page. A refusal (form or service) shows the form again
    (400), the field named, and stores nothing; an invoice whose state changed meanwhile
    (cancelled, rectified...) goes back to its page with the French message."""
    invoice = _own(request, invoice_id)
    header = RectifyForm(request.POST, prefix="rect")
    lines = line_formset(invoice, request.POST)
    header_valid, lines_valid = header.is_valid(), lines.is_valid()
    errors = line_errors(lines)
    if header_valid and lines_valid:
        try:
            done = rectify_invoice(
                request.user.professional,  # type: ignore[union-attr]
                invoice.invoice_number,
                replacement(invoice, header, lines),
                reason=header.cleaned_data["reason"],
                keys=settings.TIERSPAYANT_KEYRING.encryption,
                tables_dir=settings.TIERSPAYANT_GUARANTEE_TABLES_DIR,
                now=timezone.now(),
                actor=request.user,
            )
        except CorrectionRefused as exc:
            if exc.field in ("invoice.invoice_number", "reason"):
                header.add_error(exc.field.removeprefix("invoice."), exc.message)
            else:
                errors.append(f"{_RECTIFY_FIELDS.get(exc.field, 'Facture')} : {exc.message}")
            errors.extend(str(p.get("message", "")) for p in exc.problems)
        except (TransitionRefused, InvoiceNotFound) as exc:
            # The state changed since the page was shown (no form to show it on any more).
            messages.error(request, getattr(exc, "message", str(exc)))
            return redirect("portal:invoice", invoice_id=invoice.pk)
        else:
            assert done.replacement is not None
            messages.success(
                request,
                f"Facture {invoice.invoice_number} rectifiée par la facture "
                f"{done.replacement.invoice_number}.",
            )
            return redirect("portal:invoice", invoice_id=done.replacement.pk)
    return _page(request, invoice, rectify=(header, lines, errors), status=400)
