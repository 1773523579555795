"""The same invoice sent twice is never paid twice: in two lots, twice in one lot, or in a
lot and through the claim API (one register, ``BilledInvoice``, for both channels)."""

from __future__ import annotations

import dataclasses

import pytest
from django.conf import settings

from tests.care.conftest import GLASSES, context
from tests.factories import make_professional
from tests.invoices.builders import invoice, line
from tests.invoices.lot_builders import NOW, jsonl, make_patient, results, send
from tierspayant.claims.services import submit_claim
from tierspayant.invoices.models import BilledInvoice
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.gate import Identity
from tierspayant.providers.choices import Profession

pytestmark = pytest.mark.usefixtures("nomenclatures")

BOX = line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33", franchise="1.00")


@pytest.fixture
def pharmacist(db: None):  # type: ignore[no-untyped-def]
    return make_professional(profession=Profession.PHARMACIST, specialty_code="50")


CASES = [
    # name, second lot's invoice number, same content: expected result of the second one
    ("same-number-same-content", "F-1", True, ("F-1", "rejected", ["DUPLICATE_INVOICE"])),
    ("same-number-other-content", "F-1", False, ("F-1", "rejected", ["DUPLICATE_INVOICE"])),
    ("other-number-same-content", "F-9", True, ("F-9", "rejected", ["DUPLICATE_INVOICE"])),
    ("other-number-other-content", "F-9", False, ("F-9", "accepted", [])),
]


@pytest.mark.parametrize(("name", "number", "same", "expected"), CASES, ids=[c[0] for c in CASES])
def test_two_lots(pharmacist, name, number, same, expected) -> None:  # type: ignore[no-untyped-def]
    patient = make_patient()
    first = invoice(BOX, number="F-1")
    send(pharmacist, jsonl([(first, patient.card())]))
    second = invoice(BOX, number=number)
    if not same:
        second = dataclasses.replace(second, care_date=second.care_date.replace(day=13))
    lot = send(pharmacist, jsonl([(second, patient.card())], reference="LOT-0002"))
    assert results(lot) == [expected]
    assert BilledInvoice.objects.filter(channel="lot").count() == (
        2 if expected[1] == "accepted" else 1
    )


def test_twice_in_one_lot(pharmacist) -> None:  # type: ignore[no-untyped-def]
    patient = make_patient()
    bill = invoice(BOX, number="F-1")
    lot = send(pharmacist, jsonl([(bill, patient.card()), (bill, patient.card())]))
    assert results(lot) == [("F-1", "accepted", []), ("F-1", "rejected", ["DUPLICATE_INVOICE"])]
    assert lot.total_amc == lot.entries.first().invoice.total_amc  # paid once


def test_same_content_twice_in_one_chunk(pharmacist, settings) -> None:  # type: ignore[no-untyped-def]
    """The duplicate register is read once per chunk: an invoice accepted earlier in the
    chunk still makes a later one with the same content a duplicate (field ``lines``), and
    one rejected on its content does not."""
    settings.TIERSPAYANT_LOT_CHUNK_SIZE = 500  # the three invoices in one chunk
    patient = make_patient()
    wrong = invoice(BOX, number="F-0", total_amo=BOX.amo_paid + 1)
    lot = send(
        pharmacist,
        jsonl([(wrong, patient.card()), (invoice(BOX, number="F-1"), patient.card()),
               (invoice(BOX, number="F-2"), patient.card())]),
    )  # fmt: skip
    assert results(lot) == [
        ("F-0", "rejected", ["TOTAL_MISMATCH"]),
        ("F-1", "accepted", []),
        ("F-2", "rejected", ["DUPLICATE_INVOICE"]),
    ]
    assert lot.entries.get(invoice_number="F-2").reasons[0]["field"] == "lines"
    assert list(BilledInvoice.objects.values_list("invoice_number", flat=True)) == ["F-1"]


def _claim(professional, patient, number):  # type: ignore[no-untyped-def]
    return submit_claim(
        CareConfig.from_settings(settings),
        professional=professional,
        identity=Identity(nir=patient.nir, birth_date=patient.born),
        invoice_number=number,
        care_date=NOW.date(),
        lines=GLASSES,
        context=context(),
        now=NOW,
        today=NOW.date(),
    ).claim


def test_a_lot_invoice_then_the_claim_api(pharmacist) -> None:  # type: ignore[no-untyped-def]
    """An invoice accepted in a lot, then the same invoice number through the claim API:
    the claim is rejected as a duplicate."""
    patient = make_patient("equilibre")
    lot = send(pharmacist, jsonl([(invoice(BOX, number="PH-1"), patient.card())]))
    assert results(lot) == [("PH-1", "accepted", [])]
    claim = _claim(pharmacist, patient, "PH-1")
    assert (claim.status, claim.reasons) == ("rejected", ["DUPLICATE_CLAIM"])
    assert BilledInvoice.objects.get().channel == "lot"


def test_the_claim_api_then_a_lot(db: None, nomenclatures: None) -> None:
    """A claim accepted through the claim API, then the same invoice in a lot (same number,
    or the same patient, date, codes and amounts): rejected as a duplicate."""
    optician = make_professional(profession=Profession.OPTICIAN, specialty_code="28")
    patient = make_patient("equilibre")
    claim = _claim(optician, patient, "OPT-1")
    assert claim.status == "accepted"
    same_number = invoice(BOX, number="OPT-1", care_date=NOW.date())
    glasses = invoice(
        line("LPP", "2264861", "150.00", rate="60", amo="0.05", br="0.05"),
        line("LPP", "2208756", "120.00", rate="60", amo="0.05", br="0.05"),
        line("LPP", "2208756", "120.00", rate="60", amo="0.05", br="0.05"),
        number="OPT-2",
        care_date=NOW.date(),
    )
    lot = send(optician, jsonl([(same_number, patient.card()), (glasses, patient.card())]))
    assert results(lot) == [
        ("OPT-1", "rejected", ["DUPLICATE_INVOICE"]),
        ("OPT-2", "rejected", ["DUPLICATE_INVOICE"]),
    ]
    assert BilledInvoice.objects.get().reference == f"claim:{claim.pk}"
