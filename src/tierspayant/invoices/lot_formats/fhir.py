"""FHIR R4 lot: a ``Bundle`` of type ``batch`` whose entries are ``Claim`` resources (use
``claim``), each validated with ``fhir.resources`` (R4B models, as ``api/fhir``).

Bundle: ``identifier.value`` the lot's reference; extensions ``<base>/StructureDefinition/
lot-count`` (``valueUnsignedInt``: invoices declared) and ``lot-total`` (``valueMoney``:
billed total declared). Claim: ``identifier[0].value`` invoice number; ``patient`` a
contained Patient with the card's NIR (``urn:oid:1.2.250.1.213.1.4.8``), ``birthDate`` and
the rang extension (``<base>/StructureDefinition/rang-naissance``); ``insurer.identifier``
the AMC number (``<base>/NamingSystem/amc-number``); ``billablePeriod`` the care date (and
end); extensions ``insurance-nature``, ``exemption``, ``amo-regime``, ``local-regime``
(``valueCode``, SNDS codes), ``prescriber-rpps`` (``valueString``), ``prescription-date``
(``valueDate``), ``total-amo`` (``valueMoney``); ``total`` the billed total. Each ``item``:
``productOrService.coding[0]`` (system ``<base>/CodeSystem/<cip13|ucd|lpp|ngap|ccam|nabm|
hospital>``), ``quantity.value``, ``unitPrice``, ``net`` (billed), and extensions ``br``,
``amo-paid``, ``participation-forfaitaire``, ``franchise`` (``valueMoney``), ``amo-rate``,
``coefficient``, ``price-limit`` (``valueDecimal``), ``sante-class`` (``valueCode``).
The engagement number the invoice quotes (rights check v2 or calculation) is the first
``insurance[].preAuthRef[]`` (the element the CoverageEligibilityResponse carries it in).

The Bundle is one JSON document, read whole: its size is bounded by the request body limit
(large lots come as flat files, read line by line). Errors name the entry (1-based) and the
field, as the flat file's do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO

from fhir.resources.R4B.claim import Claim as FhirClaim
from pydantic import ValidationError

from tierspayant.invoices.choices import CodeSystem, LotFormat, LotRefusal
from tierspayant.invoices.inputs import InvoiceInput
from tierspayant.invoices.lot_formats import (
    MAX_INVOICES,
    CardIdentity,
    LotFormatError,
    LotHeader,
    ParsedInvoice,
)
from tierspayant.invoices.lot_formats.codec import _Reader, invoice_from_json

NIR_SYSTEMS = (
    "urn:oid:1.2.250.1.213.1.4.8",
    "urn:oid:1.2.250.1.213.1.4.10",
    "urn:oid:1.2.250.1.213.1.4.11",
)
_INVOICE_EXTENSIONS = {
    "insurance-nature": ("insurance_nature", "valueCode"),
    "exemption": ("exemption", "valueCode"),
    "amo-regime": ("amo_regime", "valueCode"),
    "local-regime": ("local_regime", "valueCode"),
    "prescriber-rpps": ("prescriber_rpps", "valueString"),
    "prescription-date": ("prescription_date", "valueDate"),
    "total-amo": ("total_amo", "valueMoney"),
}
_LINE_EXTENSIONS = {
    "br": ("br", "valueMoney"),
    "amo-paid": ("amo_paid", "valueMoney"),
    "participation-forfaitaire": ("participation_forfaitaire", "valueMoney"),
    "franchise": ("franchise", "valueMoney"),
    "amo-rate": ("amo_rate", "valueDecimal"),
    "coefficient": ("coefficient", "valueDecimal"),
    "price-limit": ("price_limit", "valueDecimal"),
    "sante-class": ("sante_class", "valueCode"),
}


def _value(extension: dict[str, Any], kind: str) -> Any:
    value = extension.get(kind)
    if kind == "valueMoney" and isinstance(value, dict):
        return value.get("value")
    return value


def _extensions(
    element: dict[str, Any], prefix: str, known: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for extension in element.get("extension") or []:
        url = str(extension.get("url", ""))
        if url.startswith(prefix) and url[len(prefix) :] in known:
            field, kind = known[url[len(prefix) :]]
            found[field] = _value(extension, kind)
    return found


def _money(element: Any) -> Any:
    return element.get("value") if isinstance(element, dict) else None


def _pre_auth_ref(claim: dict[str, Any]) -> Any:
    """The first ``insurance[].preAuthRef[]`` of the Claim (the quoted engagement), or None."""
    for insurance in claim.get("insurance") or []:
        refs = insurance.get("preAuthRef") if isinstance(insurance, dict) else None
        for ref in refs or []:
            if ref not in (None, ""):
                return ref
    return None


class FhirBatchParser:
    """The FHIR adapter; ``base`` is the platform's FHIR base URL."""

    format = LotFormat.FHIR

    def __init__(self, base: str) -> None:
        self.base = base
        self.extension = f"{base}/StructureDefinition/"
        self.code_systems = {
            f"{base}/CodeSystem/{system.value.lower()}": system.value for system in CodeSystem
        }

    def parse(self, stream: BinaryIO) -> tuple[LotHeader, Iterator[ParsedInvoice]]:
        try:
            bundle = json.load(stream)
        except (ValueError, UnicodeDecodeError):
            raise LotFormatError(
                LotRefusal.UNREADABLE, "le corps n'est pas du JSON (Bundle FHIR attendu)"
            ) from None
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise LotFormatError(LotRefusal.UNREADABLE, "Bundle attendu", field="resourceType")
        if bundle.get("type") != "batch":
            raise LotFormatError(
                LotRefusal.UNREADABLE, "Bundle de type batch attendu", field="type"
            )
        try:
            header, entries = self._header(bundle)
        except (AttributeError, TypeError, KeyError):
            # An element of the wrong JSON type (a list for an object, null...).
            raise LotFormatError(
                LotRefusal.UNREADABLE, "Bundle mal formé (type d'élément inattendu)", field="Bundle"
            ) from None
        return header, (self._entry(e, n) for n, e in enumerate(entries, start=1))

    def _header(self, bundle: dict[str, Any]) -> tuple[LotHeader, list[Any]]:
        """The lot's declared count and total, its reference and its entries. Raises
        LotFormatError; AttributeError/TypeError/KeyError on an element of the wrong type."""
        reader = _Reader(None)
        declared = _extensions(
            bundle,
            self.extension,
            {
                "lot-count": ("count", "valueUnsignedInt"),
                "lot-total": ("total", "valueMoney"),
            },
        )
        count = reader.integer(declared, "count")
        if count is None or not 0 < count <= MAX_INVOICES:
            raise reader.fail("extension lot-count", f"nombre de factures de 1 à {MAX_INVOICES}")
        total = reader.decimal(declared, "total")
        identifier = bundle.get("identifier") if isinstance(bundle.get("identifier"), dict) else {}
        entries = bundle.get("entry")
        if not isinstance(entries, list):
            raise LotFormatError(LotRefusal.EMPTY, "aucune entrée (entry)", field="entry")
        header = LotHeader(
            reference=reader.text(identifier or {}, "value", required=False),
            declared_count=count,
            declared_total=total,  # type: ignore[arg-type]
        )
        return header, entries

    def _entry(self, entry: Any, number: int) -> ParsedInvoice:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "Claim":
            raise LotFormatError(
                LotRefusal.UNREADABLE, "ressource Claim attendue", line=number, field="resource"
            )
        try:
            FhirClaim.model_validate(resource)
        except ValidationError as exc:
            first = exc.errors()[0]
            path = ".".join(str(p) for p in first["loc"])
            raise LotFormatError(
                LotRefusal.UNREADABLE,
                f"Claim invalide : {first['msg']}",
                line=number,
                field=f"Claim.{path}",
            ) from None
        except (KeyError, TypeError, ValueError):
            raise LotFormatError(
                LotRefusal.UNREADABLE,
                "ressource contenue de type inconnu",
                line=number,
                field="Claim.contained",
            ) from None
        try:
            identity = self._patient(resource, number)
            data = self._as_json(resource)
        except (AttributeError, TypeError, KeyError):
            # An element of the wrong JSON type that the Claim model lets through (contained
            # Patient, extensions): the invoice is unreadable, named by its entry.
            raise LotFormatError(
                LotRefusal.UNREADABLE,
                "Claim mal formé (type d'élément inattendu)",
                line=number,
                field="Claim",
            ) from None
        return ParsedInvoice(identity=identity, invoice=invoice_from_json(data, line=number))

    def _patient(self, claim: dict[str, Any], number: int) -> CardIdentity:
        reference = str((claim.get("patient") or {}).get("reference", ""))
        patient = next(
            (
                r
                for r in claim.get("contained") or []
                if r.get("resourceType") == "Patient" and f"#{r.get('id')}" == reference
            ),
            None,
        )
        if patient is None:
            raise LotFormatError(
                LotRefusal.UNREADABLE,
                'Patient contenu attendu (patient.reference = "#id")',
                line=number,
                field="Claim.patient",
            )
        nir = next(
            (
                str(i["value"])
                for i in patient.get("identifier") or []
                if i.get("system") in NIR_SYSTEMS and i.get("value")
            ),
            None,
        )
        if nir is None or not patient.get("birthDate"):
            field = "Patient.identifier" if nir is None else "Patient.birthDate"
            raise LotFormatError(
                LotRefusal.UNREADABLE,
                "NIR et date de naissance de la carte requis",
                line=number,
                field=field,
            )
        rang = next(
            (
                e.get("valueInteger")
                for e in patient.get("extension") or []
                if e.get("url") == f"{self.extension}rang-naissance"
            ),
            None,
        )
        insurer = (claim.get("insurer") or {}).get("identifier") or {}
        amc = insurer.get("value") if insurer.get("system", "").endswith("/amc-number") else None
        return CardIdentity(
            nir=nir, birth_date=str(patient["birthDate"]), rang=rang, amc_number=amc
        )

    def _as_json(self, claim: dict[str, Any]) -> dict[str, Any]:
        """The Claim in the codec's JSON form (its reader then names any bad field)."""
        period = claim.get("billablePeriod") or {}
        data: dict[str, Any] = {
            "invoice_number": next((i.get("value") for i in claim.get("identifier") or []), None),
            "care_date": period.get("start", "")[:10] or None,
            "care_end_date": (period.get("end") or "")[:10] or None,
            "total_billed": _money(claim.get("total")),
            **_extensions(claim, self.extension, _INVOICE_EXTENSIONS),
        }
        engagement = _pre_auth_ref(claim)
        if engagement is not None:
            data["engagement"] = engagement
        lines = []
        for item in claim.get("item") or []:
            coding = ((item.get("productOrService") or {}).get("coding") or [{}])[0]
            line = {
                "code_system": self.code_systems.get(
                    str(coding.get("system")), coding.get("system")
                ),
                "code": coding.get("code"),
                "quantity": (item.get("quantity") or {}).get("value", 1),
                "unit_price": _money(item.get("unitPrice")),
                "billed": _money(item.get("net")),
                **_extensions(item, self.extension, _LINE_EXTENSIONS),
            }
            if isinstance(line["quantity"], float) and line["quantity"].is_integer():
                line["quantity"] = int(line["quantity"])
            lines.append(line)
        data["lines"] = lines
        return data


def money(value: Decimal) -> dict[str, Any]:
    """A FHIR Money in euros."""
    return {"value": float(value), "currency": "EUR"}


def invoice_from_claim(claim: Any, *, base: str) -> InvoiceInput:
    """One ``Claim`` of a FHIR lot's layout read without its patient: a rectification's
    replacement (issue 16), whose patient is the original's. Raises LotFormatError(UNREADABLE)
    naming the element (``Claim.<path>``) or the codec's field."""
    if not isinstance(claim, dict) or claim.get("resourceType") != "Claim":
        raise LotFormatError(LotRefusal.UNREADABLE, "ressource Claim attendue", field="Claim")
    try:
        FhirClaim.model_validate(claim)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise LotFormatError(
            LotRefusal.UNREADABLE, f"Claim invalide : {first['msg']}", field=f"Claim.{path}"
        ) from None
    except (KeyError, TypeError, ValueError):
        raise LotFormatError(
            LotRefusal.UNREADABLE, "ressource contenue de type inconnu", field="Claim.contained"
        ) from None
    try:
        data = FhirBatchParser(base)._as_json(claim)
    except (AttributeError, TypeError, KeyError):
        raise LotFormatError(
            LotRefusal.UNREADABLE, "Claim mal formé (type d'élément inattendu)", field="Claim"
        ) from None
    return invoice_from_json(data)
