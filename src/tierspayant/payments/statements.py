"""Remittance statements: one PDF and one CSV per professional and run. Each invoice paid
shows the patient reference without NIR (approval number, else invoice number), the care
date, the insurer, amounts billed / AMO / AMC / RAC in euros, and the reason codes; each
overpayment recovered by the run is a negative line (the invoice it was owed on, « indu
récupéré », minus the amount recovered; issue 16 part 4, docs/money.md)."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from fpdf import FPDF

PAID = "paiement"
RECOVERED = "indu récupéré"

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
    "nature",
]


@dataclass(frozen=True)
class StatementRow:
    """One line: an invoice paid (``nature`` PAID, every amount) or an overpayment
    recovered (``nature`` RECOVERED: ``amc`` negative, billed/AMO/RAC None). Euros."""

    invoice_number: str
    patient_reference: str
    care_date: datetime.date
    amc_number: str
    billed: Decimal | None
    amo: Decimal | None
    amc: Decimal
    rac: Decimal | None
    reasons: str
    nature: str = PAID


@dataclass(frozen=True)
class StatementHeader:
    """Who and what: professional's name and national id, run reference, execution date
    (text), masked account paid, total transferred in euros (>= 0; 0 when every invoice's
    AMC went to reduce a debt), the run's instant (PDF metadata), the overpayments
    recovered (>= 0) and what is still owed after the run (carried forward, >= 0)."""

    professional: str
    national_id: str
    run_reference: str
    execution_date: str
    account: str
    total: Decimal
    created_at: datetime.datetime
    recovered: Decimal = Decimal("0.00")
    still_owed: Decimal = Decimal("0.00")


def _euros(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:.2f}"


def statement_csv(rows: list[StatementRow]) -> bytes:
    """The CSV (``;``-separated, UTF-8 with BOM for spreadsheets), one row per invoice paid
    then one per overpayment recovered."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            [
                row.invoice_number,
                row.patient_reference,
                row.care_date.isoformat(),
                row.amc_number,
                _euros(row.billed),
                _euros(row.amo),
                _euros(row.amc),
                _euros(row.rac),
                row.reasons,
                row.nature,
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _latin1(text: str) -> str:
    return (
        text.replace("…", "...").replace("€", "EUR").encode("latin-1", "replace").decode("latin-1")
    )


#: The PDF table's columns: title, width in characters, right-aligned (amounts).
COLUMNS = [
    ("Facture", 20, False),
    ("Réf. patient", 20, False),
    ("Date soins", 10, False),
    ("AMC", 10, False),
    ("Facturé", 11, True),
    ("AMO", 11, True),
    ("Part AMC", 11, True),
    ("Reste à charge", 15, True),
    ("Motifs", 30, False),
]
TITLES = [title for title, _, _ in COLUMNS]


def _table_line(pdf: FPDF, values: list[str]) -> None:
    """One row of the table at the current line: each value cut or padded to its column."""
    cells = []
    for value, (_, width, right) in zip(values, COLUMNS, strict=True):
        text = value[:width]
        cells.append(text.rjust(width) if right else text.ljust(width))
    pdf.text(pdf.l_margin, pdf.get_y() + 3, _latin1(" ".join(cells)))
    pdf.set_y(pdf.get_y() + 4.5)


def statement_pdf(header: StatementHeader, rows: list[StatementRow]) -> bytes:
    """The PDF (A4, fpdf2 core font): header, one row per invoice paid and per overpayment
    recovered, totals."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_creation_date(header.created_at)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _latin1("Relevé de paiement tiers payant"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    lines = [
        f"Professionnel : {header.professional} ({header.national_id})",
        f"Campagne : {header.run_reference} - virement demandé pour le {header.execution_date}",
        f"Compte crédité : {header.account}",
    ]
    if header.recovered:
        lines.append(
            f"Factures payées (part complémentaire) : {_euros(header.total + header.recovered)}"
            f" EUR ; indus récupérés : -{_euros(header.recovered)} EUR"
        )
    lines.append(f"Total versé (part complémentaire) : {_euros(header.total)} EUR")
    if header.still_owed:
        lines.append(
            f"Indus restant dus, reportés sur les prochaines campagnes : "
            f"{_euros(header.still_owed)} EUR"
        )
    for text in lines:
        pdf.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    # The table in a monospaced core font, one text run per row: a run of 20,000
    # professionals writes a million rows, and one fpdf2 cell per value costs ten times more
    # (bench/payment_run_scale.py).
    pdf.set_font("Courier", "B", 8)
    _table_line(pdf, TITLES)
    pdf.set_font("Courier", "", 8)
    for row in rows:
        if pdf.get_y() > pdf.h - 15:
            pdf.add_page()
            pdf.set_font("Courier", "B", 8)
            _table_line(pdf, TITLES)
            pdf.set_font("Courier", "", 8)
        _table_line(
            pdf,
            [
                row.invoice_number,
                row.patient_reference,
                row.care_date.strftime("%d/%m/%Y"),
                row.amc_number,
                _euros(row.billed),
                _euros(row.amo),
                _euros(row.amc),
                _euros(row.rac),
                row.reasons if row.nature == PAID else RECOVERED,
            ],
        )
    return bytes(pdf.output())
