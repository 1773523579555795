"""Cancellation, rectification, disputes and write-off through the services (issue 16
parts 1, 3, 4): each transition allowed or refused, the ledger written exactly, nothing
half-written on a refusal."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from tests.corrections.world import NOW, TABLES_DIR, medicine, patient, pay, pharmacist, stored
from tierspayant.corrections import services
from tierspayant.corrections.models import LedgerEntry
from tierspayant.corrections.selectors import balance, open_disputes
from tierspayant.invoices import lifecycle
from tierspayant.invoices.choices import InvoiceEventKind as K
from tierspayant.invoices.models import BilledInvoice, Invoice, InvoiceEvent

pytestmark = pytest.mark.usefixtures("nomenclatures")

LATER = NOW + dt.timedelta(days=10)
KEYS = settings.TIERSPAYANT_KEYRING.encryption


def _counts() -> tuple[int, int, int, int]:
    return (
        Invoice.objects.count(),
        InvoiceEvent.objects.count(),
        LedgerEntry.objects.count(),
        BilledInvoice.objects.count(),
    )


def _kinds(row: Invoice) -> list[str]:
    return list(row.events.order_by("id").values_list("kind", flat=True))


def _in_state(state: str):  # type: ignore[no-untyped-def]
    """A stored invoice brought to ``state`` through the lifecycle."""
    pro, who = pharmacist(), patient()
    if state == "rejected":
        return stored(pro, who, medicine("F-1", total="99.00"))
    row = stored(pro, who, medicine("F-1"))
    if state in ("paid", "cancelled", "rectified", "disputed"):
        pay(row, NOW + dt.timedelta(days=3))
    if state == "cancelled":
        services.cancel_invoice(pro, "F-1", reason="erreur", now=LATER)
    if state == "rectified":
        services.rectify_invoice(
            pro,
            "F-1",
            medicine("F-2"),
            reason="erreur",
            keys=KEYS,
            tables_dir=TABLES_DIR,
            now=LATER,
        )
    if state == "disputed":
        services.dispute_invoice(pro, "F-1", reason="montant", now=LATER)
    row.refresh_from_db()
    assert row.status == state
    return row


def _cancel(row: Invoice) -> object:
    return services.cancel_invoice(row.professional, "F-1", reason="erreur", now=LATER)


def _rectify(row: Invoice) -> object:
    return services.rectify_invoice(
        row.professional,
        "F-1",
        medicine("F-9", unit="13.81"),
        reason="prix",
        keys=KEYS,
        tables_dir=TABLES_DIR,
        now=LATER,
    )


def _dispute(row: Invoice) -> object:
    return services.dispute_invoice(row.professional, "F-1", reason="à revoir", now=LATER)


ACTIONS = {"cancel": _cancel, "rectify": _rectify, "dispute": _dispute}


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        ("accepted", "cancel", "cancelled"),
        ("paid", "cancel", "cancelled"),
        ("rejected", "cancel", None),
        ("cancelled", "cancel", None),
        ("rectified", "cancel", None),
        ("disputed", "cancel", None),
        ("accepted", "rectify", "rectified"),
        ("paid", "rectify", "rectified"),
        ("rejected", "rectify", None),
        ("cancelled", "rectify", None),
        ("rectified", "rectify", None),
        ("disputed", "rectify", None),
        ("rejected", "dispute", "disputed"),
        ("paid", "dispute", "disputed"),
        ("accepted", "dispute", None),
        ("cancelled", "dispute", None),
        ("rectified", "dispute", None),
        ("disputed", "dispute", None),
    ],
)
def test_each_transition_is_allowed_or_refused(state: str, action: str, after: str | None) -> None:
    row = _in_state(state)
    before = _counts()
    if after is None:
        with pytest.raises(lifecycle.TransitionRefused) as refused:
            ACTIONS[action](row)
        assert str(refused.value).startswith("Facture F-1 : ")
        assert _counts() == before  # nothing half-written
    else:
        ACTIONS[action](row)
    row.refresh_from_db()
    assert row.status == (after or state) == lifecycle.derived_state(row)


def test_cancel_before_payment_voids_it() -> None:
    row = _in_state("accepted")
    done = services.cancel_invoice(row.professional, "F-1", reason="doublon", now=LATER)
    assert done.entry is None
    assert done.event.kind == "cancelled" and done.event.actor_kind == "professional"
    assert done.event.reason == "doublon" and done.event.amount is None
    assert LedgerEntry.objects.count() == 0
    assert Invoice.objects.get(pk=row.pk).status == "cancelled"
    # Its number stays taken; its content no longer blocks a corrected invoice of the care.
    billed = BilledInvoice.objects.get(invoice_number="F-1")
    assert billed.content_key == f"cancelled:{row.pk}"


def test_cancel_after_payment_owes_back_exactly_the_amc_paid() -> None:
    row = _in_state("accepted")
    assert row.total_amc == Decimal("4.48")
    pay(row, NOW + dt.timedelta(days=3), amount=Decimal("4.48"))
    done = services.cancel_invoice(row.professional, "F-1", reason="patient absent", now=LATER)
    entry = done.entry
    assert entry is not None
    assert (entry.kind, entry.amount, entry.invoice_id, entry.insurer_id) == (
        "overpayment",
        Decimal("4.48"),
        row.pk,
        row.insurer_id,
    )
    assert balance(row.professional_id, row.insurer_id) == Decimal("4.48")
    assert _kinds(row) == ["received", "accepted", "paid", "cancelled"]


def test_a_returned_transfer_leaves_nothing_to_owe_back() -> None:
    row = _in_state("paid")
    lifecycle.append_event(row, K.PAYMENT_RETURNED, at=LATER, detail=lifecycle.EventDetail())
    row.refresh_from_db()
    done = services.cancel_invoice(row.professional, "F-1", reason="erreur", now=LATER)
    row.refresh_from_db()
    assert done.entry is None and row.status == "cancelled"


def test_rectifying_a_paid_invoice_stores_the_replacement_and_the_overpayment() -> None:
    row = _in_state("paid")
    done = services.rectify_invoice(
        row.professional,
        "F-1",
        medicine("F-1-R", unit="13.81"),
        reason="prix unitaire",
        keys=KEYS,
        tables_dir=TABLES_DIR,
        now=LATER,
    )
    replacement = done.replacement
    assert replacement is not None
    assert (replacement.status, replacement.beneficiary_id) == ("accepted", row.beneficiary_id)
    assert replacement.total_amc == Decimal("4.83")
    assert _kinds(replacement) == ["received", "accepted"]
    assert (done.event.kind, done.event.related_id, done.event.reference) == (
        "rectified",
        replacement.pk,
        "F-1-R",
    )
    assert done.entry is not None and done.entry.amount == Decimal("4.48")
    assert BilledInvoice.objects.get(invoice_number="F-1-R").channel == "correction"


def test_the_same_care_may_be_rectified_without_being_a_duplicate() -> None:
    row = _in_state("accepted")
    same_care = dataclasses.replace(medicine("F-1"), invoice_number="F-1-R")
    done = services.rectify_invoice(
        row.professional, "F-1", same_care, reason="n°", keys=KEYS, tables_dir=TABLES_DIR, now=LATER
    )
    assert done.replacement is not None and done.entry is None
    original_key = BilledInvoice.objects.get(invoice_number="F-1").content_key
    assert original_key == f"rectified:{row.pk}"


@pytest.mark.parametrize(
    ("number", "unit", "total", "field"),
    [
        ("F-1", "13.81", None, "invoice.invoice_number"),  # the same number
        ("F-OTHER", "13.81", None, "invoice.invoice_number"),  # a number already used
        ("F-1-R", "14.81", None, "invoice.lines"),  # another invoice's care
        ("F-1-R", "13.81", "99.00", "invoice"),  # rejected by the checks
    ],
)
def test_a_refused_rectification_writes_nothing(
    number: str, unit: str, total: str | None, field: str
) -> None:
    row = _in_state("paid")
    stored(row.professional, row.beneficiary, medicine("F-OTHER", unit="14.81"))
    before = _counts()
    with pytest.raises(services.CorrectionRefused) as refused:
        services.rectify_invoice(
            row.professional,
            "F-1",
            medicine(number, unit=unit, total=total),
            reason="prix",
            keys=KEYS,
            tables_dir=TABLES_DIR,
            now=LATER,
        )
    assert refused.value.field == field
    assert refused.value.message.startswith("Facture F-1 : ")
    assert _counts() == before
    row.refresh_from_db()
    assert row.status == "paid"
    if total is not None:
        assert [p["code"] for p in refused.value.problems] == ["TOTAL_MISMATCH"]


def test_another_professionals_invoice_is_not_found() -> None:
    row = _in_state("accepted")
    stranger = pharmacist()
    for action in (
        lambda: services.cancel_invoice(stranger, "F-1", reason="x", now=LATER),
        lambda: services.dispute_invoice(stranger, "F-1", reason="x", now=LATER),
        lambda: services.rectify_invoice(
            stranger,
            "F-1",
            medicine("F-2"),
            reason="x",
            keys=KEYS,
            tables_dir=TABLES_DIR,
            now=LATER,
        ),
    ):
        with pytest.raises(services.InvoiceNotFound) as missing:
            action()
        assert missing.value.message == "Facture F-1 introuvable."
    assert _kinds(row) == ["received", "accepted"]


@pytest.mark.parametrize(
    ("event_at", "today", "allowed"),
    [
        (dt.datetime(2025, 3, 14, 9, tzinfo=dt.UTC), dt.date(2025, 5, 14), True),
        (dt.datetime(2025, 3, 14, 9, tzinfo=dt.UTC), dt.date(2025, 5, 15), False),
        (dt.datetime(2024, 12, 31, 9, tzinfo=dt.UTC), dt.date(2025, 2, 28), True),
        (dt.datetime(2024, 12, 31, 9, tzinfo=dt.UTC), dt.date(2025, 3, 1), False),
    ],
)
def test_a_dispute_is_allowed_for_two_months_after_the_payment(
    event_at: dt.datetime, today: dt.date, allowed: bool
) -> None:
    pro, who = pharmacist(), patient()
    row = stored(pro, who, medicine("F-1"), at=event_at - dt.timedelta(days=1))
    pay(row, event_at)
    now = dt.datetime.combine(today, dt.time(23, 0), tzinfo=dt.UTC)
    last_day = services.add_months(event_at.date(), 2)
    if allowed:
        done = services.dispute_invoice(pro, "F-1", reason="montant", now=now)
        assert done.event.deadline == today + dt.timedelta(days=30)
        return
    with pytest.raises(services.CorrectionRefused) as late:
        services.dispute_invoice(pro, "F-1", reason="montant", now=now)
    assert late.value.message == (
        f"Facture F-1 : le délai de contestation a expiré le {last_day:%d/%m/%Y}."
    )
    assert _kinds(row) == ["received", "accepted", "paid"]


@pytest.mark.parametrize(
    ("state", "upheld", "after"),
    [
        ("rejected", True, "accepted"),
        ("rejected", False, "rejected"),
        ("paid", True, "paid"),
        ("paid", False, "paid"),
    ],
)
def test_staff_decide_a_dispute(state: str, upheld: bool, after: str) -> None:
    row = _in_state(state)
    services.dispute_invoice(row.professional, "F-1", reason="à revoir", now=LATER)
    staff = User.objects.create_user("gestion", is_staff=True)
    done = services.decide_dispute(staff, row, upheld=upheld, reason="vu", now=LATER)
    row.refresh_from_db()
    assert row.status == after == lifecycle.derived_state(row)
    assert (done.event.actor_kind, done.event.reason) == ("staff", "vu")


def test_a_decision_needs_a_reason_and_an_open_dispute() -> None:
    row = _in_state("rejected")
    staff = User.objects.create_user("gestion", is_staff=True)
    with pytest.raises(lifecycle.TransitionRefused):
        services.decide_dispute(staff, row, upheld=True, reason="vu", now=LATER)
    services.dispute_invoice(row.professional, "F-1", reason="à revoir", now=LATER)
    with pytest.raises(services.CorrectionRefused) as refused:
        services.decide_dispute(staff, row, upheld=True, reason="  ", now=LATER)
    assert refused.value.field == "reason"
    row.refresh_from_db()
    assert row.status == "disputed"


def test_open_disputes_come_overdue_first() -> None:
    pro, who = pharmacist(), patient()
    first = stored(pro, who, medicine("F-A", total="99.00"))
    second = stored(pro, who, medicine("F-B", unit="13.81", total="99.00"))
    services.dispute_invoice(pro, "F-B", reason="x", now=NOW)  # deadline 13/04
    services.dispute_invoice(pro, "F-A", reason="x", now=LATER)  # deadline 23/04
    rows = open_disputes(Invoice.objects.all(), dt.date(2025, 4, 20))
    assert [(d.invoice.pk, d.overdue) for d in rows] == [(second.pk, True), (first.pk, False)]


def test_write_off_never_exceeds_what_is_owed() -> None:
    row = _in_state("cancelled")
    staff = User.objects.create_user("gestion", is_staff=True)
    before = _counts()
    for amount, reason, field in [
        (Decimal("4.49"), "irrécouvrable", "amount"),
        (Decimal("0"), "irrécouvrable", "amount"),
        (Decimal("1.001"), "irrécouvrable", "amount"),
        (Decimal("1.00"), "", "reason"),
    ]:
        with pytest.raises(services.CorrectionRefused) as refused:
            services.write_off(
                staff,
                row.professional,
                row.insurer,
                row,
                amount=amount,
                reason=reason,
                now=LATER,
            )
        assert refused.value.field == field
    assert _counts() == before
    done = services.write_off(
        staff,
        row.professional,
        row.insurer,
        row,
        amount=Decimal("4.48"),
        reason="irrécouvrable",
        now=LATER,
    )
    assert done.entry is not None and done.entry.amount == Decimal("-4.48")
    assert done.event.kind == "written_off" and done.event.amount == Decimal("4.48")
    assert balance(row.professional_id, row.insurer_id) == Decimal("0.00")
    with pytest.raises(services.CorrectionRefused):
        services.write_off(
            staff,
            row.professional,
            row.insurer,
            row,
            amount=Decimal("0.01"),
            reason="encore",
            now=LATER,
        )


@pytest.mark.parametrize(
    ("day", "months", "result"),
    [
        (dt.date(2025, 3, 14), 2, dt.date(2025, 5, 14)),
        (dt.date(2024, 12, 31), 2, dt.date(2025, 2, 28)),
        (dt.date(2023, 12, 31), 2, dt.date(2024, 2, 29)),
        (dt.date(2025, 11, 30), 2, dt.date(2026, 1, 30)),
    ],
)
def test_add_months(day: dt.date, months: int, result: dt.date) -> None:
    assert services.add_months(day, months) == result
