"""``tierspayant rotate-keys [--batch-size N] [--check]``: re-encrypt under the active keys.

Re-encrypts every field ciphertext (NIR, birth date, IBAN...) not under the first key of
``TIERSPAYANT_FIELD_KEYS`` and re-keys the identity blind index under the first key of
``TIERSPAYANT_INDEX_KEYS``, in batches while the platform serves, with a progress bar on
standard error. Then prints the rows per key id: once an old key id has no row left, remove
it from the configuration. ``--check`` only prints that table. Exit 1 if a row could not be
decrypted (its key is no longer configured) or rows remain under an old key.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tierspayant.registry.rotation import key_usage, rotate_keys, stale_count


class Command(BaseCommand):
    help = "Re-encrypt field ciphertexts and re-key blind indexes under the active keys."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--check", action="store_true", help="only count rows per key id")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        keyring = settings.TIERSPAYANT_KEYRING
        if options["batch_size"] <= 0:
            raise CommandError("--batch-size must be positive.", returncode=2)
        if not options["check"]:
            total = stale_count(keyring)
            with tqdm(
                total=total,
                unit="row",
                desc="rotate-keys",
                file=self.stderr._out,
                disable=options["no_progress"] or total == 0,
            ) as bar:
                result = rotate_keys(keyring, batch_size=options["batch_size"], progress=bar.update)
            self.stderr.write(f"{result.rotated} rows re-encrypted")
            if result.failed:
                raise CommandError(
                    f"{len(result.failed)} rows could not be decrypted with the configured "
                    f"keys (first: {result.failed[0]}); keep their old key and retry.",
                    returncode=1,
                )
        usage = key_usage(keyring)
        self.stdout.write(json.dumps(usage, indent=2, sort_keys=True))
        remaining = stale_count(keyring)
        if remaining:
            raise CommandError(
                f"{remaining} rows still hold values under an old key id.", returncode=1
            )
        self.stderr.write(
            f"every row is under field key {keyring.encryption.active_id!r} and index key "
            f"{keyring.index.active_id!r}: older keys can be removed from the configuration"
        )
