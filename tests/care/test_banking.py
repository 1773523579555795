"""Bank details that cannot be swapped: validation, step-up, out-of-band code, cooling-off
period with payments held, then the new account paid. Time is explicit (instants passed to
the services)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail

from tests.care.conftest import NOW, TODAY, french_iban, invoice, make_patient
from tierspayant.claims.choices import ClaimStatus
from tierspayant.claims.models import Claim
from tierspayant.payments.models import HeldPayment, Transfer
from tierspayant.payments.sepa import Debtor, read_pain001
from tierspayant.payments.services import run_payments
from tierspayant.providers.banking import (
    InvalidBankDetails,
    InvalidConfirmationCode,
    StepUpFailed,
    cancel_bank_account_change,
    confirm_bank_account_change,
    current_bank_account,
    mask_iban,
    payment_hold,
    request_bank_account_change,
    validate_bank_details,
)
from tierspayant.providers.models import BankAccount, BankAccountChange

pytestmark = pytest.mark.django_db
KEYS = settings.TIERSPAYANT_KEYRING.encryption
NEW_IBAN = french_iban("20041", "01005", "0500013M026")
GOOD = french_iban("30004", "00003", "12345678901")


def _flip_last_digit(iban: str) -> str:
    return iban[:-1] + str((int(iban[-1]) + 1) % 10)


def _bad_rib_key(iban: str) -> str:
    """Same bank, branch and account with another RIB key, IBAN check digits recomputed:
    only the French national key is wrong."""
    bban = iban[4:-2] + f"{(int(iban[-2:]) + 1) % 97:02d}"
    digits = "".join(str(int(c, 36)) for c in bban + "FR00")
    return f"FR{98 - int(digits) % 97:02d}{bban}"


@pytest.mark.parametrize(
    ("iban", "bic", "holder", "field"),
    [
        pytest.param(_flip_last_digit(GOOD), "BNPAFRPP", "Optique", "iban", id="iban-check-digits"),
        pytest.param(_bad_rib_key(GOOD), "BNPAFRPP", "Optique", "iban", id="rib-key"),
        pytest.param(GOOD[:-3], "BNPAFRPP", "Optique", "iban", id="length"),
        pytest.param(GOOD, "BNPAXXP", "Optique", "bic", id="bic-format"),
        pytest.param(GOOD, "DEUTDEFF", "Optique", "bic", id="bic-country"),
        pytest.param(GOOD, "BNPAFRPP", "", "holder_name", id="holder"),
    ],
)
def test_bad_bank_details_name_the_field_never_the_value(iban, bic, holder, field) -> None:
    with pytest.raises(InvalidBankDetails) as caught:
        validate_bank_details(iban=iban, bic=bic, holder_name=holder)
    assert caught.value.field == field
    assert iban not in str(caught.value)


def test_valid_details_and_the_masked_form() -> None:
    details = validate_bank_details(
        iban=GOOD.lower()[:4] + " " + GOOD[4:], bic="", holder_name=" Optique  du Centre "
    )
    assert (details.iban, details.bic, details.holder_name) == (
        GOOD,
        "BNPAFRPP",
        "Optique du Centre",
    )
    assert mask_iban(GOOD) == f"{GOOD[:4]} … {GOOD[-4:]}"


STEP_UP_SECONDS = 300


RECENT = "recent"  # _request's default: a second factor one minute before ``now``


def _request(professional, now: datetime.datetime, stepped_up_at: object = RECENT):  # type: ignore[no-untyped-def]
    """A change request whose session passed a second factor at ``stepped_up_at`` (an aware
    instant, None for never, or :data:`RECENT`)."""
    return request_bank_account_change(
        KEYS,
        professional=professional,
        user=professional.user,
        second_factor_at=now - datetime.timedelta(minutes=1)
        if stepped_up_at == RECENT
        else stepped_up_at,
        step_up_seconds=STEP_UP_SECONDS,
        iban=NEW_IBAN,
        bic="PSSTFRPP",
        holder_name="Optique du Centre SARL",
        ip="192.0.2.44",
        user_agent="pytest",
        now=now,
        code_minutes=30,
        confirm_url=lambda pk: f"https://portail.example/banque/changement/{pk}/",
    )


def _run(tmp_path: Path, now: datetime.datetime):  # type: ignore[no-untyped-def]
    return run_payments(
        keys=KEYS,
        debtor=Debtor("Operateur", french_iban("30002", "00550", "0000157841Z"), "CRLYFRPP"),
        output_dir=tmp_path,
        now=now,
        execution_date=TODAY,
    )


@pytest.mark.parametrize(
    "stepped_up_at",
    [
        pytest.param(None, id="no-second-factor-in-session"),
        pytest.param(NOW - datetime.timedelta(seconds=STEP_UP_SECONDS + 1), id="too-old"),
    ],
)
def test_a_change_without_recent_step_up_is_refused_and_nothing_stored(
    paid_optician, stepped_up_at
) -> None:
    with pytest.raises(StepUpFailed):
        _request(paid_optician, NOW, stepped_up_at=stepped_up_at)
    assert BankAccount.objects.count() == 1
    assert not BankAccountChange.objects.exists()
    assert mail.outbox == []


def test_change_holds_payments_through_cooling_off_then_pays_the_new_account(
    config, paid_optician, tmp_path
) -> None:
    old = current_bank_account(paid_optician, now=NOW)
    invoice(config, paid_optician, make_patient(), "F-1")
    requested = _request(paid_optician, NOW)
    change = requested.change
    [message] = mail.outbox
    assert message.to == ["optique@example.org"]
    assert requested.code in message.body
    assert NEW_IBAN not in message.body and change.new_account.iban_masked in message.body
    assert f"/banque/changement/{change.pk}/" in message.body
    assert (change.requested_ip, change.requested_by_id) == ("192.0.2.44", paid_optician.user_id)

    # Awaiting the emailed code: held, sent to neither account.
    held = _run(tmp_path, NOW + datetime.timedelta(minutes=10))
    assert [(h.reason, h.claim_count) for h in held.held] == [("bank_change_pending", 1)]
    assert not Transfer.objects.exists()
    assert Claim.objects.get().status == ClaimStatus.ACCEPTED

    with pytest.raises(InvalidConfirmationCode):
        confirm_bank_account_change(
            professional=paid_optician,
            change_id=change.pk,
            code="12345678" if requested.code != "12345678" else "87654321",
            ip="192.0.2.44",
            now=NOW + datetime.timedelta(minutes=15),
            cooling_off_hours=72,
        )
    confirmed_at = NOW + datetime.timedelta(minutes=20)
    confirm_bank_account_change(
        professional=paid_optician,
        change_id=change.pk,
        code=requested.code,
        ip="192.0.2.45",
        now=confirmed_at,
        cooling_off_hours=72,
    )
    change.refresh_from_db()
    assert change.effective_at == confirmed_at + datetime.timedelta(hours=72)
    assert change.attempts == 1
    assert len(mail.outbox) == 2 and "prendra effet" in mail.outbox[1].body

    # Cooling off: still held.
    during = NOW + datetime.timedelta(hours=50)
    assert payment_hold(paid_optician, now=during) == "bank_change_pending"
    assert current_bank_account(paid_optician, now=during) == old
    _run(tmp_path, during)
    assert not Transfer.objects.exists()
    assert HeldPayment.objects.count() == 2

    # After the period: the new account is paid.
    after = confirmed_at + datetime.timedelta(hours=72, minutes=1)
    result = _run(tmp_path, after)
    [transfer] = Transfer.objects.all()
    assert transfer.bank_account_id == change.new_account_id
    [tx] = read_pain001(next(Path(result.run.directory).glob("virements-*.xml")).read_bytes())
    assert (tx["iban"], tx["amount"]) == (NEW_IBAN, "200.00")
    assert Claim.objects.get().status == ClaimStatus.PAID
    old.refresh_from_db()
    assert old.superseded_at == change.effective_at
    assert BankAccount.objects.count() == 2  # the history is kept


def test_a_step_up_exactly_at_the_limit_is_still_accepted(paid_optician) -> None:
    limit = NOW - datetime.timedelta(seconds=STEP_UP_SECONDS)
    requested = _request(paid_optician, NOW, stepped_up_at=limit)
    assert requested.change.requested_by == paid_optician.user


def test_a_cancelled_change_releases_the_hold_to_the_old_account(paid_optician) -> None:
    requested = _request(paid_optician, NOW)
    assert payment_hold(paid_optician, now=NOW) == "bank_change_pending"
    cancel_bank_account_change(professional=paid_optician, change_id=requested.change.pk, now=NOW)
    assert payment_hold(paid_optician, now=NOW) is None
    assert (
        requested.change.new_account.iban_masked
        != current_bank_account(paid_optician, now=NOW).iban_masked
    )


def test_an_unconfirmed_change_lapses_with_its_code(paid_optician) -> None:
    requested = _request(paid_optician, NOW)
    later = NOW + datetime.timedelta(minutes=31)
    assert payment_hold(paid_optician, now=later) is None
    with pytest.raises(InvalidConfirmationCode):
        confirm_bank_account_change(
            professional=paid_optician,
            change_id=requested.change.pk,
            code=requested.code,
            ip=None,
            now=later,
            cooling_off_hours=72,
        )
