"""The hash chain over the disclosure log: canonical content of a row and its hash.

Each sealed row holds ``prev_hash`` (the hash of the row sealed just before it, or
:data:`GENESIS` for the first) and ``row_hash = SHA-256(prev_hash "\\n" canonical content)``.
The canonical content is a JSON object of :data:`CHAIN_FIELDS` with sorted keys and no spaces,
instants in UTC with microseconds: every value as the database returns it, so the sealer and
the verifier compute the same bytes. The position ``seq`` is not hashed: the order is what
``prev_hash`` links, so a row moved elsewhere breaks a link (docs/adr/0006-tamper-evident-log.md).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

GENESIS = "0" * 64

#: How long a row may stay unsealed after a checkpoint was signed (its transaction was still
#: open when the sealer ran). An unsealed row dated earlier than the last checkpoint's
#: signing minus this was written after that seal with an old date: the sealer refuses to
#: chain it and ``audit-verify`` names it, sealed or not.
SEAL_GRACE = datetime.timedelta(minutes=15)

#: The columns a row's hash covers, in the order ``values_list`` returns them.
CHAIN_FIELDS: tuple[str, ...] = (
    "id",
    "occurred_at",
    "request_id",
    "channel",
    "purpose",
    "outcome",
    "reason",
    "actor_id",
    "professional_id",
    "beneficiary_id",
    "fields_disclosed",
    "ip_address",
    "user_agent",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in the disclosure log")
        return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def canonical(values: Sequence[Any]) -> bytes:
    """The canonical bytes of one row given as the values of :data:`CHAIN_FIELDS`."""
    if len(values) != len(CHAIN_FIELDS):
        raise ValueError("a chained row has exactly the CHAIN_FIELDS values")
    document = {name: _plain(value) for name, value in zip(CHAIN_FIELDS, values, strict=True)}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(prev_hash: str, values: Sequence[Any]) -> str:
    """``SHA-256(prev_hash "\\n" canonical(values))`` in lowercase hex."""
    digest = hashlib.sha256(prev_hash.encode("ascii") + b"\n")
    digest.update(canonical(values))
    return digest.hexdigest()
