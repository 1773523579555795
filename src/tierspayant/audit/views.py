"""The beneficiary's own access-history page, reached through a signed, expiring link that the
insurer issued (``services.issue_history_link``). No login and no portal: the link is the
credential, it carries internal ids only (never a NIR), and it expires."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tierspayant.audit.selectors import access_history
from tierspayant.audit.services import InvalidHistoryLink, open_history_link


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"  # the link must not leak to other sites
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
def beneficiary_history(request: HttpRequest, token: str) -> HttpResponse:
    """Who consulted my rights, when, why, which information: the page behind the link.
    A link altered, expired, or naming nobody answers 404 with a plain explanation."""
    try:
        beneficiary = open_history_link(token, max_age_days=settings.TIERSPAYANT_AUDIT_LINK_DAYS)
    except InvalidHistoryLink as exc:
        return _private(
            render(request, "audit/history_link_invalid.html", {"expired": exc.expired}, status=404)
        )
    insurer = beneficiary.contract.insurer
    entries = access_history(beneficiary, insurer=insurer)
    return _private(
        render(
            request,
            "audit/beneficiary_history.html",
            {"insurer": insurer, "entries": entries, "days": settings.TIERSPAYANT_AUDIT_LINK_DAYS},
        )
    )
