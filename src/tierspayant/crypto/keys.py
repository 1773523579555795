"""Key material: parsing, generation and the keyring handed to the encryption helpers.

A key specification is text, so it can live in an environment variable or a key file
outside the database: ``"k2:BASE64,k1:BASE64"`` where each key is 32 random bytes in
URL-safe base64 and the *first* key is the active one (used to encrypt or index);
the others are kept to read older values until ``rotate-keys`` rewrites them.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass

KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class KeyConfigurationError(ValueError):
    """A key specification is missing, malformed or too weak. The message never holds key bytes."""


@dataclass(frozen=True)
class KeySet:
    """Named 32-byte keys; ``active_id`` names the one used for new values."""

    keys: dict[str, bytes]
    active_id: str

    @property
    def active(self) -> bytes:
        """The active key's 32 bytes."""
        return self.keys[self.active_id]


@dataclass(frozen=True)
class Keyring:
    """The two independent key sets: AES-256-GCM field encryption and HMAC-SHA256 blind indexes."""

    encryption: KeySet
    index: KeySet


def parse_key_spec(spec: str, *, name: str) -> KeySet:
    """Parse ``"id:BASE64[,id:BASE64...]"`` into a :class:`KeySet`; the first key is active.

    ``name`` is the setting's name, used in error messages only.
    Raises :class:`KeyConfigurationError` if the spec is empty, an id is malformed or repeated,
    or a key does not decode to exactly 32 bytes, or is trivially weak (all bytes equal).
    """
    entries = [part.strip() for part in spec.split(",") if part.strip()]
    if not entries:
        raise KeyConfigurationError(f"{name} is empty: give at least one key 'id:BASE64'.")
    keys: dict[str, bytes] = {}
    for position, entry in enumerate(entries, start=1):
        key_id, sep, encoded = entry.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise KeyConfigurationError(
                f"{name}, key {position}: expected 'id:BASE64' with an id of 1-16 letters, "
                "digits, '-' or '_'."
            )
        if key_id in keys:
            raise KeyConfigurationError(f"{name}: key id {key_id!r} appears twice.")
        try:
            padded = encoded.encode("ascii") + b"=" * (-len(encoded) % 4)
            raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise KeyConfigurationError(f"{name}, key {key_id!r}: not valid base64.") from None
        if len(raw) != KEY_BYTES:
            raise KeyConfigurationError(
                f"{name}, key {key_id!r}: {len(raw)} bytes, expected {KEY_BYTES} random bytes."
            )
        if len(set(raw)) < 8:
            raise KeyConfigurationError(f"{name}, key {key_id!r}: too weak (not random bytes).")
        keys[key_id] = raw
    return KeySet(keys=keys, active_id=next(iter(keys)))


def generate_key_spec(key_id: str = "k1") -> str:
    """A fresh single-key specification ``"id:BASE64"`` from the OS's CSPRNG."""
    if not _KEY_ID.match(key_id):
        raise KeyConfigurationError(f"key id {key_id!r} is malformed.")
    encoded = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
    return f"{key_id}:{encoded}"
