"""``tierspayant create-insurer-token AMC_NUMBER [--name LABEL] [--days N]``: issue an insurer's
``audit:read`` token, for its member apps to search their members' access history (FHIR
``AuditEvent``). The secret is printed once, on standard output, and never stored."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tierspayant.audit.choices import InsurerScope
from tierspayant.audit.services import issue_insurer_token
from tierspayant.registry.models import Insurer


class Command(BaseCommand):
    help = "Issue an insurer's audit:read API token (access history); prints the secret once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("amc_number")
        parser.add_argument("--name", default="Application adhérents")
        parser.add_argument("--days", type=int, default=None, help="validity in days")

    def handle(self, *args: Any, **options: Any) -> None:
        insurer = Insurer.objects.filter(amc_number=options["amc_number"]).first()
        if insurer is None:
            raise CommandError(f"No insurer with AMC number {options['amc_number']!r}.")
        days = options["days"] or settings.TIERSPAYANT_AUDIT_TOKEN_DAYS
        if days <= 0 or days > 365:
            raise CommandError("--days must be between 1 and 365.")
        issued = issue_insurer_token(
            insurer=insurer,
            name=options["name"],
            scopes=[InsurerScope.AUDIT_READ],
            now=timezone.now(),
            valid_days=days,
        )
        self.stderr.write(
            f"Token {issued.token.prefix} for {insurer.name} valid until "
            f"{issued.token.expires_at:%Y-%m-%d} (UTC); copy it now, it is not stored:"
        )
        self.stdout.write(issued.secret)
