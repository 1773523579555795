"""The files of an insurer's settlement: the export (CSV), the notice (PDF) and the direct
debit of the insurer (SEPA pain.008.001.08, built with sepaxml's ``SepaDD`` and validated
against the official XSD with xmlschema before anything is committed).

The export names the beneficiary by internal id (UUID), never by NIR or name; the notice
carries totals only (no invoice, professional or beneficiary)."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import xmlschema
from fpdf import FPDF
from sepaxml import SepaDD

from tierspayant.payments.sepa import SepaFileInvalid
from tierspayant.text import sepa_id, sepa_text

DEBIT_SCHEMA = "pain.008.001.08"
#: Copy of ../shared/fixtures/sepa/pain.008.001.08.xsd (ISO 20022, as shipped by sepaxml).
DEFAULT_DEBIT_XSD = Path(__file__).resolve().parent / "schemas" / f"{DEBIT_SCHEMA}.xsd"
ZERO = Decimal("0.00")

EXPORT_HEADER = [
    "campagne",
    "numero_amc",
    "facture_id",
    "numero_facture",
    "professionnel",
    "beneficiaire",
    "date_soins",
    "codes",
    "br",
    "amo",
    "amc",
    "reste_a_charge",
    "codes_motifs",
    "numeros_accord",
    "reference_virement",
    "evenement",
    "montant",
]


@dataclass(frozen=True)
class ExportRow:
    """One line of the export: run reference, insurer's AMC number, invoice id and number,
    professional's national id (RPPS/ADELI/FINESS), beneficiary's internal id (UUID), care
    date, codes (``system:code`` separated by spaces), BR / AMO / AMC / remaining cost of the
    invoice (euros), reason codes, approval numbers, the transfer's end-to-end id (paid), the
    event kind and its amount (euros; empty for a rejection)."""

    run: str
    amc_number: str
    invoice_id: int
    invoice_number: str
    professional: str
    beneficiary: str
    care_date: datetime.date
    codes: str
    br: Decimal
    amo: Decimal
    amc: Decimal
    rac: Decimal
    reason_codes: str
    approvals: str
    transfer: str
    kind: str
    amount: Decimal | None


def _euros(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:.2f}"


def _cells(row: ExportRow) -> list[object]:
    return [
        row.run,
        row.amc_number,
        row.invoice_id,
        row.invoice_number,
        row.professional,
        row.beneficiary,
        row.care_date.isoformat(),
        row.codes,
        _euros(row.br),
        _euros(row.amo),
        _euros(row.amc),
        _euros(row.rac),
        row.reason_codes,
        row.approvals,
        row.transfer,
        row.kind,
        _euros(row.amount),
    ]


def export_csv(rows: Iterable[ExportRow]) -> bytes:
    """The export (``;``-separated, UTF-8 with BOM for spreadsheets), :data:`EXPORT_HEADER`
    then one row per line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    writer.writerows(_cells(row) for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_export(path: Path, rows: Iterable[ExportRow], *, batch: int = 1000) -> str:
    """Write the export (as :func:`export_csv`) to ``path`` as the rows come, ``batch`` rows
    at a time, without holding them all; returns the SHA-256 (hex) of the bytes written.
    Raises OSError."""
    digest = hashlib.sha256()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    buffer.write("\ufeff")
    writer.writerow(EXPORT_HEADER)
    with path.open("wb") as handle:

        def flush() -> None:
            data = buffer.getvalue().encode("utf-8")
            digest.update(data)
            handle.write(data)
            buffer.seek(0)
            buffer.truncate(0)

        for count, row in enumerate(rows, start=1):
            writer.writerow(_cells(row))
            if count % batch == 0:
                flush()
        flush()
    return digest.hexdigest()


@dataclass(frozen=True)
class NoticeFigures:
    """What the notice says: run reference, execution date, insurer (name, AMC number),
    funding mode (label), and totals in euros: by kind ({label: (count, euros)}), by domain
    ({label: euros} of the paid lines), transfers (count and control sum), paid, recovered
    and net; the run's instant (PDF metadata)."""

    run_reference: str
    execution_date: datetime.date
    insurer_name: str
    amc_number: str
    funding: str
    by_kind: dict[str, tuple[int, Decimal]]
    by_domain: dict[str, Decimal]
    transfer_count: int
    control_sum: Decimal
    paid_total: Decimal
    recovered_total: Decimal
    net_total: Decimal
    created_at: datetime.datetime
    debit: str = ""
    notes: list[str] = field(default_factory=list)


def _latin1(text: str) -> str:
    return (
        text.replace("…", "...").replace("€", "EUR").encode("latin-1", "replace").decode("latin-1")
    )


def notice_pdf(figures: NoticeFigures) -> bytes:
    """The settlement notice (A4 portrait, fpdf2 core font): header, totals by kind and by
    domain, transfers, funding. No personal data."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(figures.created_at)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _latin1("Avis de règlement tiers payant"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for text in (
        f"Organisme : {figures.insurer_name} (AMC {figures.amc_number})",
        f"Campagne : {figures.run_reference} - exécution le {figures.execution_date:%d/%m/%Y}",
        f"Financement : {figures.funding}",
        *([figures.debit] if figures.debit else []),
    ):
        pdf.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    def table(title: str, rows: list[tuple[str, str, str]]) -> None:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 7, _latin1(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        for label, count, amount in rows:
            pdf.cell(90, 6, _latin1(label), border=1)
            pdf.cell(30, 6, count, border=1, align="R")
            pdf.cell(40, 6, amount, border=1, align="R")
            pdf.ln()
        pdf.ln(2)

    table(
        "Lignes par nature (nombre, montant en euros)",
        [(label, str(count), _euros(amount)) for label, (count, amount) in figures.by_kind.items()],
    )
    table(
        "Montants payés par domaine (euros)",
        [(label, "", _euros(amount)) for label, amount in figures.by_domain.items()]
        or [("(aucun paiement)", "", _euros(ZERO))],
    )
    table(
        "Virements et totaux (euros)",
        [
            ("Virements émis (somme de contrôle)", str(figures.transfer_count),
             _euros(figures.control_sum)),
            ("Total payé", "", _euros(figures.paid_total)),
            ("Indus récupérés", "", _euros(figures.recovered_total)),
            ("Total net à financer", "", _euros(figures.net_total)),
        ],
    )  # fmt: skip
    for note in figures.notes:
        pdf.multi_cell(0, 5, _latin1(note), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@dataclass(frozen=True)
class Creditor:
    """The operator collecting by direct debit: name, IBAN, BIC and SEPA creditor
    identifier (ICS)."""

    name: str
    iban: str
    bic: str
    creditor_id: str


@dataclass(frozen=True)
class DirectDebit:
    """The one collection of an insurer's run total: debtor name, IBAN, BIC, amount in
    euros, mandate id and signature date, end-to-end id (<= 35 characters), remittance."""

    name: str
    iban: str
    bic: str
    amount: Decimal
    mandate_id: str
    mandate_date: datetime.date
    end_to_end_id: str
    remittance: str


@cache
def _schema(path: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(path)


def validate_debit(xml: bytes, xsd: Path = DEFAULT_DEBIT_XSD) -> None:
    """Raise ``payments.sepa.SepaFileInvalid`` unless ``xml`` is valid against ``xsd`` (the
    message names the failing path, never an account)."""
    try:
        errors = list(_schema(str(xsd)).iter_errors(xml.decode("utf-8")))
    except xmlschema.XMLSchemaException as exc:  # not a schema at all
        raise SepaFileInvalid(f"{DEBIT_SCHEMA}: schéma illisible ({type(exc).__name__})") from None
    if errors:
        raise SepaFileInvalid(f"{DEBIT_SCHEMA}: invalid at {errors[0].path}")


def build_pain008(
    *,
    creditor: Creditor,
    debit: DirectDebit,
    message_id: str,
    created_at: datetime.datetime,
    collection_date: datetime.date,
    xsd: Path = DEFAULT_DEBIT_XSD,
) -> bytes:
    """One pain.008.001.08 message: one batch, one recurrent (``RCUR``) CORE collection of
    ``debit`` by ``creditor`` on ``collection_date`` (texts put in the SEPA set first:
    ``text.sepa_text``). Validated against ``xsd``; raises SepaFileInvalid."""
    document = SepaDD(
        {
            "name": sepa_text(creditor.name, 70, field="creditor name") or "NOTPROVIDED",
            "IBAN": creditor.iban,
            "BIC": creditor.bic,
            "batch": True,
            "creditor_id": creditor.creditor_id,
            "currency": "EUR",
            "instrument": "CORE",
        },
        schema=DEBIT_SCHEMA,
        clean=False,
    )
    document.add_payment(
        {
            "name": sepa_text(debit.name, 70, field="debtor name") or "NOTPROVIDED",
            "IBAN": debit.iban,
            "BIC": debit.bic,
            "amount": int((debit.amount * 100).to_integral_value()),
            "type": "RCUR",
            "collection_date": collection_date,
            "mandate_id": sepa_id(debit.mandate_id, field="mandate id"),
            "mandate_date": debit.mandate_date,
            "description": sepa_text(debit.remittance, 140, field="remittance") or "NOTPROVIDED",
            "endtoend_id": sepa_id(debit.end_to_end_id, field="end-to-end id"),
        }
    )
    header = document._xml.find("CstmrDrctDbtInitn/GrpHdr")
    assert header is not None
    header.find("MsgId").text = sepa_id(message_id, field="message id")  # type: ignore[union-attr]
    header.find("CreDtTm").text = created_at.astimezone(datetime.UTC).strftime(  # type: ignore[union-attr]
        "%Y-%m-%dT%H:%M:%S"
    )
    xml: bytes = document.export(validate=False)
    validate_debit(xml, xsd)
    return xml
