"""SEPA credit-transfer files (ISO 20022 pain.001.001.09), built with sepaxml and checked
against the XSD with xmlschema before anything is committed.

Every text that goes into a file passes through ``tierspayant.text.sepa_text`` (names,
remittance) or ``sepa_id`` (message and end-to-end ids): the XSD accepts any Unicode, but
banks in France accept only the EPC's Latin character set (EPC217-08 §1.4): accented letters
are transliterated, the few ASCII signs outside the set get a neighbour, anything else becomes
a space (``tierspayant.text``). A creditor whose bank
details cannot go into a file at all (IBAN or BIC not of the XSD's form, nothing left of the
name) raises :class:`InvalidTransfer` from :func:`check_transfer`, so a run holds that one
creditor rather than failing for everyone.
"""

from __future__ import annotations

import datetime
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import sepaxml
import xmlschema
from sepaxml import SepaTransfer

from tierspayant.text import sepa_id, sepa_text

SCHEMA = "pain.001.001.09"
#: The XSD shipped with sepaxml (the official ISO 20022 schema), read in place.
DEFAULT_XSD = Path(sepaxml.__file__).resolve().parent / "schemas" / f"{SCHEMA}.xsd"


#: The XSD's forms (pain.001.001.09: IBAN2007Identifier, BICFIDec2014Identifier).
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}")
_BIC = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
#: Largest amount of one transfer (ActiveOrHistoricCurrencyAndAmount: 18 digits, 5 after
#: the point; EPC: at most 999,999,999.99 euros).
MAX_AMOUNT = Decimal("999999999.99")


class SepaFileInvalid(Exception):
    """A generated file fails the XSD: the run stops and leaves nothing behind."""


class InvalidTransfer(ValueError):
    """A transfer that cannot be written to a file: ``field`` names which (``name``, ``iban``,
    ``bic``, ``amount``); the message holds no account data."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Debtor:
    """The operator's account the transfers are paid from: name (at most 70 characters),
    IBAN, BIC."""

    name: str
    iban: str
    bic: str


@dataclass(frozen=True)
class CreditTransfer:
    """One transaction: creditor name, IBAN, BIC, amount in euros, end-to-end id (<= 35
    characters) and unstructured remittance text (<= 140)."""

    name: str
    iban: str
    bic: str
    amount: Decimal
    end_to_end_id: str
    remittance: str


def check_transfer(item: CreditTransfer) -> CreditTransfer:
    """``item`` with its texts in the SEPA set (:func:`sepa_text`, :func:`sepa_id`); raises
    :class:`InvalidTransfer` if its IBAN or BIC is not of the XSD's form, its amount is not
    between 0 and :data:`MAX_AMOUNT` euros, or nothing is left of the name."""
    if not _IBAN.fullmatch(item.iban):
        raise InvalidTransfer("iban", "IBAN mal formé")
    if not _BIC.fullmatch(item.bic):
        raise InvalidTransfer("bic", "BIC mal formé")
    if not Decimal("0.00") <= item.amount <= MAX_AMOUNT:
        raise InvalidTransfer("amount", "montant hors des bornes d'un virement SEPA")
    name = sepa_text(item.name, 70, field="creditor name")
    if not name:
        raise InvalidTransfer("name", "nom du titulaire vide une fois translittéré")
    return CreditTransfer(
        name=name,
        iban=item.iban,
        bic=item.bic,
        amount=item.amount,
        end_to_end_id=sepa_id(item.end_to_end_id, field="end-to-end id"),
        remittance=sepa_text(item.remittance, 140, field="remittance") or "NOTPROVIDED",
    )


@cache
def _schema(path: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(path)


def validate(xml: bytes, xsd: Path = DEFAULT_XSD) -> None:
    """Raise SepaFileInvalid unless ``xml`` is valid against ``xsd`` (the message names the
    failing path, never an account). Lazy mode: the document is read as a stream of
    subtrees, so validating a file of 20,000 transfers does not hold a second tree of it
    (bench/payment_run_scale.py)."""
    resource = xmlschema.XMLResource(io.BytesIO(xml), lazy=True)
    error = next(iter(_schema(str(xsd)).iter_errors(resource)), None)
    if error is not None:
        raise SepaFileInvalid(f"{SCHEMA}: invalid at {error.path}")


def build_pain001(
    *,
    debtor: Debtor,
    transfers: list[CreditTransfer],
    message_id: str,
    created_at: datetime.datetime,
    execution_date: datetime.date,
    xsd: Path = DEFAULT_XSD,
) -> bytes:
    """One pain.001.001.09 message, one batch, all ``transfers`` (amounts in cents in the
    library, euros here). Every text is put in the SEPA set first (:func:`check_transfer`;
    sepaxml's own cleaning is off: one transliteration). Validated against ``xsd``; raises
    InvalidTransfer (a transfer that cannot be written: check them first) or
    SepaFileInvalid."""
    checked = [check_transfer(item) for item in transfers]
    document = SepaTransfer(
        {
            "name": sepa_text(debtor.name, 70, field="debtor name") or "NOTPROVIDED",
            "IBAN": debtor.iban,
            "BIC": debtor.bic,
            "batch": True,
            "currency": "EUR",
        },
        schema=SCHEMA,
        clean=False,
    )
    header = document._xml.find("CstmrCdtTrfInitn/GrpHdr")
    assert header is not None
    header.find("MsgId").text = sepa_id(message_id, field="message id")  # type: ignore[union-attr]
    header.find("CreDtTm").text = created_at.astimezone(datetime.UTC).strftime(  # type: ignore[union-attr]
        "%Y-%m-%dT%H:%M:%S"
    )
    for item in checked:
        document.add_payment(
            {
                "name": item.name,
                "IBAN": item.iban,
                "BIC": item.bic,
                "amount": int((item.amount * 100).to_integral_value()),
                "execution_date": execution_date,
                "description": item.remittance,
                "endtoend_id": item.end_to_end_id,
            }
        )
    xml: bytes = document.export(validate=False)
    validate(xml, xsd)
    return xml


def read_pain001(xml: bytes) -> list[dict[str, str]]:
    """The transactions of a pain.001.001.09 file: ``end_to_end_id``, ``amount``, ``iban``,
    ``bic``, ``name`` (for reconciliation and tests)."""
    ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"}
    root = ET.fromstring(xml)  # noqa: S314 - our own file, just written
    found = []
    for tx in root.iterfind(".//p:CdtTrfTxInf", ns):
        found.append(
            {
                "end_to_end_id": tx.findtext("p:PmtId/p:EndToEndId", "", ns),
                "amount": tx.findtext("p:Amt/p:InstdAmt", "", ns),
                "iban": tx.findtext("p:CdtrAcct/p:Id/p:IBAN", "", ns),
                "bic": tx.findtext("p:CdtrAgt/p:FinInstnId/p:BICFI", "", ns),
                "name": tx.findtext("p:Cdtr/p:Nm", "", ns),
            }
        )
    return found
