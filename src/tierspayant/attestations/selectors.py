"""Reads for attestations: an insurer's families, and one beneficiary's family."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.db.models import Q, QuerySet

from tierspayant.registry.models import Beneficiary, Insurer

#: Rows fetched per round trip when streaming an insurer's register.
CHUNK = 2_000


def _in_year(year: int) -> Q:
    """Beneficiaries (and contracts) with rights on some day of ``year``."""
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    return (
        Q(rights_start__lte=last)
        & (Q(rights_end__isnull=True) | Q(rights_end__gte=first))
        & Q(contract__valid_from__lte=last)
        & (Q(contract__valid_to__isnull=True) | Q(contract__valid_to__gte=first))
    )


def _members(insurer: Insurer) -> QuerySet[Beneficiary]:
    return (
        Beneficiary.objects.filter(contract__insurer=insurer, is_canary=False)
        .select_related("contract", "contract__insurer")
        .defer("nir_ciphertext", "identity_index")
    )


def family_key(beneficiary: Beneficiary) -> tuple[int, str]:
    """What makes a family: (contract id, member number index). Version 1 rows, without a
    member number, make a family each (the register cannot tell their family without one)."""
    return (
        beneficiary.contract_id,
        beneficiary.member_number_index or f"row:{beneficiary.pk}",
    )


def insurer_families(insurer: Insurer, *, year: int) -> Iterator[list[Beneficiary]]:
    """The insurer's families with rights in ``year`` (canaries never), each a list of its
    beneficiaries ordered by quality then rang; families in (contract, member number index)
    order. Streams: memory holds one chunk and one family."""
    rows = (
        _members(insurer)
        .filter(_in_year(year))
        .order_by("contract_id", "member_number_index", "id")
        .iterator(chunk_size=CHUNK)
    )
    family: list[Beneficiary] = []
    key: tuple[int, str] | None = None
    for row in rows:
        row_key = family_key(row)
        if row_key != key and family:
            yield family
            family = []
        key = row_key
        family.append(row)
    if family:
        yield family


def family_of(beneficiary: Beneficiary, *, year: int) -> list[Beneficiary]:
    """``beneficiary``'s family with rights in ``year`` (canaries never); ``[beneficiary]``
    alone for a row without a member number."""
    if not beneficiary.member_number_index:
        return [beneficiary]
    return list(
        _members(beneficiary.contract.insurer)
        .filter(
            _in_year(year),
            contract_id=beneficiary.contract_id,
            member_number_index=beneficiary.member_number_index,
        )
        .order_by("id")
    )


def family_count(insurer: Insurer, *, year: int) -> int:
    """How many families :func:`insurer_families` yields (for a progress bar): distinct
    member numbers per contract, plus the rows without one."""
    rows = _members(insurer).filter(_in_year(year))
    numbered = (
        rows.exclude(member_number_index="")
        .values("contract_id", "member_number_index")
        .distinct()
        .count()
    )
    return numbered + rows.filter(member_number_index="").count()
