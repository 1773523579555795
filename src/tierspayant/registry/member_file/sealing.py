"""Encryption and blind indexes for a batch of member lines, in the register's exact formats.

The tokens are those of ``crypto.fields.encrypt_field`` (``"<key id>:<urlsafe base64 of nonce
+ ciphertext + tag>"``, AES-256-GCM, associated data ``"table|column|row id"``) and the
indexes those of ``crypto.blind_index.blind_index_candidates`` (``"<key id>$<hex HMAC-SHA256>"``
over the parts joined by U+001F after the purpose), as ``registry.services.build_beneficiary``
writes them. Per batch, one AES-GCM context per key and one random draw for all row ids and
nonces are made instead of one per field: about three times faster than calling the helpers
line by line. ``tests/registry/test_sealing.py`` proves the formats equal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from collections.abc import Sequence
from typing import NamedTuple

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tierspayant.crypto.fields import NONCE_BYTES
from tierspayant.crypto.keys import Keyring
from tierspayant.registry.member_file.parsing import MemberLine
from tierspayant.registry.models import Beneficiary
from tierspayant.registry.services import IDENTITY_PURPOSE

_UNIT_SEPARATOR = "\x1f"  # as crypto.blind_index


class SealedLine(NamedTuple):
    """What the register stores for a line: a fresh row id (UUID4, canonical text form), the
    two ciphertexts bound to it, and the identity index under every known index key (active
    first)."""

    row_id: str
    nir_ciphertext: str
    birth_date_ciphertext: str
    identity_indexes: tuple[str, ...]


def identity_indexes(keyring: Keyring, nir: str, birth_date_iso: str) -> tuple[str, ...]:
    """The identity blind index of (normalised NIR, ISO birth date) under every index key,
    active first: equal to ``blind_index_candidates(keyring.index, nir, birth_date_iso,
    purpose=IDENTITY_PURPOSE)``."""
    message = _UNIT_SEPARATOR.join((IDENTITY_PURPOSE, nir, birth_date_iso)).encode()
    return tuple(
        f"{key_id}${hmac.digest(key, message, hashlib.sha256).hex()}"
        for key_id, key in keyring.index.keys.items()
    )


def seal_lines(keyring: Keyring, lines: Sequence[MemberLine]) -> list[SealedLine]:
    """Encrypt NIR and birth date and compute identity indexes for ``lines`` (same order).

    Each line gets a new UUID4 row id; for a line that updates an existing beneficiary the
    id and ciphertexts are simply not used (the stored ones stay, bound to their row).
    """
    encryption = keyring.encryption
    aead = AESGCM(encryption.active)
    prefix = f"{encryption.active_id}:"
    table = Beneficiary.TABLE
    randomness = os.urandom(len(lines) * (16 + 2 * NONCE_BYTES))
    step = 16 + 2 * NONCE_BYTES
    sealed = []
    for n, line in enumerate(lines):
        chunk = randomness[n * step : (n + 1) * step]
        rid = str(uuid.UUID(bytes=chunk[:16], version=4))
        birth = line.birth_date.isoformat()
        nonce_nir, nonce_birth = chunk[16 : 16 + NONCE_BYTES], chunk[16 + NONCE_BYTES :]
        nir_token = nonce_nir + aead.encrypt(
            nonce_nir, line.nir.encode(), f"{table}|nir|{rid}".encode()
        )
        birth_token = nonce_birth + aead.encrypt(
            nonce_birth, birth.encode(), f"{table}|birth_date|{rid}".encode()
        )
        sealed.append(
            SealedLine(
                row_id=rid,
                nir_ciphertext=prefix + base64.urlsafe_b64encode(nir_token).decode("ascii"),
                birth_date_ciphertext=prefix
                + base64.urlsafe_b64encode(birth_token).decode("ascii"),
                identity_indexes=identity_indexes(keyring, line.nir, birth),
            )
        )
    return sealed
