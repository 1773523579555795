"""``tierspayant create-api-token USERNAME [--scope SCOPE ...] [--name LABEL] [--days N]``:
issue an API token to a professional's practice software.

For setting up practice software without the portal (the portal's *Jetons d'API* page is the
self-service way, and grants every scope). ``--scope`` (repeatable) names what the token may
do, one of :class:`~tierspayant.providers.choices.Scope`: ``eligibility:check`` (rights checks,
the default), ``claims:submit`` (prior approvals and claims), ``payments:read`` (remittance
statements). The secret is printed once, on standard output, and never stored.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tierspayant.providers.choices import Scope
from tierspayant.providers.models import Professional
from tierspayant.providers.services import issue_api_token


class Command(BaseCommand):
    help = "Issue an API token for a professional's practice software; prints the secret once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=[scope.value for scope in Scope],
            metavar="SCOPE",
            help="what the token may do, repeatable: "
            + ", ".join(scope.value for scope in Scope)
            + f" (default: {Scope.ELIGIBILITY_CHECK.value})",
        )
        parser.add_argument("--name", default="Jeton créé par commande")
        parser.add_argument("--days", type=int, default=None, help="validity in days")

    def handle(self, *args: Any, **options: Any) -> None:
        professional = Professional.objects.filter(user__username=options["username"]).first()
        if professional is None:
            raise CommandError(f"No professional with username {options['username']!r}.")
        days = options["days"] or settings.TIERSPAYANT_API_TOKEN_DAYS
        if days <= 0 or days > 365:
            raise CommandError("--days must be between 1 and 365.")
        scopes = sorted({Scope(value) for value in options["scopes"] or [Scope.ELIGIBILITY_CHECK]})
        issued = issue_api_token(
            professional=professional,
            name=options["name"],
            scopes=scopes,
            now=timezone.now(),
            valid_days=days,
        )
        self.stderr.write(
            f"Token {issued.token.prefix} ({', '.join(scopes)}) valid until "
            f"{issued.token.expires_at:%Y-%m-%d} (UTC); copy it now, it is not stored:"
        )
        self.stdout.write(issued.secret)
