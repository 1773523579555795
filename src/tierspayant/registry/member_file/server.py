"""What the PostgreSQL server's settings mean for a large member import.

A large import writes every index of the register on every chunk. The WAL's first change to
a page after a checkpoint carries the whole page (``full_page_writes``), so a checkpoint
every few seconds multiplies the WAL written: with PostgreSQL's default ``max_wal_size``
(1 GB) a 20-million import forced a checkpoint every 6 to 10 seconds and wrote 4 to 6 KB of
WAL per row once the identity index outgrew the cache (issue 7, ``bench/README.md``).
These are the server's settings, the operator's to set; the import only says so.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

#: Settings read (``pg_settings.setting``: MB, text and 8 kB pages respectively).
SETTINGS = ("max_wal_size", "wal_compression", "shared_buffers")
#: A file this large (bytes, about 700,000 lines) makes the settings worth a word.
LARGE_FILE_BYTES = 100 * 2**20
#: Enough WAL between checkpoints for a large import's chunks (MB).
MIN_MAX_WAL_SIZE_MB = 8 * 1024
#: Enough cache for the register's hot index pages (MB; 8 kB pages).
MIN_SHARED_BUFFERS_MB = 1024


def read_settings(connection: BaseDatabaseWrapper) -> dict[str, str] | None:
    """The :data:`SETTINGS` of ``connection``'s server, in base units (``max_wal_size`` in
    MB, ``shared_buffers`` in 8 kB pages, ``wal_compression`` as text); None on SQLite."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", [list(SETTINGS)]
        )
        return dict(cursor.fetchall())


def advice(settings: dict[str, str]) -> list[str]:
    """French advice, one sentence each, for the settings in ``settings`` (as
    :func:`read_settings` gives them) that slow a large import; [] when none does."""
    notes = []
    wal_mb = int(settings["max_wal_size"])
    if wal_mb < MIN_MAX_WAL_SIZE_MB:
        notes.append(
            f"max_wal_size vaut {wal_mb} Mo : un gros import déclenchera un checkpoint toutes "
            f"les quelques secondes ; {MIN_MAX_WAL_SIZE_MB // 1024} Go ou plus conseillés."
        )
    if settings["wal_compression"] == "off":
        notes.append("wal_compression est désactivé : lz4 réduit le WAL d'un gros import.")
    buffers_mb = int(settings["shared_buffers"]) * 8 // 1024
    if buffers_mb < MIN_SHARED_BUFFERS_MB:
        notes.append(
            f"shared_buffers vaut {buffers_mb} Mo : au moins {MIN_SHARED_BUFFERS_MB // 1024} Go "
            "(le quart de la mémoire) conseillés pour un registre de plusieurs millions."
        )
    return notes
