"""An invoice as the professional's software states it, before any check: plain frozen
dataclasses (amounts in euros as ``Decimal``, rates in percent, dates as ``date``).

Lots (FHIR ``Claim`` or flat files) are parsed into these; ``services.validate_invoice``
checks them against the nomenclatures and returns reason codes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from tierspayant.coverage import SanteClass
from tierspayant.invoices.choices import CodeSystem


@dataclass(frozen=True, slots=True)
class LineInput:
    """One line: ``code`` in ``code_system``; ``coefficient`` of an NGAP key letter (AMI
    1.5: ``Decimal("1.5")``); ``quantity`` (acts, boxes, days); ``unit_price`` and
    ``billed`` (= quantity x unit price); ``br`` (base de remboursement); ``amo_rate``
    (percent); ``amo_paid`` (the AMO amount as the invoice states it, used as is);
    ``participation_forfaitaire`` and ``franchise`` (withheld by the AMO);
    ``sante_class`` (dental prostheses: 100 % Santé basket ``100_sante``, ``maitrise``,
    ``libre``); ``price_limit`` (regulated price limit of such an item, euros)."""

    code_system: CodeSystem
    code: str
    quantity: int
    unit_price: Decimal
    billed: Decimal
    br: Decimal
    amo_rate: Decimal
    amo_paid: Decimal
    participation_forfaitaire: Decimal = Decimal("0.00")
    franchise: Decimal = Decimal("0.00")
    coefficient: Decimal | None = None
    sante_class: SanteClass | None = None
    price_limit: Decimal | None = None


@dataclass(frozen=True, slots=True)
class InvoiceInput:
    """One invoice: the professional's ``invoice_number``; ``care_date`` (and
    ``care_end_date`` for a period, e.g. a hospital stay); ``insurance_nature``
    (IR_ASU_V: 10 illness, 30 maternity, 40 work accident...); ``exemption`` (IR_EXO_V: 0
    none, 41 ALD...); ``amo_regime`` (IR_GRG_V: 1 general...); ``local_regime`` (IR_MTM_V:
    0 none, 2 Alsace-Moselle); the prescriber's RPPS and the prescription date where the
    care needs one; the declared ``total_billed`` and ``total_amo`` (euros); the lines;
    ``engagement``: the engagement number a rights check v2 or a calculation gave and the
    invoice quotes ("" when none; honoured or refused by ``invoices.engagements``)."""

    invoice_number: str
    care_date: dt.date
    insurance_nature: str
    exemption: str
    amo_regime: str
    total_billed: Decimal
    total_amo: Decimal
    lines: tuple[LineInput, ...] = field(default_factory=tuple)
    local_regime: str = "0"
    care_end_date: dt.date | None = None
    prescriber_rpps: str = ""
    prescription_date: dt.date | None = None
    engagement: str = ""
