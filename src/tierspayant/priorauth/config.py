"""What the care services need from the configuration, passed explicitly (no settings read
inside services). Interfaces build it with :meth:`CareConfig.from_settings` at call time."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from tierspayant.crypto.keys import Keyring


@dataclass(frozen=True)
class CareConfig:
    """keyring: field and index keys; quota_storage_uri, daily_quota, policy: the rights
    check's guard (see ``eligibility.services.check_rights``); tables_dir: guarantee tables
    (``<id>.json``); approval_valid_days: validity of an approval; claim_tolerance: euros an
    invoice may exceed its approval by; review_days: days staff have to decide a degraded
    approval (the deadline shown to the professional)."""

    keyring: Keyring
    quota_storage_uri: str
    daily_quota: int | None
    policy: Any
    tables_dir: Path
    approval_valid_days: int = 183
    claim_tolerance: Decimal = Decimal("5.00")
    review_days: int = 2

    @classmethod
    def from_settings(cls, settings: Any) -> CareConfig:
        """Read the ``TIERSPAYANT_*`` values of Django settings (call it per request)."""
        return cls(
            keyring=settings.TIERSPAYANT_KEYRING,
            quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
            daily_quota=settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA,
            policy=getattr(settings, "TIERSPAYANT_GUARD_POLICY", None),
            tables_dir=Path(settings.TIERSPAYANT_GUARANTEE_TABLES_DIR),
            approval_valid_days=settings.TIERSPAYANT_APPROVAL_VALID_DAYS,
            claim_tolerance=settings.TIERSPAYANT_CLAIM_TOLERANCE,
            review_days=settings.TIERSPAYANT_APPROVAL_REVIEW_DAYS,
        )
