"""An invoice's life as append-only events (issue 16 part 1): the state is derived from the
events, impossible transitions are refused, events are never changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.coverage.builders import TABLES_DIR
from tests.factories import make_beneficiary, make_professional
from tests.invoices.builders import invoice, line
from tierspayant.coverage import History, load_guarantee_table
from tierspayant.invoices import lifecycle
from tierspayant.invoices.choices import InvoiceEventKind as K
from tierspayant.invoices.models import Invoice, InvoiceEvent
from tierspayant.invoices.services import record_invoice
from tierspayant.providers.choices import Profession

NOW = dt.datetime(2025, 3, 14, 18, 30, tzinfo=dt.UTC)
TABLE = load_guarantee_table(TABLES_DIR / "essentiel.json")


@pytest.mark.parametrize(
    ("kinds", "state"),
    [
        (["received"], None),
        (["received", "acknowledged", "accepted"], "accepted"),
        (["received", "rejected"], "rejected"),
        (["received", "accepted", "paid"], "paid"),
        (["received", "accepted", "paid", "payment_returned"], "accepted"),
        (["received", "accepted", "paid", "payment_returned", "paid"], "paid"),
        (["received", "accepted", "cancelled"], "cancelled"),
        (["received", "accepted", "paid", "cancelled", "recovered"], "cancelled"),
        (["received", "accepted", "paid", "rectified", "written_off"], "rectified"),
        (["received", "rejected", "disputed"], "disputed"),
        (["received", "rejected", "disputed", "dispute_upheld"], "accepted"),
        (["received", "rejected", "disputed", "dispute_dismissed"], "rejected"),
        (["received", "accepted", "paid", "disputed", "dispute_upheld"], "paid"),
        (["received", "accepted", "paid", "disputed", "dispute_dismissed"], "paid"),
    ],
)
def test_state_is_derived_from_the_events(kinds: list[str], state: str | None) -> None:
    assert lifecycle.state_of(kinds) == state


@pytest.mark.parametrize(
    ("kinds", "refused"),
    [
        (["received", "rejected", "paid"], "paid"),
        (["received", "accepted", "paid", "paid"], "paid"),
        (["received", "accepted", "payment_returned"], "payment_returned"),
        (["received", "accepted", "cancelled", "cancelled"], "cancelled"),
        (["received", "rejected", "cancelled"], "cancelled"),
        (["received", "accepted", "recovered"], "recovered"),
        (["received", "accepted", "dispute_upheld"], "dispute_upheld"),
        (["received", "accepted", "accepted"], "accepted"),
    ],
)
def test_impossible_transitions_are_refused(kinds: list[str], refused: str) -> None:
    with pytest.raises(lifecycle.TransitionRefused) as caught:
        lifecycle.state_of(kinds, "F-9")
    assert caught.value.kind == refused
    assert str(caught.value).startswith("Facture F-9 : ")


@pytest.fixture
def stored(db: None) -> Invoice:
    pharmacist = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    beneficiary = make_beneficiary()
    row = record_invoice(
        invoice(line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33", franchise="1.00")),
        professional=pharmacist,
        beneficiary=beneficiary,
        table=TABLE,
        beneficiary_age=45,
        history=History(),
        now=NOW,
    )
    assert row.insurer_id == beneficiary.contract.insurer_id
    return row


@pytest.mark.usefixtures("nomenclatures")
def test_a_stored_invoice_has_its_first_events(stored: Invoice) -> None:
    rows = list(stored.events.values_list("kind", "at", "amount", "insurer_id"))
    assert rows == [
        ("received", NOW, None, stored.insurer_id),
        ("accepted", NOW, Decimal("4.48"), stored.insurer_id),
    ]
    assert lifecycle.derived_state(stored) == stored.status == "accepted"


@pytest.mark.usefixtures("nomenclatures")
def test_append_updates_the_cached_state_and_refuses_the_impossible(stored: Invoice) -> None:
    later = NOW + dt.timedelta(days=2)
    lifecycle.append_event(
        stored,
        K.PAID,
        at=later,
        detail=lifecycle.EventDetail(amount=Decimal("4.48"), reference="RUN-1-1"),
    )
    stored.refresh_from_db()
    assert stored.status == "paid" == lifecycle.derived_state(stored)
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.append_event(stored, K.PAID, at=later)
    assert stored.events.count() == 3


@pytest.mark.usefixtures("nomenclatures")
def test_events_are_never_changed_or_deleted(stored: Invoice) -> None:
    event = stored.events.first()
    assert event is not None
    event.reason = "changé"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        InvoiceEvent.objects.filter(invoice=stored).update(reason="changé")
    with pytest.raises(TypeError):
        InvoiceEvent.objects.filter(invoice=stored).delete()
    assert InvoiceEvent.objects.filter(invoice=stored, reason="").count() == 2


@pytest.mark.usefixtures("nomenclatures")
@pytest.mark.parametrize("kind", [K.DISPUTE_UPHELD, K.DISPUTE_DISMISSED])
def test_a_decision_without_a_dispute_is_refused(stored: Invoice, kind: str) -> None:
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.append_event(stored, kind, at=NOW)
    assert stored.events.count() == 2
