"""Payment runs: pain.001.001.09 per insurer valid against the official XSD and matching the
database, statements per professional, atomicity, never paying twice."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.care.conftest import NOW, TODAY, french_iban, invoice, make_patient
from tests.coverage.builders import SHARED
from tierspayant.claims.choices import ClaimStatus
from tierspayant.claims.models import Claim
from tierspayant.payments import services as payment_services
from tierspayant.payments.models import PaymentRun, Transfer, TransferLine
from tierspayant.payments.sepa import Debtor, SepaFileInvalid, read_pain001, validate
from tierspayant.payments.services import NothingToPay, run_payments
from tierspayant.priorauth.lpp import LineInput

pytestmark = pytest.mark.django_db
XSD = SHARED / "fixtures" / "sepa" / "pain.001.001.09.xsd"
D = Decimal


def debtor() -> Debtor:
    return Debtor(
        name="Operateur tierspayant",
        iban=french_iban("20041", "01005", "0500013M026"),
        bic="PSSTFRPP",
    )


def run(tmp_path: Path, now: datetime.datetime = NOW) -> payment_services.RunResult:
    return run_payments(
        keys=settings.TIERSPAYANT_KEYRING.encryption,
        debtor=debtor(),
        output_dir=tmp_path,
        now=now,
        execution_date=TODAY,
        xsd=XSD,
    )


def test_a_run_pays_each_insurer_by_sepa_and_matches_the_database(
    config, paid_optician, tmp_path
) -> None:
    first, second = make_patient(), make_patient()
    invoice(config, paid_optician, first, "F-1")
    hearing = [LineInput(code="2351057", billed="950.00")]
    invoice(config, paid_optician, second, "F-2", hearing)
    result = run(tmp_path)

    directory = Path(result.run.directory)
    files = sorted(p.name for p in directory.iterdir())
    amcs = sorted(
        {
            first.beneficiary.contract.insurer.amc_number,
            second.beneficiary.contract.insurer.amc_number,
        }
    )
    assert files == [
        f"releve-{paid_optician.pk}.csv",
        f"releve-{paid_optician.pk}.pdf",
        *[f"virements-{amc}.xml" for amc in amcs],
    ]
    account = paid_optician.bank_accounts.get()
    iban = account.iban(settings.TIERSPAYANT_KEYRING.encryption)
    for transfer in Transfer.objects.filter(run=result.run):
        xml = (directory / f"virements-{transfer.insurer.amc_number}.xml").read_bytes()
        validate(xml, XSD)  # the official schema, read in place
        [tx] = read_pain001(xml)
        assert tx == {
            "end_to_end_id": transfer.end_to_end_id,
            "amount": f"{transfer.amount:.2f}",
            "iban": iban,
            "bic": "BNPAFRPP",
            "name": "Optique du Centre",
        }
        assert D(tx["amount"]) == sum(c.invoice.total_amc for c in transfer.lines.all())
    assert sorted(t.amount for t in Transfer.objects.all()) == [D("200.00"), D("710.00")]
    assert result.run.total == D("910.00")
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.PAID}

    rows = list(
        csv.DictReader(
            io.StringIO((directory / f"releve-{paid_optician.pk}.csv").read_text("utf-8-sig")),
            delimiter=";",
        )
    )
    assert [(r["facture"], r["part_amc"], r["part_amo"], r["reste_a_charge"]) for r in rows] == [
        ("F-1", "200.00", "0.09", "189.91"),
        ("F-2", "710.00", "240.00", "0.00"),
    ]
    text = (directory / f"releve-{paid_optician.pk}.csv").read_text("utf-8-sig")
    assert first.nir not in text and second.nir not in text
    assert first.beneficiary.last_name not in text
    assert (directory / f"releve-{paid_optician.pk}.pdf").read_bytes().startswith(b"%PDF")


def test_rerunning_never_pays_twice(config, paid_optician, tmp_path) -> None:
    invoice(config, paid_optician, make_patient(), "F-1")
    run(tmp_path)
    with pytest.raises(NothingToPay):
        run(tmp_path, NOW + datetime.timedelta(hours=1))
    assert TransferLine.objects.count() == 1
    assert PaymentRun.objects.count() == 1
    assert len(list(tmp_path.iterdir())) == 1


def test_a_failed_run_pays_nothing_and_leaves_no_file(
    config, paid_optician, tmp_path, monkeypatch
) -> None:
    invoice(config, paid_optician, make_patient(), "F-1")
    invoice(config, paid_optician, make_patient(), "F-2")

    calls = []
    real = payment_services.sepa.build_pain001

    def second_file_fails(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise SepaFileInvalid("pain.001.001.09: invalid at /Document")
        return real(**kwargs)

    monkeypatch.setattr(payment_services.sepa, "build_pain001", second_file_fails)
    with pytest.raises(SepaFileInvalid):
        run(tmp_path)
    assert len(calls) == 2
    assert list(tmp_path.iterdir()) == []
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.ACCEPTED}
    assert not PaymentRun.objects.exists()
    assert not TransferLine.objects.exists()


def test_nothing_to_pay_is_a_clear_error_from_the_command(db, tmp_path) -> None:
    with pytest.raises(CommandError, match="Rien à payer"):
        call_command("payment_run", "--output", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_the_command_pays_and_prints_the_run(config, paid_optician, tmp_path, capsys) -> None:
    invoice(
        config,
        paid_optician,
        make_patient(),
        "F-1",
        care_date=timezone.localdate(),
        today=timezone.localdate(),
    )
    call_command("payment_run", "--output", str(tmp_path))
    out = capsys.readouterr().out
    assert "1 factures payées" in out and "200.00 EUR" in out
