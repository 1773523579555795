"""Restricted lockdown in a real browser (Playwright, Debian's Chromium, a CDP virtual
authenticator): a professional signed in with a passkey files a prior approval, one who
signs in with password + TOTP is refused with a clear French page, and the API keeps
answering (issue 19 part 3)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.care.conftest import GLASSES, make_patient, rx_form
from tests.care.test_browser_care import _in_thread
from tests.factories import PASSWORD, make_professional, new_nir
from tests.test_browser import CHROMIUM_FLAGS, chromium_path
from tests.test_browser_passkeys import AUTHENTICATOR
from tierspayant.audit.choices import Channel, Purpose
from tierspayant.audit.models import DisclosureLog
from tierspayant.priorauth.models import PriorApproval
from tierspayant.providers.choices import Scope
from tierspayant.providers.services import issue_api_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _password(page, base: str, username: str, target: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}{target}")
    page.wait_for_url("**/connexion/**")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/connexion/code/**")


def test_restricted_lockdown_passkey_files_an_approval_totp_is_refused_api_answers(
    live_server, settings
) -> None:
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    with_passkey = make_professional(with_totp=False)
    with_totp = make_professional()
    secret = issue_api_token(
        professional=with_totp,
        name="logiciel du magasin",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=30,
    ).secret
    patient = make_patient()
    today = timezone.localdate().isoformat()
    base = live_server.url
    prescription = rx_form(GLASSES, timezone.localdate())  # required for glasses

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        # Before the incident: the first optician enrols a passkey at first sign-in.
        context = browser.new_context(locale="fr-FR")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        page.goto(f"{base}/connexion/")
        page.fill("#id_username", with_passkey.user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/connexion/activer-2fa/**")
        page.click("#passkey-register-button")
        page.wait_for_url(f"{base}/")
        page.click("header form button")
        page.wait_for_url("**/connexion/**")

        _in_thread(call_command, "lockdown", "restricted", "--reason", "fuite chez un éditeur")

        # Passkey: sign in, file a prior approval for class B glasses.
        _password(page, base, with_passkey.user.username, "/pec/nouvelle/")
        page.click("#passkey-verification-button")
        page.wait_for_url("**/pec/nouvelle/")
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
        page.goto(f"{base}/droits/")
        rights_heading = page.locator("h1").inner_text()

        # Password + TOTP: the code page offers no code form and says why; the portal's
        # pages answer the refusal page.
        other = browser.new_context(locale="fr-FR").new_page()
        _password(other, base, with_totp.user.username, "/pec/")
        explained = other.locator("#restricted-passkey-only").inner_text()
        code_fields = other.locator("#id_otp_token").count()
        response = other.request.post(f"{base}/connexion/code/", form={"otp_token": "123456"})
        refused_status = response.status
        refused_text = response.text()

        # The practice software's API keeps answering.
        answer = other.request.post(
            f"{base}/api/v1/eligibility",
            data={"nir": new_nir(patient.born), "birth_date": patient.born.isoformat()},
            headers={"Authorization": f"Bearer {secret}"},
        )
        api_status = answer.status
        browser.close()

    assert "Accordée" in decision
    assert PriorApproval.objects.get().professional_id == with_passkey.pk
    assert DisclosureLog.objects.filter(purpose=Purpose.PRIOR_APPROVAL).count() == 1
    assert rights_heading == "Vérifications de droits seules fermées pendant le confinement"
    assert "connexion par clé d'accès ou Pro Santé Connect uniquement" in explained
    assert code_fields == 0
    assert refused_status == 403
    assert "Connexion par code refusée pendant le confinement" in refused_text
    assert api_status == 200
    assert DisclosureLog.objects.filter(channel=Channel.API).count() == 1
