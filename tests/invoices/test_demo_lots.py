"""The demo's lot files: one per profession of lots, every invoice accepted through a lot,
with real AMC shares (the figures of the demo add up)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from tests.invoices.lot_builders import NOW, make_patient, results, send
from tierspayant.invoices.models import InvoiceLine
from tierspayant.portal.demo_lots import LOT_PROFESSIONALS, demo_lot, seed_lot_professionals

pytestmark = pytest.mark.usefixtures("nomenclatures")

#: specialty -> AMC of one invoice under the « equilibre » table (euros).
EXPECTED_AMC = {"50": "6.70", "30": "5.19", "24": "1.26", "26": "6.45", "01": "9.00"}


def test_every_demo_lot_is_accepted_with_its_amc(db: None) -> None:
    professionals = seed_lot_professionals(random.Random(7))
    assert [(p.profession, p.specialty_code) for p in professionals] == [
        (profession, specialty) for _, profession, specialty, _ in LOT_PROFESSIONALS
    ]
    patients = []
    for _ in range(2):
        patient = make_patient("equilibre")
        patients.append(
            {**patient.card(), "amc_number": patient.beneficiary.contract.insurer.amc_number}
        )
    care_date = NOW.date() - dt.timedelta(days=2)
    got = {}
    for professional in professionals:
        lot = send(professional, demo_lot(professional.specialty_code, patients, care_date))
        assert [status for _, status, _ in results(lot)] == ["accepted", "accepted"], results(lot)
        got[professional.specialty_code] = str(lot.total_amc / 2)
        for row in InvoiceLine.objects.filter(invoice__lot=lot):
            assert row.amo_paid + row.amc + row.rac == row.billed
    assert got == {k: str(Decimal(v)) for k, v in EXPECTED_AMC.items()}
