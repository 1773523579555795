"""Factories for register and provider objects, built through the services (so tests exercise
the same validation and encryption as production). All data synthetic (Faker fr_FR)."""

from __future__ import annotations

import datetime
import random
from typing import Any

import factory
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from faker import Faker

from tierspayant.providers.choices import Profession
from tierspayant.providers.models import Professional
from tierspayant.providers.services import create_professional
from tierspayant.providers.synthetic import synthetic_rpps
from tierspayant.registry.choices import ContractType, Domain, Quality
from tierspayant.registry.models import Beneficiary, Contract, Insurer
from tierspayant.registry.services import register_beneficiary
from tierspayant.registry.synthetic import synthetic_nir

_rng = random.Random(1)
_faker = Faker("fr_FR")

PASSWORD = "correct-horse-battery-staple-42"


class InsurerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Insurer
        django_get_or_create = ("amc_number",)

    amc_number = factory.Sequence(lambda n: f"{77000000 + n}")
    name = factory.Faker("company", locale="fr_FR")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    insurer = factory.SubFactory(InsurerFactory)
    number = factory.Sequence(lambda n: f"CT-{n:05d}")
    contract_type = ContractType.INDIVIDUAL
    responsible = True
    valid_from = datetime.date(2024, 1, 1)
    valid_to = None
    tiers_payant_domains = factory.LazyFunction(
        lambda: [Domain.PHARMACY.value, Domain.OPTICAL.value, Domain.AUDIO.value]
    )


def new_nir(birth_date: datetime.date, sex: int = 1) -> str:
    """A fresh synthetic NIR (valid key) for ``birth_date``."""
    return synthetic_nir(_rng, sex=sex, birth_date=birth_date)


def make_beneficiary(
    *,
    contract: Contract | None = None,
    nir: str | None = None,
    birth_date: datetime.date = datetime.date(1980, 5, 17),
    rang: int = 1,
    rights_start: datetime.date = datetime.date(2024, 1, 1),
    rights_end: datetime.date | None = None,
    quality: Quality = Quality.INSURED,
    member_number: str = "",
    formulas: str = "",
    tiers_payant_suspended: bool = False,
) -> Beneficiary:
    """Register a beneficiary through ``registry.services`` (encrypted, indexed); the
    member-file version 2 fields (member number, formulas, suspension) are optional."""
    return register_beneficiary(
        settings.TIERSPAYANT_KEYRING,
        contract=contract or ContractFactory(),
        nir=nir or new_nir(birth_date),
        rang=rang,
        birth_date=birth_date,
        last_name=_faker.last_name(),
        first_name=_faker.first_name(),
        quality=quality,
        rights_start=rights_start,
        rights_end=rights_end,
        member_number=member_number,
        formulas=formulas,
        tiers_payant_suspended=tiers_payant_suspended,
    )


_counter = iter(range(10_000))


def make_professional(
    *, profession: Profession = Profession.OPTICIAN, with_totp: bool = True, **extra: Any
) -> Professional:
    """A professional whose login uses :data:`PASSWORD`; with a confirmed TOTP device unless
    ``with_totp`` is False."""
    n = next(_counter)
    professional = create_professional(
        username=extra.pop("username", f"pro{n}"),
        password=PASSWORD,
        profession=profession,
        display_name=f"Optique {_faker.last_name()}",
        rpps=extra.pop("rpps", synthetic_rpps(_rng)),
        **extra,
    )
    if with_totp:
        TOTPDevice.objects.create(user=professional.user, name="TOTP", confirmed=True)
    return professional


def give_member_number(beneficiary: Beneficiary, keyring: Any, member_number: str) -> Beneficiary:
    """Set the family's member number (numéro d'adhérent) of ``beneficiary``: encrypted
    (``Beneficiary.TABLE``, column ``member_number``) with its blind index at the insurer."""
    from tierspayant.crypto.fields import encrypt_field
    from tierspayant.registry.services import member_number_index

    beneficiary.member_number_ciphertext = encrypt_field(
        keyring.encryption,
        member_number,
        table=Beneficiary.TABLE,
        column="member_number",
        row_id=str(beneficiary.pk),
    )
    beneficiary.member_number_index = member_number_index(
        keyring.index, beneficiary.contract.insurer.amc_number, member_number
    )
    beneficiary.save(update_fields=["member_number_ciphertext", "member_number_index"])
    return beneficiary


def make_accepted_invoice(
    professional: Professional,
    *,
    amc: str,
    number: str,
    beneficiary: Beneficiary | None = None,
    at: datetime.datetime | None = None,
) -> Any:
    """An accepted ``invoices.Invoice`` of ``amc`` euros (billed = AMC, AMO and RAC 0) with
    its first events, as adjudication stores it (for payment runs and the money loop)."""
    from decimal import Decimal

    from tierspayant.invoices.choices import InvoiceStatus
    from tierspayant.invoices.lifecycle import adjudication_events
    from tierspayant.invoices.models import Invoice, InvoiceEvent

    beneficiary = beneficiary or make_beneficiary()
    when = at or datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC)
    row = Invoice.objects.create(
        professional=professional,
        beneficiary=beneficiary,
        insurer_id=beneficiary.contract.insurer_id,
        invoice_number=number,
        care_date=when.date(),
        insurance_nature="10",
        exemption="0",
        amo_regime="1",
        local_regime="",
        status=InvoiceStatus.ACCEPTED,
        total_billed=Decimal(amc),
        total_amo=Decimal("0.00"),
        total_amc=Decimal(amc),
        total_rac=Decimal("0.00"),
        received_at=when,
    )
    InvoiceEvent.objects.bulk_create(
        adjudication_events(row, received_at=when, acknowledged_at=None)
    )
    return row
