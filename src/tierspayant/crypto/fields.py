"""AES-256-GCM field encryption with the key id in the ciphertext and the location as AAD.

Token format (text, stored as is): ``"<key id>:<urlsafe base64 of 12-byte nonce + ciphertext
+ 16-byte tag>"``. The associated data is ``"table|column|row id"``, so a ciphertext copied
to another row or column fails to decrypt (DESIGN.md, "AEAD binding").
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tierspayant.crypto.keys import KeySet

NONCE_BYTES = 12


class DecryptionError(ValueError):
    """A token could not be decrypted: unknown key id, malformed, altered, or moved elsewhere."""


def _aad(table: str, column: str, row_id: str) -> bytes:
    return f"{table}|{column}|{row_id}".encode()


def encrypt_field(keys: KeySet, plaintext: str, *, table: str, column: str, row_id: str) -> str:
    """Encrypt ``plaintext`` (UTF-8) with the active key, bound to ``table.column`` of a row."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(keys.active).encrypt(nonce, plaintext.encode(), _aad(table, column, row_id))
    return f"{keys.active_id}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"


def decrypt_field(keys: KeySet, token: str, *, table: str, column: str, row_id: str) -> str:
    """Decrypt a token made by :func:`encrypt_field` for the same table, column and row.

    Raises :class:`DecryptionError` (without any plaintext or key in its message) if the key id
    is unknown, the token is malformed, or authentication fails.
    """
    key_id, sep, body = token.partition(":")
    if not sep or key_id not in keys.keys:
        raise DecryptionError(f"{table}.{column}: unknown key id or malformed token")
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
        opened = AESGCM(keys.keys[key_id]).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(table, column, row_id)
        )
    except (InvalidTag, binascii.Error, ValueError, UnicodeEncodeError):
        raise DecryptionError(f"{table}.{column}: ciphertext failed authentication") from None
    return opened.decode()


def key_id_of(token: str) -> str:
    """The key id a token was encrypted with (to find values that a rotation must rewrite)."""
    return token.partition(":")[0]
