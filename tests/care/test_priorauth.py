"""Prior approvals (PEC): the decision and amounts computed by the coverage engine, the
ceilings and renewal periods an approval commits, cancellation, bad input."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from tests.care.conftest import GLASSES, NOW, TODAY, approve, context, make_patient, rx
from tests.factories import make_professional
from tierspayant.audit.models import DisclosureLog
from tierspayant.priorauth.choices import ApprovalStatus, Decision
from tierspayant.priorauth.gate import BeneficiaryNotFound, Identity
from tierspayant.priorauth.lpp import InvalidCareRequest, LineInput
from tierspayant.priorauth.models import Commitment
from tierspayant.priorauth.services import (
    ApprovalNotCancellable,
    cancel_prior_approval,
    request_prior_approval,
)

pytestmark = pytest.mark.django_db

D = Decimal


def test_class_b_glasses_are_decided_at_once_with_the_engine_amounts(config) -> None:
    optician = make_professional()
    patient = make_patient()
    approval = approve(config, optician, patient)

    assert approval.decision == Decision.ACCEPTED
    assert approval.status == ApprovalStatus.OPEN
    assert approval.number.startswith("PEC-")
    assert approval.expires_on == TODAY + datetime.timedelta(days=183)
    # « Équilibre »: 200 EUR per class B equipment with simple lenses; BR 0.05, AMO 60 %.
    assert (approval.total_billed, approval.total_amo, approval.total_amc, approval.total_rac) == (
        D("390.00"),
        D("0.09"),
        D("200.00"),
        D("189.91"),
    )
    lines = [(ln.code, ln.side, ln.amo, ln.amc, ln.rac, ln.reasons) for ln in approval.lines.all()]
    assert lines == [
        ("2264861", "", D("0.03"), D("99.97"), D("50.00"), ["OPTICAL_FRAME_CAP"]),
        ("2208756", "right", D("0.03"), D("100.03"), D("19.94"), ["CEILING_EXHAUSTED"]),
        ("2208756", "left", D("0.03"), D("0.00"), D("119.97"), ["CEILING_EXHAUSTED"]),
    ]
    row = DisclosureLog.objects.get(pk=approval.disclosure_log_id)
    assert (row.professional_id, row.beneficiary_id, row.outcome, row.purpose) == (
        optician.pk,
        patient.beneficiary.pk,
        "covered",
        "prior_approval",
    )


@pytest.mark.parametrize(
    ("table", "lines", "decision", "amc"),
    [
        pytest.param("equilibre", GLASSES, Decision.ACCEPTED, "200.00", id="equilibre-simple"),
        pytest.param("essentiel", GLASSES, Decision.ACCEPTED, "100.00", id="essentiel-simple"),
        pytest.param(
            "equilibre",
            [
                LineInput(code="2264861", billed="180.00"),
                LineInput(code="2224732", billed="350.00", side="right"),
                LineInput(code="2224732", billed="350.00", side="left"),
            ],
            Decision.ACCEPTED,
            "350.00",  # the 2025 version of « Équilibre »: 350 EUR for complex lenses
            id="equilibre-progressive",
        ),
        pytest.param(
            "equilibre",
            [
                LineInput(code="2351057", billed="950.00"),
                LineInput(code="2365119", billed="990.00"),
            ],
            Decision.ACCEPTED,
            "1420.00",
            id="hearing-aids-class-I",
        ),
    ],
)
def test_decisions_by_table(config, table, lines, decision, amc) -> None:
    approval = approve(config, make_professional(), make_patient(table=table), lines)
    assert (approval.decision, approval.total_amc) == (decision, D(amc))


def test_two_approvals_cannot_spend_the_same_renewal(config) -> None:
    optician, other = make_professional(), make_professional()
    patient = make_patient()
    first = approve(config, optician, patient)
    second = approve(config, other, patient)
    assert first.decision == Decision.ACCEPTED
    assert second.decision == Decision.REFUSED
    assert second.total_amc == D("0.00")
    assert {r for ln in second.lines.all() for r in ln.reasons} == {"RENEWAL_PERIOD_NOT_REACHED"}
    assert Commitment.objects.filter(released_at__isnull=True).count() == 1


def test_cancelling_releases_the_commitment(config) -> None:
    optician = make_professional()
    patient = make_patient()
    first = approve(config, optician, patient)
    cancel_prior_approval(professional=optician, approval=first, now=NOW)
    first.refresh_from_db()
    assert first.status == ApprovalStatus.CANCELLED
    again = approve(config, optician, patient)
    assert (again.decision, again.total_amc) == (Decision.ACCEPTED, D("200.00"))
    with pytest.raises(ApprovalNotCancellable):
        cancel_prior_approval(professional=optician, approval=first, now=NOW)


def test_an_expired_approval_no_longer_holds_its_ceiling(config) -> None:
    optician = make_professional()
    patient = make_patient()
    approve(config, optician, patient)
    later = TODAY + datetime.timedelta(days=200)
    again = approve(
        config,
        optician,
        patient,
        planned=later,
        today=later,
        now=NOW + datetime.timedelta(days=200),
    )
    assert again.decision == Decision.ACCEPTED


def test_no_rights_on_the_planned_date_is_a_refusal_with_its_reason(config) -> None:
    patient = make_patient(rights_end=datetime.date(2025, 1, 31))
    approval = approve(config, make_professional(), patient)
    assert approval.decision == Decision.REFUSED
    assert approval.reasons == ["NO_RIGHTS_ON_DATE"]
    assert approval.total_amc == D("0.00")
    assert not Commitment.objects.exists()


def test_an_unknown_patient_gets_the_rights_check_no_match(config) -> None:
    patient = make_patient()
    wrong = Identity(nir=patient.nir, birth_date=patient.born + datetime.timedelta(days=1))
    with pytest.raises(BeneficiaryNotFound):
        request_prior_approval(
            config,
            professional=make_professional(),
            identity=wrong,
            planned_date=TODAY,
            lines=GLASSES,
            context=context(),
            now=NOW,
            today=TODAY,
            prescription=rx(GLASSES),
        )
    assert DisclosureLog.objects.get().outcome == "no_match"


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        pytest.param(
            [LineInput(code="9999999", billed="10.00")], "lines[0].code", id="unknown-lpp"
        ),
        pytest.param([LineInput(code="2264861", billed="-30")], "lines[0].billed", id="negative"),
        pytest.param([LineInput(code="2264861", billed="12.345")], "lines[0].billed", id="cents"),
        pytest.param([LineInput(code="2208756", billed="90.00")], "lines[0].side", id="no-eye"),
        pytest.param(
            [LineInput(code="2264861", billed="90.00", sante_class="A")],
            "lines[0].sante_class",
            id="wrong-class",
        ),
        pytest.param(
            [LineInput(code="2264861", billed="90"), LineInput(code="2351057", billed="950")],
            "lines",
            id="two-domains",
        ),
        pytest.param([], "lines", id="no-line"),
    ],
)
def test_bad_lines_are_refused_naming_the_field_before_any_lookup(config, lines, field) -> None:
    with pytest.raises(InvalidCareRequest) as caught:
        approve(config, make_professional(), make_patient(), lines)
    assert caught.value.field == field
    assert not DisclosureLog.objects.exists()
    assert not Commitment.objects.exists()


def test_a_domain_not_open_on_the_contract_is_refused_and_nothing_is_written(config) -> None:
    patient = make_patient(domains=["pharmacy", "audio"])
    with pytest.raises(InvalidCareRequest) as caught:
        approve(config, make_professional(), patient)
    assert caught.value.field == "lines"
    assert "Optique" in caught.value.message
    assert DisclosureLog.objects.count() == 1  # the rights check happened and is logged
    assert not Commitment.objects.exists()


@pytest.mark.parametrize(
    "planned",
    [TODAY - datetime.timedelta(days=1), TODAY + datetime.timedelta(days=400), "14/03/2025"],
)
def test_planned_date_out_of_range(config, planned) -> None:
    with pytest.raises(InvalidCareRequest) as caught:
        approve(config, make_professional(), make_patient(), planned=planned)
    assert caught.value.field == "planned_date"
