"""In a real browser (Playwright driving Debian's Chromium): sign in with password and TOTP,
then check a patient's rights from the portal."""

from __future__ import annotations

import datetime
import os
import shutil
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD, make_beneficiary, make_professional, new_nir
from tierspayant.audit.models import DisclosureLog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("TIERSPAYANT_REQUIRE_SERVICES"):
            pytest.fail("chromium required by TIERSPAYANT_REQUIRE_SERVICES: apt install chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return path


def test_sign_in_with_totp_and_check_rights(live_server, tmp_path: Path) -> None:
    # Everything touching the database is prepared before the browser's event loop starts.
    professional = make_professional()
    device = TOTPDevice.objects.get(user=professional.user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    born = datetime.date(1979, 12, 24)
    nir = new_nir(born)
    person = make_beneficiary(nir=nir, birth_date=born)

    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        page = browser.new_page(locale="fr-FR")
        page.goto(f"{live_server.url}/droits/")
        assert page.url.startswith(f"{live_server.url}/connexion/")
        page.fill("#id_username", professional.user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/connexion/code/**")
        page.fill("#id_otp_token", f"{totp.token():06d}")
        page.click("button.primary")
        page.wait_for_url("**/droits/")
        page.fill("#id_nir", nir[:1] + " " + nir[1:3] + " " + nir[3:5] + " " + nir[5:])
        page.fill("#id_birth_date", "1979-12-24")
        page.fill("#id_care_date", "2026-02-02")
        page.click("button.primary")
        answer = page.locator("#answer")
        answer.wait_for()
        text = answer.inner_text()
        page.screenshot(path=str(tmp_path / "rights-check.png"), full_page=True)
        browser.close()

    assert "Droits ouverts au 02/02/2026" in text
    assert "Optique" in text
    assert person.last_name not in text
    assert (tmp_path / "rights-check.png").stat().st_size > 10_000
    row = DisclosureLog.objects.get()
    assert (row.channel, row.outcome, row.beneficiary_id) == ("portal", "covered", person.pk)
