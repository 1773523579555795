"""Canary beneficiaries: records that no real card carries, spread through the register.

They are built by the register's own code (encrypted NIR and birth date, blind index, a real
contract, open rights), so neither the portal nor the API can tell them from real records;
only ``is_canary`` (never exposed) marks them. Any lookup of one suspends the account.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence

from faker import Faker

from tierspayant.crypto.keys import Keyring
from tierspayant.registry.models import Beneficiary, Contract
from tierspayant.registry.services import build_beneficiary
from tierspayant.registry.synthetic import SyntheticPerson, synthetic_family


def plant_canaries(
    keyring: Keyring,
    *,
    contracts: Sequence[Contract],
    count: int,
    rng: random.Random,
    as_of: datetime.date,
) -> list[tuple[Beneficiary, SyntheticPerson]]:
    """Create ``count`` canaries (one insured adult each, round-robin over ``contracts``,
    rights open since the contract's start). Returns each record with its synthetic identity
    (the caller keeps it secret: it is what would give a canary away)."""
    if count < 0:
        raise ValueError("count must not be negative")
    if count and not contracts:
        raise ValueError("no contract to plant canaries in")
    faker = Faker("fr_FR")
    faker.seed_instance(rng.randint(0, 2**31))
    planted: list[tuple[Beneficiary, SyntheticPerson]] = []
    for index in range(count):
        contract = contracts[index % len(contracts)]
        person = synthetic_family(rng, faker, as_of=as_of)[0]
        record = build_beneficiary(
            keyring,
            contract=contract,
            nir=person.nir,
            rang=person.rang,
            birth_date=person.birth_date,
            last_name=person.last_name,
            first_name=person.first_name,
            quality=person.quality,
            rights_start=contract.valid_from,
            rights_end=None,
        )
        record.is_canary = True
        planted.append((record, person))
    Beneficiary.objects.bulk_create([record for record, _ in planted])
    return planted
