"""``POST /fhir/r4/AuditEvent/_search``: a member's access history, for the insurer's apps.

The NIR never travels in a URL: the search is FHIR's POST form, with a form-encoded body

    patient.identifier=urn:oid:1.2.250.1.213.1.4.8|<NIR>&patient.birthdate=<YYYY-MM-DD>

(beneficiaries are found by NIR *and* birth date). Optional: ``date=geYYYY-MM-DD`` /
``date=leYYYY-MM-DD`` (repeatable) and ``_count``. The caller is an insurer, authenticated
by an ``audit:read`` token (``tierspayant create-insurer-token``): it only ever finds its own
beneficiaries; anyone else's NIR gives an empty Bundle, exactly as an unknown NIR does.

The answer is a ``Bundle`` (type ``searchset``) of R4B ``AuditEvent`` resources, one per
consultation: ``recorded`` (when), ``agent`` (the professional by idNatPs, and the practice
by idNatSt), ``purposeOfEvent`` (why) and ``entity`` (the beneficiary by internal id, with the
fields disclosed in ``entity.detail``). No NIR is echoed.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from tierspayant.api.fhir import systems
from tierspayant.api.fhir.eligibility import FhirError
from tierspayant.api.fhir.responses import fhir_response, outcome_response
from tierspayant.audit.choices import Channel, InsurerScope
from tierspayant.audit.context import request_context
from tierspayant.audit.selectors import AccessEntry, InvalidIdentity
from tierspayant.audit.services import InvalidInsurerToken, authenticate_insurer_token
from tierspayant.eligibility.services import read_access_history
from tierspayant.guard.errors import GuardUnavailable, QuotaExceeded
from tierspayant.registry.models import Insurer

#: ANS national structure identifier (idNatSt): "3" + SIRET, "1" + FINESS.
IDNATST = "urn:oid:1.2.250.1.71.4.2.2"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
_NIR_SYSTEMS = (systems.NIR, *systems.NIR_TEST_SYSTEMS)
_MAX_COUNT = 1000


def _insurer(request: HttpRequest) -> tuple[Insurer, str] | None:
    """The insurer of a valid ``audit:read`` token and the token's public prefix."""
    kind, _, bearer = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() != "bearer" or not bearer.strip():
        return None
    try:
        insurer = authenticate_insurer_token(
            bearer.strip(), scope=InsurerScope.AUDIT_READ, now=timezone.now()
        )
    except InvalidInsurerToken:
        return None
    return insurer, bearer.strip().split("_", 2)[1]


def _identity(params: Any) -> tuple[str, str]:
    identifier = (params.get("patient.identifier") or "").strip()
    system, bar, nir = identifier.partition("|")
    if not bar or system not in _NIR_SYSTEMS or not nir.strip():
        raise FhirError(
            400,
            "required",
            f"patient.identifier attendu sous la forme {systems.NIR}|<NIR>.",
            "AuditEvent.patient.identifier",
        )
    birth_date = (params.get("patient.birthdate") or params.get("birthdate") or "").strip()
    if not birth_date:
        raise FhirError(
            400,
            "required",
            "patient.birthdate (AAAA-MM-JJ) est obligatoire avec le NIR.",
            "AuditEvent.patient.birthdate",
        )
    return nir.strip(), birth_date


def _window(params: Any) -> tuple[datetime.date | None, datetime.date | None, int]:
    since = until = None
    for raw in params.getlist("date"):
        prefix, value = raw[:2], raw[2:]
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            raise FhirError(
                400, "invalid", "date attendue sous la forme geAAAA-MM-JJ ou leAAAA-MM-JJ.", "date"
            ) from None
        if prefix == "ge":
            since = day
        elif prefix == "le":
            until = day
        else:
            raise FhirError(400, "not-supported", "préfixes de date acceptés : ge, le.", "date")
    try:
        count = int(params.get("_count") or _MAX_COUNT)
    except ValueError:
        raise FhirError(400, "invalid", "_count doit être un entier.", "_count") from None
    return since, until, max(1, min(count, _MAX_COUNT))


def audit_event(entry: AccessEntry, *, beneficiary_id: str, base: str) -> dict[str, Any]:
    """One consultation as an R4B ``AuditEvent`` (as a JSON-ready dict)."""
    agents: list[dict[str, Any]] = [
        {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                        "code": "IRCP",
                        "display": "information recipient",
                    }
                ]
            },
            "who": {
                "identifier": {"system": systems.IDNATPS, "value": entry.professional_national_id},
                "display": entry.professional,
            },
            "name": entry.profession,
            "requestor": True,
        }
    ]
    if entry.practice_siret or entry.practice_finess:
        agents.append(
            {
                "type": {"text": "cabinet / structure"},
                "who": {
                    "identifier": {
                        "system": IDNATST,
                        "value": f"3{entry.practice_siret}"
                        if entry.practice_siret
                        else f"1{entry.practice_finess}",
                    }
                },
                "requestor": False,
            }
        )
    return {
        "resourceType": "AuditEvent",
        "id": str(entry.log_id),
        "type": {"system": DCM, "code": "110112", "display": "Query"},
        "action": "E",
        "recorded": entry.occurred_at.astimezone(datetime.UTC).isoformat(),
        "outcome": "0",
        "purposeOfEvent": [
            {
                "coding": [
                    {
                        "system": f"{base}/CodeSystem/disclosure-purpose",
                        "code": entry.purpose,
                        "display": entry.purpose_label,
                    }
                ]
            }
        ],
        "agent": agents,
        "source": {
            "observer": {"display": "tierspayant"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
        "entity": [
            {
                "what": {
                    "identifier": {
                        "system": f"{base}/NamingSystem/beneficiary-id",
                        "value": beneficiary_id,
                    }
                },
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "1",
                    "display": "Person",
                },
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "1",
                    "display": "Patient",
                },
                "detail": [
                    {"type": "fields-disclosed", "valueString": ",".join(entry.fields) or "-"},
                    {"type": "outcome", "valueString": entry.outcome},
                    {"type": "request-id", "valueString": entry.request_id},
                ],
            }
        ],
    }


@csrf_exempt
@require_POST
def audit_event_search(request: HttpRequest) -> HttpResponse:
    """POST ``_search`` over AuditEvent for one patient; Bundle searchset or OperationOutcome
    (400 bad parameters or a NIR in the URL, 401 no valid ``audit:read`` token, 429 the
    insurer's read quota is spent, 503 the quota store is down). Counted and logged by
    :func:`tierspayant.eligibility.services.read_access_history`."""
    caller = _insurer(request)
    if caller is None:
        return outcome_response(
            FhirError(401, "login", "Jeton d'organisme absent, invalide ou expiré.")
        )
    insurer, token_prefix = caller
    base: str = settings.TIERSPAYANT_FHIR_BASE_URL
    try:
        if request.GET:
            raise FhirError(
                400,
                "invalid",
                "Les paramètres de recherche vont dans le corps (POST), jamais dans l'adresse.",
            )
        nir, birth_date = _identity(request.POST)
        since, until, count = _window(request.POST)
        try:
            read = read_access_history(
                settings.TIERSPAYANT_KEYRING,
                insurer=insurer,
                token_prefix=token_prefix,
                nir=nir,
                birth_date=birth_date,
                context=request_context(request, Channel.FHIR),
                now=timezone.now(),
                quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
                per_hour=settings.TIERSPAYANT_HISTORY_READ_HOURLY_QUOTA,
                per_day=settings.TIERSPAYANT_HISTORY_READ_DAILY_QUOTA,
            )
        except QuotaExceeded as exc:
            raise FhirError(429, "throttled", exc.message) from None
        except GuardUnavailable as exc:
            raise FhirError(503, "transient", exc.message) from None
        except InvalidIdentity as exc:
            field = str(exc).partition(":")[0]
            raise FhirError(
                400,
                "invalid",
                "NIR invalide." if field == "nir" else "patient.birthdate invalide (AAAA-MM-JJ).",
                "AuditEvent.patient.identifier"
                if field == "nir"
                else "AuditEvent.patient.birthdate",
            ) from None
    except FhirError as exc:
        return outcome_response(exc)
    events = []
    for beneficiary, history in read.histories:
        for entry in history:
            day = timezone.localtime(entry.occurred_at).date()
            if (since and day < since) or (until and day > until):
                continue
            events.append((entry, str(beneficiary.pk)))
    events.sort(key=lambda pair: pair[0].occurred_at, reverse=True)
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(events),
        "link": [{"relation": "self", "url": f"{base}/AuditEvent/_search"}],
        "entry": [
            {
                "fullUrl": f"{base}/AuditEvent/{entry.log_id}",
                "resource": audit_event(entry, beneficiary_id=beneficiary_id, base=base),
                "search": {"mode": "match"},
            }
            for entry, beneficiary_id in events[:count]
        ],
    }
    try:
        validated = Bundle.model_validate(bundle)
    except ValidationError:  # pragma: no cover - our own resources; a bug if it happens
        return outcome_response(FhirError(500, "exception", "Erreur interne de construction FHIR."))
    return fhir_response(json.loads(validated.model_dump_json(exclude_none=True)))
