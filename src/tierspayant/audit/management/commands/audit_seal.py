"""``tierspayant audit-seal [--every SECONDS]``: chain new log rows and sign a checkpoint.

Run it periodically (a timer every few minutes, or ``--every`` as a long-running process):
rows are written without a lock on the request path and chained here, in order.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tierspayant.audit.checkpoints import StoreCorrupted
from tierspayant.audit.services import SealRefused, configured_store, seal_log


class Command(BaseCommand):
    help = "Chain the disclosure-log rows not yet sealed and sign a checkpoint of the new head."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--every", type=int, default=0, help="repeat every N seconds (0: run once)"
        )
        parser.add_argument(
            "--runs", type=int, default=0, help="with --every: stop after N runs (0: never)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["every"] < 0 or options["runs"] < 0:
            raise CommandError("--every and --runs must not be negative.", returncode=2)
        runs = 0
        while True:
            try:
                result = seal_log(store=configured_store(), now=timezone.now())
            except StoreCorrupted as exc:
                raise CommandError(
                    f"checkpoint store refused: {exc}; run audit-verify", returncode=1
                ) from None
            except SealRefused as exc:
                raise CommandError(f"sealing refused: {exc}", returncode=1) from None
            signed = (
                f"checkpoint {result.checkpoint.number} signed"
                if result.checkpoint
                else "no new checkpoint"
            )
            self.stdout.write(f"sealed {result.sealed} rows; chain length {result.count}; {signed}")
            runs += 1
            if not options["every"] or (options["runs"] and runs >= options["runs"]):
                return
            time.sleep(options["every"])
