"""Seeding the demo platform: synthetic insurers, contracts, beneficiaries, professionals,
a verified demo professional with TOTP and an API token, and sample patients to try.

Everything is synthetic (Faker fr_FR, ``registry.synthetic``); the random generator is seeded
so two fresh demos hold the same register.
"""

from __future__ import annotations

import base64
import datetime
import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from faker import Faker

from tierspayant.attestations.selectors import family_of
from tierspayant.attestations.services import (
    attestation_json,
    attestation_pdf,
    build_attestation,
)
from tierspayant.crypto.keys import Keyring, KeySet
from tierspayant.portal.demo_lots import seed_lot_professionals
from tierspayant.providers.choices import Profession, Scope
from tierspayant.providers.services import create_professional, issue_api_token
from tierspayant.providers.synthetic import synthetic_finess, synthetic_rpps
from tierspayant.registry.choices import ContractType, Domain
from tierspayant.registry.models import Beneficiary, Contract, Insurer
from tierspayant.registry.services import build_beneficiary, create_contract, create_insurer
from tierspayant.registry.synthetic import SyntheticPerson, synthetic_family
from tierspayant.settlement.choices import FundingMode
from tierspayant.settlement.services import set_funding

DEMO_USERNAME = "opticien.demo"
STAFF_USERNAME = "securite.demo"
#: How the demo staff account gets its first passkey: not open at seeding; its request is
#: approved from the shell (``approve-passkey-enrolment``), the bootstrap for a platform's first
#: staff member, since no other staff member could approve it (docs/security.md).
STAFF_PASSKEY_ENROLMENT = (
    "Sign in to the portal as this account, Sécurité → « Demander l'enrôlement d'une clé "
    "d'accès », then run `make approve-staff-passkey` and add the passkey within the hour "
    "(sign in again first if the sign-in is older than 5 minutes)."
)
BATCH = 1000

_INSURERS = [
    ("88123456", "Mutuelle Synthétique des Alpes"),
    ("99234567", "Prévoyance Exemple Atlantique"),
]
_CONTRACTS = [
    # (number suffix, type, responsible, domains, guarantee table in fixtures/guarantee-tables)
    (
        "IND-ESSENTIEL",
        ContractType.INDIVIDUAL,
        True,
        [Domain.PHARMACY, Domain.CONSULTATION],
        "essentiel",
    ),
    ("IND-CONFORT", ContractType.INDIVIDUAL, True, list(Domain), "equilibre"),
    ("COL-ENTREPRISE", ContractType.COLLECTIVE, True, list(Domain), "excellence"),
]
_PROFESSIONS = [
    Profession.OPTICIAN,
    Profession.AUDIOPROSTHETIST,
    Profession.PHARMACIST,
    Profession.DENTIST,
    Profession.PHYSICIAN,
    Profession.HOSPITAL,
]


@dataclass(frozen=True)
class DemoCredentials:
    """What ``var/demo-credentials.json`` holds (a JSON-ready dict via :meth:`as_dict`)."""

    professional: dict[str, str]
    staff: dict[str, str]
    api_token: str
    patients: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """The JSON document."""
        return {
            "portal_url": "http://127.0.0.1:8000/",
            "professional": self.professional,
            "staff": self.staff,
            "api_token": self.api_token,
            "patients": self.patients,
        }


def _add_totp(user: Any) -> str:
    """Give ``user`` a confirmed TOTP device; return its secret in base32 (for an app)."""
    key = secrets.token_bytes(20)
    TOTPDevice.objects.create(user=user, name="Application TOTP", key=key.hex(), confirmed=True)
    return base64.b32encode(key).decode("ascii")


def _patient(person: SyntheticPerson, amc: str, expect: str) -> dict[str, Any]:
    return {
        "nir": person.nir,
        "rang": person.rang,
        "birth_date": person.birth_date.isoformat(),
        "amc_number": amc,
        "expected": expect,
    }


@transaction.atomic
def seed_demo(
    keyring: Keyring,
    *,
    today: datetime.date,
    now: datetime.datetime,
    beneficiaries: int = 5000,
    professionals: int = 20,
    progress: Callable[[int], None] = lambda n: None,
) -> DemoCredentials:
    """Create the demo register and accounts in one transaction; return the credentials.

    ``beneficiaries`` is a minimum (whole families are added); ``progress`` is called with the
    number of beneficiaries written after each batch. Raises nothing on a fresh database; on a
    seeded one the unique AMC numbers raise ``IntegrityError`` (nothing is written).
    """
    rng = random.Random(20240205)  # noqa: S311 - synthetic data, reproducible on purpose
    faker = Faker("fr_FR")
    faker.seed_instance(20240205)
    start = datetime.date(today.year - 3, 1, 1)
    contracts: list[Contract] = []
    for amc, name in _INSURERS:
        insurer = create_insurer(amc_number=amc, name=name)
        for suffix, kind, responsible, domains, table in _CONTRACTS:
            contracts.append(
                create_contract(
                    insurer=insurer,
                    number=f"{amc[:2]}-{suffix}",
                    contract_type=kind,
                    responsible=responsible,
                    valid_from=start,
                    valid_to=None,
                    domains=domains,
                    guarantee_table=table,
                    convention_type="TP",
                    routing_criterion=amc[:3],
                )
            )
    samples: list[dict[str, Any]] = []
    ended_sample: dict[str, Any] | None = None
    written = 0
    batch: list[Beneficiary] = []
    while written + len(batch) < beneficiaries:
        contract = rng.choice(contracts)
        ended = rng.random() < 0.08
        rights_end = today - datetime.timedelta(days=rng.randint(30, 400)) if ended else None
        family = synthetic_family(rng, faker, as_of=today)
        member_number = f"D{len(samples)}{written + len(batch):08d}"  # one per family
        for person in family:
            batch.append(
                build_beneficiary(
                    keyring,
                    contract=contract,
                    nir=person.nir,
                    rang=person.rang,
                    birth_date=person.birth_date,
                    last_name=person.last_name,
                    first_name=person.first_name,
                    quality=person.quality,
                    rights_start=start,
                    rights_end=rights_end,
                    member_number=member_number,
                    formulas="pharmacy=100%|optical=OPT2",
                )
            )
        insured = family[0]
        amc = contract.insurer.amc_number
        if ended and ended_sample is None:
            ended_sample = _patient(insured, amc, "not_covered")
        elif (
            not ended and len(samples) < 3 and Domain.OPTICAL.value in contract.tiers_payant_domains
        ):
            samples.append(_patient(insured, amc, "covered"))
        if len(batch) >= BATCH:
            Beneficiary.objects.bulk_create(batch)
            written += len(batch)
            batch = []
            progress(written)
    if batch:
        Beneficiary.objects.bulk_create(batch)
        written += len(batch)
        progress(written)
    if ended_sample is None or len(samples) < 3:
        raise ValueError("too few beneficiaries to pick demo patients: ask for at least 300")

    password = secrets.token_urlsafe(12)
    demo_pro = create_professional(
        username=DEMO_USERNAME,
        password=password,
        profession=Profession.OPTICIAN,
        display_name="Optique Démo (Lyon)",
        rpps=synthetic_rpps(rng),
    )
    totp_secret = _add_totp(demo_pro.user)
    token = issue_api_token(
        professional=demo_pro,
        name="Logiciel de démonstration",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=now,
        valid_days=90,
    )
    for index in range(professionals - 1):
        profession = _PROFESSIONS[index % len(_PROFESSIONS)]
        identifiers = (
            {"finess": synthetic_finess(rng)}
            if profession is Profession.HOSPITAL
            else {"rpps": synthetic_rpps(rng)}
        )
        create_professional(
            username=f"pro{index + 1:02d}.demo",
            password=secrets.token_urlsafe(16),
            profession=profession,
            display_name=f"{profession.label} {faker.last_name()}",
            **identifiers,
        )
    seed_lot_professionals(rng)  # pharmacist, laboratory, nurse, physiotherapist, GP
    staff_password = secrets.token_urlsafe(12)
    staff_secret = _add_totp(
        get_user_model().objects.create_user(
            username=STAFF_USERNAME, password=staff_password, is_staff=True, is_superuser=True
        )
    )
    return DemoCredentials(
        professional={
            "username": DEMO_USERNAME,
            "password": password,
            "totp_secret": totp_secret,
        },
        staff={
            "username": STAFF_USERNAME,
            "password": staff_password,
            "totp_secret": staff_secret,
            "passkey_enrolment": STAFF_PASSKEY_ENROLMENT,
        },
        api_token=token.secret,
        patients=[*samples, ended_sample],
    )


def write_demo_attestation(keys: KeySet, directory: Path, *, year: int) -> Path | None:
    """Write the first covered family's attestation for ``year`` (``demo-attestation.pdf``
    and ``.json`` in ``directory``); return the PDF's path (None: no family to show)."""
    first = (
        Beneficiary.objects.filter(is_canary=False, rights_end__isnull=True)
        .exclude(member_number_index="")
        .select_related("contract", "contract__insurer")
        .order_by("id")
        .first()
    )
    if first is None:
        return None
    made = build_attestation(keys, family_of(first, year=year), year=year)
    if made is None:
        return None
    pdf = directory / "demo-attestation.pdf"
    pdf.write_bytes(attestation_pdf(made))
    pdf.with_suffix(".json").write_text(
        json.dumps(attestation_json(made), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return pdf


def fhir_example(patient: dict[str, Any]) -> dict[str, Any]:
    """A CoverageEligibilityRequest for a demo patient, in the shape of docs/fhir.md."""
    return {
        "resourceType": "CoverageEligibilityRequest",
        "contained": [
            {
                "resourceType": "Patient",
                "id": "patient",
                "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": patient["nir"]}],
                "birthDate": patient["birth_date"],
            }
        ],
        "status": "active",
        "purpose": ["validation"],
        "patient": {"reference": "#patient"},
        "created": "2026-01-01",
        "insurer": {
            "identifier": {
                "system": "https://tierspayant.example/fhir/NamingSystem/amc-number",
                "value": patient["amc_number"],
            }
        },
    }


def fund_demo_insurers(keys: KeySet, *, now: datetime.datetime) -> None:
    """How the demo insurers fund their payment runs (issue 16 part 6), with synthetic
    accounts: the first by SEPA direct debit collected by the operator (mandate signed on
    the demo's first day), the second pays its transfers from its own account. Each commits
    to pay within 7 days."""
    first, second = (Insurer.objects.get(amc_number=amc) for amc, _ in _INSURERS)
    set_funding(
        keys,
        insurer=first,
        mode=FundingMode.DIRECT_DEBIT,
        account_name=first.name,
        iban="FR7610107001011234567890129",
        bic="BREDFRPP",
        mandate_id="MANDAT-DEMO-0001",
        mandate_date=now.date(),
        now=now,
    )
    set_funding(
        keys,
        insurer=second,
        mode=FundingMode.OWN_ACCOUNT,
        account_name=second.name,
        iban="FR1420041010050500013M02606",
        bic="PSSTFRPP",
        now=now,
    )
