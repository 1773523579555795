"""FHIR R4 Claim with ``use = predetermination`` -> calculation (CLC) -> ClaimResponse.

Shape accepted (docs/fhir.md, "Calculation (CLC)"): a contained Patient (the card's NIR,
``birthDate``) named by ``patient``; a contained Coverage named by
``insurance[0].coverage`` carrying the attestation keys as in a rights check v2
(``subscriberId`` = member number, ``class`` = convention type and routing criterion);
``insurer.identifier.value`` the AMC number; each ``item`` a line of the coming invoice:
``productOrService.coding`` (system ``<base>/CodeSystem/<code system in lower case>``:
``cip13``, ``ucd``, ``lpp``, ``ngap``, ``ccam``, ``nabm``, ``hospital``), ``quantity``,
``unitPrice`` and ``net`` (EUR), ``servicedDate`` (the care date, same on every line), and
extensions (``<base>/StructureDefinition/<name>``) ``br``, ``amo-paid``,
``participation-forfaitaire``, ``franchise`` (valueMoney) and ``amo-rate`` (valueDecimal,
percent). Claim-level extensions ``insurance-nature``, ``exemption``, ``amo-regime``,
``local-regime`` (valueCode; default 10, 0, 1, 0), ``prescriber-rpps`` (valueString) and
``prescription-date`` (valueDate). Answer: a ClaimResponse (``use`` predetermination) with
the engagement in ``preAuthRef``, per item the submitted amount, AMO, AMC (benefit) and
remaining cost, and the totals.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from fhir.resources.R4B.claim import Claim as FhirClaim
from fhir.resources.R4B.claimresponse import ClaimResponse
from pydantic import ValidationError

from tierspayant.api.fhir import systems
from tierspayant.api.fhir.eligibility import FhirError, care_day
from tierspayant.calculations.services import Calculation
from tierspayant.eligibility.services import RightsCheckInput
from tierspayant.invoices.choices import CodeSystem
from tierspayant.invoices.inputs import InvoiceInput, LineInput

ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
ZERO = Decimal("0.00")


def code_system_url(base: str, code_system: CodeSystem) -> str:
    """Code system of a line's code (``<base>/CodeSystem/cip13``...; LPP is ``.../lpp``)."""
    return f"{base}/CodeSystem/{code_system.value.lower()}"


def extension_url(base: str, name: str) -> str:
    """Our extensions on a predetermination Claim and its items."""
    return f"{base}/StructureDefinition/{name}"


@dataclass(frozen=True)
class ParsedPredetermination:
    """The patient as a v2 rights-check input and the coming invoice."""

    query: RightsCheckInput
    invoice: InvoiceInput


def is_predetermination(body: bytes) -> bool:
    """True when ``body`` is a JSON Claim whose ``use`` is ``predetermination``."""
    try:
        data = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        return False
    return (
        isinstance(data, dict)
        and data.get("resourceType") == "Claim"
        and data.get("use") == "predetermination"
    )


def _extensions(element: Any) -> dict[str, Any]:
    return {str(e.url): e for e in element.extension or []}


def _money(ext: Any, where: str) -> Decimal:
    money = ext.valueMoney if ext is not None else None
    if money is None or money.value is None:
        raise FhirError(422, "required", "Montant attendu (valueMoney en EUR).", where)
    if (money.currency or "EUR") != "EUR":
        raise FhirError(422, "not-supported", "Seuls les montants en euros sont acceptés.", where)
    return Decimal(str(money.value)).quantize(Decimal("0.01"))


def _contained(model: FhirClaim, reference: str, kind: str) -> Any:
    if not reference.startswith("#"):
        return None
    return next(
        (
            r
            for r in model.contained or []
            if r.get_resource_type() == kind and r.id == reference[1:]
        ),
        None,
    )


def _identity(model: FhirClaim, base: str) -> dict[str, Any]:
    patient = _contained(model, (model.patient.reference or "") if model.patient else "", "Patient")
    if patient is None:
        raise FhirError(
            422, "required", "Le patient doit être un Patient contenu.", "Claim.patient"
        )
    nir = next(
        (
            str(i.value)
            for i in patient.identifier or []
            if i.system in (systems.NIR, *systems.NIR_TEST_SYSTEMS) and i.value
        ),
        None,
    )
    if nir is None or patient.birthDate is None:
        raise FhirError(422, "required", "NIR et date de naissance requis.", "Patient.identifier")
    insurance = model.insurance[0] if model.insurance else None
    reference = (insurance.coverage.reference or "") if insurance and insurance.coverage else ""
    coverage = _contained(model, reference, "Coverage")
    if coverage is None or not coverage.subscriberId:
        raise FhirError(
            422,
            "required",
            "insurance[0].coverage doit désigner une Coverage contenue portant le numéro "
            "d'adhérent (subscriberId).",
            "Claim.insurance.coverage",
        )
    keys: dict[str, Any] = {"convention_type": None, "routing_criterion": None}
    names = {"convention-type": "convention_type", "routing-criterion": "routing_criterion"}
    for entry in coverage.class_fhir or []:
        for coding in entry.type.coding or []:
            if coding.system == systems.attestation_key_system(base) and coding.code in names:
                keys[names[str(coding.code)]] = str(entry.value or "") or None
    amc = model.insurer.identifier.value if model.insurer and model.insurer.identifier else None
    return {
        "nir": nir,
        "birth_date": str(patient.birthDate),
        "amc_number": str(amc) if amc else None,
        "member_number": str(coverage.subscriberId),
        **keys,
    }


def _line(item: Any, index: int, base: str) -> tuple[LineInput, datetime.date | None]:
    where = f"Claim.item[{index}]"
    found: tuple[CodeSystem, str] | None = None
    for coding in (item.productOrService.coding or []) if item.productOrService else []:
        for system in CodeSystem:
            if coding.system == code_system_url(base, system) and coding.code:
                found = (system, str(coding.code))
    if found is None:
        raise FhirError(
            422,
            "required",
            "Code de la ligne absent ou de système inconnu (productOrService.coding).",
            f"{where}.productOrService",
        )
    ext = _extensions(item)
    try:
        quantity = int(Decimal(str(item.quantity.value))) if item.quantity else 1
        rate_ext = ext.get(extension_url(base, "amo-rate"))
        rate = Decimal(str(rate_ext.valueDecimal)) if rate_ext is not None else None
    except (InvalidOperation, ValueError, TypeError):
        raise FhirError(422, "invalid", "Quantité ou taux invalide.", where) from None
    if rate is None:
        raise FhirError(422, "required", "Taux AMO absent (extension amo-rate).", where)
    unit = item.unitPrice
    net = item.net
    if unit is None or unit.value is None or net is None or net.value is None:
        raise FhirError(422, "required", "unitPrice et net requis (EUR).", f"{where}.net")

    def money(name: str, required: bool = False) -> Decimal:
        extension = ext.get(extension_url(base, name))
        if extension is None and not required:
            return ZERO
        return _money(extension, f"{where}.extension({name})")

    line = LineInput(
        code_system=found[0],
        code=found[1],
        quantity=quantity,
        unit_price=Decimal(str(unit.value)).quantize(Decimal("0.01")),
        billed=Decimal(str(net.value)).quantize(Decimal("0.01")),
        br=money("br", required=True),
        amo_rate=rate,
        amo_paid=money("amo-paid", required=True),
        participation_forfaitaire=money("participation-forfaitaire"),
        franchise=money("franchise"),
    )
    day = care_day(item.servicedDate, f"{where}.servicedDate") if item.servicedDate else None
    return line, day


def parse_predetermination(body: bytes, *, base: str) -> ParsedPredetermination:
    """Validate and read a predetermination Claim; raises FhirError naming the element."""
    try:
        model = FhirClaim.model_validate(json.loads(body))
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise FhirError(400, "structure", f"Claim invalide : {first['msg']} ({path}).") from None
    except (KeyError, TypeError, ValueError):
        raise FhirError(400, "structure", "Claim illisible.", "Claim") from None
    identity = _identity(model, base)
    items = model.item or []
    if not items:
        raise FhirError(422, "required", "Au moins une ligne (item) est nécessaire.", "Claim.item")
    parsed = [_line(item, i, base) for i, item in enumerate(items)]
    days = {day for _, day in parsed if day is not None}
    if len(days) != 1:
        raise FhirError(
            422,
            "required",
            "Une même date de soins (servicedDate) est attendue sur les lignes.",
            "Claim.item.servicedDate",
        )
    ext = _extensions(model)

    def code(name: str, default: str) -> str:
        extension = ext.get(extension_url(base, name))
        return str(extension.valueCode) if extension is not None else default

    prescriber = ext.get(extension_url(base, "prescriber-rpps"))
    prescribed = ext.get(extension_url(base, "prescription-date"))
    lines = tuple(line for line, _ in parsed)
    invoice = InvoiceInput(
        invoice_number="CLC",
        care_date=days.pop(),
        insurance_nature=code("insurance-nature", "10"),
        exemption=code("exemption", "0"),
        amo_regime=code("amo-regime", "1"),
        local_regime=code("local-regime", "0"),
        prescriber_rpps=str(prescriber.valueString) if prescriber is not None else "",
        prescription_date=prescribed.valueDate if prescribed is not None else None,
        total_billed=sum((line.billed for line in lines), ZERO),
        total_amo=sum((line.amo_paid for line in lines), ZERO),
        lines=lines,
    )
    return ParsedPredetermination(RightsCheckInput(**identity), invoice)


def _amount(value: Decimal) -> dict[str, Any]:
    return {"value": float(value), "currency": "EUR"}


def _share(base: str, code: str, value: Decimal, benefit: bool = False) -> dict[str, Any]:
    coding = [{"system": f"{base}/CodeSystem/adjudication-share", "code": code}]
    if benefit:
        coding.insert(0, {"system": ADJUDICATION, "code": "benefit"})
    return {"category": {"coding": coding}, "amount": _amount(value)}


def predetermination_response(
    answer: Calculation, invoice: InvoiceInput, *, base: str, created: datetime.datetime
) -> dict[str, Any]:
    """The ClaimResponse of a calculation, validated by the FHIR model. No match: outcome
    ``error`` (code ``no-match``); not covered for the domain: outcome ``complete`` without
    items; covered: ``preAuthRef`` the engagement, items and totals."""
    resource: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "predetermination",
        "patient": {"display": "Patient de la demande"},
        "created": created.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "insurer": {"display": "Organisme complémentaire de la demande"},
        "outcome": "complete",
    }
    result = answer.result
    if result is None or answer.engagement is None:
        if answer.outcome.value in ("no_match", "ambiguous"):
            resource["outcome"] = "error"
            resource["error"] = [
                {
                    "code": {
                        "coding": [
                            {
                                "system": systems.eligibility_error_system(base),
                                "code": "no-match"
                                if answer.outcome.value == "no_match"
                                else "rang-required",
                            }
                        ]
                    }
                }
            ]
            resource["disposition"] = "Aucune correspondance."
        else:
            resource["disposition"] = "Pas de droits au tiers payant pour ce domaine à la date."
        return _validated(resource)
    resource["disposition"] = "Calcul de la part complémentaire (engagement de paiement)."
    resource["preAuthRef"] = answer.engagement
    assert answer.engagement_expires_at is not None
    resource["preAuthPeriod"] = {
        "start": answer.care_date.isoformat(),
        "end": answer.engagement_expires_at.date().isoformat(),
    }
    resource["item"] = [
        {
            "itemSequence": number,
            "adjudication": [
                {
                    "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
                    "amount": _amount(line.billed),
                },
                _share(base, "amo", item.amo),
                _share(base, "amc", item.amc, benefit=True),
                _share(base, "patient", item.rac),
            ],
        }
        for number, (line, item) in enumerate(zip(invoice.lines, result.lines, strict=True), 1)
    ]
    resource["total"] = [
        {
            "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
            "amount": _amount(invoice.total_billed),
        },
        _share(base, "amc", result.totals.amc, benefit=True),
        _share(base, "patient", result.totals.rac),
    ]
    return _validated(resource)


def _validated(resource: dict[str, Any]) -> dict[str, Any]:
    ClaimResponse.model_validate(resource)
    return resource
