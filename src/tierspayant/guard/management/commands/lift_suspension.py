"""``tierspayant lift-suspension PROFESSIONAL_ID --staff USERNAME --reason "..."``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tierspayant.guard.suspension import NotSuspended, lift_suspension
from tierspayant.providers.models import Professional


class Command(BaseCommand):
    help = "Lift a professional's suspension (a staff member, with a reason, recorded)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("professional", type=int, help="professional id")
        parser.add_argument("--staff", required=True, help="username of the staff member")
        parser.add_argument("--reason", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        professional = Professional.objects.filter(pk=options["professional"]).first()
        staff = get_user_model().objects.filter(username=options["staff"]).first()
        if professional is None or staff is None:
            raise CommandError("unknown professional or staff member")
        try:
            lift_suspension(
                professional=professional, by=staff, reason=options["reason"], now=timezone.now()
            )
        except PermissionDenied:
            raise CommandError("only staff lift a suspension") from None
        except (ValueError, NotSuspended) as exc:
            raise CommandError(str(exc) or "this account is not suspended") from None
        self.stdout.write(f"Suspension levée pour le professionnel {professional.pk}.")
