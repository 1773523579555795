"""The breach report: exactly who was exposed in a scope (accounts, practices or addresses,
over a window), with the fields disclosed, grouped by insurer (each insurer is a controller).

An *exposure* is a log row that names a beneficiary: the caller learnt the listed fields
about that person. Lookups that matched nobody (``no_match``), ambiguous answers, invalid
input and refusals disclosed nothing about a named person: they are counted as *attempts*,
never as exposures. Canary beneficiaries (records no real card carries) are counted apart:
they prove an extraction, but nobody is to be notified for them.

Two grouped queries over the ``(professional, occurred_at)`` or ``(ip_address,
occurred_at)`` index answer any scope; see bench/breach_report.py for the figures.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Q, QuerySet, TextField
from django.db.models.functions import Cast

from tierspayant.audit.models import DisclosureLog
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Insurer


class InvalidBreachScope(ValueError):
    """The scope cannot be reported on (unknown account or practice, inverted or empty
    window, malformed address); the message says which, in English, for the operator."""


@dataclass(frozen=True)
class BreachScope:
    """What to report on: any of ``accounts`` (login names of professionals), ``practices``
    (SIRET or FINESS), ``ips`` (addresses or networks in CIDR form), over ``[since, until)``
    (aware instants)."""

    since: datetime.datetime
    until: datetime.datetime
    accounts: tuple[str, ...] = ()
    practices: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = []
        if self.accounts:
            parts.append(f"compte(s) {', '.join(self.accounts)}")
        if self.practices:
            parts.append(f"cabinet(s) {', '.join(self.practices)}")
        if self.ips:
            parts.append(f"adresse(s) IP {', '.join(self.ips)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class PersonExposure:
    """One beneficiary exposed: internal id, fields disclosed (sorted), how many disclosures,
    first and last instant."""

    beneficiary_id: str
    fields: tuple[str, ...]
    disclosures: int
    first_at: datetime.datetime
    last_at: datetime.datetime


@dataclass
class InsurerExposure:
    """Everything one insurer (controller) must know: its people, its record count, and how
    many disclosures included each field."""

    insurer_id: int
    amc_number: str
    name: str
    people: list[PersonExposure] = field(default_factory=list)
    records: int = 0
    field_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class BreachReport:
    """The whole report. ``attempts`` counts, by outcome, the lookups in scope that exposed
    nobody; ``canary_records`` the disclosures of canary records (not people)."""

    scope: BreachScope
    generated_at: datetime.datetime
    professionals: list[str]
    lookups: int
    attempts: dict[str, int]
    canary_records: int
    insurers: list[InsurerExposure]

    @property
    def people(self) -> int:
        return sum(len(i.people) for i in self.insurers)

    @property
    def records(self) -> int:
        return sum(i.records for i in self.insurers)

    def as_dict(self) -> dict[str, object]:
        """The JSON document of ``breach-report --format json``."""
        return {
            "scope": {
                "accounts": list(self.scope.accounts),
                "practices": list(self.scope.practices),
                "ips": list(self.scope.ips),
                "since": _iso(self.scope.since),
                "until": _iso(self.scope.until),
            },
            "generated_at": _iso(self.generated_at),
            "professionals": self.professionals,
            "totals": {
                "lookups": self.lookups,
                "people_exposed": self.people,
                "records_exposed": self.records,
                "attempts_without_exposure": sum(self.attempts.values()),
                "canary_records": self.canary_records,
            },
            "attempts_by_outcome": dict(sorted(self.attempts.items())),
            "note": (
                "Attempts (no match, ambiguous, invalid input, refused) disclosed nothing "
                "about a named person: they are counted, not listed as exposures."
            ),
            "insurers": [
                {
                    "amc_number": i.amc_number,
                    "name": i.name,
                    "people_exposed": len(i.people),
                    "records_exposed": i.records,
                    "fields": dict(sorted(i.field_counts.items())),
                    "beneficiaries": [
                        {
                            "id": p.beneficiary_id,
                            "fields": list(p.fields),
                            "disclosures": p.disclosures,
                            "first_at": _iso(p.first_at),
                            "last_at": _iso(p.last_at),
                        }
                        for p in i.people
                    ],
                }
                for i in self.insurers
            ],
        }


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _networks(ips: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for raw in ips:
        try:
            networks.append(ipaddress.ip_network(raw.strip(), strict=False))
        except ValueError:
            raise InvalidBreachScope(f"not an IP address or network: {raw!r}") from None
    return networks


def _professionals(scope: BreachScope) -> list[Professional]:
    """The professionals the scope names; raises for an unknown account or practice."""
    found: dict[int, Professional] = {}
    if scope.accounts:
        by_name = {
            p.user.username: p
            for p in Professional.objects.select_related("user").filter(
                user__username__in=scope.accounts
            )
        }
        unknown = [a for a in scope.accounts if a not in by_name]
        if unknown:
            raise InvalidBreachScope(f"unknown account(s): {', '.join(unknown)}")
        found.update({p.pk: p for p in by_name.values()})
    for practice in scope.practices:
        matches = list(
            Professional.objects.filter(Q(siret=practice) | Q(finess=practice)).exclude(
                siret="", finess=""
            )
        )
        if not practice.strip() or not matches:
            raise InvalidBreachScope(f"unknown practice (SIRET or FINESS): {practice!r}")
        found.update({p.pk: p for p in matches})
    return list(found.values())


def validate_scope(scope: BreachScope, *, now: datetime.datetime) -> None:
    """Raise :class:`InvalidBreachScope` for a scope naming nothing, an inverted or empty
    window, a window wholly in the future, a malformed address or an unknown account or
    practice. Called before anything is computed or written."""
    if not (scope.accounts or scope.practices or scope.ips):
        raise InvalidBreachScope("name at least one --account, --practice or --ip")
    if scope.since.tzinfo is None or scope.until.tzinfo is None:
        raise InvalidBreachScope("the window's bounds must be aware instants")
    if scope.until < scope.since:
        raise InvalidBreachScope("inverted window: --until is before --since")
    if scope.until == scope.since:
        raise InvalidBreachScope("empty window: --since and --until are the same instant")
    if scope.since >= now:
        raise InvalidBreachScope("empty window: it starts in the future")
    _networks(scope.ips)
    _professionals(scope)


def _scoped(scope: BreachScope, professionals: list[Professional]) -> QuerySet[DisclosureLog]:
    window = DisclosureLog.objects.filter(occurred_at__gte=scope.since, occurred_at__lt=scope.until)
    condition = Q(pk__in=[])
    if professionals:
        condition |= Q(professional_id__in=[p.pk for p in professionals])
    for network in _networks(scope.ips):
        if network.num_addresses == 1:
            condition |= Q(ip_address=str(network.network_address))
        else:
            # A network: every address in the window, filtered below (no portable SQL for
            # inet containment; PostgreSQL and SQLite store the text form).
            condition |= Q(pk__in=_rows_in_network(window, network))
    return window.filter(condition)


def _rows_in_network(
    window: QuerySet[DisclosureLog], network: ipaddress.IPv4Network | ipaddress.IPv6Network
) -> list[int]:
    ids = []
    for pk, address in (
        window.exclude(ip_address=None).values_list("id", "ip_address").iterator(chunk_size=10_000)
    ):
        if address is not None and ipaddress.ip_address(address) in network:
            ids.append(pk)
    return ids


@dataclass
class _Person:
    fields: frozenset[str]
    disclosures: int
    first_at: str
    last_at: str


def _instant(text: str) -> datetime.datetime:
    """An instant cast to text by the database (UTC session on PostgreSQL, naive UTC text on
    SQLite): parsing text is far cheaper than the drivers' datetime loaders at this volume."""
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def build_breach_report(scope: BreachScope, *, now: datetime.datetime) -> BreachReport:
    """Compute the report for ``scope`` (validated first: raises :class:`InvalidBreachScope`).

    Two queries on the log: the attempts (rows naming nobody) counted by outcome, and the rows
    naming a beneficiary grouped by (person, insurer, fields), with count, first and last."""
    validate_scope(scope, now=now)
    professionals = _professionals(scope)
    rows = _scoped(scope, professionals)
    attempts = dict(
        rows.filter(beneficiary__isnull=True)
        .values_list("outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    # Fields and instants as text: a handful of distinct field lists, parsed once each.
    grouped = (
        rows.filter(beneficiary__isnull=False)
        .annotate(fields_text=Cast("fields_disclosed", TextField()))
        .values_list(
            "beneficiary_id",
            "beneficiary__is_canary",
            "beneficiary__contract__insurer_id",
            "fields_text",
        )
        .annotate(
            n=Count("id"),
            first=Cast(Min("occurred_at"), TextField()),
            last=Cast(Max("occurred_at"), TextField()),
        )
        .order_by()
    )
    parsed: dict[str, frozenset[str]] = {}
    people: dict[tuple[int, str], _Person] = {}
    field_counts: dict[int, dict[str, int]] = {}
    canary_records = exposures = 0
    for beneficiary_id, canary, insurer_id, fields_text, n, first, last in grouped:
        exposures += n
        if canary:
            canary_records += n
            continue
        fields = parsed.get(fields_text)
        if fields is None:
            fields = parsed[fields_text] = frozenset(json.loads(fields_text or "[]"))
        counts = field_counts.setdefault(insurer_id, {})
        for name in fields:
            counts[name] = counts.get(name, 0) + n
        key = (insurer_id, str(beneficiary_id))
        person = people.get(key)
        if person is None:
            people[key] = _Person(fields, n, first, last)
            continue
        person.fields |= fields
        person.disclosures += n
        person.first_at = min(person.first_at, first, key=_instant)
        person.last_at = max(person.last_at, last, key=_instant)
    insurers = {
        i.pk: InsurerExposure(i.pk, i.amc_number, i.name, field_counts=field_counts.get(i.pk, {}))
        for i in Insurer.objects.filter(pk__in={key[0] for key in people})
    }
    ordered: dict[frozenset[str], tuple[str, ...]] = {}
    for (insurer_id, beneficiary_id), person in sorted(people.items()):
        section = insurers[insurer_id]
        fields_sorted = ordered.get(person.fields)
        if fields_sorted is None:
            fields_sorted = ordered[person.fields] = tuple(sorted(person.fields))
        section.people.append(
            PersonExposure(
                beneficiary_id=beneficiary_id,
                fields=fields_sorted,
                disclosures=person.disclosures,
                first_at=_instant(person.first_at),
                last_at=_instant(person.last_at),
            )
        )
        section.records += person.disclosures
    lookups = exposures + sum(attempts.values())
    return BreachReport(
        scope=scope,
        generated_at=now,
        professionals=sorted(f"{p.display_name} ({p.national_id})" for p in professionals),
        lookups=lookups,
        attempts=attempts,
        canary_records=canary_records,
        insurers=sorted(insurers.values(), key=lambda i: i.amc_number),
    )
