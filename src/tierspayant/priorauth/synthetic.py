"""A synthetic prescription fitting a quote's lines, for the demo, the benches and tests.

Real quotes carry the prescription the patient brought (``prescription.py``); the demo
seed, the bench scripts and the tests need one that every line accepts: for each lens the
smallest correction (closest to plano, in steps of 0.25 dioptre) that falls in its code's
band on that eye, with an addition of +2.00 for progressive and multifocal lenses; the
right eye at -1.00 when the quote has optical codes but no lens; the audiogram a week
before the prescription for hearing aids. The prescriber's RPPS is the caller's (synthetic,
``providers.synthetic.synthetic_rpps``). No patient data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from typing import Any

from tierspayant.priorauth.catalogue import CatalogueEntry, Kind
from tierspayant.priorauth.lpp import LineInput
from tierspayant.priorauth.prescription import PROGRESSIVE
from tierspayant.priorauth.selectors import catalogue

QUARTER = Decimal("0.25")
SIDES = {"right": "right", "od": "right", "droit": "right", "left": "left", "og": "left"}


@cache
def _candidates() -> list[tuple[Decimal, Decimal]]:
    """(sphere, cylinder) pairs from plano outwards: sphere -20..+20, cylinder 0..6."""
    pairs = [(QUARTER * s, QUARTER * c) for s in range(-80, 81) for c in range(0, 25)]
    return sorted(pairs, key=lambda p: (abs(p[0]) + p[1], p[1], -p[0]))


def _fitting(entry: CatalogueEntry) -> tuple[Decimal, Decimal]:
    for sphere, cylinder in _candidates():
        if entry.holds(sphere, cylinder):
            return sphere, cylinder
    raise ValueError(f"no correction fits the band of {entry.code}")


def synthetic_prescription(
    lines: Iterable[LineInput], *, care_date: dt.date, prescriber_rpps: str
) -> dict[str, Any] | None:
    """The prescription (service shape) every line of ``lines`` accepts on ``care_date``;
    None for a quote without optical or hearing-aid codes (dental)."""
    entries = catalogue()
    eyes: dict[str, dict[str, str]] = {}
    optical = hearing = False
    for line in lines:
        code = str(line.code or "").strip()
        optical = optical or code.startswith("22")
        hearing = hearing or code.startswith("23")
        entry = entries.get(code)
        side = SIDES.get(str(line.side or "").strip().lower())
        if entry is None or entry.kind != Kind.LENS or side is None:
            continue
        sphere, cylinder = _fitting(entry)
        eye = {"sphere": str(sphere), "cylinder": str(cylinder), "axis": "90" if cylinder else "0"}
        if entry.lens_type in PROGRESSIVE:
            eye["addition"] = "2.00"
        eyes[side] = eye
    if not optical and not hearing:
        return None
    data: dict[str, Any] = {
        "prescriber_rpps": prescriber_rpps,
        "prescribed_on": (care_date - dt.timedelta(days=7)).isoformat(),
    }
    if optical:
        data.update(eyes or {"right": {"sphere": "-1.00", "cylinder": "0", "axis": "0"}})
    if hearing:
        data["audiogram_on"] = (care_date - dt.timedelta(days=14)).isoformat()
    return data
