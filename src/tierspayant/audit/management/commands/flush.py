"""Django's ``flush``, which empties every table, with the disclosure log's guard lifted.

The log's triggers refuse DELETE and TRUNCATE (``audit.db_guard``); emptying the whole database
(a fresh demo, the test runner between transactional tests) is the one other case where the
log goes too, so this command alone lifts the guard, for its own duration. A flushed log no
longer matches its checkpoint store: ``audit-verify`` reports it, as it should.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import DEFAULT_DB_ALIAS, connections

from tierspayant.audit.db_guard import FLUSH, guard_lifted


class Command(FlushCommand):
    help = FlushCommand.help + " The disclosure log is emptied too."

    def handle(self, **options: Any) -> None:
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        with guard_lifted(connection, FLUSH):
            super().handle(**options)
