"""One gate for untrusted HTTP input, before any view, form or parser sees it.

:class:`InputLimitsMiddleware` sits right after ``SecurityMiddleware``, before the fork of
``api.middleware.ApiPathMiddleware``, so it guards every path: the portal's forms, the
back-office, the passkey endpoints (django-otp-webauthn, signed in or not), ``/api/v1/`` and
``/fhir/r4/``. It refuses, with a 4xx naming the problem and the field (never its value):

- a body larger than ``TIERSPAYANT_JSON_MAX_BYTES`` that is not a form (413);
- a JSON body nested deeper than ``TIERSPAYANT_JSON_MAX_DEPTH`` (400), measured before
  parsing (:func:`tierspayant.text.json_depth`), so no parser ever recurses on it;
- a JSON string or key, a form value or name, or a query-string value holding a control
  character or NUL (400, :mod:`tierspayant.text`); form text areas may hold tab and line
  breaks, nothing else may.

Under ``/fhir/`` the answer is an OperationOutcome whose ``expression`` names the element
(``Claim.item[0].net``); under ``/api/`` and for any other JSON request, ``{"code",
"message", "field"}`` (the API's ``ErrorOut``); otherwise a short French page. A body that
is not JSON is left to the view (which refuses it with its own 400).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict

from tierspayant.text import control_path, first_control, json_depth, shown_name

Handler = Callable[[HttpRequest], HttpResponse]
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class InputRefused(Exception):
    """Input refused before any view: HTTP ``status``, French ``message``, ``field`` (a form
    name or a JSON path, or None)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def _name(field: str) -> str:
    # A field name comes from the client: show it only when it is an identifier.
    return shown_name(field) or "(champ)"


def _check_form(params: QueryDict, where: str) -> None:
    for key in params:
        if first_control(key) is not None:
            raise InputRefused(400, f"Un nom de champ {where} contient un caractère de contrôle.")
        for value in params.getlist(key):
            if first_control(value, multiline=True) is not None:
                raise InputRefused(
                    400,
                    f"Le champ « {_name(key)} » contient un caractère de contrôle ou NUL : "
                    "retirez-le et renvoyez.",
                    _name(key),
                )


def _check_json(body: bytes) -> None:
    limit: int = settings.TIERSPAYANT_JSON_MAX_DEPTH
    if json_depth(body, limit=limit) > limit:
        raise InputRefused(400, f"JSON trop imbriqué : {limit} niveaux au plus.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return  # not JSON: the view refuses it in its own words
    path = control_path(data)
    if path is not None:
        raise InputRefused(
            400,
            f"« {path or 'document'} » contient un caractère de contrôle ou NUL.",
            path or None,
        )


def check_request(request: HttpRequest) -> None:
    """Raise :class:`InputRefused` if ``request`` breaks a limit (see the module)."""
    _check_form(request.GET, "de l'adresse")
    content_type = request.content_type or ""
    if content_type in _FORMS:
        _check_form(request.POST, "du formulaire")
        return
    max_bytes: int = settings.TIERSPAYANT_JSON_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise InputRefused(400, "En-tête Content-Length invalide.") from None
    if length > max_bytes:
        raise InputRefused(413, f"Corps de requête trop grand : {max_bytes} octets au plus.")
    if length:
        _check_json(request.body)


def _fhir_outcome(exc: InputRefused, request: HttpRequest) -> HttpResponse:
    issue: dict[str, Any] = {
        "severity": "error",
        "code": "too-costly" if exc.status == 413 else "invalid",
        "diagnostics": exc.message,
    }
    if exc.field is not None:
        resource = request.path_info.removeprefix("/fhir/r4/").split("/", 1)[0]
        resource = resource if resource.isalpha() else "Resource"
        issue["expression"] = [f"{resource}.{exc.field}"]
    return HttpResponse(
        json.dumps({"resourceType": "OperationOutcome", "issue": [issue]}, ensure_ascii=False),
        status=exc.status,
        content_type="application/fhir+json; charset=utf-8",
    )


def refusal(exc: InputRefused, request: HttpRequest) -> HttpResponse:
    """The answer to ``exc`` in the shape the path speaks (see the module)."""
    if request.path_info.startswith("/fhir/"):
        return _fhir_outcome(exc, request)
    if request.path_info.startswith("/api/") or "json" in (request.content_type or ""):
        body = {"code": "invalid", "message": exc.message, "field": exc.field}
        return JsonResponse(body, status=exc.status, json_dumps_params={"ensure_ascii": False})
    return HttpResponse(
        f"<!doctype html><html lang='fr'><title>Requête refusée</title>"
        f"<p>{escape(exc.message)}</p></html>",
        status=exc.status,
        content_type="text/html; charset=utf-8",
    )


class InputLimitsMiddleware:
    """Refuse oversized, over-nested or control-character input on every path (module)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            check_request(request)
        except InputRefused as exc:
            return refusal(exc, request)
        return self.get_response(request)
