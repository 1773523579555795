"""``tierspayant lockdown on|off --reason "..."``: close or reopen the portal."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tierspayant.guard.lockdown import lockdown_active, set_lockdown


class Command(BaseCommand):
    help = (
        "Close (on) or reopen (off) the portal and human rights checks; API and FHIR keep "
        "working. 'on' ends every professional's session and forces a new password."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("state", choices=["on", "off", "status"])
        parser.add_argument("--reason", default="", help="why (required for on/off; logged)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["state"] == "status":
            self.stdout.write("fermé" if lockdown_active() else "ouvert")
            return
        try:
            set_lockdown(
                active=options["state"] == "on",
                actor=None,
                reason=options["reason"],
                source="command",
                now=timezone.now(),
            )
        except ValueError as exc:
            raise CommandError(f"{exc} (--reason)") from None
        self.stdout.write(
            "Portail fermé : sessions révoquées, nouveau mot de passe exigé."
            if options["state"] == "on"
            else "Portail rouvert."
        )
