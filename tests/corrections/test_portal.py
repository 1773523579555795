"""The professional's invoice pages (issue 16 part 3): the list with states, the timeline,
cancel (confirmed) and dispute (reason) forms; another professional's invoice is a 404."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import totp_code
from tests.corrections.world import medicine, patient, pay, pharmacist, stored
from tests.factories import PASSWORD
from tierspayant.corrections import services
from tierspayant.corrections.models import LedgerEntry
from tierspayant.invoices.models import Invoice
from tierspayant.providers.models import Professional

pytestmark = pytest.mark.usefixtures("nomenclatures")


def signed_in(professional: Professional) -> Client:
    client = Client()
    client.post("/connexion/", {"username": professional.user.username, "password": PASSWORD})
    device = TOTPDevice.objects.get(user=professional.user)
    assert client.post("/connexion/code/", {"otp_token": totp_code(device)}).status_code == 302
    return client


def test_the_list_and_the_timeline() -> None:
    pro = pharmacist()
    row = stored(pro, patient(), medicine("F-1"))
    pay(row, row.received_at)
    client = signed_in(pro)
    listing = client.get("/suivi-factures/").content.decode()
    assert f'href="/suivi-factures/{row.pk}/"' in listing and "Payée" in listing
    page = client.get(f"/suivi-factures/{row.pk}/").content.decode()
    assert "Reçue" in page and "Acceptée" in page and "Payée" in page
    assert 'id="cancel"' in page and 'id="dispute"' in page


def test_cancel_needs_the_confirmation() -> None:
    pro = pharmacist()
    row = stored(pro, patient(), medicine("F-1"))
    pay(row, row.received_at)
    client = signed_in(pro)
    url = f"/suivi-factures/{row.pk}/annuler/"
    assert client.post(url, {"reason": "erreur"}).status_code == 400
    assert Invoice.objects.get(pk=row.pk).status == "paid"
    response = client.post(url, {"reason": "erreur", "confirm": "on"}, follow=True)
    assert "Facture F-1 annulée." in response.content.decode()
    assert Invoice.objects.get(pk=row.pk).status == "cancelled"
    assert LedgerEntry.objects.get().amount == row.total_amc
    event = Invoice.objects.get(pk=row.pk).events.order_by("-id").first()
    assert event is not None and event.actor_id == pro.user.pk


def test_a_dispute_and_the_decision_shown_to_the_professional() -> None:
    from django.contrib.auth.models import User
    from django.utils import timezone

    pro = pharmacist()
    row = stored(pro, patient(), medicine("F-1", total="99.00"), at=timezone.now())
    client = signed_in(pro)
    response = client.post(f"/suivi-factures/{row.pk}/contester/", {"reason": "total juste"})
    assert response.status_code == 302
    staff = User.objects.create_user("gestion", is_staff=True)
    services.decide_dispute(
        staff,
        Invoice.objects.get(pk=row.pk),
        upheld=True,
        reason="erreur de calcul",
        now=timezone.now(),
    )
    page = client.get(f"/suivi-factures/{row.pk}/").content.decode()
    assert "Contestation acceptée" in page and "erreur de calcul" in page
    assert "Acceptée" in page


def test_another_professionals_invoice_is_a_404() -> None:
    row = stored(pharmacist(), patient(), medicine("F-1"))
    client = signed_in(pharmacist())
    assert client.get(f"/suivi-factures/{row.pk}/").status_code == 404
    assert (
        client.post(
            f"/suivi-factures/{row.pk}/annuler/", {"reason": "x", "confirm": "on"}
        ).status_code
        == 404
    )
    assert client.post(f"/suivi-factures/{row.pk}/contester/", {"reason": "x"}).status_code == 404
    assert Invoice.objects.get(pk=row.pk).status == "accepted"
