"""Decision states of approvals (issue 15 part 5) and degraded approvals (issue 19 part 4):
estimate, binding approval, pending under a contract's review rule, staff decision with a
reason and the professional told, the letter, pending -> decided -> invoiced; a decision that
cannot be computed answers pending with a number and a deadline, and lands in the queue."""

from __future__ import annotations

import dataclasses
import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.care.conftest import NOW, TODAY, approve, context, invoice, make_patient, rx_form
from tests.factories import make_professional
from tierspayant.claims.choices import ClaimStatus
from tierspayant.priorauth.choices import ApprovalKind, Decision, ReviewReason
from tierspayant.priorauth.letter import approval_letter
from tierspayant.priorauth.lpp import InvalidCareRequest, LineInput
from tierspayant.priorauth.models import Commitment, PriorApproval, ReviewRule
from tierspayant.priorauth.selectors import review_queue, search_catalogue
from tierspayant.priorauth.services import (
    ApprovalNotPending,
    DecisionNotComputable,
    decide_pending,
    request_prior_approval,
)
from tierspayant.providers.choices import Profession
from tierspayant.registry.choices import Domain

pytestmark = pytest.mark.django_db

D = Decimal
CROWN = [LineInput(code="HBLD634", billed="500.00", tooth="11")]
LATER = NOW + datetime.timedelta(hours=5)


def _staff():  # type: ignore[no-untyped-def]
    n = get_user_model().objects.count()
    return get_user_model().objects.create_user(username=f"gestion.dentaire{n}", is_staff=True)


def _dentist():  # type: ignore[no-untyped-def]
    return make_professional(profession=Profession.DENTIST, email="cabinet@example.org")


def _patient(table: str = "equilibre"):  # type: ignore[no-untyped-def]
    return make_patient(table=table, domains=["dental", "optical"])


def test_pending_then_decided_by_staff_then_invoiced(config) -> None:
    dentist, patient = _dentist(), _patient()
    contract = patient.beneficiary.contract
    ReviewRule.objects.create(
        insurer=contract.insurer, contract=contract, amount_above="400.00", review_days=3
    )
    approval = approve(config, dentist, patient, CROWN)

    assert approval.decision == Decision.PENDING
    assert approval.proposed_decision == Decision.ACCEPTED
    assert approval.review_reason == ReviewReason.AMOUNT_ABOVE
    assert approval.review_deadline == NOW + datetime.timedelta(days=3)
    assert approval.reasons == ["UNDER_REVIEW"]
    assert (approval.total_amo, approval.total_amc, approval.total_rac) == (
        D("72.00"),
        D("428.00"),
        D("0.00"),
    )
    assert Commitment.objects.filter(reference=approval.number, released_at=None).exists()
    assert list(review_queue(PriorApproval.objects.all())) == [approval]
    # Not usable while pending.
    with pytest.raises(InvalidCareRequest) as caught:
        invoice(config, dentist, patient, "F-DENT-1", CROWN, approval=approval.number)
    assert caught.value.field == "approval_number"
    assert "attente d'examen" in caught.value.message

    staff = _staff()
    decided = decide_pending(
        config,
        approval=approval,
        staff=staff,
        accept=True,
        note="Devis conforme au plan de traitement.",
        now=LATER,
        today=TODAY,
    )
    assert decided.decision == Decision.ACCEPTED
    assert (decided.decided_by, decided.decided_at, decided.notified_at) == (staff, LATER, LATER)
    assert decided.reasons == ["DECIDED_BY_STAFF"]
    assert list(review_queue(PriorApproval.objects.all())) == []
    message = mail.outbox[-1]
    assert message.to == ["cabinet@example.org"]
    assert approval.number in message.subject and "428.00" in message.body
    assert patient.nir not in message.body
    with pytest.raises(ApprovalNotPending):
        decide_pending(
            config, approval=decided, staff=staff, accept=False, note="x", now=LATER, today=TODAY
        )

    submitted = invoice(config, dentist, patient, "F-DENT-1", CROWN, approval=approval.number)
    claim = submitted.claim
    assert claim.status == ClaimStatus.ACCEPTED
    assert (claim.total_amo, claim.total_amc, claim.total_rac) == (
        D("72.00"),
        D("428.00"),
        D("0.00"),
    )
    decided.refresh_from_db()
    assert (decided.status, claim.approval_id) == ("used", decided.pk)


def test_staff_refusal_releases_the_commitment_and_the_letter_says_why(config) -> None:
    dentist, patient = _dentist(), _patient()
    contract = patient.beneficiary.contract
    ReviewRule.objects.create(insurer=contract.insurer, amount_above="100.00")
    approval = approve(config, dentist, patient, CROWN)
    staff = _staff()
    with pytest.raises(InvalidCareRequest) as caught:
        decide_pending(
            config, approval=approval, staff=staff, accept=False, note=" ", now=LATER, today=TODAY
        )
    assert caught.value.field == "decision_note"

    refused = decide_pending(
        config,
        approval=approval,
        staff=staff,
        accept=False,
        note="Plan de traitement incomplet.",
        now=LATER,
        today=TODAY,
    )
    assert refused.decision == Decision.REFUSED
    assert (refused.total_amc, refused.total_rac) == (D("0.00"), D("428.00"))
    assert [(ln.amo, ln.amc, ln.rac) for ln in refused.lines.all()] == [
        (D("72.00"), D("0.00"), D("428.00"))
    ]
    assert Commitment.objects.get(reference=approval.number).released_at == LATER
    pdf = approval_letter(refused)
    assert pdf.startswith(b"%PDF")
    assert b"refus" in pdf and b"HBLD634" in pdf and b"Plan de traitement incomplet." in pdf


def test_a_second_equipment_within_the_rule_period_waits(config) -> None:
    dentist, patient = _dentist(), _patient()
    contract = patient.beneficiary.contract
    ReviewRule.objects.create(
        insurer=contract.insurer, domain=Domain.DENTAL, second_within_days=365
    )
    first = approve(config, dentist, patient, CROWN)
    glasses = approve(config, make_professional(), patient)  # another domain: not caught
    second = approve(
        config,
        dentist,
        patient,
        [LineInput(code="HBLD634", billed="500.00", tooth="21")],
        now=NOW + datetime.timedelta(days=10),
    )
    assert (first.decision, glasses.decision, second.decision) == (
        Decision.ACCEPTED,
        Decision.ACCEPTED,
        Decision.PENDING,
    )
    assert second.review_reason == ReviewReason.SECOND_EQUIPMENT


def test_an_estimate_binds_nothing(config) -> None:
    dentist, patient = _dentist(), _patient()
    estimate = request_prior_approval(
        config,
        professional=dentist,
        identity=patient.identity,
        planned_date=TODAY,
        lines=CROWN,
        context=context(),
        now=NOW,
        today=TODAY,
        estimate=True,
    )
    assert estimate.kind == ApprovalKind.ESTIMATE
    assert estimate.number.startswith("EST-")
    assert (estimate.decision, estimate.total_amc) == (Decision.ACCEPTED, D("428.00"))
    assert not Commitment.objects.exists()
    assert not estimate.usable(TODAY)
    with pytest.raises(InvalidCareRequest) as caught:
        invoice(config, dentist, patient, "F-EST-1", CROWN, approval=estimate.number)
    assert "estimation" in caught.value.message


def test_a_missing_guarantee_table_gives_a_pending_answer_staff_decide_later(config) -> None:
    dentist, patient = _dentist(), _patient(table="table-absente")
    approval = approve(config, dentist, patient, CROWN)
    assert approval.decision == Decision.PENDING
    assert approval.review_reason == ReviewReason.TABLE_MISSING
    assert approval.number.startswith("PEC-")
    assert approval.review_deadline == NOW + datetime.timedelta(days=config.review_days)
    assert (approval.total_amo, approval.total_amc, approval.total_rac) == (
        D("72.00"),
        D("0.00"),
        D("428.00"),
    )
    assert not Commitment.objects.exists()
    assert list(review_queue(PriorApproval.objects.all())) == [approval]

    staff = _staff()
    with pytest.raises(DecisionNotComputable):
        decide_pending(
            config, approval=approval, staff=staff, accept=True, note="ok", now=LATER, today=TODAY
        )
    approval.refresh_from_db()
    assert approval.decision == Decision.PENDING

    contract = patient.beneficiary.contract
    contract.guarantee_table = "equilibre"
    contract.save()
    decided = decide_pending(
        config,
        approval=approval,
        staff=staff,
        accept=True,
        note="Garanties rétablies.",
        now=LATER,
        today=TODAY,
    )
    assert (decided.decision, decided.total_amc, decided.total_rac) == (
        Decision.ACCEPTED,
        D("428.00"),
        D("0.00"),
    )
    assert decided.table_id == "equilibre"
    assert Commitment.objects.filter(reference=decided.number, released_at=None).exists()


def test_an_engine_error_gives_a_pending_answer(config, tmp_path: Path) -> None:
    """A table that loads but has no version in force on the planned date: the engine
    raises, the dentist gets a pending answer with a number and a deadline."""
    source = json.loads((config.tables_dir / "equilibre.json").read_text(encoding="utf-8"))
    for version in source["versions"]:
        version["effective_from"] = "2030-01-01"
    source["versions"] = source["versions"][:1]
    (tmp_path / "equilibre.json").write_text(json.dumps(source), encoding="utf-8")
    broken = dataclasses.replace(config, tables_dir=tmp_path)
    approval = approve(broken, _dentist(), _patient(), CROWN)
    assert approval.decision == Decision.PENDING
    assert approval.review_reason == ReviewReason.ENGINE_ERROR
    assert approval.review_deadline == NOW + datetime.timedelta(days=2)


def test_the_portal_answers_a_degraded_approval_with_its_number_and_deadline(
    verified_client: Client, optician
) -> None:
    patient = make_patient(table="table-absente", domains=["optical"])
    day = timezone.localdate().isoformat()
    data = {
        "nir": patient.nir,
        "birth_date": patient.born.isoformat(),
        "care_date": day,
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "10",
        "lines-0-code": "2264861",
        "lines-0-billed": "150.00",
        **rx_form([LineInput(code="2264861", billed="150.00")], timezone.localdate()),
    }
    response = verified_client.post("/pec/nouvelle/", data)
    assert response.status_code == 302
    approval = PriorApproval.objects.get()
    page = verified_client.get(response["Location"]).content.decode()
    assert approval.number in page
    assert "En attente d&#x27;examen" in page and 'id="review-deadline"' in page
    assert approval.review_deadline is not None
    assert timezone.localtime(approval.review_deadline, datetime.UTC).strftime("%d/%m/%Y") in page
    letter = verified_client.get(f"/pec/{approval.pk}/lettre.pdf")
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("words", "domain", "codes"),
    [
        # Crowns, inlay cores (« sous couronne ») and transitional crowns for an incisor.
        (
            "couronne incisive",
            None,
            [
                *("HBLD038", "HBLD090", "HBLD245", "HBLD350", "HBLD403", "HBLD486"),
                *("HBLD490", "HBLD634", "HBLD680", "HBLD724", "HBLD745"),
            ],
        ),
        ("couronne dentoportée molaire 100 % sante", None, ["HBLD038", "HBLD350"]),
        ("COURONNE dentoportée MOLAIRE maîtrisé", None, ["HBLD073", "HBLD158"]),
        ("inlay", Domain.DENTAL, ["HBLD090", "HBLD245", "HBLD745"]),
        # The optical and audio codes come from the loaded LPP list (optical catalogue).
        (
            "unifocal classe B sphère -2 cylindre 4",
            Domain.OPTICAL,
            ["2208756", "2209460", "2210983", "2211190", "2225329"],
        ),
        (
            "aide auditive classe ii droite > 20",
            Domain.AUDIO,
            [
                *("2392530", "7316350", "7322936", "7326733"),
                *("7330870", "7343737", "7379971", "7380129"),
            ],
        ),
        ("2392530", None, ["2392530"]),
        ("couronne", Domain.AUDIO, []),
        ("HBLD036", None, []),  # ended before the care date
        ("   ", None, []),
    ],
)
def test_the_catalogue_is_searched_by_words(words, domain, codes) -> None:
    found = search_catalogue(words, care_date=TODAY, domain=domain)
    assert sorted(e.code for e in found) == sorted(codes)


def test_the_picker_endpoint_answers_json(verified_client: Client) -> None:
    response = verified_client.get("/pec/catalogue/", {"q": "couronne métallique"})
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "code": "HBLD038",
            "label": "Couronne dentoportée en alliage non précieux (métallique)",
            "domain": "Dentaire",
            "class": "100 % Santé (sans reste à charge)",
            "br": "120.00",
            "price_limit": "290.00",
            "teeth": "incisive, canine, première prémolaire, deuxième prémolaire, molaire",
        }
    ]
    ended = verified_client.get("/pec/catalogue/", {"q": "HBLD036", "date": "2019-01-10"})
    assert [r["code"] for r in ended.json()["results"]] == ["HBLD036"]
    assert Client().get("/pec/catalogue/", {"q": "couronne"}).status_code == 302


def test_the_json_api_answers_a_dental_quote_pending_with_its_deadline() -> None:
    """Degraded through the JSON API: 201 with decision pending, number and deadline."""
    from tierspayant.providers.choices import Scope
    from tierspayant.providers.services import issue_api_token

    dentist = _dentist()
    patient = _patient(table="table-absente")
    secret = issue_api_token(
        professional=dentist,
        name="logiciel",
        scopes=[Scope.CLAIMS_SUBMIT],
        now=timezone.now(),
        valid_days=30,
    ).secret
    body = {
        "patient": {"nir": patient.nir, "birth_date": patient.born.isoformat()},
        "planned_date": timezone.localdate().isoformat(),
        "lines": [{"code": "HBLD634", "billed": "500.00", "tooth": "11"}],
    }
    response = Client().post(
        "/api/v1/prior-approvals",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["decision"] == "pending"
    assert out["number"].startswith("PEC-")
    assert out["review_deadline"] is not None
    assert (out["totals"]["amo"], out["totals"]["amc"]) == ("72.00", "0.00")


def test_an_estimate_that_cannot_be_computed_says_so_in_the_portal(
    verified_client: Client, optician
) -> None:
    """An estimate never waits for review: without the contract's table the portal answers
    « service momentanément indisponible » (503), and nothing is stored."""
    patient = make_patient(table="table-absente", domains=["optical"])
    data = {
        "nir": patient.nir,
        "birth_date": patient.born.isoformat(),
        "care_date": timezone.localdate().isoformat(),
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "10",
        "lines-0-code": "2264861",
        "lines-0-billed": "150.00",
        **rx_form([LineInput(code="2264861", billed="150.00")], timezone.localdate()),
        "estimate": "1",
    }
    response = verified_client.post("/pec/nouvelle/", data)
    assert response.status_code == 503
    assert "momentanément indisponible" in response.content.decode()
    assert not PriorApproval.objects.exists()


def test_a_portal_estimate_is_shown_as_not_binding(verified_client: Client, optician) -> None:
    patient = make_patient(domains=["optical"])
    data = {
        "nir": patient.nir,
        "birth_date": patient.born.isoformat(),
        "care_date": timezone.localdate().isoformat(),
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "10",
        "lines-0-code": "2264861",
        "lines-0-billed": "150.00",
        **rx_form([LineInput(code="2264861", billed="150.00")], timezone.localdate()),
        "estimate": "1",
    }
    response = verified_client.post("/pec/nouvelle/", data)
    assert response.status_code == 302
    estimate = PriorApproval.objects.get()
    assert estimate.kind == ApprovalKind.ESTIMATE
    page = verified_client.get(response["Location"]).content.decode()
    assert "estimation sans engagement" in page
    assert 'id="invoice-link"' not in page


def test_an_estimate_with_an_engine_error_is_not_computable(config, tmp_path: Path) -> None:
    source = json.loads((config.tables_dir / "equilibre.json").read_text(encoding="utf-8"))
    source["versions"] = source["versions"][:1]
    source["versions"][0]["effective_from"] = "2030-01-01"
    (tmp_path / "equilibre.json").write_text(json.dumps(source), encoding="utf-8")
    patient = _patient()
    with pytest.raises(DecisionNotComputable):
        request_prior_approval(
            dataclasses.replace(config, tables_dir=tmp_path),
            professional=_dentist(),
            identity=patient.identity,
            planned_date=TODAY,
            lines=CROWN,
            context=context(),
            now=NOW,
            today=TODAY,
            estimate=True,
        )
    assert not PriorApproval.objects.exists()
