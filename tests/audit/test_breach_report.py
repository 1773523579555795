"""The breach report: exactly the people an account exposed, per insurer; attempts apart;
bad input refused with exit code 2 and no files; the notices in French with the NIR masked."""

from __future__ import annotations

import datetime
import json
import re
import uuid
import zlib
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import ContractFactory, InsurerFactory, make_beneficiary, make_professional
from tierspayant.audit.breach import BreachScope, InvalidBreachScope, build_breach_report
from tierspayant.audit.choices import Channel
from tierspayant.audit.services import RequestContext
from tierspayant.eligibility.services import RightsCheckInput, check_rights
from tierspayant.registry.models import Beneficiary
from tierspayant.registry.nir import mask_nir

pytestmark = pytest.mark.django_db

BORN = datetime.date(1975, 6, 30)
DAY = datetime.datetime(2026, 2, 10, 10, 0, tzinfo=datetime.UTC)


def lookup(professional, beneficiary: Beneficiary, *, at: datetime.datetime, born=None, ip=None):
    keys = settings.TIERSPAYANT_KEYRING
    return check_rights(
        keys,
        professional=professional,
        query=RightsCheckInput(
            nir=beneficiary.nir(keys.encryption),
            birth_date=(born or beneficiary.birth_date(keys.encryption)).isoformat(),
            care_date=at.date(),
        ),
        context=RequestContext(
            channel=Channel.PORTAL,
            request_id=uuid.uuid4(),
            ip=ip or "198.51.100.7",
            user_agent="test",
            actor_id=professional.user_id,
        ),
        now=at,
        today=at.date(),
        quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
        daily_quota=1000,
    )


@pytest.fixture
def incident():
    """A stolen account looks up people at two insurers, plus misses; a colleague works
    normally; the same account worked normally before the window."""
    alpes = ContractFactory(insurer=InsurerFactory(amc_number="88111111", name="Mutuelle Alpes"))
    ocean = ContractFactory(insurer=InsurerFactory(amc_number="99222222", name="Océan Prévoyance"))
    people = [make_beneficiary(contract=alpes if n % 3 else ocean) for n in range(9)]
    missed = make_beneficiary(contract=alpes)  # only ever asked with a wrong birth date
    before = make_beneficiary(contract=alpes)  # looked up before the window
    canary = make_beneficiary(contract=ocean)
    Beneficiary.objects.filter(pk=canary.pk).update(is_canary=True)
    thief = make_professional(with_totp=False, username="opticien.vole", siret="12345678900011")
    colleague = make_professional(with_totp=False, username="opticien.honnete")
    lookup(thief, before, at=DAY - datetime.timedelta(days=5))
    for n, person in enumerate(people[:7]):
        lookup(thief, person, at=DAY + datetime.timedelta(minutes=n))
    lookup(thief, people[0], at=DAY + datetime.timedelta(hours=2))  # twice: one person
    lookup(thief, missed, at=DAY + datetime.timedelta(hours=3), born=datetime.date(1999, 1, 1))
    lookup(thief, canary, at=DAY + datetime.timedelta(hours=4))
    lookup(colleague, people[7], at=DAY + datetime.timedelta(hours=1), ip="203.0.113.9")
    return {"people": people, "missed": missed, "before": before, "thief": thief}


def scope(**kwargs) -> BreachScope:
    defaults = {
        "since": DAY - datetime.timedelta(days=1),
        "until": DAY + datetime.timedelta(days=1),
    }
    return BreachScope(**{**defaults, **kwargs})


NOW = DAY + datetime.timedelta(days=2)


def test_report_lists_exactly_the_people_disclosed_per_insurer(incident) -> None:
    report = build_breach_report(scope(accounts=("opticien.vole",)), now=NOW)
    listed = {p.beneficiary_id for i in report.insurers for p in i.people}
    expected = {str(p.pk) for p in incident["people"][:7]}
    assert listed == expected  # precision and recall 1
    assert str(incident["missed"].pk) not in listed
    assert str(incident["before"].pk) not in listed
    assert [i.amc_number for i in report.insurers] == ["88111111", "99222222"]
    for insurer in report.insurers:
        owned = {
            str(b)
            for b in Beneficiary.objects.filter(
                contract__insurer__amc_number=insurer.amc_number
            ).values_list("pk", flat=True)
        }
        assert {p.beneficiary_id for p in insurer.people} <= owned
    first = next(
        p
        for i in report.insurers
        for p in i.people
        if p.beneficiary_id == str(incident["people"][0].pk)
    )
    assert first.disclosures == 2
    assert set(first.fields) == {
        "coverage_status",
        "rights_period",
        "tiers_payant_domains",
        "amc_number",
    }
    assert report.records == 8
    assert report.attempts == {"no_match": 1}
    assert report.canary_records == 1
    assert report.lookups == 10


def test_scope_by_practice_and_by_ip(incident) -> None:
    by_practice = build_breach_report(scope(practices=("12345678900011",)), now=NOW)
    assert by_practice.people == 7
    by_ip = build_breach_report(scope(ips=("203.0.113.9",)), now=NOW)
    assert [p.beneficiary_id for i in by_ip.insurers for p in i.people] == [
        str(incident["people"][7].pk)
    ]
    by_network = build_breach_report(scope(ips=("203.0.113.0/24",)), now=NOW)
    assert by_network.people == 1


def test_command_prints_json_per_insurer(incident) -> None:
    out = StringIO()
    call_command(
        "breach_report",
        "--account=opticien.vole",
        "--since=2026-02-09",
        "--until=2026-02-10",
        stdout=out,
        stderr=StringIO(),
    )
    document = json.loads(out.getvalue())
    assert document["totals"]["people_exposed"] == 7
    assert document["totals"]["attempts_without_exposure"] == 1
    assert "not listed as exposures" in document["note"]
    ids = {b["id"] for i in document["insurers"] for b in i["beneficiaries"]}
    assert ids == {str(p.pk) for p in incident["people"][:7]}
    for insurer in document["insurers"]:
        assert insurer["people_exposed"] == len(insurer["beneficiaries"])
        assert all(b["fields"] for b in insurer["beneficiaries"])


def test_command_writes_the_whole_pack(incident, tmp_path: Path) -> None:
    target = tmp_path / "incident-42"
    call_command(
        "breach_report",
        "--account=opticien.vole",
        "--since=2026-02-09",
        "--until=2026-02-10",
        "--format=csv",
        f"--output-dir={target}",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    csv_lines = (target / "breach-report.csv").read_text().splitlines()
    assert len(csv_lines) == 1 + 7
    assert json.loads((target / "breach-report.json").read_text())["totals"]["records_exposed"] == 8
    draft = (target / "88111111" / "notification-art33.md").read_text()
    assert "article 33" in draft and "Personnes concernées" in draft
    assert "Tentatives sans communication" in draft
    assert (target / "88111111" / "notification-art33.pdf").read_bytes().startswith(b"%PDF")
    letters = sorted((target / "88111111" / "lettres-art34").iterdir()) + sorted(
        (target / "99222222" / "lettres-art34").iterdir()
    )
    assert {p.stem for p in letters} == {str(p.pk) for p in incident["people"][:7]}
    keys = settings.TIERSPAYANT_KEYRING.encryption
    person = incident["people"][1]
    letter = pdf_text((target / "88111111" / "lettres-art34" / f"{person.pk}.pdf").read_bytes())
    nir = person.nir(keys)
    assert nir not in letter
    assert mask_nir(nir) in letter
    assert person.last_name in letter
    assert "Madame, Monsieur" in letter


def pdf_text(pdf: bytes) -> str:
    """The text drawn in an fpdf2 PDF (its content streams, inflated), Latin-1."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            chunks.append(stream.decode("latin-1"))
    text = "".join(chunks)
    return "".join(re.findall(r"\((.*?)\)\s*Tj", text))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account=nobody", "--since=2026-02-01"], "unknown account"),
        (["--practice=99999999999999", "--since=2026-02-01"], "unknown practice"),
        (["--account=opticien.vole", "--since=2026-02-10", "--until=2026-02-01"], "inverted"),
        (
            [
                "--account=opticien.vole",
                "--since=2026-02-10T10:00:00",
                "--until=2026-02-10T10:00:00",
            ],
            "empty window",
        ),
        (["--account=opticien.vole", "--since=2999-01-01", "--until=2999-02-01"], "future"),
        (["--account=opticien.vole", "--since=yesterday"], "--since"),
        (["--ip=300.1.1.1", "--since=2026-02-01"], "not an IP address"),
        (["--since=2026-02-01"], "at least one"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(incident, tmp_path, args, message) -> None:
    target = tmp_path / "pack"
    with pytest.raises(CommandError, match=message) as caught:
        call_command(
            "breach_report", *args, f"--output-dir={target}", stdout=StringIO(), stderr=StringIO()
        )
    assert caught.value.returncode == 2
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_non_empty_output_directory_is_refused(incident, tmp_path) -> None:
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(CommandError, match="not empty") as caught:
        call_command(
            "breach_report",
            "--account=opticien.vole",
            "--since=2026-02-01",
            f"--output-dir={tmp_path}",
            stdout=StringIO(),
        )
    assert caught.value.returncode == 2


def test_a_failure_midway_leaves_no_partial_pack(incident, tmp_path, monkeypatch) -> None:
    from tierspayant.audit import notices

    def broken(**kwargs):
        raise RuntimeError("printer on fire")

    monkeypatch.setattr(notices, "article34_letter", broken)
    with pytest.raises(RuntimeError):
        call_command(
            "breach_report",
            "--account=opticien.vole",
            "--since=2026-02-01",
            f"--output-dir={tmp_path / 'pack'}",
            stdout=StringIO(),
            stderr=StringIO(),
        )
    assert list(tmp_path.iterdir()) == []


def test_scope_validation_names_the_problem() -> None:
    with pytest.raises(InvalidBreachScope, match="inverted"):
        build_breach_report(
            scope(ips=("192.0.2.1",), until=DAY - datetime.timedelta(days=3)), now=NOW
        )
