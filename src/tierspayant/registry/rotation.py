"""Key rotation: re-encrypt field ciphertexts and re-key the identity blind index, in batches,
while the platform serves.

How to rotate (docs/audit.md, "Key rotation"): put the new key *first* in
``TIERSPAYANT_FIELD_KEYS`` (and/or ``TIERSPAYANT_INDEX_KEYS``), keep the old one after it,
restart (new values are written under the new key; old ones still read), run
``tierspayant rotate-keys``, then remove the old key once it reports no row under it.

What is rotated, found by convention so that a new encrypted column joins by itself: every
model with a ``TABLE`` attribute and a ``<column>_ciphertext`` field that has a ``<column>(keys)``
method decrypting it (``Beneficiary.nir``/``birth_date``; ``BankAccount.iban`` once it
exists). Plaintexts are read through those model methods and re-encrypted with the same
associated data (table, column, row). The beneficiary's ``identity_index`` (``"<kid>$..."``)
is recomputed under the active index key. Each batch locks its rows (``SELECT ... FOR
UPDATE``) for the few milliseconds of its transaction, so a concurrent writer waits rather
than being overwritten.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Left, StrIndex

from tierspayant.crypto.blind_index import blind_index
from tierspayant.crypto.fields import DecryptionError, encrypt_field
from tierspayant.crypto.keys import Keyring
from tierspayant.registry.models import Beneficiary
from tierspayant.registry.services import IDENTITY_PURPOSE, identity_parts, member_number_index

SUFFIX = "_ciphertext"


@dataclass(frozen=True)
class EncryptedColumn:
    """``model.<column>_ciphertext``, decrypted by ``model.<column>(keys)``."""

    model: type[models.Model]
    column: str

    @property
    def attr(self) -> str:
        return f"{self.column}{SUFFIX}"

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.column}"


def encrypted_columns() -> list[EncryptedColumn]:
    """Every encrypted column of the installed models, by the convention above."""
    found = []
    for model in apps.get_models():
        if not isinstance(getattr(model, "TABLE", None), str):
            continue
        for model_field in model._meta.concrete_fields:
            name = model_field.name
            if name.endswith(SUFFIX) and callable(getattr(model, name[: -len(SUFFIX)], None)):
                found.append(EncryptedColumn(model, name[: -len(SUFFIX)]))
    return found


def _stale(model: type[models.Model], columns: list[EncryptedColumn], keyring: Keyring) -> Q:
    active = keyring.encryption.active_id
    condition = Q(pk__in=[])
    for column in columns:
        # An empty ciphertext is no value (a beneficiary without a member number): not stale.
        condition |= ~Q(**{f"{column.attr}__startswith": f"{active}:"}) & ~Q(**{column.attr: ""})
    if model is Beneficiary:
        index = keyring.index.active_id
        condition |= ~Q(identity_index__startswith=f"{index}$")
        condition |= ~Q(member_number_index__startswith=f"{index}$") & ~Q(member_number_index="")
    return condition


def _by_model(columns: list[EncryptedColumn]) -> dict[type[models.Model], list[EncryptedColumn]]:
    grouped: dict[type[models.Model], list[EncryptedColumn]] = {}
    for column in columns:
        grouped.setdefault(column.model, []).append(column)
    return grouped


def key_usage(keyring: Keyring | None = None) -> dict[str, dict[str, int]]:
    """Rows per key id for each encrypted column and for the identity index, e.g.
    ``{"registry.Beneficiary.nir": {"k2": 10, "k1": 3}, "registry.Beneficiary.identity_index":
    {...}}``: one grouped query each."""
    usage: dict[str, dict[str, int]] = {}
    targets: list[tuple[str, type[models.Model], str, str]] = [
        (c.label, c.model, c.attr, ":") for c in encrypted_columns()
    ]
    targets.append(("registry.Beneficiary.identity_index", Beneficiary, "identity_index", "$"))
    targets.append(
        ("registry.Beneficiary.member_number_index", Beneficiary, "member_number_index", "$")
    )
    for label, model, attr, separator in targets:
        rows = (
            model._default_manager.exclude(**{attr: ""})
            .annotate(kid=Left(F(attr), StrIndex(F(attr), Value(separator)) - 1))
            .values_list("kid")
            .annotate(n=Count("pk"))
            .order_by()
        )
        usage[label] = {str(kid): n for kid, n in rows}
    return usage


def stale_count(keyring: Keyring) -> int:
    """Rows holding at least one value not under the active keys."""
    return sum(
        model._default_manager.filter(_stale(model, columns, keyring)).count()
        for model, columns in _by_model(encrypted_columns()).items()
    )


@dataclass
class RotationResult:
    """Rows rewritten, and the internal ids of rows that could not be decrypted (their key is
    no longer configured: they are left as they are and reported)."""

    rotated: int = 0
    failed: list[str] = field(default_factory=list)


def _plain(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


def _rewrite(obj: Any, columns: list[EncryptedColumn], keyring: Keyring) -> list[str]:
    """Re-encrypt ``obj``'s columns (and index) in memory; return the fields changed."""
    changed = []
    table = type(obj).TABLE
    plaintexts = {}
    for column in columns:
        if getattr(obj, column.attr):
            plaintexts[column.column] = _plain(getattr(obj, column.column)(keyring.encryption))
    for column in columns:
        token = getattr(obj, column.attr)
        if token and not token.startswith(f"{keyring.encryption.active_id}:"):
            setattr(
                obj,
                column.attr,
                encrypt_field(
                    keyring.encryption,
                    plaintexts[column.column],
                    table=table,
                    column=column.column,
                    row_id=str(obj.pk),
                ),
            )
            changed.append(column.attr)
    if isinstance(obj, Beneficiary) and not obj.identity_index.startswith(
        f"{keyring.index.active_id}$"
    ):
        born = datetime.date.fromisoformat(plaintexts["birth_date"])
        obj.identity_index = blind_index(
            keyring.index, *identity_parts(plaintexts["nir"], born), purpose=IDENTITY_PURPOSE
        )
        changed.append("identity_index")
    if (
        isinstance(obj, Beneficiary)
        and obj.member_number_index
        and not obj.member_number_index.startswith(f"{keyring.index.active_id}$")
    ):
        obj.member_number_index = member_number_index(
            keyring.index, obj.contract.insurer.amc_number, plaintexts["member_number"]
        )
        changed.append("member_number_index")
    return changed


def rotate_keys(
    keyring: Keyring,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] = lambda n: None,
) -> RotationResult:
    """Rewrite every row that holds a value under a non-active key, ``batch_size`` rows per
    transaction (rows locked for that transaction only); ``progress`` gets each batch's size.
    Idempotent: a second run finds nothing to do."""
    result = RotationResult()
    for model, columns in _by_model(encrypted_columns()).items():
        stale = _stale(model, columns, keyring)
        last_pk = None
        while True:
            with transaction.atomic():
                queryset = model._default_manager.select_for_update().filter(stale)
                if last_pk is not None:
                    queryset = queryset.filter(pk__gt=last_pk)
                batch = list(queryset.order_by("pk")[:batch_size])
                if not batch:
                    break
                rewritten, fields = [], set()
                for obj in batch:
                    try:
                        changed = _rewrite(obj, columns, keyring)
                    except DecryptionError:
                        result.failed.append(str(obj.pk))
                        continue
                    if changed:
                        rewritten.append(obj)
                        fields.update(changed)
                if rewritten:
                    model._default_manager.bulk_update(rewritten, sorted(fields))
            result.rotated += len(rewritten)
            last_pk = batch[-1].pk
            progress(len(batch))
    return result
