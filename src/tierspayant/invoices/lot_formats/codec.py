"""The JSON form of an invoice (``inputs.InvoiceInput``) and of a card identity: the flat
file's layout, and how a lot's invoices wait in ``LotEntry.payload``. Amounts are strings
of euros ("12.81"), dates ISO ("2025-03-14"), rates percents ("65")."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from tierspayant.coverage import SanteClass
from tierspayant.invoices.choices import CodeSystem, LotRefusal
from tierspayant.invoices.inputs import InvoiceInput, LineInput
from tierspayant.invoices.lot_formats import CardIdentity, LotFormatError

_MONEY = ("unit_price", "billed", "br", "amo_rate", "amo_paid")
_OPTIONAL_MONEY = ("participation_forfaitaire", "franchise")
#: An engagement number as quoted: letters, digits and hyphens, 64 characters at most
#: (``ENG-`` and 26 base-32 characters as issued; the check is only a shape check, the
#: number itself is checked by ``invoices.engagements``).
ENGAGEMENT_MAX = 64
_ENGAGEMENT_SHAPE = re.compile(r"[A-Za-z0-9-]+")


#: Built once: ``CodeSystem.values`` builds its list on every access (a third of a
#: 10,000-invoice acknowledgement went there).
_CODE_SYSTEMS = frozenset(CodeSystem.values)
_SANTE_CLASSES = frozenset(c.value for c in SanteClass)
_AMOUNT_LIMIT = Decimal("1e10")


class _Reader:
    def __init__(self, line: int | None, prefix: str = "") -> None:
        self.line = line
        self.prefix = prefix

    def fail(self, field: str, message: str) -> LotFormatError:
        return LotFormatError(
            LotRefusal.UNREADABLE, message, line=self.line, field=f"{self.prefix}{field}"
        )

    def text(
        self, data: dict[str, Any], field: str, *, required: bool = True, max_length: int = 40
    ) -> str:
        value = data.get(field)
        if value is None or value == "":
            if required:
                raise self.fail(field, "valeur absente")
            return ""
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise self.fail(field, "texte attendu")
        text = str(value).strip()
        if len(text) > max_length:
            raise self.fail(field, f"{max_length} caractères au plus")
        return text

    def decimal(self, data: dict[str, Any], field: str, *, required: bool = True) -> Decimal | None:
        value = data.get(field)
        if value is None:
            if required:
                raise self.fail(field, "montant absent")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(field, "nombre attendu (texte « 12.81 » ou nombre)")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.fail(field, "nombre illisible") from None
        if not number.is_finite() or abs(number) >= _AMOUNT_LIMIT:
            raise self.fail(field, "nombre hors limites")
        return number

    def date(self, data: dict[str, Any], field: str, *, required: bool = True) -> dt.date | None:
        value = data.get(field)
        if value in (None, ""):
            if required:
                raise self.fail(field, "date absente")
            return None
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(field, "date invalide (AAAA-MM-JJ attendu)") from None

    def integer(self, data: dict[str, Any], field: str, default: int | None = None) -> int | None:
        value = data.get(field, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self.fail(field, "entier attendu")
        try:
            return int(str(value))
        except ValueError:
            raise self.fail(field, "entier attendu") from None


def _line(data: Any, reader: _Reader) -> LineInput:
    if not isinstance(data, dict):
        raise reader.fail("", "objet attendu")
    system = reader.text(data, "code_system")
    if system not in _CODE_SYSTEMS:
        raise reader.fail(
            "code_system", f"système de codage inconnu ({', '.join(CodeSystem.values)})"
        )
    sante = reader.text(data, "sante_class", required=False)
    if sante and sante not in _SANTE_CLASSES:
        raise reader.fail("sante_class", "classe ou panier 100 % Santé inconnu")
    money = {name: reader.decimal(data, name) for name in _MONEY}
    optional = {name: reader.decimal(data, name, required=False) for name in _OPTIONAL_MONEY}
    quantity = reader.integer(data, "quantity", default=1)
    return LineInput(
        code_system=CodeSystem(system),
        code=reader.text(data, "code", max_length=20),
        quantity=quantity if quantity is not None else 1,
        unit_price=money["unit_price"],  # type: ignore[arg-type]
        billed=money["billed"],  # type: ignore[arg-type]
        br=money["br"],  # type: ignore[arg-type]
        amo_rate=money["amo_rate"],  # type: ignore[arg-type]
        amo_paid=money["amo_paid"],  # type: ignore[arg-type]
        participation_forfaitaire=optional["participation_forfaitaire"] or Decimal("0.00"),
        franchise=optional["franchise"] or Decimal("0.00"),
        coefficient=reader.decimal(data, "coefficient", required=False),
        sante_class=SanteClass(sante) if sante else None,
        price_limit=reader.decimal(data, "price_limit", required=False),
    )


def _engagement(data: dict[str, Any], reader: _Reader, number: str) -> str:
    value = data.get("engagement")
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise reader.fail("engagement", f"facture {number} : numéro d'engagement, texte attendu")
    text = value.strip()
    if len(text) > ENGAGEMENT_MAX:
        raise reader.fail(
            "engagement",
            f"facture {number} : numéro d'engagement de {ENGAGEMENT_MAX} caractères au plus",
        )
    if not _ENGAGEMENT_SHAPE.fullmatch(text):
        raise reader.fail(
            "engagement",
            f"facture {number} : numéro d'engagement en lettres, chiffres et tirets seulement",
        )
    return text


def invoice_from_json(data: Any, *, line: int | None = None) -> InvoiceInput:
    """Read an invoice from its JSON form; raises LotFormatError(LOT_UNREADABLE) naming
    ``line`` and the field."""
    reader = _Reader(line)
    if not isinstance(data, dict):
        raise reader.fail("", "un objet JSON (une facture) est attendu")
    lines = data.get("lines")
    if not isinstance(lines, list):
        raise reader.fail("lines", "liste de lignes attendue")
    if len(lines) > 999:
        raise reader.fail("lines", "999 lignes au plus par facture")
    number = reader.text(data, "invoice_number")
    return InvoiceInput(
        invoice_number=number,
        care_date=reader.date(data, "care_date"),  # type: ignore[arg-type]
        care_end_date=reader.date(data, "care_end_date", required=False),
        insurance_nature=reader.text(data, "insurance_nature", max_length=4),
        exemption=reader.text(data, "exemption", max_length=4),
        amo_regime=reader.text(data, "amo_regime", max_length=4),
        local_regime=reader.text(data, "local_regime", required=False, max_length=4) or "0",
        prescriber_rpps=reader.text(data, "prescriber_rpps", required=False, max_length=11),
        prescription_date=reader.date(data, "prescription_date", required=False),
        total_billed=reader.decimal(data, "total_billed"),  # type: ignore[arg-type]
        total_amo=reader.decimal(data, "total_amo"),  # type: ignore[arg-type]
        lines=tuple(
            _line(item, _Reader(line, f"lines[{index}].")) for index, item in enumerate(lines)
        ),
        engagement=_engagement(data, reader, number),
    )


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def invoice_to_json(invoice: InvoiceInput) -> dict[str, Any]:
    """The JSON form of ``invoice`` (what ``invoice_from_json`` reads); ``engagement`` only
    when the invoice quotes one."""
    data: dict[str, Any] = {
        "invoice_number": invoice.invoice_number,
        "care_date": invoice.care_date.isoformat(),
        "care_end_date": invoice.care_end_date.isoformat() if invoice.care_end_date else None,
        "insurance_nature": invoice.insurance_nature,
        "exemption": invoice.exemption,
        "amo_regime": invoice.amo_regime,
        "local_regime": invoice.local_regime,
        "prescriber_rpps": invoice.prescriber_rpps,
        "prescription_date": (
            invoice.prescription_date.isoformat() if invoice.prescription_date else None
        ),
        "total_billed": str(invoice.total_billed),
        "total_amo": str(invoice.total_amo),
        "lines": [
            {
                "code_system": str(item.code_system),
                "code": item.code,
                "quantity": item.quantity,
                "unit_price": str(item.unit_price),
                "billed": str(item.billed),
                "br": str(item.br),
                "amo_rate": str(item.amo_rate),
                "amo_paid": str(item.amo_paid),
                "participation_forfaitaire": str(item.participation_forfaitaire),
                "franchise": str(item.franchise),
                "coefficient": _money(item.coefficient),
                "sante_class": str(item.sante_class.value) if item.sante_class else None,
                "price_limit": _money(item.price_limit),
            }
            for item in invoice.lines
        ],
    }
    if invoice.engagement:
        data["engagement"] = invoice.engagement
    return data


def identity_from_json(data: Any, *, line: int | None = None) -> CardIdentity:
    """The card identity of a flat-file invoice (``patient`` object)."""
    reader = _Reader(line, "patient.")
    if not isinstance(data, dict):
        raise reader.fail("", "objet patient attendu (nir, birth_date, rang, amc_number)")
    return CardIdentity(
        nir=reader.text(data, "nir", max_length=30),
        birth_date=reader.text(data, "birth_date", max_length=10),
        rang=reader.integer(data, "rang"),
        amc_number=reader.text(data, "amc_number", required=False, max_length=10) or None,
    )


def identity_to_json(identity: CardIdentity) -> dict[str, Any]:
    """The JSON form of ``identity``."""
    return {
        "nir": identity.nir,
        "birth_date": identity.birth_date,
        "rang": identity.rang,
        "amc_number": identity.amc_number,
    }
