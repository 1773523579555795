"""The guard's policy: quotas and detector thresholds by profession, responses by severity.

A policy is configuration, validated once at start (``settings.TIERSPAYANT_GUARD_POLICY``,
built from the JSON of ``TIERSPAYANT_GUARD_POLICY`` over :data:`DEFAULT_POLICY`): a
negative or zero quota, an unknown profession, key, severity or action raises
:class:`PolicyError`, and the settings turn it into ``ImproperlyConfigured`` (refuse to
start). Services receive the policy as an argument; nothing here reads settings.

Default figures are ours (unconfirmed; tune from the disclosure log): an optician checks
a few to a few dozen patients a day, a pharmacy more, a hospital admissions desk hundreds.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tierspayant.guard.choices import Action, Severity
from tierspayant.providers.choices import Profession


class PolicyError(ValueError):
    """The policy is invalid; the message names the offending key (never a secret)."""


@dataclass(frozen=True)
class ProfessionQuota:
    """Hard quotas (requests refused with 429 beyond them), counted per professional and per
    practice (same SIRET or FINESS), per clock hour and per day."""

    per_hour: int
    per_day: int
    practice_per_hour: int
    practice_per_day: int


@dataclass(frozen=True)
class ProfessionFloors:
    """Detector thresholds for a profession, used as floors under the account's own
    baseline: ``burst`` lookups within two 5-minute buckets (5 to 10 minutes), ``hour``
    lookups in the clock hour, ``day`` lookups in the day. ``all_hours``: no unusual-hour
    finding (hospitals run day and night)."""

    burst: int
    hour: int
    day: int
    all_hours: bool = False


@dataclass(frozen=True)
class InvoiceQuota:
    """Hard quotas on the invoices of lots identified through the gate
    (``Purpose.INVOICE``), counted per professional and per practice per day, apart from
    the interactive rights checks: a lot is machine-paced, so there is no hourly limit and no
    burst finding on it."""

    per_day: int
    practice_per_day: int


_P = Profession
DEFAULT_QUOTAS: dict[str, ProfessionQuota] = {
    _P.OPTICIAN: ProfessionQuota(40, 120, 80, 300),
    _P.AUDIOPROSTHETIST: ProfessionQuota(30, 80, 60, 200),
    _P.PHARMACIST: ProfessionQuota(80, 300, 200, 800),
    _P.DENTIST: ProfessionQuota(40, 120, 80, 300),
    _P.PHYSICIAN: ProfessionQuota(40, 120, 80, 300),
    _P.HOSPITAL: ProfessionQuota(150, 1000, 400, 3000),
    _P.LABORATORY: ProfessionQuota(60, 200, 150, 600),
    _P.NURSE: ProfessionQuota(20, 60, 40, 150),
    _P.PHYSIOTHERAPIST: ProfessionQuota(20, 60, 40, 150),
    _P.MIDWIFE: ProfessionQuota(20, 50, 40, 120),
}
DEFAULT_FLOORS: dict[str, ProfessionFloors] = {
    _P.OPTICIAN: ProfessionFloors(burst=10, hour=20, day=40),
    _P.AUDIOPROSTHETIST: ProfessionFloors(burst=8, hour=15, day=30),
    _P.PHARMACIST: ProfessionFloors(burst=20, hour=40, day=120),
    _P.DENTIST: ProfessionFloors(burst=10, hour=20, day=40),
    _P.PHYSICIAN: ProfessionFloors(burst=10, hour=20, day=50),
    _P.HOSPITAL: ProfessionFloors(burst=30, hour=80, day=300, all_hours=True),
    _P.LABORATORY: ProfessionFloors(burst=15, hour=30, day=80),
    _P.NURSE: ProfessionFloors(burst=6, hour=12, day=30),
    _P.PHYSIOTHERAPIST: ProfessionFloors(burst=6, hour=12, day=30),
    _P.MIDWIFE: ProfessionFloors(burst=6, hour=10, day=25),
}
#: Invoices a day, per professional and per practice. A pharmacy dispenses 150 to 400
#: prescriptions a day (a large one 800 and more), each an invoice; a laboratory bills
#: each sample run (a busy site 300 to 800 a day, its shared laboratory more); a hospital
#: bills stays and consultations by the thousand; a nurse sees 25 to 50 patients on a round,
#: a physiotherapist 15 to 30, a doctor or dentist 20 to 40, a midwife fewer; opticians and
#: audioprosthetists bill a few devices a day. The quotas sit about 2.5 times above a busy
#: day of the profession (ours, unconfirmed: tune from the disclosure log), so a normal day
#: is never stopped and a lot of stolen identities cannot pass as one.
DEFAULT_INVOICE_QUOTAS: dict[str, InvoiceQuota] = {
    _P.OPTICIAN: InvoiceQuota(60, 150),
    _P.AUDIOPROSTHETIST: InvoiceQuota(40, 100),
    _P.PHARMACIST: InvoiceQuota(2000, 4000),
    _P.DENTIST: InvoiceQuota(100, 300),
    _P.PHYSICIAN: InvoiceQuota(120, 400),
    _P.HOSPITAL: InvoiceQuota(5000, 20000),
    _P.LABORATORY: InvoiceQuota(1500, 6000),
    _P.NURSE: InvoiceQuota(150, 400),
    _P.PHYSIOTHERAPIST: InvoiceQuota(80, 250),
    _P.MIDWIFE: InvoiceQuota(60, 150),
}
DEFAULT_ACTIONS: dict[Severity, Action] = {
    Severity.LOW: Action.ALERT,
    Severity.MEDIUM: Action.STEP_UP,
    Severity.HIGH: Action.SUSPEND,
    Severity.CRITICAL: Action.SUSPEND,
}


@dataclass(frozen=True)
class GuardPolicy:
    """Everything the guard decides with. Counts are lookups; ``*_minutes`` are minutes.

    Baseline thresholds: ``max(floor, median + mad_factor * 1.4826 * MAD, multiplier *
    median)`` over the account's past days (``baseline_days`` of history at most).
    """

    quotas: Mapping[str, ProfessionQuota] = field(default_factory=lambda: dict(DEFAULT_QUOTAS))
    floors: Mapping[str, ProfessionFloors] = field(default_factory=lambda: dict(DEFAULT_FLOORS))
    invoice_quotas: Mapping[str, InvoiceQuota] = field(
        default_factory=lambda: dict(DEFAULT_INVOICE_QUOTAS)
    )
    actions: Mapping[Severity, Action] = field(default_factory=lambda: dict(DEFAULT_ACTIONS))
    mad_factor: float = 8.0
    multiplier: float = 3.0
    baseline_days: int = 28
    min_baseline_days: int = 7
    no_match_min: int = 10
    no_match_ratio: float = 0.6
    no_match_day_min: int = 20
    pattern_min: int = 4
    many_networks: int = 4
    concurrent_networks: int = 2
    shared_network_practices: int = 3
    campaign_accounts: int = 3
    campaign_minutes: int = 60
    day_start_hour: int = 7
    day_end_hour: int = 21
    slow_down_per_hour: int = 6
    slow_down_minutes: int = 60
    follow_up_window_minutes: int = 1440
    follow_up_grace_minutes: int = 60
    follow_up_min_lookups: int = 30
    follow_up_high_lookups: int = 60
    follow_up_every: int = 10
    follow_up_min_share: float = 0.2
    token_networks: int = 3
    token_session_minutes: int = 30
    escalate_after: int = 2
    baseline_weekly_growth: float = 0.25
    security_emails: tuple[str, ...] = ()

    def quota(self, profession: str) -> ProfessionQuota:
        """The quotas of ``profession``; raises ``KeyError`` for an unknown one."""
        return self.quotas[profession]

    def floor(self, profession: str) -> ProfessionFloors:
        """The detector floors of ``profession``; raises ``KeyError`` for an unknown one."""
        return self.floors[profession]

    def invoice_quota(self, profession: str) -> InvoiceQuota:
        """The invoice-volume quotas of ``profession``; raises ``KeyError`` for an unknown
        one."""
        return self.invoice_quotas[profession]

    def action_for(self, severity: Severity) -> Action:
        """The response the policy gives to ``severity``."""
        return self.actions[severity]


DEFAULT_POLICY = GuardPolicy()

_SCALARS = {
    f.name: f.type
    for f in dataclasses.fields(GuardPolicy)
    if f.name not in {"quotas", "floors", "invoice_quotas", "actions", "security_emails"}
}


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PolicyError(f"{where}: expected a positive whole number, got {value!r}")
    return value


def _profession(name: str, where: str) -> str:
    if name not in Profession.values:
        raise PolicyError(f"{where}: unknown profession {name!r} (one of {Profession.values})")
    return name


def _merge_dataclass(base: Any, overrides: Any, where: str) -> Any:
    if not isinstance(overrides, Mapping):
        raise PolicyError(f"{where}: expected an object")
    known = {f.name: f for f in dataclasses.fields(base)}
    values: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in known:
            raise PolicyError(f"{where}.{key}: unknown key (one of {sorted(known)})")
        if known[key].type in {"bool", bool}:
            if not isinstance(value, bool):
                raise PolicyError(f"{where}.{key}: expected true or false")
            values[key] = value
        else:
            values[key] = _positive_int(value, f"{where}.{key}")
    return dataclasses.replace(base, **values)


def build_policy(overrides: Mapping[str, Any] | None = None) -> GuardPolicy:
    """:data:`DEFAULT_POLICY` with ``overrides`` applied and checked.

    ``overrides`` shape: ``{"quotas": {"optician": {"per_day": 80}}, "floors": {"hospital":
    {"burst": 40}}, "actions": {"medium": "slow_down"}, "no_match_min": 12, ...}``.
    Raises :class:`PolicyError` for an unknown key, profession, severity or action, and for
    a count that is not a positive whole number (a ratio must lie in ]0, 1]).
    """
    overrides = dict(overrides or {})
    base = DEFAULT_POLICY
    quotas = dict(base.quotas)
    for name, value in dict(overrides.pop("quotas", {}) or {}).items():
        where = f"quotas.{_profession(name, 'quotas')}"
        quotas[name] = _merge_dataclass(quotas[name], value, where)
    floors = dict(base.floors)
    for name, value in dict(overrides.pop("floors", {}) or {}).items():
        where = f"floors.{_profession(name, 'floors')}"
        floors[name] = _merge_dataclass(floors[name], value, where)
    invoice_quotas = dict(base.invoice_quotas)
    for name, value in dict(overrides.pop("invoice_quotas", {}) or {}).items():
        where = f"invoice_quotas.{_profession(name, 'invoice_quotas')}"
        invoice_quotas[name] = _merge_dataclass(invoice_quotas[name], value, where)
    actions = dict(base.actions)
    for severity, action in dict(overrides.pop("actions", {}) or {}).items():
        if severity not in Severity.values:
            raise PolicyError(f"actions.{severity}: unknown severity (one of {Severity.values})")
        if action not in Action.values:
            raise PolicyError(f"actions.{severity}: unknown action {action!r} ({Action.values})")
        actions[Severity(severity)] = Action(action)
    scalars: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in _SCALARS:
            raise PolicyError(
                f"{key}: unknown key (one of {sorted(_SCALARS)} or quotas, floors, "
                "invoice_quotas, actions)"
            )
        if _SCALARS[key] in {"float", float}:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise PolicyError(f"{key}: expected a positive number, got {value!r}")
            if key.endswith(("ratio", "share")) and value > 1:
                raise PolicyError(f"{key}: a ratio lies between 0 and 1, got {value!r}")
            scalars[key] = float(value)
        else:
            scalars[key] = _positive_int(value, key)
    policy = dataclasses.replace(
        base,
        quotas=quotas,
        floors=floors,
        invoice_quotas=invoice_quotas,
        actions=actions,
        **scalars,
    )
    if not 0 <= policy.day_start_hour < policy.day_end_hour <= 24:
        raise PolicyError("day_start_hour/day_end_hour: expected 0 <= start < end <= 24")
    if policy.follow_up_grace_minutes >= policy.follow_up_window_minutes:
        raise PolicyError(
            "follow_up_grace_minutes: must be shorter than follow_up_window_minutes "
            f"({policy.follow_up_grace_minutes} >= {policy.follow_up_window_minutes})"
        )
    if policy.follow_up_window_minutes > 14 * 1440:
        raise PolicyError("follow_up_window_minutes: at most 14 days (20160 minutes)")
    if policy.follow_up_high_lookups < policy.follow_up_min_lookups:
        raise PolicyError("follow_up_high_lookups: must be at least follow_up_min_lookups")
    if policy.escalate_after < 2:
        raise PolicyError("escalate_after: at least 2 (one finding already has its response)")
    if policy.baseline_weekly_growth > 4:
        raise PolicyError("baseline_weekly_growth: at most 4 (a weekly growth of 400 %)")
    return policy


def policy_from_json(text: str | None) -> GuardPolicy:
    """Parse the JSON overrides of ``TIERSPAYANT_GUARD_POLICY`` (empty: the defaults).
    Raises :class:`PolicyError` for bad JSON or a bad policy."""
    if not (text or "").strip():
        return DEFAULT_POLICY
    try:
        data = json.loads(text or "")
    except json.JSONDecodeError as exc:
        raise PolicyError(f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise PolicyError("expected a JSON object")
    return build_policy(data)
