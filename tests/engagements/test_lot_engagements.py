"""Engagements quoted by invoices sent in lots (issue 17 part 5 with issue 14 part 3): an
invoice quoting a valid engagement is adjudicated and paid even after a member file ended
the rights; without it the same invoice is rejected NO_RIGHTS_ON_DATE; another
professional's engagement is refused ENGAGEMENT_REFUSED. Both layouts (JSONL, FHIR)."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from tests.engagements.conftest import AMC, BORN, CARE, NOW, TODAY, Family, run, v2
from tests.factories import make_professional
from tests.invoices.builders import invoice, line
from tests.invoices.lot_builders import config, jsonl
from tests.invoices.test_lot_fhir import BASE, bundle
from tests.registry.conftest import member_row
from tierspayant.audit.choices import Channel, Outcome
from tierspayant.calculations.services import calculate
from tierspayant.eligibility.models import Engagement
from tierspayant.eligibility.services import RightsCheckInput
from tierspayant.invoices.choices import LotFormat
from tierspayant.invoices.inputs import InvoiceInput
from tierspayant.invoices.lot_formats import LotFormatError
from tierspayant.invoices.lot_formats.fhir import FhirBatchParser
from tierspayant.invoices.lot_formats.jsonl import JsonLinesParser
from tierspayant.invoices.lots import adjudicate_lot, receive_lot
from tierspayant.invoices.models import Lot
from tierspayant.providers.choices import Profession
from tierspayant.providers.models import Professional
from tierspayant.registry.member_file.columns import HEADER
from tierspayant.registry.member_file.importer import import_members

pytestmark = pytest.mark.usefixtures("nomenclatures")

#: One pharmacy line: the essentiel table pays 4.48 € AMC, remaining cost 1.00 €.
BILL = invoice(
    line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33", franchise="1.00"),
    number="F-LOT-1",
)
CARD = {"rang": 1, "amc_number": AMC}


@pytest.fixture
def pharmacist(db: None) -> Professional:
    return make_professional(profession=Profession.PHARMACIST, specialty_code="50")


def terminate(family: Family, tmp_path: Any) -> None:
    """Import a member file ending the family's rights on 2025-03-01 (before the care)."""
    ended = tmp_path / "adherents-fin.csv"
    row = member_row(
        family.nir,
        amc=AMC,
        contract="CT-ATTEST",
        birth=BORN.isoformat(),
        end="2025-03-01",
        domains="pharmacy|optical",
    )
    ended.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    errors: list[object] = []
    summary = import_members(
        ended, keyring=settings.TIERSPAYANT_KEYRING, today=TODAY, report=errors.append
    )
    assert (errors, summary.terminated) == ([], 1)


def fhir_lot(bill: InvoiceInput, family: Family) -> bytes:
    """The FHIR Bundle of ``bill`` (one pharmacy line) for the family's card, quoting
    ``bill.engagement`` in ``Claim.insurance[0].preAuthRef``."""
    body = copy.deepcopy(bundle())
    claim = body["entry"][0]["resource"]
    claim["identifier"] = [{"value": bill.invoice_number}]
    claim["contained"][0]["identifier"][0]["value"] = family.nir
    claim["contained"][0]["birthDate"] = BORN.isoformat()
    claim["insurer"] = {"identifier": {"system": f"{BASE}/NamingSystem/amc-number", "value": AMC}}
    if bill.engagement:
        claim["insurance"][0]["preAuthRef"] = [bill.engagement]
    return json.dumps(body).encode()


def body_of(lot_format: LotFormat, bill: InvoiceInput, family: Family) -> bytes:
    if lot_format == LotFormat.FHIR:
        return fhir_lot(bill, family)
    card = {"nir": family.nir, "birth_date": BORN.isoformat(), **CARD}
    return jsonl([(bill, card)])


def send(professional: Professional, body: bytes, lot_format: LotFormat) -> Lot:
    """Receive and adjudicate at the engagement's own instant (it expires after 30 days)."""
    lot = receive_lot(
        config(),
        professional=professional,
        lot_format=lot_format,
        stream=io.BytesIO(body),
        channel=Channel.API,
        now=NOW,
    )
    return adjudicate_lot(config(), lot.pk, clock=lambda: NOW)


def rights_check_engagement(professional: Professional, family: Family) -> str:
    answer = run(professional, v2(family))
    assert answer.outcome is Outcome.COVERED and answer.engagement
    return answer.engagement


def calculation_engagement(professional: Professional, family: Family) -> str:
    from tests.engagements.conftest import context

    answer = calculate(
        settings.TIERSPAYANT_KEYRING,
        professional=professional,
        query=v2(family, domain=None),
        invoice=BILL,
        context=context(professional),
        now=NOW,
        today=TODAY,
        quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
        tables_dir=settings.TIERSPAYANT_GUARANTEE_TABLES_DIR,
        daily_quota=500,
    )
    assert answer.amc == Decimal("4.48") and answer.engagement
    return answer.engagement


FORMATS = [LotFormat.JSONL, LotFormat.FHIR]
SOURCES = {"rights-check": rights_check_engagement, "calculation": calculation_engagement}


@pytest.mark.parametrize("lot_format", FORMATS)
@pytest.mark.parametrize("source", list(SOURCES))
def test_lot_invoice_under_engagement_is_paid_after_a_termination(
    pharmacist: Professional, attested: Family, tmp_path: Any, lot_format: LotFormat, source: str
) -> None:
    number = SOURCES[source](pharmacist, attested)
    terminate(attested, tmp_path)
    after = run(pharmacist, RightsCheckInput(nir=attested.nir, birth_date=BORN, care_date=CARE))
    assert after.outcome is Outcome.NOT_COVERED  # the member file ended the rights
    bill = dataclasses.replace(BILL, engagement=number)
    lot = send(pharmacist, body_of(lot_format, bill, attested), lot_format)
    assert (lot.accepted_count, lot.rejected_count, lot.total_amc) == (1, 0, Decimal("4.48"))
    entry = lot.entries.get()
    assert (entry.status, entry.reasons) == ("accepted", [])
    stored = entry.invoice
    assert stored is not None
    assert (stored.beneficiary_id, stored.total_amc, stored.total_rac) == (
        attested.insured.pk,
        Decimal("4.48"),
        Decimal("1.00"),
    )
    engagement = Engagement.objects.get()
    assert (engagement.invoice_id, engagement.used_at) == (stored.pk, NOW)


@pytest.mark.parametrize("lot_format", FORMATS)
def test_same_lot_without_the_engagement_is_rejected_no_rights(
    pharmacist: Professional, attested: Family, tmp_path: Any, lot_format: LotFormat
) -> None:
    rights_check_engagement(pharmacist, attested)
    terminate(attested, tmp_path)
    lot = send(pharmacist, body_of(lot_format, BILL, attested), lot_format)
    assert (lot.accepted_count, lot.rejected_count, lot.total_amc) == (0, 1, Decimal("0.00"))
    entry = lot.entries.get()
    assert [(r["code"], r["field"]) for r in entry.reasons] == [("NO_RIGHTS_ON_DATE", "care_date")]
    assert entry.invoice is None
    assert Engagement.objects.get().used_at is None


@pytest.mark.parametrize("lot_format", FORMATS)
@pytest.mark.parametrize("terminated", [False, True])
def test_engagement_of_another_professional_in_a_lot_is_refused(
    pharmacist: Professional,
    attested: Family,
    tmp_path: Any,
    lot_format: LotFormat,
    terminated: bool,
) -> None:
    """Covered: identified, then refused ENGAGEMENT_REFUSED by record_invoice. Terminated:
    the engagement guarantees nothing to this professional: NO_RIGHTS_ON_DATE."""
    number = rights_check_engagement(pharmacist, attested)
    if terminated:
        terminate(attested, tmp_path)
    other = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    bill = dataclasses.replace(BILL, engagement=number)
    lot = send(other, body_of(lot_format, bill, attested), lot_format)
    assert (lot.accepted_count, lot.rejected_count, lot.total_amc) == (0, 1, Decimal("0.00"))
    entry = lot.entries.get()
    if terminated:
        assert [r["code"] for r in entry.reasons] == ["NO_RIGHTS_ON_DATE"]
    else:
        assert entry.invoice is not None and entry.invoice.total_amc == Decimal("0.00")
        (refusal,) = [r for r in entry.reasons if r["code"] == "ENGAGEMENT_REFUSED"]
        assert refusal == {
            "code": "ENGAGEMENT_REFUSED",
            "line": None,
            "field": "engagement",
            "message": "Facture F-LOT-1, champ engagement : engagement de paiement refusé "
            "(engagement inconnu ou émis pour un autre professionnel).",
        }
    assert Engagement.objects.get().used_at is None  # still the pharmacist's to use


def test_forged_engagement_in_a_lot_is_refused(pharmacist: Professional, attested: Family) -> None:
    number = rights_check_engagement(pharmacist, attested)
    forged = number[:-1] + ("A" if number[-1] != "A" else "B")
    bill = dataclasses.replace(BILL, engagement=forged)
    lot = send(pharmacist, body_of(LotFormat.JSONL, bill, attested), LotFormat.JSONL)
    entry = lot.entries.get()
    assert (entry.status, [r["code"] for r in entry.reasons]) == (
        "rejected",
        ["ENGAGEMENT_REFUSED"],
    )


MALFORMED = [
    ("ENG-" + "A" * 61, "facture F-LOT-1 : numéro d'engagement de 64 caractères au plus"),
    ("ENG A/1", "facture F-LOT-1 : numéro d'engagement en lettres, chiffres et tirets seulement"),
]


@pytest.mark.parametrize(
    ("lot_format", "value", "message"),
    [(f, v, m) for f in FORMATS for v, m in MALFORMED]
    # FHIR preAuthRef is a string: the Claim's own validation refuses a number.
    + [(LotFormat.JSONL, 12345, "facture F-LOT-1 : numéro d'engagement, texte attendu")],
)
def test_malformed_engagement_refuses_the_lot_naming_invoice_and_field(
    attested: Family, lot_format: LotFormat, value: Any, message: str
) -> None:
    body = json.loads(body_of(lot_format, BILL, attested).splitlines()[-1])
    if lot_format == LotFormat.FHIR:
        body["entry"][0]["resource"]["insurance"][0]["preAuthRef"] = [value]
        raw = json.dumps(body).encode()
        parser: Any = FhirBatchParser(BASE)
        line_number = 1
    else:
        body["engagement"] = value
        header = body_of(lot_format, BILL, attested).splitlines()[0]
        raw = header + b"\n" + json.dumps(body).encode() + b"\n"
        parser = JsonLinesParser()
        line_number = 2
    _, invoices = parser.parse(io.BytesIO(raw))
    with pytest.raises(LotFormatError) as caught:
        list(invoices)
    assert (caught.value.line, caught.value.field, caught.value.detail) == (
        line_number,
        "engagement",
        message,
    )


@pytest.mark.parametrize("lot_format", FORMATS)
def test_engagement_is_read_and_survives_the_stored_payload(
    attested: Family, lot_format: LotFormat
) -> None:
    from tierspayant.invoices.lot_formats.codec import invoice_from_json, invoice_to_json

    bill = dataclasses.replace(BILL, engagement="ENG-MZXW6YTBOI3DEMRTGQ2TMNZYHE")
    parser: Any = FhirBatchParser(BASE) if lot_format == LotFormat.FHIR else JsonLinesParser()
    _, invoices = parser.parse(io.BytesIO(body_of(lot_format, bill, attested)))
    (parsed,) = list(invoices)
    assert parsed.invoice.engagement == "ENG-MZXW6YTBOI3DEMRTGQ2TMNZYHE"
    assert invoice_from_json(invoice_to_json(parsed.invoice)) == parsed.invoice
    assert "engagement" not in invoice_to_json(BILL)
