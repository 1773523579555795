"""Read queries on approvals, always within one professional's own objects (another
professional's id is simply not found: a 404, never a 403); the staff review queue; the
catalogue of codes a quote may carry (the portal's code picker)."""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.db.models import QuerySet

from tierspayant.priorauth.choices import Decision
from tierspayant.priorauth.dental import TOOTH_KINDS, dental_codes
from tierspayant.priorauth.lpp import DOMAIN_OF_FAMILY, lpp_codes
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


@dataclass(frozen=True)
class CatalogueEntry:
    """One code a quote may carry, as the portal's picker shows it: ``code`` (LPP or CCAM),
    ``label``, ``domain`` (optical, audio, dental), ``family``, ``sante_class`` (A/B, I/II,
    100_sante/maitrise/libre), ``class_label`` (French), ``br`` and ``price_limit`` (euros,
    None when free), ``side`` (hearing aids) and ``teeth`` (dental: kinds in French)."""

    code: str
    label: str
    domain: Domain
    family: str
    sante_class: str
    class_label: str
    br: Decimal
    price_limit: Decimal | None
    side: str
    teeth: str


def _fold(text: str) -> str:
    """Lower case without accents, for matching typed words."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_TOKEN = re.compile(r"[+-]?\d[\d,.]*|\w+|%")


def _tokens(text: str) -> list[str]:
    """Words of folded text: signed numbers (« -2 », « +4 »), words, « % »."""
    return _TOKEN.findall(_fold(text))


_CLASS_LABELS = {
    "A": "classe A 100 % Santé",
    "B": "classe B tarif libre",
    "I": "classe I 100 % Santé",
    "II": "classe II tarif libre",
}


@cache
def _catalogue() -> tuple[tuple[Any, ...], ...]:
    """(entry, folded search text, valid from, valid to, min age, max age), by code."""
    rows: list[Any] = []
    for ref in lpp_codes().values():
        domain = DOMAIN_OF_FAMILY[ref.family]
        entry = CatalogueEntry(
            code=ref.code,
            label=ref.label,
            domain=domain,
            family=str(ref.family),
            sante_class=ref.sante_class,
            class_label=_CLASS_LABELS.get(ref.sante_class, ref.sante_class),
            br=ref.br,
            price_limit=None,
            side=ref.side or "",
            teeth="",
        )
        rows.append((entry, None, None, ref.min_age, ref.max_age))
    for dental in dental_codes().values():
        entry = CatalogueEntry(
            code=dental.code,
            label=dental.label,
            domain=Domain.DENTAL,
            family="dental_prosthesis",
            sante_class=dental.sante_class,
            class_label=dental.basket_label,
            br=dental.br,
            price_limit=dental.price_limit,
            side="",
            teeth=", ".join(name for kind, name in TOOTH_KINDS.items() if kind in dental.teeth),
        )
        rows.append((entry, dental.valid_from, dental.valid_to, None, None))
    return tuple(
        (
            entry,
            _tokens(
                " ".join(
                    [
                        entry.code,
                        entry.label,
                        entry.class_label,
                        entry.domain.label,
                        entry.teeth,
                        f"classe {entry.sante_class}",
                    ]
                )
            ),
            start,
            end,
            low,
            high,
        )
        for entry, start, end, low, high in sorted(rows, key=lambda r: r[0].code)
    )


def search_catalogue(
    words: str, *, care_date: datetime.date, domain: Domain | None = None, limit: int = 20
) -> list[CatalogueEntry]:
    """Codes valid on ``care_date`` where every typed word starts a word of the code, label,
    class or basket, domain or teeth (case and accents ignored; « 100 % Santé », « classe
    A », « sphère -2 », « molaire », « HBLD » all work), in code order, at most ``limit``
    (1-50). Empty words give nothing. No personal data involved: reference data."""
    folded = _tokens(str(words or ""))
    if not folded:
        return []
    limit = max(1, min(int(limit), 50))
    found: list[CatalogueEntry] = []
    for entry, text, start, end, _low, _high in _catalogue():
        if domain is not None and entry.domain != domain:
            continue
        if (start is not None and care_date < start) or (end is not None and care_date > end):
            continue
        if all(any(token.startswith(w) for token in text) for w in folded):
            found.append(entry)
            if len(found) >= limit:
                break
    return found


def review_queue(approvals: QuerySet[PriorApproval]) -> QuerySet[PriorApproval]:
    """The pending approvals of ``approvals`` (already scoped to the staff member), the
    nearest deadline first, with their professional and insurer."""
    return (
        approvals.filter(decision=Decision.PENDING)
        .select_related("professional", "insurer")
        .order_by("review_deadline", "id")
    )
