"""A pharmacist cancels an invoice in a real browser (Playwright driving Debian's Chromium)
and sees it cancelled, with the cancellation in its timeline."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.auth_helpers import browser_sign_in
from tests.corrections.world import medicine, patient, pharmacist, stored
from tests.test_browser import CHROMIUM_FLAGS, chromium_path

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("nomenclatures"),
]


def test_a_pharmacist_cancels_an_invoice(live_server) -> None:  # type: ignore[no-untyped-def]
    pro = pharmacist()
    row = stored(pro, patient(), medicine("PH-101"))

    from playwright.sync_api import sync_playwright

    device = TOTPDevice.objects.get(user=pro.user, confirmed=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = browser.new_page(locale="fr-FR")
        browser_sign_in(page, live_server.url, "/suivi-factures/", pro.user.username, device)
        assert "Acceptée" in page.inner_text("#invoices")

        page.click("text=PH-101")
        page.wait_for_url(f"**/suivi-factures/{row.pk}/")
        page.fill("#id_reason", "Facture saisie deux fois")
        page.check("#id_confirm")
        page.click("text=Annuler la facture >> nth=-1")
        page.wait_for_url(f"**/suivi-factures/{row.pk}/")
        assert "Annulée" in page.inner_text("#state")
        events = page.inner_text("#events")
        assert "Annulée" in events and "Facture saisie deux fois" in events
        assert page.locator("#cancel").count() == 0

        page.click("text=Toutes les factures")
        assert "Annulée" in page.inner_text("#invoices")
        browser.close()


def test_a_pharmacist_rectifies_an_invoice(live_server) -> None:  # type: ignore[no-untyped-def]
    pro = pharmacist()
    row = stored(pro, patient(), medicine("PH-201"))

    from playwright.sync_api import sync_playwright

    device = TOTPDevice.objects.get(user=pro.user, confirmed=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = browser.new_page(locale="fr-FR")
        browser_sign_in(
            page, live_server.url, f"/suivi-factures/{row.pk}/", pro.user.username, device
        )
        assert page.input_value("#id_lignes-0-code") == "3400936963504"

        page.fill("#id_rect-invoice_number", "PH-201R")
        page.fill("#id_rect-reason", "Deux boîtes délivrées, pas une")
        page.fill("#id_lignes-0-quantity", "2")
        page.fill("#id_lignes-0-billed", "25,62")
        page.fill("#id_lignes-0-br", "25,62")
        page.fill("#id_lignes-0-amo_paid", "15,65")
        page.click("text=Rectifier la facture >> nth=-1")
        page.wait_for_url("**/suivi-factures/*/")
        assert "PH-201R" in page.inner_text("h1")
        assert "Acceptée" in page.inner_text("#state")
        assert "remplace la facture PH-201" in page.inner_text("#replaces")

        page.click("#replaces >> text=PH-201")
        page.wait_for_url(f"**/suivi-factures/{row.pk}/")
        assert "Rectifiée" in page.inner_text("#state")
        assert "rectifiée par la facture PH-201R" in page.inner_text("#rectified-by")
        assert page.locator("#rectify").count() == 0
        browser.close()
