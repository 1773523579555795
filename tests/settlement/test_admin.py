"""The insurers' settlement pages in the back-office: an insurer's staff see their own
settlements, files, chart and late invoices, never another insurer's; operator staff set a
funding (the IBAN encrypted), an insurer's staff only read theirs."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from tests.auth_helpers import staff_with_passkey
from tests.backoffice_world import staff_user
from tests.care.conftest import french_iban
from tests.factories import InsurerFactory
from tests.settlement.builders import (
    T0,
    accepted_invoice,
    cfg,
    fund,
    member,
    paid_professional,
    pay_run,
)
from tierspayant.settlement.models import InsurerFunding, InsurerSettlement
from tierspayant.settlement.services import write_settlement

pytestmark = pytest.mark.django_db
BASE = "/admin/settlement/insurersettlement/"
SET = "/admin/settlement/insurerfunding/definir/"


def settled_world(directory: Path) -> dict:
    """Two insurers, each with a late unpaid invoice and one paid in a run, settled into the
    run's directory."""
    alpha = InsurerFactory(amc_number="81000001", name="Mutuelle Alpha")
    beta = InsurerFactory(amc_number="82000002", name="Mutuelle Bêta Secrète")
    fund(alpha, "direct_debit", "00000000001")
    fund(beta, "own_account", "00000000002")
    pro = paid_professional()
    a_paid = accepted_invoice(pro, member(alpha), "A-PAID", "10.00", family="optical_frame")
    b_paid = accepted_invoice(pro, member(beta), "B-PAID", "20.00")
    accepted_invoice(pro, member(alpha), "A-LATE", "5.00", at=T0 - datetime.timedelta(days=30))
    accepted_invoice(pro, member(beta), "B-LATE", "5.00", at=T0 - datetime.timedelta(days=30))
    run = pay_run(directory, now=T0 + datetime.timedelta(days=1), paid=[(pro, [a_paid, b_paid])])
    Path(run.directory).mkdir(parents=True)
    with transaction.atomic():
        write_settlement(run, Path(run.directory), config=cfg())
    return {
        "alpha": alpha,
        "beta": beta,
        "run": run,
        "mine": InsurerSettlement.objects.get(insurer=alpha),
        "theirs": InsurerSettlement.objects.get(insurer=beta),
    }


@pytest.fixture
def alpha_client(tmp_path):  # type: ignore[no-untyped-def]
    world = settled_world(tmp_path)
    world["client"] = staff_with_passkey(
        staff_user("gestion.alpha", insurer=world["alpha"], every_permission=True)
    )
    return world


def test_insurer_staff_see_their_settlements_chart_and_files_only(alpha_client) -> None:
    world = alpha_client
    client = world["client"]
    page = client.get(BASE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="settlement-chart" src="data:image/png;base64,' in html
    assert {s.pk for s in page.context["cl"].queryset} == {world["mine"].pk}
    assert "Optique 10.00" in html  # totals by domain: the optical frame of A-PAID
    assert "Bêta" not in html
    export = client.get(f"{BASE}{world['mine'].pk}/fichier/export/")
    assert export.status_code == 200
    body = b"".join(export.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert "A-PAID" in body and "B-PAID" not in body
    assert client.get(f"{BASE}{world['mine'].pk}/fichier/debit/").status_code == 200
    for kind in ("export", "notice", "debit"):
        assert client.get(f"{BASE}{world['theirs'].pk}/fichier/{kind}/").status_code == 404
    assert client.get(f"{BASE}{world['mine'].pk}/fichier/autre/").status_code == 404


def test_the_delay_page_shows_the_insurers_own_late_invoices(alpha_client) -> None:
    client = alpha_client["client"]
    page = client.get(f"{BASE}retards/?organisme={alpha_client['beta'].pk}")  # ignored
    html = page.content.decode()
    assert page.status_code == 200
    assert "A-LATE" in html and "B-LATE" not in html and "Bêta" not in html
    assert 'id="delay-chart" src="data:image/png;base64,' in html


def test_insurer_staff_read_their_funding_but_cannot_change_it(alpha_client) -> None:
    client = alpha_client["client"]
    funding = InsurerFunding.objects.get(insurer=alpha_client["alpha"])
    url = f"/admin/settlement/insurerfunding/{funding.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert funding.iban_masked in page.content.decode()
    assert 'name="iban"' not in page.content.decode()
    assert client.post(url, {"mode": "own_account", "bic": "CMCIFR2A"}).status_code == 403
    form = {"insurer": funding.insurer_id, "mode": "own_account", "account_name": "Pirate"}
    assert client.post(SET, form).status_code == 403
    funding.refresh_from_db()
    assert funding.mode == "direct_debit"
    assert client.get("/admin/settlement/insurerfunding/add/").status_code == 403
    assert client.get(SET).status_code == 403


def test_operator_staff_set_a_funding_and_see_every_insurers_delays(tmp_path) -> None:
    world = settled_world(tmp_path)
    operator = get_user_model().objects.create_superuser(
        username="operateur", password="correct-horse-battery-staple-42"
    )
    client = staff_with_passkey(operator)
    other = InsurerFactory(amc_number="83000003", name="Mutuelle Gamma")
    form = {
        "insurer": other.pk,
        "mode": "direct_debit",
        "account_name": "Mutuelle Gamma",
        "iban": "FR7630004000031234567890144",  # wrong check digits
        "bic": "CMCIFR2A",
        "mandate_id": "MANDAT-G",
        "mandate_date": "2024-12-01",
        "payment_delay_days": "5",
    }
    refused = client.post(SET, form)
    assert refused.status_code == 400
    assert "clé de contrôle de l&#x27;IBAN incorrecte" in refused.content.decode()
    assert not InsurerFunding.objects.filter(insurer=other).exists()
    iban = french_iban("10278", "06076", "00000000003")
    no_mandate = client.post(SET, {**form, "iban": iban, "mandate_id": ""})
    assert "référence du mandat obligatoire" in no_mandate.content.decode()
    saved = client.post(SET, {**form, "iban": iban})
    assert saved.status_code == 302
    funding = InsurerFunding.objects.get(insurer=other)
    assert funding.iban(settings.TIERSPAYANT_KEYRING.encryption) == iban
    assert iban not in funding.iban_ciphertext and funding.payment_delay_days == 5
    # A change keeps the IBAN on file when left empty; the form shows the funding on file.
    assert 'value="MANDAT-G"' in client.get(f"{SET}?organisme={other.pk}").content.decode()
    kept = client.post(SET, {**form, "iban": "", "payment_delay_days": "9"})
    assert kept.status_code == 302
    funding.refresh_from_db()
    assert funding.iban(settings.TIERSPAYANT_KEYRING.encryption) == iban
    assert funding.payment_delay_days == 9
    page = client.get(f"{BASE}retards/?organisme={world['beta'].pk}").content.decode()
    assert "B-LATE" in page and "A-LATE" not in page
    assert "Mutuelle Alpha (81000001)" in page  # the operator picks among every insurer
    assert {s.pk for s in client.get(BASE).context["cl"].queryset} == {
        world["mine"].pk,
        world["theirs"].pk,
    }


def test_setting_a_funding_needs_a_recent_passkey_check(tmp_path, settings) -> None:
    operator = get_user_model().objects.create_superuser(
        username="operateur", password="correct-horse-battery-staple-42"
    )
    client = staff_with_passkey(operator)
    settings.TIERSPAYANT_STEP_UP_SECONDS = 0  # the passkey check above is now too old
    response = client.get(SET)
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/confirmer/")
