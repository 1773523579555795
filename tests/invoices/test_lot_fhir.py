"""The FHIR layout: a batch Bundle of Claim read into the same invoices as the flat file."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from tests.invoices.builders import PRESCRIBER, invoice, line
from tierspayant.invoices.lot_formats import LotFormatError
from tierspayant.invoices.lot_formats.fhir import FhirBatchParser

BASE = "https://tierspayant.example/fhir"
EXT = f"{BASE}/StructureDefinition/"


def _money(value: str) -> dict[str, Any]:
    return {"value": float(value), "currency": "EUR"}


def bundle(count: int = 1) -> dict[str, Any]:
    claim = {
        "resourceType": "Claim",
        "status": "active",
        "use": "claim",
        "type": {"coding": [{"code": "pharmacy"}]},
        "created": "2025-03-14",
        "provider": {"display": "Pharmacie"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "AMC"}}],
        "identifier": [{"value": "F-1"}],
        "contained": [
            {
                "resourceType": "Patient",
                "id": "p",
                "identifier": [
                    {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "180057512345678"}
                ],
                "birthDate": "1980-05-17",
            }
        ],
        "patient": {"reference": "#p"},
        "billablePeriod": {"start": "2025-03-14"},
        "total": _money("12.81"),
        "extension": [
            {"url": f"{EXT}insurance-nature", "valueCode": "10"},
            {"url": f"{EXT}exemption", "valueCode": "0"},
            {"url": f"{EXT}amo-regime", "valueCode": "1"},
            {"url": f"{EXT}prescriber-rpps", "valueString": PRESCRIBER},
            {"url": f"{EXT}prescription-date", "valueDate": "2025-03-11"},
            {"url": f"{EXT}total-amo", "valueMoney": _money("7.33")},
        ],
        "item": [
            {
                "sequence": 1,
                "productOrService": {
                    "coding": [{"system": f"{BASE}/CodeSystem/cip13", "code": "3400936963504"}]
                },
                "quantity": {"value": 1},
                "unitPrice": _money("12.81"),
                "net": _money("12.81"),
                "extension": [
                    {"url": f"{EXT}br", "valueMoney": _money("12.81")},
                    {"url": f"{EXT}amo-rate", "valueDecimal": 65},
                    {"url": f"{EXT}amo-paid", "valueMoney": _money("7.33")},
                    {"url": f"{EXT}franchise", "valueMoney": _money("1.00")},
                ],
            }
        ],
    }
    return {
        "resourceType": "Bundle",
        "type": "batch",
        "identifier": {"value": "LOT-F"},
        "extension": [
            {"url": f"{EXT}lot-count", "valueUnsignedInt": count},
            {"url": f"{EXT}lot-total", "valueMoney": _money("12.81")},
        ],
        "entry": [{"resource": claim, "request": {"method": "POST", "url": "Claim"}}],
    }


def test_a_fhir_lot_reads_as_the_same_invoice() -> None:
    header, invoices = FhirBatchParser(BASE).parse(io.BytesIO(json.dumps(bundle()).encode()))
    assert (header.reference, header.declared_count, str(header.declared_total)) == (
        "LOT-F",
        1,
        "12.81",
    )
    parsed = list(invoices)
    expected = invoice(
        line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33", franchise="1.00"),
        number="F-1",
    )
    got = parsed[0].invoice
    fields = (
        "invoice_number",
        "care_date",
        "total_billed",
        "total_amo",
        "prescriber_rpps",
        "prescription_date",
        "insurance_nature",
        "exemption",
        "amo_regime",
        "local_regime",
    )
    assert [getattr(got, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert [(x.code, x.billed, x.amo_paid, x.amo_rate, x.franchise) for x in got.lines] == [
        (x.code, x.billed, x.amo_paid, x.amo_rate, x.franchise) for x in expected.lines
    ]
    assert (parsed[0].identity.nir, parsed[0].identity.birth_date) == (
        "180057512345678",
        "1980-05-17",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.update(type="collection"), "type"),
        (lambda b: b["extension"].pop(0), "extension lot-count"),
        (lambda b: b["entry"][0]["resource"].pop("patient"), "Claim.patient"),
    ],
)
def test_a_bad_fhir_lot_names_the_element(change: Any, field: str) -> None:
    body = bundle()
    change(body)

    def read() -> None:
        _, invoices = FhirBatchParser(BASE).parse(io.BytesIO(json.dumps(body).encode()))
        list(invoices)

    with pytest.raises(LotFormatError) as caught:
        read()
    assert caught.value.field == field
