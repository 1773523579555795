"""The staging tables and the set-based merge into the register.

Valid lines are staged as rows of text in PostgreSQL's ``COPY`` format (:func:`staged_row`,
built where the line is checked, possibly in a worker process), loaded into a temporary table
of the import's connection (PostgreSQL: ``COPY ... FROM STDIN``; SQLite: batched ``INSERT``)
and merged every chunk with a few set-based statements: drop the lines that repeat an earlier
line of the chunk, match the register by (identity index, contract, rang) under every index
key, drop the lines whose register row an earlier chunk's line claimed (the run's claims are
a second temporary table, probed only by matched lines), count, ``UPDATE ... FROM`` the rows
that changed, ``INSERT ... SELECT`` the new ones (ordered by identity index, so the index is
filled in order), claim the chunk's rows; then the chunk's rows are dropped. Nothing
here decrypts; nothing here logs values. SQL text is built only from this module's constants
and column names (``# noqa: S608``); every value is a bound parameter.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from tierspayant.crypto.fields import decrypt_field, encrypt_field
from tierspayant.crypto.keys import KeySet
from tierspayant.registry.member_file.parsing import MemberLine
from tierspayant.registry.member_file.sealing import SealedLine
from tierspayant.registry.models import Beneficiary

TABLE = "member_import_staging"
CLAIMS = "member_import_claims"
MATCHES = "member_import_matches"
#: The staged line ``s`` matched no register row yet.
UNMATCHED = f"NOT EXISTS (SELECT 1 FROM {MATCHES} m WHERE m.line_no = s.line_no)"  # noqa: S608
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
    "member_number_ciphertext",
    "member_number_index",
    "formulas",
    "amo_regime",
    "amo_fund",
    "tiers_payant_suspended",
}
_PAYLOAD = ("last_name", "first_name", "quality", "rights_start", "rights_end")
#: Version 2 fields: (register column, staged expression); a version 1 line leaves them as the
#: register has them. The member number's ciphertext is written apart (bound to the row:
#: :meth:`Staging._rebind_member_numbers`).
_PAYLOAD_V2 = (
    ("member_number_index", "s.member_idx"),
    ("formulas", "s.formulas"),
    ("amo_regime", "s.amo_regime"),
    ("amo_fund", "s.amo_fund"),
    ("tiers_payant_suspended", "(s.suspended = 1)"),
)
REBOUND = "member_import_rebound"
#: A matched line ends rights: an end date where the register had none, or an earlier one.
_ENDING = "(s.rights_end IS NOT NULL AND (b.rights_end IS NULL OR s.rights_end < b.rights_end))"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\r": "\\r", "\n": "\\n"})
_NULL = "\\N"


@dataclass(frozen=True)
class MergeCounts:
    """Lines merged in a range: ``created`` new beneficiaries, ``terminated`` existing ones whose
    rights now end (or end earlier), ``updated`` other changes, ``unchanged`` identical."""

    created: int = 0
    updated: int = 0
    terminated: int = 0
    unchanged: int = 0

    def __add__(self, other: MergeCounts) -> MergeCounts:
        return MergeCounts(
            self.created + other.created,
            self.updated + other.updated,
            self.terminated + other.terminated,
            self.unchanged + other.unchanged,
        )


def _text(value: str) -> str:
    """``value`` escaped for ``COPY`` text format (backslash, tab, line breaks)."""
    if "\\" in value or "\t" in value or "\r" in value or "\n" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def staged_row(line: MemberLine, sealed: SealedLine) -> str:
    """The staged columns of a valid line after line number and contract id, in ``COPY`` text
    format (tab-separated, ``\\N`` for null, no line break): identity indexes (one per index
    key), rang, row id (32 hex digits), the two ciphertexts, names, quality, rights period
    (ISO dates). :func:`staged_line` makes it a line to stage."""
    end = line.rights_end
    return "\t".join(
        (
            *sealed.identity_indexes,
            str(line.rang),
            sealed.row_id.replace("-", ""),
            sealed.nir_ciphertext,
            sealed.birth_date_ciphertext,
            _text(line.last_name),
            _text(line.first_name),
            line.quality,
            line.rights_start.isoformat(),
            end.isoformat() if end else _NULL,
            str(line.version),
            sealed.member_number_ciphertext,
            sealed.member_number_index,
            line.formulas,
            line.amo_regime,
            line.amo_fund,
            "1" if line.suspended else "0",
        )
    )


def staged_line(line_no: int, contract_id: int, row: str) -> str:
    """A line for :meth:`Staging.load`: file line number, contract id and a
    :func:`staged_row`, tab-separated, ending with a line break."""
    return f"{line_no}\t{contract_id}\t{row}\n"


def _unescape(value: str) -> str | None:
    if value == _NULL:
        return None
    if "\\" not in value:
        return value
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            escaped = next(chars)
            out.append({"t": "\t", "r": "\r", "n": "\n"}.get(escaped, escaped))
        else:
            out.append(char)
    return "".join(out)


def _uuid_text(value: Any) -> str:
    """A row id as read back (PostgreSQL ``uuid``, SQLite 32 hex digits) in canonical form."""
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


class Staging:
    """The temporary tables on ``connection`` for one import run.

    ``key_count`` is the number of index keys: a staged row holds the identity index under each
    (``lookup_0`` the active one), so rows indexed before a key rotation are still matched.
    Use: :meth:`load` a chunk's rows, then, in a transaction, :meth:`match` and
    :meth:`merge`, then :meth:`clear` before the next chunk.
    """

    def __init__(
        self, connection: BaseDatabaseWrapper, *, key_count: int, encryption: KeySet | None = None
    ) -> None:
        self.connection = connection
        self.encryption = encryption
        self.postgres = connection.vendor == "postgresql"
        differs = "IS DISTINCT FROM" if self.postgres else "IS NOT"
        v2_changed = " OR ".join(f"b.{column} <> {staged}" for column, staged in _PAYLOAD_V2)
        self._changed = (
            "(b.last_name <> s.last_name OR b.first_name <> s.first_name "
            "OR b.quality <> s.quality OR b.rights_start <> s.rights_start "
            f"OR b.rights_end {differs} s.rights_end "
            f"OR (s.version = 2 AND ({v2_changed})))"
        )
        self.lookups = [f"lookup_{k}" for k in range(key_count)]
        # SQLite plans joins with indexes only. On PostgreSQL the staging and claims tables have
        # none to maintain: the chunk probes the register through its unique index (see
        # match), and the claims are scanned once a chunk only when some line matched.
        line_no = "bigint" if self.postgres else "integer PRIMARY KEY"
        uuid_type = "uuid" if self.postgres else "char(32)"
        lookup_columns = ", ".join(f"{name} varchar(90) NOT NULL" for name in self.lookups)
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
            "version",
            "member_ct",
            "member_idx",
            "formulas",
            "amo_regime",
            "amo_fund",
            "suspended",
        ]
        self.drop()
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {TABLE} ("
                f"line_no {line_no} NOT NULL, contract_id bigint NOT NULL, "
                f"{lookup_columns}, rang smallint NOT NULL, new_id {uuid_type} NOT NULL, "
                "nir_ct text NOT NULL, birth_ct text NOT NULL, "
                "last_name varchar(100) NOT NULL, first_name varchar(100) NOT NULL, "
                "quality varchar(10) NOT NULL, rights_start date NOT NULL, rights_end date, "
                "version smallint NOT NULL DEFAULT 1, member_ct text NOT NULL DEFAULT '', "
                "member_idx varchar(90) NOT NULL DEFAULT '', "
                "formulas varchar(300) NOT NULL DEFAULT '', "
                "amo_regime varchar(2) NOT NULL DEFAULT '', "
                "amo_fund varchar(3) NOT NULL DEFAULT '', suspended smallint NOT NULL DEFAULT 0)"
            )
            cursor.execute(
                f"CREATE TEMPORARY TABLE {REBOUND} (target_id {uuid_type} NOT NULL, "
                "member_ct text NOT NULL)"
            )
            cursor.execute(
                f"CREATE TEMPORARY TABLE {CLAIMS} (target_id {uuid_type} NOT NULL, "
                "line_no bigint NOT NULL)"
            )
            if not self.postgres:
                cursor.execute(
                    f"CREATE INDEX {TABLE}_key ON {TABLE} (lookup_0, contract_id, rang, line_no)"
                )
                cursor.execute(f"CREATE INDEX {CLAIMS}_target ON {CLAIMS} (target_id)")
                cursor.execute(f"CREATE INDEX {TABLE}_member ON {TABLE} (member_idx)")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {MATCHES} (line_no {line_no} NOT NULL, "
                f"target_id {uuid_type} NOT NULL, changed boolean NOT NULL, "
                "ending boolean NOT NULL)"
            )
            if self.postgres and key_count > 1:
                # Probes under an older index key skip the lines already matched, one lookup
                # per staged line (see match): without this index, each scans the matches.
                cursor.execute(f"CREATE INDEX {MATCHES}_line ON {MATCHES} (line_no)")

    def drop(self) -> None:
        """Remove the temporary tables (they would go with the connection anyway)."""
        with self.connection.cursor() as cursor:
            for table in (TABLE, CLAIMS, MATCHES, REBOUND):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def load(self, rows: str) -> None:
        """Stage rows in ``COPY`` text format (:func:`staged_line` each): one COPY on
        PostgreSQL, one ``executemany`` on SQLite."""
        if not rows:
            return
        if self.postgres:
            sql = f"COPY {TABLE} ({', '.join(self._columns)}) FROM STDIN"
            with self.connection.cursor() as cursor, cursor.copy(sql) as copy:
                copy.write(rows)
            return
        values = [[_unescape(v) for v in row.split("\t")] for row in rows.splitlines()]
        marks = ", ".join(["%s"] * len(self._columns))
        sql = f"INSERT INTO {TABLE} ({', '.join(self._columns)}) VALUES ({marks})"  # noqa: S608
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, values)

    def member_number_conflicts(self) -> list[int]:
        """Delete and return (in line order) the staged lines whose member number another
        family of the insurer holds: a register row of another contract with the same member
        number index (the index is keyed by the AMC number, so only the insurer's rows can
        match), or a line of the chunk that gave it first, on another contract. Run it in the
        chunk's transaction, before :meth:`match`. Set-based: one probe of the register's
        member number index per staged line, one sort of the chunk."""
        with self.connection.cursor() as cursor, self._probing(cursor):
            cursor.execute(
                f"SELECT s.line_no FROM {TABLE} s WHERE s.member_idx <> '' AND EXISTS ("  # noqa: S608
                f"SELECT 1 FROM {_TARGET} b WHERE b.member_number_index = s.member_idx "
                "AND b.contract_id <> s.contract_id) "
                "UNION SELECT line_no FROM (SELECT line_no, contract_id, FIRST_VALUE(contract_id) "
                "OVER (PARTITION BY member_idx ORDER BY line_no) AS first_contract "
                f"FROM {TABLE} WHERE member_idx <> '') f WHERE contract_id <> first_contract"
            )
            lines = sorted(int(line) for (line,) in cursor.fetchall())
            self._delete(cursor, [(line, 0) for line in lines])
        return lines

    def match(self) -> list[tuple[int, int]]:
        """Match the staged lines with the register (under every index key) and delete those
        that repeat an earlier line of the run: same key (contract, NIR and birth date, rang)
        in this chunk, or a register row an earlier chunk's line already claimed. Returns
        (line, earliest line with that key) pairs in line order. Run it in a transaction."""
        same = "s.lookup_0 = d.lookup_0 AND s.contract_id = d.contract_id AND s.rang = d.rang"
        with self.connection.cursor() as cursor:
            if self.postgres:
                # Compiling these few big statements costs more than it saves (~50 ms each);
                # the chunk's hashes and sorts fit in memory (bounded by the chunk's size).
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("SET LOCAL work_mem = '128MB'")
                # The chunk's size and spread, for the planner (autovacuum never analyses a
                # temporary table); the key columns only: cheap.
                cursor.execute(f"ANALYZE {TABLE} (lookup_0, contract_id, rang)")
            cursor.execute(
                f"SELECT s.line_no, d.first FROM {TABLE} s JOIN ("  # noqa: S608
                "SELECT lookup_0, contract_id, rang, MIN(line_no) AS first "
                f"FROM {TABLE} GROUP BY lookup_0, contract_id, rang HAVING COUNT(*) > 1"
                f") d ON {same} AND s.line_no > d.first"
            )
            in_chunk = [(int(a), int(b)) for a, b in cursor.fetchall()]
            self._delete(cursor, in_chunk)
            matched = False
            with self._probing(cursor):
                for position in range(len(self.lookups)):
                    cursor.execute(self.probe_sql(position))
                    matched = matched or cursor.rowcount != 0  # -1 (unknown) counts as some
            earlier_chunk: dict[int, int] = {}
            if matched:  # a first import matches nothing: the claims need no scan
                cursor.execute(
                    f"SELECT s.line_no, b.line_no FROM {MATCHES} s "  # noqa: S608
                    + f"JOIN {CLAIMS} b ON b.target_id = s.target_id"
                )
                earlier_chunk = {int(a): int(b) for a, b in cursor.fetchall()}
            self._delete(cursor, list(earlier_chunk.items()))
        pairs = [(line, earlier_chunk.get(first, first)) for line, first in in_chunk]
        return sorted(pairs + list(earlier_chunk.items()))

    def probe_sql(self, position: int) -> str:
        """The statement matching the chunk's lines with the register under index key number
        ``position`` (0: the active key; later keys only for lines still unmatched)."""
        lookup = self.lookups[position]
        return (
            f"INSERT INTO {MATCHES} (line_no, target_id, changed, ending) "  # noqa: S608
            f"SELECT s.line_no, b.id, {self._changed}, {_ENDING} FROM {TABLE} s "
            + f"JOIN {_TARGET} b ON b.identity_index = s.{lookup} "
            "AND b.contract_id = s.contract_id AND b.rang = s.rang"
            + (f" WHERE {UNMATCHED}" if position else "")
        )

    @contextlib.contextmanager
    def _probing(self, cursor: Any) -> Iterator[None]:
        """Within the chunk's transaction, make PostgreSQL probe the register's unique index
        once per staged line (nested loop) for the statements run inside.

        Left to itself, the planner hash-joins the chunk with the whole register: a full scan
        of the register per chunk, so an import slows as the register grows (at 8.4 million
        rows, 5.0 s per 150,000-line chunk against 0.5 s for the index probes, measured; the
        planner prices the probes as random reads from disk, while the index is cached).
        """
        if not self.postgres:
            yield
            return
        if not self.connection.in_atomic_block:  # SET LOCAL outside one does nothing
            raise RuntimeError("_probing needs the chunk's transaction")
        cursor.execute(
            "SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin')"
        )
        hashjoin, mergejoin = cursor.fetchone()
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        yield  # on an error the transaction rolls back, and these settings with it
        # Back to what the session had (an operator's role settings stay in force).
        cursor.execute(
            "SELECT set_config('enable_hashjoin', %s, true), "
            "set_config('enable_mergejoin', %s, true)",
            [hashjoin, mergejoin],
        )

    def _delete(self, cursor: Any, pairs: list[tuple[int, int]]) -> None:
        """Delete the staged (and matched) lines named first in ``pairs``."""
        if not pairs:
            return
        for start in range(0, len(pairs), 500):
            doomed = [line for line, _ in pairs[start : start + 500]]
            marks = ", ".join(["%s"] * len(doomed))
            for table in (TABLE, MATCHES):
                cursor.execute(f"DELETE FROM {table} WHERE line_no IN ({marks})", doomed)  # noqa: S608

    def merge(self) -> MergeCounts:
        """Merge the matched, deduplicated lines (:meth:`match`) into the register; run it in
        the same transaction. Existing rows keep their id, ciphertexts and index (the identity
        is the key, so they cannot differ); only names, quality and rights are updated. Every
        line's register row is then claimed, for :meth:`match` in the next chunks."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT COUNT(*) FROM {TABLE}), COUNT(*), "  # noqa: S608
                "COALESCE(SUM(CASE WHEN changed AND ending THEN 1 ELSE 0 END), 0), "
                "COALESCE(SUM(CASE WHEN changed AND NOT ending THEN 1 ELSE 0 END), 0) "
                f"FROM {MATCHES}"
            )
            staged, matched, terminated, updated = (int(v) for v in cursor.fetchone())
            if terminated or updated:
                self._rebind_member_numbers(cursor)
                assignments = ", ".join(
                    [f"{c} = s.{c}" for c in _PAYLOAD]
                    + [
                        f"{c} = CASE WHEN s.version = 2 THEN {staged} ELSE b.{c} END"
                        for c, staged in _PAYLOAD_V2
                    ]
                )
                cursor.execute(
                    f"UPDATE {_TARGET} AS b SET {assignments} "  # noqa: S608
                    f"FROM {MATCHES} m JOIN {TABLE} s ON s.line_no = m.line_no "
                    "WHERE m.changed AND b.id = m.target_id"
                )
                cursor.execute(
                    f"UPDATE {_TARGET} AS b SET member_number_ciphertext = r.member_ct "  # noqa: S608
                    f"FROM {REBOUND} r WHERE b.id = r.target_id"
                )
            if staged > matched:
                extra_columns, extra_values = self._defaults()
                columns = (
                    "id, contract_id, nir_ciphertext, birth_date_ciphertext, identity_index, "
                    "rang, last_name, first_name, quality, rights_start, rights_end, "
                    "member_number_ciphertext, member_number_index, formulas, amo_regime, "
                    "amo_fund, tiers_payant_suspended"
                )
                marks = "".join(", %s" for _ in extra_values)
                cursor.execute(
                    f"INSERT INTO {_TARGET} ({columns}{extra_columns}) "  # noqa: S608
                    "SELECT new_id, contract_id, nir_ct, birth_ct, lookup_0, rang, last_name, "
                    "first_name, quality, rights_start, rights_end, member_ct, member_idx, "
                    "formulas, amo_regime, amo_fund, (suspended = 1)"
                    f"{marks} FROM {TABLE} s "
                    f"WHERE {UNMATCHED} ORDER BY lookup_0",
                    extra_values,
                )
            cursor.execute(
                f"INSERT INTO {CLAIMS} (target_id, line_no) "  # noqa: S608
                f"SELECT COALESCE(m.target_id, s.new_id), s.line_no FROM {TABLE} s "
                f"LEFT JOIN {MATCHES} m ON m.line_no = s.line_no"
            )
        return MergeCounts(
            created=staged - matched,
            updated=updated,
            terminated=terminated,
            unchanged=matched - updated - terminated,
        )

    def _rebind_member_numbers(self, cursor: Any) -> None:
        """Stage, in :data:`REBOUND`, the member number ciphertexts of the matched version 2
        lines that change it, re-encrypted for the register row they update (a staged
        ciphertext is bound to the line's new row id, which an update does not use). Only
        changed member numbers: a re-run, or a file repeating the register, re-encrypts none."""
        cursor.execute(
            f"SELECT m.target_id, s.new_id, s.member_ct FROM {MATCHES} m "  # noqa: S608
            f"JOIN {TABLE} s ON s.line_no = m.line_no JOIN {_TARGET} b ON b.id = m.target_id "
            "WHERE m.changed AND s.version = 2 AND b.member_number_index <> s.member_idx"
        )
        found = cursor.fetchall()
        if not found:
            return
        if self.encryption is None:
            raise RuntimeError("Staging needs the encryption keys to rebind member numbers")
        rows = []
        for target, new_id, token in found:
            target_id, staged_id = _uuid_text(target), _uuid_text(new_id)
            plain = decrypt_field(
                self.encryption, token, table=_TARGET, column="member_number", row_id=staged_id
            )
            bound = encrypt_field(
                self.encryption, plain, table=_TARGET, column="member_number", row_id=target_id
            )
            rows.append((target_id if self.postgres else target_id.replace("-", ""), bound))
        sql = f"INSERT INTO {REBOUND} (target_id, member_ct) VALUES (%s, %s)"  # noqa: S608
        if self.postgres:
            with cursor.copy(f"COPY {REBOUND} (target_id, member_ct) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, rows)

    def clear(self) -> None:
        """Empty the chunk's tables (the claims stay, for duplicates in the next chunks)."""
        with self.connection.cursor() as cursor:
            for table in (TABLE, MATCHES, REBOUND):
                cursor.execute(
                    f"TRUNCATE {table}" if self.postgres else f"DELETE FROM {table}"  # noqa: S608
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
