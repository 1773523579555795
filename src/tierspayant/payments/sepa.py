"""SEPA credit-transfer files (ISO 20022 pain.001.001.09), built with sepaxml and checked
against the XSD with xmlschema before anything is committed."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import sepaxml
import xmlschema
from sepaxml import SepaTransfer

SCHEMA = "pain.001.001.09"
#: The XSD shipped with sepaxml (the official ISO 20022 schema), read in place.
DEFAULT_XSD = Path(sepaxml.__file__).resolve().parent / "schemas" / f"{SCHEMA}.xsd"


class SepaFileInvalid(Exception):
    """A generated file fails the XSD: the run stops and leaves nothing behind."""


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


@cache
def _schema(path: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(path)


def validate(xml: bytes, xsd: Path = DEFAULT_XSD) -> None:
    """Raise SepaFileInvalid unless ``xml`` is valid against ``xsd`` (the message names the
    failing path, never an account)."""
    errors = list(_schema(str(xsd)).iter_errors(xml.decode("utf-8")))
    if errors:
        raise SepaFileInvalid(f"{SCHEMA}: invalid at {errors[0].path}")


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
    library, euros here). Validated against ``xsd``; raises SepaFileInvalid."""
    document = SepaTransfer(
        {
            "name": debtor.name,
            "IBAN": debtor.iban,
            "BIC": debtor.bic,
            "batch": True,
            "currency": "EUR",
        },
        schema=SCHEMA,
    )
    header = document._xml.find("CstmrCdtTrfInitn/GrpHdr")
    assert header is not None
    header.find("MsgId").text = message_id[:35]  # type: ignore[union-attr]
    header.find("CreDtTm").text = created_at.astimezone(datetime.UTC).strftime(  # type: ignore[union-attr]
        "%Y-%m-%dT%H:%M:%S"
    )
    for item in transfers:
        document.add_payment(
            {
                "name": item.name,
                "IBAN": item.iban,
                "BIC": item.bic,
                "amount": int((item.amount * 100).to_integral_value()),
                "execution_date": execution_date,
                "description": item.remittance[:140],
                "endtoend_id": item.end_to_end_id[:35],
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
