"""Synthetic register data for the demo, tests and benchmarks (Faker fr_FR, valid NIR keys).

No real person: names come from Faker, NIRs are built from the synthetic birth date with a
random commune and serial, and their key computed (REFERENCE.md, "Identifiers").
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from faker import Faker
from stdnum.fr import nir as stdnum_nir

from tierspayant.registry.choices import Quality

# Weighted birth places: ordinary departments, Corsica (2A/2B) and born abroad (99).
_DEPARTMENTS = [f"{d:02d}" for d in range(1, 96) if d != 20] + ["2A", "2B", "99"]


def synthetic_nir(rng: random.Random, *, sex: int, birth_date: datetime.date) -> str:
    """A 15-character NIR with a valid key for ``sex`` (1 or 2) born on ``birth_date``.

    About 2 % are Corsican (2A/2B) and 3 % born abroad (99), so those rules get exercised.
    """
    roll = rng.random()
    if roll < 0.02:
        department = rng.choice(["2A", "2B"])
    elif roll < 0.05:
        department = "99"
    else:
        department = rng.choice(_DEPARTMENTS[:-3])
    commune = f"{rng.randint(1, 990):03d}"
    serial = f"{rng.randint(1, 999):03d}"
    body = f"{sex}{birth_date:%y}{birth_date:%m}{department}{commune}{serial}"
    return body + stdnum_nir.calc_check_digits(body)


@dataclass(frozen=True)
class SyntheticPerson:
    """One beneficiary to register: ``nir`` is the card's (the insured's) number."""

    nir: str
    rang: int
    birth_date: datetime.date
    last_name: str
    first_name: str
    quality: Quality


def _birth_date(
    rng: random.Random, *, as_of: datetime.date, min_age: int, max_age: int
) -> datetime.date:
    age_days = rng.randint(min_age * 365, max_age * 365 + 364)
    return as_of - datetime.timedelta(days=age_days)


def synthetic_family(
    rng: random.Random, faker: Faker, *, as_of: datetime.date
) -> list[SyntheticPerson]:
    """An insured person, maybe a spouse (own NIR), and 0-4 children on the insured's NIR.

    Children share the insured's NIR and are told apart by birth date; twins get rangs 1 and 2
    (about 3 % of families with children).
    """
    sex = rng.choice([1, 2])
    insured_birth = _birth_date(rng, as_of=as_of, min_age=20, max_age=85)
    nir = synthetic_nir(rng, sex=sex, birth_date=insured_birth)
    last_name = faker.last_name()
    first = faker.first_name_male() if sex == 1 else faker.first_name_female()
    people = [SyntheticPerson(nir, 1, insured_birth, last_name, first, Quality.INSURED)]
    if rng.random() < 0.5:  # an adult spouse carries their own NIR
        spouse_sex = 3 - sex
        spouse_birth = _birth_date(rng, as_of=as_of, min_age=20, max_age=85)
        spouse_nir = synthetic_nir(rng, sex=spouse_sex, birth_date=spouse_birth)
        people.append(
            SyntheticPerson(
                spouse_nir, 1, spouse_birth, last_name, faker.first_name(), Quality.SPOUSE
            )
        )
    if insured_birth < as_of - datetime.timedelta(days=22 * 365) and rng.random() < 0.55:
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
            child_birth = _birth_date(rng, as_of=as_of, min_age=0, max_age=19)
            if child_birth <= insured_birth + datetime.timedelta(days=18 * 365) or any(
                p.birth_date == child_birth for p in people
            ):
                continue
            people.append(
                SyntheticPerson(nir, 1, child_birth, last_name, faker.first_name(), Quality.CHILD)
            )
            if rng.random() < 0.03:  # twins: same NIR, same birth date, rang 2
                people.append(
                    SyntheticPerson(
                        nir, 2, child_birth, last_name, faker.first_name(), Quality.CHILD
                    )
                )
    return people
