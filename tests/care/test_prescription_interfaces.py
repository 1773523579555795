"""The prescription through the three ways in: portal form, JSON API, FHIR Claim
(contained VisionPrescription). Class B glasses: frame 2264861, lenses 2208756 (unifocal,
sphere [-2 ; 0], cylinder [+0.25 ; +4]); the correction -1.00 (+0.50 at 90°) fits them."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.care.conftest import make_patient
from tests.care.test_care_interfaces import _french_claim, _identity_post, _token
from tests.factories import make_professional
from tierspayant.priorauth.models import PriorApproval
from tierspayant.providers.choices import Scope

pytestmark = pytest.mark.django_db

RPPS = "10000000009"
STORED = {
    "prescriber_rpps": RPPS,
    "prescribed_on": "2024-12-02",
    "right": {"sphere": "-1.00", "cylinder": "0.50", "axis": 90, "addition": None},
    "left": {"sphere": "-1.00", "cylinder": "0.50", "axis": 90, "addition": None},
}
RX_FORM = {
    "rx-prescriber_rpps": RPPS,
    "rx-prescribed_on": "2024-12-02",
    "rx-right_sphere": "-1,00",
    "rx-right_cylinder": "0,50",
    "rx-right_axis": "90",
    "rx-left_sphere": "-1.00",
    "rx-left_cylinder": "0.50",
    "rx-left_axis": "90",
}


def test_portal_prescription_is_checked_and_stored(verified_client: Client) -> None:
    patient = make_patient()
    outside = verified_client.post(
        "/pec/nouvelle/", _identity_post(patient, **{**RX_FORM, "rx-left_sphere": "-2.25"})
    )
    assert outside.status_code == 400
    assert "hors de sa bande" in outside.content.decode()
    bad = verified_client.post(
        "/pec/nouvelle/", _identity_post(patient, **{**RX_FORM, "rx-prescriber_rpps": "123"})
    )
    assert bad.status_code == 400
    assert "RPPS du prescripteur invalide" in bad.content.decode()
    assert not PriorApproval.objects.exists()
    ok = verified_client.post("/pec/nouvelle/", _identity_post(patient, **RX_FORM))
    assert ok.status_code == 302, ok.content.decode()[:2000]
    assert PriorApproval.objects.get().prescription == STORED


def test_api_prescription_is_checked_and_stored() -> None:
    optician = make_professional()
    patient = make_patient()
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {_token(optician, Scope.CLAIMS_SUBMIT)}"}
    eye = {"sphere": "-1.00", "cylinder": "0.50", "axis": "90"}
    body = {
        "patient": {"nir": patient.nir, "birth_date": patient.born.isoformat()},
        "planned_date": _identity_post(patient)["care_date"],
        "lines": [
            {"code": "2264861", "billed": "150.00"},
            {"code": "2208756", "billed": "120.00", "side": "right"},
            {"code": "2208756", "billed": "120.00", "side": "left"},
        ],
        "prescription": {
            "prescriber_rpps": RPPS,
            "prescribed_on": "2024-12-02",
            "right": eye,
            "left": {**eye, "sphere": "-1.10"},
        },
    }
    post = lambda data: client.post(  # noqa: E731
        "/api/v1/prior-approvals", json.dumps(data), content_type="application/json", **auth
    )
    bad = post(body)
    assert bad.status_code == 400
    assert bad.json()["field"] == "prescription.left.sphere"
    assert not PriorApproval.objects.exists()
    body["prescription"]["left"] = eye  # type: ignore[index]
    ok = post(body)
    assert ok.status_code == 201, ok.content
    assert PriorApproval.objects.get().prescription == STORED


def test_fhir_vision_prescription_in_negative_cylinder_is_transposed() -> None:
    optician = make_professional()
    patient = make_patient()
    claim = _french_claim(patient, "preauthorization")
    claim["contained"] += [
        {
            "resourceType": "Practitioner",
            "id": "dr",
            "identifier": [{"system": "https://rpps.esante.gouv.fr", "value": RPPS}],
        },
        {
            "resourceType": "VisionPrescription",
            "id": "rx",
            "status": "active",
            "created": "2024-12-02",
            "patient": {"reference": "#p"},
            "dateWritten": "2024-12-02",
            "prescriber": {"reference": "#dr"},
            "lensSpecification": [
                {
                    "product": {"text": "lens"},
                    "eye": eye,
                    "sphere": -0.5,
                    "cylinder": -0.5,
                    "axis": 180,
                }
                for eye in ("right", "left")
            ],
        },
    ]
    claim["prescription"] = {"reference": "#rx"}
    auth = {"HTTP_AUTHORIZATION": f"Bearer {_token(optician, Scope.CLAIMS_SUBMIT)}"}
    response = Client().post(
        "/fhir/r4/Claim", json.dumps(claim), content_type="application/fhir+json", **auth
    )
    assert response.status_code == 201, response.content
    assert PriorApproval.objects.get().prescription == STORED
