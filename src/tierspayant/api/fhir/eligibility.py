"""FHIR R4 CoverageEligibilityRequest -> rights check -> CoverageEligibilityResponse.

Models come from ``fhir.resources`` (its R4B package: the financial module's
CoverageEligibilityRequest/Response are unchanged between R4 4.0.1 and R4B, and the only
R4-era release of the library needs pydantic 1; see docs/adr/0005-fhir-models.md).

Shape accepted (docs/fhir.md): the patient is a *contained* Patient (``patient.reference =
"#id"``) whose identifier with system ``urn:oid:1.2.250.1.213.1.4.8`` holds the card's NIR
(15 characters), with ``birthDate`` and optionally the rang de naissance extension; the
insurer is a logical reference whose ``identifier.value`` is the AMC number; ``servicedDate``
(or ``servicedPeriod.start``) is the date of care, default today; ``provider``, if present,
must identify the token's owner (idNatPs or RPPS).

Rights check v2 (IDB, issue 17): ``insurance[0].coverage.reference = "#id"`` names a
contained Coverage whose ``subscriberId`` is the attestation's member number and whose
``class`` entries (type system ``{base}/CodeSystem/attestation-key``, codes
``convention-type`` and ``routing-criterion``) carry those keys; ``item[0].category`` (our
domain system) names the domain. A covered answer then carries the engagement number in
``preAuthRef`` (its expiry in an extension) and the domain's rules as ``insurance.item``.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from fhir.resources.R4B.coverageeligibilityrequest import CoverageEligibilityRequest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from pydantic import ValidationError

from tierspayant.api.fhir import systems
from tierspayant.audit.choices import Outcome
from tierspayant.eligibility.services import RightsCheckInput, RightsCheckResult
from tierspayant.providers.models import Professional


class FhirError(Exception):
    """A request we answer with an OperationOutcome: HTTP ``status``, FHIR issue ``code``
    (invalid, structure, required, forbidden, throttled, login...), French ``diagnostics``,
    and the FHIRPath ``expression`` of the offending element. Never carries input values."""

    def __init__(
        self, status: int, code: str, diagnostics: str, expression: str | None = None
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = expression


@dataclass(frozen=True)
class ParsedEligibilityRequest:
    """What the request asks: the rights-check input, the purposes to echo, and the
    provider identifiers given (empty if no provider)."""

    query: RightsCheckInput
    purpose: list[str]
    provider_ids: tuple[str, ...]


def operation_outcome(error: FhirError) -> dict[str, Any]:
    """An OperationOutcome for ``error``, validated by the FHIR model; the dict validated is
    the one returned (no second serialisation)."""
    issue: dict[str, Any] = {
        "severity": "error",
        "code": error.code,
        "diagnostics": error.diagnostics,
    }
    if error.expression:
        issue["expression"] = [error.expression]
    resource = {"resourceType": "OperationOutcome", "issue": [issue]}
    OperationOutcome.model_validate(resource)
    return resource


def _validation_error(exc: ValidationError) -> FhirError:
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first["loc"])
    return FhirError(
        400,
        "structure",
        f"CoverageEligibilityRequest invalide : {first['msg']} ({path}).",
        f"CoverageEligibilityRequest.{path}" if path else None,
    )


def _contained_patient(model: CoverageEligibilityRequest) -> Any:
    reference = (model.patient.reference or "") if model.patient else ""
    if not reference.startswith("#"):
        raise FhirError(
            422,
            "required",
            'Le patient doit être un Patient contenu (patient.reference = "#id") portant le '
            "NIR de la carte et la date de naissance.",
            "CoverageEligibilityRequest.patient",
        )
    for resource in model.contained or []:
        if resource.get_resource_type() == "Patient" and resource.id == reference[1:]:
            return resource
    raise FhirError(
        422,
        "required",
        "patient.reference ne désigne aucun Patient contenu dans la requête.",
        "CoverageEligibilityRequest.contained",
    )


def _nir(patient: Any) -> str:
    for identifier in patient.identifier or []:
        if identifier.system in (systems.NIR, *systems.NIR_TEST_SYSTEMS) and identifier.value:
            return str(identifier.value)
    raise FhirError(
        422,
        "required",
        f"Le Patient contenu doit porter le NIR (identifier.system = {systems.NIR}).",
        "Patient.identifier",
    )


def rang_of(patient: Any, base: str) -> int | None:
    for extension in patient.extension or []:
        if extension.url == systems.rang_extension_url(base):
            if extension.valueInteger is None:
                raise FhirError(
                    422,
                    "invalid",
                    "Le rang de naissance doit être un valueInteger.",
                    "Patient.extension",
                )
            return int(extension.valueInteger)
    return None


def _amc_number(model: CoverageEligibilityRequest) -> str | None:
    insurer = model.insurer
    if insurer is not None and insurer.identifier is not None and insurer.identifier.value:
        return str(insurer.identifier.value)
    return None


def care_day(value: Any, expression: str) -> datetime.date:
    """The day of care in France of a FHIR ``date`` or ``dateTime`` (R4 §2.24.0.1): a full
    date is that day; an instant (a time SHALL carry its zone) is converted to Europe/Paris
    (``TIME_ZONE``) before its day is taken, so 2026-11-29T23:30:00Z is 30 November. A
    partial date (year, year-month) or a time without a zone names no day: FhirError 422
    naming ``expression``."""
    if isinstance(value, datetime.datetime):
        if timezone.is_naive(value):
            raise FhirError(
                422,
                "invalid",
                "Une date avec heure doit porter son fuseau horaire (ex. +01:00 ou Z).",
                expression,
            )
        return timezone.localtime(value).date()
    if isinstance(value, datetime.date):
        return value
    raise FhirError(
        422,
        "invalid",
        "Une date complète (AAAA-MM-JJ) est attendue pour le jour des soins.",
        expression,
    )


def _care_date(model: CoverageEligibilityRequest) -> datetime.date | None:
    if model.servicedDate is not None:
        return care_day(model.servicedDate, "CoverageEligibilityRequest.servicedDate")
    if model.servicedPeriod is not None and model.servicedPeriod.start is not None:
        return care_day(
            model.servicedPeriod.start, "CoverageEligibilityRequest.servicedPeriod.start"
        )
    return None


def _coverage_keys(model: CoverageEligibilityRequest, base: str) -> dict[str, str | None]:
    """The v2 keys (member number, convention type, routing criterion, domain) of the
    request, all None for a v1 request."""
    keys: dict[str, str | None] = dict.fromkeys(
        ("member_number", "convention_type", "routing_criterion", "domain")
    )
    for item in model.item or []:
        for coding in (item.category.coding or []) if item.category else []:
            if coding.system == systems.domain_system(base) and coding.code:
                keys["domain"] = str(coding.code)
    insurance = model.insurance[0] if model.insurance else None
    reference = (insurance.coverage.reference or "") if insurance and insurance.coverage else ""
    if not reference:
        return keys
    coverage: Any = next(
        (
            r
            for r in model.contained or []
            if r.get_resource_type() == "Coverage" and "#" + str(r.id) == reference
        ),
        None,
    )
    if coverage is None:
        raise FhirError(
            422,
            "required",
            "insurance.coverage.reference ne désigne aucune Coverage contenue dans la requête.",
            "CoverageEligibilityRequest.insurance.coverage",
        )
    keys["member_number"] = str(coverage.subscriberId or "") or None
    names = {"convention-type": "convention_type", "routing-criterion": "routing_criterion"}
    for entry in coverage.class_fhir or []:
        for coding in entry.type.coding or []:
            if coding.system == systems.attestation_key_system(base) and coding.code in names:
                keys[names[str(coding.code)]] = str(entry.value or "") or None
    return keys


def parse_eligibility_request(body: bytes, *, base: str) -> ParsedEligibilityRequest:
    """Parse and validate a request body. Raises :class:`FhirError` (4xx) naming the element."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise FhirError(
            400, "structure", "Le corps de la requête n'est pas du JSON valide."
        ) from None
    if not isinstance(data, dict) or data.get("resourceType") != "CoverageEligibilityRequest":
        raise FhirError(
            400, "structure", "Ressource attendue : CoverageEligibilityRequest.", "resourceType"
        )
    try:
        model = CoverageEligibilityRequest.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    except (KeyError, TypeError, ValueError):
        # fhir.resources raises these for a contained resource of unknown or missing type.
        raise FhirError(
            400,
            "structure",
            "Ressource contenue de type inconnu ou absent (resourceType).",
            "CoverageEligibilityRequest.contained",
        ) from None
    patient = _contained_patient(model)
    if patient.birthDate is None:
        raise FhirError(
            422, "required", "Le Patient contenu doit porter birthDate.", "Patient.birthDate"
        )
    provider_ids: tuple[str, ...] = ()
    if model.provider is not None:
        identifier = model.provider.identifier
        provider_ids = (
            (str(identifier.value),) if identifier is not None and identifier.value else ("",)
        )
    birth = patient.birthDate
    return ParsedEligibilityRequest(
        query=RightsCheckInput(
            nir=_nir(patient),
            birth_date=birth if isinstance(birth, datetime.date) else str(birth),
            rang=rang_of(patient, base),
            amc_number=_amc_number(model),
            care_date=_care_date(model),
            **_coverage_keys(model, base),
        ),
        purpose=[str(p) for p in (model.purpose or ["validation"])],
        provider_ids=provider_ids,
    )


def provider_matches(provider_ids: tuple[str, ...], professional: Professional) -> bool:
    """True if no provider was given, or its identifier is the token owner's idNatPs, RPPS,
    ADELI or FINESS."""
    if not provider_ids:
        return True
    own = {professional.national_id, professional.rpps, professional.adeli, professional.finess}
    own.discard("")
    return all(pid in own for pid in provider_ids)


def _rule_domain(result: RightsCheckResult) -> str:
    """The domain the rules of a v2 answer belong to (the engagement's)."""
    return result.engagement_domain or ""


_ERROR_TEXT = {
    Outcome.NO_MATCH: (
        "no-match",
        "Aucune correspondance pour ce NIR, cette date de naissance et cet organisme.",
    ),
    Outcome.AMBIGUOUS: (
        "rang-required",
        "Plusieurs bénéficiaires correspondent : précisez le rang de naissance.",
    ),
}


def eligibility_response(
    result: RightsCheckResult,
    parsed: ParsedEligibilityRequest,
    *,
    base: str,
    request_id: str,
    created: datetime.datetime,
) -> dict[str, Any]:
    """A CoverageEligibilityResponse for ``result`` (no name, no NIR: the patient is named only
    as "the patient of the request"), as a dict ready for JSON. ``created`` (aware) is written
    in UTC with ``Z``.

    Built directly rather than through the FHIR model (validating and dumping it cost ~1 ms a
    rights check, issue 7): its shape depends only on the outcome, and every outcome's answer
    is validated against ``CoverageEligibilityResponse`` in tests
    (``test_every_outcome_gives_a_valid_response``). Requests are validated by the model."""
    resource: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "status": "active",
        "purpose": parsed.purpose,
        "patient": {"display": "Patient de la demande"},
        "created": created.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "request": {"identifier": {"system": systems.request_id_system(base), "value": request_id}},
        "insurer": {"display": "Organisme complémentaire de la demande"},
    }
    if result.outcome in _ERROR_TEXT:
        code, text = _ERROR_TEXT[result.outcome]
        resource["outcome"] = "error"
        resource["disposition"] = text
        resource["error"] = [
            {"code": {"coding": [{"system": systems.eligibility_error_system(base), "code": code}]}}
        ]
    else:
        covered = result.outcome is Outcome.COVERED
        resource["outcome"] = "complete"
        resource["disposition"] = (
            f"Droits ouverts au {result.care_date:%d/%m/%Y}."
            if covered
            else f"Pas de droits au {result.care_date:%d/%m/%Y}."
        )
        resource["insurer"] = {
            "identifier": {
                "system": systems.amc_number_system(base),
                "value": result.amc_number,
            }
        }
        period: dict[str, str] = (
            {"start": result.rights_start.isoformat()} if result.rights_start else {}
        )
        if result.rights_end:
            period["end"] = result.rights_end.isoformat()
        insurance: dict[str, Any] = {
            "coverage": {"display": "Contrat complémentaire du bénéficiaire"},
            "inforce": covered,
            "benefitPeriod": period,
        }
        if covered and result.engagement:
            resource["preAuthRef"] = result.engagement
            assert result.engagement_expires_at is not None
            resource["extension"] = [
                {
                    "url": systems.engagement_expiry_extension_url(base),
                    "valueDateTime": result.engagement_expires_at.astimezone(datetime.UTC)
                    .isoformat()
                    .replace("+00:00", "Z"),
                }
            ]
        if covered:
            insurance["item"] = [
                {
                    "category": {
                        "coding": [
                            {
                                "system": systems.domain_system(base),
                                "code": domain.value,
                                "display": domain.label,
                            }
                        ]
                    },
                    "description": "Tiers payant ouvert",
                }
                for domain in result.domains
            ] + [
                {
                    "category": {
                        "coding": [{"system": systems.domain_system(base), "code": domain}]
                    },
                    "name": str(rule["label"]),
                    "description": str(rule["benefit"]),
                }
                for rule in result.domain_rules
                for domain in [_rule_domain(result)]
            ]
        resource["insurance"] = [insurance]
    return resource
