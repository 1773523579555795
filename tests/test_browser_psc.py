"""In a real browser (Playwright driving Debian's Chromium): a professional signs in with Pro
Santé Connect against the local OpenID provider (panva's oidc-provider, configured like PSC:
tests/oidc_provider) and files a prior approval with the portal's approval form."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from tests.care.conftest import GLASSES, make_patient, rx_form
from tests.factories import make_professional
from tests.psc_provider import configure, running_provider
from tests.test_browser import CHROMIUM_FLAGS, chromium_path
from tierspayant.priorauth.models import PriorApproval
from tierspayant.prosanteconnect.models import ProSanteConnectLink
from tierspayant.prosanteconnect.services import link_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_with_pro_sante_connect_and_file_an_approval(
    live_server, settings, tmp_path: Path
) -> None:
    professional = make_professional(with_totp=False)  # no password step, no TOTP: PSC only
    link_account(
        professional.user,
        national_id=professional.national_id,
        linked_by=None,
        now=timezone.now(),
    )
    patient = make_patient()
    today = timezone.localdate().isoformat()
    executable = chromium_path()
    prescription = rx_form(GLASSES, timezone.localdate())  # required for glasses

    from playwright.sync_api import sync_playwright

    with running_provider([f"{live_server.url}/connexion/psc/retour/"]) as provider:
        configure(settings, provider)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
            page = browser.new_page(locale="fr-FR")
            page.goto(f"{live_server.url}/pec/nouvelle/")
            assert page.url.startswith(f"{live_server.url}/connexion/")
            page.click("#psc-sign-in")
            # At the provider (the CPS card / e-CPS app step of the real PSC).
            page.wait_for_url(f"{provider.issuer}/interaction/**")
            page.fill("input[name=login]", professional.national_id)
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/pec/nouvelle/")

            page.fill("#id_nir", patient.nir)
            page.fill("#id_birth_date", patient.born.isoformat())
            page.fill("#id_care_date", today)
            for index, line in enumerate(GLASSES):
                page.fill(f"#id_lines-{index}-code", line.code)
                page.fill(f"#id_lines-{index}-billed", str(line.billed))
                if line.side:
                    page.select_option(f"#id_lines-{index}-side", line.side)
            for name, value in prescription.items():
                page.fill(f"#id_{name}", value)
            page.click("button.primary")
            page.wait_for_url("**/pec/*/")
            decision = page.locator("#decision").inner_text()
            amounts = page.locator("#lines").inner_text()
            number = page.locator("#approval-number").inner_text()
            page.screenshot(path=str(tmp_path / "psc-approval.png"), full_page=True)
            browser.close()

    assert "Accordée" in decision and number.startswith("PEC-")
    assert "200,00 €" in amounts and "99,97 €" in amounts and "100,03 €" in amounts
    assert patient.beneficiary.last_name not in decision + amounts
    approval = PriorApproval.objects.get()
    assert approval.professional_id == professional.pk
    assert ProSanteConnectLink.objects.get(user=professional.user).last_used_at is not None
