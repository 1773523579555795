"""The optician's day in a real browser (Playwright driving Debian's Chromium): sign in with
TOTP, check rights, request an approval for class B glasses (frame and two lenses), see
the amounts, invoice it, run the payment run as the operator would, download the
statement."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.care.conftest import GLASSES, french_iban, make_patient, rx_form
from tests.factories import PASSWORD, make_professional
from tests.test_browser import CHROMIUM_FLAGS, chromium_path
from tierspayant.claims.models import Claim
from tierspayant.providers.banking import register_first_bank_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _in_thread(target, *args) -> None:  # type: ignore[no-untyped-def]
    """Run Django code outside Playwright's event loop (as the operator's shell would)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target(*args)
        except BaseException as exc:  # re-raised in the test thread
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection, else the test DB stays busy

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def test_the_opticians_day(live_server, tmp_path: Path) -> None:
    professional = make_professional(email="optique@example.org")
    register_first_bank_account(
        settings.TIERSPAYANT_KEYRING.encryption,
        professional=professional,
        iban=french_iban("30004", "00003", "12345678901"),
        bic="BNPAFRPP",
        holder_name="Optique du Centre",
        now=timezone.now() - datetime.timedelta(days=10),
    )
    device = TOTPDevice.objects.get(user=professional.user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    patient = make_patient()
    today = timezone.localdate().isoformat()
    output = tmp_path / "paiements"
    prescription = rx_form(GLASSES, timezone.localdate())  # read before Playwright's loop

    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        page = browser.new_page(locale="fr-FR", accept_downloads=True)
        page.goto(f"{live_server.url}/droits/")
        page.fill("#id_username", professional.user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/connexion/code/**")
        page.fill("#id_otp_token", f"{totp.token():06d}")
        page.click("button.primary")
        page.wait_for_url("**/droits/")

        page.fill("#id_nir", patient.nir)
        page.fill("#id_birth_date", patient.born.isoformat())
        page.fill("#id_care_date", today)
        page.click("button.primary")
        rights = page.locator("#answer").inner_text()

        page.click("text=Prises en charge")
        page.click("text=Nouvelle demande de prise en charge")
        page.fill("#id_nir", patient.nir)
        page.fill("#id_birth_date", patient.born.isoformat())
        page.fill("#id_care_date", today)
        for index, line in enumerate(GLASSES):
            page.fill(f"#id_lines-{index}-code", line.code)
            page.fill(f"#id_lines-{index}-billed", str(line.billed))
            if line.side:
                page.select_option(f"#id_lines-{index}-side", line.side)
        for name, value in prescription.items():  # required for glasses
            page.fill(f"#id_{name}", value)
        page.click("button.primary")
        page.wait_for_url("**/pec/*/")
        decision = page.locator("#decision").inner_text()
        amounts = page.locator("#lines").inner_text()
        number = page.locator("#approval-number").inner_text()

        page.click("#invoice-link")
        page.fill("#id_nir", patient.nir)
        page.fill("#id_birth_date", patient.born.isoformat())
        page.fill("#id_care_date", today)
        page.fill("#id_reference", "F-2025-0042")
        page.click("button.primary")
        page.wait_for_url("**/factures/*/")
        claim_text = page.locator("#status").inner_text()

        _in_thread(call_command, "payment_run", "--output", str(output))

        page.click("text=Paiements")
        with page.expect_download() as download_info:
            page.click("a.statement-pdf")
        download = download_info.value
        saved = tmp_path / "releve.pdf"
        download.save_as(saved)
        page.screenshot(path=str(tmp_path / "paiements.png"), full_page=True)
        browser.close()

    assert "Droits ouverts" in rights
    assert "Accordée" in decision and number.startswith("PEC-")
    assert "200,00 €" in amounts and "99,97 €" in amounts and "100,03 €" in amounts
    assert "Plafond du contrat responsable pour la monture de classe B" in amounts
    assert "Acceptée" in claim_text
    assert saved.read_bytes().startswith(b"%PDF")
    assert Claim.objects.get().status == "paid"
    assert patient.beneficiary.last_name not in rights + decision + amounts + claim_text
