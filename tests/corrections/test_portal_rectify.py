"""The professional rectifies an invoice in the portal (issue 16 part 3): the form
pre-filled from the original, the replacement stored accepted and priced, the original
rectified (with an overpayment when it was paid), refusals naming the field and storing
nothing, another professional's invoice a 404."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tests.corrections.test_portal import signed_in
from tests.corrections.world import medicine, patient, pay, pharmacist, stored
from tierspayant.corrections.models import LedgerEntry
from tierspayant.invoices.models import BilledInvoice, Invoice, InvoiceEvent

pytestmark = pytest.mark.usefixtures("nomenclatures")


def posted(row: Invoice, **changes: Any) -> dict[str, str]:
    """The form as the page offers it for ``row`` (one line + 2 empty rows), with
    ``changes`` (``rect-...`` header fields, ``lignes-0-...`` line boxes) applied."""
    line = row.lines.get()
    data = {
        "rect-invoice_number": "F-1R",
        "rect-care_date": row.care_date.isoformat(),
        "rect-reason": "Quantité erronée",
        "lignes-TOTAL_FORMS": "3",
        "lignes-INITIAL_FORMS": "1",
        "lignes-MIN_NUM_FORMS": "0",
        "lignes-MAX_NUM_FORMS": "3",
        "lignes-0-code_system": line.code_system,
        "lignes-0-code": line.code,
        "lignes-0-quantity": str(line.quantity),
        "lignes-0-unit_price": str(line.unit_price),
        "lignes-0-billed": str(line.billed),
        "lignes-0-br": str(line.br),
        "lignes-0-amo_rate": str(line.amo_rate),
        "lignes-0-amo_paid": str(line.amo_paid),
        "lignes-0-participation_forfaitaire": str(line.participation_forfaitaire),
        "lignes-0-franchise": str(line.franchise),
    }
    for index in (1, 2):
        data[f"lignes-{index}-code_system"] = ""
        data[f"lignes-{index}-code"] = ""
    data.update(changes)
    return data


def two_boxes() -> dict[str, str]:
    """Line 1 becomes two boxes of 12.81 € at 65 % (AMO 16.65 - 1.00 franchise)."""
    return {
        "lignes-0-quantity": "2",
        "lignes-0-billed": "25,62",
        "lignes-0-br": "25.62",
        "lignes-0-amo_paid": "15.65",
    }


def test_the_form_is_pre_filled_from_the_original() -> None:
    pro = pharmacist()
    row = stored(pro, patient(), medicine("F-1"))
    page = signed_in(pro).get(f"/suivi-factures/{row.pk}/").content.decode()
    assert "Rectifier la facture" in page and 'id="rectify"' in page
    assert 'name="lignes-0-code" value="3400936963504"' in page
    assert 'name="lignes-0-unit_price" value="12.81"' in page
    assert 'name="lignes-0-amo_rate" value="65.00"' in page
    assert 'name="lignes-0-franchise" value="1.00"' in page
    assert 'name="lignes-TOTAL_FORMS" value="3"' in page
    assert 'name="lignes-2-code"' in page and 'name="lignes-3-code"' not in page
    assert 'name="rect-care_date" value="2025-03-14"' in page


@pytest.mark.parametrize("paid", [False, True], ids=["accepted", "paid"])
def test_a_rectification_replaces_the_invoice(paid: bool) -> None:
    pro = pharmacist()
    row = stored(pro, patient(), medicine("F-1"))
    if paid:
        pay(row, row.received_at)
    client = signed_in(pro)
    response = client.post(
        f"/suivi-factures/{row.pk}/rectifier/", posted(row, **two_boxes()), follow=True
    )
    new = Invoice.objects.get(invoice_number="F-1R")
    assert response.redirect_chain == [(f"/suivi-factures/{new.pk}/", 302)]
    assert (new.status, new.total_billed, new.total_amo) == (
        "accepted",
        Decimal("25.62"),
        Decimal("15.65"),
    )
    assert new.total_amc == Decimal("8.97")  # 35 % of 25.62, the franchise not covered
    assert new.beneficiary_id == row.beneficiary_id and new.lines.get().quantity == 2
    page = response.content.decode()
    assert "Facture F-1 rectifiée par la facture F-1R." in page
    assert f'remplace la facture <a href="/suivi-factures/{row.pk}/">F-1</a>' in page
    original = Invoice.objects.get(pk=row.pk)
    assert original.status == "rectified"
    event = original.events.order_by("-id").first()
    assert event is not None and (event.kind, event.related_id, event.actor_id) == (
        "rectified",
        new.pk,
        pro.user.pk,
    )
    ledger = list(LedgerEntry.objects.values_list("invoice_id", "kind", "amount"))
    assert ledger == ([(row.pk, "overpayment", Decimal("4.48"))] if paid else [])
    before = client.get(f"/suivi-factures/{row.pk}/").content.decode()
    assert f'rectifiée par la facture <a href="/suivi-factures/{new.pk}/">F-1R</a>' in before
    assert 'id="rectify"' not in before and 'id="cancel"' not in before


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"rect-invoice_number": "F-1"}, "la facture rectificative doit porter un autre numéro"),
        ({"rect-invoice_number": ""}, "Ce champ est obligatoire"),
        ({"rect-reason": ""}, "Ce champ est obligatoire"),
        ({"lignes-0-unit_price": "douze"}, "Ligne 1, prix unitaire (€) : Saisissez un nombre."),
        ({"lignes-0-quantity": "0"}, "Ligne 1, quantité : "),
        ({"lignes-1-code": "3400936963504"}, "Ligne 2, système de codage : Valeur requise."),
        (
            {f"lignes-0-{name}": "" for name in ("code_system", "code", "quantity", "unit_price")}
            | {
                f"lignes-0-{name}": ""
                for name in (
                    "billed",
                    "br",
                    "amo_rate",
                    "amo_paid",
                    "participation_forfaitaire",
                    "franchise",
                )
            },
            "Lignes : indiquez au moins une ligne.",
        ),
        (
            {"lignes-0-billed": "13.00"},
            "Facture rectificative : Facture F-1 : la facture rectificative F-1R est rejetée",
        ),
    ],
    ids=[
        "same-number",
        "no-number",
        "no-reason",
        "bad-amount",
        "zero-quantity",
        "incomplete-row",
        "no-line",
        "rejected",
    ],
)
def test_a_refused_rectification_names_the_field_and_stores_nothing(
    changes: dict[str, str], expected: str
) -> None:
    pro = pharmacist()
    row = stored(pro, patient(), medicine("F-1"))
    events = InvoiceEvent.objects.count()
    client = signed_in(pro)
    response = client.post(f"/suivi-factures/{row.pk}/rectifier/", posted(row, **changes))
    assert response.status_code == 400
    page = response.content.decode().replace("&#x27;", "'")
    assert expected in page
    assert Invoice.objects.get(pk=row.pk).status == "accepted"
    assert list(Invoice.objects.values_list("invoice_number", flat=True)) == ["F-1"]
    assert InvoiceEvent.objects.count() == events
    assert list(BilledInvoice.objects.values_list("invoice_number", flat=True)) == ["F-1"]
    assert not LedgerEntry.objects.exists()


def test_the_number_of_another_invoice_is_refused_on_its_field() -> None:
    pro = pharmacist()
    beneficiary = patient()
    row = stored(pro, beneficiary, medicine("F-1"))
    stored(pro, beneficiary, medicine("F-2", unit="10.00"))
    response = signed_in(pro).post(
        f"/suivi-factures/{row.pk}/rectifier/", posted(row, **{"rect-invoice_number": "F-2"})
    )
    assert response.status_code == 400
    assert "le numéro F-2 est déjà utilisé" in response.content.decode()
    assert response.context["rectify_form"].errors["invoice_number"]
    assert Invoice.objects.get(pk=row.pk).status == "accepted"


def test_another_professionals_invoice_is_a_404_and_a_get_is_refused() -> None:
    row = stored(pharmacist(), patient(), medicine("F-1"))
    client = signed_in(pharmacist())
    url = f"/suivi-factures/{row.pk}/rectifier/"
    assert client.post(url, posted(row, **two_boxes())).status_code == 404
    assert client.get(url).status_code == 405
    assert Invoice.objects.count() == 1 and Invoice.objects.get().status == "accepted"


def test_the_post_needs_the_csrf_token() -> None:
    pro = pharmacist()
    row = stored(pro, patient(), medicine("F-1"))
    client = signed_in(pro)
    client.handler.enforce_csrf_checks = True
    response = client.post(f"/suivi-factures/{row.pk}/rectifier/", posted(row, **two_boxes()))
    assert response.status_code == 403
    assert Invoice.objects.count() == 1


def test_a_signed_out_visitor_is_sent_to_sign_in() -> None:
    row = stored(pharmacist(), patient(), medicine("F-1"))
    response = Client().post(f"/suivi-factures/{row.pk}/rectifier/", posted(row))
    assert response.status_code == 302 and "/connexion/" in response["Location"]
    assert Invoice.objects.count() == 1


@pytest.mark.parametrize(
    "tampered",
    [
        {"lignes-TOTAL_FORMS": None},
        {"lignes-TOTAL_FORMS": "100000"},
        {"lignes-0-unit_price": "NaN"},
        {"lignes-0-billed": "1e12"},
        {"lignes-0-code_system": "XYZ"},
        {"rect-care_date": "2025-02-30"},
    ],
    ids=["no-management-form", "too-many-rows", "nan", "huge", "unknown-system", "bad-date"],
)
def test_a_tampered_post_is_a_form_error_never_a_500(tampered: dict[str, str | None]) -> None:
    pro = pharmacist()
    row = stored(pro, patient(), medicine("F-1"))
    data = posted(row, **two_boxes())
    for name, value in tampered.items():
        if value is None:
            data.pop(name)
        else:
            data[name] = value
    response = signed_in(pro).post(f"/suivi-factures/{row.pk}/rectifier/", data)
    assert response.status_code == 400
    assert (
        'id="rectify-errors"' in response.content.decode()
        or response.context["rectify_form"].errors
    )
    assert Invoice.objects.count() == 1 and Invoice.objects.get().status == "accepted"


def test_an_invoice_cancelled_meanwhile_is_not_rectified() -> None:
    pro = pharmacist()
    row = stored(pro, patient(), medicine("F-1"))
    client = signed_in(pro)
    client.post(f"/suivi-factures/{row.pk}/annuler/", {"reason": "doublon", "confirm": "on"})
    response = client.post(
        f"/suivi-factures/{row.pk}/rectifier/", posted(row, **two_boxes()), follow=True
    )
    assert response.redirect_chain == [(f"/suivi-factures/{row.pk}/", 302)]
    page = response.content.decode()
    assert "Facture F-1 : « Rectifiée » est impossible sur une facture annulée." in page
    assert 'id="rectify"' not in page
    assert Invoice.objects.count() == 1 and Invoice.objects.get().status == "cancelled"
