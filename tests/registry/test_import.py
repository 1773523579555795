"""import-members on the database: idempotence, updates and terminations, every bad input,
all-or-nothing, duplicates, resume, contracts, key rotation. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.registry.conftest import FIXTURES, member_row
from tierspayant.crypto.keys import Keyring, parse_key_spec
from tierspayant.registry.member_file import server
from tierspayant.registry.member_file.importer import ImportInterrupted
from tierspayant.registry.member_file.parsing import MemberFileError
from tierspayant.registry.models import Beneficiary, Contract
from tierspayant.registry.selectors import beneficiaries_by_identity

pytestmark = pytest.mark.usefixtures("synthetic_register")

NIR_A = "284076912304595"
NIR_B = "178052B12304538"
NIR_C = "178052A12304610"


def counts(summary) -> dict[str, int]:
    return {
        k: getattr(summary, k)
        for k in ("read", "created", "updated", "terminated", "unchanged", "rejected")
    }


def test_import_is_idempotent(run_import) -> None:
    path = FIXTURES / "adherents-exemple.csv"
    first, errors = run_import(path)
    assert errors == []
    assert counts(first) == dict(
        read=40, created=40, updated=0, terminated=0, unchanged=0, rejected=0
    )
    snapshot = sorted(Beneficiary.objects.values_list("id", "nir_ciphertext", "rights_end"))
    second, _ = run_import(path)
    assert counts(second) == dict(
        read=40, created=0, updated=0, terminated=0, unchanged=40, rejected=0
    )
    assert Beneficiary.objects.count() == 40
    assert sorted(Beneficiary.objects.values_list("id", "nir_ciphertext", "rights_end")) == (
        snapshot
    )


@pytest.mark.parametrize("workers", [pytest.param(0, id="in-process"), pytest.param(1, id="pool")])
def test_imported_beneficiary_is_encrypted_and_found(run_import, write_file, keyring, workers):
    path = write_file([member_row(NIR_C, birth="1978-05-20", rang="2")])
    summary, _ = run_import(path, workers=workers)
    assert summary.created == 1
    found = beneficiaries_by_identity(keyring, nir=NIR_C, birth_date=datetime.date(1978, 5, 20))
    assert len(found) == 1
    person = found[0]
    assert (
        person.nir(keyring.encryption),
        person.birth_date(keyring.encryption).isoformat(),
        person.rang,
    ) == (
        NIR_C,
        "1978-05-20",
        2,
    )
    assert NIR_C not in person.nir_ciphertext
    assert person.contract.number == "701-IND-CONFORT"
    assert person.is_canary is False


def test_later_file_updates_and_terminates(run_import, write_file) -> None:
    run_import(
        write_file(
            [
                member_row(NIR_A),
                member_row(NIR_B, birth="1978-05-14"),
                member_row(NIR_C, birth="1978-05-20", end="2027-12-31"),
            ]
        )
    )
    later = write_file(
        [
            member_row(NIR_A, last_name="Durand-Martin"),  # updated
            member_row(NIR_B, birth="1978-05-14", end="2026-12-31"),  # terminated
            member_row(NIR_C, birth="1978-05-20", end="2027-06-30"),  # ends earlier
            member_row(NIR_A, birth="2015-03-03", quality="child", start="2024-01-01"),  # new
        ]
    )
    summary, errors = run_import(later)
    assert errors == []
    assert counts(summary) == dict(
        read=4, created=1, updated=1, terminated=2, unchanged=0, rejected=0
    )
    ends = dict(Beneficiary.objects.values_list("last_name", "rights_end"))
    assert str(ends["Durand-Martin"]) == "None"
    assert sorted(str(v) for v in Beneficiary.objects.values_list("rights_end", flat=True)) == [
        "2026-12-31",
        "2027-06-30",
        "None",
        "None",
    ]


def test_broken_fixture_reports_each_line_and_imports_the_rest(run_import) -> None:
    summary, errors = run_import(FIXTURES / "adherents-errones.csv")
    assert sorted((e.line, e.field) for e in errors) == [
        (3, "numero_amc"),  # unknown insurer
        (4, "fin_droits"),  # termination before the start
        (5, "nir"),  # wrong key
        (6, "nir"),  # 2A NIR with a wrong key
        (7, "ligne"),  # duplicate of line 2
        (8, "date_naissance"),  # 30 February
        (9, "encodage"),  # a Latin-1 line
        (10, "ligne"),  # truncated last line
    ]
    duplicate = next(e for e in errors if e.line == 7)
    assert "doublon de la ligne 2" in duplicate.reason
    assert (summary.created, summary.rejected, summary.read) == (1, 8, 9)
    assert Beneficiary.objects.count() == 1  # the 2B line
    assert not any("178052B" in e.reason or "Santoni" in e.reason for e in errors)


def test_all_or_nothing_imports_nothing(run_import) -> None:
    summary, errors = run_import(FIXTURES / "adherents-errones.csv", all_or_nothing=True)
    assert (summary.imported, summary.created, len(errors)) == (False, 0, 8)
    assert Beneficiary.objects.count() == 0


def test_all_or_nothing_imports_a_clean_file(run_import) -> None:
    summary, errors = run_import(FIXTURES / "adherents-exemple.csv", all_or_nothing=True)
    assert (summary.imported, summary.created, errors) == (True, 40, [])
    assert Beneficiary.objects.count() == 40


def test_duplicates_across_chunks_are_found(run_import, write_file) -> None:
    rows = [member_row(NIR_A), member_row(NIR_B, birth="1978-05-14"), member_row(NIR_A)]
    rows += [member_row(NIR_A, last_name="Autre")]
    summary, errors = run_import(write_file(rows), chunk_lines=1, batch_lines=1)
    assert [(e.line, e.field, e.reason.split(" (")[0]) for e in errors] == [
        (4, "ligne", "doublon de la ligne 2"),
        (5, "ligne", "doublon de la ligne 2"),
    ]
    assert (summary.created, Beneficiary.objects.count()) == (2, 2)


def test_a_duplicate_names_the_first_line_across_and_within_chunks(run_import, write_file):
    rows = [member_row(NIR_A), member_row(NIR_B, birth="1978-05-14")]
    rows += [member_row(NIR_A, first_name="Zoé"), member_row(NIR_A, last_name="Autre")]
    rows += [member_row(NIR_B, birth="1978-05-14")]
    summary, errors = run_import(write_file(rows), chunk_lines=2, batch_lines=2)
    assert [(e.line, e.reason.split(" (")[0]) for e in errors] == [
        (4, "doublon de la ligne 2"),  # next chunk, matches the row line 2 created
        (5, "doublon de la ligne 2"),  # same chunk as line 4, which repeats line 2
        (6, "doublon de la ligne 3"),
    ]
    assert (summary.created, summary.rejected) == (2, 3)
    assert sorted(Beneficiary.objects.values_list("first_name", flat=True)) == ["Léa", "Léa"]


@pytest.mark.parametrize("workers", [pytest.param(0, id="in-process"), pytest.param(1, id="pool")])
def test_names_keep_backslashes(run_import, write_file, workers) -> None:
    name = "O\\Neil de\\N"
    summary, errors = run_import(write_file([member_row(NIR_A, last_name=name)]), workers=workers)
    assert (summary.created, errors) == (1, [])
    assert Beneficiary.objects.get().last_name == name


@pytest.mark.parametrize("workers", [pytest.param(0, id="in-process"), pytest.param(1, id="pool")])
def test_a_control_character_rejects_its_line_naming_the_field_and_resume_works(
    run_import, write_file, workers
) -> None:
    rows = [
        member_row(NIR_A),
        member_row(NIR_B, birth="1978-05-14", last_name="Du\x00rand"),
        member_row(NIR_C, birth="1978-05-20", first_name="L\x1bea"),
        member_row(NIR_C, birth="1978-05-20", rang="2", contract="701-IND\tCONFORT"),
        member_row(NIR_C, birth="1978-05-20", rang="3"),
    ]
    path = write_file(rows)
    summary, errors = run_import(path, workers=workers)
    assert [(e.line, e.field) for e in errors] == [
        (3, "nom"),
        (4, "prenom"),
        (5, "numero_contrat"),
    ]
    assert all("Du" not in e.reason and "rand" not in e.reason for e in errors)
    assert (summary.created, summary.rejected) == (2, 3)
    # The resume the summary suggests goes through the same lines without failing.
    resumed, again = run_import(path, workers=workers, resume_after=2)
    assert [(e.line, e.field) for e in again] == [(3, "nom"), (4, "prenom"), (5, "numero_contrat")]
    assert (resumed.skipped, resumed.unchanged) == (1, 1)


def test_twins_and_different_contracts_are_not_duplicates(run_import, write_file) -> None:
    rows = [
        member_row(NIR_A, birth="2015-03-03", rang="1", quality="child"),
        member_row(NIR_A, birth="2015-03-03", rang="2", quality="child"),
        member_row(NIR_A, contract="701-COL-ENTREPRISE", contract_type="collective"),
        member_row(NIR_A),
    ]
    summary, errors = run_import(write_file(rows))
    assert (summary.created, errors) == (4, [])


@pytest.mark.parametrize(
    ("row", "field", "reason_part"),
    [
        pytest.param(member_row(NIR_A, amc="99999999"), "numero_amc", "inconnu", id="insurer"),
        pytest.param(
            member_row(NIR_A, contract="701-INCONNU"), "numero_contrat", "inconnu", id="contract"
        ),
        pytest.param(
            member_row(NIR_A, contract_type="collective"), "type_contrat", "type", id="type"
        ),
        pytest.param(member_row(NIR_A, domains="pharmacy"), "domaines", "contrat", id="domains"),
    ],
)
def test_lines_must_name_a_known_contract(run_import, write_file, row, field, reason_part):
    _summary, errors = run_import(write_file([row]))
    assert [(e.line, e.field) for e in errors] == [(2, field)]
    assert reason_part in errors[0].reason
    assert Beneficiary.objects.count() == 0


def test_create_contracts_for_known_insurers_only(run_import, write_file) -> None:
    rows = [
        member_row(NIR_A, contract="701-NOUVEAU", start="2024-03-01", domains="pharmacy"),
        member_row(
            NIR_B,
            birth="1978-05-14",
            contract="701-NOUVEAU",
            start="2023-01-01",
            domains="pharmacy",
        ),
        member_row(NIR_C, birth="1978-05-20", amc="99999999", contract="999-X"),
    ]
    summary, errors = run_import(write_file(rows), create_contracts=True)
    assert [(e.line, e.field) for e in errors] == [(4, "numero_amc")]
    assert (summary.created, summary.contracts_created) == (2, 1)
    made = Contract.objects.get(number="701-NOUVEAU")
    assert (made.insurer.amc_number, str(made.valid_from), made.tiers_payant_domains) == (
        "70100001",
        "2023-01-01",
        ["pharmacy"],
    )


def test_resume_after_skips_the_committed_lines(run_import) -> None:
    path = FIXTURES / "adherents-exemple.csv"
    summary, _ = run_import(path, resume_after=21)
    assert (summary.skipped, summary.read, summary.created) == (20, 20, 20)
    summary, _ = run_import(path)
    assert (summary.created, summary.unchanged) == (20, 20)


def test_an_interrupted_run_says_where_to_resume(run_import, write_file, monkeypatch) -> None:
    from tierspayant.registry.member_file import staging

    real_merge = staging.Staging.merge
    calls = []

    def failing_merge(self):
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("disque plein")
        return real_merge(self)

    monkeypatch.setattr(staging.Staging, "merge", failing_merge)
    rows = [member_row(NIR_A), member_row(NIR_B, birth="1978-05-14")]
    with pytest.raises(ImportInterrupted) as caught:
        run_import(write_file(rows), chunk_lines=1, batch_lines=1)
    assert caught.value.summary.committed_through == 2
    assert Beneficiary.objects.count() == 1


def test_rows_indexed_under_an_older_key_are_matched(run_import, write_file, keyring) -> None:
    path = write_file([member_row(NIR_A)])
    run_import(path)
    rotated = Keyring(
        encryption=keyring.encryption,
        index=parse_key_spec(
            "t2:Zk3Qe1vR5tY2uI9oP4aS7dF0gH3jK6lZ1xC5vB8nM2Q=,"
            + ",".join(
                f"{k}:" + base64.urlsafe_b64encode(v).decode()
                for k, v in keyring.index.keys.items()
            ),
            name="test",
        ),
    )
    summary, _ = run_import(path, keyring=rotated)
    assert (summary.created, summary.unchanged) == (0, 1)
    assert Beneficiary.objects.count() == 1


def test_unusable_file_raises_with_the_line(run_import) -> None:
    with pytest.raises(MemberFileError) as caught:
        run_import(FIXTURES / "separateur-virgule.csv")
    assert caught.value.line == 1
    assert "séparateur" in caught.value.reason


def test_command_json_summary_report_and_exit_code(tmp_path: Path, capsys) -> None:
    report = tmp_path / "erreurs.csv"
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_members",
            str(FIXTURES / "adherents-errones.csv"),
            "--json",
            "--report",
            str(report),
        )
    assert caught.value.returncode == 2
    assert "8 ligne(s) rejetée(s)" in str(caught.value)
    summary = json.loads(capsys.readouterr().out)
    assert {k: summary[k] for k in ("read", "created", "rejected", "backend")} == {
        "read": 9,
        "created": 1,
        "rejected": 8,
        "backend": connection.vendor,
    }
    lines = report.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "ligne;champ;motif"
    assert len(lines) == 9
    assert all("178052" not in line for line in lines)


def test_command_refuses_an_unusable_file_with_exit_2(tmp_path) -> None:
    report = tmp_path / "erreurs.csv"
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_members",
            str(FIXTURES / "separateur-virgule.csv"),
            "--json",
            "--report",
            str(report),
        )
    assert caught.value.returncode == 2
    assert "ligne 1" in str(caught.value) and "séparateur" in str(caught.value)


def test_summary_fields_are_documented() -> None:
    from tierspayant.registry.member_file.importer import ImportSummary

    doc = (FIXTURES.parents[1] / "docs" / "member-file.md").read_text(encoding="utf-8")
    for name in [f.name for f in dataclasses.fields(ImportSummary)] + ["rows_per_s"]:
        assert f"`{name}`" in doc, name


def test_a_large_file_gets_a_word_on_slow_server_settings(tmp_path, capsys, monkeypatch) -> None:
    """The import names, on stderr, the PostgreSQL settings that would slow a file this size
    (the threshold lowered so that a fixture counts as large); nothing on SQLite."""
    monkeypatch.setattr(server, "LARGE_FILE_BYTES", 0)
    call_command(
        "import_members",
        str(FIXTURES / "adherents-exemple.csv"),
        "--json",
        "--report",
        str(tmp_path / "erreurs.csv"),
    )
    out, err = capsys.readouterr()
    settings = server.read_settings(connection)
    expected = [f"Attention : {note}" for note in server.advice(settings)] if settings else []
    assert err.splitlines() == expected
    assert json.loads(out)["rejected"] == 0  # the summary on stdout stays one JSON object
