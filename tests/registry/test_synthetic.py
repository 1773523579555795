"""The synthetic generator: valid, reproducible, no repeated key, the NIR cases covered."""

from __future__ import annotations

import datetime
import io
import random
from collections import Counter

import pytest
from faker import Faker

from tests.registry.conftest import TODAY
from tierspayant.registry.member_file.parsing import LineError, iter_member_lines
from tierspayant.registry.member_file.writer import write_synthetic_member_file
from tierspayant.registry.models import Beneficiary, Contract
from tierspayant.registry.synthetic import (
    SYNTHETIC_CONTRACTS,
    NamePool,
    UniqueNirs,
    register_synthetic_contracts,
    synthetic_members,
)


def generated(count: int, seed: int = 3) -> str:
    out = io.StringIO()
    write_synthetic_member_file(out, count=count, seed=seed, as_of=TODAY)
    return out.getvalue()


def test_generated_file_is_valid_and_reproducible() -> None:
    text = generated(3000)
    assert text == generated(3000)
    assert text != generated(3000, seed=4)
    items = list(iter_member_lines(io.BytesIO(text.encode()), today=TODAY))
    assert len(items) == 3000
    assert [i for i in items if isinstance(i, LineError)] == []
    keys = Counter((i.contract_number, i.nir, i.birth_date, i.rang) for i in items)
    assert keys.most_common(1)[0][1] == 1


def test_distributions_are_realistic() -> None:
    rng = random.Random(5)
    members = list(synthetic_members(rng, NamePool(rng, Faker("fr_FR")), count=20_000, as_of=TODAY))
    departments = Counter(m.person.nir[5:7] for m in members)
    share = {k: departments[k] / len(members) for k in ("2A", "2B", "99")}
    assert 0.005 < share["2A"] < 0.02 and 0.005 < share["2B"] < 0.02
    assert 0.02 < share["99"] < 0.045
    qualities = Counter(m.person.quality.value for m in members)
    assert set(qualities) == {"insured", "spouse", "child"}
    assert any(m.person.rang == 2 for m in members)  # twins
    ended = sum(1 for m in members if m.rights_end and m.rights_end < TODAY) / len(members)
    assert 0.03 < ended < 0.10
    assert len({m.contract.amc_number for m in members}) == 4
    assert len({m.contract.number for m in members}) == len(SYNTHETIC_CONTRACTS)
    assert all(m.rights_start >= m.person.birth_date for m in members)


def test_unique_nirs_never_repeat_in_one_group() -> None:
    rng = random.Random(1)
    nirs = UniqueNirs()
    born = datetime.date(1980, 1, 1)
    drawn = [nirs.nir(rng, sex=1, birth_date=born) for _ in range(20_000)]
    assert len(set(drawn)) == 20_000


@pytest.mark.django_db
def test_register_synthetic_contracts_is_idempotent() -> None:
    assert register_synthetic_contracts() == 12
    assert register_synthetic_contracts() == 0
    assert Contract.objects.count() == 12
    assert Beneficiary.objects.count() == 0
