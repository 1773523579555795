"""Beneficiary row ids: UUID version 7 (RFC 9562 §5.7), made by ``uuid_utils``.

A version 7 id starts with the creation time in milliseconds (UTC), so rows created together
get neighbouring ids: a bulk import appends to the right edge of the primary-key index instead
of touching a random page of it for every row, which is what slowed the 20-million import
(issue 7) once that index outgrew memory. The rest of the id is random and unique. The id
shows when its row was created, to the millisecond, wherever it appears (back-office URLs,
the insurer's AuditEvent export, breach exports): when a file was imported, nothing about
the person. Ids are made before insert because the ciphertexts' associated data names the
row.
"""

from __future__ import annotations

import uuid

import uuid_utils
import uuid_utils.compat


def new_row_id() -> uuid.UUID:
    """A new beneficiary row id (``uuid.UUID``, version 7)."""
    return uuid_utils.compat.uuid7()


def new_row_id_texts(count: int) -> list[str]:
    """``count`` new row ids in canonical text form (36 characters), increasing: a batch's
    ids for the member-file sealer (about 0.3 µs each)."""
    return [str(uuid_utils.uuid7()) for _ in range(count)]
