"""Approvals in a real browser (Playwright driving Debian's Chromium), issue 15 parts 5-6:
a dentist quotes a crown with the code picker, keyboard only; a staff member signed in with a
passkey decides a pending approval from the back-office review queue."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.auth_helpers import approver
from tests.care.conftest import context, make_patient
from tests.care.test_browser_care import _in_thread
from tests.factories import PASSWORD, make_professional
from tests.test_browser import CHROMIUM_FLAGS, chromium_path
from tests.test_browser_passkeys import AUTHENTICATOR
from tierspayant.accounts import enrolment
from tierspayant.priorauth.choices import Decision
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.lpp import LineInput
from tierspayant.priorauth.models import PriorApproval, ReviewRule
from tierspayant.priorauth.services import request_prior_approval
from tierspayant.providers.choices import Profession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _approve_enrolment(staff) -> None:  # type: ignore[no-untyped-def]
    asked = enrolment.pending_enrolment(staff, now=timezone.now())
    enrolment.approve_enrolment(enrolment_id=asked.pk, approver=approver(), now=timezone.now())


def test_a_dentist_quotes_a_crown_with_the_picker(live_server, tmp_path: Path) -> None:
    dentist = make_professional(profession=Profession.DENTIST)
    device = TOTPDevice.objects.get(user=dentist.user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    patient = make_patient(domains=["dental"])
    today = timezone.localdate().isoformat()

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = browser.new_page(locale="fr-FR")
        page.goto(f"{live_server.url}/pec/nouvelle/")
        page.fill("#id_username", dentist.user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/connexion/code/**")
        page.fill("#id_otp_token", f"{totp.token():06d}")
        page.click("button.primary")
        page.wait_for_url("**/pec/nouvelle/")
        page.fill("#id_nir", patient.nir)
        page.fill("#id_birth_date", patient.born.isoformat())
        page.fill("#id_care_date", today)
        code = page.locator("#id_lines-0-code")
        code.focus()
        page.keyboard.type("couronne ceramometallique incisive", delay=20)  # accents optional
        from playwright.sync_api import expect

        options = page.locator("[role=option]")
        expect(options).to_have_count(1)  # the last answer (each typed letter asks again)
        expect(options.first).to_contain_text("HBLD634")
        listed = options.first.inner_text()
        assert code.get_attribute("aria-expanded") == "true"
        page.keyboard.press("ArrowDown")  # highlights the first code
        assert options.first.get_attribute("aria-selected") == "true"
        page.keyboard.press("Enter")  # picks the highlighted code, does not submit
        assert code.input_value() == "HBLD634"
        # The picker moved the focus to the tooth of the same line.
        page.keyboard.type("11")
        page.fill("#id_lines-0-billed", "500.00")
        page.screenshot(path=str(tmp_path / "picker.png"), full_page=True)
        page.click("button.primary")
        page.wait_for_url("**/pec/*/")
        decision = page.locator("#decision h2").inner_text()
        amc = page.locator("#total-amc").inner_text()
        browser.close()

    assert "HBLD634" in listed and "500.00" in listed
    assert decision == "Accordée"
    assert amc == "428,00 €"
    line = PriorApproval.objects.get().lines.get()
    assert (line.code, line.tooth, line.amc, line.rac) == (
        "HBLD634",
        "11",
        Decimal("428.00"),
        Decimal("0.00"),
    )


def test_a_staff_member_decides_a_pending_approval(live_server, settings, tmp_path: Path) -> None:
    from django.contrib.auth import get_user_model

    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    dentist = make_professional(profession=Profession.DENTIST, email="cabinet@example.org")
    patient = make_patient(domains=["dental"])
    contract = patient.beneficiary.contract
    ReviewRule.objects.create(insurer=contract.insurer, amount_above="300.00", review_days=2)
    now = timezone.now()
    pending = request_prior_approval(
        CareConfig.from_settings(settings),
        professional=dentist,
        identity=patient.identity,
        planned_date=timezone.localdate(),
        lines=[LineInput(code="HBLD634", billed="500.00", tooth="11")],
        context=context(),
        now=now,
        today=timezone.localdate(),
    )
    assert pending.decision == Decision.PENDING
    staff = get_user_model().objects.create_superuser(username="agent.pec", password=PASSWORD)
    device = TOTPDevice.objects.create(user=staff, name="TOTP", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        browser_context = browser.new_context(locale="fr-FR")
        page = browser_context.new_page()
        cdp = browser_context.new_cdp_session(page)
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
        page.wait_for_url("**/securite/")
        page.click("#passkey-enrolment-button")
        page.wait_for_selector("#passkey-enrolment-pending")
        # A colleague approves the passkey, outside Playwright's event loop and on its own
        # connection, closed after (else PostgreSQL's test database stays busy at the end).
        _in_thread(_approve_enrolment, staff)
        page.goto(f"{live_server.url}/securite/")
        page.click("#passkey-register-button")
        page.wait_for_selector("#passkeys td form")
        page.goto(f"{live_server.url}/admin/priorauth/priorapproval/a-examiner/")
        page.wait_for_url("**/connexion/confirmer/**")
        page.click("#passkey-verification-button")
        page.wait_for_url("**/admin/priorauth/priorapproval/a-examiner/")
        queue = page.locator("#review-queue").inner_text()
        page.click(f"#review-queue tr:has-text('{pending.number}') a")
        page.wait_for_url("**/decider/")
        deadline = page.locator("#deadline").inner_text()
        page.check("input[name=decision][value=accept]")
        page.fill("#id_note", "Devis conforme, accord donné.")
        page.screenshot(path=str(tmp_path / "decide.png"), full_page=True)
        page.click("button.default")
        page.wait_for_url("**/a-examiner/")
        after = page.locator("#review-queue").inner_text()
        browser.close()

    assert pending.number in queue and "Montant au-delà" in queue
    assert timezone.localtime(pending.review_deadline).strftime("%d/%m/%Y") in deadline
    assert pending.number not in after
    decided = PriorApproval.objects.get(pk=pending.pk)
    assert (decided.decision, decided.decided_by_id, decided.decision_note) == (
        Decision.ACCEPTED,
        staff.pk,
        "Devis conforme, accord donné.",
    )
    assert decided.usable(timezone.localdate())
    assert [m.to for m in mail.outbox if pending.number in m.subject] == [["cabinet@example.org"]]
