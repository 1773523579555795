"""Back-office of corrections (issue 16 part 4): the dispute queue and its decision, the
ledger's balances and the write-off (reason required, never beyond what is owed, step-up).
Insurer staff's scope is walked by tests/test_access_walk.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.auth_helpers import staff_with_passkey
from tests.corrections.world import medicine, patient, pay, pharmacist, stored
from tests.factories import PASSWORD
from tierspayant.corrections import services
from tierspayant.corrections.models import LedgerEntry
from tierspayant.corrections.selectors import balance
from tierspayant.invoices.models import Invoice

pytestmark = pytest.mark.usefixtures("nomenclatures")


def _staff(*codenames: str) -> Client:
    user = get_user_model().objects.create_user(
        username="gestion.indus", password=PASSWORD, is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["corrections", "invoices"], codename__in=codenames
        )
    )
    return staff_with_passkey(user)


ALL = ("view_ledgerentry", "view_invoice", "decide_dispute", "write_off")


@pytest.fixture
def disputes() -> list[Invoice]:
    """Two rejected invoices disputed 40 and 5 days ago (the first one overdue)."""
    pro, who = pharmacist(), patient()
    now = timezone.now()
    rows = []
    for number, unit, days in (("F-A", "12.81", 40), ("F-B", "13.81", 5)):
        at = now - dt.timedelta(days=days)
        rows.append(stored(pro, who, medicine(number, unit=unit, total="99.00"), at=at))
        services.dispute_invoice(pro, number, reason=f"contestation {number}", now=at)
    return rows


def test_the_queue_shows_overdue_disputes_first(disputes: list[Invoice]) -> None:
    client = _staff(*ALL)
    html = client.get(reverse("admin:corrections_disputes")).content.decode()
    assert html.index("contestation F-A") < html.index("contestation F-B")
    assert html.count("<strong>— en retard</strong>") == 1
    assert html.count("Décider</a>") == 2


def test_staff_uphold_a_dispute_with_a_reason(disputes: list[Invoice]) -> None:
    client = _staff(*ALL)
    url = reverse("admin:corrections_decide", args=[disputes[1].pk])
    assert client.post(url, {"decision": "upheld", "reason": ""}).status_code == 400
    response = client.post(url, {"decision": "upheld", "reason": "pièce reçue"})
    assert response.status_code == 302
    row = Invoice.objects.get(pk=disputes[1].pk)
    assert row.status == "accepted"
    last = row.events.order_by("-id").first()
    assert last is not None
    assert (last.kind, last.reason, last.actor_kind) == ("dispute_upheld", "pièce reçue", "staff")
    again = client.post(url, {"decision": "upheld", "reason": "encore"})
    assert again.status_code == 409  # no longer disputed: refused, said on the page
    assert row.events.count() == 4


def test_deciding_needs_the_permission(disputes: list[Invoice]) -> None:
    client = _staff("view_ledgerentry", "view_invoice")
    url = reverse("admin:corrections_decide", args=[disputes[0].pk])
    assert client.post(url, {"decision": "upheld", "reason": "x"}).status_code == 403
    assert Invoice.objects.get(pk=disputes[0].pk).status == "disputed"


@pytest.fixture
def owed() -> Invoice:
    """A paid invoice cancelled: 4.48 € owed back."""
    pro = pharmacist()
    row = stored(pro, patient(), medicine("F-1"))
    pay(row, timezone.now())
    services.cancel_invoice(pro, "F-1", reason="erreur", now=timezone.now())
    return row


def test_balances_list_what_is_owed(owed: Invoice) -> None:
    html = _staff(*ALL).get(reverse("admin:corrections_balances")).content.decode()
    assert "4,48 €" in html and "F-1" in html
    assert reverse("admin:corrections_write_off", args=[owed.pk]) in html


def test_write_off_beyond_the_balance_is_refused_then_done(owed: Invoice) -> None:
    client = _staff(*ALL)
    url = reverse("admin:corrections_write_off", args=[owed.pk])
    refused = client.post(url, {"amount": "4.49", "reason": "irrécouvrable"})
    assert refused.status_code == 400
    assert "dépasse l&#x27;indu restant dû (4.48 €)" in refused.content.decode()
    assert client.post(url, {"amount": "4.48", "reason": ""}).status_code == 400
    assert LedgerEntry.objects.count() == 1
    done = client.post(url, {"amount": "4.48", "reason": "irrécouvrable"})
    assert done.status_code == 302
    assert balance(owed.professional_id, owed.insurer_id) == Decimal("0.00")
    entry = LedgerEntry.objects.order_by("-id").first()
    assert entry is not None and (entry.kind, entry.amount) == ("written_off", Decimal("-4.48"))


def test_write_off_asks_for_a_recent_passkey(owed: Invoice, settings) -> None:
    client = _staff(*ALL)
    settings.TIERSPAYANT_STEP_UP_SECONDS = 0  # the check made at sign-in is no longer recent
    url = reverse("admin:corrections_write_off", args=[owed.pk])
    response = client.post(url, {"amount": "1.00", "reason": "irrécouvrable"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:step-up"))
    assert LedgerEntry.objects.count() == 1
