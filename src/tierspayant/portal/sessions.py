"""What the portal keeps in a session for the guard: when the user signed in and when they
last proved a second factor for a step-up (ISO instants, UTC). The guard's
``sessions_revoked_at`` and ``step_up_required_since`` are compared with them."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

SESSION_AUTH_AT = "guard_auth_at"
SESSION_STEP_UP_AT = "guard_step_up_at"


def stamp(request: HttpRequest, key: str, now: datetime.datetime | None = None) -> None:
    """Record ``now`` (default: the current instant) under ``key`` in the session."""
    request.session[key] = (now or timezone.now()).isoformat()


def session_instant(request: HttpRequest, key: str) -> datetime.datetime | None:
    """The instant recorded under ``key``, or None (absent or unreadable)."""
    raw = request.session.get(key) if hasattr(request, "session") else None
    if not raw:
        return None
    try:
        return datetime.datetime.fromisoformat(str(raw))
    except ValueError:
        return None


def stamp_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: remember when this session was opened."""
    if request is not None and hasattr(request, "session"):
        stamp(request, SESSION_AUTH_AT)
