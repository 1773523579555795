"""Portal page "Retours": the professional's latest return lines (accepted, rejected,
paid...), filtered by kind, with the same lines as CSV. Only the professional's own lines;
no personal data (the invoice by number)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tierspayant.invoices.choices import InvoiceEventKind
from tierspayant.portal.decorators import professional_required
from tierspayant.returns.choices import RETURN_KINDS, reason_label
from tierspayant.returns.selectors import latest_return_lines
from tierspayant.returns.services import lines_csv

#: Lines shown on the page (the CSV and the API give every line).
PAGE = 200


def _kind(request: HttpRequest) -> str:
    kind = request.GET.get("type", "")
    return kind if kind in RETURN_KINDS else ""


@professional_required
def returns(request: HttpRequest) -> HttpResponse:
    """The latest return lines, newest first, of the kind chosen (``?type=``)."""
    kind = _kind(request)
    lines = latest_return_lines(request.user.professional, kind=kind, limit=PAGE)  # type: ignore[union-attr]
    return render(
        request,
        "portal/returns.html",
        {
            "lines": [
                {"line": line, "reasons": [(c, reason_label(c)) for c in line.reason_codes]}
                for line in lines
            ],
            "kinds": [(k, InvoiceEventKind(k).label) for k in RETURN_KINDS],
            "kind": kind,
            "page": PAGE,
        },
    )


@professional_required
def returns_csv(request: HttpRequest) -> HttpResponse:
    """The latest 10,000 lines of the chosen kind as CSV (``;``, UTF-8), oldest first like
    the API's."""
    lines = latest_return_lines(request.user.professional, kind=_kind(request), limit=10_000)  # type: ignore[union-attr]
    response = HttpResponse(lines_csv(lines[::-1]), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="retours.csv"'
    return response
