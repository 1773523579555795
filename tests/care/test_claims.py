"""Claims: adjudication through the engine and the approval, duplicates, idempotent
resubmission, and the approval's single use."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from tests.care.conftest import NOW, TODAY, approve, invoice, make_patient
from tests.factories import make_professional
from tierspayant.audit.models import DisclosureLog
from tierspayant.claims.choices import ClaimStatus
from tierspayant.claims.models import Claim
from tierspayant.priorauth.choices import ApprovalStatus
from tierspayant.priorauth.lpp import InvalidCareRequest, LineInput
from tierspayant.priorauth.models import Commitment
from tierspayant.priorauth.services import cancel_prior_approval

pytestmark = pytest.mark.django_db
D = Decimal


def test_invoicing_an_approval_uses_it_and_takes_over_its_commitment(config) -> None:
    optician = make_professional()
    patient = make_patient()
    approval = approve(config, optician, patient)
    submitted = invoice(config, optician, patient, "F-2025-001", approval=approval.number)
    claim = submitted.claim
    assert submitted.created
    assert claim.status == ClaimStatus.ACCEPTED
    assert (claim.total_billed, claim.total_amo, claim.total_amc, claim.total_rac) == (
        D("390.00"),
        D("0.09"),
        D("200.00"),
        D("189.91"),
    )
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.USED
    assert claim.approval_id == approval.pk
    # each read of the patient's rights is logged with why it was made
    logged = DisclosureLog.objects.filter(
        pk__in=[approval.disclosure_log_id, claim.disclosure_log_id]
    ).order_by("pk")
    assert [(row.purpose, row.beneficiary_id) for row in logged] == [
        ("prior_approval", patient.beneficiary.pk),
        ("claim", patient.beneficiary.pk),
    ]
    active = Commitment.objects.filter(released_at__isnull=True)
    assert [c.source for c in active] == ["claim"]
    with pytest.raises(InvalidCareRequest) as caught:
        invoice(config, optician, patient, "F-2025-002", approval=approval.number)
    assert caught.value.field == "approval_number"


def test_resubmitting_the_same_invoice_is_idempotent(config) -> None:
    optician = make_professional()
    patient = make_patient()
    first = invoice(config, optician, patient, "F-1")
    again = invoice(config, optician, patient, "F-1")
    assert (first.created, again.created) == (True, False)
    assert again.claim.pk == first.claim.pk
    assert Claim.objects.count() == 1
    with pytest.raises(InvalidCareRequest) as caught:
        invoice(config, optician, patient, "F-1", [LineInput(code="2264861", billed="99.00")])
    assert caught.value.field == "invoice_number"


def test_the_same_care_under_another_number_is_a_duplicate(config) -> None:
    optician = make_professional()
    patient = make_patient()
    invoice(config, optician, patient, "F-1")
    duplicate = invoice(config, optician, patient, "F-2").claim
    assert duplicate.status == ClaimStatus.REJECTED
    assert duplicate.reasons == ["DUPLICATE_CLAIM"]
    assert duplicate.total_amc == D("0.00")


@pytest.mark.parametrize(
    ("lines", "status", "reason", "amc"),
    [
        pytest.param(
            [
                LineInput(code="2264861", billed="154.00"),
                LineInput(code="2208756", billed="120.00", side="right"),
                LineInput(code="2208756", billed="120.00", side="left"),
            ],
            ClaimStatus.ACCEPTED,
            None,
            "200.00",
            id="within-tolerance",
        ),
        pytest.param(
            [
                LineInput(code="2264861", billed="160.00"),
                LineInput(code="2208756", billed="120.00", side="right"),
                LineInput(code="2208756", billed="120.00", side="left"),
            ],
            ClaimStatus.REJECTED,
            "APPROVAL_AMOUNT_EXCEEDED",
            "0.00",
            id="above-tolerance",
        ),
        pytest.param(
            [LineInput(code="2264861", billed="150.00")],
            ClaimStatus.REJECTED,
            "APPROVAL_LINES_MISMATCH",
            "0.00",
            id="other-lines",
        ),
    ],
)
def test_matching_the_approval(config, lines, status, reason, amc) -> None:
    optician = make_professional()
    patient = make_patient()
    approval = approve(config, optician, patient)
    claim = invoice(config, optician, patient, "F-9", lines, approval=approval.number).claim
    assert (claim.status, claim.total_amc) == (status, D(amc))
    assert claim.reasons == ([reason] if reason else [])


@pytest.mark.parametrize("state", ["cancelled", "expired", "unknown", "other-professional"])
def test_unusable_approvals_are_refused_naming_the_field(config, state) -> None:
    optician = make_professional()
    patient = make_patient()
    approval = approve(config, optician, patient)
    number, who, today = approval.number, optician, TODAY
    if state == "cancelled":
        cancel_prior_approval(professional=optician, approval=approval, now=NOW)
    elif state == "expired":
        today = approval.expires_on + datetime.timedelta(days=1)
    elif state == "unknown":
        number = "PEC-AAAAAAAAAA"
    else:
        who = make_professional()
    with pytest.raises(InvalidCareRequest) as caught:
        invoice(config, who, patient, "F-1", approval=number, today=today)
    assert caught.value.field == "approval_number"
    assert not Claim.objects.exists()


def test_no_rights_on_the_care_date_is_rejected_with_its_reason(config) -> None:
    patient = make_patient(rights_end=datetime.date(2025, 1, 31))
    claim = invoice(config, make_professional(), patient, "F-1").claim
    assert (claim.status, claim.reasons) == (ClaimStatus.REJECTED, ["NO_RIGHTS_ON_DATE"])


def test_a_renewal_not_reached_leaves_nothing_to_pay(config) -> None:
    optician = make_professional()
    patient = make_patient()
    invoice(config, optician, patient, "F-1")
    later = invoice(
        config,
        optician,
        patient,
        "F-2",
        care_date=TODAY + datetime.timedelta(days=30),
        today=TODAY + datetime.timedelta(days=30),
    ).claim
    assert (later.status, later.reasons) == (ClaimStatus.REJECTED, ["NOTHING_COVERED"])
    assert {r for line in later.lines.all() for r in line.reasons} == {"RENEWAL_PERIOD_NOT_REACHED"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"care_date": TODAY + datetime.timedelta(days=1)}, "care_date"),
        ({"lines": [LineInput(code="1234567", billed="10.00")]}, "lines[0].code"),
        ({"lines": [LineInput(code="2264861", billed="-5.00")]}, "lines[0].billed"),
    ],
)
def test_bad_claims_write_nothing(config, kwargs, field) -> None:
    with pytest.raises(InvalidCareRequest) as caught:
        invoice(config, make_professional(), make_patient(), "F-1", **kwargs)
    assert caught.value.field == field
    assert not Claim.objects.exists()


def test_invoice_number_format(config) -> None:
    with pytest.raises(InvalidCareRequest) as caught:
        invoice(config, make_professional(), make_patient(), "F 1 <script>")
    assert caught.value.field == "invoice_number"
