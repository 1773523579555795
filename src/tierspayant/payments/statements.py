"""Remittance statements: one PDF and one CSV per professional and run. Each invoice shows
the patient reference without NIR (approval number, else invoice number), the care date,
the insurer, amounts billed / AMO / AMC / RAC in euros, and the reason codes."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from fpdf import FPDF

from tierspayant.claims.models import Claim

CSV_HEADER = [
    "facture",
    "reference_patient",
    "date_soins",
    "amc",
    "montant_facture",
    "part_amo",
    "part_amc",
    "reste_a_charge",
    "codes_motifs",
]


@dataclass(frozen=True)
class StatementHeader:
    """Who and what: professional's name and national id, run reference, execution date
    (text), masked account paid, total in euros, the run's instant (PDF metadata)."""

    professional: str
    national_id: str
    run_reference: str
    execution_date: str
    account: str
    total: Decimal
    created_at: datetime.datetime


def _reasons(claim: Claim) -> str:
    codes: list[str] = list(claim.reasons)
    for line in claim.lines.all():
        codes.extend(code for code in line.reasons if code not in codes)
    return " ".join(codes)


def _euros(amount: Decimal) -> str:
    return f"{amount:.2f}"


def statement_csv(claims: list[Claim]) -> bytes:
    """The CSV (``;``-separated, UTF-8 with BOM for spreadsheets), one row per invoice."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for claim in claims:
        writer.writerow(
            [
                claim.invoice_number,
                claim.patient_reference,
                claim.care_date.isoformat(),
                claim.insurer.amc_number,
                _euros(claim.total_billed),
                _euros(claim.total_amo),
                _euros(claim.total_amc),
                _euros(claim.total_rac),
                _reasons(claim),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _latin1(text: str) -> str:
    return (
        text.replace("…", "...").replace("€", "EUR").encode("latin-1", "replace").decode("latin-1")
    )


def statement_pdf(header: StatementHeader, claims: list[Claim]) -> bytes:
    """The PDF (A4, fpdf2 core font): header, one row per invoice, total."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_creation_date(header.created_at)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _latin1("Relevé de paiement tiers payant"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for text in (
        f"Professionnel : {header.professional} ({header.national_id})",
        f"Campagne : {header.run_reference} - virement demandé pour le {header.execution_date}",
        f"Compte crédité : {header.account}",
        f"Total versé (part complémentaire) : {_euros(header.total)} EUR",
    ):
        pdf.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = [38, 38, 24, 26, 26, 24, 24, 26, 50]
    titles = [
        "Facture",
        "Réf. patient",
        "Date soins",
        "AMC",
        "Facturé",
        "AMO",
        "Part AMC",
        "Reste à charge",
        "Motifs",
    ]
    pdf.set_font("Helvetica", "B", 8)
    for width, title in zip(widths, titles, strict=True):
        pdf.cell(width, 6, _latin1(title), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 8)
    for claim in claims:
        values = [
            claim.invoice_number,
            claim.patient_reference,
            claim.care_date.strftime("%d/%m/%Y"),
            claim.insurer.amc_number,
            _euros(claim.total_billed),
            _euros(claim.total_amo),
            _euros(claim.total_amc),
            _euros(claim.total_rac),
            _reasons(claim)[:40],
        ]
        for width, value in zip(widths, values, strict=True):
            pdf.cell(width, 6, _latin1(value), border=1)
        pdf.ln()
    return bytes(pdf.output())
