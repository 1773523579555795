"""Read queries on approvals, always within one professional's own objects (another
professional's id is simply not found: a 404, never a 403); the staff review queue; the
catalogue of codes a quote may carry (optical and audio LPP codes, dental CCAM codes: the
portal's code picker)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from datetime import date
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet

from tierspayant.coverage import Family
from tierspayant.invoices.choices import ReferenceTableName as T
from tierspayant.invoices.models import ReferenceCode, ReferenceTable
from tierspayant.invoices.nomenclatures import SPECS_BY_NAME
from tierspayant.priorauth.catalogue import (
    ADULT_FROM_AGE,
    KIND_LABELS,
    CatalogueEntry,
    classify,
    priced,
)
from tierspayant.priorauth.choices import Decision
from tierspayant.priorauth.dental import TOOTH_KINDS, dental_codes
from tierspayant.priorauth.models import PriorApproval
from tierspayant.providers.models import Professional
from tierspayant.registry.choices import Domain


def approvals_of(professional: Professional) -> QuerySet[PriorApproval]:
    """The professional's approvals, newest first, with their insurer."""
    return PriorApproval.objects.filter(professional=professional).select_related("insurer")


def approval_of(
    professional: Professional, *, pk: int | None = None, number: str | None = None
) -> PriorApproval:
    """One of the professional's approvals by internal id or number, with its lines.
    Raises ``PriorApproval.DoesNotExist`` for anything not theirs."""
    rows = approvals_of(professional).prefetch_related("lines")
    if pk is not None:
        return rows.get(pk=pk)
    return rows.get(number=str(number or "").strip().upper())


# --- the optical and audio catalogue (LPP title II, chapters 2 and 3) -------------------

_CHAPTERS = ("2", "3")  # LPP_ARB_SC1 under title (LPP_ARB_CHA) 2: optics, hearing aids
_CATALOGUES: dict[tuple[str, str], dict[str, CatalogueEntry]] = {}
_SEARCH: dict[int, list[tuple[CatalogueEntry, str]]] = {}  # id(catalogue) -> (entry, words)


def _catalogue_rows() -> tuple[tuple[str, str], list[tuple[str, str, str, str, dt.date | None]]]:
    """(source key, rows) of the LPP list: the loaded table NT_LPP when there is one, else
    the public file itself read in place (the same reader as the loader)."""
    table = ReferenceTable.objects.filter(name=T.NT_LPP.value).first()
    if table is not None:
        key = ("db", f"{table.pk}:{table.source_sha256}:{table.loaded_at.isoformat()}")
        if key in _CATALOGUES:
            return key, []
        codes = ReferenceCode.objects.filter(
            table=table, data__title="2", data__chapter__in=_CHAPTERS
        ).values_list("code", "label", "data", "valid_to")
        return key, [
            (code, label, data["chapter"], data.get("max_age", ""), valid_to)
            for code, label, data, valid_to in codes
        ]
    directory = Path(settings.TIERSPAYANT_NOMENCLATURES_DIR)
    spec = SPECS_BY_NAME[T.NT_LPP]
    path = directory / spec.file
    key = ("file", f"{path}:{path.stat().st_mtime_ns if path.exists() else 0}")
    if key in _CATALOGUES:
        return key, []
    rows = [
        (
            row.code,
            row.label,
            (row.data or {})["chapter"],
            (row.data or {})["max_age"],
            row.valid_to,
        )
        for row in spec.rows(directory)
        if (row.data or {}).get("title") == "2" and (row.data or {}).get("chapter") in _CHAPTERS
    ]
    return key, rows


def catalogue() -> dict[str, CatalogueEntry]:
    """Every optical and audio LPP code by code (open or ended; figures unset: see
    :func:`catalogue_entry`). Built once per loaded version of the list."""
    key, rows = _catalogue_rows()
    if key not in _CATALOGUES:
        _CATALOGUES.clear()
        _SEARCH.clear()
        _CATALOGUES[key] = {
            code: classify(code, label, chapter, max_age, valid_to)
            for code, label, chapter, max_age, valid_to in rows
        }
    return _CATALOGUES[key]


def catalogue_entry(
    code: str,
    *,
    care_date: dt.date,
    age: int,
    entries: dict[str, CatalogueEntry] | None = None,
) -> CatalogueEntry | None:
    """The entry of ``code`` priced for ``care_date`` and ``age`` (BR, PLV, sources), or
    None when the code is not an optical or audio LPP code. Validity and age limits are
    the caller's to check (they give distinct errors). ``entries``: the catalogue already
    read by the caller (one lookup of the loaded list per request)."""
    entry = (catalogue() if entries is None else entries).get(code)
    return priced(entry, care_date=care_date, age=age) if entry is not None else None


def search_catalogue(
    words: str, *, care_date: date, domain: Domain | None = None, limit: int = 20
) -> list[CatalogueEntry]:
    """Codes valid on ``care_date`` whose code, label, kind, class or band (dental: basket
    and kinds of teeth) match every word of ``words`` (case and accents ignored; ``classe
    a``, ``progressif``, ``enfant``, ``-4``, ``couronne molaire``, ``100 % santé``,
    ``HBLD``...), optionally within one ``domain``; at most ``limit`` (1-100), by code:
    the optical and audio LPP codes of the loaded list, then the dental CCAM codes of
    ``reference/ccam-dentaire.json``. Blank words give nothing. LPP entries carry the
    figures in force for an adult (hearing aids: over 20) on that date; the quote prices
    them for the patient's age. Reference data only, no personal data."""
    limit = max(1, min(int(limit), 100))
    patterns = _patterns(str(words or ""))
    if not patterns:
        return []
    found: list[CatalogueEntry] = []
    searched = [] if domain == Domain.DENTAL else _search_index(catalogue())
    if domain in (None, Domain.DENTAL):
        searched = [*searched, *_dental_index()]
    for entry, haystack in searched:
        if not entry.valid_on(care_date) or (domain is not None and entry.domain != domain):
            continue
        if all(pattern.search(haystack) for pattern in patterns):
            item = (
                entry
                if entry.domain == Domain.DENTAL
                else priced(entry, care_date=care_date, age=ADULT_FROM_AGE + 30)
            )
            if item is not None:
                found.append(item)
                if len(found) >= limit:
                    break
    return found


@cache
def _dental_index() -> list[tuple[CatalogueEntry, str]]:
    """The dental CCAM codes as catalogue entries, by code, with the folded words a search
    matches (code, label, basket, « dentaire », kinds of teeth; built once)."""
    index = []
    for code, ref in sorted(dental_codes().items()):
        entry = CatalogueEntry(
            code=code,
            code_system="CCAM",
            label=ref.label,
            domain=Domain.DENTAL,
            kind="dental_prosthesis",
            family=Family.DENTAL_PROSTHESIS,
            sante_class=ref.sante_class,
            lens_type=None,
            lens_complexity=None,
            sphere=None,
            sphere_is_sum=False,
            cylinder=None,
            side=None,
            min_age=None,
            max_age=None,
            valid_to=ref.valid_to,
            price_limit=ref.price_limit,
            br=ref.br,
            amo_rate=ref.amo_rate,
            unconfirmed=() if ref.confirmed else ("br", "price_limit"),
            source=ref.source,
            valid_from=ref.valid_from,
            teeth=", ".join(name for kind, name in TOOTH_KINDS.items() if kind in ref.teeth),
        )
        words = f"{code} {ref.label} {entry.class_label} dentaire {entry.teeth}"
        index.append((entry, _fold(f"{words} classe {ref.sante_class}")))
    return index


def _search_index(entries: dict[str, CatalogueEntry]) -> list[tuple[CatalogueEntry, str]]:
    """Entries by code with the folded words a search matches (built once per catalogue)."""
    index = _SEARCH.get(id(entries))
    if index is None:
        index = [
            (
                entry,
                _fold(
                    f"{entry.code} {entry.label} {KIND_LABELS[entry.kind]} "
                    f"classe {entry.sante_class} {entry.class_label} {entry.band_label} "
                    f"{entry.lens_complexity or ''} {entry.lens_type or ''}"
                ),
            )
            for _, entry in sorted(entries.items())
        ]
        _SEARCH.clear()
        _SEARCH[id(entries)] = index
    return index


def _patterns(words: str) -> list[re.Pattern[str]]:
    """One pattern per word (at most 8), matched at the start of a word of the entry;
    ``classe a`` is one phrase, and a word of one or two characters must be whole."""
    tokens: list[str] = []
    for word in _fold(words).split():
        if tokens and tokens[-1] == "classe":
            tokens[-1] = f"classe {word}"
        else:
            tokens.append(word)
    return [
        re.compile(
            r"(?<!\w)" + re.escape(token) + (r"(?!\w)" if len(token.split()[-1]) <= 2 else "")
        )
        for token in tokens[:8]
    ]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def review_queue(approvals: QuerySet[PriorApproval]) -> QuerySet[PriorApproval]:
    """The pending approvals of ``approvals`` (already scoped to the staff member), the
    nearest deadline first, with their professional and insurer."""
    return (
        approvals.filter(decision=Decision.PENDING)
        .select_related("professional", "insurer")
        .order_by("review_deadline", "id")
    )
