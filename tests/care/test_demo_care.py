"""``make demo`` also seeds weeks of approvals and accepted claims and bank accounts, so a
payment run on a fresh demo pays something."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from schwifty import IBAN

from tierspayant.claims.models import Claim
from tierspayant.payments.models import PaymentRun
from tierspayant.providers.models import BankAccount, Professional

pytestmark = pytest.mark.django_db


def test_a_fresh_demo_has_something_to_pay(settings, tmp_path, keyring) -> None:
    settings.DEMO = True
    call_command("demo", beneficiaries=600, credentials=str(tmp_path / "demo-credentials.json"))
    assert Claim.objects.filter(status="accepted").count() == 12
    assert BankAccount.objects.count() == Professional.objects.count() == 25  # 5 of lots
    for account in BankAccount.objects.all():
        IBAN(account.iban(keyring.encryption), validate_bban=True)
    call_command("payment_run", "--output", str(tmp_path / "paiements"))
    run = PaymentRun.objects.get()
    assert run.claim_count == 12 and run.total > 0
    assert not Claim.objects.filter(status="accepted").exists()
