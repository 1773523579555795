"""Writing the disclosure log, sealing it, purging it, and the insurers' ways in.

``record_disclosure`` is called by the disclosure gate inside its transaction, so a failed
write rolls back the read and nothing is disclosed (fail closed). It takes no lock: rows are
chained later, in order, by ``seal_log`` (``tierspayant audit-seal``), which signs
checkpoints into the store outside the database. ``purge_expired`` applies the retention
period; insurers' API tokens and the beneficiaries' signed history links live here too.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import connections, transaction

from tierspayant import hot_sql
from tierspayant.audit.chain import CHAIN_FIELDS, GENESIS, SEAL_GRACE, row_hash
from tierspayant.audit.checkpoints import CHECKPOINT, PURGE, CheckpointStore, StoreEntry
from tierspayant.audit.choices import Channel, InsurerScope, Outcome, Purpose
from tierspayant.audit.db_guard import PURGE as PURGE_MODE
from tierspayant.audit.db_guard import SEAL as SEAL_MODE
from tierspayant.audit.db_guard import guard_lifted, lock_sealer
from tierspayant.audit.models import DisclosureLog, InsurerApiToken
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary, Insurer


@dataclass(frozen=True)
class RequestContext:
    """Where a request came from: ``request_id`` ties log lines to the disclosure row; ``ip``
    and ``user_agent`` as received (user agent truncated to 300 characters); ``token_id``:
    the API token the request came with (the guard judges a token apart from its owner)."""

    channel: Channel
    request_id: uuid.UUID
    ip: str | None
    user_agent: str
    actor_id: int | None
    token_id: int | None = None


def record_disclosure(
    *,
    context: RequestContext,
    professional: Professional | None,
    purpose: Purpose,
    outcome: Outcome,
    occurred_at: datetime.datetime,
    beneficiary: Beneficiary | None = None,
    fields_disclosed: list[str] | None = None,
    reason: str = "",
) -> int:
    """Append one row and return its id. ``professional`` is None when the reader is not a
    professional (an insurer reading a member's access history). ``fields_disclosed`` names
    fields (e.g. ``"rights_period"``), never values; ``reason`` is a code or a field name,
    never input data. A plain INSERT written once per process (every rights check writes one
    row, see :mod:`tierspayant.hot_sql`); raises the database's error if the row cannot be
    written."""
    return int(
        hot_sql.insert(
            DisclosureLog,
            {
                "occurred_at": occurred_at,
                "request_id": context.request_id,
                "channel": context.channel,
                "purpose": purpose,
                "outcome": outcome,
                "reason": reason[:60],
                "actor_id": context.actor_id,
                "professional_id": professional.pk if professional is not None else None,
                "beneficiary_id": beneficiary.pk if beneficiary is not None else None,
                "fields_disclosed": list(fields_disclosed or []),
                "ip_address": context.ip,
                "user_agent": context.user_agent[:300],
            },
        )
    )


# -- sealing: chaining rows in order and signing checkpoints ---------------------------------


@dataclass(frozen=True)
class SealResult:
    """What a sealing run did: rows chained now, the chain's length, and the last checkpoint
    written (None when nothing new needed signing)."""

    sealed: int
    count: int
    head_hash: str
    checkpoint: StoreEntry | None


class SealRefused(Exception):
    """The sealer found rows it must not vouch for, and wrote nothing: an unsealed row dated
    before the last checkpoint (backdated), or chained rows no checkpoint vouches for (chain
    columns written outside the sealer), or a chain that no longer ends where the last
    checkpoint says. ``row_id`` names the first such row when there is one; the message
    (English, for the operator) names ids, positions and dates, never personal data."""

    def __init__(self, message: str, *, row_id: int | None = None) -> None:
        super().__init__(message)
        self.row_id = row_id


def configured_store() -> CheckpointStore:
    """The checkpoint store of the settings (directory and signing keys), read at call time."""
    return CheckpointStore(
        settings.TIERSPAYANT_AUDIT_CHECKPOINT_DIR, settings.TIERSPAYANT_AUDIT_SIGNING_KEYS
    )


def _vouched_head(entries: list[StoreEntry]) -> tuple[int, str, int]:
    """(length, head hash) the last checkpoint signed ((0, GENESIS) for none), and the
    position the retention purge deleted through."""
    last = next((e for e in reversed(entries) if e.kind == CHECKPOINT), None)
    purged = max((e.count for e in entries if e.kind == PURGE), default=0)
    if last is None:
        return 0, GENESIS, purged
    return last.count, str(last.fields["head_hash"]), purged


def _check_before_sealing(entries: list[StoreEntry]) -> tuple[int, str]:
    """The chain head to extend, after checking that the database's chain ends exactly where
    the last checkpoint says and that no unsealed row is backdated; raises
    :class:`SealRefused` otherwise."""
    count, head_hash, purged = _vouched_head(entries)
    head = (
        DisclosureLog.objects.filter(seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", "row_hash", "id")
        .first()
    )
    if head is None and purged < count:
        raise SealRefused(
            f"the chain is empty although the last checkpoint vouches for {count} rows; nothing "
            "sealed, run audit-verify"
        )
    position = int(head[0] or 0) if head is not None else 0
    if head is not None and position > count:
        first = (
            DisclosureLog.objects.filter(seq__gt=count)
            .order_by("seq")
            .values_list("id", flat=True)
            .first()
        )
        raise SealRefused(
            f"rows at positions {count + 1} to {position} are chained but no checkpoint vouches "
            f"for them: their chain columns were written outside the sealer (first: row id "
            f"{first}); nothing sealed, run audit-verify",
            row_id=first,
        )
    if head is not None and (position < count or head[1] != head_hash):
        raise SealRefused(
            f"the chain ends at position {position} (row id {head[2]}), not where the last "
            f"checkpoint says ({count} rows): nothing sealed, run audit-verify",
            row_id=int(head[2]),
        )
    last = next((e for e in reversed(entries) if e.kind == CHECKPOINT), None)
    if last is not None:
        backdated = (
            DisclosureLog.objects.filter(
                seq__isnull=True, occurred_at__lt=last.signed_at - SEAL_GRACE
            )
            .order_by("id")
            .values_list("id", "occurred_at")
            .first()
        )
        if backdated is not None:
            raise SealRefused(
                f"row id {backdated[0]} is dated {backdated[1]:%Y-%m-%d %H:%M:%S} UTC, before "
                f"checkpoint {last.number} was signed ({last.signed_at:%Y-%m-%d %H:%M:%S} UTC): "
                "it was written after that seal with an old date; nothing sealed, run "
                "audit-verify",
                row_id=int(backdated[0]),
            )
    return count, head_hash


def _seal_batch(
    store: CheckpointStore, entries: list[StoreEntry], now: datetime.datetime, batch_size: int
) -> tuple[int, int, str, list[StoreEntry]]:
    """Chain up to ``batch_size`` unsealed rows (in id order) after the vouched head and sign
    their checkpoint, in one transaction: the checkpoint is written before the commit, so a
    chained row without a checkpoint can only come from outside the sealer. ``entries`` is
    the verified store as last read (read again if another sealer appended since). Returns
    (rows sealed, new length, new head hash, the store's entries after this batch)."""
    connection = connections[DisclosureLog.objects.db]
    with transaction.atomic(using=connection.alias):
        lock_sealer(connection)
        newest = store.last()
        if (newest.number if newest else 0) != (entries[-1].number if entries else 0):
            entries = store.entries()
        seq, head_hash = _check_before_sealing(entries)
        rows = list(
            DisclosureLog.objects.filter(seq__isnull=True)
            .order_by("id")
            .values_list(*CHAIN_FIELDS)[:batch_size]
        )
        if not rows:
            return 0, seq, head_hash, entries
        updates = []
        for values in rows:
            seq += 1
            digest = row_hash(head_hash, values)
            updates.append((seq, head_hash, digest, values[0]))
            head_hash = digest
        with guard_lifted(connection, SEAL_MODE), connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE audit_disclosurelog SET seq = %s, prev_hash = %s, row_hash = %s "
                "WHERE id = %s AND seq IS NULL",
                updates,
            )
        last = next((e for e in reversed(entries) if e.kind == CHECKPOINT), None)
        dates = [values[CHAIN_FIELDS.index("occurred_at")] for values in rows]
        if last is not None:
            dates.append(datetime.datetime.fromisoformat(last.fields["max_occurred_at"]))
        entry = store.append(
            CHECKPOINT,
            {
                "count": seq,
                "head_hash": head_hash,
                "max_occurred_at": max(dates)
                .astimezone(datetime.UTC)
                .isoformat(timespec="microseconds"),
            },
            now=now,
        )
    return len(updates), seq, head_hash, [*entries, entry]


def seal_log(
    *, store: CheckpointStore, now: datetime.datetime, batch_size: int = 5000
) -> SealResult:
    """Chain every row not chained yet, ``batch_size`` at a time, each batch with its signed
    checkpoint (written in the batch's transaction, before it commits).

    Rows written concurrently are simply left for the next run; a row whose transaction
    commits late (lower id than rows already sealed) is chained after them, if it is dated no
    earlier than the last checkpoint's signing minus ``chain.SEAL_GRACE``. Raises
    :class:`SealRefused` (nothing written by the refused batch) for a backdated unsealed row
    or a chain that does not end where the last checkpoint says, and
    ``checkpoints.StoreCorrupted`` if the store does not verify (nothing is signed over a
    broken store).
    """
    sealed = 0
    written: StoreEntry | None = None
    entries = store.entries()
    while True:
        done, count, head_hash, entries = _seal_batch(store, entries, now, batch_size)
        sealed += done
        if done:
            written = entries[-1]
        if done < batch_size:
            break
    return SealResult(sealed, count, head_hash, written)


# -- retention ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    """Rows deleted, through which chain position, and the store entry recording it."""

    deleted: int
    purged_through: int
    entry: StoreEntry | None


def purge_expired(
    *, store: CheckpointStore, now: datetime.datetime, retention_days: int
) -> PurgeResult:
    """Delete the log rows older than ``retention_days``, keeping the chain verifiable.

    Seals first, then cuts at the latest checkpoint whose rows are *all* older than the cutoff
    (``max_occurred_at``): rows 1..count go, and a signed ``purge`` entry records it before the
    delete, so ``audit-verify`` starts from that checkpoint's head hash. Rows older than the
    cutoff but past that checkpoint wait for a later run.
    """
    cutoff = now - datetime.timedelta(days=retention_days)
    seal_log(store=store, now=now)
    entries = store.entries()
    already = max((e.count for e in entries if e.kind == PURGE), default=0)
    anchor = None
    for entry in entries:
        if entry.kind != CHECKPOINT or entry.count <= already:
            continue
        if datetime.datetime.fromisoformat(entry.fields["max_occurred_at"]) < cutoff:
            anchor = entry
    remaining = DisclosureLog.objects.filter(seq__lte=already).exists()
    if anchor is None and not remaining:
        return PurgeResult(0, already, None)
    through = anchor.count if anchor is not None else already
    record = None
    if anchor is not None:
        record = store.append(
            PURGE,
            {
                "purged_through": through,
                "anchor": anchor.number,
                "cutoff": cutoff.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
                "rows_deleted": DisclosureLog.objects.filter(seq__lte=through).count(),
            },
            now=now,
        )
    connection = connections[DisclosureLog.objects.db]
    with (
        transaction.atomic(using=connection.alias),
        guard_lifted(connection, PURGE_MODE),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_disclosurelog WHERE seq <= %s", [through])
        deleted = cursor.rowcount
    return PurgeResult(deleted, through, record)


# -- insurers' API tokens (member apps: FHIR AuditEvent search) --------------------------------

INSURER_TOKEN_PREFIX = "tpi"  # noqa: S105 - a public marker, not a secret


class InvalidInsurerToken(Exception):
    """Unknown, malformed, expired or revoked insurer token, or one without the scope asked;
    callers answer 401 without saying which."""


@dataclass(frozen=True)
class IssuedInsurerToken:
    """A fresh token: ``secret`` is the full bearer value, shown once, never stored."""

    token: InsurerApiToken
    secret: str


def _hash_secret(bearer: str) -> str:
    return hashlib.sha256(bearer.encode()).hexdigest()


def issue_insurer_token(
    *,
    insurer: Insurer,
    name: str,
    scopes: list[InsurerScope],
    now: datetime.datetime,
    valid_days: int,
) -> IssuedInsurerToken:
    """Issue ``tpi_<prefix>_<secret>`` (prefix 8 hex, secret 256 bits) valid ``valid_days``
    days; only its SHA-256 is stored (as for the professionals' tokens, providers.services)."""
    prefix = secrets.token_hex(4)
    bearer = f"{INSURER_TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = InsurerApiToken.objects.create(
        insurer=insurer,
        name=name,
        prefix=prefix,
        secret_hash=_hash_secret(bearer),
        scopes=[InsurerScope(s).value for s in scopes],
        created_at=now,
        expires_at=now + datetime.timedelta(days=valid_days),
    )
    return IssuedInsurerToken(token=token, secret=bearer)


def authenticate_insurer_token(
    bearer: str, *, scope: InsurerScope, now: datetime.datetime
) -> Insurer:
    """The insurer owning an active token with ``scope``; raises :class:`InvalidInsurerToken`.
    Constant-time comparison; ``last_used_at`` is updated."""
    parts = bearer.split("_", 2)
    if len(parts) != 3 or parts[0] != INSURER_TOKEN_PREFIX:
        raise InvalidInsurerToken
    token = InsurerApiToken.objects.select_related("insurer").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash_secret(bearer)):
        raise InvalidInsurerToken
    if not token.is_active(now) or InsurerScope(scope).value not in token.scopes:
        raise InvalidInsurerToken
    InsurerApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.insurer


def revoke_insurer_token(*, token: InsurerApiToken, now: datetime.datetime) -> None:
    """Revoke at ``now``; revoking twice keeps the first instant."""
    InsurerApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)


# -- the beneficiary's own page: a signed, expiring link issued by the insurer ----------------

HISTORY_LINK_SALT = "tierspayant.audit.history-link"


class InvalidHistoryLink(Exception):
    """The link was altered, expired (``expired`` True) or names no beneficiary of the insurer
    that issued it."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def issue_history_link(*, beneficiary: Beneficiary, insurer: Insurer) -> str:
    """The signed token for ``beneficiary``'s access-history page, issued by ``insurer`` (which
    must be the beneficiary's). It carries the internal ids only, never a NIR; its age is
    checked when opened (``settings.TIERSPAYANT_AUDIT_LINK_DAYS``)."""
    if beneficiary.contract.insurer_id != insurer.pk:
        raise InvalidHistoryLink
    return signing.dumps(
        {"b": str(beneficiary.pk), "i": insurer.pk}, salt=HISTORY_LINK_SALT, compress=True
    )


def open_history_link(token: str, *, max_age_days: int) -> Beneficiary:
    """The beneficiary a link names; raises :class:`InvalidHistoryLink` (``expired`` set when
    only its age is the problem)."""
    try:
        data = signing.loads(
            token, salt=HISTORY_LINK_SALT, max_age=datetime.timedelta(days=max_age_days)
        )
    except signing.SignatureExpired:
        raise InvalidHistoryLink(expired=True) from None
    except signing.BadSignature:
        raise InvalidHistoryLink from None
    beneficiary = (
        Beneficiary.objects.select_related("contract__insurer")
        .filter(pk=data.get("b"), contract__insurer_id=data.get("i"), is_canary=False)
        .first()
    )
    if beneficiary is None:
        raise InvalidHistoryLink
    return beneficiary
