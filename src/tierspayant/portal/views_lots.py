"""Portal pages of lots of invoices: the professional's lots with a form to send one, and
one lot's progress (a bar that refreshes while workers adjudicate it) and results per
invoice. Only the lot's professional sees it (another's is a 404)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tierspayant.audit.choices import Channel
from tierspayant.invoices.choices import LotFormat, LotStatus
from tierspayant.invoices.lot_formats import LotFormatError
from tierspayant.invoices.lots import LotConfig, receive_lot
from tierspayant.invoices.models import Lot
from tierspayant.invoices.selectors import lot_of, lot_results, lot_summary, lots_of
from tierspayant.invoices.tasks import schedule_lot
from tierspayant.portal.decorators import professional_required

#: Results shown per page of a lot.
PAGE = 100


class LotForm(forms.Form):
    """A lot file and its layout."""

    format = forms.ChoiceField(label="Format", choices=LotFormat.choices)
    file = forms.FileField(label="Fichier du lot")


@professional_required
@require_http_methods(["GET", "POST"])
def lots(request: HttpRequest) -> HttpResponse:
    """The professional's latest lots; POST sends a new one (refused whole, with the
    reason naming line and field, or acknowledged and queued)."""
    professional = request.user.professional  # type: ignore[union-attr]
    form = LotForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            lot = receive_lot(
                LotConfig.from_settings(settings),
                professional=professional,
                lot_format=LotFormat(form.cleaned_data["format"]),
                stream=form.cleaned_data["file"].file,
                channel=Channel.PORTAL,
                now=timezone.now(),
            )
        except LotFormatError as exc:
            form.add_error("file", f"Lot refusé ({exc.refusal.value}) : {exc}.")
        else:
            schedule_lot(lot.pk)
            messages.success(request, f"Lot reçu : {lot.declared_count} factures annoncées.")
            return redirect("portal:lot", lot_id=lot.pk)
    return render(request, "portal/lots.html", {"lots": lots_of(professional), "form": form})


def _shown(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Amounts as Decimal, so the page shows them in French (``7,33``)."""
    for result in results:
        result["total_amc"] = Decimal(result["total_amc"])
        for line in result["lines"]:
            for key in ("billed", "amo", "amc", "rac"):
                line[key] = Decimal(line[key])
    return results


@professional_required
def lot_detail(request: HttpRequest, lot_id: int) -> HttpResponse:
    """One lot: progress, then one result per invoice (AMC per line, reasons in French)."""
    try:
        lot = lot_of(request.user.professional, lot_id)  # type: ignore[union-attr]
    except Lot.DoesNotExist:
        raise Http404 from None
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    return render(
        request,
        "portal/lot_detail.html",
        {
            "lot": lot,
            "summary": lot_summary(lot),
            "running": lot.status != LotStatus.DONE,
            "results": _shown(lot_results(lot, offset=(page - 1) * PAGE, limit=PAGE)),
            "page": page,
            "next_page": page + 1 if page * PAGE < lot.declared_count else None,
        },
    )
