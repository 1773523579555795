"""An optician quotes 100 % Santé class A glasses with the code picker, in a real browser
(Playwright driving Debian's Chromium), issue 15 part 6: sign in with TOTP, search the
catalogue by words (« monture adulte classe a », « verre unifocal classe a sphere +2 »),
pick each code with the keyboard, type the prescription, submit, and see that the patient
pays nothing. Figures (``priorauth/reference/lpp-prices.json``): class A adult frame PLV
30 EUR (BR 9, AMO 5.40), class A simple lens PLV 60 EUR (BR 18, AMO 10.80)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.care.conftest import PRESCRIBER, make_patient
from tests.factories import PASSWORD, make_professional
from tests.test_browser import CHROMIUM_FLAGS, chromium_path
from tierspayant.priorauth.models import PriorApproval

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FRAME, LENS = "2222124", "2229362"  # adult frame class A; unifocal class A, sphere ]0 ; +2]


def _pick(page, index: int, words: str, code: str, price: str) -> str:  # type: ignore[no-untyped-def]
    """Type ``words`` in line ``index``'s code, move down the list with the arrow key to
    ``code``, take it with Enter, then type the price where the picker put the focus.
    Returns the text of the option taken."""
    from playwright.sync_api import expect

    field = page.locator(f"#id_lines-{index}-code")
    field.focus()
    page.keyboard.type(words, delay=10)
    options = page.locator(f"#{field.get_attribute('aria-controls')} [role=option]")
    expect(options.filter(has_text=code)).to_have_count(1)
    for _ in range(options.count()):
        page.keyboard.press("ArrowDown")
        chosen = page.locator(f"#{field.get_attribute('aria-activedescendant')}")
        if code in chosen.inner_text():
            break
    taken = chosen.inner_text()
    assert chosen.get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")  # takes the highlighted code, does not submit
    assert field.input_value() == code
    page.keyboard.type(price)  # the focus went to the price of the same line
    assert page.locator(f"#id_lines-{index}-billed").input_value() == price
    return taken


def test_an_optician_quotes_class_a_glasses_with_the_picker(live_server, tmp_path: Path) -> None:
    optician = make_professional()
    device = TOTPDevice.objects.get(user=optician.user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    patient = make_patient(domains=["optical"])
    today = timezone.localdate()

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = browser.new_page(locale="fr-FR")
        page.goto(f"{live_server.url}/pec/nouvelle/")
        page.fill("#id_username", optician.user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/connexion/code/**")
        page.fill("#id_otp_token", f"{totp.token():06d}")
        page.click("button.primary")
        page.wait_for_url("**/pec/nouvelle/")
        page.fill("#id_nir", patient.nir)
        page.fill("#id_birth_date", patient.born.isoformat())
        page.fill("#id_care_date", today.isoformat())
        frame = _pick(page, 0, "monture adulte classe a", FRAME, "30.00")
        lens = _pick(page, 1, "verre unifocal classe a sphere +2", LENS, "60.00")
        page.select_option("#id_lines-1-side", "right")
        _pick(page, 2, "verre unifocal classe a sphere +2", LENS, "60.00")
        page.select_option("#id_lines-2-side", "left")
        page.fill("#id_rx-prescriber_rpps", PRESCRIBER)
        page.fill("#id_rx-prescribed_on", today.isoformat())
        for side in ("right", "left"):
            page.fill(f"#id_rx-{side}_sphere", "+1.25")
            page.fill(f"#id_rx-{side}_cylinder", "0")
            page.fill(f"#id_rx-{side}_axis", "0")
        page.screenshot(path=str(tmp_path / "class-a.png"), full_page=True)
        page.click("button.primary")
        page.wait_for_url("**/pec/*/")
        decision = page.locator("#decision h2").inner_text()
        rac = page.locator("#total-rac").inner_text()
        amc = page.locator("#total-amc").inner_text()
        browser.close()

    assert "MONTURE ADULTE DE CLASSE A" in frame and "classe A 100 % Santé" in frame
    assert "VERRE UNIFOCAL CLASSE A" in lens and "60.00" in lens
    assert decision == "Accordée"
    assert (rac, amc) == ("0,00 €", "123,00 €")  # 150 - AMO (5.40 + 2 x 10.80)
    approval = PriorApproval.objects.get()
    assert [(ln.code, ln.side, ln.rac) for ln in approval.lines.order_by("position")] == [
        (FRAME, "", Decimal("0.00")),
        (LENS, "right", Decimal("0.00")),
        (LENS, "left", Decimal("0.00")),
    ]
    assert approval.prescription["right"]["sphere"] == "1.25"
