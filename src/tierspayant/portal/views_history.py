"""The beneficiary's own access-history page, reached through a signed, expiring link that the
insurer issued (``audit.services.issue_history_link``). No login and no portal: the link is
the credential, it carries internal ids only (never a NIR), and it expires. Each view of the
page is counted against the link's quota and logged (``eligibility.services.read_own_history``).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tierspayant.audit.choices import Channel
from tierspayant.audit.context import request_context
from tierspayant.audit.services import InvalidHistoryLink, open_history_link
from tierspayant.eligibility.services import read_own_history
from tierspayant.guard.errors import GuardUnavailable, QuotaExceeded


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"  # the link must not leak to other sites
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
def beneficiary_history(request: HttpRequest, token: str) -> HttpResponse:
    """Who consulted my rights, when, why, which information: the page behind the link.
    A link altered, expired, or naming nobody answers 404 with a plain explanation; past the
    link's quota 429 (503 when the quota store is down)."""
    try:
        beneficiary = open_history_link(token, max_age_days=settings.TIERSPAYANT_AUDIT_LINK_DAYS)
    except InvalidHistoryLink as exc:
        return _private(
            render(request, "audit/history_link_invalid.html", {"expired": exc.expired}, status=404)
        )
    try:
        read = read_own_history(
            beneficiary=beneficiary,
            context=request_context(request, Channel.PORTAL),
            now=timezone.now(),
            quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
            per_hour=settings.TIERSPAYANT_HISTORY_LINK_HOURLY_QUOTA,
            per_day=settings.TIERSPAYANT_HISTORY_LINK_DAILY_QUOTA,
        )
    except (QuotaExceeded, GuardUnavailable) as refusal:
        status = 429 if isinstance(refusal, QuotaExceeded) else 503
        return _private(
            render(
                request,
                "audit/history_link_refused.html",
                {"message": refusal.message},
                status=status,
            )
        )
    [(_, entries)] = read.histories
    return _private(
        render(
            request,
            "audit/beneficiary_history.html",
            {
                "insurer": beneficiary.contract.insurer,
                "entries": entries,
                "days": settings.TIERSPAYANT_AUDIT_LINK_DAYS,
            },
        )
    )
