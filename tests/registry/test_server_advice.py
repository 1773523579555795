"""The import's word on PostgreSQL settings that slow a large import (issue 7)."""

from __future__ import annotations

import pytest
from django.db import connection

from tierspayant.registry.member_file.server import SETTINGS, advice, read_settings

DEFAULTS = {"max_wal_size": "1024", "wal_compression": "off", "shared_buffers": "16384"}
TUNED = {"max_wal_size": "16384", "wal_compression": "lz4", "shared_buffers": "524288"}


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (DEFAULTS, ["max_wal_size vaut 1024 Mo", "wal_compression", "shared_buffers vaut 128 Mo"]),
        (TUNED, []),
        ({**TUNED, "max_wal_size": "4096"}, ["max_wal_size vaut 4096 Mo"]),
        ({**TUNED, "wal_compression": "off"}, ["wal_compression"]),
        ({**TUNED, "wal_compression": "pglz"}, []),
        ({**TUNED, "shared_buffers": "65536"}, ["shared_buffers vaut 512 Mo"]),
    ],
)
def test_advice_names_each_setting_too_low(settings: dict[str, str], named: list[str]) -> None:
    notes = advice(settings)
    assert len(notes) == len(named)
    for note, start in zip(notes, named, strict=True):
        assert note.startswith(start)


@pytest.mark.django_db
def test_settings_are_read_from_the_server_in_base_units() -> None:
    read = read_settings(connection)
    if connection.vendor != "postgresql":
        assert read is None
        return
    assert read is not None and set(read) == set(SETTINGS)
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_wal_size")
        (shown,) = cursor.fetchone()
    # SHOW prints a unit (e.g. "1GB"); the setting is in MB
    assert shown.upper() in (f"{read['max_wal_size']}MB", f"{int(read['max_wal_size']) // 1024}GB")
