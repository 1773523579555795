"""A pharmacist's lot in a real browser (Playwright driving Debian's Chromium): sign in with
TOTP, send a flat-file lot in the portal, see its progress and each invoice's result (AMC per
line, a rejected invoice's reason in French)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.auth_helpers import browser_sign_in
from tests.factories import make_professional, new_nir
from tests.invoices.builders import invoice, line
from tests.invoices.lot_builders import BORN, jsonl, make_patient
from tests.test_browser import CHROMIUM_FLAGS, chromium_path
from tierspayant.providers.choices import Profession

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("nomenclatures"),
]


def test_a_pharmacists_lot_and_its_results(live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pharmacist = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    patient = make_patient()
    boxes = (
        line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33", franchise="1.00"),
        line("CIP13", "3400933783310", "3.17", rate="30", amo="0.95"),
    )
    lot_file = tmp_path / "lot-pharmacie.jsonl"
    lot_file.write_bytes(
        jsonl(
            [
                (invoice(*boxes, number="PH-001"), patient.card()),
                (invoice(*boxes, number="PH-002"), patient.card(nir=new_nir(BORN))),
            ],
            reference="PHARMA-2025-03-14",
        )
    )

    from playwright.sync_api import sync_playwright

    device = TOTPDevice.objects.get(user=pharmacist.user, confirmed=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = browser.new_page(locale="fr-FR")
        browser_sign_in(page, live_server.url, "/lots/", pharmacist.user.username, device)

        page.select_option("#id_format", "jsonl")
        page.set_input_files("#id_file", str(lot_file))
        page.click("text=Envoyer le lot")
        page.wait_for_url("**/lots/*/")
        assert "Lot PHARMA-2025-03-14" in page.inner_text("h1")
        assert page.get_attribute("#progress", "value") == "2"
        totals = page.inner_text("#totals")
        assert "Acceptées : 1" in totals and "Rejetées : 1" in totals
        assert "Part AMC : 6,70 €" in totals
        results = page.inner_text("#results")
        assert "CIP13 3400936963504 : 7,33 / 4,48 / 1,00 €" in results
        assert "CIP13 3400933783310 : 0,95 / 2,22 / 0,00 €" in results
        assert "Facture PH-002, champ patient : aucun bénéficiaire ne correspond" in results
        assert patient.nir not in page.content()

        page.click("text=Tous les lots")
        assert "PHARMA-2025-03-14" in page.inner_text("table")
        browser.close()
