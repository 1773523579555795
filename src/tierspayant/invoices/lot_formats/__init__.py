"""Lot layouts behind one interface: a ``LotParser`` reads a stream into the lot's header
and an iterator of ``ParsedInvoice`` (the invoice and its patient as read from the card).
Adjudication only ever sees these, so a licensed layout (B2, DRE) is one more adapter
registered in ``parser_for``, with no change elsewhere.

Adapters: ``jsonl.JsonLinesParser`` (flat file, one JSON object a line) and
``fhir.FhirBatchParser`` (FHIR R4 ``Bundle`` of type ``batch`` of ``Claim``).
docs/invoices.md gives both layouts with complete examples.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO, Protocol

from tierspayant.invoices.choices import LotFormat, LotRefusal
from tierspayant.invoices.inputs import InvoiceInput

#: Most invoices one lot may declare (a pharmacy's month is far below).
MAX_INVOICES = 1_000_000


@dataclass(frozen=True, slots=True)
class CardIdentity:
    """The patient as the card gives it: NIR (15 characters), birth date (ISO text, as
    read), rang de naissance (1-9, None when not given), AMC number (None when not given).
    Checked by the rights check (``eligibility.services.check_rights``), not here."""

    nir: str
    birth_date: str
    rang: int | None = None
    amc_number: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedInvoice:
    """One invoice of a lot and its patient."""

    identity: CardIdentity
    invoice: InvoiceInput


@dataclass(frozen=True, slots=True)
class LotHeader:
    """What the lot declares: the software's own ``reference``, the number of invoices and
    their billed total (euros)."""

    reference: str
    declared_count: int
    declared_total: Decimal


class LotFormatError(Exception):
    """The lot cannot be read: ``refusal`` code, French ``message`` naming where (``line``
    of the file or entry of the Bundle, 1-based, None for the whole lot; ``field``)."""

    def __init__(
        self, refusal: LotRefusal, message: str, *, line: int | None = None, field: str = ""
    ) -> None:
        where = f"ligne {line}, " if line is not None else ""
        where += f"champ {field} : " if field else ""
        super().__init__(f"{where}{message}")
        self.refusal = refusal
        self.line = line
        self.field = field
        self.detail = message

    def to_dict(self) -> dict[str, object]:
        """JSON form: ``{"code", "line", "field", "message"}``."""
        return {
            "code": self.refusal.value,
            "line": self.line,
            "field": self.field,
            "message": str(self),
        }


class LotParser(Protocol):
    """A lot layout: ``parse`` reads the header at once and yields the invoices one by one
    (streaming: a lot of a million lines is never held whole), raising LotFormatError as
    soon as something cannot be read (the caller then stores nothing)."""

    format: LotFormat

    def parse(self, stream: BinaryIO) -> tuple[LotHeader, Iterator[ParsedInvoice]]: ...


def parser_for(lot_format: LotFormat, *, fhir_base: str) -> LotParser:
    """The adapter of ``lot_format`` (``fhir_base``: the platform's FHIR base URL, which
    names its code systems and extensions)."""
    if lot_format == LotFormat.FHIR:  # fhir.resources is imported only for FHIR lots
        from tierspayant.invoices.lot_formats.fhir import FhirBatchParser

        return FhirBatchParser(fhir_base)
    from tierspayant.invoices.lot_formats.jsonl import JsonLinesParser

    return JsonLinesParser()
