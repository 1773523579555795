"""The money loop in a real browser (Playwright driving Debian's Chromium): a pharmacist
opens an invoice a real run paid, cancels it (confirmation box), the next real run (with a
new accepted invoice) nets the overpayment, and the pharmacist finds on "Paiements" the new
statement with the cancelled invoice on a negative "Indu récupéré" line."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.auth_helpers import browser_sign_in
from tests.care.conftest import french_iban
from tests.corrections.world import patient, pharmacist
from tests.factories import make_accepted_invoice
from tests.test_browser import CHROMIUM_FLAGS, chromium_path
from tierspayant.corrections.selectors import balance
from tierspayant.invoices.choices import InvoiceStatus
from tierspayant.payments.models import PaymentRun, Transfer
from tierspayant.payments.sepa import Debtor
from tierspayant.providers.banking import register_first_bank_account
from tierspayant.settlement.services import run_with_settlement, settlement_config

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _run(output: Path, now: datetime.datetime) -> PaymentRun:
    return run_with_settlement(
        config=settlement_config(settings),
        debtor=Debtor("Operateur", french_iban("30002", "00550", "0000157841Z"), "CRLYFRPP"),
        output_dir=output,
        now=now,
        execution_date=now.date(),
    ).run


def test_a_cancelled_paid_invoice_is_netted_on_the_next_statement(
    live_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pro = pharmacist()
    register_first_bank_account(
        settings.TIERSPAYANT_KEYRING.encryption,
        professional=pro,
        iban=french_iban("30004", "00003", "12345678901"),
        bic="BNPAFRPP",
        holder_name="Pharmacie de la Gare",
        now=timezone.now() - datetime.timedelta(days=30),
    )
    member = patient()
    paid = make_accepted_invoice(pro, amc="45.00", number="PH-201", beneficiary=member)
    _run(tmp_path, timezone.now() - datetime.timedelta(days=2))
    paid.refresh_from_db()
    assert paid.status == InvoiceStatus.PAID

    from playwright.sync_api import sync_playwright

    device = TOTPDevice.objects.get(user=pro.user, confirmed=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = browser.new_page(locale="fr-FR")
        browser_sign_in(page, live_server.url, "/suivi-factures/", pro.user.username, device)
        assert "Payée" in page.inner_text("#invoices")

        page.click("text=PH-201")
        page.wait_for_url(f"**/suivi-factures/{paid.pk}/")
        page.fill("#id_reason", "Délivrance annulée")
        page.check("#id_confirm")
        page.click("text=Annuler la facture >> nth=-1")
        page.wait_for_url(f"**/suivi-factures/{paid.pk}/")
        assert "Annulée" in page.inner_text("#state")

        # The next payment run, with a new accepted invoice (60.00 - 45.00 owed = 15.00),
        # from this thread, which Playwright's sync API runs inside an event loop: Django's
        # async guard is lifted for these calls (no request is served from this thread).
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        assert balance(pro.pk, paid.insurer_id) == 45  # type: ignore[arg-type]
        make_accepted_invoice(pro, amc="60.00", number="PH-202", beneficiary=member)
        second = _run(tmp_path, timezone.now())
        assert Transfer.objects.get(run=second).amount == 15
        # Inside the event loop Django keeps another connection than the test's own: close
        # it, or PostgreSQL cannot drop the test database at the end.
        connection.close()
        monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE")

        page.click("text=Paiements")
        page.wait_for_url("**/paiements/")
        listing = page.locator("#statements tr").all_inner_texts()
        assert second.reference in listing[1] and "-45,00 €" in listing[1]
        page.click(f"text={second.reference}")
        page.wait_for_url("**/paiements/*/")
        rows = page.locator("#statement-lines tr").all_inner_texts()
        total = page.inner_text("#statement-total")
        page.screenshot(path=str(tmp_path / "releve.png"), full_page=True)
        browser.close()

    cells = [row.split("\t") for row in rows]
    assert [(c[0], c[3], c[4]) for c in cells[1:3]] == [
        ("PH-202", "Paiement", "60,00 €"),
        ("PH-201", "Indu récupéré", "-45,00 €"),
    ]
    assert total == "15,00 €"
    assert balance(pro.pk, paid.insurer_id) == 0  # type: ignore[arg-type]
