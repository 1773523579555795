"""The checkpoint store: signed statements about the disclosure log, kept outside the database.

A directory of JSON files ``0000000001.json``, ``0000000002.json``... created once and never
rewritten (each is linked into place, refusing to replace an existing name, then made
read-only). Two kinds of entry:

- ``checkpoint``: ``count`` (the chain's length: the last sealed ``seq``), ``head_hash`` (that
  row's hash) and ``max_occurred_at`` (the latest ``occurred_at`` among rows 1..count);
- ``purge``: the retention job removed rows 1..``purged_through`` (a checkpoint's count, so
  the chain stays verifiable from that checkpoint's head hash).

Every entry carries ``previous`` (the digest of the entry before it), ``signed_at``, the
signing ``key_id`` and an Ed25519 ``signature`` over its canonical JSON, so an entry altered,
removed from the middle, replaced or reordered is found by :meth:`CheckpointStore.entries`,
which names it. Signing keys are 32-byte Ed25519 seeds (``TIERSPAYANT_AUDIT_SIGNING_KEYS``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from tierspayant.audit.chain import GENESIS
from tierspayant.crypto.keys import KeySet

CHECKPOINT = "checkpoint"
PURGE = "purge"
_NAME = re.compile(r"^(\d{10})\.json$")
_REQUIRED = {
    CHECKPOINT: {"count", "head_hash", "max_occurred_at"},
    PURGE: {"purged_through", "anchor", "cutoff", "rows_deleted"},
}
_COMMON = {"kind", "number", "previous", "signed_at", "key_id"}


class StoreCorrupted(Exception):
    """The store fails a check; ``number`` is the first entry that fails (None: the store as a
    whole, e.g. unreadable directory) and the message says what is wrong with it."""

    def __init__(self, number: int | None, message: str) -> None:
        super().__init__(message)
        self.number = number


@dataclass(frozen=True)
class StoreEntry:
    """One verified entry: its ``number``, ``kind``, signed ``fields`` and ``digest``."""

    number: int
    kind: str
    fields: dict[str, Any]
    digest: str

    @property
    def count(self) -> int:
        """A checkpoint's chain length (``purged_through`` for a purge entry)."""
        return int(self.fields["count" if self.kind == CHECKPOINT else "purged_through"])

    @property
    def signed_at(self) -> datetime.datetime:
        return datetime.datetime.fromisoformat(self.fields["signed_at"])


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def entry_name(number: int) -> str:
    """The file name of entry ``number``."""
    return f"{number:010d}.json"


def public_keys(keys: KeySet) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 public keys of every configured signing key, by key id."""
    return {
        kid: Ed25519PrivateKey.from_private_bytes(seed).public_key()
        for kid, seed in keys.keys.items()
    }


class CheckpointStore:
    """The store in ``directory``, signing with the active key of ``keys`` and verifying with
    every key of ``keys`` (so entries signed before a signing-key rotation still verify)."""

    def __init__(self, directory: Path, keys: KeySet) -> None:
        self.directory = Path(directory)
        self.keys = keys
        self._public = public_keys(keys)

    # -- reading ---------------------------------------------------------------------------
    def _numbers(self) -> list[int]:
        if not self.directory.exists():
            return []
        try:
            names = os.listdir(self.directory)
        except OSError as exc:
            raise StoreCorrupted(None, f"checkpoint store unreadable: {exc.strerror}") from None
        return sorted(int(m.group(1)) for n in names if (m := _NAME.match(n)))

    def _read(self, number: int, previous_digest: str) -> StoreEntry:
        label = f"entry {entry_name(number)}"
        try:
            document = json.loads((self.directory / entry_name(number)).read_bytes())
        except (OSError, ValueError):
            raise StoreCorrupted(number, f"{label} is unreadable (not a JSON document)") from None
        if not isinstance(document, dict):
            raise StoreCorrupted(number, f"{label} is not a JSON object")
        signature = document.pop("signature", None)
        kind = document.get("kind")
        if kind not in _REQUIRED or not (_COMMON | _REQUIRED[kind]) <= document.keys():
            raise StoreCorrupted(number, f"{label} lacks required fields")
        if document["number"] != number:
            raise StoreCorrupted(number, f"{label} says it is entry {document['number']}")
        key = self._public.get(str(document["key_id"]))
        if key is None:
            raise StoreCorrupted(number, f"{label} is signed by an unknown key id")
        body = _canonical(document)
        try:
            key.verify(base64.b64decode(str(signature), validate=True), body)
        except (InvalidSignature, binascii.Error, ValueError):
            raise StoreCorrupted(
                number, f"{label}: signature does not verify (the entry was altered)"
            ) from None
        if document["previous"] != previous_digest:
            raise StoreCorrupted(
                number,
                f"{label} does not follow the entry before it (an entry was removed, "
                "replaced or reordered)",
            )
        return StoreEntry(number, kind, document, hashlib.sha256(body).hexdigest())

    def entries(self) -> list[StoreEntry]:
        """Every entry, verified in order; raises :class:`StoreCorrupted` naming the first entry
        that is missing, unreadable, unsigned, wrongly signed or out of sequence."""
        numbers = self._numbers()
        found: list[StoreEntry] = []
        previous = GENESIS
        last_count = 0
        for expected, number in enumerate(numbers, start=1):
            if number != expected:
                raise StoreCorrupted(
                    expected, f"entry {entry_name(expected)} is missing from the checkpoint store"
                )
            entry = self._read(number, previous)
            if entry.kind == CHECKPOINT:
                if entry.count < last_count:
                    raise StoreCorrupted(
                        number, f"entry {entry_name(number)} counts fewer rows than an earlier one"
                    )
                last_count = entry.count
            found.append(entry)
            previous = entry.digest
        return found

    def last(self) -> StoreEntry | None:
        """The latest entry, verified against its predecessor's digest only (cheap: for the
        sealer, which appends; :meth:`entries` checks the whole store)."""
        numbers = self._numbers()
        if not numbers:
            return None
        number = numbers[-1]
        if len(numbers) == 1:
            return self._read(number, GENESIS)
        before = self._read_unchecked(numbers[-2])
        return self._read(number, before)

    def _read_unchecked(self, number: int) -> str:
        try:
            document = json.loads((self.directory / entry_name(number)).read_bytes())
            document.pop("signature", None)
        except (OSError, ValueError, AttributeError):
            raise StoreCorrupted(number, f"entry {entry_name(number)} is unreadable") from None
        return hashlib.sha256(_canonical(document)).hexdigest()

    def last_checkpoint(self) -> StoreEntry | None:
        """The latest ``checkpoint`` entry (walking back over purge entries)."""
        entries = self.entries()
        return next((e for e in reversed(entries) if e.kind == CHECKPOINT), None)

    # -- writing ---------------------------------------------------------------------------
    def append(self, kind: str, fields: dict[str, Any], *, now: datetime.datetime) -> StoreEntry:
        """Sign and add an entry after the latest one. Never replaces a file: a concurrent
        writer that took the number first makes this raise ``FileExistsError``."""
        if kind not in _REQUIRED or set(fields) != _REQUIRED[kind]:
            raise ValueError(f"a {kind} entry has exactly the fields {sorted(_REQUIRED[kind])}")
        last = self.last()
        number = 1 if last is None else last.number + 1
        document: dict[str, Any] = {
            **fields,
            "kind": kind,
            "number": number,
            "previous": GENESIS if last is None else last.digest,
            "signed_at": now.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
            "key_id": self.keys.active_id,
        }
        body = _canonical(document)
        signature = Ed25519PrivateKey.from_private_bytes(self.keys.active).sign(body)
        signed = {**document, "signature": base64.b64encode(signature).decode("ascii")}
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{secrets.token_hex(8)}.tmp"
        with temporary.open("xb") as handle:
            handle.write(json.dumps(signed, indent=1, sort_keys=True).encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, self.directory / entry_name(number))  # fails if the name exists
        finally:
            temporary.unlink()
        (self.directory / entry_name(number)).chmod(0o444)
        _fsync_directory(self.directory)
        return StoreEntry(number, kind, document, hashlib.sha256(body).hexdigest())


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
