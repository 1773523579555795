"""Writing member files: the synthetic generator's output (docs/member-file.md)."""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from typing import Protocol

from faker import Faker

from tierspayant.registry.member_file.columns import DOMAIN_SEPARATOR, HEADER, SEPARATOR
from tierspayant.registry.synthetic import NamePool, SyntheticMember, synthetic_members


class Writable(Protocol):
    """Anything with ``write(str)``: a text file, ``io.StringIO``, a command's stdout."""

    def write(self, text: str, /) -> object: ...


def member_line(member: SyntheticMember) -> str:
    """One line of the member file (no line break), columns in :data:`columns.COLUMNS` order."""
    c, p = member.contract, member.person
    return SEPARATOR.join(
        (
            c.amc_number,
            c.number,
            c.contract_type.value,
            p.nir,
            str(p.rang),
            p.last_name,
            p.first_name,
            p.birth_date.isoformat(),
            p.quality.value,
            member.rights_start.isoformat(),
            member.rights_end.isoformat() if member.rights_end else "",
            DOMAIN_SEPARATOR.join(d.value for d in c.domains),
        )
    )


def write_synthetic_member_file(
    out: Writable,
    *,
    count: int,
    seed: int,
    as_of: datetime.date,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write a header and ``count`` synthetic lines to ``out``; the same ``seed`` and ``as_of``
    give the same file. ``progress`` receives the number of lines written per 10,000.
    Returns ``count``."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible on purpose
    faker = Faker("fr_FR")
    faker.seed_instance(seed)
    names = NamePool(rng, faker)
    out.write(HEADER + "\n")
    buffer: list[str] = []
    for member in synthetic_members(rng, names, count=count, as_of=as_of):
        buffer.append(member_line(member))
        if len(buffer) == 10_000:
            out.write("\n".join(buffer) + "\n")
            buffer.clear()
            if progress:
                progress(10_000)
    if buffer:
        out.write("\n".join(buffer) + "\n")
        if progress:
            progress(len(buffer))
    return count
