"""A pharmacist's returns in a real browser (Playwright driving Debian's Chromium): sign in
with TOTP, open *Retours*, see the paid line with its transfer reference and date, filter
by kind, and find the CSV link."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.auth_helpers import browser_sign_in
from tests.factories import make_beneficiary, make_professional
from tests.returns.builders import append, stored_invoice
from tests.test_browser import CHROMIUM_FLAGS, chromium_path
from tierspayant.invoices.choices import InvoiceEventKind as K
from tierspayant.providers.choices import Profession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

E2E = "RUN-20260305-000001-7"


def test_a_pharmacist_sees_a_paid_line_with_its_transfer(live_server) -> None:  # type: ignore[no-untyped-def]
    pharmacist = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    patient = make_beneficiary()
    invoice = stored_invoice(pharmacist, patient, "PH-101", amc="6.40")
    append(
        invoice,
        K.PAID,
        at=dt.datetime(2026, 3, 5, 22, 0, tzinfo=dt.UTC),
        amount=Decimal("6.40"),
        reference=E2E,
        value_date=dt.date(2026, 3, 6),
    )
    stored_invoice(pharmacist, patient, "PH-102", rejected=["TOTAL_MISMATCH"])

    from playwright.sync_api import sync_playwright

    device = TOTPDevice.objects.get(user=pharmacist.user, confirmed=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = browser.new_page(locale="fr-FR")
        browser_sign_in(page, live_server.url, "/retours/", pharmacist.user.username, device)

        assert page.inner_text("h1") == "Retours"
        paid_row = page.locator("tr", has_text=E2E)
        assert paid_row.count() == 1
        row = paid_row.inner_text()
        assert "Payée" in row and "PH-101" in row and "06/03/2026" in row and "6,40 €" in row
        rejected = page.locator("tr", has_text="PH-102").inner_text()
        assert "Rejetée" in rejected
        assert "Total de la facture différent de la somme des lignes." in rejected

        page.select_option("#type", "paid")
        page.click("text=Filtrer")
        page.wait_for_url("**/retours/?type=paid")
        table = page.inner_text("table")
        assert E2E in table and "PH-102" not in table
        assert page.get_attribute("text=Télécharger en CSV", "href") == (
            "/retours/retours.csv?type=paid"
        )
        browser.close()
