"""Engagement numbers and the domain rules a positive rights check v2 (IDB) discloses.

* ``new_engagement_number()``: ``ENG-`` then 26 base32 characters (128 random bits from
  ``secrets``): unguessable, and nothing in it names the person, the professional or the date.
* ``engagement_digest(number)``: what is stored and looked up (SHA-256 hex of the number as
  normalised: upper case, spaces and dashes kept as typed are removed).
* ``DOMAIN_FAMILIES``: the coverage engine's families each attestation domain covers.
* ``domain_rules(contract, domain, care_date, tables_dir)``: the guarantee table's rules
  for the domain on that date, as ``[{"rule", "label", "families", "benefit"}]`` (French
  wording of the benefit); empty when the contract names no readable table.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
from functools import lru_cache
from pathlib import Path

from tierspayant.coverage import CoverageError, Family, GuaranteeTable, load_guarantee_table
from tierspayant.registry.choices import Domain
from tierspayant.registry.models import Contract

PREFIX = "ENG-"
#: Days an engagement stays valid after it is issued (platform rule: the public IDB/CLC
#: specifications were not available to check; docs/attestations.md says so).
VALID_DAYS = 30

DOMAIN_FAMILIES: dict[Domain, frozenset[Family]] = {
    Domain.PHARMACY: frozenset({Family.PHARMACY, Family.MEDICAL_DEVICE}),
    Domain.OPTICAL: frozenset({Family.OPTICAL_FRAME, Family.OPTICAL_LENS, Family.CONTACT_LENS}),
    Domain.AUDIO: frozenset({Family.HEARING_AID}),
    Domain.DENTAL: frozenset({Family.DENTAL_CARE, Family.DENTAL_PROSTHESIS, Family.ORTHODONTICS}),
    Domain.HOSPITAL: frozenset(
        {Family.HOSPITAL_STAY, Family.HOSPITAL_DAILY_FEE, Family.HOSPITAL_ROOM}
    ),
    Domain.CONSULTATION: frozenset(
        {
            Family.CONSULTATION,
            Family.TECHNICAL_ACT,
            Family.LAB_TEST,
            Family.PARAMEDICAL,
            Family.TRANSPORT,
            Family.ALTERNATIVE_MEDICINE,
        }
    ),
}


def new_engagement_number() -> str:
    """A fresh engagement number, e.g. ``ENG-MZXW6YTBOI3DEMRTGQ2TMNZYHE``."""
    return PREFIX + base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=")


def engagement_digest(number: str) -> str:
    """SHA-256 (hex) of the normalised ``number``; any string is accepted (a forged number
    simply finds nothing)."""
    normal = "".join(str(number).split()).upper()
    return hashlib.sha256(normal.encode()).hexdigest()


def expiry(issued_at: datetime.datetime, days: int = VALID_DAYS) -> datetime.datetime:
    """When an engagement issued at ``issued_at`` expires (``days`` later, same instant)."""
    return issued_at + datetime.timedelta(days=days)


@lru_cache(maxsize=64)
def _table(path: str, mtime: float) -> GuaranteeTable:
    return load_guarantee_table(Path(path))


def contract_table(contract: Contract, tables_dir: Path | None) -> GuaranteeTable | None:
    """The guarantee table the contract names in ``tables_dir`` (cached per file version),
    or None when there is none or it does not load."""
    name = contract.guarantee_table
    if tables_dir is None or not name or "/" in name:
        return None
    path = Path(tables_dir) / f"{name}.json"
    if not path.is_file():
        return None
    try:
        return _table(str(path), path.stat().st_mtime)
    except CoverageError:
        return None


def domain_rules(
    contract: Contract, domain: Domain, care_date: datetime.date, tables_dir: Path | None
) -> list[dict[str, object]]:
    """The contract's guarantee rules that apply to ``domain`` on ``care_date``."""
    table = contract_table(contract, tables_dir)
    if table is None:
        return []
    try:
        version = table.version_for(care_date)
    except CoverageError:
        return []
    families = DOMAIN_FAMILIES[domain]
    return [
        {
            "rule": rule.id,
            "label": rule.label,
            "families": [str(f) for f in rule.match.families if f in families],
            "benefit": rule.benefit.describe(),
        }
        for rule in version.rules
        if families.intersection(rule.match.families)
    ]
