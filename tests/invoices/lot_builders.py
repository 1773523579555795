"""Lots for the tests: patients with contracts, lot files in both layouts built from
``InvoiceInput`` (the flat file through the codec, the FHIR Bundle element by element),
receiving and adjudicating them eagerly."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from tests.factories import ContractFactory, make_beneficiary, new_nir
from tierspayant.audit.choices import Channel
from tierspayant.guard.policy import DEFAULT_FLOORS, DEFAULT_POLICY, DEFAULT_QUOTAS, GuardPolicy
from tierspayant.invoices.choices import LotFormat
from tierspayant.invoices.inputs import InvoiceInput
from tierspayant.invoices.lot_formats.codec import invoice_to_json
from tierspayant.invoices.lots import LotConfig, adjudicate_lot, receive_lot
from tierspayant.invoices.models import Lot
from tierspayant.providers.choices import Profession
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary

NOW = dt.datetime(2025, 3, 20, 8, 0, tzinfo=dt.UTC)
BORN = dt.date(1980, 5, 17)


@dataclass
class Patient:
    beneficiary: Beneficiary
    nir: str
    born: dt.date

    def card(self, **extra: Any) -> dict[str, Any]:
        card: dict[str, Any] = {"nir": self.nir, "birth_date": self.born.isoformat(), "rang": 1}
        card.update(extra)
        return card


def make_patient(table: str = "essentiel", **extra: Any) -> Patient:
    born = extra.pop("born", BORN)
    nir = new_nir(born)
    contract = ContractFactory(guarantee_table=table)
    return Patient(
        make_beneficiary(contract=contract, nir=nir, birth_date=born, **extra), nir, born
    )


def jsonl(
    invoices: list[tuple[InvoiceInput, dict[str, Any]]],
    *,
    count: int | None = None,
    total: str | None = None,
    reference: str = "LOT-0001",
) -> bytes:
    """A flat-file lot: header, then one line per (invoice, card)."""
    declared = total or str(sum((i.total_billed for i, _ in invoices), Decimal("0.00")))
    lines = [
        {
            "lot": reference,
            "count": len(invoices) if count is None else count,
            "total_billed": declared,
        }
    ]
    lines += [{**invoice_to_json(i), "patient": card} for i, card in invoices]
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def every_profession_policy() -> GuardPolicy:
    """The default guard policy with quotas and floors for every profession (main's
    default lists six; the guard's invoice-volume quotas come with another change)."""
    quotas = {p: DEFAULT_QUOTAS.get(p, DEFAULT_QUOTAS[Profession.PHARMACIST]) for p in Profession}
    floors = {p: DEFAULT_FLOORS.get(p, DEFAULT_FLOORS[Profession.PHARMACIST]) for p in Profession}
    return dataclasses.replace(DEFAULT_POLICY, quotas=quotas, floors=floors)


def config() -> LotConfig:
    return dataclasses.replace(LotConfig.from_settings(settings), policy=every_profession_policy())


def receive(
    professional: Professional, body: bytes, lot_format: LotFormat = LotFormat.JSONL
) -> Lot:
    return receive_lot(
        config(),
        professional=professional,
        lot_format=lot_format,
        stream=io.BytesIO(body),
        channel=Channel.API,
        now=NOW,
    )


def send(professional: Professional, body: bytes, lot_format: LotFormat = LotFormat.JSONL) -> Lot:
    """Receive and adjudicate a lot at once (as an eager worker would)."""
    lot = receive(professional, body, lot_format)
    return adjudicate_lot(config(), lot.pk, clock=lambda: NOW)


def results(lot: Lot) -> list[tuple[str, str, list[str]]]:
    """(invoice number, status, reason codes) of each invoice of the lot, in order."""
    return [
        (e.invoice_number, e.status, [str(r["code"]) for r in e.reasons])
        for e in lot.entries.order_by("position")
    ]


__all__ = ["timezone"]
