"""Every text of a pain.001 is in the SEPA (EPC) Latin character set, whatever was stored;
one creditor whose transfer cannot be written is held, the others are paid."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.care.conftest import NOW, french_iban, invoice, make_patient
from tests.care.test_payments import XSD, debtor, run
from tests.factories import make_professional
from tierspayant.claims.choices import ClaimStatus
from tierspayant.claims.models import Claim
from tierspayant.payments.choices import HoldReason
from tierspayant.payments.models import HeldPayment
from tierspayant.payments.sepa import (
    CreditTransfer,
    Debtor,
    InvalidTransfer,
    build_pain001,
    read_pain001,
    validate,
)
from tierspayant.providers.banking import (
    InvalidBankDetails,
    register_first_bank_account,
    validate_bank_details,
)
from tierspayant.providers.models import BankAccount
from tierspayant.text import sepa_id, sepa_text

#: EPC217-08 §1.4, written out here: the test must not share the code's set.
EPC = re.compile(r"[a-zA-Z0-9/?:().,'+ -]*")
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
#: Every text element of the file we fill from data: (XPath, longest allowed).
TEXTS = {
    ".//p:GrpHdr/p:MsgId": 35,
    ".//p:InitgPty/p:Nm": 70,
    ".//p:Dbtr/p:Nm": 70,
    ".//p:Cdtr/p:Nm": 70,
    ".//p:PmtId/p:EndToEndId": 35,
    ".//p:RmtInf/p:Ustrd": 140,
}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Optique Hélène & Fils", "Optique Helene + Fils"),
        ('O\'Brien "Lunettes" <SARL>', "O'Brien 'Lunettes' (SARL)"),
        ("Cabinet_Dupont [Paris]", "Cabinet-Dupont (Paris)"),
        ("Ligne\x00Nul\x1fFin", "Ligne Nul Fin"),
        ("Œil & Ouïe", "OEil + Ouie"),
        ("Straße  50 %", "Strasse 50"),
        ("  espaces  ", "espaces"),
        ("😀", ""),
    ],
    ids=[
        "accents",
        "quotes-angle",
        "underscore-brackets",
        "controls",
        "ligature",
        "percent",
        "spaces",
        "emoji",
    ],
)
def test_sepa_text_transliterates_to_the_epc_set(given: str, expected: str) -> None:
    assert sepa_text(given, 70) == expected


def test_sepa_ids_follow_the_epc_reference_rules() -> None:
    assert sepa_id("/RUN//2026 é_1/") == "RUN/2026-e-1"
    assert sepa_id("\x00") == "NOTPROVIDED"
    assert len(sepa_id("x" * 80)) == 35


def _file(name: str, remittance: str, end_to_end: str, message: str, debtor_name: str) -> bytes:
    return build_pain001(
        debtor=Debtor(name=debtor_name, iban=debtor().iban, bic=debtor().bic),
        transfers=[
            CreditTransfer(
                name=name,
                iban=french_iban("30004", "00003", "12345678901"),
                bic="BNPAFRPP",
                amount=Decimal("12.34"),
                end_to_end_id=end_to_end,
                remittance=remittance,
            )
        ],
        message_id=message,
        created_at=datetime.datetime(2026, 11, 29, 23, 0, tzinfo=datetime.UTC),
        execution_date=datetime.date(2026, 12, 1),
        xsd=XSD,
    )


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(max_size=120),
    remittance=st.text(max_size=200),
    end_to_end=st.text(max_size=60),
    message=st.text(max_size=60),
    debtor_name=st.text(max_size=120),
)
def test_any_text_in_any_sepa_field_gives_a_valid_file_in_the_epc_set(
    name: str, remittance: str, end_to_end: str, message: str, debtor_name: str
) -> None:
    if sepa_text(name, 70) == "":
        # Only a creditor name with nothing left in the set cannot be written.
        with pytest.raises(InvalidTransfer, match=r"^name:"):
            _file(name, remittance, end_to_end, message, debtor_name)
        return
    xml = _file(name, remittance, end_to_end, message, debtor_name)
    validate(xml, XSD)
    root = ET.fromstring(xml)  # noqa: S314 - our own file
    for path, longest in TEXTS.items():
        nodes = root.findall(path, NS)
        assert nodes, path
        for node in nodes:
            text = node.text or ""
            assert 1 <= len(text) <= longest, path
            assert EPC.fullmatch(text), (path, text)


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("holder_name", "\x01\x02\x1b"),
        ("holder_name", "😀😀"),
        ("bic", "bnpa_frpp"),
        ("iban_ciphertext", "not-a-token"),
    ],
    ids=["control-name", "emoji-name", "malformed-bic", "undecryptable-iban"],
)
def test_one_bad_bank_record_is_held_and_the_others_are_paid(
    config, paid_optician, tmp_path: Path, field: str, bad: str
) -> None:
    other = make_professional()
    register_first_bank_account(
        settings.TIERSPAYANT_KEYRING.encryption,
        professional=other,
        iban=french_iban("30004", "00003", "98765432101"),
        bic="BNPAFRPP",
        holder_name="Audition & Vue Hélène",
        now=NOW - datetime.timedelta(days=30),
    )
    invoice(config, paid_optician, make_patient(), "F-1")
    invoice(config, other, make_patient(), "F-2")
    # A record stored before the boundary checks (or written by hand in the database).
    BankAccount.objects.filter(professional=paid_optician).update(**{field: bad})

    result = run(tmp_path)

    [held] = result.held
    assert (held.professional_id, held.reason) == (
        paid_optician.pk,
        HoldReason.INVALID_BANK_DETAILS,
    )
    assert HeldPayment.objects.get().claim_count == 1
    statuses = dict(Claim.objects.values_list("invoice_number", "status"))
    assert statuses == {"F-1": ClaimStatus.ACCEPTED, "F-2": ClaimStatus.PAID}
    [xml_path] = Path(result.run.directory).glob("virements-*.xml")
    validate(xml_path.read_bytes(), XSD)
    [tx] = read_pain001(xml_path.read_bytes())
    assert tx["name"] == "Audition + Vue Helene"


def test_a_run_logs_the_hold_without_personal_data(
    config, paid_optician, tmp_path: Path, caplog
) -> None:
    invoice(config, paid_optician, make_patient(), "F-1")
    BankAccount.objects.filter(professional=paid_optician).update(holder_name="\x01")
    caplog.set_level("INFO")
    run(tmp_path, NOW)
    assert f"professional={paid_optician.pk}" in caplog.text and "field=name" in caplog.text
    assert "Optique" not in caplog.text


@pytest.mark.parametrize(
    "holder",
    ["Optique\x00Centre", "Optique\x1bCentre", "Optique\u2028Centre", "😀😀", "李"],
    ids=["nul", "escape", "line-separator", "emoji", "too-short"],
)
def test_a_holder_name_a_bank_cannot_take_is_refused_when_entered(holder: str) -> None:
    with pytest.raises(InvalidBankDetails) as caught:
        validate_bank_details(
            iban=french_iban("30004", "00003", "12345678901"), bic="BNPAFRPP", holder_name=holder
        )
    assert caught.value.field == "holder_name"
    assert holder not in caught.value.message


def test_a_holder_name_with_accents_is_kept_as_typed() -> None:
    details = validate_bank_details(
        iban=french_iban("30004", "00003", "12345678901"),
        bic="BNPAFRPP",
        holder_name="Optique Hélène & Fils",
    )
    assert details.holder_name == "Optique Hélène & Fils"
