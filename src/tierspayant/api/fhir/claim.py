"""FHIR R4 Claim (use ``preauthorization`` or ``claim``) -> ClaimResponse, and
PaymentReconciliation for a statement. Models from ``fhir.resources`` R4B (ADR 0005).

Claim shape accepted (docs/care.md, « API FHIR »): the patient is a contained Patient with
the card's NIR (system ``urn:oid:1.2.250.1.213.1.4.8``) and ``birthDate``, optional rang
extension; ``insurer.identifier`` may give the AMC number; each ``item`` carries an LPP code
in ``productOrService.coding`` (system ``<base>/CodeSystem/lpp`` or any coding of 7 digits),
``net`` (or ``unitPrice``; ``quantity`` 1) in EUR, ``bodySite`` ``right``/``left`` for a lens,
and ``servicedDate`` or ``servicedPeriod.start`` (the date of care, an instant read in
Europe/Paris; for a preauthorization, the planned date); ``total``, if given, is the sum of
the lines. A claim
gives its invoice number in ``identifier[0].value`` and the approval in
``insurance[0].preAuthRef[0]``. Anything else is answered with an OperationOutcome
naming the element, never a 500.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.claim import Claim as FhirClaim
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.paymentreconciliation import PaymentReconciliation
from pydantic import ValidationError

from tierspayant.api.fhir import systems
from tierspayant.api.fhir.eligibility import FhirError, care_day, rang_of
from tierspayant.claims.models import Claim
from tierspayant.payments.models import Statement, Transfer
from tierspayant.priorauth.choices import reason_label
from tierspayant.priorauth.gate import Identity
from tierspayant.priorauth.lpp import LineInput
from tierspayant.priorauth.models import CareLine, PriorApproval

ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"


def lpp_system(base: str) -> str:
    """Code system of LPP codes in our Claims."""
    return f"{base}/CodeSystem/lpp"


def share_system(base: str) -> str:
    """Adjudication categories of our shares: ``amo``, ``amc``, ``patient``."""
    return f"{base}/CodeSystem/adjudication-share"


def reason_system(base: str) -> str:
    """Code system of our reason codes (engine and care reasons)."""
    return f"{base}/CodeSystem/reason"


def invoice_system(base: str) -> str:
    """Identifier system of invoice numbers (the professional's own)."""
    return f"{base}/NamingSystem/invoice-number"


@dataclass(frozen=True)
class ParsedClaim:
    """What a FHIR Claim asks: its use, the patient, the date, the lines, and (claims) the
    invoice and approval numbers; provider identifiers given."""

    use: str
    identity: Identity
    care_date: datetime.date | None
    lines: list[LineInput]
    invoice_number: str
    approval_number: str
    provider_ids: tuple[str, ...]
    prescription: dict[str, Any] | None = None


def _contained(model: FhirClaim, reference: str | None, kind: str) -> Any:
    ref = str(reference or "")
    if not ref.startswith("#"):
        return None
    return next(
        (r for r in model.contained or [] if r.get_resource_type() == kind and r.id == ref[1:]),
        None,
    )


def _prescriber(model: FhirClaim, reference: Any) -> str | None:
    practitioner = _contained(model, getattr(reference, "reference", None), "Practitioner")
    for identifier in getattr(practitioner, "identifier", None) or []:
        value = str(identifier.value or "")
        if identifier.system == systems.RPPS:
            return value
        if len(value) == 12 and value.startswith("8"):  # idNatPs = "8" + RPPS
            return value[1:]
    return None


def _day(value: Any) -> str | None:
    return str(value)[:10] if value is not None else None


def _prescription(model: FhirClaim) -> dict[str, Any] | None:
    """Claim.prescription: a contained VisionPrescription (prescriber Practitioner with its
    RPPS, dateWritten, lensSpecification per eye: sphere, cylinder, axis, add) or
    DeviceRequest (requester, authoredOn) for hearing aids, whose audiogram date is the
    Claim.supportingInfo of category ``audiogram`` (timingDate). The service checks it."""
    reference = model.prescription.reference if model.prescription is not None else None
    vision = _contained(model, reference, "VisionPrescription")
    if vision is not None:
        data: dict[str, Any] = {
            "prescriber_rpps": _prescriber(model, vision.prescriber),
            "prescribed_on": _day(vision.dateWritten),
        }
        for spec in vision.lensSpecification or []:
            data[str(spec.eye)] = {
                "sphere": spec.sphere,
                "cylinder": spec.cylinder,
                "axis": spec.axis,
                "addition": spec.add,
            }
        return data
    device = _contained(model, reference, "DeviceRequest")
    if device is None:
        return None
    audiogram = next(
        (
            info.timingDate
            for info in model.supportingInfo or []
            if any(c.code == "audiogram" for c in (info.category.coding or []))
        ),
        None,
    )
    return {
        "prescriber_rpps": _prescriber(model, device.requester),
        "prescribed_on": _day(device.authoredOn),
        "audiogram_on": _day(audiogram),
    }


def _structure(exc: ValidationError) -> FhirError:
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first["loc"])
    return FhirError(
        400,
        "structure",
        f"Claim invalide : {first['msg']} ({path}).",
        f"Claim.{path}" if path else None,
    )


def _patient(model: FhirClaim, base: str) -> Identity:
    reference = (model.patient.reference or "") if model.patient else ""
    patient: Any = None
    if reference.startswith("#"):
        patient = next(
            (
                r
                for r in model.contained or []
                if r.get_resource_type() == "Patient" and r.id == reference[1:]
            ),
            None,
        )
    if patient is None:
        raise FhirError(
            422,
            "required",
            'Le patient doit être un Patient contenu (patient.reference = "#id") portant le NIR '
            "de la carte et la date de naissance.",
            "Claim.patient",
        )
    nir = next(
        (
            str(i.value)
            for i in patient.identifier or []
            if i.system in (systems.NIR, *systems.NIR_TEST_SYSTEMS) and i.value
        ),
        None,
    )
    if nir is None:
        raise FhirError(
            422,
            "required",
            f"NIR absent (identifier.system = {systems.NIR}).",
            "Patient.identifier",
        )
    if patient.birthDate is None:
        raise FhirError(422, "required", "Date de naissance absente.", "Patient.birthDate")
    rang = rang_of(patient, base)
    amc = None
    insurer = model.insurer.identifier if model.insurer is not None else None
    if insurer is not None and insurer.system == systems.amc_number_system(base):
        amc = insurer.value
    return Identity(nir=nir, birth_date=str(patient.birthDate), rang=rang, amc_number=amc)


def _euros(money: Any, where: str) -> Decimal | None:
    if money is None or money.value is None:
        return None
    if (money.currency or "EUR") != "EUR":
        raise FhirError(
            422, "not-supported", "Seuls les montants en euros (EUR) sont acceptés.", where
        )
    return Decimal(str(money.value))


def _money(item: Any, index: int) -> Decimal:
    """The line's net as FHIR defines it (``net = quantity × unitPrice × factor``): one
    article a line (``quantity`` absent or 1); ``net`` given, or computed from ``unitPrice``;
    both given must agree; sub-lines (``detail``) are not supported."""
    where = f"Claim.item[{index}]"
    if item.detail:
        raise FhirError(
            422,
            "not-supported",
            "Les sous-lignes (detail) ne sont pas acceptées.",
            f"{where}.detail",
        )
    if item.quantity is not None and Decimal(str(item.quantity.value or 0)) != 1:
        raise FhirError(
            422,
            "not-supported",
            "Une ligne par article : quantity doit valoir 1.",
            f"{where}.quantity",
        )
    factor = Decimal(str(item.factor)) if item.factor is not None else Decimal(1)
    net = _euros(item.net, f"{where}.net")
    unit = _euros(item.unitPrice, f"{where}.unitPrice")
    if unit is not None:
        computed = (unit * factor).quantize(Decimal("0.01"))
        if net is not None and net != computed:
            raise FhirError(
                422, "invalid", "net doit valoir unitPrice × quantity × factor.", f"{where}.net"
            )
        net = computed
    if net is None:
        raise FhirError(422, "required", "Montant facturé absent (net).", f"{where}.net")
    return net


def _item_day(item: Any, index: int) -> datetime.date | None:
    if item.servicedDate is not None:
        return care_day(item.servicedDate, f"Claim.item[{index}].servicedDate")
    if item.servicedPeriod is not None and item.servicedPeriod.start is not None:
        return care_day(item.servicedPeriod.start, f"Claim.item[{index}].servicedPeriod.start")
    return None


def _check_total(model: FhirClaim, lines: list[LineInput]) -> None:
    """``Claim.total`` (optional) must be the sum of the lines' ``net``."""
    total = _euros(model.total, "Claim.total")
    if total is not None and total != sum((Decimal(line.billed) for line in lines), Decimal(0)):
        raise FhirError(
            422,
            "invalid",
            "Claim.total doit être la somme des montants des lignes (item.net).",
            "Claim.total",
        )


def _code(item: Any, index: int, base: str) -> str:
    codings = item.productOrService.coding or [] if item.productOrService else []
    for coding in codings:
        if coding.system == lpp_system(base) or (
            coding.code and str(coding.code).isdigit() and len(str(coding.code)) == 7
        ):
            return str(coding.code)
    raise FhirError(
        422,
        "not-supported",
        "Chaque ligne doit porter un code LPP (productOrService.coding).",
        f"Claim.item[{index}].productOrService",
    )


def _side(item: Any) -> str | None:
    if item.bodySite is None:
        return None
    for coding in item.bodySite.coding or []:
        if coding.code:
            return str(coding.code)
    return item.bodySite.text


def parse_claim(body: bytes, *, base: str) -> ParsedClaim:
    """Validate and read a Claim; raises FhirError (400 structure, 422 required or
    not-supported) naming the element."""
    try:
        data = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        raise FhirError(400, "structure", "Le corps n'est pas du JSON.") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Claim":
        raise FhirError(400, "structure", "Une ressource Claim est attendue.", "Claim")
    try:
        model = FhirClaim.model_validate(data)
    except ValidationError as exc:
        raise _structure(exc) from None
    except (KeyError, TypeError, ValueError):
        # fhir.resources raises these for a contained resource of unknown or missing type.
        raise FhirError(
            400,
            "structure",
            "Ressource contenue de type inconnu ou absent (resourceType).",
            "Claim.contained",
        ) from None
    if model.use not in ("preauthorization", "claim"):
        raise FhirError(
            422, "not-supported", "use doit valoir preauthorization ou claim.", "Claim.use"
        )
    identity = _patient(model, base)
    items = model.item or []
    if not items:
        raise FhirError(422, "required", "Au moins une ligne (item) est nécessaire.", "Claim.item")
    lines = [
        LineInput(code=_code(item, i, base), billed=_money(item, i), side=_side(item))
        for i, item in enumerate(items)
    ]
    _check_total(model, lines)
    dates = [day for i, item in enumerate(items) if (day := _item_day(item, i)) is not None]
    care_date = dates[0] if dates else None
    invoice = ""
    if model.identifier:
        invoice = str(model.identifier[0].value or "")
    approval = ""
    for insurance in model.insurance or []:
        if insurance.preAuthRef:
            approval = str(insurance.preAuthRef[0])
    provider_ids: tuple[str, ...] = ()
    if model.provider is not None and model.provider.identifier is not None:
        provider_ids = (str(model.provider.identifier.value or ""),)
    return ParsedClaim(
        use=str(model.use),
        identity=identity,
        care_date=care_date,
        lines=lines,
        invoice_number=invoice,
        approval_number=approval,
        provider_ids=provider_ids,
        prescription=_prescription(model),
    )


def _amount(value: Decimal) -> dict[str, Any]:
    return {"value": float(value), "currency": "EUR"}


def _items(lines: list[CareLine], base: str) -> list[dict[str, Any]]:
    items = []
    for line in lines:
        adjudication: list[dict[str, Any]] = [
            {
                "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
                "amount": _amount(line.billed),
            },
            {
                "category": {
                    "coding": [{"system": share_system(base), "code": "amo", "display": "Part AMO"}]
                },
                "amount": _amount(line.amo),
            },
            {
                "category": {
                    "coding": [
                        {"system": ADJUDICATION, "code": "benefit"},
                        {"system": share_system(base), "code": "amc", "display": "Part AMC"},
                    ]
                },
                "amount": _amount(line.amc),
            },
            {
                "category": {
                    "coding": [
                        {
                            "system": share_system(base),
                            "code": "patient",
                            "display": "Reste à charge",
                        }
                    ]
                },
                "amount": _amount(line.rac),
            },
        ]
        for code in line.reasons:
            adjudication.append(
                {
                    "category": {"coding": [{"system": share_system(base), "code": "amc"}]},
                    "reason": {
                        "coding": [
                            {
                                "system": reason_system(base),
                                "code": code,
                                "display": reason_label(code),
                            }
                        ]
                    },
                }
            )
        items.append({"itemSequence": line.position, "adjudication": adjudication})
    return items


def _totals(obj: PriorApproval | Claim, base: str) -> list[dict[str, Any]]:
    return [
        {
            "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
            "amount": _amount(obj.total_billed),
        },
        {
            "category": {"coding": [{"system": share_system(base), "code": "amo"}]},
            "amount": _amount(obj.total_amo),
        },
        {
            "category": {"coding": [{"system": ADJUDICATION, "code": "benefit"}]},
            "amount": _amount(obj.total_amc),
        },
        {
            "category": {"coding": [{"system": share_system(base), "code": "patient"}]},
            "amount": _amount(obj.total_rac),
        },
    ]


def _validated(resource: dict[str, Any]) -> dict[str, Any]:
    return json.loads(ClaimResponse.model_validate(resource).model_dump_json(exclude_none=True))


def _common(use: str, amc_number: str, created: datetime.datetime, base: str) -> dict[str, Any]:
    return {
        "resourceType": "ClaimResponse",
        "status": "active",
        "type": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "vision"}
            ]
        },
        "use": use,
        "patient": {"display": "Patient de la demande"},
        "created": created.isoformat(),
        "insurer": {"identifier": {"system": systems.amc_number_system(base), "value": amc_number}},
    }


def preauthorization_response(
    approval: PriorApproval, *, base: str, created: datetime.datetime
) -> dict[str, Any]:
    """ClaimResponse of a prior approval: ``preAuthRef`` the approval number, its period,
    item adjudication (submitted, AMO, AMC as benefit, patient) with reasons."""
    outcome = {"accepted": "complete", "partial": "partial", "refused": "complete"}[
        approval.decision
    ]
    resource = _common("preauthorization", approval.insurer.amc_number, created, base)
    resource.update(
        {
            "outcome": outcome,
            "disposition": f"Prise en charge : {approval.get_decision_display()}",
            "preAuthRef": approval.number,
            "preAuthPeriod": {
                "start": approval.created_at.date().isoformat(),
                "end": approval.expires_on.isoformat(),
            },
            "item": _items(list(approval.lines.all()), base),
            "total": _totals(approval, base),
        }
    )
    if approval.reasons:
        resource["processNote"] = [
            {"number": i + 1, "text": reason_label(c)} for i, c in enumerate(approval.reasons)
        ]
    return _validated(resource)


def claim_response(claim: Claim, *, base: str, created: datetime.datetime) -> dict[str, Any]:
    """ClaimResponse of an adjudicated claim; a rejected one has outcome ``error`` and its
    reasons in ``error``."""
    resource = _common("claim", claim.insurer.amc_number, created, base)
    resource.update(
        {
            "identifier": [{"system": invoice_system(base), "value": claim.invoice_number}],
            "outcome": "error" if claim.status == "rejected" else "complete",
            "disposition": f"Facture {claim.get_status_display().lower()}",
            "item": _items(list(claim.lines.all()), base),
            "total": _totals(claim, base),
        }
    )
    if claim.approval_number:
        resource["preAuthRef"] = claim.approval_number
    if claim.status == "rejected":
        resource["error"] = [
            {
                "code": {
                    "coding": [
                        {"system": reason_system(base), "code": c, "display": reason_label(c)}
                    ]
                }
            }
            for c in claim.reasons
        ]
    return _validated(resource)


def payment_reconciliation(
    statement: Statement, transfers: list[Transfer], *, base: str
) -> dict[str, Any]:
    """PaymentReconciliation of one professional's payment in a run: the run reference,
    the execution date, the total, one detail per claim paid."""
    run = statement.run
    details = [
        {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/payment-type",
                        "code": "payment",
                    }
                ]
            },
            "request": {
                "identifier": {"system": invoice_system(base), "value": line.invoice.invoice_number}
            },
            "date": run.execution_date.isoformat(),
            "amount": _amount(line.amount),
        }
        for transfer in transfers
        for line in transfer.lines.all()
    ]
    resource = {
        "resourceType": "PaymentReconciliation",
        "id": str(statement.pk),
        "status": "active",
        "created": run.created_at.isoformat(),
        "paymentDate": run.execution_date.isoformat(),
        "paymentAmount": _amount(statement.total),
        "paymentIdentifier": {"system": f"{base}/NamingSystem/payment-run", "value": run.reference},
        "outcome": "complete",
        "disposition": f"{statement.claim_count} facture(s) payée(s)",
        "detail": details,
    }
    return json.loads(
        PaymentReconciliation.model_validate(resource).model_dump_json(exclude_none=True)
    )
