"""In a real browser (Playwright, Debian's Chromium): insurer staff, signed in through the
real views (password, TOTP, passkey), open one of their members in the back-office and
download the family's attestation; the PDF's DataMatrix decodes to its block (issue 17.2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from tests.attestations.test_attestations import decode_pdf, family
from tests.auth_helpers import staff_with_passkey
from tests.test_browser import CHROMIUM_FLAGS, chromium_path
from tierspayant.attestations.services import parse_datamatrix
from tierspayant.registry.models import InsurerStaff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_insurer_staff_download_an_attestation(live_server, tmp_path: Path) -> None:
    insurer, _, people = family()
    user = get_user_model().objects.create_user(
        username="agent.alpes", password="correct-horse-battery-staple-42", is_staff=True
    )
    user.user_permissions.add(Permission.objects.get(codename="view_beneficiary"))
    InsurerStaff.objects.create(user=user, insurer=insurer)
    client = staff_with_passkey(user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = browser.new_context(locale="fr-FR", accept_downloads=True)
        context.add_cookies(
            [
                {
                    "name": django_settings.SESSION_COOKIE_NAME,
                    "value": session,
                    "url": live_server.url,
                }
            ]
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/registry/beneficiary/{people[0].pk}/change/")
        with page.expect_download() as waiting:
            page.click("text=Télécharger l'attestation (PDF)")
        download = waiting.value
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        browser.close()

    assert target.name.startswith("attestation-tiers-payant-")
    _, code = decode_pdf(target.read_bytes())
    block = parse_datamatrix(code)
    assert (block.amc_number, block.member_number) == ("70900009", "ADH4242")
