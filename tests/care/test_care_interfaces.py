"""The portal pages, the JSON API and FHIR for approvals, claims and statements: each shows
only the caller's own objects (another professional's id is a 404), amounts are the
engine's, and the HL7 Claim examples get a ClaimResponse or an OperationOutcome, never a 500."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.care.conftest import GLASSES, french_iban, make_patient, rx, rx_form
from tests.coverage.builders import SHARED
from tests.factories import make_professional
from tierspayant.claims.models import Claim
from tierspayant.payments.sepa import Debtor
from tierspayant.payments.services import run_payments
from tierspayant.priorauth.models import PriorApproval
from tierspayant.providers.choices import Scope
from tierspayant.providers.services import issue_api_token

pytestmark = pytest.mark.django_db
EXAMPLES = sorted((SHARED / "fixtures" / "fhir").glob("claim-example*.json"))


def today() -> datetime.date:
    return timezone.localdate()


def _identity_post(patient, **extra):  # type: ignore[no-untyped-def]
    data = {
        "nir": patient.nir,
        "birth_date": patient.born.isoformat(),
        "care_date": today().isoformat(),
        "lines-TOTAL_FORMS": "4",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "10",
    }
    for index, line in enumerate(GLASSES):
        data[f"lines-{index}-code"] = line.code
        data[f"lines-{index}-billed"] = str(line.billed)
        data[f"lines-{index}-side"] = line.side or ""
    data.update(rx_form(GLASSES, today()))
    data.update(extra)
    return data


def test_portal_quote_invoice_statement_and_object_level_access(
    verified_client: Client, optician, config, tmp_path
) -> None:
    patient = make_patient()
    response = verified_client.post("/pec/nouvelle/", _identity_post(patient))
    assert response.status_code == 302, response.content.decode()[:2000]
    approval = PriorApproval.objects.get()
    page = verified_client.get(f"/pec/{approval.pk}/").content.decode()
    assert "200,00 €" in page and approval.number in page
    assert "Plafond du contrat responsable pour la monture de classe B" in page
    assert patient.nir not in page and patient.beneficiary.last_name not in page

    response = verified_client.post(
        "/factures/nouvelle/",
        _identity_post(patient, reference="F-100", approval_number=approval.number),
    )
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert claim.status == "accepted"

    # Bad input: an unknown LPP code is shown on its line, nothing is written.
    bad = verified_client.post(
        "/pec/nouvelle/", _identity_post(patient, **{"lines-0-code": "9999999"})
    )
    assert bad.status_code == 400 and "code LPP inconnu" in bad.content.decode()

    from tierspayant.providers.banking import register_first_bank_account

    register_first_bank_account(
        settings.TIERSPAYANT_KEYRING.encryption,
        professional=optician,
        iban=french_iban("30004", "00003", "12345678901"),
        bic="",
        holder_name="Optique",
        now=timezone.now() - datetime.timedelta(days=1),
    )
    run_payments(
        keys=settings.TIERSPAYANT_KEYRING.encryption,
        debtor=Debtor("Operateur", french_iban("20041", "01005", "0500013M026"), "PSSTFRPP"),
        output_dir=tmp_path,
        now=timezone.now(),
        execution_date=today(),
    )
    statement = optician.statements.get()
    listing = verified_client.get("/paiements/").content.decode()
    assert "200,00 €" in listing
    detail = verified_client.get(f"/paiements/{statement.pk}/").content.decode()
    assert "F-100" in detail and "Paiement" in detail and "200,00 €" in detail
    pdf = verified_client.get(f"/paiements/{statement.pk}/releve.pdf")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    bank = verified_client.get("/banque/").content.decode()
    assert "12345678901" not in bank

    # Another professional's objects: 404, never 403, never the data.
    other = Client()
    stranger = make_professional(username="stranger")
    other.force_login(stranger.user)
    session = other.session
    from django_otp.plugins.otp_totp.models import TOTPDevice

    session["otp_device_id"] = TOTPDevice.objects.get(user=stranger.user).persistent_id
    session.save()
    for url in (
        f"/pec/{approval.pk}/",
        f"/factures/{claim.pk}/",
        f"/paiements/{statement.pk}/",
        f"/paiements/{statement.pk}/releve.pdf",
        f"/paiements/{statement.pk}/releve.csv",
        f"/factures/nouvelle/?accord={approval.pk}",
    ):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/pec/{approval.pk}/annuler/").status_code == 404


def _token(professional, *scopes: Scope) -> str:  # type: ignore[no-untyped-def]
    return issue_api_token(
        professional=professional,
        name="logiciel",
        scopes=list(scopes),
        now=timezone.now(),
        valid_days=30,
    ).secret


def test_json_api_approvals_claims_and_access(config) -> None:
    optician, stranger = make_professional(), make_professional()
    patient = make_patient()
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {_token(optician, Scope.CLAIMS_SUBMIT)}"}
    body = {
        "patient": {"nir": patient.nir, "birth_date": patient.born.isoformat()},
        "planned_date": today().isoformat(),
        "lines": [{"code": ln.code, "billed": str(ln.billed), "side": ln.side} for ln in GLASSES],
        "prescription": rx(GLASSES, today()),
    }
    response = client.post(
        "/api/v1/prior-approvals", json.dumps(body), content_type="application/json", **auth
    )
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["decision"], out["totals"]["amc"]) == ("accepted", "200.00")
    assert [item["amc"] for item in out["lines"]] == ["99.97", "100.03", "0.00"]
    claim_body = {
        **body,
        "invoice_number": "API-1",
        "care_date": today().isoformat(),
        "approval_number": out["number"],
    }
    del claim_body["planned_date"], claim_body["prescription"]
    first = client.post(
        "/api/v1/claims", json.dumps(claim_body), content_type="application/json", **auth
    )
    again = client.post(
        "/api/v1/claims", json.dumps(claim_body), content_type="application/json", **auth
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    bad = {**body, "lines": [{"code": "2264861", "billed": "-1"}]}
    response = client.post(
        "/api/v1/prior-approvals", json.dumps(bad), content_type="application/json", **auth
    )
    assert response.status_code == 400 and response.json()["field"] == "lines[0].billed"
    assert "-1" not in response.json()["message"]

    strange = {"HTTP_AUTHORIZATION": f"Bearer {_token(stranger, Scope.CLAIMS_SUBMIT)}"}
    assert client.get(f"/api/v1/prior-approvals/{out['number']}", **strange).status_code == 404
    assert client.get(f"/api/v1/claims/{first.json()['id']}", **strange).status_code == 404
    assert client.get(f"/api/v1/claims/{first.json()['id']}", **auth).status_code == 200
    eligibility_only = {"HTTP_AUTHORIZATION": f"Bearer {_token(optician, Scope.ELIGIBILITY_CHECK)}"}
    assert (
        client.post(
            "/api/v1/claims",
            json.dumps(claim_body),
            content_type="application/json",
            **eligibility_only,
        ).status_code
        == 401
    )
    statements = {"HTTP_AUTHORIZATION": f"Bearer {_token(optician, Scope.PAYMENTS_READ)}"}
    assert client.get("/api/v1/statements", **statements).json() == []


def _french_claim(patient, use: str, **extra):  # type: ignore[no-untyped-def]
    base = settings.TIERSPAYANT_FHIR_BASE_URL
    resource = {
        "resourceType": "Claim",
        "status": "active",
        "type": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "vision"}
            ]
        },
        "use": use,
        "contained": [
            {
                "resourceType": "Patient",
                "id": "p",
                "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": patient.nir}],
                "birthDate": patient.born.isoformat(),
            }
        ],
        "patient": {"reference": "#p"},
        "created": today().isoformat(),
        "provider": {"display": "Optique"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "AMC"}}],
        "item": [
            {
                "sequence": i + 1,
                "productOrService": {
                    "coding": [{"system": f"{base}/CodeSystem/lpp", "code": ln.code}]
                },
                "servicedDate": today().isoformat(),
                "net": {"value": float(ln.billed), "currency": "EUR"},
                **({"bodySite": {"coding": [{"code": ln.side}]}} if ln.side else {}),
            }
            for i, ln in enumerate(GLASSES)
        ],
    }
    if use == "preauthorization":  # a synthetic prescription (required for glasses)
        resource["contained"] += _vision_prescription(rx(GLASSES, today()))
        resource["prescription"] = {"reference": "#synthetic-rx"}
    resource.update(extra)
    return resource


def _vision_prescription(data):  # type: ignore[no-untyped-def]
    """The prescriber (Practitioner) and a VisionPrescription carrying ``data``."""
    return [
        {
            "resourceType": "Practitioner",
            "id": "synthetic-dr",
            "identifier": [
                {"system": "https://rpps.esante.gouv.fr", "value": data["prescriber_rpps"]}
            ],
        },
        {
            "resourceType": "VisionPrescription",
            "id": "synthetic-rx",
            "status": "active",
            "created": data["prescribed_on"],
            "patient": {"reference": "#p"},
            "dateWritten": data["prescribed_on"],
            "prescriber": {"reference": "#synthetic-dr"},
            "lensSpecification": [
                {
                    "product": {"text": "lens"},
                    "eye": side,
                    "sphere": float(data[side]["sphere"]),
                    "cylinder": float(data[side]["cylinder"]),
                    "axis": int(data[side]["axis"]),
                }
                for side in ("right", "left")
                if side in data
            ],
        },
    ]


def test_fhir_preauthorization_claim_and_reconciliation(config) -> None:
    optician = make_professional()
    patient = make_patient()
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {_token(optician, Scope.CLAIMS_SUBMIT)}"}
    response = client.post(
        "/fhir/r4/Claim",
        json.dumps(_french_claim(patient, "preauthorization")),
        content_type="application/fhir+json",
        **auth,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["resourceType"] == "ClaimResponse" and body["preAuthRef"].startswith("PEC-")
    shares = {
        coding["code"]: a["amount"]["value"]
        for a in body["item"][1]["adjudication"]
        if "amount" in a
        for coding in a["category"]["coding"]
    }
    assert (shares["amo"], shares["amc"], shares["patient"]) == (0.03, 100.03, 19.94)
    assert patient.nir not in response.content.decode()
    claim = _french_claim(
        patient,
        "claim",
        identifier=[{"value": "FHIR-1"}],
        insurance=[
            {
                "sequence": 1,
                "focal": True,
                "coverage": {"display": "AMC"},
                "preAuthRef": [body["preAuthRef"]],
            }
        ],
    )
    response = client.post(
        "/fhir/r4/Claim", json.dumps(claim), content_type="application/fhir+json", **auth
    )
    assert response.status_code == 201, response.content
    assert response.json()["outcome"] == "complete"
    assert response.json()["total"][2]["amount"]["value"] == 200.0


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: Path(p).stem)
def test_hl7_claim_examples_never_get_a_500(path: Path, optician) -> None:
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {_token(optician, Scope.CLAIMS_SUBMIT)}"}
    response = client.post(
        "/fhir/r4/Claim", path.read_bytes(), content_type="application/fhir+json", **auth
    )
    assert response.status_code in {200, 201, 400, 404, 422}, response.content
    assert response.json()["resourceType"] in {"ClaimResponse", "OperationOutcome"}
    if response.json()["resourceType"] == "OperationOutcome":
        issue = response.json()["issue"][0]
        assert issue["diagnostics"]
