"""The staging table and the set-based merge into the register.

Valid lines are loaded into a temporary table of the import's connection (PostgreSQL:
``COPY ... FROM STDIN``; SQLite: batched ``INSERT``), then merged by line range with a few
set-based statements: drop the lines that repeat an earlier line's key, match the register by
(contract, identity index, rang) under every index key, count, ``UPDATE ... FROM`` the rows that
changed, ``INSERT ... SELECT`` the new ones (ordered by identity index, so the index is filled
in order). Nothing here decrypts; nothing here logs values. SQL text is built only from this
module's constants and column names (``# noqa: S608``); every value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from tierspayant.registry.member_file.parsing import MemberLine
from tierspayant.registry.member_file.sealing import SealedLine
from tierspayant.registry.models import Beneficiary

TABLE = "member_import_staging"
_TARGET = Beneficiary._meta.db_table
#: Columns the merge writes; any other column of the register gets its model default.
_WRITTEN = {
    "id",
    "contract_id",
    "nir_ciphertext",
    "birth_date_ciphertext",
    "identity_index",
    "rang",
    "last_name",
    "first_name",
    "quality",
    "rights_start",
    "rights_end",
}
_PAYLOAD = ("last_name", "first_name", "quality", "rights_start", "rights_end")


@dataclass(frozen=True)
class MergeCounts:
    """Lines merged in a range: ``created`` new beneficiaries, ``terminated`` existing ones whose
    rights now end (or end earlier), ``updated`` other changes, ``unchanged`` identical."""

    created: int = 0
    updated: int = 0
    terminated: int = 0
    unchanged: int = 0


class Staging:
    """A temporary staging table on ``connection`` for one import run.

    ``key_count`` is the number of index keys: the table holds the identity index under each
    (``lookup_0`` the active one), so rows indexed before a key rotation are still matched.
    """

    def __init__(self, connection: BaseDatabaseWrapper, *, key_count: int) -> None:
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.lookups = [f"lookup_{k}" for k in range(key_count)]
        uuid_type = "uuid" if self.postgres else "char(32)"
        date_type = "date"
        lookup_columns = ", ".join(f"{name} varchar(90) NOT NULL" for name in self.lookups)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {TABLE} ("
                "line_no bigint PRIMARY KEY, contract_id bigint NOT NULL, "
                f"{lookup_columns}, rang smallint NOT NULL, new_id {uuid_type} NOT NULL, "
                "nir_ct text NOT NULL, birth_ct text NOT NULL, "
                "last_name varchar(100) NOT NULL, first_name varchar(100) NOT NULL, "
                f"quality varchar(10) NOT NULL, rights_start {date_type} NOT NULL, "
                f"rights_end {date_type}, target_id {uuid_type})"
            )
            cursor.execute(
                f"CREATE INDEX {TABLE}_key ON {TABLE} (contract_id, lookup_0, rang, line_no)"
            )
        self._columns = [
            "line_no",
            "contract_id",
            *self.lookups,
            "rang",
            "new_id",
            "nir_ct",
            "birth_ct",
            "last_name",
            "first_name",
            "quality",
            "rights_start",
            "rights_end",
        ]

    def drop(self) -> None:
        """Remove the staging table (it would go with the connection anyway)."""
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")

    def load(self, rows: Sequence[tuple[MemberLine, int, SealedLine]]) -> None:
        """Add (line, contract id, sealed values) rows: one COPY on PostgreSQL, one
        ``executemany`` on SQLite."""
        if not rows:
            return
        if self.postgres:
            self._copy(rows)
            return
        values = [
            (
                line.line,
                contract_id,
                *sealed.identity_indexes,
                line.rang,
                sealed.row_id.replace("-", ""),
                sealed.nir_ciphertext,
                sealed.birth_date_ciphertext,
                line.last_name,
                line.first_name,
                line.quality,
                line.rights_start.isoformat(),
                line.rights_end.isoformat() if line.rights_end else None,
            )
            for line, contract_id, sealed in rows
        ]
        marks = ", ".join(["%s"] * len(self._columns))
        sql = f"INSERT INTO {TABLE} ({', '.join(self._columns)}) VALUES ({marks})"  # noqa: S608
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, values)

    def _copy(self, rows: Sequence[tuple[MemberLine, int, SealedLine]]) -> None:
        sql = f"COPY {TABLE} ({', '.join(self._columns)}) FROM STDIN"
        with self.connection.cursor() as cursor, cursor.copy(sql) as copy:
            for line, contract_id, sealed in rows:
                copy.write_row(
                    (
                        line.line,
                        contract_id,
                        *sealed.identity_indexes,
                        line.rang,
                        sealed.row_id,
                        sealed.nir_ciphertext,
                        sealed.birth_date_ciphertext,
                        line.last_name,
                        line.first_name,
                        line.quality,
                        line.rights_start,
                        line.rights_end,
                    )
                )

    def analyze(self) -> None:
        """Give the planner the staging table's statistics (PostgreSQL does not auto-analyse
        temporary tables)."""
        if self.postgres:
            with self.connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {TABLE}")

    def remove_duplicates(self, first: int, last: int) -> list[tuple[int, int]]:
        """Delete the lines of ``[first, last]`` whose key (contract, NIR and birth date, rang)
        an earlier staged line already has; return (line, earlier line) pairs in line order."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.line_no, MIN(p.line_no) FROM {TABLE} s JOIN {TABLE} p "  # noqa: S608
                "ON p.contract_id = s.contract_id AND p.lookup_0 = s.lookup_0 "
                "AND p.rang = s.rang AND p.line_no < s.line_no "
                "WHERE s.line_no BETWEEN %s AND %s GROUP BY s.line_no ORDER BY s.line_no",
                [first, last],
            )
            pairs = [(int(a), int(b)) for a, b in cursor.fetchall()]
            for start in range(0, len(pairs), 500):
                doomed = [a for a, _ in pairs[start : start + 500]]
                marks = ", ".join(["%s"] * len(doomed))
                sql = f"DELETE FROM {TABLE} WHERE line_no IN ({marks})"  # noqa: S608
                cursor.execute(sql, doomed)
        return pairs

    def _changed(self, b: str) -> str:
        differs = "IS DISTINCT FROM" if self.postgres else "IS NOT"
        return (
            f"({b}.last_name <> s.last_name OR {b}.first_name <> s.first_name "
            f"OR {b}.quality <> s.quality OR {b}.rights_start <> s.rights_start "
            f"OR {b}.rights_end {differs} s.rights_end)"
        )

    def merge(self, first: int, last: int) -> MergeCounts:
        """Merge the staged lines ``[first, last]`` into the register; run it inside a
        transaction. Existing rows keep their id, ciphertexts and index (the identity is the
        key, so they cannot differ); only names, quality and rights are updated."""
        r = [first, last]
        with self.connection.cursor() as cursor:
            for position, lookup in enumerate(self.lookups):
                unmatched = "AND s.target_id IS NULL" if position else ""
                cursor.execute(
                    f"UPDATE {TABLE} AS s SET target_id = b.id FROM {_TARGET} AS b "  # noqa: S608
                    f"WHERE s.line_no BETWEEN %s AND %s {unmatched} "
                    f"AND b.contract_id = s.contract_id AND b.identity_index = s.{lookup} "
                    "AND b.rang = s.rang",
                    r,
                )
            changed = self._changed("b")
            ending = (
                "(s.rights_end IS NOT NULL"
                " AND (b.rights_end IS NULL OR s.rights_end < b.rights_end))"
            )
            cursor.execute(
                "SELECT COUNT(*), "  # noqa: S608
                "COALESCE(SUM(CASE WHEN s.target_id IS NULL THEN 1 ELSE 0 END), 0), "
                f"COALESCE(SUM(CASE WHEN s.target_id IS NOT NULL AND {changed} AND {ending} "
                "THEN 1 ELSE 0 END), 0), "
                f"COALESCE(SUM(CASE WHEN s.target_id IS NOT NULL AND {changed} AND NOT {ending} "
                "THEN 1 ELSE 0 END), 0) "
                f"FROM {TABLE} s LEFT JOIN {_TARGET} b ON b.id = s.target_id "
                "WHERE s.line_no BETWEEN %s AND %s",
                r,
            )
            total, created, terminated, updated = (int(v) for v in cursor.fetchone())
            if terminated or updated:
                assignments = ", ".join(f"{c} = s.{c}" for c in _PAYLOAD)
                cursor.execute(
                    f"UPDATE {_TARGET} AS b SET {assignments} FROM {TABLE} AS s "  # noqa: S608
                    "WHERE s.line_no BETWEEN %s AND %s AND b.id = s.target_id "
                    f"AND {changed}",
                    r,
                )
            if created:
                extra_columns, extra_values = self._defaults()
                columns = (
                    "id, contract_id, nir_ciphertext, birth_date_ciphertext, identity_index, "
                    "rang, last_name, first_name, quality, rights_start, rights_end"
                )
                marks = "".join(", %s" for _ in extra_values)
                cursor.execute(
                    f"INSERT INTO {_TARGET} ({columns}{extra_columns}) "  # noqa: S608
                    "SELECT new_id, contract_id, nir_ct, birth_ct, lookup_0, rang, last_name, "
                    f"first_name, quality, rights_start, rights_end{marks} FROM {TABLE} "
                    "WHERE line_no BETWEEN %s AND %s AND target_id IS NULL ORDER BY lookup_0",
                    [*extra_values, *r],
                )
        return MergeCounts(
            created=created,
            updated=updated,
            terminated=terminated,
            unchanged=total - created - updated - terminated,
        )

    def _defaults(self) -> tuple[str, list[Any]]:
        """Register columns the file does not fill (``is_canary``, and any column added later)
        with their model defaults, adapted for the database."""
        names, values = [], []
        for f in Beneficiary._meta.concrete_fields:
            if f.column in _WRITTEN:
                continue
            names.append(f.column)
            values.append(f.get_db_prep_value(f.get_default(), self.connection))
        return "".join(f", {n}" for n in names), values
