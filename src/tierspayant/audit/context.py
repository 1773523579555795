"""Building the audit ``RequestContext`` from a Django request."""

from __future__ import annotations

import uuid

from django.http import HttpRequest

from tierspayant.audit.choices import Channel
from tierspayant.audit.services import RequestContext


def request_context(request: HttpRequest, channel: Channel) -> RequestContext:
    """The context of ``request``: a fresh request id, the peer address (``REMOTE_ADDR``; proxy
    headers are not trusted here) and the user agent; ``actor_id`` is the signed-in user's."""
    user = getattr(request, "user", None)
    return RequestContext(
        channel=channel,
        request_id=uuid.uuid4(),
        ip=request.META.get("REMOTE_ADDR") or None,
        user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:300],
        actor_id=user.pk if user is not None and user.is_authenticated else None,
    )
