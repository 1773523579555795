"""In a real browser (Playwright, Debian's Chromium) with a CDP virtual authenticator
(ctap2, internal, resident key, user verification): enrol a first passkey after a TOTP
sign-in and the e-mailed code (staff: after another staff member's approval), then sign in
with password + passkey; and a server expecting another origin refuses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tests.auth_helpers import approver, enrolment_code
from tests.factories import PASSWORD, make_professional
from tests.test_browser import CHROMIUM_FLAGS, chromium_path
from tierspayant.accounts import enrolment
from tierspayant.accounts.models import UserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}


def _sign_in_password(page, base: str, username: str) -> None:
    page.goto(f"{base}/droits/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/connexion/code/**")


def test_enrol_a_passkey_then_sign_in_with_it(live_server, settings, tmp_path: Path) -> None:
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    professional = make_professional(email="optique@example.test")
    device = TOTPDevice.objects.get(user=professional.user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    username = professional.user.username

    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = browser.new_context(locale="fr-FR")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        # 1. password + TOTP, then enrol a passkey from the security page: a first passkey
        # needs the code e-mailed to the holder (the sign-in's code alone could be relayed).
        _sign_in_password(page, live_server.url, username)
        page.fill("#id_otp_token", f"{totp.token():06d}")
        page.click("button.primary")
        page.wait_for_url("**/droits/")
        page.goto(f"{live_server.url}/securite/")
        page.click("#passkey-enrolment-button")
        page.wait_for_url("**/securite/cles/enrolement/code/")
        page.fill("#id_code", enrolment_code())
        page.click("#passkey-enrolment-code button.primary")
        page.wait_for_url("**/securite/")
        page.click("#passkey-register-button")
        page.wait_for_selector("#passkeys td form")  # the page reloads with the new passkey
        page.screenshot(path=str(tmp_path / "passkey-enrolled.png"), full_page=True)
        # 2. sign out, sign in again: password, then the passkey instead of the code.
        page.click("header form button")
        page.wait_for_url("**/connexion/**")
        _sign_in_password(page, live_server.url, username)
        page.click("#passkey-verification-button")
        page.wait_for_url("**/droits/")
        heading = page.locator("h1").inner_text()
        browser.close()

    assert "droits" in heading.lower()
    credential = WebAuthnCredential.objects.get(user=professional.user)
    assert credential.sign_count >= 1 or credential.last_used_at is not None
    assert UserSession.objects.filter(user=professional.user).count() == 2
    assert (tmp_path / "passkey-enrolled.png").stat().st_size > 5_000


def test_a_server_expecting_another_origin_refuses_the_passkey(live_server, settings) -> None:
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    professional = make_professional(with_totp=False)
    username = professional.user.username

    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = browser.new_context(locale="fr-FR")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        page.goto(f"{live_server.url}/connexion/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/connexion/activer-2fa/**")
        # First sign-in: enrol a passkey (instead of TOTP) on the enrolment page.
        page.click("#passkey-register-button")
        page.wait_for_url(f"{live_server.url}/")  # enrolment verifies the session
        # The operator now "moves": the server only accepts another origin.
        settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = ["https://portail.tierspayant.example"]
        page.click("header form button")
        page.wait_for_url("**/connexion/**")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/connexion/code/**")
        page.click("#passkey-verification-button")
        status = page.locator("#passkey-verification-status-message")
        status.wait_for(state="visible")
        page.wait_for_function(
            "document.getElementById('passkey-verification-status-message').textContent.length > 0"
        )
        page.goto(f"{live_server.url}/droits/")
        final_url = page.url
        browser.close()

    assert "/connexion/code/" in final_url  # still not verified


def test_staff_enrol_a_passkey_then_enter_the_back_office_with_it(
    live_server, settings, tmp_path: Path, monkeypatch
) -> None:
    """Staff signed in with TOTP are sent to enrol a passkey, which another staff member
    approves; the back-office then opens only after a passkey check
    (accounts.backoffice.BackOfficeSite)."""
    from django.contrib.auth import get_user_model

    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    staff = get_user_model().objects.create_superuser(username="agent.back", password=PASSWORD)
    device = TOTPDevice.objects.create(user=staff, name="TOTP", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = browser.new_context(locale="fr-FR")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        page.goto(f"{live_server.url}/admin/")
        page.wait_for_url("**/connexion/?next=/admin/")
        page.fill("#id_username", staff.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/connexion/code/**")
        page.fill("#id_otp_token", f"{totp.token():06d}")
        page.click("button.primary")
        page.wait_for_url("**/securite/")  # TOTP is not enough for the back-office
        told = page.locator(".messages, [role=status], main").first.inner_text()
        page.click("#passkey-enrolment-button")
        page.wait_for_selector("#passkey-enrolment-pending")
        # A colleague approves (the back-office action's service), from this thread, which
        # Playwright's sync API runs inside an event loop: Django's async guard is lifted for
        # this one call (no request is served concurrently from this thread).
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        pending = enrolment.pending_enrolment(staff, now=timezone.now())
        enrolment.approve_enrolment(
            enrolment_id=pending.pk, approver=approver(), now=timezone.now()
        )
        monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE")
        page.goto(f"{live_server.url}/securite/")
        page.click("#passkey-register-button")
        page.wait_for_selector("#passkeys td form")
        page.goto(f"{live_server.url}/admin/")
        page.wait_for_url("**/connexion/confirmer/**")
        page.click("#passkey-verification-button")
        page.wait_for_url(f"{live_server.url}/admin/")
        page.screenshot(path=str(tmp_path / "back-office.png"), full_page=True)
        title = page.locator("#site-name").inner_text()
        browser.close()

    assert "clé d'accès" in told
    assert title == "tierspayant · back-office"
    assert WebAuthnCredential.objects.filter(user=staff, confirmed=True).count() == 1
    assert (tmp_path / "back-office.png").stat().st_size > 5_000
