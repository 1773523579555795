"""Bank returns: the bank's camt.054 notifications and pain.002 status reports about the
operator's credit transfers (issue 16 part 5; docs/money.md "Bank returns").

A file is first validated against its official ISO 20022 schema (xmlschema; the XSDs ship in
``payments/schemas/``: camt.054.001.02 and .08, pain.002.001.11), chosen by the document's
namespace. Then:

- camt.054: every transaction (``NtryDtls/TxDtls``) carrying return information
  (``RtrInf``) is a *returned* transfer: the creditor's bank sent the money back
  (e.g. ``AC04`` account closed). Other transactions (the debit of our own transfers) are
  ignored.
- pain.002: every transaction status (``TxInfAndSts``) ``RJCT`` is a *rejected* transfer
  (the bank refused to execute it); accepted statuses are ignored. A whole message or payment
  information rejected without transaction details rejects each transfer of the original
  file (``OrgnlMsgId`` = our ``SepaFile.message_id``).

Transfers are named by our end-to-end id (``Transfer.end_to_end_id``). Importing
(:func:`import_bank_returns`) is one transaction: the file's row (unique SHA-256: the same
file twice is refused and changes nothing), one ``BankReturn`` per transfer, the transfer
marked returned, its lines released and exactly its invoices reopened: a
``payment_returned`` event each (reference: the transfer's end-to-end id, amount: the
invoice's AMC), status back to ``accepted`` (and the claims they mirror). An invoice
cancelled or rectified since it was paid is not reopened (its overpayment entry stands;
staff correct the ledger). The professional is then held by the next runs
(``HoldReason.BANK_RETURNED``) while the bank account in force is the one the money came
back from, i.e. until new details pass the change workflow (``providers.banking``); the
next run then pays each invoice once.

A returned transfer that carried a net after overpayments were recovered from the same
professional and insurer in its run (``netted`` ledger entries of that run) gives the
recovery back: the invoices reopened will be paid again, gross, by a later run, which
recovers the debt again. So each of those entries is restored by a positive ``overpayment``
entry of the same amount on the same invoice (``run_reference``: the run; reason names the
transfer). The ``recovered`` events stay (events are never undone); the ledger says the
debt is owed again.
"""

from __future__ import annotations

import datetime
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import xmlschema
from django.db import transaction

from tierspayant.claims.choices import ClaimStatus
from tierspayant.claims.models import Claim
from tierspayant.corrections.choices import LedgerEntryKind
from tierspayant.corrections.models import LedgerEntry
from tierspayant.invoices.choices import ActorKind, InvoiceEventKind, InvoiceStatus
from tierspayant.invoices.lifecycle import EventDetail, new_event
from tierspayant.invoices.models import Invoice, InvoiceEvent
from tierspayant.payments.choices import ReturnKind
from tierspayant.payments.models import (
    BankReturn,
    BankReturnFile,
    SepaFile,
    Transfer,
    TransferLine,
)

SCHEMAS = Path(__file__).resolve().parent / "schemas"

#: Document namespace -> (schema file, kind of report).
NAMESPACES: dict[str, tuple[str, str]] = {
    "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02": ("camt.054.001.02.xsd", "camt.054"),
    "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08": ("camt.054.001.08.xsd", "camt.054"),
    "urn:iso:std:iso:20022:tech:xsd:pain.002.001.11": ("pain.002.001.11.xsd", "pain.002"),
}

#: Largest file accepted (bytes): a day's notifications for a large operator fit well under.
MAX_BYTES = 50 * 1024 * 1024


class BankReturnRefused(ValueError):
    """The file is refused whole, nothing written. ``message`` (French) says what and where
    (file name, line when the parser or schema gives one, the end-to-end id for an unknown
    transfer; never account data)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ReturnItem:
    """One returned or rejected transfer as the file tells it: our end-to-end id (or, for a
    group rejection, None and the original message id), ISO reason code, amount in euros
    when given."""

    end_to_end_id: str | None
    reason_code: str
    amount: Decimal | None
    original_message_id: str = ""


@dataclass(frozen=True)
class ParsedReturns:
    """A validated file: ``kind`` (``camt.054`` / ``pain.002``), its message id, its items."""

    kind: str
    message_id: str
    items: list[ReturnItem]


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote: the file row, the transfers returned, the invoices reopened
    (``reopened_claims``: invoices of every channel) and the overpayments restored (euros)."""

    file: BankReturnFile
    transfers: list[Transfer]
    reopened_claims: int
    restored: Decimal = Decimal("0.00")


@cache
def _schema(name: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(SCHEMAS / name)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(node: ET.Element, path: str, ns: str) -> ET.Element | None:
    return node.find("/".join(f"{{{ns}}}{part}" for part in path.split("/")))


def _text(node: ET.Element | None, path: str, ns: str) -> str:
    if node is None:
        return ""
    found = _find(node, path, ns)
    return (found.text or "").strip() if found is not None else ""


def _amount(text: str) -> Decimal | None:
    try:
        return Decimal(text).quantize(Decimal("0.01")) if text else None
    except InvalidOperation:  # pragma: no cover - the schema's decimal type already holds
        return None


def _iter(node: ET.Element, path: str, ns: str) -> Iterable[ET.Element]:
    return node.iterfind(".//" + "/".join(f"{{{ns}}}{part}" for part in path.split("/")))


def parse_bank_returns(data: bytes, *, name: str) -> ParsedReturns:
    """Validate ``data`` (the file named ``name``, for messages) against its schema and read
    the returned or rejected transfers. Raises :class:`BankReturnRefused` for a file that is
    not XML, not one of the supported messages, or fails its schema."""
    if len(data) > MAX_BYTES:
        raise BankReturnRefused(f"{name} : fichier trop volumineux (plus de 50 Mo).")
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        # Else xmlschema would take the bytes for a path or a URL.
        raise BankReturnRefused(f"{name}, ligne 1 : XML illisible (aucune balise).")
    try:
        # xmlschema's safe parser: no DTD, no entity, no remote resource (XXE, billion laughs).
        root = xmlschema.XMLResource(data, defuse="always", allow="none").root
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else "?"
        raise BankReturnRefused(f"{name}, ligne {line} : XML illisible ou interdit.") from None
    except (xmlschema.XMLResourceError, ValueError, TypeError):
        raise BankReturnRefused(f"{name} : XML illisible ou interdit.") from None
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if _local(root.tag) != "Document" or ns not in NAMESPACES:
        raise BankReturnRefused(
            f"{name} : ni un avis camt.054 (001.02 ou 001.08) ni un rapport pain.002.001.11 "
            "(espace de noms du document inconnu)."
        )
    schema_file, kind = NAMESPACES[ns]
    error = next(iter(_schema(schema_file).iter_errors(root)), None)
    if error is not None:
        where = getattr(error, "sourceline", None)
        at = f", ligne {where}" if where else ""
        path = error.path or ""
        raise BankReturnRefused(
            f"{name}{at} : non conforme au schéma {schema_file} ({path} : "
            f"{error.reason or 'élément invalide'})."
        )
    if kind == "camt.054":
        message_id = _text(root, "BkToCstmrDbtCdtNtfctn/GrpHdr/MsgId", ns)
        items = [
            ReturnItem(
                end_to_end_id=_text(tx, "Refs/EndToEndId", ns),
                reason_code=_text(tx, "RtrInf/Rsn/Cd", ns) or _text(tx, "RtrInf/Rsn/Prtry", ns),
                amount=_amount(_text(tx, "Amt", ns)),
            )
            for tx in _iter(root, "Ntfctn/Ntry/NtryDtls/TxDtls", ns)
            if _find(tx, "RtrInf", ns) is not None
        ]
        for item in items:
            if not item.end_to_end_id:
                raise BankReturnRefused(
                    f"{name} : un retour (RtrInf) sans référence de bout en bout (EndToEndId)."
                )
        return ParsedReturns(kind=kind, message_id=message_id, items=items)
    report = _find(root, "CstmrPmtStsRpt", ns)
    assert report is not None  # the schema requires it
    message_id = _text(report, "GrpHdr/MsgId", ns)
    original = _text(report, "OrgnlGrpInfAndSts/OrgnlMsgId", ns)
    items = []
    for info in report.iterfind(f"{{{ns}}}OrgnlPmtInfAndSts"):
        for tx in info.iterfind(f"{{{ns}}}TxInfAndSts"):
            if _text(tx, "TxSts", ns) != "RJCT":
                continue
            end_to_end = _text(tx, "OrgnlEndToEndId", ns)
            if not end_to_end:
                raise BankReturnRefused(
                    f"{name} : un rejet (TxSts RJCT) sans référence de bout en bout "
                    "(OrgnlEndToEndId)."
                )
            items.append(
                ReturnItem(
                    end_to_end_id=end_to_end,
                    reason_code=_text(tx, "StsRsnInf/Rsn/Cd", ns)
                    or _text(info, "StsRsnInf/Rsn/Cd", ns),
                    amount=_amount(_text(tx, "OrgnlTxRef/Amt/InstdAmt", ns)),
                )
            )
    if not items and _text(report, "OrgnlGrpInfAndSts/GrpSts", ns) == "RJCT":
        items.append(
            ReturnItem(
                end_to_end_id=None,
                reason_code=_text(report, "OrgnlGrpInfAndSts/StsRsnInf/Rsn/Cd", ns),
                amount=None,
                original_message_id=original,
            )
        )
    return ParsedReturns(kind=kind, message_id=message_id, items=items)


def _transfers_of(item: ReturnItem, name: str) -> list[Transfer]:
    if item.end_to_end_id is not None:
        found = Transfer.objects.filter(end_to_end_id=item.end_to_end_id).first()
        if found is None:
            raise BankReturnRefused(
                f"{name} : virement inconnu (référence de bout en bout {item.end_to_end_id})."
            )
        return [found]
    sepa_file = SepaFile.objects.filter(message_id=item.original_message_id).first()
    if sepa_file is None:
        raise BankReturnRefused(
            f"{name} : fichier de virements inconnu (message {item.original_message_id})."
        )
    return list(Transfer.objects.filter(run=sepa_file.run, insurer=sepa_file.insurer))


def import_bank_returns(
    data: bytes, *, name: str, now: datetime.datetime, actor: Any = None, source: str = "command"
) -> ImportResult:
    """Import one bank file (see the module docstring). ``name``: the file's name (shown in
    messages, stored); ``now``: aware UTC instant; ``actor``: the staff user (None from the
    command line); ``source``: ``command`` or ``admin``.

    Raises :class:`BankReturnRefused` (schema, unknown transfer or original file, a transfer
    already returned, a file already imported, an amount that is not the transfer's); then
    nothing is written."""
    parsed = parse_bank_returns(data, name=name)
    sha256 = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        already = BankReturnFile.objects.select_for_update().filter(sha256=sha256).first()
        if already is not None:
            raise BankReturnRefused(
                f"{name} : fichier déjà importé le {already.imported_at:%d/%m/%Y %H:%M} UTC "
                f"(import n° {already.pk}) ; rien n'a été modifié."
            )
        targets: list[tuple[Transfer, ReturnItem]] = []
        seen: set[int] = set()
        for item in parsed.items:
            for target in _transfers_of(item, name):
                if target.pk in seen:
                    continue
                seen.add(target.pk)
                targets.append((target, item))
        locked = {
            t.pk: t
            for t in Transfer.objects.select_for_update().filter(pk__in=[t.pk for t, _ in targets])
        }
        for target, item in targets:
            current = locked[target.pk]
            if current.returned_at is not None:
                raise BankReturnRefused(
                    f"{name} : le virement {current.end_to_end_id} est déjà enregistré comme "
                    "retourné ; rien n'a été modifié."
                )
            if item.amount is not None and item.amount != current.amount:
                raise BankReturnRefused(
                    f"{name} : le montant retourné du virement {current.end_to_end_id} "
                    f"({item.amount} €) n'est pas celui du virement ({current.amount} €)."
                )
        kind = ReturnKind.RETURNED if parsed.kind == "camt.054" else ReturnKind.REJECTED
        record = BankReturnFile.objects.create(
            file_name=name[:200],
            sha256=sha256,
            message_type=parsed.kind,
            message_id=parsed.message_id[:35],
            imported_at=now,
            imported_by=actor,
            source=source,
            transfer_count=len(targets),
        )
        reopened = 0
        restored = Decimal("0.00")
        returned: list[Transfer] = []
        for target, item in targets:
            current = locked[target.pk]
            BankReturn.objects.create(
                file=record,
                transfer=current,
                kind=kind,
                reason_code=item.reason_code[:4],
                amount=current.amount,
            )
            current.returned_at = now
            current.return_reason = item.reason_code[:4]
            current.save(update_fields=["returned_at", "return_reason"])
            reopened += _reopen(current, now)
            restored += _restore_recoveries(current, now)
            returned.append(current)
    return ImportResult(
        file=record, transfers=returned, reopened_claims=reopened, restored=restored
    )


def _reopen(transfer: Transfer, now: datetime.datetime) -> int:
    """Release the transfer's lines and reopen exactly its invoices still paid: a
    ``payment_returned`` event each (bank), status back to accepted, their claims too.
    Returns how many were reopened."""
    lines = list(TransferLine.objects.filter(transfer=transfer, returned=False))
    TransferLine.objects.filter(transfer=transfer).update(returned=True)
    amounts = {line.invoice_id: line.amount for line in lines}
    invoices = list(
        Invoice.objects.select_for_update()
        .filter(pk__in=amounts, status=InvoiceStatus.PAID)
        .only("id", "professional_id", "insurer_id", "status")
    )
    InvoiceEvent.objects.bulk_create(
        new_event(
            invoice,
            InvoiceEventKind.PAYMENT_RETURNED,
            at=now,
            actor_kind=ActorKind.BANK,
            detail=EventDetail(
                amount=amounts[invoice.pk],
                reference=transfer.end_to_end_id,
                reason_codes=[transfer.return_reason] if transfer.return_reason else [],
            ),
        )
        for invoice in invoices
    )
    ids = [invoice.pk for invoice in invoices]
    Invoice.objects.filter(pk__in=ids).update(status=InvoiceStatus.ACCEPTED)
    Claim.objects.filter(invoice_id__in=ids, status=ClaimStatus.PAID).update(
        status=ClaimStatus.ACCEPTED, paid_at=None
    )
    return len(ids)


def _restore_recoveries(transfer: Transfer, now: datetime.datetime) -> Decimal:
    """Give back to the ledger what the transfer's run recovered from the same professional
    and insurer (module docstring); returns the amount restored (euros, >= 0)."""
    netted = list(
        LedgerEntry.objects.filter(
            professional_id=transfer.professional_id,
            insurer_id=transfer.insurer_id,
            kind=LedgerEntryKind.NETTED,
            run_reference=transfer.run.reference,
        )
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            professional_id=entry.professional_id,
            insurer_id=entry.insurer_id,
            invoice_id=entry.invoice_id,
            kind=LedgerEntryKind.OVERPAYMENT,
            amount=-entry.amount,
            run_reference=entry.run_reference,
            reason=f"Virement {transfer.end_to_end_id} retourné : indu à récupérer de nouveau",
            at=now,
        )
        for entry in netted
    )
    return -sum((entry.amount for entry in netted), Decimal("0.00"))
