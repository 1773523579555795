"""The middleware path of the token-authenticated interfaces (``/api/`` and ``/fhir/``).

Practice software calls these with a bearer token and no cookie: sessions, CSRF, the
signed-in user, second-factor state, the portal's guard doors (lockdown pages, revoked
sessions), session security and login throttling have nothing to act on there, yet cost
several milliseconds per request. :class:`ApiPathMiddleware` sends those paths through
``settings.TIERSPAYANT_API_MIDDLEWARE`` instead (the response-header middleware: framing,
CSP, ``Cache-Control: no-store``); every other path goes on through the rest of
``settings.MIDDLEWARE`` unchanged. It sits right after ``SecurityMiddleware``, so HTTPS
redirect, HSTS, nosniff and the referrer policy apply to both paths.

What still guards these endpoints is in the request itself: the token (checked on every
request, so a revoked token or a suspended account is refused at once) and the disclosure
gate (``eligibility.services.check_rights``: suspension, quotas, detectors, log row).
Lockdown leaves the APIs open by design (DESIGN.md, section 1, point 7).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

#: Path prefixes served by token-authenticated views only (``tierspayant.urls``).
API_PREFIXES = ("/api/", "/fhir/")

Handler = Callable[[HttpRequest], HttpResponse]


class _ApiHandler(BaseHandler):
    """URL resolution and view call (Django's own) wrapped in the API middleware list only.

    Synchronous, as the platform is served by WSGI."""

    def __init__(self, middleware: list[str]) -> None:
        super().__init__()
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        handler: Any = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for path in reversed(middleware):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


class ApiPathMiddleware:
    """Route ``/api/`` and ``/fhir/`` requests (by ``path_info``, what the URL configuration
    matches) through ``settings.TIERSPAYANT_API_MIDDLEWARE``; others through the rest of
    ``settings.MIDDLEWARE``."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.api = _ApiHandler(settings.TIERSPAYANT_API_MIDDLEWARE)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIXES):
            return self.api._middleware_chain(request)  # type: ignore[no-any-return]
        return self.get_response(request)
