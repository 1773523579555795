"""Writing member files: the synthetic generator's output (docs/member-file.md)."""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from typing import Protocol

from faker import Faker

from tierspayant.registry.choices import ContractType, Quality
from tierspayant.registry.member_file.columns import (
    DOMAIN_SEPARATOR,
    HEADER,
    HEADER_V2,
    SEPARATOR,
)
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


#: Synthetic formulas per domain (version 2 files), for the domains a contract opens.
SYNTHETIC_FORMULAS = {"pharmacy": "100%", "optical": "OPT2", "dental": "300%", "audio": "AUD1"}


def member_line_v2(member: SyntheticMember, family: int) -> str:
    """A version 2 line: :func:`member_line` then the member number (``A`` + the family's
    number, unique in the file), the contract's keys (convention ``CC`` for a collective
    contract, else ``TP``; routing criterion: the contract number's first 3 characters), the
    formulas of its domains, AMO regime 01 and fund 751, not suspended."""
    c = member.contract
    formulas = DOMAIN_SEPARATOR.join(
        f"{d.value}={SYNTHETIC_FORMULAS[d.value]}"
        for d in c.domains
        if d.value in SYNTHETIC_FORMULAS
    )
    convention = "CC" if c.contract_type == ContractType.COLLECTIVE else "TP"
    return SEPARATOR.join(
        (
            member_line(member),
            f"A{family:09d}",
            convention,
            c.number[:3],
            formulas,
            "01",
            "751",
            "N",
        )
    )


def write_synthetic_member_file(
    out: Writable,
    *,
    count: int,
    seed: int,
    as_of: datetime.date,
    progress: Callable[[int], None] | None = None,
    version: int = 1,
) -> int:
    """Write a header and ``count`` synthetic lines to ``out``; the same ``seed`` and ``as_of``
    give the same file (``version`` 2 adds the version 2 columns, same people).
    ``progress`` receives the number of lines written per 10,000. Returns ``count``."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible on purpose
    faker = Faker("fr_FR")
    faker.seed_instance(seed)
    names = NamePool(rng, faker)
    out.write((HEADER_V2 if version == 2 else HEADER) + "\n")
    buffer: list[str] = []
    family = 0
    for member in synthetic_members(rng, names, count=count, as_of=as_of):
        if version == 2:
            family += member.person.quality == Quality.INSURED
            buffer.append(member_line_v2(member, family))
        else:
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
