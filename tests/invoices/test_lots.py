"""Lots through the flat file: each profession's typical invoice with its AMC and remaining
cost per line, the acknowledgement (whole lot refused, nothing stored), invoices rejected
one by one without blocking the others, identification through the rights check."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.conf import settings

from tests.factories import make_professional, new_nir
from tests.invoices.builders import invoice, line
from tests.invoices.lot_builders import BORN, NOW, jsonl, make_patient, receive, results, send
from tests.invoices.test_typical_invoices import CASES
from tierspayant.audit.choices import Channel, Purpose
from tierspayant.audit.models import DisclosureLog
from tierspayant.audit.services import RequestContext
from tierspayant.eligibility.services import RightsCheckInput, check_rights
from tierspayant.guard.policy import DEFAULT_POLICY
from tierspayant.guard.selectors import follow_up_counts
from tierspayant.invoices.choices import LotFormat
from tierspayant.invoices.lot_formats import LotFormatError
from tierspayant.invoices.models import Invoice, Lot, LotEntry
from tierspayant.providers.choices import Profession
from tierspayant.providers.identifiers import luhn_complete

pytestmark = pytest.mark.usefixtures("nomenclatures")

PROFESSIONS = {
    "50": Profession.PHARMACIST,
    "30": Profession.LABORATORY,
    "24": Profession.NURSE,
    "26": Profession.PHYSIOTHERAPIST,
}
FINESS = "750000010"


def professional_for(specialty: str):  # type: ignore[no-untyped-def]
    if not specialty:
        return make_professional(
            profession=Profession.HOSPITAL, rpps="", finess=luhn_complete(FINESS[:8])
        )
    return make_professional(
        profession=PROFESSIONS.get(specialty, Profession.PHYSICIAN), specialty_code=specialty
    )


@pytest.mark.parametrize(
    ("name", "specialty", "table_id", "bill", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_typical_invoice_through_a_lot(name, specialty, table_id, bill, expected) -> None:  # type: ignore[no-untyped-def]
    """The invoice of each profession sent in a lot: stored accepted, with the AMO amount as
    stated, the AMC share and the remaining cost of each line."""
    professional = professional_for(specialty)
    patient = make_patient(table_id)
    lot = send(professional, jsonl([(bill, patient.card())]))
    assert (lot.status, lot.processed_count, lot.accepted_count, lot.rejected_count) == (
        "done",
        1,
        1,
        0,
    )
    entry = lot.entries.get()
    assert entry.identity_ciphertext == ""  # the card's identity is not kept once adjudicated
    stored = entry.invoice
    assert stored is not None and stored.lot_id == lot.pk
    got = [(r.family, str(r.amo_paid), str(r.amc), str(r.rac)) for r in stored.lines.all()]
    assert got == expected
    assert lot.total_amc == sum((Decimal(e[2]) for e in expected), Decimal("0.00"))


def _pharmacy(number: str):  # type: ignore[no-untyped-def]
    return invoice(
        line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33", franchise="1.00"),
        line("CIP13", "3400933783310", "3.17", rate="30", amo="0.95"),
        number=number,
    )


@pytest.fixture
def pharmacist(db: None):  # type: ignore[no-untyped-def]
    return make_professional(profession=Profession.PHARMACIST, specialty_code="50")


def test_rejected_invoices_do_not_block_the_others(pharmacist) -> None:  # type: ignore[no-untyped-def]
    """Across chunks (2 invoices a chunk in tests): each invoice gets its own result."""
    patient, ended = make_patient(), make_patient(rights_end=NOW.date().replace(year=2024))
    bad_code = dataclasses.replace(
        _pharmacy("F-3"),
        lines=(line("CIP13", "3400999999999", "3.17", rate="30", amo="0.95"),),
        total_billed=Decimal("3.17"),
        total_amo=Decimal("0.95"),
    )
    lot = send(
        pharmacist,
        jsonl(
            [
                (_pharmacy("F-1"), patient.card()),
                (_pharmacy("F-2"), patient.card(nir=new_nir(BORN))),
                (bad_code, patient.card()),
                (_pharmacy("F-4"), ended.card()),
                (_pharmacy("F-5"), patient.card(birth_date="1980-13-01")),
                (dataclasses.replace(_pharmacy("F-6"), care_date=NOW.date()), patient.card()),
            ]
        ),
    )
    assert results(lot) == [
        ("F-1", "accepted", []),
        ("F-2", "rejected", ["BENEFICIARY_UNKNOWN"]),
        ("F-3", "rejected", ["UNKNOWN_CODE"]),
        ("F-4", "rejected", ["NO_RIGHTS_ON_DATE"]),
        ("F-5", "rejected", ["INVALID_IDENTITY"]),
        ("F-6", "accepted", []),
    ]
    assert (lot.processed_count, lot.accepted_count, lot.rejected_count) == (6, 2, 4)
    assert lot.total_amc == Decimal("13.40")  # 2 invoices x (4.48 + 2.22)
    message = lot.entries.get(invoice_number="F-3").reasons[0]["message"]
    assert message == (
        "Facture F-3, ligne 1, champ code : code inconnu de la nomenclature de son système de "
        "codage."
    )
    assert lot.entries.get(invoice_number="F-4").reasons[0]["field"] == "care_date"


def test_each_invoice_is_identified_through_the_gate(pharmacist) -> None:  # type: ignore[no-untyped-def]
    """One disclosure-log row per invoice, purpose « invoice », naming the beneficiary."""
    patient = make_patient()
    send(
        pharmacist,
        jsonl(
            [
                (_pharmacy("F-1"), patient.card()),
                (_pharmacy("F-2"), patient.card(nir=new_nir(BORN))),
            ]
        ),
    )
    rows = DisclosureLog.objects.filter(professional=pharmacist).order_by("id")
    assert [(r.purpose, r.outcome, r.beneficiary_id) for r in rows] == [
        (Purpose.INVOICE, "covered", patient.beneficiary.pk),
        (Purpose.INVOICE, "no_match", None),
    ]


BAD_LOTS = [
    (
        "not-json",
        b'{"lot": "L", "count": 1, "total_billed": "1.00"}\nnot json\n',
        "LOT_UNREADABLE",
        2,
        "",
    ),
    (
        "truncated",
        b'{"lot": "L", "count": 1, "total_billed": "1.00"}\n{"invoice_number": "F',
        "LOT_TRUNCATED",
        2,
        "",
    ),
    ("empty", b"", "LOT_EMPTY", 1, ""),
    ("no-header", b'{"invoice_number": "F-1"}\n', "LOT_UNREADABLE", 1, "lot"),
    ("bad-amount", None, "LOT_UNREADABLE", 2, "lines[0].billed"),
    ("count-too-high", 3, "LOT_COUNT_MISMATCH", None, "count"),
    ("count-too-low", 1, "LOT_COUNT_MISMATCH", None, "count"),
    ("total-mismatch", "99.99", "LOT_TOTAL_MISMATCH", None, "total_billed"),
]


@pytest.mark.parametrize(
    ("name", "change", "code", "line_no", "field"), BAD_LOTS, ids=[c[0] for c in BAD_LOTS]
)
def test_a_bad_lot_is_refused_whole(pharmacist, name, change, code, line_no, field) -> None:  # type: ignore[no-untyped-def]
    patient = make_patient()
    two = [(_pharmacy("F-1"), patient.card()), (_pharmacy("F-2"), patient.card())]
    if isinstance(change, bytes):
        body = change
    elif change is None:
        body = jsonl(two).replace(b'"billed": "12.81"', b'"billed": "douze"', 1)
    elif isinstance(change, int):
        body = jsonl(two, count=change)
    else:
        body = jsonl(two, total=change)
    with pytest.raises(LotFormatError) as caught:
        receive(pharmacist, body)
    assert (caught.value.refusal.value, caught.value.line, caught.value.field) == (
        code,
        line_no,
        field,
    )
    assert str(caught.value)  # a French message naming where
    assert (Lot.objects.count(), LotEntry.objects.count(), Invoice.objects.count()) == (0, 0, 0)


def test_the_acknowledgement_stores_the_lot_pending(pharmacist) -> None:  # type: ignore[no-untyped-def]
    patient = make_patient()
    lot = receive(
        pharmacist, jsonl([(_pharmacy("F-1"), patient.card()), (_pharmacy("F-2"), patient.card())])
    )
    assert (lot.status, lot.declared_count, lot.declared_total, lot.line_count) == (
        "received",
        2,
        Decimal("31.96"),
        4,
    )
    entries = list(lot.entries.all())
    assert [e.status for e in entries] == ["pending", "pending"]
    assert patient.nir not in entries[0].identity_ciphertext  # encrypted while pending
    assert patient.nir not in str(entries[0].payload)
    assert DisclosureLog.objects.count() == 0  # nobody identified before adjudication


def test_lot_format_value_is_stored(pharmacist) -> None:  # type: ignore[no-untyped-def]
    lot = receive(pharmacist, jsonl([(_pharmacy("F-1"), make_patient().card())]))
    assert lot.format == LotFormat.JSONL


def test_a_lot_follows_up_the_lookups_before_it(pharmacist) -> None:  # type: ignore[no-untyped-def]
    """Issue 18 part 1 with a real lot: three rights checks in the morning, then a lot of
    invoices for two of those patients; the guard's follow-up signal counts the lot's
    identifications (purpose « invoice ») as the follow-up of two lookups out of three."""
    patients = [make_patient() for _ in range(3)]
    morning = NOW - dt.timedelta(hours=2)
    for patient in patients:
        result = check_rights(
            settings.TIERSPAYANT_KEYRING,
            professional=pharmacist,
            query=RightsCheckInput(nir=patient.nir, birth_date=patient.born),
            context=RequestContext(
                channel=Channel.API,
                request_id=uuid.uuid4(),
                ip="10.20.0.5",
                user_agent="LGO/1.0",
                actor_id=pharmacist.user_id,
            ),
            now=morning,
            today=morning.date(),
            quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
        )
        assert result.outcome == "covered"
    lot = send(
        pharmacist,
        jsonl([(_pharmacy(f"F-{n}"), p.card()) for n, p in enumerate(patients[:2], start=1)]),
    )
    assert lot.accepted_count == 2
    counts = follow_up_counts(
        professional_id=pharmacist.pk,
        since=morning - dt.timedelta(hours=1),
        until=NOW + dt.timedelta(hours=1),
        window=dt.timedelta(minutes=DEFAULT_POLICY.follow_up_window_minutes),
    )
    assert (counts.lookups, counts.followed) == (3, 2)
