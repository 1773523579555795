"""After an invoice is sent: the professional cancels, rectifies or disputes it; staff decide
disputes and write off overpayments (issue 16 parts 1, 3 and 4; docs/money.md, section
"Cancellation, rectification, disputes").

Every function runs in one transaction, holds the invoice's row (``select_for_update``)
and appends its events through ``invoices.lifecycle`` (the transition table is there): a
refusal raises before anything is written, so nothing is ever half-written.

* ``cancel_invoice``: accepted -> cancelled (voided, never paid); paid -> cancelled and an
  ``overpayment`` ledger entry of the AMC paid (the amount of the last ``paid`` event).
* ``rectify_invoice``: a replacement invoice (new number) is adjudicated like any invoice
  and stored; the original gets ``rectified`` (related: the replacement) and, when it was
  paid, an ``overpayment`` entry of its AMC paid.
* ``dispute_invoice``: a rejected or paid invoice, within ``DISPUTE_WINDOW_MONTHS`` of the
  rejection or payment; staff decide before ``DECISION_DAYS``.
* ``decide_dispute``: upheld (a rejected invoice becomes accepted, paid by the next run) or
  dismissed, reason required.
* ``write_off``: staff give up recovering (part of) an overpayment: a negative
  ``written_off`` entry and a ``written_off`` event; never beyond what is owed.

The duplicate register (``invoices.BilledInvoice``): a cancelled or rectified invoice keeps
its number (a number is never reused) but gives up its content key, re-keyed
``cancelled:<invoice id>`` / ``rectified:<invoice id>``, so the same care can be billed
again by the replacement (or a new invoice after a cancellation) without being taken for a
duplicate. Another invoice already holding the replacement's content still blocks it.
A cancelled claim's invoice also releases what the claim committed on the beneficiary's
ceilings and renewal periods (``priorauth.ledger.release``): the care did not happen as
billed, so invoicing it again is judged as if it had never been billed.

Errors (French, naming the invoice and the field, no personal data): ``InvoiceNotFound``
(also for another professional's invoice: never a leak), ``CorrectionRefused`` (with
``field``), ``invoices.lifecycle.TransitionRefused``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Sum

from tierspayant.claims.models import Claim
from tierspayant.corrections.choices import LedgerEntryKind
from tierspayant.corrections.models import LedgerEntry
from tierspayant.corrections.selectors import balance
from tierspayant.coverage import GuaranteeTable, History, load_guarantee_table
from tierspayant.crypto.keys import KeySet
from tierspayant.invoices import lifecycle
from tierspayant.invoices.choices import ActorKind, InvoiceEventKind, InvoiceStatus
from tierspayant.invoices.inputs import InvoiceInput
from tierspayant.invoices.lifecycle import EventDetail
from tierspayant.invoices.models import BilledInvoice, Invoice, InvoiceEvent
from tierspayant.invoices.services import billing_key, judge_invoice, store_judged
from tierspayant.priorauth.choices import CommitmentSource
from tierspayant.priorauth.ledger import release
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Insurer

K = InvoiceEventKind
S = InvoiceStatus
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

#: How long after the rejection or the payment a professional may dispute it, in months.
#: Reading of the two-month limit to contest an insurance fund's decision before its
#: amicable appeals board (Code de la sécurité sociale, art. R142-1), applied to the AMC's
#: decision on an invoice (docs/money.md).
DISPUTE_WINDOW_MONTHS = 2
#: Days staff have to decide a dispute (the operator's service level; docs/money.md).
DECISION_DAYS = 30
#: Longest reason kept (``InvoiceEvent.reason``, ``LedgerEntry.reason``).
REASON_MAX = 300


class InvoiceNotFound(LookupError):
    """No invoice with this number for this professional (another's answers the same)."""

    def __init__(self, invoice_number: str) -> None:
        self.invoice_number = invoice_number
        self.message = f"Facture {invoice_number[:40]} introuvable."
        super().__init__(self.message)


class CorrectionRefused(ValueError):
    """The correction cannot be made; ``message`` (French) names the invoice and ``field``
    the input at fault. ``problems``: a rejected replacement's reason codes."""

    def __init__(
        self, message: str, *, field: str = "", problems: list[dict[str, Any]] | None = None
    ) -> None:
        self.message = message
        self.field = field
        self.problems = problems or []
        super().__init__(message)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day (31 December
    + 2 months = 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _reason(reason: str, number: str, *, required: bool) -> str:
    text = " ".join((reason or "").split())
    if required and not text:
        raise CorrectionRefused(f"Facture {number} : indiquez un motif.", field="reason")
    if len(text) > REASON_MAX:
        raise CorrectionRefused(
            f"Facture {number} : motif de {REASON_MAX} caractères au plus.", field="reason"
        )
    return text


def _locked(professional: Professional, invoice_number: str) -> Invoice:
    """The professional's invoice ``invoice_number``, its row locked; InvoiceNotFound."""
    invoice = (
        Invoice.objects.select_for_update()
        .filter(professional=professional, invoice_number=invoice_number)
        .first()
    )
    if invoice is None:
        raise InvoiceNotFound(invoice_number)
    return invoice


def amount_paid(invoice: Invoice) -> Decimal:
    """The AMC paid on ``invoice`` now (euros): the amount of its last ``paid`` event when
    it is paid (a returned transfer puts it back to accepted: nothing paid), else 0."""
    if invoice.status != S.PAID:
        return ZERO
    last = InvoiceEvent.objects.filter(invoice=invoice, kind=K.PAID).order_by("-id").first()
    return last.amount if last is not None and last.amount is not None else ZERO


def _overpayment(
    invoice: Invoice, paid: Decimal, *, reason: str, now: dt.datetime, actor: Any
) -> LedgerEntry | None:
    if paid <= ZERO:
        return None
    assert invoice.insurer_id is not None  # an accepted invoice has its insurer
    return LedgerEntry.objects.create(
        professional_id=invoice.professional_id,
        insurer_id=invoice.insurer_id,
        invoice=invoice,
        kind=LedgerEntryKind.OVERPAYMENT,
        amount=paid,
        reason=reason,
        at=now,
        actor=actor,
    )


def _free_content_key(invoice: Invoice, prefix: str) -> None:
    """Re-key the invoice's row of the duplicate register (see the module docstring)."""
    BilledInvoice.objects.filter(
        professional_id=invoice.professional_id, invoice_number=invoice.invoice_number
    ).update(content_key=f"{prefix}:{invoice.pk}")


@dataclass(frozen=True)
class Correction:
    """What a correction did: the invoice (state updated), the event appended, the ledger
    entry written (None: nothing was paid) and, for a rectification, the replacement."""

    invoice: Invoice
    event: InvoiceEvent
    entry: LedgerEntry | None = None
    replacement: Invoice | None = None


def cancel_invoice(
    professional: Professional,
    invoice_number: str,
    *,
    reason: str,
    now: dt.datetime,
    actor: Any = None,
) -> Correction:
    """Cancel the professional's invoice ``invoice_number`` (``reason`` required, no
    personal data, 300 characters at most; ``actor``: the user, None for software).
    Accepted: voided, never paid. Paid: an overpayment of the AMC paid is entered in the
    ledger (netted by the next payment runs). Raises InvoiceNotFound, CorrectionRefused,
    TransitionRefused (rejected, cancelled, rectified or disputed)."""
    text = _reason(reason, invoice_number, required=True)
    with transaction.atomic():
        invoice = _locked(professional, invoice_number)
        paid = amount_paid(invoice)
        event = lifecycle.append_event(
            invoice,
            K.CANCELLED,
            at=now,
            actor_kind=ActorKind.PROFESSIONAL,
            actor=actor,
            detail=EventDetail(reason=text, amount=paid if paid > ZERO else None),
        )
        entry = _overpayment(invoice, paid, reason=text, now=now, actor=actor)
        _free_content_key(invoice, "cancelled")
        _release_claim(invoice, now)
    return Correction(invoice, event, entry)


def _release_claim(invoice: Invoice, now: dt.datetime) -> None:
    """Release the commitment of the claim ``invoice`` mirrors, if any (module docstring)."""
    for claim_id in Claim.objects.filter(invoice=invoice).values_list("pk", flat=True):
        release(CommitmentSource.CLAIM, f"claim:{claim_id}", now=now)


def _table(tables_dir: Path, name: str) -> GuaranteeTable | None:
    path = tables_dir / f"{name}.json"
    if not name or "/" in name or not path.is_file():
        return None
    return load_guarantee_table(path)


def _age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def rectify_invoice(
    professional: Professional,
    invoice_number: str,
    replacement: InvoiceInput,
    *,
    reason: str,
    keys: KeySet,
    tables_dir: Path,
    now: dt.datetime,
    actor: Any = None,
) -> Correction:
    """Replace the professional's invoice ``invoice_number`` by ``replacement`` (same
    patient: the original's beneficiary, no new rights check; a new invoice number).

    The replacement is checked and priced like any invoice (nomenclatures, the contract's
    guarantee table found in ``tables_dir``; ``keys`` decrypt the birth date for the age)
    and stored accepted, with its own events and its row in the duplicate register; the
    original gets ``rectified`` (related: the replacement) and, when paid, an overpayment
    of its AMC paid. A replacement the checks reject is refused (CorrectionRefused with
    its ``problems``): nothing is stored. Raises InvoiceNotFound, CorrectionRefused (same
    number, number taken, duplicate content, table missing, rejected), TransitionRefused."""
    text = _reason(reason, invoice_number, required=True)
    new_number = replacement.invoice_number
    if new_number == invoice_number:
        raise CorrectionRefused(
            f"Facture {invoice_number} : la facture rectificative doit porter un autre numéro.",
            field="invoice.invoice_number",
        )
    with transaction.atomic():
        original = _locked(professional, invoice_number)
        if original.status not in (S.ACCEPTED, S.PAID):
            raise lifecycle.TransitionRefused(invoice_number, original.status, K.RECTIFIED)
        taken = (
            Invoice.objects.filter(professional=professional, invoice_number=new_number).exists()
            or BilledInvoice.objects.filter(
                professional=professional, invoice_number=new_number
            ).exists()
        )
        if taken:
            raise CorrectionRefused(
                f"Facture {invoice_number} : le numéro {new_number} est déjà utilisé.",
                field="invoice.invoice_number",
            )
        beneficiary = original.beneficiary
        key = billing_key(
            beneficiary.pk,
            replacement.care_date,
            [(line.code, line.billed) for line in replacement.lines],
        )
        holder = (
            BilledInvoice.objects.filter(professional=professional, content_key=key)
            .exclude(invoice_number=invoice_number)
            .exists()
        )
        if holder:
            raise CorrectionRefused(
                f"Facture {invoice_number} : la facture rectificative reprend les soins "
                "d'une autre facture déjà reçue.",
                field="invoice.lines",
            )
        table = _table(tables_dir, beneficiary.contract.guarantee_table)
        if table is None:
            raise CorrectionRefused(
                f"Facture {invoice_number} : tableau de garanties du contrat indisponible.",
                field="invoice",
            )
        judged = judge_invoice(
            replacement,
            professional=professional,
            beneficiary=beneficiary,
            table=table,
            beneficiary_age=_age_on(beneficiary.birth_date(keys), replacement.care_date),
            history=History(),
            now=now,
        )
        if judged.row.status != S.ACCEPTED:
            raise CorrectionRefused(
                f"Facture {invoice_number} : la facture rectificative {new_number} est "
                "rejetée ; rien n'est enregistré.",
                field="invoice",
                problems=judged.row.reasons,
            )
        row = store_judged(judged, now=now)
        paid = amount_paid(original)
        event = lifecycle.append_event(
            original,
            K.RECTIFIED,
            at=now,
            actor_kind=ActorKind.PROFESSIONAL,
            actor=actor,
            detail=EventDetail(
                reason=text,
                amount=paid if paid > ZERO else None,
                reference=new_number,
                related=row,
            ),
        )
        entry = _overpayment(original, paid, reason=text, now=now, actor=actor)
        _free_content_key(original, "rectified")
        BilledInvoice.objects.create(
            professional=professional,
            invoice_number=new_number,
            content_key=key,
            channel="correction",
            reference=f"invoice:{row.pk}",
            recorded_at=now,
        )
    return Correction(original, event, entry, row)


def dispute_deadline(invoice: Invoice) -> dt.date | None:
    """The last day (UTC) the professional may dispute ``invoice``: ``DISPUTE_WINDOW_MONTHS``
    after its rejection (rejected) or its last payment (paid); None in any other state."""
    kind = {S.REJECTED: K.REJECTED, S.PAID: K.PAID}.get(invoice.status)  # type: ignore[call-overload]
    if kind is None:
        return None
    last = InvoiceEvent.objects.filter(invoice=invoice, kind=kind).order_by("-id").first()
    if last is None:
        return None
    return add_months(last.at.astimezone(dt.UTC).date(), DISPUTE_WINDOW_MONTHS)


def dispute_invoice(
    professional: Professional,
    invoice_number: str,
    *,
    reason: str,
    now: dt.datetime,
    actor: Any = None,
) -> Correction:
    """Dispute the professional's rejected or paid invoice ``invoice_number`` (``reason``
    required): until ``dispute_deadline`` inclusive. The ``disputed`` event carries the day
    staff must decide by (``DECISION_DAYS`` later). Raises InvoiceNotFound,
    CorrectionRefused (late: names the deadline), TransitionRefused."""
    text = _reason(reason, invoice_number, required=True)
    with transaction.atomic():
        invoice = _locked(professional, invoice_number)
        last_day = dispute_deadline(invoice)
        today = now.astimezone(dt.UTC).date()
        if last_day is not None and today > last_day:
            raise CorrectionRefused(
                f"Facture {invoice_number} : le délai de contestation a expiré le "
                f"{last_day:%d/%m/%Y}.",
                field="invoice_number",
            )
        event = lifecycle.append_event(
            invoice,
            K.DISPUTED,
            at=now,
            actor_kind=ActorKind.PROFESSIONAL,
            actor=actor,
            detail=EventDetail(reason=text, deadline=today + dt.timedelta(days=DECISION_DAYS)),
        )
    return Correction(invoice, event)


def _staff_kind(staff_user: Any, invoice: Invoice) -> str:
    """STAFF or INSURER; raises InvoiceNotFound when insurer staff reach another insurer."""
    link = getattr(staff_user, "insurer_staff", None)
    if link is None:
        return ActorKind.STAFF
    if link.insurer_id != invoice.insurer_id:
        raise InvoiceNotFound(invoice.invoice_number)
    return ActorKind.INSURER


def decide_dispute(
    staff_user: Any, invoice: Invoice, *, upheld: bool, reason: str, now: dt.datetime
) -> Correction:
    """Staff's decision on the disputed ``invoice`` (``reason`` required; it is shown to
    the professional on the invoice's page). Upheld: a rejected invoice becomes accepted
    (paid by the next run), a paid one stays paid; dismissed: back to its state before.
    Insurer staff decide only their insurer's invoices. Raises InvoiceNotFound,
    CorrectionRefused, TransitionRefused (not disputed)."""
    text = _reason(reason, invoice.invoice_number, required=True)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        actor_kind = _staff_kind(staff_user, locked)
        kind = K.DISPUTE_UPHELD if upheld else K.DISPUTE_DISMISSED
        if locked.status != S.DISPUTED:  # lifecycle's look-up of the state before assumes one
            raise lifecycle.TransitionRefused(locked.invoice_number, locked.status, kind)
        event = lifecycle.append_event(
            locked,
            kind,
            at=now,
            actor_kind=actor_kind,
            actor=staff_user,
            detail=EventDetail(reason=text),
        )
    return Correction(locked, event)


def outstanding(invoice: Invoice) -> Decimal:
    """What is still owed on ``invoice`` in the ledger (euros; sum of its entries)."""
    total = LedgerEntry.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))["total"]
    return total.quantize(CENT) if total is not None else ZERO


def write_off(
    staff_user: Any,
    professional: Professional,
    insurer: Insurer,
    invoice: Invoice,
    *,
    amount: Decimal,
    reason: str,
    now: dt.datetime,
) -> Correction:
    """Give up recovering ``amount`` (euros, > 0, to the cent) of the overpayment on
    ``invoice`` from ``professional`` for ``insurer``: a ``written_off``
    ledger entry of ``-amount`` and a ``written_off`` event. ``reason`` required. Never
    more than is owed on the invoice nor than the professional's balance with the insurer.
    Insurer staff write off only their insurer's. Raises InvoiceNotFound,
    CorrectionRefused (amount, reason), TransitionRefused (not cancelled or rectified)."""
    number = invoice.invoice_number
    insurer_id = insurer.pk
    text = _reason(reason, number, required=True)
    if not amount.is_finite() or amount <= ZERO or amount != amount.quantize(CENT):
        raise CorrectionRefused(
            f"Facture {number} : montant positif en euros et centimes attendu.", field="amount"
        )
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.professional_id != professional.pk or locked.insurer_id != insurer_id:
            raise InvoiceNotFound(number)
        actor_kind = _staff_kind(staff_user, locked)
        owed = min(outstanding(locked), balance(professional.pk, insurer_id).quantize(CENT))
        if amount > owed:
            raise CorrectionRefused(
                f"Facture {number} : {amount} € dépasse l'indu restant dû ({owed} €).",
                field="amount",
            )
        event = lifecycle.append_event(
            locked,
            K.WRITTEN_OFF,
            at=now,
            actor_kind=actor_kind,
            actor=staff_user,
            detail=EventDetail(reason=text, amount=amount),
        )
        entry = LedgerEntry.objects.create(
            professional=professional,
            insurer_id=insurer_id,
            invoice=locked,
            kind=LedgerEntryKind.WRITTEN_OFF,
            amount=-amount,
            reason=text,
            at=now,
            actor=staff_user,
        )
    return Correction(locked, event, entry)
