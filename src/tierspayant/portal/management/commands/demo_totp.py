"""``tierspayant demo-totp [--staff]``: the current TOTP code of a demo account (demo mode only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tierspayant.portal.demo import DEMO_USERNAME, STAFF_USERNAME


class Command(BaseCommand):
    help = "Print the current 6-digit TOTP code of the demo professional (or --staff)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--staff", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError("demo-totp only works on the demo platform (TIERSPAYANT_DEMO=1).")
        username = STAFF_USERNAME if options["staff"] else DEMO_USERNAME
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is None:
            raise CommandError("No demo account yet: run make demo first.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():06d}")
