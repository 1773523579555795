"""How each public nomenclature file is read: its columns, the code, label and validity
of each row, and the columns kept in ``data``. The files are read in place from the
nomenclatures directory (``TIERSPAYANT_NOMENCLATURES_DIR``, default
``../shared/fixtures/nomenclatures`` beside the project); nothing of them is copied here.

Sources (``../shared/fixtures/README.md``): SNDS tables of indsante/schema-snds
``nomenclatures/ORAVAL``, ``ORAREF`` and ``DREES`` (commit fe17ef83, 2020-12-15,
MPL-2.0); the BDPM presentations file ``CIS_CIP_bdpm.txt`` of
base-donnees-publique.medicaments.gouv.fr (update of 2026-05-28).

Rows whose technical column ``TEC_COL`` is 1 (valeur inconnue) or 2 (sans objet, where
the table has another row for "none") are not loaded: an invoice never carries them.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tierspayant.invoices.choices import ReferenceTableName as T

SNDS_SOURCE = "SNDS, indsante/schema-snds nomenclatures (commit fe17ef83, 2020-12-15), MPL-2.0"
SNDS_PUBLISHED = dt.date(2020, 12, 15)
BDPM_SOURCE = (
    "BDPM, base-donnees-publique.medicaments.gouv.fr CIS_CIP_bdpm.txt (mise à jour "
    "2026-05-28, copie grooxiito/pharma-perimes 42080218)"
)
BDPM_PUBLISHED = dt.date(2026, 5, 28)

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    )
}
_SAS_DATE = re.compile(r"(\d{2})([A-Z]{3})(\d{4})(?::.*)?")
_CLOSED = re.compile(r"ferm[ée] le (\d{2})/(\d{2})/(\d{4})", re.IGNORECASE)


class NomenclatureError(Exception):
    """A nomenclature file is absent or unreadable: ``where`` names the file (and line)."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where = where
        self.why = why


@dataclass(frozen=True, slots=True)
class Row:
    """One code as stored: code, label, validity (inclusive, None when open), extra data."""

    code: str
    label: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    data: dict[str, Any] | None = None


def sas_date(text: str) -> dt.date | None:
    """``01JAN1996:00:00:00`` -> date; empty or ``31DEC9999`` (open) -> None."""
    match = _SAS_DATE.fullmatch(text.strip())
    if not match or match.group(3) == "9999":
        return None
    day, month, year = match.groups()
    return dt.date(int(year), _MONTHS[month], int(day))


def fr_date(text: str) -> dt.date | None:
    """``16/03/2011`` -> date; empty -> None."""
    text = text.strip()
    if not text:
        return None
    day, month, year = text.split("/")
    return dt.date(int(year), int(month), int(day))


def fr_decimal(text: str) -> str | None:
    """``24,34`` or ``1 024,34`` -> ``"24.34"``; empty or unreadable -> None."""
    text = text.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        return str(Decimal(text)) if text else None
    except InvalidOperation:
        return None


def _technical(row: dict[str, str]) -> bool:
    return row.get("TEC_COL", "0").strip() in {"1", "2"}


def _simple(code: str, label: str) -> Callable[[dict[str, str]], Row | None]:
    def read(row: dict[str, str]) -> Row | None:
        if _technical(row):
            return None
        return Row(row[code].strip(), row[label].strip())

    return read


def _nat(row: dict[str, str]) -> Row | None:
    """IR_NAT_V: the NGAP key letter / hospital item is ``PRS_NAT_CB2``; a note ``fermé le
    30/04/2003`` closes it."""
    key = row["PRS_NAT_CB2"].strip()
    if not key or _technical(row):
        return None
    closed = _CLOSED.search(row.get("PRS_NAT_OBS", ""))
    valid_to = None
    if closed:
        day, month, year = closed.groups()
        valid_to = dt.date(int(year), int(month), int(day))
    return Row(
        key,
        row["PRS_NAT_LIB"].strip(),
        valid_to=valid_to,
        data={"prs_nat": row["PRS_NAT"].strip(), "act_type": row["TYA_COD"].strip()},
    )


def _bio(row: dict[str, str]) -> Row | None:
    """IR_BIO_R: NABM act number on 4 digits, creation and deletion dates, B coefficient."""
    return Row(
        row["BIO_PRS_IDE"].strip().zfill(4),
        row["BIO_INF_LIB"].strip(),
        valid_from=sas_date(row["BIO_CRE_DAT"]),
        valid_to=sas_date(row["BIO_SUP_DAT"]),
        data={"key": row["BIO_TAR_NAT"].strip(), "coefficient": row["BIO_TAR_COF"].strip()},
    )


def _lpp(row: dict[str, str]) -> Row | None:
    """NT_LPP: end date, age limit and the LPP tree (title, chapter) used for routing."""
    return Row(
        row["LPP_PRS_IDE"].strip(),
        row["LPP_RED_LIB"].strip(),
        valid_to=sas_date(row["LPP_VAL_DTF"]),
        data={
            "title": row["LPP_ARB_CHA"].strip(),
            "chapter": row["LPP_ARB_SC1"].strip(),
            "max_age": row["LPP_MAX_AGE"].strip(),
        },
    )


def _ccam(row: dict[str, str]) -> Row | None:
    """IR_CCAM_V63: the grouping (``CAM_PRS_RGT``: ATM, ADC, ADI, SDE, PFM...) routes the act."""
    return Row(
        row["CAM_PRS_IDE_COD"].strip(),
        row["CAM_PRS_IDE_LIB"].strip(),
        data={"group": row["CAM_PRS_RGT"].strip()},
    )


def _ucd(row: dict[str, str]) -> Row | None:
    return Row(
        row["UCD_UCD_COD"].strip(),
        row["UCD_DSN_LIB"].strip(),
        data={"form": row["UCD_CND_LIB"].strip()},
    )


def _bdpm(fields: list[str]) -> Row | None:
    """BDPM presentation: CIP13 (column 7), label, marketing dates, reimbursement rate
    (``65%``, ``65 %``, blank when not reimbursed) and price. A declared end of marketing
    closes the code on its date."""
    cip13, rate = fields[6].strip(), fields[8].replace("%", "").strip()
    if not cip13:
        return None
    marketed = "arrêt" not in fields[4].lower()
    day = fr_date(fields[5])
    return Row(
        cip13,
        fields[2].strip(),
        valid_from=day if marketed else None,
        valid_to=None if marketed else day,
        data={"rate": rate or None, "price": fr_decimal(fields[9]), "cis": fields[0].strip()},
    )


@dataclass(frozen=True, slots=True)
class Spec:
    """Where a table comes from and how its rows are read."""

    name: T
    file: str
    read: Callable[[Any], Row | None]
    source: str = SNDS_SOURCE
    published_on: dt.date = SNDS_PUBLISHED
    tabular: bool = False  # BDPM: tab-separated, no header

    def rows(self, directory: Path) -> Iterator[Row]:
        """Rows of the file in ``directory``; raises NomenclatureError naming the file."""
        path = directory / self.file
        if not path.is_file():
            raise NomenclatureError(self.file, f"absent from {directory}")
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                if self.tabular:
                    records: Iterator[Any] = csv.reader(handle, delimiter="\t")
                else:
                    records = csv.DictReader(handle, delimiter=";")
                for number, record in enumerate(records, start=2):
                    try:
                        row = self.read(record)
                    except (KeyError, IndexError, ValueError, AttributeError) as exc:
                        raise NomenclatureError(
                            f"{self.file}:{number}", f"unreadable row ({type(exc).__name__})"
                        ) from None
                    if row is not None:
                        yield row
        except UnicodeDecodeError:
            raise NomenclatureError(self.file, "not UTF-8") from None


SPECS: tuple[Spec, ...] = (
    Spec(T.IR_ASU_V, "snds_IR_ASU_V.csv", _simple("ASU_NAT", "ASU_NAT_LIB")),
    Spec(T.IR_EXO_V, "snds_IR_EXO_V.csv", _simple("EXO_MTF", "EXO_LIB")),
    Spec(T.IR_GRG_V, "snds_IR_GRG_V.csv", _simple("GRG_COD", "GRG_LIB")),
    Spec(T.IR_MTM_V, "snds_IR_MTM_V.csv", _simple("MTM_NAT", "MTM_LIB")),
    Spec(T.IR_SPE_V, "snds_IR_SPE_V.csv", _simple("PFS_SPE_COD", "PFS_SPE_LIB")),
    Spec(T.IR_ACT_V, "snds_IR_ACT_V.csv", _simple("PFS_ACT_NAT", "ACT_NAT_LIB")),
    Spec(T.IR_TAU_V, "snds_IR_TAU_V.csv", _simple("TAU_COD", "TAU_LIB")),
    Spec(T.IR_NAT_V, "snds_IR_NAT_V.csv", _nat),
    Spec(T.IR_ACT_COD, "snds_IR_ACT_COD.csv", _simple("ACT_COD", "ACT_COD_LIB")),
    Spec(T.IR_BIO_R, "snds_IR_BIO_R.csv", _bio),
    Spec(T.NT_LPP, "snds_NT_LPP.csv", _lpp),
    Spec(T.IR_CCAM_V63, "snds_IR_CCAM_V63.csv", _ccam),
    Spec(T.NU_UCD_R, "snds_NU_UCD_R.csv", _ucd),
    Spec(
        T.BDPM_CIP,
        "bdpm_CIS_CIP_bdpm.txt",
        _bdpm,
        source=BDPM_SOURCE,
        published_on=BDPM_PUBLISHED,
        tabular=True,
    ),
)
SPECS_BY_NAME = {spec.name: spec for spec in SPECS}
