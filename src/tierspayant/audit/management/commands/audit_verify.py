"""``tierspayant audit-verify [--json]``: check the disclosure log against its checkpoints.

Exit 0 when intact; 1 when not, naming the first row altered, deleted, inserted or reordered,
or the checkpoint that fails in a corrupted store.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from tierspayant.audit.services import configured_store
from tierspayant.audit.verify import verify_log


class Command(BaseCommand):
    help = "Verify the disclosure log's hash chain against the signed checkpoint store."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_log(store=configured_store(), now=timezone.now())
        if options["json"]:
            document = {
                "ok": report.ok,
                "problems": [asdict(p) for p in report.problems],
                "rows_checked": report.rows_checked,
                "chain_length": report.chain_length,
                "checkpoints": report.checkpoints,
                "purged_through": report.purged_through,
                "unsealed": report.unsealed,
                "unsigned": report.unsigned,
            }
            self.stdout.write(json.dumps(document, indent=2))
        else:
            for problem in report.problems:
                self.stdout.write(f"FAILED ({problem.kind}): {problem.message}")
            verdict = "intact" if report.ok else "NOT intact"
            self.stdout.write(
                f"disclosure log {verdict}: {report.rows_checked} rows checked "
                f"(positions {report.purged_through + 1} to {report.chain_length}), "
                f"{report.checkpoints} checkpoints, {report.unsigned} chained rows without a "
                f"checkpoint, {report.unsealed} rows awaiting sealing"
            )
        if not report.ok:
            sys.stdout.flush()
            raise SystemExit(1)
