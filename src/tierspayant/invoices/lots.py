"""Lots of invoices: receiving (parse, check the declared count and total, store,
acknowledge) and adjudicating (each invoice identified through the rights check, checked
for duplicates, checked and priced, stored), in chunks.

* ``receive_lot(config, professional=..., lot_format=..., stream=..., channel=..., now=...)``
  reads the lot through its adapter (``lot_formats``), stores it in one transaction with
  each invoice pending (the patient's identity encrypted) and returns the ``Lot``; raises
  ``LotFormatError`` (unreadable, truncated, count or total not matching): nothing stored.
* ``adjudicate_lot(config, lot_id, clock=...)`` works through the pending invoices
  ``config.chunk_size`` at a time, one transaction and one progress update per chunk; a
  rejected invoice never blocks the others. Run by a Celery worker (``invoices.tasks``).

The same invoice sent twice (two lots, or a lot and the claim API) is a duplicate:
``services.find_billed`` / ``record_billed`` over the shared register ``BilledInvoice``.
Pricing uses the contract's guarantee table; the benefit ledger of prior approvals
(``priorauth``, above this app) is not consulted: lot families have no ledger ceilings.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone

from tierspayant.audit.choices import Channel, Outcome, Purpose
from tierspayant.audit.services import RequestContext
from tierspayant.coverage import GuaranteeTable, History, load_guarantee_table
from tierspayant.crypto.fields import decrypt_field, encrypt_field
from tierspayant.crypto.keys import Keyring
from tierspayant.eligibility.services import (
    InvalidRightsCheck,
    RightsCheckInput,
    RightsCheckResult,
    check_rights,
)
from tierspayant.guard.services import GuardRefusal, GuardUnavailable
from tierspayant.invoices.choices import EntryStatus, LotFormat, LotReason, LotRefusal, LotStatus
from tierspayant.invoices.engagements import rights_guaranteed
from tierspayant.invoices.inputs import InvoiceInput
from tierspayant.invoices.lot_formats import CardIdentity, LotFormatError, parser_for
from tierspayant.invoices.lot_formats.codec import (
    identity_to_json,
    invoice_from_json,
    invoice_to_json,
)
from tierspayant.invoices.models import BilledInvoice, Invoice, Lot, LotEntry
from tierspayant.invoices.selectors import Nomenclatures
from tierspayant.invoices.services import (
    JudgedInvoice,
    billing_key,
    judge_invoice,
    store_judged,
    store_judged_batch,
)
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary

ZERO = Decimal("0.00")
#: Entries inserted per statement while receiving.
INSERT_BATCH = 2000
_TABLE = LotEntry._meta.db_table
_IDENTITY_COLUMN = "identity_ciphertext"


@dataclass(frozen=True)
class LotConfig:
    """What lots need from the configuration, passed explicitly: keyring (identities
    encrypted while pending), the rights check's guard (quota storage, daily quota,
    policy), guarantee tables directory, FHIR base URL, invoices per chunk."""

    keyring: Keyring
    quota_storage_uri: str
    daily_quota: int | None
    policy: Any
    tables_dir: Path
    fhir_base: str
    chunk_size: int = 500

    @classmethod
    def from_settings(cls, settings: Any) -> LotConfig:
        """Read the ``TIERSPAYANT_*`` values of Django settings (call it per request/task)."""
        return cls(
            keyring=settings.TIERSPAYANT_KEYRING,
            quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
            daily_quota=settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA,
            policy=getattr(settings, "TIERSPAYANT_GUARD_POLICY", None),
            tables_dir=Path(settings.TIERSPAYANT_GUARANTEE_TABLES_DIR),
            fhir_base=settings.TIERSPAYANT_FHIR_BASE_URL,
            chunk_size=getattr(settings, "TIERSPAYANT_LOT_CHUNK_SIZE", 500),
        )


# --- receiving ---------------------------------------------------------------------------


def _row_id(lot_id: int, position: int) -> str:
    return f"{lot_id}:{position}"


_ENTRY_COLUMNS = ("lot_id", "position", "invoice_number", "payload", "identity_ciphertext",
                  "status", "reasons")  # fmt: skip


def _insert_entries(lot: Lot, rows: list[tuple[int, str, dict[str, Any], str]]) -> None:
    """Insert pending entries given as (position, invoice number, payload, identity
    ciphertext): one ``COPY`` on PostgreSQL (the ORM's ``bulk_create`` spent most of a
    10,000-invoice acknowledgement binding placeholders; no model instances either),
    ``bulk_create`` elsewhere."""
    if not rows:
        return
    connection = connections[LotEntry.objects.db]
    if connection.vendor != "postgresql":
        LotEntry.objects.bulk_create(
            LotEntry(lot=lot, position=position, invoice_number=number, payload=payload,
                     identity_ciphertext=identity, status=EntryStatus.PENDING)
            for position, number, payload, identity in rows
        )  # fmt: skip
        return
    columns = ", ".join(_ENTRY_COLUMNS)
    pending = EntryStatus.PENDING.value
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {_TABLE} ({columns}) FROM STDIN") as copy,
    ):
        for position, number, payload, identity in rows:
            copy.write_row(
                (lot.pk, position, number, json.dumps(payload), identity, pending, "[]")
            )  # fmt: skip


def receive_lot(
    config: LotConfig,
    *,
    professional: Professional,
    lot_format: LotFormat,
    stream: BinaryIO,
    channel: Channel,
    now: dt.datetime,
) -> Lot:
    """Read, check and store a lot; returns it ``received`` with every invoice pending.

    Raises LotFormatError (nothing stored): unreadable or truncated (naming line or entry
    and field), empty, more or fewer invoices than declared (LOT_COUNT_MISMATCH), billed
    total not the declared one (LOT_TOTAL_MISMATCH). Memory does not grow with the lot:
    invoices are read one by one and inserted ``INSERT_BATCH`` at a time."""
    parser = parser_for(lot_format, fhir_base=config.fhir_base)
    with transaction.atomic():
        header, invoices = parser.parse(stream)
        lot = Lot.objects.create(
            professional=professional,
            reference=header.reference,
            format=lot_format,
            channel=channel,
            declared_count=header.declared_count,
            declared_total=header.declared_total,
            status=LotStatus.RECEIVED,
            total_amc=ZERO,
            received_at=now,
        )
        count, lines, total = 0, 0, ZERO
        batch: list[tuple[int, str, dict[str, Any], str]] = []
        keys = config.keyring.encryption
        for parsed in invoices:
            count += 1
            if count > header.declared_count:
                raise LotFormatError(
                    LotRefusal.COUNT_MISMATCH,
                    f"plus de factures que les {header.declared_count} annoncées",
                    line=None,
                    field="count",
                )
            total += parsed.invoice.total_billed
            lines += len(parsed.invoice.lines)
            batch.append(
                (
                    count,
                    parsed.invoice.invoice_number,
                    invoice_to_json(parsed.invoice),
                    encrypt_field(
                        keys,
                        json.dumps(identity_to_json(parsed.identity)),
                        table=_TABLE,
                        column=_IDENTITY_COLUMN,
                        row_id=_row_id(lot.pk, count),
                    ),
                )
            )
            if len(batch) >= INSERT_BATCH:
                _insert_entries(lot, batch)
                batch.clear()
        _insert_entries(lot, batch)
        if count != header.declared_count:
            raise LotFormatError(
                LotRefusal.COUNT_MISMATCH if count else LotRefusal.EMPTY,
                f"{count} factures reçues pour {header.declared_count} annoncées",
                field="count",
            )
        if total != header.declared_total:
            raise LotFormatError(
                LotRefusal.TOTAL_MISMATCH,
                f"total facturé des factures {total} € différent du total annoncé "
                f"{header.declared_total} €",
                field="total_billed",
            )
        lot.line_count = lines
        lot.save(update_fields=["line_count"])
    return lot


# --- adjudicating ------------------------------------------------------------------------


def _reason(reason: LotReason, number: str, field: str) -> dict[str, object]:
    return {
        "code": reason.value,
        "line": None,
        "field": field,
        "message": f"Facture {number}, champ {field} : {reason.label}.",
    }


@lru_cache(maxsize=64)
def _table(path: str, mtime: float) -> GuaranteeTable:
    return load_guarantee_table(Path(path))


def _guarantee_table(tables_dir: Path, name: str) -> GuaranteeTable | None:
    path = tables_dir / f"{name}.json"
    if not name or "/" in name or not path.is_file():
        return None
    return _table(str(path), path.stat().st_mtime)


def _age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class _Chunk:
    """One chunk's adjudication: state shared by its invoices."""

    def __init__(
        self,
        config: LotConfig,
        lot: Lot,
        now: dt.datetime,
        nomenclatures: Nomenclatures,
        numbers_taken: set[str],
    ) -> None:
        self.config = config
        self.lot = lot
        self.professional = lot.professional
        self.now = now
        self.today = timezone.localdate(now)
        self.nomenclatures = nomenclatures
        self.numbers_taken = numbers_taken
        self.batch: list[JudgedInvoice] = []
        self.accepted: list[tuple[Invoice, str]] = []
        self.context = RequestContext(
            channel=Channel(lot.channel),
            request_id=uuid.uuid4(),
            ip=None,
            user_agent=f"lot {lot.pk}",
            actor_id=None,
        )

    def identify_patient(
        self, identity: CardIdentity, care_date: dt.date, number: str
    ) -> RightsCheckResult | dict[str, object]:
        """The gate's answer for the invoice's patient (``check_rights``, purpose INVOICE:
        logged, counted, judged by the guard), or the reason it refused; ``identified``
        reads the answer. Raises GuardUnavailable (the counter store is down: retry the
        chunk later)."""
        config = self.config
        try:
            return check_rights(
                config.keyring,
                professional=self.professional,
                query=RightsCheckInput(
                    nir=identity.nir,
                    birth_date=identity.birth_date,
                    rang=identity.rang,
                    amc_number=identity.amc_number,
                    care_date=care_date,
                ),
                context=self.context,
                now=self.now,
                today=self.today,
                quota_storage_uri=config.quota_storage_uri,
                daily_quota=config.daily_quota,
                policy=config.policy,
                purpose=Purpose.INVOICE,
            )
        except InvalidRightsCheck as exc:
            return _reason(LotReason.INVALID_IDENTITY, number, f"patient.{exc.field}")
        except GuardUnavailable:
            raise
        except GuardRefusal:
            return _reason(LotReason.IDENTIFICATION_REFUSED, number, "patient")

    def identified(
        self,
        checked: RightsCheckResult | dict[str, object],
        care_date: dt.date,
        number: str,
        engagement: str,
    ) -> Beneficiary | dict[str, object]:
        """The covered beneficiary the gate's answer (``identify_patient``) names (its log
        row's), or the reason the invoice is rejected. A beneficiary whose rights ended on
        ``care_date`` is still returned when the invoice quotes an ``engagement`` that
        guarantees them (``engagements.rights_guaranteed``: this professional's, this
        beneficiary's, this date, unused, unexpired; issue 17 part 5)."""
        if not isinstance(checked, RightsCheckResult):
            return checked
        if checked.outcome == Outcome.AMBIGUOUS:
            return _reason(LotReason.RANG_REQUIRED, number, "patient.rang")
        if checked.outcome == Outcome.NOT_COVERED:
            guaranteed = self._guaranteed(checked.beneficiary, care_date, engagement)
            if guaranteed is None:
                return _reason(LotReason.NO_RIGHTS_ON_DATE, number, "care_date")
            return guaranteed
        if checked.outcome != Outcome.COVERED:
            return _reason(LotReason.BENEFICIARY_UNKNOWN, number, "patient")
        assert checked.beneficiary is not None  # a covered answer always names someone
        return checked.beneficiary

    def _guaranteed(
        self, beneficiary: Beneficiary | None, care_date: dt.date, engagement: str
    ) -> Beneficiary | None:
        """The beneficiary a "rights ended" answer names (the one its log row names), when
        ``engagement`` guarantees their rights on ``care_date``; None otherwise."""
        if not engagement or beneficiary is None:
            return None
        if not rights_guaranteed(
            engagement,
            professional=self.professional,
            beneficiary=beneficiary,
            care_date=care_date,
            now=self.now,
        ):
            return None
        return beneficiary

    def adjudicate(self, entries: list[LotEntry]) -> list[Invoice | dict[str, object]]:
        """Adjudicate the chunk's invoices, in order: each one's stored ``Invoice``
        (accepted or rejected on its content), or the reason it was rejected before
        (identity, duplicate, table). Every patient is identified first through the gate,
        then the duplicate register is read once for the whole chunk, then each invoice is
        judged in order (an earlier invoice of the chunk counts for the later ones:
        numbers, contents, engagements used up) and stored, two statements per table."""
        keys = self.config.keyring.encryption
        prepared: list[tuple[InvoiceInput, CardIdentity, RightsCheckResult] | dict[str, object]]
        prepared = []
        for entry in entries:
            invoice = invoice_from_json(entry.payload)
            number = invoice.invoice_number
            if number in self.numbers_taken:
                prepared.append(_reason(LotReason.DUPLICATE_INVOICE, number, "invoice_number"))
                continue
            self.numbers_taken.add(number)
            identity = CardIdentity(
                **json.loads(
                    decrypt_field(
                        keys,
                        entry.identity_ciphertext,
                        table=_TABLE,
                        column=_IDENTITY_COLUMN,
                        row_id=_row_id(self.lot.pk, entry.position),
                    )
                )
            )
            checked = self.identify_patient(identity, invoice.care_date, number)
            if isinstance(checked, RightsCheckResult):
                prepared.append((invoice, identity, checked))
            else:
                prepared.append(checked)
        billed = self._billed_contents(
            [
                _content_key(p[2].beneficiary.pk, p[0])
                for p in prepared
                if isinstance(p, tuple) and p[2].beneficiary is not None
            ]
        )
        outcomes = [
            item if isinstance(item, dict) else self._judge(*item, billed) for item in prepared
        ]
        store_judged_batch(self.batch)
        BilledInvoice.objects.bulk_create(
            BilledInvoice(
                professional=self.professional,
                invoice_number=row.invoice_number,
                content_key=key,
                channel="lot",
                reference=f"invoice:{row.pk}",
                recorded_at=self.now,
            )
            for row, key in self.accepted
        )
        return [o.row if isinstance(o, JudgedInvoice) else o for o in outcomes]

    def _billed_contents(self, keys: list[str]) -> set[str]:
        """The content keys among ``keys`` already in the duplicate register (any channel)."""
        if not keys:
            return set()
        return set(
            BilledInvoice.objects.filter(
                professional=self.professional, content_key__in=keys
            ).values_list("content_key", flat=True)
        )

    def _judge(
        self,
        invoice: InvoiceInput,
        identity: CardIdentity,
        checked: RightsCheckResult,
        billed: set[str],
    ) -> JudgedInvoice | Invoice | dict[str, object]:
        """One identified invoice: judged (stored with the chunk), stored (it quotes an
        engagement: used up now, before the next invoice), or the reason it was rejected.
        ``billed`` holds the register's content keys, and gets the accepted ones."""
        number = invoice.invoice_number
        found = self.identified(checked, invoice.care_date, number, invoice.engagement)
        if not isinstance(found, Beneficiary):
            return found
        key = _content_key(found.pk, invoice)
        if key in billed:
            return _reason(LotReason.DUPLICATE_INVOICE, number, "lines")
        table = _guarantee_table(self.config.tables_dir, found.contract.guarantee_table)
        if table is None:
            return _reason(LotReason.GUARANTEE_TABLE_MISSING, number, "patient")
        born = dt.date.fromisoformat(identity.birth_date)
        judged = judge_invoice(
            invoice,
            professional=self.professional,
            beneficiary=found,
            table=table,
            beneficiary_age=_age_on(born, invoice.care_date),
            history=History(),
            now=self.now,
            nomenclatures=self.nomenclatures,
            lot=self.lot,
            engagement=invoice.engagement or None,
        )
        if judged.row.status == EntryStatus.ACCEPTED:
            billed.add(key)
            self.accepted.append((judged.row, key))
        if invoice.engagement:
            return store_judged(judged, now=self.now)
        self.batch.append(judged)
        return judged


def _content_key(beneficiary_id: object, invoice: InvoiceInput) -> str:
    return billing_key(
        beneficiary_id, invoice.care_date, [(line.code, line.billed) for line in invoice.lines]
    )


def _update_entries(entries: list[LotEntry]) -> None:
    """Store the chunk's outcomes (status, reasons, invoice; identity erased): one
    ``UPDATE ... FROM (VALUES ...)`` on PostgreSQL (the ORM's ``bulk_update`` builds a
    ``CASE`` per column that PostgreSQL took 1 ms an invoice to plan), ``bulk_update``
    elsewhere."""
    connection = connections[LotEntry.objects.db]
    if connection.vendor != "postgresql":
        LotEntry.objects.bulk_update(
            entries, ["status", "reasons", "invoice", "identity_ciphertext"], batch_size=500
        )
        return
    rows = ", ".join(["(%s::bigint, %s::varchar, %s::jsonb, %s::bigint)"] * len(entries))
    values: list[int | str | None] = []
    for e in entries:
        values += [e.pk, e.status, json.dumps(e.reasons), e.invoice_id]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_TABLE} AS e SET status = v.status, reasons = v.reasons, "  # noqa: S608 - table name from the model
            f"invoice_id = v.invoice_id, identity_ciphertext = '' "
            f"FROM (VALUES {rows}) AS v(id, status, reasons, invoice_id) WHERE e.id = v.id",
            values,
        )


def _numbers_taken(professional: Professional, numbers: list[str]) -> set[str]:
    """Invoice numbers of ``numbers`` the professional already used (lots or claims)."""
    taken = set(
        Invoice.objects.filter(professional=professional, invoice_number__in=numbers).values_list(
            "invoice_number", flat=True
        )
    )
    taken.update(
        BilledInvoice.objects.filter(
            professional=professional, invoice_number__in=numbers
        ).values_list("invoice_number", flat=True)
    )
    return taken


def adjudicate_chunk(
    config: LotConfig, lot_id: int, *, now: dt.datetime, nomenclatures: Nomenclatures
) -> int:
    """Adjudicate the next ``config.chunk_size`` pending invoices of the lot in one
    transaction and add them to its progress; returns how many were done (0: none left).
    Raises GuardUnavailable (nothing of the chunk is kept; run it again later)."""
    with transaction.atomic():
        lot = Lot.objects.select_for_update().select_related("professional").get(pk=lot_id)
        entries = list(
            LotEntry.objects.filter(lot=lot, status=EntryStatus.PENDING).order_by("position")[
                : config.chunk_size
            ]
        )
        if not entries:
            return 0
        numbers = [entry.invoice_number for entry in entries]
        chunk = _Chunk(config, lot, now, nomenclatures, _numbers_taken(lot.professional, numbers))
        accepted, amc = 0, ZERO
        for entry, outcome in zip(entries, chunk.adjudicate(entries), strict=True):
            if isinstance(outcome, Invoice):
                entry.invoice = outcome
                entry.status = EntryStatus(outcome.status)
                entry.reasons = outcome.reasons
                if outcome.status == EntryStatus.ACCEPTED:
                    accepted += 1
                    amc += outcome.total_amc
            else:
                entry.status = EntryStatus.REJECTED
                entry.reasons = [outcome]
            entry.identity_ciphertext = ""
        _update_entries(entries)
        Lot.objects.filter(pk=lot.pk).update(
            processed_count=F("processed_count") + len(entries),
            accepted_count=F("accepted_count") + accepted,
            rejected_count=F("rejected_count") + len(entries) - accepted,
            total_amc=F("total_amc") + amc,
        )
    return len(entries)


def adjudicate_lot(config: LotConfig, lot_id: int, *, clock: Callable[[], dt.datetime]) -> Lot:
    """Adjudicate every pending invoice of the lot, chunk by chunk (``clock()`` gives the
    aware UTC instant of each chunk), then mark it done. Safe to run again after a crash
    or a redelivery: only pending invoices are taken. Raises GuardUnavailable."""
    Lot.objects.filter(pk=lot_id, status=LotStatus.RECEIVED).update(
        status=LotStatus.PROCESSING, started_at=clock()
    )
    nomenclatures = Nomenclatures()
    while adjudicate_chunk(config, lot_id, now=clock(), nomenclatures=nomenclatures):
        pass
    Lot.objects.filter(pk=lot_id).exclude(status=LotStatus.DONE).update(
        status=LotStatus.DONE, finished_at=clock()
    )
    return Lot.objects.get(pk=lot_id)
