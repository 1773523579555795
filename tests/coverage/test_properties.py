"""Properties that hold for any valid input (hypothesis):

* AMO + AMC + RAC = billed, on every line and in the totals;
* 0 <= AMC <= billed - AMO, and RAC >= 0;
* under a responsible contract, participation forfaitaire and franchises stay in the RAC;
* a benefit year's sequence of invoices never pays more than a ceiling allows;
* the same input gives the same output.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.coverage.builders import ACTUAL_COST, TABLES_DIR, pct, rule, table
from tierspayant.coverage import (
    ActLine,
    Family,
    GuaranteeTable,
    History,
    LensComplexity,
    PreviousEquipment,
    RenewalReason,
    SanteClass,
    Side,
    compute,
    load_guarantee_table,
)
from tierspayant.coverage.money import percent_of
from tierspayant.coverage.vocab import FAMILIES, OPTICAL_FAMILIES

SETTINGS = settings(max_examples=300, deadline=None, database=None)
ALL_FAMILIES = [family.value for family in Family]

TABLES: list[GuaranteeTable] = [
    *(load_guarantee_table(path) for path in sorted(TABLES_DIR.glob("*.json"))),
    load_guarantee_table(table([rule("tout", ALL_FAMILIES, ACTUAL_COST)], responsible=False)),
    load_guarantee_table(table([rule("tout-300", ALL_FAMILIES, pct("300"))])),
]
ONE_PER_SIDE = {Family.OPTICAL_FRAME, Family.OPTICAL_LENS, Family.HEARING_AID}


def euros(low: int, high: int) -> st.SearchStrategy[Decimal]:
    """Amounts between ``low`` and ``high`` cents."""
    return st.integers(low, high).map(lambda c: Decimal(c) / 100)


@st.composite
def act_lines(draw: st.DrawFn, families: tuple[Family, ...] = tuple(Family)) -> ActLine:
    family = draw(st.sampled_from(families))
    spec = FAMILIES[family]
    billed = draw(euros(0, 300_000))
    br = draw(euros(0, int(billed * 100)))
    rate = draw(st.sampled_from([Decimal(r) for r in (0, 15, 30, 60, 65, 70, 80, 100)]))
    gross = percent_of(br, rate)
    participation = draw(euros(0, int(gross * 100)))
    franchise = draw(euros(0, int((gross - participation) * 100)))
    sante_class = draw(st.sampled_from(sorted(spec.classes))) if spec.classes else None
    needs_limit = sante_class in (SanteClass.OPTICAL_A, SanteClass.DENTAL_100_SANTE)
    may_limit = sante_class in (SanteClass.AUDIO_I, SanteClass.DENTAL_MAITRISE)
    price_limit = None
    if needs_limit or (may_limit and draw(st.booleans())):
        price_limit = draw(euros(0, 300_000))
    paid = draw(st.booleans())
    return ActLine(
        family,
        billed,
        br,
        amo_rate=None if paid else rate,
        amo_paid=gross - participation - franchise if paid else None,
        sante_class=sante_class,
        lens_complexity=draw(st.sampled_from(LensComplexity)) if spec.lens else None,
        side=draw(st.sampled_from(Side)) if spec.sided else None,
        participation_forfaitaire=participation,
        franchise=franchise,
        price_limit=price_limit,
        quantity=draw(st.integers(1, 4)),
        optam=draw(st.booleans()) if spec.optam else True,
        renewal_reason=(
            draw(st.none() | st.sampled_from(RenewalReason)) if family in OPTICAL_FAMILIES else None
        ),
    )


def one_equipment(lines: list[ActLine]) -> list[ActLine]:
    """Keep the first frame, lens per eye and hearing aid per ear (one equipment per call)."""
    seen: set[tuple[Family, Side | None]] = set()
    kept = []
    for line in lines:
        key = (line.family, line.side)
        if line.family in ONE_PER_SIDE and key in seen:
            continue
        seen.add(key)
        kept.append(line)
    return kept


CARE_DATES = st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31))


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    care_date = draw(CARE_DATES)
    purchases = draw(
        st.lists(
            st.tuples(
                st.sampled_from([Family.OPTICAL_FRAME, Family.OPTICAL_LENS, Family.HEARING_AID]),
                st.sampled_from(Side),
                st.dates(dt.date(2018, 1, 1), care_date),
            ),
            max_size=4,
        )
    )
    guarantee = draw(st.sampled_from(TABLES))
    version = guarantee.version_for(care_date)
    ceiling_ids = sorted({c.id for r in version.rules for c in version.ceilings_of(r)})
    used = (
        draw(st.dictionaries(st.sampled_from(ceiling_ids), euros(0, 300_000)))
        if ceiling_ids
        else {}
    )
    counts = (
        draw(st.dictionaries(st.sampled_from(ceiling_ids), st.integers(0, 6)))
        if ceiling_ids
        else {}
    )
    history = History(
        ceilings_used=used,
        counts_used=counts,
        previous_equipment=tuple(
            PreviousEquipment(family, day, None if family is Family.OPTICAL_FRAME else side)
            for family, side, day in purchases
        ),
    )
    return {
        "lines": one_equipment(draw(st.lists(act_lines(), min_size=1, max_size=6))),
        "table": guarantee,
        "beneficiary_age": draw(st.integers(0, 100)),
        "care_date": care_date,
        "history": history,
    }


@SETTINGS
@given(requests())
def test_split_adds_up_and_stays_in_bounds(request: dict[str, Any]) -> None:
    result = compute(**request)
    for line, out in zip(request["lines"], result.lines, strict=True):
        assert out.amo + out.amc + out.rac == out.billed
        assert out.amc >= 0
        assert out.rac >= 0
        assert out.amc <= out.billed - out.amo
        if request["table"].responsible:
            assert out.rac >= line.deductions
    totals = result.totals
    assert totals.amo + totals.amc + totals.rac == totals.billed


@SETTINGS
@given(requests())
def test_same_input_same_output(request: dict[str, Any]) -> None:
    assert compute(**request).to_dict() == compute(**request).to_dict()


CEILING_FAMILIES = (
    Family.DENTAL_PROSTHESIS,
    Family.CONTACT_LENS,
    Family.ALTERNATIVE_MEDICINE,
    Family.CONSULTATION,
)


@SETTINGS
@given(
    st.sampled_from([t for t in TABLES if t.id in ("equilibre", "excellence")]),
    st.lists(
        st.tuples(
            st.lists(act_lines(CEILING_FAMILIES), min_size=1, max_size=3), st.integers(1, 365)
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_a_benefit_year_never_exceeds_a_ceiling(
    guarantee: GuaranteeTable, invoices: list[tuple[list[ActLine], int]]
) -> None:
    history = History()
    paid: dict[str, Decimal] = {}
    days = sorted(day for _, day in invoices)
    for (lines, _), day in zip(invoices, days, strict=True):
        care_date = dt.date(2025, 1, 1) + dt.timedelta(days=day - 1)
        version = guarantee.version_for(care_date)
        result = compute(
            lines, table=guarantee, beneficiary_age=40, care_date=care_date, history=history
        )
        for out in result.lines:
            rules = [r for r in version.rules if out.rule is not None and r.id == out.rule.id]
            for ceiling in (c for r in rules for c in version.ceilings_of(r)):
                paid[ceiling.id] = paid.get(ceiling.id, Decimal(0)) + out.amc
        history = result.history_after
    year_ceilings = {
        c.id: c for r in guarantee.versions[-1].rules for c in guarantee.versions[-1].ceilings_of(r)
    }
    for ceiling_id, total in paid.items():
        ceiling = year_ceilings[ceiling_id]
        if ceiling.amount is not None:
            assert total <= ceiling.amount
            assert history.ceilings_used.get(ceiling_id, Decimal(0)) <= ceiling.amount
        if ceiling.count is not None:
            assert history.counts_used.get(ceiling_id, 0) <= ceiling.count
