"""The demo's professionals of every profession and a ready lot file for each.

Beside the optician, ``seed_lot_professionals`` creates a pharmacist, a laboratory, a nurse,
a physiotherapist and a GP with their SESAM-Vitale specialty codes (``snds_IR_SPE_V.csv``
for doctors, ``IR_ACT_V`` for the other professions); ``write_demo_lots`` writes
``var/lot-<profession>.jsonl`` for each: the demo's covered patients, real nomenclature codes,
2025 key-letter values (AMI 3.15 EUR, AMK 2.15 EUR, G 30 EUR, B 0.27 EUR), AMO amounts as a
certified software would state them and totals that add up. Send one in the portal (Lots)
or with ``curl -F file=@var/lot-pharmacist.jsonl -F format=jsonl``.
"""

from __future__ import annotations

import datetime
import json
import random
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from tierspayant.invoices.choices import CodeSystem
from tierspayant.invoices.inputs import InvoiceInput, LineInput
from tierspayant.invoices.lot_formats.codec import invoice_to_json
from tierspayant.providers.choices import Profession
from tierspayant.providers.identifiers import luhn_complete
from tierspayant.providers.models import Professional
from tierspayant.providers.services import create_professional
from tierspayant.providers.synthetic import synthetic_rpps

#: Demo professionals of lots: username, profession, SESAM-Vitale specialty, name.
LOT_PROFESSIONALS = [
    ("pharmacien.demo", Profession.PHARMACIST, "50", "Pharmacie du Parc"),
    ("laboratoire.demo", Profession.LABORATORY, "30", "Laboratoire Bio Centre"),
    ("infirmier.demo", Profession.NURSE, "24", "Infirmier Martin"),
    ("kine.demo", Profession.PHYSIOTHERAPIST, "26", "Cabinet de kinésithérapie"),
    ("generaliste.demo", Profession.PHYSICIAN, "01", "Docteur Bernard"),
]
PRESCRIBER = luhn_complete("1000123456")  # a synthetic RPPS with a valid key

# code system, code, unit price, quantity, AMO rate, AMO paid, participation, franchise, coeff.
_Line = tuple[str, str, str, int, str, str, str, str, str | None]
_INVOICES: dict[str, list[_Line]] = {
    "50": [
        ("CIP13", "3400936963504", "12.81", 1, "65", "7.33", "0.00", "1.00", None),
        ("CIP13", "3400933783310", "3.17", 1, "30", "0.95", "0.00", "0.00", None),
    ],
    "30": [
        ("NABM", "1104", "7.02", 1, "60", "2.21", "2.00", "0.00", "26"),
        ("NABM", "1610", "5.94", 1, "60", "3.56", "0.00", "0.00", "22"),
    ],
    "24": [("NGAP", "AMI", "3.15", 1, "60", "0.89", "0.00", "1.00", "1")],
    "26": [("NGAP", "AMK", "16.13", 1, "60", "8.68", "0.00", "1.00", "7.5")],
    "01": [("NGAP", "G", "30.00", 1, "70", "19.00", "2.00", "0.00", None)],
}
#: Specialties whose acts need a prescription.
_PRESCRIBED = {"50", "30", "24", "26"}


def seed_lot_professionals(rng: random.Random) -> list[Professional]:
    """Create the five demo professionals of lots (no password anyone knows: sign in as
    them with ``tierspayant changepassword <username>`` if needed)."""
    return [
        create_professional(
            username=username,
            password=secrets.token_urlsafe(16),
            profession=profession,
            display_name=name,
            rpps=synthetic_rpps(rng),
            specialty_code=specialty,
        )
        for username, profession, specialty, name in LOT_PROFESSIONALS
    ]


def demo_invoice(specialty: str, number: str, care_date: datetime.date) -> InvoiceInput:
    """The typical invoice of ``specialty`` (illness, no exemption, general regime)."""
    lines = []
    for system, code, unit, quantity, rate, amo, pf, franchise, coefficient in _INVOICES[specialty]:
        billed = (Decimal(unit) * quantity).quantize(Decimal("0.01"))
        lines.append(
            LineInput(
                code_system=CodeSystem(system),
                code=code,
                quantity=quantity,
                unit_price=Decimal(unit),
                billed=billed,
                br=billed,
                amo_rate=Decimal(rate),
                amo_paid=Decimal(amo),
                participation_forfaitaire=Decimal(pf),
                franchise=Decimal(franchise),
                coefficient=Decimal(coefficient) if coefficient else None,
            )
        )
    prescribed = specialty in _PRESCRIBED
    return InvoiceInput(
        invoice_number=number,
        care_date=care_date,
        insurance_nature="10",
        exemption="0",
        amo_regime="1",
        total_billed=sum((line.billed for line in lines), Decimal("0.00")),
        total_amo=sum((line.amo_paid for line in lines), Decimal("0.00")),
        lines=tuple(lines),
        prescriber_rpps=PRESCRIBER if prescribed else "",
        prescription_date=care_date - datetime.timedelta(days=3) if prescribed else None,
    )


def demo_lot(specialty: str, patients: list[dict[str, Any]], care_date: datetime.date) -> bytes:
    """A flat-file lot of one invoice of ``specialty`` per patient (``{"nir", "birth_date",
    "rang", "amc_number"}``), care on ``care_date``."""
    invoices = [
        demo_invoice(specialty, f"{specialty}-{care_date:%Y%m%d}-{n:03d}", care_date)
        for n in range(1, len(patients) + 1)
    ]
    header = {
        "lot": f"DEMO-{specialty}-{care_date:%Y%m%d}",
        "count": len(invoices),
        "total_billed": str(sum((i.total_billed for i in invoices), Decimal("0.00"))),
    }
    rows = [header] + [
        {
            **invoice_to_json(invoice),
            "patient": {key: patient[key] for key in ("nir", "birth_date", "rang", "amc_number")},
        }
        for invoice, patient in zip(invoices, patients, strict=True)
    ]
    return b"".join(json.dumps(row, ensure_ascii=False).encode() + b"\n" for row in rows)


def write_demo_lots(
    directory: Path, patients: list[dict[str, Any]], care_date: datetime.date
) -> list[Path]:
    """Write ``lot-<profession>.jsonl`` for each demo professional of lots; the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for _, profession, specialty, _ in LOT_PROFESSIONALS:
        path = directory / f"lot-{profession.value}.jsonl"
        path.write_bytes(demo_lot(specialty, patients, care_date))
        paths.append(path)
    return paths
