"""Building the audit ``RequestContext`` from a Django request."""

from __future__ import annotations

import uuid

from django.http import HttpRequest

from tierspayant.accounts.throttling import client_ip
from tierspayant.audit.choices import Channel
from tierspayant.audit.services import RequestContext


def request_context(request: HttpRequest, channel: Channel) -> RequestContext:
    """The context of ``request``: a fresh request id, the client's address as the login
    throttle resolves it (:func:`tierspayant.accounts.throttling.client_ip`: the peer, or the
    right-most ``X-Forwarded-For`` entry behind a trusted proxy) and the user agent;
    ``actor_id`` is the signed-in user's. The disclosure log row and the guard's per-address
    features both take their address from here."""
    user = getattr(request, "user", None)
    return RequestContext(
        channel=channel,
        request_id=uuid.uuid4(),
        ip=client_ip(request),
        user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:300],
        actor_id=user.pk if user is not None and user.is_authenticated else None,
        token_id=getattr(request, "tp_api_token_id", None),
    )
