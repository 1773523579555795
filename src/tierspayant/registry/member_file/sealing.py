"""Encryption and blind indexes for a batch of member lines, in the register's exact formats.

The tokens are those of ``crypto.fields.encrypt_field`` (``"<key id>:<urlsafe base64 of nonce
+ ciphertext + tag>"``, AES-256-GCM, associated data ``"table|column|row id"``) and the
indexes those of ``crypto.blind_index.blind_index_candidates`` (``"<key id>$<hex HMAC-SHA256>"``
over the parts joined by U+001F after the purpose), as ``registry.services.build_beneficiary``
writes them. Per batch, one AES-GCM context, one keyed HMAC per index key (``cryptography``'s,
copied per line) and one random draw for all nonces are made instead of one per field:
several times faster than calling the helpers line by line. Row ids come from
``registry.row_ids`` (UUID version 7).
``tests/registry/test_sealing.py`` proves the formats equal.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Sequence
from typing import NamedTuple

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.hmac import HMAC

from tierspayant.crypto.fields import NONCE_BYTES
from tierspayant.crypto.keys import Keyring
from tierspayant.registry.member_file.parsing import MemberLine
from tierspayant.registry.models import Beneficiary
from tierspayant.registry.row_ids import new_row_id_texts
from tierspayant.registry.services import IDENTITY_PURPOSE, MEMBER_NUMBER_PURPOSE

_UNIT_SEPARATOR = "\x1f"  # as crypto.blind_index


class SealedLine(NamedTuple):
    """What the register stores for a line: a fresh row id (UUID7, canonical text form), the
    two ciphertexts bound to it, and the identity index under every known index key (active
    first)."""

    row_id: str
    nir_ciphertext: str
    birth_date_ciphertext: str
    identity_indexes: tuple[str, ...]
    #: Version 2: the member number's ciphertext bound to ``row_id`` and its blind index
    #: (``registry.services.member_number_index``, active key); "" when the line has none.
    member_number_ciphertext: str = ""
    member_number_index: str = ""


def seal_lines(keyring: Keyring, lines: Sequence[MemberLine]) -> list[SealedLine]:
    """Encrypt NIR and birth date and compute identity indexes for ``lines`` (same order).

    Each line gets a new row id (``registry.row_ids``); for a line that updates an existing
    beneficiary the id and ciphertexts are simply not used (the stored ones stay, bound to
    their row).
    """
    encrypt = AESGCM(keyring.encryption.active).encrypt
    prefix = f"{keyring.encryption.active_id}:"
    # One keyed HMAC per index key, copied per line: the key schedule is done once per batch.
    macs = [(f"{key_id}$", HMAC(key, SHA256())) for key_id, key in keyring.index.keys.items()]
    nir_aad = f"{Beneficiary.TABLE}|nir|"
    birth_aad = f"{Beneficiary.TABLE}|birth_date|"
    member_aad = f"{Beneficiary.TABLE}|member_number|"
    member_mac = HMAC(keyring.index.active, SHA256())
    member_prefix = f"{keyring.index.active_id}$"
    nonces = os.urandom(len(lines) * 3 * NONCE_BYTES)
    ids = new_row_id_texts(len(lines))
    sealed = []
    for n, line in enumerate(lines):
        rid = ids[n]
        at = 3 * NONCE_BYTES * n
        nonce_nir = nonces[at : at + NONCE_BYTES]
        nonce_birth = nonces[at + NONCE_BYTES : at + 2 * NONCE_BYTES]
        birth = line.birth_date.isoformat()
        nir = line.nir
        message = f"{IDENTITY_PURPOSE}{_UNIT_SEPARATOR}{nir}{_UNIT_SEPARATOR}{birth}".encode()
        indexes = []
        for key_id, mac in macs:
            keyed = mac.copy()
            keyed.update(message)
            indexes.append(key_id + keyed.finalize().hex())
        member_ct = member_index = ""
        if line.member_number:
            nonce_member = nonces[at + 2 * NONCE_BYTES : at + 3 * NONCE_BYTES]
            member = line.member_number.encode()
            member_ct = prefix + _urlsafe_b64(
                nonce_member + encrypt(nonce_member, member, (member_aad + rid).encode())
            )
            keyed = member_mac.copy()
            keyed.update(
                f"{MEMBER_NUMBER_PURPOSE}{_UNIT_SEPARATOR}{line.amc_number}"
                f"{_UNIT_SEPARATOR}{line.member_number}".encode()
            )
            member_index = member_prefix + keyed.finalize().hex()
        sealed.append(
            SealedLine(
                rid,
                prefix
                + _urlsafe_b64(
                    nonce_nir + encrypt(nonce_nir, nir.encode(), (nir_aad + rid).encode())
                ),
                prefix
                + _urlsafe_b64(
                    nonce_birth + encrypt(nonce_birth, birth.encode(), (birth_aad + rid).encode())
                ),
                tuple(indexes),
                member_ct,
                member_index,
            )
        )
    return sealed


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _urlsafe_b64(data: bytes) -> str:
    """``base64.urlsafe_b64encode(data).decode("ascii")``, without its two extra calls."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).decode("ascii")
