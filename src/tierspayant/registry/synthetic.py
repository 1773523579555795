"""Synthetic register data for the demo, tests and benchmarks (Faker fr_FR, valid NIR keys).

No real person: names come from Faker, NIRs are built from the synthetic birth date with a
random commune and serial, and their key computed (REFERENCE.md, "Identifiers").
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from faker import Faker
from stdnum.fr import nir as stdnum_nir

from tierspayant.registry.choices import ContractType, Domain, Quality

# Weighted birth places: ordinary departments, Corsica (2A/2B) and born abroad (99).
_DEPARTMENTS = [f"{d:02d}" for d in range(1, 96) if d != 20] + ["2A", "2B", "99"]


def synthetic_nir(rng: random.Random, *, sex: int, birth_date: datetime.date) -> str:
    """A 15-character NIR with a valid key for ``sex`` (1 or 2) born on ``birth_date``.

    About 2 % are Corsican (2A/2B) and 3 % born abroad (99), so those rules get exercised.
    """
    department = _department(rng)
    commune = f"{rng.randint(1, 990):03d}"
    serial = f"{rng.randint(1, 999):03d}"
    body = f"{sex}{birth_date:%y}{birth_date:%m}{department}{commune}{serial}"
    return body + stdnum_nir.calc_check_digits(body)


def _department(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.02:
        return rng.choice(["2A", "2B"])
    if roll < 0.05:
        return "99"
    return rng.choice(_DEPARTMENTS[:-3])


_PLACES = 990 * 999  # (commune, serial) pairs per (sex, birth month, department)
_STRIDE = 7919  # prime, coprime with _PLACES: k -> k * _STRIDE mod _PLACES is a permutation


class UniqueNirs:
    """Draws NIRs like :func:`synthetic_nir`, but never the same one twice in a run.

    One counter per (sex, birth year and month, department) (a few hundred thousand small
    integers at most), spread over (commune, serial) by a permutation from a random start, so
    numbers look random. Raises ``OverflowError`` past 989,010 people in one such group.
    """

    def __init__(self) -> None:
        self._next: dict[tuple[int, str, str], tuple[int, int]] = {}

    def nir(self, rng: random.Random, *, sex: int, birth_date: datetime.date) -> str:
        """A fresh NIR (valid key) for ``sex`` (1 or 2) born on ``birth_date``."""
        department = _department(rng)
        group = (sex, f"{birth_date:%y%m}", department)
        offset, k = self._next.get(group) or (rng.randrange(_PLACES), 0)
        if k >= _PLACES:
            raise OverflowError("too many synthetic NIRs in one birth month and department")
        self._next[group] = (offset, k + 1)
        place = (k * _STRIDE + offset) % _PLACES
        body = f"{sex}{birth_date:%y}{birth_date:%m}{department}"
        body += f"{place // 999 + 1:03d}{place % 999 + 1:03d}"
        return body + stdnum_nir.calc_check_digits(body)


class NameSource(Protocol):
    """What :func:`synthetic_family` needs for names: a Faker, or a :class:`NamePool`."""

    def last_name(self) -> str: ...

    def first_name(self) -> str: ...

    def first_name_male(self) -> str: ...

    def first_name_female(self) -> str: ...


class NamePool:
    """Names drawn from pools filled once by Faker fr_FR: the same kind of names, about a
    hundred times faster than asking Faker each time (for millions of lines)."""

    def __init__(self, rng: random.Random, faker: Faker, *, size: int = 3000) -> None:
        self._rng = rng
        self._last = [faker.last_name() for _ in range(size)]
        self._male = [faker.first_name_male() for _ in range(size // 3)]
        self._female = [faker.first_name_female() for _ in range(size // 3)]

    def last_name(self) -> str:
        """A last name."""
        return self._rng.choice(self._last)

    def first_name_male(self) -> str:
        """A male first name."""
        return self._rng.choice(self._male)

    def first_name_female(self) -> str:
        """A female first name."""
        return self._rng.choice(self._female)

    def first_name(self) -> str:
        """A first name of either sex."""
        pool = self._male if self._rng.random() < 0.5 else self._female
        return self._rng.choice(pool)


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
    rng: random.Random,
    faker: NameSource,
    *,
    as_of: datetime.date,
    nirs: UniqueNirs | None = None,
) -> list[SyntheticPerson]:
    """An insured person, maybe a spouse (own NIR), and 0-4 children on the insured's NIR.

    Children share the insured's NIR and are told apart by birth date; twins get rangs 1 and 2
    (about 3 % of families with children). With ``nirs``, no NIR repeats across families.
    """
    draw = nirs.nir if nirs is not None else synthetic_nir
    sex = rng.choice([1, 2])
    insured_birth = _birth_date(rng, as_of=as_of, min_age=20, max_age=85)
    nir = draw(rng, sex=sex, birth_date=insured_birth)
    last_name = faker.last_name()
    first = faker.first_name_male() if sex == 1 else faker.first_name_female()
    people = [SyntheticPerson(nir, 1, insured_birth, last_name, first, Quality.INSURED)]
    if rng.random() < 0.5:  # an adult spouse carries their own NIR
        spouse_sex = 3 - sex
        spouse_birth = _birth_date(rng, as_of=as_of, min_age=20, max_age=85)
        spouse_nir = draw(rng, sex=spouse_sex, birth_date=spouse_birth)
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


@dataclass(frozen=True)
class SyntheticContract:
    """A contract of the synthetic register: insurer's AMC number and name, contract number,
    type, domains open to tiers payant, and its share of families (``weight``)."""

    amc_number: str
    insurer_name: str
    number: str
    contract_type: ContractType
    domains: tuple[Domain, ...]
    weight: int


_ALL = tuple(Domain)
_BASIC = (Domain.PHARMACY, Domain.CONSULTATION)
_INSURERS = [
    ("70100001", "Mutuelle Synthétique du Rhône", 5),
    ("70200002", "Prévoyance Fictive de Bretagne", 3),
    ("70300003", "Institution Témoin des Hauts-de-France", 2),
    ("70400004", "Mutuelle Exemple de Corse et d'Outre-mer", 1),
]

#: The synthetic insurers' contracts (the generator's and the benchmarks' register).
SYNTHETIC_CONTRACTS: tuple[SyntheticContract, ...] = tuple(
    SyntheticContract(amc, name, f"{amc[:3]}-{suffix}", kind, domains, weight * share)
    for amc, name, weight in _INSURERS
    for suffix, kind, domains, share in (
        ("IND-ESSENTIEL", ContractType.INDIVIDUAL, _BASIC, 3),
        ("IND-CONFORT", ContractType.INDIVIDUAL, _ALL, 4),
        ("COL-ENTREPRISE", ContractType.COLLECTIVE, _ALL, 5),
    )
)

#: Contracts of the synthetic register start on this date.
SYNTHETIC_CONTRACTS_FROM = datetime.date(2015, 1, 1)


@dataclass(frozen=True)
class SyntheticMember:
    """One member-file line: a person on a contract with a rights period (end None: open)."""

    contract: SyntheticContract
    person: SyntheticPerson
    rights_start: datetime.date
    rights_end: datetime.date | None


def synthetic_members(
    rng: random.Random, names: NameSource, *, count: int, as_of: datetime.date
) -> Iterator[SyntheticMember]:
    """``count`` members, family by family (the last family may be cut short), no key repeated.

    Distributions: contracts by weight (4 insurers, 12 contracts, individual and collective);
    rights starting between 2015 and a month before ``as_of`` (never before birth); about 6 %
    of families with rights ended in the past and 2 % with an announced end within a year.
    """
    contracts = list(SYNTHETIC_CONTRACTS)
    weights = [c.weight for c in contracts]
    nirs = UniqueNirs()
    span = (as_of - SYNTHETIC_CONTRACTS_FROM).days - 30
    made = 0
    while made < count:
        contract = rng.choices(contracts, weights)[0]
        start = SYNTHETIC_CONTRACTS_FROM + datetime.timedelta(days=rng.randint(0, span))
        roll = rng.random()
        end: datetime.date | None = None
        if roll < 0.06:
            end = start + datetime.timedelta(days=rng.randint(0, (as_of - start).days))
        elif roll < 0.08:
            end = as_of + datetime.timedelta(days=rng.randint(1, 365))
        for person in synthetic_family(rng, names, as_of=as_of, nirs=nirs):
            person_start = max(start, person.birth_date)
            person_end = max(end, person_start) if end is not None else None
            yield SyntheticMember(contract, person, person_start, person_end)
            made += 1
            if made == count:
                return


def register_synthetic_contracts() -> int:
    """Create the synthetic insurers and contracts that generated member files refer to, if
    missing (idempotent); return how many contracts were created."""
    from tierspayant.registry.models import Contract, Insurer
    from tierspayant.registry.services import create_contract, create_insurer

    created = 0
    for c in SYNTHETIC_CONTRACTS:
        insurer = Insurer.objects.filter(amc_number=c.amc_number).first() or create_insurer(
            amc_number=c.amc_number, name=c.insurer_name
        )
        if not Contract.objects.filter(insurer=insurer, number=c.number).exists():
            create_contract(
                insurer=insurer,
                number=c.number,
                contract_type=c.contract_type,
                responsible=True,
                valid_from=SYNTHETIC_CONTRACTS_FROM,
                valid_to=None,
                domains=list(c.domains),
            )
            created += 1
    return created
