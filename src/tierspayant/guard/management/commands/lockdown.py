"""``tierspayant lockdown on|restricted|off|status --reason "..."``: set the portal's lockdown
level (``on``: full, ``restricted``: passkey and Pro Santé Connect sessions keep approvals,
invoices and statements, ``off``: open)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tierspayant.guard.choices import LockdownLevel
from tierspayant.guard.lockdown import lockdown_level, set_lockdown

LEVELS = {
    "on": LockdownLevel.FULL,
    "full": LockdownLevel.FULL,
    "restricted": LockdownLevel.RESTRICTED,
    "off": LockdownLevel.OPEN,
}

DONE = {
    LockdownLevel.FULL: "Portail fermé : sessions révoquées, nouveau mot de passe exigé.",
    LockdownLevel.RESTRICTED: (
        "Confinement restreint : accords préalables, factures et relevés restent ouverts aux "
        "connexions par clé d'accès ou Pro Santé Connect ; vérifications de droits seules, "
        "connexions par code et changements de coordonnées bancaires refusés."
    ),
    LockdownLevel.OPEN: "Portail rouvert.",
}


class Command(BaseCommand):
    help = (
        "Set the portal's lockdown level: on (or full) closes the portal and human rights "
        "checks, ends every professional's session and forces a new password; restricted "
        "keeps approvals, invoices and statements for passkey and Pro Santé Connect sessions; "
        "off reopens. API and FHIR keep working. status prints the level."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("state", choices=[*LEVELS, "status"])
        parser.add_argument("--reason", default="", help="why (required to change; logged)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["state"] == "status":
            level = lockdown_level()
            self.stdout.write(
                {
                    LockdownLevel.FULL: "fermé",
                    LockdownLevel.RESTRICTED: "restreint",
                    LockdownLevel.OPEN: "ouvert",
                }[level]
            )
            return
        level = LEVELS[options["state"]]
        try:
            set_lockdown(
                level=level,
                actor=None,
                reason=options["reason"],
                source="command",
                now=timezone.now(),
            )
        except ValueError as exc:
            raise CommandError(f"{exc} (--reason)") from None
        self.stdout.write(DONE[level])
