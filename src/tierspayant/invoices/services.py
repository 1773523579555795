"""Invoices of every profession: loading the public nomenclatures, checking an invoice
against them, computing each line's AMC share through the coverage engine, recording it.

* ``load_nomenclatures(directory, now=...)``: (re)load the reference tables, bulk inserts.
* ``validate_invoice(invoice, specialty=..., establishment=..., nomenclatures=...)``:
  reason codes per line and field (``InvoiceCheck``); nothing is stored.
* ``price_invoice(invoice, check, table=..., beneficiary_age=..., history=...)``: the AMO
  amount as the invoice states it, the AMC and the patient's remaining cost per line.
* ``record_invoice(...)``: both, stored as an ``Invoice`` with its lines.

The AMO amount is never recomputed: the engine receives it as ``amo_paid``.
docs/invoices.md describes the model, the families and the reason codes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import connections, transaction

from tierspayant.coverage import (
    ActLine,
    CoverageError,
    CoverageResult,
    Family,
    GuaranteeTable,
    History,
    compute,
)
from tierspayant.invoices import engagements, lifecycle
from tierspayant.invoices.choices import CodeSystem, InvoiceReason, InvoiceStatus
from tierspayant.invoices.choices import ReferenceTableName as T
from tierspayant.invoices.inputs import InvoiceInput, LineInput
from tierspayant.invoices.models import (
    BilledInvoice,
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    Lot,
    ReferenceCode,
    ReferenceTable,
)
from tierspayant.invoices.nomenclatures import SPECS, Row, Spec
from tierspayant.invoices.routing import (
    CCAM_GROUPS,
    ESTABLISHMENT,
    LPP_THROUGH_APPROVAL,
    NGAP_KEYS,
    PRESCRIBED,
    families_for,
)
from tierspayant.invoices.selectors import CodeInfo, Nomenclatures
from tierspayant.providers.identifiers import InvalidIdentifier, validate_rpps
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary

ZERO = Decimal("0.00")
BATCH = 5000
#: Insurance natures (IR_ASU_V) and exemptions under which the AMO pays 100 %.
_FULL_RATE_NATURES = frozenset({"30", "40"})
_NO_EXEMPTION = "0"
_LOCAL_REGIME_NONE = "0"


# --- reference data ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What loading one table did: its name, file and rows stored."""

    name: str
    file: str
    rows: int


def _unique(rows: list[Row]) -> list[Row]:
    """One row per code: a code listed twice keeps the row valid the longest (open first)."""
    best: dict[str, Row] = {}
    for row in rows:
        kept = best.get(row.code)
        if kept is None or (
            kept.valid_to is not None and (row.valid_to is None or row.valid_to > kept.valid_to)
        ):
            best[row.code] = row
    return list(best.values())


def load_nomenclature(spec: Spec, directory: Path, *, now: dt.datetime) -> LoadReport:
    """Replace the rows of one table by those of its file in ``directory`` (one
    transaction, bulk inserts). Raises ``nomenclatures.NomenclatureError`` naming the
    file (and line) when it is absent or unreadable; nothing is changed then."""
    path = directory / spec.file
    rows = _unique(list(spec.rows(directory)))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with transaction.atomic():
        table, _ = ReferenceTable.objects.update_or_create(
            name=spec.name.value,
            defaults={
                "source_file": spec.file,
                "source_sha256": digest,
                "source": spec.source,
                "published_on": spec.published_on,
                "loaded_at": now,
                "row_count": len(rows),
            },
        )
        ReferenceCode.objects.filter(table=table).delete()
        _insert_codes(table.pk, rows)
    return LoadReport(spec.name.value, spec.file, len(rows))


_CODE_COLUMNS = ("table_id", "code", "label", "valid_from", "valid_to", "data")


def _insert_codes(table_id: int, rows: list[Row]) -> None:
    """Insert ``rows`` without the ORM's per-object work (the ORM took 18 s for the 53,000
    codes on SQLite): one ``COPY`` on PostgreSQL, ``executemany`` in batches on SQLite."""
    connection = connections[ReferenceCode.objects.db]
    table = ReferenceCode._meta.db_table
    columns = ", ".join(_CODE_COLUMNS)
    postgres = connection.vendor == "postgresql"

    def day(value: dt.date | None) -> dt.date | str | None:
        return value if postgres or value is None else value.isoformat()

    values = (
        (table_id, row.code, row.label, day(row.valid_from), day(row.valid_to),
         json.dumps(row.data or {}, ensure_ascii=False))
        for row in rows
    )  # fmt: skip
    with connection.cursor() as cursor:
        if postgres:
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)
            return
        marks = ", ".join(["%s"] * len(_CODE_COLUMNS))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - no input in it
        batch = list(itertools.islice(values, BATCH))
        while batch:
            cursor.executemany(sql, batch)
            batch = list(itertools.islice(values, BATCH))


def load_nomenclatures(
    directory: Path, *, now: dt.datetime, names: frozenset[str] | None = None
) -> list[LoadReport]:
    """Load every table of ``nomenclatures.SPECS`` (or those in ``names``) from
    ``directory``; each table in its own transaction."""
    return [
        load_nomenclature(spec, directory, now=now)
        for spec in SPECS
        if names is None or spec.name.value in names
    ]


# --- validation -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason an invoice is rejected: the code, the line (1-based; None for the
    invoice itself) and the field it names."""

    reason: InvoiceReason
    invoice_number: str
    line: int | None
    field: str

    @property
    def message(self) -> str:
        """French message naming invoice, line and field (no personal data, no code value)."""
        where = f"Facture {self.invoice_number}"
        if self.line is not None:
            where += f", ligne {self.line}"
        return f"{where}, champ {self.field} : {self.reason.label}."

    def to_dict(self) -> dict[str, object]:
        """JSON form: ``{"code", "line", "field", "message"}``."""
        return {
            "code": self.reason.value,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class InvoiceCheck:
    """The outcome of ``validate_invoice``: the problems found (empty: valid) and the
    family each line was routed to (None when it could not be)."""

    problems: tuple[Problem, ...]
    families: tuple[Family | None, ...]

    @property
    def valid(self) -> bool:
        """True when no problem was found."""
        return not self.problems


_HEADER_CODES = (
    (T.IR_ASU_V, "insurance_nature", InvoiceReason.UNKNOWN_NATURE),
    (T.IR_EXO_V, "exemption", InvoiceReason.UNKNOWN_EXEMPTION),
    (T.IR_GRG_V, "amo_regime", InvoiceReason.UNKNOWN_REGIME),
    (T.IR_MTM_V, "local_regime", InvoiceReason.UNKNOWN_LOCAL_REGIME),
)


class _Checker:
    def __init__(self, invoice: InvoiceInput, nomenclatures: Nomenclatures) -> None:
        self.invoice = invoice
        self.nomenclatures = nomenclatures
        self.problems: list[Problem] = []

    def add(self, reason: InvoiceReason, field: str, line: int | None = None) -> None:
        self.problems.append(Problem(reason, self.invoice.invoice_number, line, field))

    def header(self, specialty: str, establishment: bool) -> frozenset[Family]:
        invoice, find = self.invoice, self.nomenclatures.get
        if invoice.care_end_date is not None and invoice.care_end_date < invoice.care_date:
            self.add(InvoiceReason.CARE_PERIOD_INVALID, "care_end_date")
        for table, field, reason in _HEADER_CODES:
            if find(table, getattr(invoice, field)) is None:
                self.add(reason, field)
        if not invoice.lines:
            self.add(InvoiceReason.EMPTY_INVOICE, "lines")
        if establishment:
            return families_for(ESTABLISHMENT, doctor=False)
        specialty = specialty.strip().lstrip("0") or "0"  # SESAM-Vitale "01" is SNDS "1"
        if find(T.IR_SPE_V, specialty) is not None:
            return families_for(specialty, doctor=True)
        if find(T.IR_ACT_V, specialty) is not None:
            return families_for(specialty, doctor=False)
        self.add(InvoiceReason.UNKNOWN_SPECIALTY, "specialty")
        return frozenset()

    def route(self, number: int, line: LineInput) -> tuple[Family | None, CodeInfo | None]:
        """The line's family and its nomenclature entry; a problem when unknown."""
        system, code, find = line.code_system, line.code, self.nomenclatures.get
        info: CodeInfo | None
        family: Family | None = None
        if system is CodeSystem.CIP13:
            info, family = find(T.BDPM_CIP, code), Family.PHARMACY
        elif system is CodeSystem.UCD:
            info, family = find(T.NU_UCD_R, code), Family.PHARMACY
        elif system is CodeSystem.NABM:
            info, family = find(T.IR_BIO_R, code), Family.LAB_TEST
        elif system is CodeSystem.LPP:
            info = find(T.NT_LPP, code)
            family = Family.MEDICAL_DEVICE
            if info is not None:
                key = (info.data.get("title", ""), info.data.get("chapter", ""))
                if key in LPP_THROUGH_APPROVAL:
                    self.add(InvoiceReason.FAMILY_THROUGH_APPROVAL, "code", number)
                    return None, info
        elif system is CodeSystem.CCAM:
            info = find(T.IR_CCAM_V63, code)
            family = CCAM_GROUPS.get(info.data.get("group", "")) if info else None
        else:  # NGAP key letters and hospital items
            info = find(T.IR_NAT_V, code) or find(T.IR_ACT_COD, code)
            family = NGAP_KEYS.get(code)
        if info is None:
            self.add(InvoiceReason.UNKNOWN_CODE, "code", number)
            return None, None
        if not info.in_force(self.invoice.care_date):
            self.add(InvoiceReason.CODE_NOT_IN_FORCE, "code", number)
        if family is None:
            self.add(InvoiceReason.CODE_NOT_ROUTED, "code", number)
        elif family is Family.DENTAL_PROSTHESIS and line.sante_class is None:
            self.add(InvoiceReason.CLASS_REQUIRED, "sante_class", number)
        return family, info

    def rate(self, number: int, line: LineInput, info: CodeInfo | None) -> None:
        """The AMO rate must be one the nomenclatures allow for the code: a medicine's
        BDPM rate (100 % too under an exemption, maternity or a work accident; any listed
        rate at or above it under a local regime); otherwise 0 or a rate of IR_TAU_V."""
        invoice, rate = self.invoice, line.amo_rate
        listed = rate == 0 or (
            self.nomenclatures.get(T.IR_TAU_V, f"{rate.quantize(Decimal('0.01'))}") is not None
        )
        allowed = listed
        if line.code_system is CodeSystem.CIP13 and info is not None:
            base = Decimal(info.data["rate"]) if info.data.get("rate") else ZERO
            full = (
                invoice.exemption != _NO_EXEMPTION or invoice.insurance_nature in _FULL_RATE_NATURES
            )
            local = invoice.local_regime != _LOCAL_REGIME_NONE
            allowed = rate == base or (full and rate == 100) or (local and listed and rate >= base)
        if not allowed:
            self.add(InvoiceReason.RATE_NOT_ALLOWED, "amo_rate", number)

    def amounts(self, number: int, line: LineInput) -> bool:
        """Check the line's figures; False when one is not a valid value at all."""
        amounts = (
            ("unit_price", line.unit_price),
            ("billed", line.billed),
            ("br", line.br),
            ("amo_paid", line.amo_paid),
            ("participation_forfaitaire", line.participation_forfaitaire),
            ("franchise", line.franchise),
        )
        bad = [name for name, value in amounts if not value.is_finite() or value < 0]
        if line.quantity < 1:
            bad.insert(0, "quantity")
        if not line.amo_rate.is_finite() or not 0 <= line.amo_rate <= 100:
            bad.append("amo_rate")
        for name in bad:
            self.add(InvoiceReason.INVALID_VALUE, name, number)
        if bad:
            return False
        if line.billed != (line.unit_price * line.quantity).quantize(Decimal("0.01")):
            self.add(InvoiceReason.LINE_AMOUNT_MISMATCH, "billed", number)
        if line.br > line.billed:
            self.add(InvoiceReason.BR_ABOVE_BILLED, "br", number)
        if line.amo_paid > line.billed:
            self.add(InvoiceReason.AMO_ABOVE_BILLED, "amo_paid", number)
        elif line.amo_paid + line.participation_forfaitaire + line.franchise > line.br:
            self.add(InvoiceReason.AMO_ABOVE_BR, "amo_paid", number)
        return True

    def totals(self) -> None:
        invoice = self.invoice
        if not all(line.billed.is_finite() and line.amo_paid.is_finite() for line in invoice.lines):
            return
        if sum((line.billed for line in invoice.lines), ZERO) != invoice.total_billed:
            self.add(InvoiceReason.TOTAL_MISMATCH, "total_billed")
        if sum((line.amo_paid for line in invoice.lines), ZERO) != invoice.total_amo:
            self.add(InvoiceReason.TOTAL_MISMATCH, "total_amo")

    def prescription(self, families: list[Family | None]) -> None:
        invoice = self.invoice
        if not PRESCRIBED.intersection(f for f in families if f is not None):
            return
        if not invoice.prescriber_rpps or invoice.prescription_date is None:
            field = "prescriber_rpps" if not invoice.prescriber_rpps else "prescription_date"
            self.add(InvoiceReason.PRESCRIPTION_REQUIRED, field)
            return
        try:
            validate_rpps(invoice.prescriber_rpps)
        except InvalidIdentifier:
            self.add(InvoiceReason.PRESCRIBER_INVALID, "prescriber_rpps")
        if invoice.prescription_date > invoice.care_date:
            self.add(InvoiceReason.PRESCRIPTION_AFTER_CARE, "prescription_date")


def validate_invoice(
    invoice: InvoiceInput,
    *,
    specialty: str,
    establishment: bool = False,
    nomenclatures: Nomenclatures | None = None,
) -> InvoiceCheck:
    """Check ``invoice`` against the loaded nomenclatures and the professional's
    SESAM-Vitale ``specialty`` code (``establishment``: a FINESS establishment, which has
    none). Returns every problem found, in the order header, lines, totals, prescription;
    never raises on the invoice's content. ``nomenclatures`` may be shared by the invoices
    of one lot to batch the look-ups."""
    checker = _Checker(invoice, nomenclatures or Nomenclatures())
    allowed = checker.header(specialty, establishment)
    families: list[Family | None] = []
    for number, line in enumerate(invoice.lines, start=1):
        family, info = checker.route(number, line)
        families.append(family)
        if family is not None and allowed and family not in allowed:
            checker.add(InvoiceReason.FAMILY_NOT_ALLOWED, "code", number)
        if checker.amounts(number, line):
            checker.rate(number, line, info)
    checker.totals()
    checker.prescription(families)
    return InvoiceCheck(tuple(checker.problems), tuple(families))


def professional_specialty(professional: Professional) -> tuple[str, bool]:
    """(SESAM-Vitale specialty code, is an establishment) of ``professional``: an
    establishment is identified by FINESS alone (no RPPS or ADELI)."""
    establishment = bool(professional.finess) and not (professional.rpps or professional.adeli)
    return professional.specialty_code, establishment


# --- pricing ----------------------------------------------------------------------------


class InvoiceNotValid(Exception):
    """``price_invoice`` was given an invoice whose check found problems."""


def act_lines(invoice: InvoiceInput, check: InvoiceCheck) -> list[ActLine]:
    """The engine's act lines of a valid invoice: the AMO amount as stated (``amo_paid``),
    the rate beside it. Raises InvoiceNotValid when ``check`` found problems."""
    if not check.valid:
        raise InvoiceNotValid(invoice.invoice_number)
    lines = []
    for number, (line, family) in enumerate(zip(invoice.lines, check.families, strict=True), 1):
        assert family is not None  # a valid check routed every line
        lines.append(
            ActLine(
                family=family,
                billed=line.billed,
                br=line.br,
                amo_rate=line.amo_rate,
                amo_paid=line.amo_paid,
                code=line.code if line.code_system is not CodeSystem.UCD else None,
                sante_class=line.sante_class,
                price_limit=line.price_limit,
                participation_forfaitaire=line.participation_forfaitaire,
                franchise=line.franchise,
                quantity=line.quantity,
                line_id=str(number),
            )
        )
    return lines


def price_invoice(
    invoice: InvoiceInput,
    check: InvoiceCheck,
    *,
    table: GuaranteeTable,
    beneficiary_age: int,
    history: History,
) -> CoverageResult:
    """AMO (as stated), AMC and remaining cost of each line of a valid invoice under the
    contract's guarantee ``table`` (coverage engine, responsible-contract rules included).

    Raises InvoiceNotValid when ``check`` found problems, and the engine's CoverageError
    (InvalidActLine, InvalidCase) naming the field for what the engine refuses (e.g. a
    care date before the table's first version)."""
    return compute(
        act_lines(invoice, check),
        table=table,
        beneficiary_age=beneficiary_age,
        care_date=invoice.care_date,
        history=history,
    )


@dataclass(frozen=True)
class JudgedInvoice:
    """An invoice checked and priced, not stored yet: its ``row`` and ``lines`` (unsaved;
    the lines' ``invoice`` set when stored) and the engagement it honours (None: none)."""

    row: Invoice
    lines: list[InvoiceLine]
    honoured: engagements.Honoured | None


def judge_invoice(
    invoice: InvoiceInput,
    *,
    professional: Professional,
    beneficiary: Beneficiary,
    table: GuaranteeTable,
    beneficiary_age: int,
    history: History,
    now: dt.datetime,
    nomenclatures: Nomenclatures | None = None,
    engagement: str | None = None,
    lot: Lot | None = None,
) -> JudgedInvoice:
    """Check and price ``invoice`` as :func:`record_invoice` does, without storing it:
    ``store_judged`` (one invoice) or ``store_judged_batch`` (a lot's chunk, no engagement)
    store the result."""
    specialty, establishment = professional_specialty(professional)
    check = validate_invoice(
        invoice, specialty=specialty, establishment=establishment, nomenclatures=nomenclatures
    )
    problems = [problem.to_dict() for problem in check.problems]
    result: CoverageResult | None = None
    honoured: engagements.Honoured | None = None
    if engagement is not None:
        try:
            honoured = engagements.honour(
                engagement,
                professional=professional,
                beneficiary=beneficiary,
                invoice=invoice,
                families=check.families,
                now=now,
            )
        except engagements.EngagementRefused as refusal:
            problems.append(refusal.problem(invoice.invoice_number))
    if check.valid and (engagement is None or honoured is not None):
        try:
            result = price_invoice(
                invoice, check, table=table, beneficiary_age=beneficiary_age, history=history
            )
        except CoverageError as exc:
            problems.append(
                {
                    "code": InvoiceReason.INVALID_VALUE.value,
                    "line": None,
                    "field": exc.field,
                    "message": f"Facture {invoice.invoice_number}, champ {exc.field} : "
                    f"{InvoiceReason.INVALID_VALUE.label}.",
                }
            )
    amc, rac = ZERO, ZERO
    if result is not None:
        amc, rac = engagements.paid(result.totals.amc, result.totals.rac, honoured)
    row = Invoice(
        professional=professional,
        beneficiary=beneficiary,
        insurer_id=beneficiary.contract.insurer_id,
        invoice_number=invoice.invoice_number,
        care_date=invoice.care_date,
        care_end_date=invoice.care_end_date,
        insurance_nature=invoice.insurance_nature,
        exemption=invoice.exemption,
        amo_regime=invoice.amo_regime,
        local_regime=invoice.local_regime,
        prescriber_rpps=invoice.prescriber_rpps,
        prescription_date=invoice.prescription_date,
        status=InvoiceStatus.ACCEPTED if result else InvoiceStatus.REJECTED,
        reasons=problems,
        table_id=table.id if result else "",
        total_billed=invoice.total_billed,
        total_amo=invoice.total_amo,
        total_amc=amc,
        total_rac=rac,
        received_at=now,
        lot=lot,
    )
    lines = [
        InvoiceLine(
            position=number,
            code_system=line.code_system,
            code=line.code,
            family=family or "",
            coefficient=line.coefficient,
            quantity=line.quantity,
            unit_price=line.unit_price,
            billed=line.billed,
            br=line.br,
            amo_rate=line.amo_rate,
            amo_paid=line.amo_paid,
            participation_forfaitaire=line.participation_forfaitaire,
            franchise=line.franchise,
            amc=result.lines[number - 1].amc if result else ZERO,
            rac=result.lines[number - 1].rac if result else ZERO,
            reasons=[str(code) for code in result.lines[number - 1].reasons] if result else [],
        )
        for number, (line, family) in enumerate(
            zip(invoice.lines, check.families, strict=True), start=1
        )
    ]
    return JudgedInvoice(row, lines, honoured if result is not None else None)


def store_judged(judged: JudgedInvoice, *, now: dt.datetime) -> Invoice:
    """Store one judged invoice in one transaction (its engagement used up when honoured).
    Raises django IntegrityError when the professional already sent that invoice number,
    ``engagements.EngagementRefused`` when a concurrent invoice used the engagement first."""
    with transaction.atomic():
        row = judged.row
        row.save(force_insert=True)
        if judged.honoured is not None:
            engagements.consume(judged.honoured, invoice_id=row.pk, now=now)
        for line in judged.lines:
            line.invoice = row
        InvoiceLine.objects.bulk_create(judged.lines)
        InvoiceEvent.objects.bulk_create(_first_events(row))
    return row


def _first_events(row: Invoice) -> list[InvoiceEvent]:
    """received (when its lot arrived, else now), acknowledged (a lot's invoices: when the
    lot was acknowledged, on receipt), then its adjudication."""
    lot = row.lot
    arrived = lot.received_at if lot is not None else row.received_at
    return lifecycle.adjudication_events(
        row, received_at=arrived, acknowledged_at=arrived if lot is not None else None
    )


def store_judged_batch(judged: list[JudgedInvoice]) -> None:
    """Store judged invoices that honour no engagement (a lot's chunk, inside its
    transaction): two statements whatever their number; each ``row`` gets its id.
    Raises django IntegrityError like :func:`store_judged`."""
    if not judged:
        return
    assert all(j.honoured is None for j in judged)
    Invoice.objects.bulk_create([j.row for j in judged])
    lines = []
    for j in judged:
        for line in j.lines:
            line.invoice = j.row
            lines.append(line)
    InvoiceLine.objects.bulk_create(lines)
    InvoiceEvent.objects.bulk_create(event for j in judged for event in _first_events(j.row))


def record_invoice(
    invoice: InvoiceInput,
    *,
    professional: Professional,
    beneficiary: Beneficiary,
    table: GuaranteeTable,
    beneficiary_age: int,
    history: History,
    now: dt.datetime,
    nomenclatures: Nomenclatures | None = None,
    engagement: str | None = None,
    lot: Lot | None = None,
) -> Invoice:
    """Check, price and store ``invoice`` in one transaction: accepted with each line's
    AMC and remaining cost, or rejected with its reason codes (AMC and RAC 0: nothing is
    paid on it). The beneficiary is
    already identified (the lot's identification step, through the gate, comes next).
    ``engagement``: the engagement number the invoice quotes, honoured or refused by
    ``invoices.engagements`` (refused: rejected ``ENGAGEMENT_REFUSED``; honoured: paid at
    least its engaged AMC amount, and used up).
    Raises django IntegrityError when the professional already sent that invoice number,
    ``engagements.EngagementRefused`` when a concurrent invoice used the engagement first."""
    judged = judge_invoice(
        invoice,
        professional=professional,
        beneficiary=beneficiary,
        table=table,
        beneficiary_age=beneficiary_age,
        history=history,
        now=now,
        nomenclatures=nomenclatures,
        engagement=engagement,
        lot=lot,
    )
    return store_judged(judged, now=now)


# --- duplicates across channels ---------------------------------------------------------


def billing_key(
    beneficiary_id: object, care_date: dt.date, lines: list[tuple[str, Decimal]]
) -> str:
    """The content key of an invoice, the same for every channel (lots, claim API):
    SHA-256 of the beneficiary's id, the care date and its sorted ``code:billed`` pairs
    (euros to the cent). Two invoices with the same key are the same care billed twice."""
    acts = sorted(f"{code}:{billed:.2f}" for code, billed in lines)
    return hashlib.sha256(
        f"{beneficiary_id}|{care_date.isoformat()}|{','.join(acts)}".encode()
    ).hexdigest()


def find_billed(
    *, professional: Professional, invoice_number: str, content_key: str
) -> BilledInvoice | None:
    """The invoice already taken for payment with this professional's ``invoice_number``
    or this ``content_key``, whichever channel it came through; None when new."""
    return (
        BilledInvoice.objects.filter(professional=professional, invoice_number=invoice_number)
        | BilledInvoice.objects.filter(professional=professional, content_key=content_key)
    ).first()


def record_billed(
    *,
    professional: Professional,
    invoice_number: str,
    content_key: str,
    channel: str,
    reference: str,
    now: dt.datetime,
) -> BilledInvoice:
    """Enter an accepted invoice in the register shared by lots and the claim API (call it
    in the transaction that accepts it). Raises django IntegrityError when the same number
    or content is already there (a concurrent duplicate: the caller's transaction fails)."""
    return BilledInvoice.objects.create(
        professional=professional,
        invoice_number=invoice_number,
        content_key=content_key,
        channel=channel,
        reference=reference,
        recorded_at=now,
    )
