"""Streaming read and validation of member files. Pure: no database, no clock.

:func:`read_member_file` yields, for each data line, either a :class:`MemberLine` (valid) or a
:class:`LineError` naming the line number (1 = header), the column and the reason in French.
A :class:`MemberFileError` is raised only when the whole file is unusable (unreadable, wrong
separator, missing or unknown columns). Memory stays flat: one line at a time.

No error carries personal data: the NIR, names and birth dates are never echoed.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO, NamedTuple

from tierspayant.registry.choices import CONVENTION_TYPES, ContractType, Domain, Quality
from tierspayant.registry.member_file.columns import (
    COLUMNS,
    DOMAIN_SEPARATOR,
    FORMULA_SEPARATOR,
    MAX_CONTRACT_NUMBER,
    MAX_NAME,
    MAX_ROUTING_CRITERION,
    OPTIONAL_COLUMNS,
    SEPARATOR,
    V2_COLUMNS,
)
from tierspayant.registry.nir import InvalidNIR, normalize_nir
from tierspayant.registry.services import MEMBER_NUMBER_RULE, is_member_number
from tierspayant.text import CONTROL

_DOMAIN_ORDER = {d.value: i for i, d in enumerate(Domain)}
_CONTRACT_TYPES = {c.value for c in ContractType}
_QUALITIES = {q.value for q in Quality}
_FAST_NIR = re.compile(r"[1278][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{8}")
#: A formula as printed on an attestation: a rate of the BR (``100%``, ``300%BR``, ``100 % BR``:
#: 0 to 9999 %, written ``NNN%``) or a formula code (``PH7``, ``OPT2``: an upper-case letter then
#: up to 9 upper-case letters or digits).
_RATE = re.compile(r"([0-9]{1,4}) ?% ?(?:BR)?")
_CODE = re.compile(r"[A-Z][A-Z0-9]{0,9}")


class MemberFileError(ValueError):
    """The file cannot be read at all. ``line`` is where (1 = header, 0 = the file itself);
    ``reason`` is in French and holds no personal data."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"ligne {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


class LineError(NamedTuple):
    """One rejected line: ``line`` number in the file (header = 1), ``field`` the column name
    (or ``ligne`` / ``encodage`` for the line as a whole), ``reason`` in French."""

    line: int
    field: str
    reason: str


class MemberLine(NamedTuple):
    """A valid line. ``nir`` is normalised (15 characters); ``domains`` are sorted in the order
    of :class:`Domain`; ``rights_end`` None means open-ended. A named tuple: it crosses to and
    from worker processes about ten times cheaper than a dataclass."""

    line: int
    amc_number: str
    contract_number: str
    contract_type: str
    nir: str
    rang: int
    last_name: str
    first_name: str
    birth_date: datetime.date
    quality: str
    rights_start: datetime.date
    rights_end: datetime.date | None
    domains: tuple[str, ...]
    responsible: bool
    # Version 2 (empty / False on a version 1 line, which leaves these as the register has them).
    version: int = 1
    member_number: str = ""
    convention_type: str = ""
    routing_criterion: str = ""
    formulas: str = ""
    amo_regime: str = ""
    amo_fund: str = ""
    suspended: bool = False


def fast_normalize_nir(raw: str) -> str:
    """:func:`registry.nir.normalize_nir` with a fast path for the common well-formed case.

    A 15-character value with the right shape and key is returned as is (same result as
    ``normalize_nir``, about ten times faster); anything else goes through ``normalize_nir``,
    which normalises separators or raises ``InvalidNIR`` with its reason.
    """
    if len(raw) == 15 and _FAST_NIR.fullmatch(raw):
        department = raw[5:7]
        body = raw[:13]
        if department == "2A":
            body = raw[:5] + "19" + raw[7:13]
        elif department == "2B":
            body = raw[:5] + "18" + raw[7:13]
        if 97 - int(body) % 97 == int(raw[13:]):
            return raw
    return normalize_nir(raw)


def _date(value: str) -> datetime.date | None:
    # The dashes pin the extended form AAAA-MM-JJ (fromisoformat also takes AAAAMMJJ and week
    # dates); fromisoformat accepts ASCII digits only.
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


class Columns:
    """Positions of the columns, from the header (picklable, for worker processes)."""

    def __init__(self, header: list[str]) -> None:
        self.width = len(header)
        self.names = header
        self.index = {name: i for i, name in enumerate(header)}
        #: Picks the required columns, in :data:`columns.COLUMNS` order, from a split line.
        self.pick = itemgetter(*(self.index[name] for name in COLUMNS))
        self.responsible = self.index.get("responsable")
        #: Version 2 file: picks the :data:`columns.V2_COLUMNS` in order (None: version 1).
        self.version = 2 if "numero_adherent" in self.index else 1
        self.pick_v2 = (
            itemgetter(*(self.index[name] for name in V2_COLUMNS)) if self.version == 2 else None
        )


def parse_header(text: str) -> Columns:
    """Check the header row (text without its line break). Raises :class:`MemberFileError`
    naming the separator, the missing or unknown columns."""
    text = text.removeprefix("\ufeff")
    if SEPARATOR not in text:
        found = next((s for s in (",", "\t", "|") if s in text), None)
        hint = f" (« {found} » trouvé)" if found else ""
        raise MemberFileError(1, f"en-tête : séparateur « ; » attendu{hint}")
    names = [name.strip().lower() for name in text.split(SEPARATOR)]
    required = COLUMNS + V2_COLUMNS if any(c in names for c in V2_COLUMNS) else COLUMNS
    missing = [c for c in required if c not in names]
    unknown = [n for n in names if n not in required and n not in OPTIONAL_COLUMNS]
    repeated = sorted({n for n in names if names.count(n) > 1})
    problems = []
    if missing:
        problems.append("colonnes manquantes : " + ", ".join(missing))
    if unknown:
        problems.append("colonnes inconnues : " + ", ".join(unknown))
    if repeated:
        problems.append("colonnes en double : " + ", ".join(repeated))
    if problems:
        raise MemberFileError(1, "en-tête : " + " ; ".join(problems))
    return Columns(names)


def parse_line(
    number: int, text: str, columns: Columns, *, today: datetime.date
) -> MemberLine | LineError:
    """Validate one data line (``text`` without its line break); ``today`` bounds birth dates."""
    values = text.split(SEPARATOR)
    if len(values) != columns.width:
        hint = " (ligne tronquée ?)" if len(values) < columns.width else ""
        return LineError(number, "ligne", f"{len(values)} champs au lieu de {columns.width}{hint}")
    (
        amc,
        contract_number,
        contract_type,
        nir_text,
        rang_text,
        last_name,
        first_name,
        birth_text,
        quality,
        start_text,
        end_text,
        domain_text,
    ) = map(str.strip, columns.pick(values))
    if not (amc.isascii() and amc.isdigit() and 8 <= len(amc) <= 10):
        return LineError(number, "numero_amc", "8 à 10 chiffres attendus")
    if not contract_number or len(contract_number) > MAX_CONTRACT_NUMBER:
        return LineError(
            number, "numero_contrat", f"obligatoire, {MAX_CONTRACT_NUMBER} caractères au plus"
        )
    if contract_type not in _CONTRACT_TYPES:
        return LineError(number, "type_contrat", "« individual » ou « collective » attendu")
    try:
        nir = fast_normalize_nir(nir_text)
    except InvalidNIR as exc:
        return LineError(number, "nir", str(exc))
    if len(rang_text) != 1 or not "1" <= rang_text <= "9":
        return LineError(number, "rang", "le rang de naissance est un chiffre de 1 à 9")
    if not last_name or len(last_name) > MAX_NAME:
        return LineError(number, "nom", f"obligatoire, {MAX_NAME} caractères au plus")
    if not first_name or len(first_name) > MAX_NAME:
        return LineError(number, "prenom", f"obligatoire, {MAX_NAME} caractères au plus")
    birth_date = _date(birth_text)
    if birth_date is None:
        return LineError(number, "date_naissance", "date invalide (AAAA-MM-JJ attendu)")
    if birth_date > today:
        return LineError(number, "date_naissance", "la date de naissance est dans le futur")
    if quality not in _QUALITIES:
        return LineError(number, "qualite", "« insured », « spouse » ou « child » attendu")
    rights_start = _date(start_text)
    if rights_start is None:
        return LineError(number, "debut_droits", "date invalide (AAAA-MM-JJ attendu)")
    if rights_start < birth_date:
        return LineError(number, "debut_droits", "les droits commencent avant la naissance")
    rights_end = _date(end_text) if end_text else None
    if end_text and rights_end is None:
        return LineError(number, "fin_droits", "date invalide (AAAA-MM-JJ attendu, ou vide)")
    if rights_end is not None and rights_end < rights_start:
        return LineError(number, "fin_droits", "la fin des droits précède leur début")
    domains = _domains(domain_text)
    if isinstance(domains, str):
        return LineError(number, "domaines", domains)
    responsible = True
    if columns.responsible is not None:
        flag = values[columns.responsible].strip().upper()
        if flag not in ("", "O", "N"):
            return LineError(number, "responsable", "« O » ou « N » attendu")
        responsible = flag != "N"
    v2: tuple[int, str, str, str, str, str, str, bool] | tuple[()] | LineError = ()
    if columns.pick_v2 is not None:
        v2 = _version_2(number, tuple(map(str.strip, columns.pick_v2(values))), domains)
        if isinstance(v2, LineError):
            return v2
    return MemberLine(
        number,
        amc,
        contract_number,
        contract_type,
        nir,
        int(rang_text),
        last_name,
        first_name,
        birth_date,
        quality,
        rights_start,
        rights_end,
        domains,
        responsible,
        *v2,
    )


def _version_2(
    number: int, values: tuple[str, ...], domains: tuple[str, ...]
) -> tuple[int, str, str, str, str, str, str, bool] | LineError:
    """Check a version 2 line's extra fields (``values`` in :data:`V2_COLUMNS` order); the
    :class:`MemberLine` fields from ``version`` on, or the error naming the column."""
    member, convention, routing, formula_text, regime, fund, suspension = values
    if not is_member_number(member):
        return LineError(number, "numero_adherent", MEMBER_NUMBER_RULE)
    if convention not in CONVENTION_TYPES:
        known = ", ".join(sorted(CONVENTION_TYPES))
        return LineError(
            number, "type_convention", f"type de convention inconnu (attendu : {known})"
        )
    if len(routing) > MAX_ROUTING_CRITERION or not (
        (routing.isascii() and routing.isalnum()) or not routing
    ):
        return LineError(
            number,
            "critere_routage",
            f"{MAX_ROUTING_CRITERION} lettres ou chiffres au plus (ou vide)",
        )
    formulas = _formulas(formula_text, domains)
    if isinstance(formulas, LineError):
        return formulas._replace(line=number)
    if regime and not (len(regime) == 2 and regime.isascii() and regime.isdigit()):
        return LineError(number, "regime_amo", "2 chiffres attendus (ou vide)")
    if fund and not (len(fund) == 3 and fund.isascii() and fund.isdigit()):
        return LineError(number, "caisse_amo", "3 chiffres attendus (ou vide)")
    flag = suspension.upper()
    if flag not in ("", "O", "N"):
        return LineError(number, "suspension_tp", "« O » ou « N » attendu (ou vide)")
    return (2, member, convention, routing, formulas, regime, fund, flag == "O")


@functools.lru_cache(maxsize=1024)
def _formulas(text: str, domains: tuple[str, ...]) -> str | LineError:
    """The ``formules`` value normalised (``domain=formula`` in :class:`Domain` order, joined
    by ``|``; rates written ``NNN%``), or the error (line number 0, set by the caller). Each
    domain must be one of the line's ``domaines``, at most once. Cached: a file repeats a few."""
    if not text:
        return ""
    found: dict[str, str] = {}
    for part in text.split(DOMAIN_SEPARATOR):
        domain, sep, value = (p.strip() for p in part.partition(FORMULA_SEPARATOR))
        if not sep or not value:
            return LineError(0, "formules", f"« domaine=formule » attendu, lu « {part[:20]} »")
        if domain not in _DOMAIN_ORDER:
            return LineError(0, "formules", f"domaine inconnu : {domain[:20]}")
        if domain not in domains:
            return LineError(0, "formules", f"domaine {domain} absent de « domaines »")
        if domain in found:
            return LineError(0, "formules", f"domaine {domain} en double")
        rate = _RATE.fullmatch(value)
        if rate:
            value = f"{int(rate.group(1))}%"
        elif not _CODE.fullmatch(value):
            return LineError(
                0,
                "formules",
                f"formule illisible pour {domain} (taux « 100% » ou code « PH7 » attendu)",
            )
        found[domain] = value
    ordered = sorted(found, key=_DOMAIN_ORDER.__getitem__)
    return DOMAIN_SEPARATOR.join(f"{d}{FORMULA_SEPARATOR}{found[d]}" for d in ordered)


@functools.lru_cache(maxsize=1024)
def _domains(text: str) -> tuple[str, ...] | str:
    """The domains of a ``domaines`` value in :class:`Domain` order, or the reason it is wrong.
    Cached: a file repeats a few combinations."""
    domains = [d.strip() for d in text.split(DOMAIN_SEPARATOR)] if text else []
    unknown = [d for d in domains if d not in _DOMAIN_ORDER]
    if unknown:
        return "domaine inconnu : " + ", ".join(sorted(unknown))
    if len(set(domains)) != len(domains):
        return "domaine en double"
    return tuple(sorted(domains, key=_DOMAIN_ORDER.__getitem__))


def read_header(stream: BinaryIO, progress: Callable[[int], None] | None = None) -> Columns:
    """Read and check the header row of a binary stream. Raises :class:`MemberFileError` if
    the file is empty, the header is not UTF-8, or its columns are wrong."""
    raw_header = stream.readline()
    if progress:
        progress(len(raw_header))
    if not raw_header.strip():
        raise MemberFileError(0, "fichier vide : une ligne d'en-tête est attendue")
    try:
        header = raw_header.decode("utf-8")
    except UnicodeDecodeError:
        raise MemberFileError(1, "en-tête : le fichier n'est pas en UTF-8") from None
    return parse_header(header.rstrip("\r\n"))


def iter_raw_lines(
    stream: BinaryIO,
    *,
    skip_through: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, raw bytes) for each data line after the header (already read);
    lines numbered up to ``skip_through`` are passed over. ``progress`` gets bytes read."""
    number = 1
    for raw in stream:
        number += 1
        if progress:
            progress(len(raw))
        if number > skip_through:
            yield number, raw


def check_raw_line(
    number: int, raw: bytes, columns: Columns, *, today: datetime.date
) -> MemberLine | LineError | None:
    """Decode and validate one raw line; None for a blank line (ignored)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LineError(number, "encodage", f"la ligne n'est pas en UTF-8 (octet {exc.start + 1})")
    text = text.rstrip("\r\n")
    if not text or text.isspace():
        return None
    if CONTROL.search(text):
        return _control_error(number, text, columns)
    return parse_line(number, text, columns, today=today)


def _control_error(number: int, text: str, columns: Columns) -> LineError:
    """The line holds a control character (NUL, tab, escape...: ``text.CONTROL``): name the
    first column holding one. PostgreSQL refuses NUL in text and no field may hold any."""
    values = text.split(SEPARATOR)
    for position, value in enumerate(values):
        if CONTROL.search(value):
            field = columns.names[position] if position < columns.width else "ligne"
            return LineError(number, field, "caractère de contrôle interdit (NUL, tabulation…)")
    return LineError(number, "ligne", "caractère de contrôle interdit")


def iter_member_lines(
    stream: BinaryIO,
    *,
    today: datetime.date,
    skip_through: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Iterator[MemberLine | LineError]:
    """Yield each data line of a binary stream, validated. Blank lines are skipped.

    ``skip_through``: data lines numbered up to it are read but not validated (resume after
    an interruption). ``progress`` receives the bytes consumed by each line. Raises
    :class:`MemberFileError` if the header is unusable or not UTF-8, or the file is empty.
    """
    columns = read_header(stream, progress)
    for number, raw in iter_raw_lines(stream, skip_through=skip_through, progress=progress):
        item = check_raw_line(number, raw, columns, today=today)
        if item is not None:
            yield item


def open_member_file(path: Path) -> BinaryIO:
    """Open ``path`` for :func:`iter_member_lines`; raises :class:`MemberFileError` if it
    cannot be read (the reason from the system, never the content)."""
    try:
        return path.open("rb")
    except OSError as exc:
        raise MemberFileError(0, f"lecture impossible ({exc.strerror})") from None
