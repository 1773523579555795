"""``/api/v1/lots``: lots of invoices for practice software (token scope ``claims:submit``).

``POST /api/v1/lots`` (multipart: ``file`` the lot, ``format`` ``jsonl`` or ``fhir``) stores
and acknowledges the lot (202) or refuses it whole (422, ``{"code", "message", "field",
"line"}``, nothing stored); ``GET /api/v1/lots`` lists the token owner's lots; ``GET
/api/v1/lots/{id}`` its status and progress; ``GET /api/v1/lots/{id}/results`` one result
per invoice (``offset``, ``limit``). Another professional's lot is a 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from tierspayant.api.care_api import CLAIMS
from tierspayant.audit.choices import Channel
from tierspayant.invoices.choices import LotFormat
from tierspayant.invoices.lot_formats import LotFormatError
from tierspayant.invoices.lots import LotConfig, receive_lot
from tierspayant.invoices.models import Lot
from tierspayant.invoices.selectors import lot_of, lot_results, lot_summary, lots_of
from tierspayant.invoices.tasks import schedule_lot

lots_router = Router(tags=["lots"])


def _error(code: str, message: str, field: str = "", line: int | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field, "line": line}


@lots_router.post(
    "/lots", auth=CLAIMS, response={202: dict, 422: dict}, summary="Send a lot of invoices"
)
def post_lot(
    request: HttpRequest, file: File[UploadedFile], format: Form[str] = "jsonl"
) -> Status[dict[str, Any]]:
    """Store and acknowledge a lot; its invoices are adjudicated by workers."""
    if format not in LotFormat.values:
        return Status(422, _error("invalid", "format : jsonl ou fhir", "format"))
    try:
        lot = receive_lot(
            LotConfig.from_settings(settings),
            professional=request.auth,  # type: ignore[attr-defined]
            lot_format=LotFormat(format),
            stream=file.file,  # type: ignore[arg-type]  # an open upload
            channel=Channel.API,
            now=timezone.now(),
        )
    except LotFormatError as exc:
        return Status(422, {**exc.to_dict(), "message": str(exc)})
    schedule_lot(lot.pk)
    lot.refresh_from_db()
    return Status(202, lot_summary(lot))


@lots_router.get("/lots", auth=CLAIMS, response=list[dict], summary="The token owner's latest lots")
def get_lots(request: HttpRequest) -> list[dict[str, Any]]:
    professional = request.auth  # type: ignore[attr-defined]
    return [lot_summary(lot) for lot in lots_of(professional)]


@lots_router.get(
    "/lots/{lot_id}",
    auth=CLAIMS,
    response={200: dict, 404: dict},
    summary="A lot's status and progress",
)
def get_lot(request: HttpRequest, lot_id: int) -> Status[dict[str, Any]]:
    try:
        lot = lot_of(request.auth, lot_id)  # type: ignore[attr-defined]
        return Status(200, lot_summary(lot))
    except Lot.DoesNotExist:
        return Status(404, _error("not_found", "Lot introuvable."))


@lots_router.get(
    "/lots/{lot_id}/results",
    auth=CLAIMS,
    response={200: dict, 404: dict},
    summary="One result per invoice",
)
def get_lot_results(
    request: HttpRequest, lot_id: int, offset: int = 0, limit: int = 100
) -> Status[Any]:
    try:
        lot = lot_of(request.auth, lot_id)  # type: ignore[attr-defined]
    except Lot.DoesNotExist:
        return Status(404, _error("not_found", "Lot introuvable."))
    limit = max(1, min(limit, 1000))
    return Status(
        200,
        {
            **lot_summary(lot),
            "offset": max(offset, 0),
            "results": lot_results(lot, offset=max(offset, 0), limit=limit),
        },
    )
