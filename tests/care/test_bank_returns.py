"""Bank returns (issue 16 part 5): camt.054 notifications and pain.002 status reports,
validated against the official schemas, reopen exactly the returned transfers' claims, hold
the professional until new bank details pass the change workflow, and the next run pays each
claim once. The same file twice changes nothing; a bad file is refused whole."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from tests.care.bank_files import EXAMPLES, camt054, pain002
from tests.care.conftest import NOW, TODAY, Patient, french_iban, invoice, make_patient
from tests.factories import make_beneficiary, make_professional, new_nir
from tierspayant.claims.choices import ClaimStatus
from tierspayant.claims.models import Claim
from tierspayant.payments.bank_returns import (
    BankReturnRefused,
    import_bank_returns,
    parse_bank_returns,
)
from tierspayant.payments.models import (
    BankReturn,
    BankReturnFile,
    HeldPayment,
    SepaFile,
    Transfer,
    TransferLine,
)
from tierspayant.payments.sepa import Debtor
from tierspayant.payments.services import NothingToPay, run_payments
from tierspayant.priorauth.lpp import LineInput
from tierspayant.providers.banking import (
    confirm_bank_account_change,
    register_first_bank_account,
    request_bank_account_change,
)

pytestmark = pytest.mark.django_db
KEYS = settings.TIERSPAYANT_KEYRING.encryption
NEW_IBAN = french_iban("20041", "01005", "0500013M026")
HEARING = [LineInput(code="2351057", billed="950.00")]
D = Decimal


def _run(tmp_path: Path, now: datetime.datetime):  # type: ignore[no-untyped-def]
    return run_payments(
        keys=KEYS,
        debtor=Debtor("Operateur", french_iban("30002", "00550", "0000157841Z"), "CRLYFRPP"),
        output_dir=tmp_path,
        now=now,
        execution_date=TODAY,
    )


def _patient_on(contract) -> Patient:  # type: ignore[no-untyped-def]
    """Another patient of the same contract (so of the same insurer)."""
    born = datetime.date(1979, 2, 11)
    nir = new_nir(born)
    return Patient(make_beneficiary(contract=contract, nir=nir, birth_date=born), nir, born)


@pytest.fixture
def paid_run(config, paid_optician, tmp_path):  # type: ignore[no-untyped-def]
    """One run: the optician paid by two insurers (two transfers, three claims), a second
    optician paid by one (one transfer, one claim)."""
    other = make_professional(email="optique2@example.org")
    register_first_bank_account(
        KEYS,
        professional=other,
        iban=french_iban("30004", "00003", "99999999901"),
        bic="BNPAFRPP",
        holder_name="Optique de la Gare",
        now=NOW - datetime.timedelta(days=30),
    )
    first, second = make_patient(), make_patient()
    contract = first.beneficiary.contract
    invoice(config, paid_optician, first, "F-1")
    invoice(config, paid_optician, _patient_on(contract), "F-2")
    invoice(config, paid_optician, second, "F-3", HEARING)
    invoice(config, other, _patient_on(contract), "G-1")
    _run(tmp_path, NOW)
    assert Claim.objects.filter(status=ClaimStatus.PAID).count() == 4
    returned = Transfer.objects.get(
        professional=paid_optician, insurer=first.beneficiary.contract.insurer
    )
    return returned, other


def _statuses() -> dict[str, str]:
    return dict(Claim.objects.values_list("invoice_number", "status"))


def test_a_returned_transfer_reopens_exactly_its_claims_and_they_are_paid_once(
    paid_run, paid_optician, tmp_path
) -> None:
    returned, _ = paid_run
    assert returned.amount == D("400.00")  # two class B glasses, 200.00 euros of AMC each
    data = camt054([(returned.end_to_end_id, returned.amount, "AC04")])
    result = import_bank_returns(data, name="camt054-0320.xml", now=NOW)
    assert (result.reopened_claims, [t.pk for t in result.transfers]) == (2, [returned.pk])
    assert _statuses() == {"F-1": "accepted", "F-2": "accepted", "F-3": "paid", "G-1": "paid"}
    row = BankReturn.objects.get()
    assert (row.kind, row.reason_code, row.amount) == ("returned", "AC04", D("400.00"))
    returned.refresh_from_db()
    assert (returned.returned_at, returned.return_reason) == (NOW, "AC04")

    # The same file again: refused, nothing changes.
    with pytest.raises(BankReturnRefused, match="déjà importé"):
        import_bank_returns(data, name="camt054-0320.xml", now=NOW)
    assert BankReturnFile.objects.count() == 1 and BankReturn.objects.count() == 1

    # Next run: the optician is held on the account the money came back from.
    later = NOW + datetime.timedelta(days=1)
    held = _run(tmp_path, later).held
    assert [(h.reason, h.claim_count, h.amount) for h in held] == [
        ("bank_returned", 2, D("400.00"))
    ]
    assert Transfer.objects.count() == 3

    # New details through the change workflow (code, cooling-off), then paid once.
    requested = request_bank_account_change(
        KEYS,
        professional=paid_optician,
        user=paid_optician.user,
        second_factor_at=later,
        step_up_seconds=300,
        iban=NEW_IBAN,
        bic="PSSTFRPP",
        holder_name="Optique du Centre SARL",
        ip="192.0.2.44",
        user_agent="pytest",
        now=later,
        code_minutes=30,
        confirm_url=lambda pk: f"https://portail.example/banque/changement/{pk}/",
    )
    confirm_bank_account_change(
        professional=paid_optician,
        change_id=requested.change.pk,
        code=requested.code,
        ip="192.0.2.44",
        now=later,
        cooling_off_hours=72,
    )
    paid = _run(tmp_path, later + datetime.timedelta(hours=73))
    assert paid.held == []
    [again] = Transfer.objects.filter(run=paid.run)
    assert (again.amount, again.bank_account_id) == (D("400.00"), requested.change.new_account_id)
    assert set(_statuses().values()) == {"paid"}
    for claim in Claim.objects.all():
        assert TransferLine.objects.filter(invoice=claim.invoice, returned=False).count() == 1
    assert TransferLine.objects.filter(returned=True).count() == 2
    with pytest.raises(NothingToPay):
        _run(tmp_path, later + datetime.timedelta(hours=74))
    assert HeldPayment.objects.filter(reason="bank_returned").count() == 1


def test_a_pain002_rejection_through_the_command(paid_run, tmp_path, capsys) -> None:
    _, other = paid_run
    rejected = Transfer.objects.get(professional=other)
    path = tmp_path / "pain002.xml"
    path.write_bytes(
        pain002(
            [(rejected.end_to_end_id, rejected.amount, "AC01")],
            original_message_id=SepaFile.objects.first().message_id,
        )
    )
    call_command("import_bank_returns", str(path))
    assert "1 virement(s) retourné(s), 1 facture(s) rouverte(s)" in capsys.readouterr().out
    assert _statuses() == {"F-1": "paid", "F-2": "paid", "F-3": "paid", "G-1": "accepted"}
    assert BankReturn.objects.get().kind == "rejected"
    with pytest.raises(CommandError, match="déjà importé"):
        call_command("import_bank_returns", str(path))
    with pytest.raises(CommandError, match="introuvable"):
        call_command("import_bank_returns", str(tmp_path / "absent.xml"))


def test_a_whole_file_rejected_returns_each_of_its_transfers(paid_run) -> None:
    returned, _ = paid_run
    sepa_file = SepaFile.objects.get(insurer=returned.insurer)
    expected = set(
        Transfer.objects.filter(run=sepa_file.run, insurer=sepa_file.insurer).values_list(
            "pk", flat=True
        )
    )
    data = pain002([], original_message_id=sepa_file.message_id, group_status="RJCT")
    result = import_bank_returns(data, name="pain002-rjct.xml", now=NOW)
    assert {t.pk for t in result.transfers} == expected
    assert result.reopened_claims == TransferLine.objects.filter(returned=True).count() >= 3


def _schema_broken() -> bytes:
    return camt054([("X", D("1.00"), "AC04")]).replace(b"<CdtDbtInd>CRDT</CdtDbtInd>", b"", 1)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda t: b"not xml at all", "ligne 1 : XML illisible"),
        (lambda t: b"<Document/>", "ni un avis camt.054"),
        (lambda t: _schema_broken(), "non conforme au schéma camt.054.001.08.xsd"),
        (
            lambda t: b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>',
            "XML illisible ou interdit",
        ),
        (
            lambda t: camt054([("RUN-INCONNU-1", D("10.00"), "AC04")]),
            "virement inconnu (référence de bout en bout RUN-INCONNU-1)",
        ),
        (
            lambda t: camt054(
                [(t.end_to_end_id, t.amount, "AC04"), ("RUN-INCONNU-2", D("1.00"), "AC04")]
            ),
            "virement inconnu (référence de bout en bout RUN-INCONNU-2)",
        ),
        (
            lambda t: camt054([(t.end_to_end_id, t.amount + 1, "AC04")]),
            "n'est pas celui du virement (400.00 €)",
        ),
        (
            lambda t: pain002([], original_message_id="RUN-AUTRE", group_status="RJCT"),
            "fichier de virements inconnu (message RUN-AUTRE)",
        ),
    ],
    ids=[
        "not-xml",
        "not-a-bank-message",
        "schema",
        "entities",
        "unknown-transfer",
        "one-known-one-unknown",
        "amount",
        "unknown-original-file",
    ],
)
def test_a_bad_file_is_refused_whole_with_a_clear_message(paid_run, build, message) -> None:
    returned, _ = paid_run
    with pytest.raises(BankReturnRefused) as refused:
        import_bank_returns(build(returned), name="retours.xml", now=NOW)
    assert refused.value.message.startswith("retours.xml")
    assert message in refused.value.message
    assert not BankReturnFile.objects.exists() and not BankReturn.objects.exists()
    assert set(_statuses().values()) == {"paid"}
    assert not Transfer.objects.filter(returned_at__isnull=False).exists()


def test_a_transfer_already_returned_by_another_file_is_refused(paid_run) -> None:
    returned, _ = paid_run
    import_bank_returns(
        camt054([(returned.end_to_end_id, returned.amount, "AC04")]), name="a.xml", now=NOW
    )
    again = camt054([(returned.end_to_end_id, returned.amount, "AC04")], message_id="AUTRE")
    with pytest.raises(BankReturnRefused, match="déjà enregistré comme retourné"):
        import_bank_returns(again, name="b.xml", now=NOW)
    assert BankReturnFile.objects.count() == 1


def test_an_invoice_cannot_have_two_lines_in_force(paid_run) -> None:
    returned, _ = paid_run
    line = TransferLine.objects.filter(transfer=returned).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        TransferLine.objects.create(
            run=line.run, transfer=returned, invoice=line.invoice, amount=line.amount
        )


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("camt054-retour.xml", "camt.054", ("RUN-20250314-093000-A1B2-1", "AC04", D("100.03"))),
        ("pain002-rejet.xml", "pain.002", ("RUN-20250314-093000-A1B2-2", "AC01", D("56.40"))),
    ],
)
def test_the_committed_examples_are_valid_and_read(name, kind, expected) -> None:
    parsed = parse_bank_returns((EXAMPLES / name).read_bytes(), name=name)
    assert parsed.kind == kind
    [item] = parsed.items
    assert (item.end_to_end_id, item.reason_code, item.amount) == expected


def test_staff_upload_a_file_in_the_back_office(paid_run) -> None:
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.auth_helpers import staff_with_passkey
    from tests.factories import PASSWORD

    returned, _ = paid_run
    staff = get_user_model().objects.create_superuser("tresorerie", password=PASSWORD)
    client = staff_with_passkey(staff)
    url = "/admin/payments/bankreturnfile/importer/"
    assert "Importer" in client.get(url).content.decode()
    bad = client.post(
        url, {"file": SimpleUploadedFile("inconnu.xml", camt054([("RUN-X-1", D("1"), "AC04")]))}
    )
    assert bad.status_code == 400
    assert "inconnu.xml : virement inconnu (référence de bout en bout RUN-X-1)" in (
        bad.content.decode()
    )
    data = camt054([(returned.end_to_end_id, returned.amount, "AC04")])
    response = client.post(url, {"file": SimpleUploadedFile("camt054.xml", data)})
    assert response.status_code == 302
    imported = BankReturnFile.objects.get()
    assert (imported.source, imported.imported_by, imported.transfer_count) == ("admin", staff, 1)
    assert _statuses() == {"F-1": "accepted", "F-2": "accepted", "F-3": "paid", "G-1": "paid"}
    page = client.get(f"/admin/payments/bankreturnfile/{imported.pk}/change/").content.decode()
    assert "AC04" in page and returned.end_to_end_id in page
    again = client.post(url, {"file": SimpleUploadedFile("camt054.xml", data)})
    assert again.status_code == 400 and "déjà importé" in again.content.decode()
