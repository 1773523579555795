"""django-axes callables: the client address behind our single reverse proxy, usernames
normalised before counting, and a cool-off that grows with each lockout of the day.

Settings (see ``settings.py``):

- ``TIERSPAYANT_TRUSTED_PROXY_IPS``: the proxy's own addresses. Only when the TCP peer
  (``REMOTE_ADDR``) is one of them is ``X-Forwarded-For`` read, and then only its
  right-most entry, the one that proxy appended. An attacker's own ``X-Forwarded-For``
  entries sit to the left and are ignored, so they cannot reset the count (ASVS 5.0
  V6.3.1 / V6.1.1 throttling; OWASP "X-Forwarded-For spoofing").
- ``AXES_COOLOFF_TIME`` points at :func:`cool_off`: ``TIERSPAYANT_LOGIN_COOLOFF`` doubled
  for each earlier lockout of the same (normalised) username within 24 h, capped at
  ``TIERSPAYANT_LOGIN_COOLOFF_MAX``. A lock always ends (no permanent lockout an attacker
  could use to deny service, NIST SP 800-63B-4 §3.2.2 rate limiting, at most 100 failures).
- a successful sign-in forgives the failures of *that username* only (:func:`_forgive_own_failures`;
  ``AXES_RESET_ON_SUCCESS`` is off). axes's own reset on success also deletes every failure
  recorded from the client's address, whatever the username: an attacker would then guess
  a victim's password twice, sign in to their own account from the same address, and start
  again, never reaching the victim's lock (issue 13).
- ``AXES_CLIENT_STR_CALLABLE`` points at :func:`client_str`: axes's log lines name a client
  by keyed tags of its username and address, never the values (a username often carries the
  professional's name; an address is personal data), ASVS 5.0 V16.2.5.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import unicodedata
from typing import Any

from axes.signals import user_locked_out
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

_LOG_SALT = "tierspayant.accounts.throttling.log"
_EPISODE = "tp:axes:episode:"
_COUNT = "tp:axes:lockouts:"
_DAY = 24 * 3600


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or the right-most ``X-Forwarded-For`` entry when
    ``REMOTE_ADDR`` is a configured trusted proxy. Returns None when nothing parses."""
    peer = request.META.get("REMOTE_ADDR") or None
    trusted = set(getattr(settings, "TIERSPAYANT_TRUSTED_PROXY_IPS", []))
    if peer and peer in trusted:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        entries = [e.strip() for e in forwarded.split(",") if e.strip()]
        if entries:
            candidate = entries[-1]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                return peer
    return peer


def normalise_username(raw: str | None) -> str | None:
    """Unicode NFKC, outer spaces removed, case folded: ``" Pro1 "`` and ``"PRO1"`` count as one
    username (ASVS 5.0 V6.3.1: the throttle cannot be dodged by spelling variants)."""
    if raw is None:
        return None
    return unicodedata.normalize("NFKC", raw).strip().casefold()


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the normalised username of the attempt."""
    field: str = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")
    raw = (credentials or {}).get(field)
    if raw is None and request is not None:
        data = getattr(request, "data", None) or request.POST
        raw = data.get(field)
    return normalise_username(raw)


def _key(prefix: str, username: str | None) -> str:
    return prefix + hashlib.sha256((username or "").encode()).hexdigest()


def cool_off(request: HttpRequest | None) -> datetime.timedelta:
    """``AXES_COOLOFF_TIME``: base × 2^(earlier lockouts of this username today), capped."""
    base: datetime.timedelta = settings.TIERSPAYANT_LOGIN_COOLOFF
    ceiling: datetime.timedelta = settings.TIERSPAYANT_LOGIN_COOLOFF_MAX
    username = axes_username(request, None) if request is not None else None
    lockouts = int(cache.get(_key(_COUNT, username), 0))
    doublings = min(max(lockouts - 1, 0), 20)  # 2^20 x base is past any sane ceiling
    return min(base * (2**doublings), ceiling)


@receiver(user_locked_out)
def _count_lockout(sender: object, request: HttpRequest, username: str | None, **_: Any) -> None:
    """Count one lockout per episode (axes signals again on each refused attempt while
    locked; the episode key, alive for the current cool-off, absorbs those)."""
    name = normalise_username(username)
    episode = _key(_EPISODE, name)
    if cache.get(episode):
        return
    count_key = _key(_COUNT, name)
    lockouts = int(cache.get(count_key, 0)) + 1
    cache.set(count_key, lockouts, _DAY)
    current = cool_off(request)
    cache.set(episode, 1, int(current.total_seconds()))


@receiver(user_logged_in)
def _forgive_own_failures(sender: object, user: Any, **_: Any) -> None:
    """After a successful password step, delete the failures recorded under this account's
    (normalised) username, from every address; failures of other usernames stay counted,
    even those from the same address. (axes's ``reset`` deletes *everything* when given no
    username: an account without one resets nothing.)"""
    username = normalise_username(user.get_username())
    if username:
        axes_reset(username=username)


def _tag(value: object) -> str:
    if value in (None, ""):
        return "-"
    return salted_hmac(_LOG_SALT, str(value)).hexdigest()[:12]


def client_str(
    username: str | None,
    ip_address: str | None,
    user_agent: str | None,
    path_info: object,
    request: HttpRequest | None,
) -> str:
    """How axes names a client in its log lines (``AXES_CLIENT_STR_CALLABLE``):
    ``client(user=<tag>, ip=<tag>, path=/connexion/)``, where a tag is the first 12 hex
    digits of an HMAC keyed by ``SECRET_KEY``. The same username or address always gives the
    same tag, so the security team can follow one client through the logs and match it with
    the lockout records in the back-office, while the logs carry neither."""
    return f"client(user={_tag(username)}, ip={_tag(ip_address)}, path={path_info})"
