"""The insurers and contracts a member file refers to.

An insurer must already be in the register: a line naming an unknown AMC number is rejected
(the importer never invents an insurer: who the data controller is is decided when the insurer
is set up, not by a file). A contract must be known too, unless the import runs with
``create_missing``: then a contract of a known insurer is created from the first line that
names it (number, type, domains, ``responsable``), valid from the earliest rights start the
file gives for it, open-ended. A line whose contract type or domains differ from the contract's
is rejected: the domains are the contract's (the register keeps them per contract).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from tierspayant.registry.choices import ContractType, Domain
from tierspayant.registry.member_file.parsing import LineError, MemberLine
from tierspayant.registry.models import Contract, Insurer
from tierspayant.registry.services import create_contract


@dataclass
class _Known:
    id: int
    contract_type: str
    domains: tuple[str, ...]
    valid_from: datetime.date
    created_here: bool = False
    earliest_start: datetime.date | None = field(default=None)


class ContractBook:
    """Resolves a line's (AMC number, contract number) to a contract id, loading the register's
    insurers and contracts once (a few thousand rows at most)."""

    def __init__(self, *, create_missing: bool) -> None:
        self.create_missing = create_missing
        self.insurers = dict(Insurer.objects.values_list("amc_number", "id"))
        self.contracts: dict[tuple[str, str], _Known] = {}
        order = {d.value: i for i, d in enumerate(Domain)}
        for c in Contract.objects.select_related("insurer").only(
            "id",
            "number",
            "contract_type",
            "tiers_payant_domains",
            "valid_from",
            "insurer__amc_number",
        ):
            domains = tuple(sorted(set(c.tiers_payant_domains), key=lambda d: order.get(d, 99)))
            self.contracts[(c.insurer.amc_number, c.number)] = _Known(
                c.id, c.contract_type, domains, c.valid_from
            )
        self.created = 0

    def resolve(self, line: MemberLine) -> int | LineError:
        """The contract id for ``line``, or the :class:`LineError` rejecting it."""
        insurer_id = self.insurers.get(line.amc_number)
        if insurer_id is None:
            return LineError(line.line, "numero_amc", "organisme complémentaire inconnu")
        known = self.contracts.get((line.amc_number, line.contract_number))
        if known is None:
            if not self.create_missing:
                return LineError(line.line, "numero_contrat", "contrat inconnu pour cet organisme")
            contract = create_contract(
                insurer=Insurer(id=insurer_id, amc_number=line.amc_number),
                number=line.contract_number,
                contract_type=ContractType(line.contract_type),
                responsible=line.responsible,
                valid_from=line.rights_start,
                valid_to=None,
                domains=[Domain(d) for d in line.domains],
            )
            known = _Known(
                contract.id,
                line.contract_type,
                line.domains,
                line.rights_start,
                created_here=True,
                earliest_start=line.rights_start,
            )
            self.contracts[(line.amc_number, line.contract_number)] = known
            self.created += 1
        if known.contract_type != line.contract_type:
            return LineError(line.line, "type_contrat", "ne correspond pas au type du contrat")
        if known.domains != line.domains:
            return LineError(line.line, "domaines", "ne correspondent pas à ceux du contrat")
        if known.created_here and line.rights_start < (known.earliest_start or line.rights_start):
            known.earliest_start = line.rights_start
        return known.id

    def settle(self) -> None:
        """Move the start of the contracts created by this import back to the earliest rights
        start seen (one UPDATE per such contract, only when it moved)."""
        for known in self.contracts.values():
            if (
                known.created_here
                and known.earliest_start
                and known.earliest_start < known.valid_from
            ):
                Contract.objects.filter(id=known.id).update(valid_from=known.earliest_start)
                known.valid_from = known.earliest_start
