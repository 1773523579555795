"""Tiers payant attestations (issue 17.2) and the directory file (17.6): the DataMatrix
(pystrich) decodes with another library (zxing-cpp) to exactly the printed block; the command
writes a PDF and a JSON per family; insurer staff download their own members' attestations
only, counted and logged. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import io
import json

import pytest
import zxingcpp
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from PIL import Image, ImageOps
from pypdf import PdfReader

from tests.auth_helpers import staff_with_passkey
from tests.factories import ContractFactory, InsurerFactory, make_beneficiary
from tierspayant.attestations import layout
from tierspayant.attestations.selectors import family_count, insurer_families
from tierspayant.attestations.services import (
    Block,
    attestation_json,
    attestation_pdf,
    build_attestation,
    datamatrix_text,
    parse_datamatrix,
)
from tierspayant.audit.models import DisclosureLog
from tierspayant.registry.choices import Quality
from tierspayant.registry.models import InsurerStaff

pytestmark = pytest.mark.django_db

YEAR = 2026
KEYS = settings.TIERSPAYANT_KEYRING.encryption


def family(*, amc="70900009", convention="TP", routing="R7", member="ADH4242", **contract):
    """An insured (born 1980), a spouse whose rights end in June, a child: one contract."""
    insurer = InsurerFactory(amc_number=amc, name="Mutuelle Essai")
    made = ContractFactory(
        insurer=insurer, convention_type=convention, routing_criterion=routing, **contract
    )
    people = [
        make_beneficiary(
            contract=made, member_number=member, formulas="pharmacy=100%|optical=OPT2"
        ),
        make_beneficiary(
            contract=made,
            member_number=member,
            birth_date=datetime.date(1982, 3, 9),
            quality=Quality.SPOUSE,
            rights_end=datetime.date(YEAR, 6, 30),
        ),
        make_beneficiary(
            contract=made,
            member_number=member,
            birth_date=datetime.date(2015, 4, 1),
            quality=Quality.CHILD,
            rights_start=datetime.date(2015, 4, 1),
        ),
    ]
    return insurer, made, people


def decode_pdf(pdf: bytes) -> tuple[str, str]:
    """(the page's text, the DataMatrix's text read back with zxing-cpp)."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    [picture] = page.images
    image = picture.image.convert("L")
    big = ImageOps.expand(image.resize((image.width * 8, image.height * 8), Image.NEAREST), 16, 255)
    [code] = zxingcpp.read_barcodes(big)
    assert code.format == zxingcpp.BarcodeFormat.DataMatrix
    return page.extract_text(), code.text


@pytest.mark.parametrize(
    ("routing", "member"), [("R7", "ADH4242"), ("", "ADH4242")], ids=["full", "empty-routing"]
)
def test_the_datamatrix_decodes_to_exactly_the_printed_block(routing, member) -> None:
    insurer, _, people = family(routing=routing, member=member)
    [members] = list(insurer_families(insurer, year=YEAR))
    attestation = build_attestation(KEYS, members, year=YEAR)
    assert attestation is not None
    text, code = decode_pdf(attestation_pdf(attestation))
    block = parse_datamatrix(code)
    assert block == Block("70900009", "TP", routing, member, "01/01/2026", "31/12/2026")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(lines)
    # Every label is printed, with exactly the value the code carries (empty or not).
    printed = {}
    for spec in layout.BLOCK:
        line = next(x for x in lines if x.startswith(f"{spec.label} :"))
        printed[spec.key] = line.removeprefix(f"{spec.label} :").strip()
    assert printed == {
        "amc_number": "70900009",
        "convention_type": "TP",
        "routing_criterion": routing,
        "member_number": member,
        "valid_from": "01/01/2026",
        "valid_to": "31/12/2026",
    }
    assert "Contrat responsable : oui" in text
    assert "PHAR OPTI AUDI" in text
    # The beneficiaries, insured first, each with their own validity and formulas.
    born = [p.birth_date(KEYS).strftime("%d/%m/%Y") for p in people]
    assert f"{born[0]} 1 01/01/2026 - 31/12/2026 100% OPT2 TP" in text
    assert f"{born[1]} 1 01/01/2026 - 30/06/2026 TP TP TP" in text
    assert f"{born[2]} 1 01/01/2026 - 31/12/2026 TP TP TP" in text


def test_json_for_member_apps_holds_the_same_block() -> None:
    insurer, _, _people = family()
    [members] = list(insurer_families(insurer, year=YEAR))
    attestation = build_attestation(KEYS, members, year=YEAR)
    assert attestation is not None
    data = attestation_json(attestation)
    assert data["block"] == {
        "amc_number": "70900009",
        "convention_type": "TP",
        "routing_criterion": "R7",
        "member_number": "ADH4242",
        "valid_from": "01/01/2026",
        "valid_to": "31/12/2026",
    }
    assert (
        data["datamatrix"]
        == "ATP1|AMC:70900009|TC:TP|CSR:R7|ADH:ADH4242|DEB:01/01/2026|FIN:31/12/2026"
    )
    assert [b["quality"] for b in data["beneficiaries"]] == ["insured", "spouse", "child"]
    assert data["beneficiaries"][0]["formulas"] == {
        "pharmacy": "100%",
        "optical": "OPT2",
        "audio": "TP",
    }
    assert data["responsible_contract"] is True


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("XYZ1|AMC:1", "préfixe « ATP1 » attendu"),
        ("ATP1|AMC:1|TC:TP", "6 champs attendus"),
        ("ATP1|AMC:1|XX:TP|CSR:|ADH:1|DEB:|FIN:", "champ 3 : « TC: » attendu"),
    ],
)
def test_a_code_that_is_not_an_attestation_is_refused_in_french(text, reason) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_datamatrix(text)
    assert parse_datamatrix(datamatrix_text(Block("1", "", "", "", "", ""))) == Block(
        "1", "", "", "", "", ""
    )


def test_command_writes_a_pdf_and_a_json_per_family(tmp_path, capsys) -> None:
    insurer, contract, _ = family()
    make_beneficiary(contract=contract, member_number="ADH0002")  # a second family
    make_beneficiary(contract=contract, member_number="ADH0003", tiers_payant_suspended=True)
    make_beneficiary(  # rights ended before the year: no attestation
        contract=contract, member_number="ADH0004", rights_end=datetime.date(2025, 12, 31)
    )
    make_beneficiary(contract=contract)  # version 1 row: a family of its own, no member number
    assert family_count(insurer, year=YEAR) == 4
    call_command(
        "issue_attestations", insurer="70900009", year=YEAR, out=tmp_path, workers=0, json=True
    )
    summary = json.loads(capsys.readouterr().out)
    assert (summary["families"], summary["issued"], summary["skipped"]) == (4, 3, 1)
    assert len(list(tmp_path.glob("*.pdf"))) == len(list(tmp_path.glob("*.json"))) == 3
    blocks = sorted(
        json.loads(p.read_text(encoding="utf-8"))["block"]["member_number"]
        for p in tmp_path.glob("*.json")
    )
    assert blocks == ["", "ADH0002", "ADH4242"]
    # With worker processes: the same files.
    again = tmp_path / "pool"
    call_command(
        "issue_attestations", insurer="70900009", year=YEAR, out=again, workers=1, json=True
    )
    assert sorted(p.name for p in again.iterdir()) == sorted(
        p.name for p in tmp_path.iterdir() if p.is_file()
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(insurer="99999999", year=YEAR), "organisme complémentaire 99999999 inconnu"),
        (dict(insurer="70900009", year=1900), "année de 2000 à 2100 attendue"),
        (dict(insurer="70900009", year=YEAR, format="docx"), "« pdf » et/ou « json » attendus"),
    ],
)
def test_command_refuses_bad_options_in_french(options, message, tmp_path) -> None:
    family()
    with pytest.raises(CommandError, match=message):
        call_command("issue_attestations", out=tmp_path, **options)


def staff_client(insurer, *, permission: bool = True):
    user = get_user_model().objects.create_user(
        username=f"staff-{insurer.amc_number}",
        password="correct-horse-battery-staple-42",
        is_staff=True,
    )
    if permission:
        user.user_permissions.add(Permission.objects.get(codename="view_beneficiary"))
    InsurerStaff.objects.create(user=user, insurer=insurer)
    return staff_with_passkey(user), user


def test_insurer_staff_download_their_own_members_attestation_only() -> None:
    alpha, _, people = family()
    _beta, _, others = family(amc="70800008", member="ADH9999")
    canary = make_beneficiary(contract=people[0].contract)
    type(canary).objects.filter(pk=canary.pk).update(is_canary=True)
    client, user = staff_client(alpha)
    before = set(DisclosureLog.objects.values_list("pk", flat=True))
    url = reverse("admin:attestations_download", args=[people[2].pk])
    response = client.get(url, {"annee": str(YEAR)})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="attestation-')
    _, code = decode_pdf(response.content)
    assert parse_datamatrix(code).member_number == "ADH4242"
    rows = DisclosureLog.objects.exclude(pk__in=before).order_by("pk")
    assert sorted((r.purpose, r.outcome, r.beneficiary_id, r.reason) for r in rows) == sorted(
        ("attestation", "attestation_issued", p.pk, f"staff:{user.pk}") for p in people
    )
    # Another insurer's member, a canary, an unknown id: 404, nothing logged.
    logged = DisclosureLog.objects.count()
    for pk in (others[0].pk, canary.pk, "00000000-0000-7000-8000-000000000000"):
        assert client.get(reverse("admin:attestations_download", args=[pk])).status_code == 404
    assert DisclosureLog.objects.count() == logged
    # A year without rights: a French 404; a malformed year: 400.
    closed = client.get(url, {"annee": "2010"})
    assert (closed.status_code, closed.content.decode()) == (
        404,
        "aucun droit ouvert en 2010 : pas d'attestation",
    )
    assert client.get(url, {"annee": "20x6"}).status_code == 400
    # The change page links to it.
    page = client.get(reverse("admin:registry_beneficiary_change", args=[people[2].pk]))
    assert url in page.content.decode()


def test_staff_downloads_count_against_their_read_quota(settings) -> None:
    settings.TIERSPAYANT_HISTORY_STAFF_HOURLY_QUOTA = 1
    alpha, _, people = family()
    client, _ = staff_client(alpha)
    url = reverse("admin:attestations_download", args=[people[0].pk])
    assert client.get(url, {"annee": str(YEAR)}).status_code == 200
    refused = client.get(url, {"annee": str(YEAR)})
    assert refused.status_code == 429
    last = DisclosureLog.objects.order_by("-pk").first()
    assert last is not None and (last.purpose, last.outcome) == ("attestation", "refused_quota")


def test_staff_without_the_beneficiary_permission_are_refused() -> None:
    alpha, _, people = family()
    client, _ = staff_client(alpha, permission=False)
    url = reverse("admin:attestations_download", args=[people[0].pk])
    assert client.get(url).status_code == 403


def test_directory_lists_service_addresses_per_routing_keys(capsys) -> None:
    family()
    family(amc="70800008", convention="RS", routing="")
    ContractFactory(insurer=InsurerFactory(amc_number="70700007"))  # no keys: not listed
    ended = ContractFactory(
        insurer=InsurerFactory(amc_number="70600006"),
        convention_type="TP",
        valid_to=datetime.date(2020, 12, 31),
    )
    assert ended.pk
    call_command("write_directory", base_url="https://tp.example.fr/")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "numero_amc;type_convention;critere_routage;service;adresse"
    assert lines[1:5] == [
        "70800008;RS;;IDB;https://tp.example.fr/api/v1/eligibility",
        "70800008;RS;;IDB-FHIR;https://tp.example.fr/fhir/r4/CoverageEligibilityRequest",
        "70800008;RS;;PEC;https://tp.example.fr/api/v1/prior-approvals",
        "70800008;RS;;FACT;https://tp.example.fr/api/v1/claims",
    ] or lines[1:6] == [
        "70800008;RS;;IDB;https://tp.example.fr/api/v1/eligibility",
        "70800008;RS;;IDB-FHIR;https://tp.example.fr/fhir/r4/CoverageEligibilityRequest",
        "70800008;RS;;CLC;https://tp.example.fr/api/v1/calculations",
        "70800008;RS;;PEC;https://tp.example.fr/api/v1/prior-approvals",
        "70800008;RS;;FACT;https://tp.example.fr/api/v1/claims",
    ]
    assert {line.split(";")[0] for line in lines[1:]} == {"70800008", "70900009"}
    assert all(line.split(";")[4].startswith("https://tp.example.fr/") for line in lines[1:])
    call_command("write_directory", base_url="https://tp.example.fr", format="json")
    data = json.loads(capsys.readouterr().out)
    assert [
        (r["amc_number"], r["convention_type"], r["routing_criterion"]) for r in data["routes"]
    ] == [
        ("70800008", "RS", ""),
        ("70900009", "TP", "R7"),
    ]
    assert data["routes"][1]["services"]["IDB"] == "https://tp.example.fr/api/v1/eligibility"
    with pytest.raises(CommandError, match="adresse https:// attendue"):
        call_command("write_directory", base_url="http://x")
