"""Missing prescription data where required is refused, naming the field (issue 15 « Bad
input »): glasses need the prescriber's RPPS, the date and, per eye with a lens, sphere and
cylinder (and the addition for a progressive lens); hearing aids need the prescribing
doctor's RPPS and the audiogram date. Nothing is stored, not even a rights check: the
request is refused before the patient is looked up. Dental quotes need none."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.care.conftest import GLASSES, approve, make_patient, rx
from tests.care.test_care_interfaces import _french_claim, _identity_post, _token
from tests.factories import make_professional
from tierspayant.audit.models import DisclosureLog
from tierspayant.priorauth.choices import Decision
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.lpp import InvalidCareRequest, LineInput
from tierspayant.priorauth.models import Commitment, PriorApproval
from tierspayant.priorauth.selectors import catalogue
from tierspayant.providers.choices import Profession, Scope

pytestmark = pytest.mark.django_db

FRAME_ONLY = [LineInput(code="2264861", billed="150.00")]
#: Progressive lenses (class B, « Équilibre » test of test_priorauth.py).
PROGRESSIVE = [
    LineInput(code="2264861", billed="180.00"),
    LineInput(code="2224732", billed="350.00", side="right"),
    LineInput(code="2224732", billed="350.00", side="left"),
]
#: Class I hearing aids for an adult, right and left.
HEARING = [
    LineInput(code="2351057", billed="950.00"),
    LineInput(code="2365119", billed="990.00"),
]


def _drop(*path: str) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """Remove one key (``"right", "sphere"``) from a valid prescription."""

    def change(data: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(data)
        node = out
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
        return out

    return change


def _blank(*path: str) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """Set one key to an empty string (a blank form field)."""

    def change(data: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(data)
        node = out
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = ""
        return out

    return change


@pytest.mark.parametrize(
    ("lines", "change", "field", "message"),
    [
        pytest.param(GLASSES, lambda d: None, "prescription", "lunettes", id="glasses-none"),
        pytest.param(FRAME_ONLY, lambda d: None, "prescription", "lunettes", id="frame-none"),
        pytest.param(HEARING, lambda d: None, "prescription", "aides auditives", id="aids-none"),
        pytest.param(
            GLASSES,
            _drop("prescriber_rpps"),
            "prescription.prescriber_rpps",
            "RPPS du prescripteur obligatoire",
            id="glasses-no-prescriber",
        ),
        pytest.param(
            GLASSES,
            _blank("prescribed_on"),
            "prescription.prescribed_on",
            "date de prescription obligatoire",
            id="glasses-no-date",
        ),
        pytest.param(
            GLASSES,
            _drop("left"),
            "prescription.left",
            "œil gauche absente",
            id="glasses-no-left-eye",
        ),
        pytest.param(
            GLASSES,
            _drop("right", "sphere"),
            "prescription.right.sphere",
            "sphère obligatoire",
            id="glasses-no-sphere",
        ),
        pytest.param(
            GLASSES,
            _drop("left", "cylinder"),
            "prescription.left.cylinder",
            "cylindre obligatoire",
            id="glasses-no-cylinder",
        ),
        pytest.param(
            PROGRESSIVE,
            _drop("right", "addition"),
            "prescription.right.addition",
            "addition de l'œil droit obligatoire",
            id="progressive-no-addition",
        ),
        pytest.param(
            FRAME_ONLY,
            _drop("right"),
            "prescription.right",
            "correction d'au moins un œil",
            id="frame-no-correction",
        ),
        pytest.param(
            HEARING,
            _blank("prescriber_rpps"),
            "prescription.prescriber_rpps",
            "RPPS du prescripteur obligatoire",
            id="aids-no-prescriber",
        ),
        pytest.param(
            HEARING,
            _drop("audiogram_on"),
            "prescription.audiogram_on",
            "date de l'audiogramme obligatoire",
            id="aids-no-audiogram",
        ),
    ],
)
def test_missing_prescription_data_is_refused_naming_the_field(
    config: CareConfig,
    lines: list[LineInput],
    change: Callable[[dict[str, Any]], dict[str, Any] | None],
    field: str,
    message: str,
) -> None:
    valid = rx(lines)
    assert valid is not None
    patient = make_patient()
    assert approve(config, make_professional(), patient, lines, prescription=valid).decision in (
        Decision.ACCEPTED,
        Decision.PARTIAL,
    )  # the valid prescription passes: the refusal below is the missing field's
    PriorApproval.objects.all().delete()
    Commitment.objects.all().delete()
    logged = DisclosureLog.objects.count()

    with pytest.raises(InvalidCareRequest) as caught:
        approve(config, make_professional(), patient, lines, prescription=change(valid))
    assert caught.value.field == field
    assert message in caught.value.message
    assert not PriorApproval.objects.exists()
    assert not Commitment.objects.exists()
    assert DisclosureLog.objects.count() == logged  # refused before the rights check


def test_the_progressive_case_is_a_progressive_lens() -> None:
    assert catalogue()["2224732"].lens_type == "progressive"


def test_a_bad_line_is_named_before_the_missing_prescription(config: CareConfig) -> None:
    with pytest.raises(InvalidCareRequest) as caught:
        approve(
            config,
            make_professional(),
            make_patient(),
            [LineInput(code="2264861", billed="-1")],
            prescription=None,
        )
    assert caught.value.field == "lines[0].billed"


def test_a_dental_quote_needs_no_prescription(config: CareConfig) -> None:
    approval = approve(
        config,
        make_professional(profession=Profession.DENTIST),
        make_patient(domains=["dental"]),
        [LineInput(code="HBLD634", billed="500.00", tooth="11")],
        prescription=None,
    )
    assert (approval.decision, approval.prescription) == (Decision.ACCEPTED, {})


def test_every_channel_refuses_glasses_without_prescription(verified_client: Client) -> None:
    """Portal form, JSON API and FHIR Claim (use preauthorization) name the prescription."""
    patient = make_patient()
    posted = _identity_post(patient)
    page = verified_client.post(
        "/pec/nouvelle/", {k: v for k, v in posted.items() if not k.startswith("rx-")}
    )
    assert page.status_code == 400
    assert "prescription obligatoire pour des lunettes" in page.content.decode()

    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {_token(make_professional(), Scope.CLAIMS_SUBMIT)}"}
    body = {
        "patient": {"nir": patient.nir, "birth_date": patient.born.isoformat()},
        "planned_date": posted["care_date"],
        "lines": [{"code": ln.code, "billed": str(ln.billed), "side": ln.side} for ln in GLASSES],
    }
    api = client.post(
        "/api/v1/prior-approvals", json.dumps(body), content_type="application/json", **auth
    )
    assert api.status_code == 400
    assert api.json()["field"] == "prescription"

    claim = _french_claim(patient, "preauthorization")
    claim["contained"] = [r for r in claim["contained"] if r["resourceType"] == "Patient"]
    del claim["prescription"]
    fhir = client.post(
        "/fhir/r4/Claim", json.dumps(claim), content_type="application/fhir+json", **auth
    )
    assert fhir.status_code in (400, 422)
    issue = fhir.json()["issue"][0]
    assert "prescription obligatoire" in issue["diagnostics"]
    assert issue["expression"] == ["Claim.prescription"]
    assert not PriorApproval.objects.exists()
