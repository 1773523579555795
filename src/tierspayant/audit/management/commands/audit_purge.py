"""``tierspayant audit-purge [--days N]``: delete log rows past the retention period.

Default period: ``TIERSPAYANT_AUDIT_RETENTION_DAYS`` (365). The cut falls on a signed
checkpoint, recorded in the store, so ``audit-verify`` still checks the rows kept.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tierspayant.audit.checkpoints import StoreCorrupted
from tierspayant.audit.services import SealRefused, configured_store, purge_expired


class Command(BaseCommand):
    help = (
        "Purge disclosure-log rows older than the retention period, keeping the chain verifiable."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--days", type=int, default=None, help="retention period in days")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            days = settings.TIERSPAYANT_AUDIT_RETENTION_DAYS
        if days <= 0:
            raise CommandError("--days must be positive.", returncode=2)
        try:
            result = purge_expired(
                store=configured_store(), now=timezone.now(), retention_days=days
            )
        except StoreCorrupted as exc:
            raise CommandError(
                f"checkpoint store refused: {exc}; run audit-verify", returncode=1
            ) from None
        except SealRefused as exc:  # purging seals first
            raise CommandError(f"sealing refused: {exc}", returncode=1) from None
        self.stdout.write(
            f"purged {result.deleted} rows (chain positions up to {result.purged_through}) "
            f"older than {days} days"
        )
