"""The insurers and contracts a member file refers to.

An insurer must already be in the register: a line naming an unknown AMC number is rejected
(the importer never invents an insurer: who the data controller is is decided when the insurer
is set up, not by a file). A contract must be known too, unless the import runs with
``create_missing``: then a contract of a known insurer is created from the first line that
names it (number, type, domains, ``responsable``), valid from the earliest rights start the
file gives for it, open-ended. A line whose contract type or domains differ from the contract's
is rejected: the domains are the contract's (the register keeps them per contract).

:class:`ContractIndex` is the register's contracts as they were when the import started: pure
and picklable, so worker processes resolve lines with it. :class:`ContractBook` adds what needs
the database: creating contracts and moving their start back.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

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
    earliest_start: datetime.date | None = None
    convention_type: str = ""
    routing_criterion: str = ""


def _unset_keys(known: _Known, line: MemberLine) -> bool:
    """A version 2 line names the convention type of a contract that has none yet (set up
    before version 2): the book records the line's keys on the contract."""
    return line.version == 2 and not known.convention_type


def _match(known: _Known, line: MemberLine) -> int | LineError:
    if known.contract_type != line.contract_type:
        return LineError(line.line, "type_contrat", "ne correspond pas au type du contrat")
    if known.domains != line.domains:
        return LineError(line.line, "domaines", "ne correspondent pas à ceux du contrat")
    if line.version == 2:
        if known.convention_type != line.convention_type:
            return LineError(
                line.line, "type_convention", "ne correspond pas au type de convention du contrat"
            )
        if known.routing_criterion != line.routing_criterion:
            return LineError(
                line.line,
                "critere_routage",
                "ne correspond pas au critère secondaire de routage du contrat",
            )
    return known.id


class ContractIndex:
    """The register's insurers and contracts (a few thousand rows at most), loaded once.

    ``create_missing``: whether an unknown contract of a known insurer is left to
    :class:`ContractBook` (``resolve`` returns None) rather than rejected.
    """

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
            "convention_type",
            "routing_criterion",
            "insurer__amc_number",
        ):
            domains = tuple(sorted(set(c.tiers_payant_domains), key=lambda d: order.get(d, 99)))
            self.contracts[(c.insurer.amc_number, c.number)] = _Known(
                c.id,
                c.contract_type,
                domains,
                c.valid_from,
                convention_type=c.convention_type,
                routing_criterion=c.routing_criterion,
            )

    def resolve(self, line: MemberLine) -> int | LineError | None:
        """The contract id for ``line``, the :class:`LineError` rejecting it, or None when the
        book must act: the contract is unknown and ``create_missing`` (the book creates it), or
        a version 2 line gives the keys of a contract that has none yet (the book records
        them)."""
        if line.amc_number not in self.insurers:
            return LineError(line.line, "numero_amc", "organisme complémentaire inconnu")
        known = self.contracts.get((line.amc_number, line.contract_number))
        if known is None:
            if self.create_missing:
                return None
            return LineError(line.line, "numero_contrat", "contrat inconnu pour cet organisme")
        if _unset_keys(known, line) and _match(known, line._replace(version=1)) == known.id:
            return None
        return _match(known, line)


class ContractBook:
    """Resolves a line's (AMC number, contract number) to a contract id: through
    :attr:`index` for the contracts known at the start, creating the others when
    ``create_missing``."""

    def __init__(self, *, create_missing: bool) -> None:
        self.index = ContractIndex(create_missing=create_missing)
        self.made: dict[tuple[str, str], _Known] = {}

    @property
    def created(self) -> int:
        """Contracts created by this import."""
        return len(self.made)

    def resolve(self, line: MemberLine) -> int | LineError:
        """The contract id for ``line``, or the :class:`LineError` rejecting it."""
        found = self.index.resolve(line)
        if found is not None:
            return found
        key = (line.amc_number, line.contract_number)
        known = self.index.contracts.get(key)
        if known is not None:  # a known contract without keys yet: the first line sets them
            if _unset_keys(known, line):
                Contract.objects.filter(id=known.id).update(
                    convention_type=line.convention_type,
                    routing_criterion=line.routing_criterion,
                )
                known.convention_type = line.convention_type
                known.routing_criterion = line.routing_criterion
            return _match(known, line)
        known = self.made.get(key)
        if known is None:
            contract = create_contract(
                insurer=Insurer(id=self.index.insurers[line.amc_number], amc_number=key[0]),
                number=line.contract_number,
                contract_type=ContractType(line.contract_type),
                responsible=line.responsible,
                valid_from=line.rights_start,
                valid_to=None,
                domains=[Domain(d) for d in line.domains],
                convention_type=line.convention_type,
                routing_criterion=line.routing_criterion,
            )
            known = self.made[key] = _Known(
                contract.id,
                line.contract_type,
                line.domains,
                line.rights_start,
                convention_type=line.convention_type,
                routing_criterion=line.routing_criterion,
            )
        found = _match(known, line)
        if not isinstance(found, LineError) and line.rights_start < (
            known.earliest_start or known.valid_from
        ):
            known.earliest_start = line.rights_start
        return found

    def settle(self) -> None:
        """Move the start of the contracts created by this import back to the earliest rights
        start seen (one UPDATE per such contract, only when it moved)."""
        for known in self.made.values():
            if known.earliest_start and known.earliest_start < known.valid_from:
                Contract.objects.filter(id=known.id).update(valid_from=known.earliest_start)
                known.valid_from = known.earliest_start
