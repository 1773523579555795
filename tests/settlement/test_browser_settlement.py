"""Insurer staff open their settlement page in a real browser (Playwright driving Debian's
Chromium): their run is listed with its chart image; the other insurer's run is absent.

The back-office session (password, TOTP, a passkey enrolled and used) is opened through the
real views by ``staff_with_passkey`` before the browser starts, and handed to the browser as
its session cookie: the passkey ceremony in a browser is tested in
tests/test_browser_passkeys.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission

from tests.auth_helpers import staff_with_passkey
from tests.backoffice_world import staff_user
from tests.settlement.test_admin import BASE, settled_world
from tests.test_browser import CHROMIUM_FLAGS, chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_insurer_staff_open_their_settlement_page(live_server, tmp_path: Path) -> None:
    world = settled_world(tmp_path)
    user = staff_user("gestion.alpha", insurer=world["alpha"], every_permission=False)
    user.user_permissions.set(  # a finance role: reads the settlement app, nothing else
        Permission.objects.filter(
            content_type__app_label="settlement", codename__startswith="view_"
        )
    )
    client = staff_with_passkey(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    mine, theirs = world["mine"].run.reference, world["theirs"].run.reference

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = browser.new_context(locale="fr-FR")
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        page = context.new_page()
        page.goto(f"{live_server.url}{BASE}")
        page.wait_for_selector("#settlement-chart")
        rows = page.locator("#result_list tbody tr").all_inner_texts()
        chart_width = page.eval_on_selector("#settlement-chart", "img => img.naturalWidth")
        body = page.locator("body").inner_text()
        page.screenshot(path=str(tmp_path / "reglements.png"), full_page=True)
        page.click("text=Délais de paiement")
        page.wait_for_selector("#delay-chart")
        late = page.locator("#delay-late").inner_text()
        browser.close()

    assert len(rows) == 1 and mine in rows[0] and "81000001" in rows[0]
    assert chart_width == 900  # the PNG drawn server-side, decoded by the browser
    assert "82000002" not in body and "Bêta" not in body
    assert mine == theirs  # one run, settled with both insurers: only Alpha's row is shown
    assert "A-LATE" in late and "B-LATE" not in late
    assert (tmp_path / "reglements.png").stat().st_size > 5_000
