"""``tierspayant approve-passkey-enrolment USERNAME --reason TICKET``: the platform's shell
approves a pending first-passkey request of a staff account, only while no OTHER active staff
account holds a passkey (a platform's first staff member; the demo's ``securite.demo``).
Once someone else could approve it in the back-office, the command refuses (exit code 2):
nobody approves their own passkey there. Recorded as a security event (no actor, the reason).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tierspayant.accounts import enrolment


class Command(BaseCommand):
    help = "Approve a staff account's pending first-passkey request (bootstrap only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--reason", required=True, help="ticket or short reason, 200 characters at most"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError("username: no such account.", returncode=2)
        try:
            opened = enrolment.approve_enrolment_from_shell(
                user, reason=options["reason"], now=timezone.now()
            )
        except enrolment.EnrolmentError as refused:
            raise CommandError(str(refused), returncode=2) from refused
        self.stdout.write(
            f"Enrôlement #{opened.pk} approuvé : la clé d'accès s'ajoute depuis la page Sécurité "
            f"dans les {enrolment.APPROVAL_OPEN_MINUTES} minutes."
        )
