"""Keyed blind indexes: HMAC-SHA256 over normalised values, so the database alone cannot
answer "who has this NIR", and the NIR's ~38 bits cannot be brute-forced without the key.

Index format: ``"<key id>$<64 hex digits>"``. Lookups compute the index under every known key
(:func:`blind_index_candidates`), so rows written before a rotation are still found.
"""

from __future__ import annotations

import hashlib
import hmac

from tierspayant.crypto.keys import KeySet

_SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in a normalised NIR or an ISO date


def _digest(key: bytes, parts: tuple[str, ...], purpose: str) -> str:
    message = _SEPARATOR.join((purpose, *parts)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def blind_index(keys: KeySet, *parts: str, purpose: str) -> str:
    """The index of ``parts`` under the active key. ``purpose`` separates index families
    (e.g. ``"beneficiary-identity"``) so equal inputs in two families give unrelated values."""
    return f"{keys.active_id}${_digest(keys.active, parts, purpose)}"


def blind_index_candidates(keys: KeySet, *parts: str, purpose: str) -> list[str]:
    """The index of ``parts`` under every known key, active first (for ``IN`` lookups)."""
    return [f"{kid}${_digest(key, parts, purpose)}" for kid, key in keys.keys.items()]
