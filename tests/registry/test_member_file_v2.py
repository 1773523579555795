"""Member file version 2 (issue 17.1): the member number (encrypted, blind index), the
contract's convention type and secondary routing criterion, formulas per domain, the AMO
regime and fund, the tiers payant suspension; version 1 files keep importing. SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings

from tests.registry.conftest import member_row
from tierspayant.crypto.keys import Keyring, parse_key_spec
from tierspayant.registry.member_file.columns import HEADER_V2
from tierspayant.registry.member_file.parsing import LineError, MemberFileError
from tierspayant.registry.models import Beneficiary, Contract
from tierspayant.registry.rotation import rotate_keys
from tierspayant.registry.services import member_number_index

pytestmark = pytest.mark.usefixtures("synthetic_register")

NIR_A = "284076912304595"
NIR_B = "178052B12304538"
NIR_C = "178052A12304610"


def v2_row(
    nir: str,
    *,
    member: str = "ADH0001",
    convention: str = "TP",
    routing: str = "R1",
    formulas: str = "pharmacy=100%|optical=OPT2",
    regime: str = "01",
    fund: str = "751",
    suspended: str = "N",
    **v1: str,
) -> str:
    return ";".join(
        (member_row(nir, **v1), member, convention, routing, formulas, regime, fund, suspended)
    )


@pytest.mark.parametrize("workers", [pytest.param(0, id="in-process"), pytest.param(1, id="pool")])
def test_v2_file_stores_the_keys_and_the_encrypted_member_number(
    run_import, write_file, keyring, workers
) -> None:
    path = write_file(
        [
            v2_row(NIR_A, formulas="optical=OPT2 | pharmacy=100 % BR", suspended=""),
            v2_row(
                NIR_A, first_name="Tom", birth="2015-03-01", quality="child", start="2015-03-01"
            ),
        ],
        header=HEADER_V2,
    )
    summary, errors = run_import(path, workers=workers)
    assert errors == []
    assert (summary.created, summary.rejected) == (2, 0)
    contract = Contract.objects.get(number="701-IND-CONFORT")
    assert (contract.convention_type, contract.routing_criterion) == ("TP", "R1")
    rows = list(Beneficiary.objects.order_by("first_name"))
    assert [b.member_number(keyring.encryption) for b in rows] == ["ADH0001", "ADH0001"]
    assert {b.member_number_index for b in rows} == {
        member_number_index(keyring.index, "70100001", "ADH0001")
    }
    assert all("ADH0001" not in b.member_number_ciphertext for b in rows)
    assert [b.formulas for b in rows] == ["pharmacy=100%|optical=OPT2"] * 2
    assert rows[0].formulas_by_domain() == {"pharmacy": "100%", "optical": "OPT2"}
    assert [(b.amo_regime, b.amo_fund, b.tiers_payant_suspended) for b in rows] == [
        ("01", "751", False)
    ] * 2
    again, _ = run_import(path, workers=workers)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_v2_over_v1_then_v1_again_keeps_the_v2_fields(run_import, write_file, keyring) -> None:
    run_import(write_file([member_row(NIR_A)]))
    row = Beneficiary.objects.get()
    assert (row.member_number(keyring.encryption), row.member_number_index) == ("", "")
    summary, errors = run_import(write_file([v2_row(NIR_A, suspended="O")], header=HEADER_V2))
    assert (errors, summary.updated, summary.created) == ([], 1, 0)
    row = Beneficiary.objects.get()
    # The ciphertext is bound to the updated row (not to the line's unused new id).
    assert row.member_number(keyring.encryption) == "ADH0001"
    assert row.tiers_payant_suspended is True
    summary, _ = run_import(write_file([member_row(NIR_A, first_name="Léonie")]))
    row = Beneficiary.objects.get()
    assert (summary.updated, row.first_name) == (1, "Léonie")
    assert (row.member_number(keyring.encryption), row.formulas, row.amo_fund) == (
        "ADH0001",
        "pharmacy=100%|optical=OPT2",
        "751",
    )
    # A new member number for the same person: re-encrypted for the row, re-indexed.
    run_import(write_file([v2_row(NIR_A, member="ADH0099")], header=HEADER_V2))
    row = Beneficiary.objects.get()
    assert row.member_number(keyring.encryption) == "ADH0099"
    assert row.member_number_index == member_number_index(keyring.index, "70100001", "ADH0099")


BAD_LINES = [
    ("numero_adherent", dict(member=""), "1 à 20 lettres ou chiffres attendus"),
    ("numero_adherent", dict(member="ADH-01"), "1 à 20 lettres ou chiffres attendus"),
    ("type_convention", dict(convention="ZZ"), "type de convention inconnu (attendu : CC, RS, TP)"),
    ("critere_routage", dict(routing="R/1"), "10 lettres ou chiffres au plus (ou vide)"),
    ("formules", dict(formulas="pharmacy"), "« domaine=formule » attendu, lu « pharmacy »"),
    (
        "formules",
        dict(formulas="pharmacy=cent pour cent"),
        "formule illisible pour pharmacy (taux « 100% » ou code « PH7 » attendu)",
    ),
    ("formules", dict(formulas="pharmacy=100%|pharmacy=OPT2"), "domaine pharmacy en double"),
    ("formules", dict(formulas="veterinary=100%"), "domaine inconnu : veterinary"),
    (
        "formules",
        dict(formulas="optical=OPT2", domains="pharmacy"),
        "domaine optical absent de « domaines »",
    ),
    ("regime_amo", dict(regime="1"), "2 chiffres attendus (ou vide)"),
    ("caisse_amo", dict(fund="75A"), "3 chiffres attendus (ou vide)"),
    ("suspension_tp", dict(suspended="X"), "« O » ou « N » attendu (ou vide)"),
]


@pytest.mark.parametrize(
    ("field", "change", "reason"), BAD_LINES, ids=[b[0] + str(i) for i, b in enumerate(BAD_LINES)]
)
def test_a_bad_v2_line_is_rejected_naming_line_and_field(
    run_import, write_file, field, change, reason
) -> None:
    path = write_file(
        [v2_row(NIR_B, birth="1978-05-14"), v2_row(NIR_A, **change)], header=HEADER_V2
    )
    summary, errors = run_import(path, all_or_nothing=True)
    assert errors == [LineError(3, field, reason)]
    assert (summary.imported, Beneficiary.objects.count()) == (False, 0)
    assert Contract.objects.get(number="701-IND-CONFORT").convention_type == ""


def test_a_member_number_of_another_family_is_refused(run_import, write_file) -> None:
    other = dict(contract="701-COL-ENTREPRISE", contract_type="collective")
    run_import(write_file([v2_row(NIR_B, birth="1978-05-14")], header=HEADER_V2))
    # In the register (an earlier file), then within one file (an earlier line).
    summary, errors = run_import(
        write_file(
            [
                v2_row(NIR_A, **other),
                v2_row(NIR_C, birth="1978-05-20", member="ADH0002", **other),
                v2_row(NIR_C, birth="1978-05-20", member="ADH0002", rang="2"),
            ],
            header=HEADER_V2,
        )
    )
    reason = (
        "numéro d'adhérent déjà utilisé par une autre famille de l'organisme (un autre contrat)"
    )
    assert errors == [
        LineError(2, "numero_adherent", reason),
        LineError(4, "numero_adherent", reason),
    ]
    assert (summary.created, summary.rejected) == (1, 2)
    assert Beneficiary.objects.count() == 2


def test_a_line_whose_keys_differ_from_the_contracts_is_refused(run_import, write_file) -> None:
    run_import(write_file([v2_row(NIR_A)], header=HEADER_V2))
    _, errors = run_import(
        write_file(
            [
                v2_row(NIR_B, birth="1978-05-14", convention="RS"),
                v2_row(NIR_C, birth="1978-05-20", routing="R2"),
            ],
            header=HEADER_V2,
        )
    )
    assert errors == [
        LineError(2, "type_convention", "ne correspond pas au type de convention du contrat"),
        LineError(
            3, "critere_routage", "ne correspond pas au critère secondaire de routage du contrat"
        ),
    ]


def test_a_v2_header_missing_a_v2_column_is_refused(run_import, write_file) -> None:
    header = HEADER_V2.replace(";caisse_amo", "")
    with pytest.raises(MemberFileError, match="colonnes manquantes : caisse_amo"):
        run_import(write_file([], header=header))


def test_contracts_created_from_a_v2_file_carry_its_keys(run_import, write_file) -> None:
    row = v2_row(NIR_A, contract="701-NOUVEAU", convention="RS", routing="")
    summary, errors = run_import(write_file([row], header=HEADER_V2), create_contracts=True)
    assert (errors, summary.contracts_created) == ([], 1)
    contract = Contract.objects.get(number="701-NOUVEAU")
    assert (contract.convention_type, contract.routing_criterion) == ("RS", "")


def test_key_rotation_re_encrypts_and_re_indexes_member_numbers(run_import, write_file) -> None:
    run_import(write_file([member_row(NIR_B, birth="1978-05-14")]))  # no member number
    run_import(write_file([v2_row(NIR_A)], header=HEADER_V2))
    old = settings.TIERSPAYANT_KEYRING
    new_field = parse_key_spec(
        "k9:Zk3Qe1vR5tY2uI9oP4aS7dF0gH3jK6lZ1xC5vB8nM2Q=," + _spec(old.encryption), name="t"
    )
    new_index = parse_key_spec(
        "i9:Qk3Qe1vR5tY2uI9oP4aS7dF0gH3jK6lZ1xC5vB8nM2Q=," + _spec(old.index), name="t"
    )
    rotated = Keyring(encryption=new_field, index=new_index)
    result = rotate_keys(rotated)
    assert (result.rotated, result.failed) == (2, [])
    row = Beneficiary.objects.exclude(member_number_index="").get()
    assert row.member_number_ciphertext.startswith("k9:")
    assert row.member_number(rotated.encryption) == "ADH0001"
    assert row.member_number_index == member_number_index(rotated.index, "70100001", "ADH0001")
    bare = Beneficiary.objects.get(member_number_index="")
    assert bare.member_number_ciphertext == ""
    assert rotate_keys(rotated).rotated == 0


def _spec(keys) -> str:
    import base64

    return ",".join(
        f"{kid}:{base64.urlsafe_b64encode(key).decode()}" for kid, key in keys.keys.items()
    )


def test_build_beneficiary_takes_a_member_number(keyring) -> None:
    from tierspayant.registry.choices import Quality
    from tierspayant.registry.services import InvalidRegisterEntry, register_beneficiary

    contract = Contract.objects.select_related("insurer").get(number="701-IND-CONFORT")
    made = register_beneficiary(
        keyring,
        contract=contract,
        nir=NIR_A,
        rang=1,
        birth_date=datetime.date(1984, 7, 2),
        last_name="Durand",
        first_name="Léa",
        quality=Quality.INSURED,
        rights_start=datetime.date(2024, 1, 1),
        rights_end=None,
        member_number="ADH0001",
    )
    assert Beneficiary.objects.get(pk=made.pk).member_number(keyring.encryption) == "ADH0001"
    with pytest.raises(InvalidRegisterEntry, match="member_number"):
        register_beneficiary(
            keyring,
            contract=contract,
            nir=NIR_B,
            rang=1,
            birth_date=datetime.date(1978, 5, 14),
            last_name="Martin",
            first_name="Paul",
            quality=Quality.INSURED,
            rights_start=datetime.date(2024, 1, 1),
            rights_end=None,
            member_number="ADH 01",
        )
