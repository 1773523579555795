"""``/api/v1/returns``: return lines for practice software (token scope ``claims:submit``,
like the lots API), polled with a cursor.

``GET /api/v1/returns?_since=<cursor>&_count=<n>`` answers the token owner's return lines
after ``_since`` (0: from the start), oldest first, at most ``_count`` (default 1,000, at
most 10,000), with ``next_cursor`` to pass next time; ``GET /api/v1/returns.csv`` the same
lines as CSV (``;``, UTF-8). Only the token owner's lines; they carry no personal data, so
a poll writes no disclosure-log row and spends no rights-check quota (docs/returns.md).
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from tierspayant.api.care_api import CLAIMS
from tierspayant.api.schemas import ErrorOut
from tierspayant.returns.selectors import DEFAULT_COUNT, MAX_COUNT, clamp_count, return_lines
from tierspayant.returns.services import lines_csv, poll_json

returns_router = Router(tags=["returns"])

#: Largest cursor a database integer holds.
MAX_CURSOR = 2**63 - 1


class ReasonOut(Schema):
    """A reason code and its French label (docs/returns.md, reason-code table)."""

    code: str
    label: str


class ReturnLineOut(Schema):
    """One return line: an event of one of the token owner's invoices. Amounts are euros
    as strings with two decimals."""

    cursor: int = Field(description="Pass it as _since to get the lines after this one")
    at: str = Field(description="When it happened, ISO 8601 UTC")
    kind: str = Field(description="accepted, rejected, paid, payment_returned, cancelled, ...")
    kind_label: str
    invoice_number: str
    lot_id: int | None
    lot_reference: str
    care_date: str
    amc_number: str = Field(description="The insurer (AMC number) of the invoice")
    billed: str = Field(description="Invoice total billed")
    amc_requested: str = Field(description="AMC share of the invoice as adjudicated")
    amount: str | None = Field(description="The event's amount: AMC accepted, paid, returned...")
    transfer_reference: str = Field(description="SEPA end-to-end id (paid, payment_returned)")
    transfer_date: str | None = Field(description="Transfer execution date (paid)")
    run_reference: str = Field(description="Payment run that recovered an overpayment")
    replacement_number: str = Field(description="Replacing invoice (rectified)")
    deadline: str | None = Field(description="Last day of a dispute (disputed)")
    reasons: list[ReasonOut]


class ReturnsOut(Schema):
    """A page of return lines and the cursor to poll with next."""

    since: int
    next_cursor: int
    more: bool = Field(description="A full page: poll again at once with next_cursor")
    lines: list[ReturnLineOut]


SINCE = Query(0, alias="_since", ge=0, le=MAX_CURSOR, description="Cursor: lines after it")
COUNT = Query(
    DEFAULT_COUNT, alias="_count", ge=1, le=MAX_COUNT, description="Lines per page (at most)"
)


@returns_router.get(
    "/returns",
    auth=CLAIMS,
    response={200: ReturnsOut, 401: ErrorOut, 422: ErrorOut},
    summary="Return lines after a cursor (poll)",
)
def get_returns(request: HttpRequest, since: int = SINCE, count: int = COUNT) -> HttpResponse:
    """The token owner's return lines after ``_since``. Rendered here rather than through
    ``ReturnsOut`` (which documents the shape): validating 10,000 lines again would double
    the poll's time (bench/returns_poll.py); tests/returns check the shape."""
    count = clamp_count(count)
    lines = return_lines(request.auth, since=since, count=count)  # type: ignore[attr-defined]
    body = json.dumps(poll_json(lines, since=since, count=count), ensure_ascii=False)
    return HttpResponse(body, content_type="application/json; charset=utf-8")


@returns_router.get(
    "/returns.csv",
    auth=CLAIMS,
    response={401: ErrorOut, 422: ErrorOut},
    summary="Return lines after a cursor, as CSV",
    openapi_extra={
        "responses": {
            "200": {
                "description": "CSV (`;`, UTF-8 with BOM), one row per return line",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def get_returns_csv(request: HttpRequest, since: int = SINCE, count: int = COUNT) -> HttpResponse:
    """The same lines as ``GET /returns``, as CSV; the next cursor is in the
    ``X-Next-Cursor`` header."""
    lines = return_lines(request.auth, since=since, count=clamp_count(count))  # type: ignore[attr-defined]
    response = HttpResponse(lines_csv(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="retours.csv"'
    response["X-Next-Cursor"] = str(lines[-1].cursor if lines else since)
    return response
