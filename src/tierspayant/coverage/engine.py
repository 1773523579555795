"""The computation: AMO / AMC / RAC split of act lines under a guarantee table.

For each line (REFERENCE.md "Guarantees"):
    AMC = min(rule amount, billed - AMO, remaining ceilings, legal caps), never negative,
    RAC = billed - AMO - AMC.
Under a responsible contract (``table.responsible``) the regulation applies on top of
the table (article R871-2 CSS, décret 2019-21):
  * optical class A, audio class I, dental 100 % Santé: the AMC pays the rest up to the
    regulated price limit, whatever the table says (RAC = 0 when the price respects it);
  * optical class B: cover per equipment between a minimum and a maximum by lens pair,
    frame within it capped; whether the AMO share counts inside is a setting;
  * audio class II: AMO + AMC capped per ear; doctors outside OPTAM: excess fees
    covered within 100 % of the BR; price caps of the tarif maîtrisé dental basket;
  * renewal periods for spectacles and hearing aids;
  * participation forfaitaire and franchises are never covered (L871-1 CSS): the AMC
    is computed against the AMO share before those deductions.
Lines are settled in the order given; ceilings consumed by one line are no longer
available to the next. All optical lines of one call form one equipment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from tierspayant.coverage.acts import ActLine, History, PreviousEquipment
from tierspayant.coverage.errors import InvalidActLine, InvalidCase
from tierspayant.coverage.explain import AppliedRule, CapApplied, CoverageResult, LineResult, Totals
from tierspayant.coverage.money import ZERO, cents, percent_of
from tierspayant.coverage.reasons import ReasonCode
from tierspayant.coverage.reference import RegulatedReference, RegulatedVersion, load_reference
from tierspayant.coverage.regulation import (
    class_b_bounds,
    full_cover_price_limit,
    lens_pair,
    renewal_due,
    renewal_months,
    responsible_floor,
)
from tierspayant.coverage.tables import Ceiling, GuaranteeTable, TableVersion
from tierspayant.coverage.vocab import (
    OPTICAL_FAMILIES,
    Family,
    LensPair,
    RenewalReason,
    SanteClass,
)

MAX_AGE = 130
_FULL_COVER_RULE = AppliedRule(
    source="regulation",
    id="100-sante",
    label="100 % Santé",
    formula="Reste à charge nul dans la limite du prix limite de vente",
)
_TICKET_MODERATEUR_RULE = AppliedRule(
    source="regulation",
    id="ticket-moderateur",
    label="Ticket modérateur (contrat responsable)",
    formula="100 % de la BR, part AMO incluse",
)
_DAILY_FEE_RULE = AppliedRule(
    source="regulation",
    id="forfait-journalier",
    label="Forfait journalier hospitalier (contrat responsable)",
    formula="Frais réels, sans limitation de durée",
)
_ONE_PER_SIDE = (Family.OPTICAL_FRAME, Family.OPTICAL_LENS, Family.HEARING_AID)


@dataclass(frozen=True, slots=True)
class _Context:
    version: TableVersion
    ref: RegulatedVersion
    age: int
    care_date: dt.date
    history: History
    regulated: bool
    includes_amo: bool
    pair: LensPair | None
    frame_unfit: bool = False  # a line of the optical equipment says the frame no longer fits


@dataclass(slots=True)
class _Draft:
    """Working state of one line while it is computed."""

    index: int
    line: ActLine
    amo: Decimal  # the AMO share the AMC is computed against
    amount: Decimal = ZERO
    rule_amount: Decimal = ZERO
    rule: AppliedRule | None = None
    ceilings: tuple[Ceiling, ...] = ()
    eligible: bool = True
    amo_refused: bool = False  # the regulated (LPP) renewal period has not run: no AMO either
    tracked: bool = False
    caps: list[CapApplied] = field(default_factory=list)
    reasons: list[ReasonCode] = field(default_factory=list)

    def note(self, reason: ReasonCode) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def cap(self, limit: Decimal, reason: ReasonCode, ref: str | None = None) -> None:
        """Lower the amount to ``limit`` (floored at zero) and say so, if it bites."""
        limit = max(limit, ZERO)
        if limit < self.amount:
            self.amount = limit
            self.caps.append(CapApplied(reason, limit, ref))
            self.note(reason)


@dataclass(slots=True)
class _Ledger:
    """Consumption of ceilings, keyed by (ceiling id, scope): scope "" for the benefit
    year, the equipment key otherwise; the class B equipment cap left; new purchases."""

    amounts: dict[tuple[str, str], Decimal]
    counts: dict[tuple[str, str], int]
    optical_left: Decimal
    purchases: list[PreviousEquipment] = field(default_factory=list)


def compute(
    lines: Iterable[ActLine],
    *,
    table: GuaranteeTable,
    beneficiary_age: int,
    care_date: dt.date,
    history: History,
    reference: RegulatedReference | None = None,
) -> CoverageResult:
    """Split each act line between AMO, AMC and RAC under ``table``.

    Args:
        lines: act lines of one invoice or quote, settled in order; the optical lines
            form one equipment (at most one frame and one lens per eye), and at most
            one hearing aid per ear.
        table: a loaded guarantee table; the version in force on ``care_date`` applies.
        beneficiary_age: whole years at ``care_date`` (0-130).
        care_date: date of care; also selects the regulated figures. No clock is read.
        history: consumption of the benefit year and previous device purchases.
        reference: regulated figures; defaults to the shipped ``regulated-2024`` table.

    Returns:
        CoverageResult with one LineResult per line (same order), totals and the history
        after these lines. Amounts are euros to the cent.

    Raises:
        InvalidCase: bad age, date or history, or no table/reference version in force.
        InvalidActLine: a line is not an ActLine, a second frame/lens/aid for one side,
            or a 100 % Santé line without a known price limit.
    """
    _check_request(beneficiary_age, care_date, history)
    lines = tuple(lines)
    _check_lines(lines)
    if reference is None:
        reference = load_reference()
    ref = reference.version_for(care_date)
    version = table.version_for(care_date)
    includes_amo = table.optical_cap_includes_amo
    if includes_amo is None:
        includes_amo = ref.optical.cap_includes_amo.value
    ctx = _Context(
        version=version,
        ref=ref,
        age=beneficiary_age,
        care_date=care_date,
        history=history,
        regulated=table.responsible,
        includes_amo=includes_amo,
        pair=lens_pair(line for line in lines if line.family is Family.OPTICAL_LENS),
        frame_unfit=any(
            line.renewal_reason is RenewalReason.FRAME_UNFIT
            for line in lines
            if line.family in OPTICAL_FAMILIES
        ),
    )
    drafts = [_assess(index, line, ctx) for index, line in enumerate(lines)]
    _optical_minimum(drafts, ctx)
    ledger = _Ledger(
        amounts={(key, ""): value for key, value in history.ceilings_used.items()},
        counts={(key, ""): value for key, value in history.counts_used.items()},
        optical_left=class_b_bounds(ctx.pair, ref)[1],
    )
    for draft in drafts:
        _settle(draft, ctx, ledger)
    results = tuple(_result(draft) for draft in drafts)
    return CoverageResult(
        lines=results,
        totals=Totals(
            billed=sum((r.billed for r in results), ZERO),
            amo=sum((r.amo for r in results), ZERO),
            amc=sum((r.amc for r in results), ZERO),
            rac=sum((r.rac for r in results), ZERO),
        ),
        table_id=table.id,
        table_version=version.effective_from,
        responsible=table.responsible,
        reference_id=reference.id,
        reference_version=ref.effective_from,
        optical_cap_includes_amo=includes_amo,
        care_date=care_date,
        beneficiary_age=beneficiary_age,
        history_after=History(
            ceilings_used={
                key: value for (key, scope), value in ledger.amounts.items() if not scope
            },
            counts_used={key: value for (key, scope), value in ledger.counts.items() if not scope},
            previous_equipment=history.previous_equipment + tuple(ledger.purchases),
        ),
    )


def _check_request(age: object, care_date: object, history: object) -> None:
    if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= MAX_AGE:
        raise InvalidCase("beneficiary_age", f"must be whole years between 0 and {MAX_AGE}")
    if isinstance(care_date, dt.datetime) or not isinstance(care_date, dt.date):
        raise InvalidCase("care_date", "must be a date (no time)")
    if not isinstance(history, History):
        raise InvalidCase("history", "must be a History")
    for index, item in enumerate(history.previous_equipment):
        if item.purchased_on > care_date:
            raise InvalidCase(f"history.previous_equipment[{index}].date", "is after the care date")


def _check_lines(lines: tuple[ActLine, ...]) -> None:
    seen: set[tuple[Family, object]] = set()
    for index, line in enumerate(lines):
        if not isinstance(line, ActLine):
            raise InvalidActLine(f"lines[{index}]", "must be an ActLine")
        if line.family in _ONE_PER_SIDE:
            key = (line.family, line.side)
            if key in seen:
                what = f"{line.family} ({line.side})" if line.side else str(line.family)
                raise InvalidActLine(
                    f"lines[{index}].family",
                    f"a second {what} in one computation: one optical equipment (one frame, "
                    "one lens per eye) and one hearing aid per ear per call",
                )
            seen.add(key)


def _assess(index: int, line: ActLine, ctx: _Context) -> _Draft:
    """Everything about a line that does not depend on the other lines."""
    draft = _Draft(index, line, line.amo_gross if ctx.regulated else line.amo_net)
    if ctx.regulated and line.deductions > 0:
        draft.note(ReasonCode.NOT_COVERED_BY_RESPONSIBLE_CONTRACT)
    if ctx.regulated and line.sante_class is not None and line.sante_class.no_remaining_cost:
        _assess_full_cover(draft, ctx)
        return draft
    rule = ctx.version.rule_for(line, ctx.age, ctx.pair)
    _check_renewal(draft, ctx, rule.renewal_months if rule else None)
    if rule is None:
        if ctx.regulated and draft.eligible:
            _responsible_floor(draft, ctx)
        if draft.rule is None:
            draft.note(ReasonCode.NO_MATCHING_GUARANTEE)
        return draft
    draft.rule = AppliedRule("table", rule.id, rule.label, rule.benefit.describe())
    draft.ceilings = ctx.version.ceilings_of(rule)
    if not draft.eligible:
        return draft
    draft.rule_amount = draft.amount = rule.rule_amount(line, draft.amo)
    draft.cap(line.billed - draft.amo, ReasonCode.LIMITED_TO_ACTUAL_COST)
    if ctx.regulated:
        _legal_caps(draft, ctx)
        _responsible_floor(draft, ctx)
    return draft


def _responsible_floor(draft: _Draft, ctx: _Context) -> None:
    """Raise the line to what a responsible contract must pay (the ticket modérateur, the
    whole forfait journalier), before the table's ceilings; when no rule of the table fits,
    the regulation is the rule."""
    floor = responsible_floor(draft.line, draft.amo, ctx.ref)
    if floor <= draft.amount:
        return
    daily_fee = draft.line.family is Family.HOSPITAL_DAILY_FEE
    reason = ReasonCode.DAILY_FEE_COVERED if daily_fee else ReasonCode.TICKET_MODERATEUR_COVERED
    if draft.rule is None:
        draft.rule = _DAILY_FEE_RULE if daily_fee else _TICKET_MODERATEUR_RULE
        draft.rule_amount = floor
    draft.amount = floor
    draft.caps.append(CapApplied(reason, floor, "responsible"))
    draft.note(reason)


def _assess_full_cover(draft: _Draft, ctx: _Context) -> None:
    """100 % Santé (optical A, audio I, dental basket): the rest up to the price limit."""
    line = draft.line
    draft.rule = _FULL_COVER_RULE
    _check_renewal(draft, ctx, None)
    if not draft.eligible:
        return
    limit = full_cover_price_limit(line, ctx.age, ctx.ref)
    if limit is None:
        raise InvalidActLine(
            f"lines[{draft.index}].price_limit",
            f"is required for this {line.family} of class {line.sante_class}: the reference "
            "table has no regulated price limit for it",
        )
    draft.note(ReasonCode.FULL_COVER_100_SANTE)
    draft.rule_amount = draft.amount = max(line.billed - draft.amo, ZERO)
    _price_limit(draft, limit)


def _price_limit(draft: _Draft, limit: Decimal) -> None:
    if draft.line.billed > limit:
        draft.note(ReasonCode.PRICE_ABOVE_REGULATED_LIMIT)
    draft.cap(limit - draft.amo, ReasonCode.PRICE_ABOVE_REGULATED_LIMIT, "price_limit")


def _check_renewal(draft: _Draft, ctx: _Context, table_months: int | None) -> None:
    """Mark the line not eligible when the renewal period has not run since the
    previous purchase of the same device (regulated period and the table's, the longer).

    The regulated period is the LPP's own (arrêté of 3 December 2018, LPP title II
    chapters 2 and 3; R871-2 CSS repeats it for responsible contracts): when it has not
    run, the AMO refuses the line too (AMO 0, AMC 0, the patient pays the price), whatever
    the contract. A period of the table alone only stops the AMC. The reason of one line
    of the optical equipment (a young child's frame that no longer fits) opens renewal of
    the whole equipment."""
    line = draft.line
    regulated = renewal_months(line, ctx.age, ctx.ref, frame_unfit=ctx.frame_unfit)
    periods = [table_months, regulated if ctx.regulated else None]
    months = [period for period in periods if period is not None]
    if regulated is None and not months:
        return
    draft.tracked = True
    last = ctx.history.last_purchase(line.family, line.side)
    if regulated is not None and renewal_due(last, ctx.care_date, regulated) is not None:
        draft.amo_refused = True
        draft.amo = ZERO
        draft.note(ReasonCode.RENEWAL_PERIOD_NOT_REACHED)
    due = renewal_due(last, ctx.care_date, max(months)) if months else None
    if due is not None:
        draft.eligible = False
        draft.caps.append(CapApplied(ReasonCode.RENEWAL_PERIOD_NOT_REACHED, ZERO, due.isoformat()))
        draft.note(ReasonCode.RENEWAL_PERIOD_NOT_REACHED)


def _legal_caps(draft: _Draft, ctx: _Context) -> None:
    """Caps of the responsible contract that depend on the line alone."""
    line = draft.line
    if line.sante_class is SanteClass.DENTAL_MAITRISE and line.price_limit is not None:
        _price_limit(draft, line.price_limit)
    if line.sante_class is SanteClass.AUDIO_II:
        draft.cap(
            ctx.ref.audio.class_ii_total_max.value - draft.amo,
            ReasonCode.HEARING_AID_CAP,
            "audio.class_ii_total_max",
        )
    if not line.optam:
        excess = percent_of(line.br, ctx.ref.doctors.non_optam_excess_max_percent.value)
        draft.cap(
            line.br + excess - draft.amo,
            ReasonCode.NON_OPTAM_EXCESS_CAP,
            "doctors.non_optam_excess_max_percent",
        )
    if line.sante_class is SanteClass.OPTICAL_B and line.family is Family.OPTICAL_FRAME:
        draft.cap(
            _frame_room(draft, ctx), ReasonCode.OPTICAL_FRAME_CAP, "optical.class_b_frame_max"
        )


def _amo_in_cap(draft: _Draft, ctx: _Context) -> Decimal:
    return draft.amo if ctx.includes_amo else ZERO


def _frame_room(draft: _Draft, ctx: _Context) -> Decimal:
    return ctx.ref.optical.class_b_frame_max.value - _amo_in_cap(draft, ctx)


def _in_optical_pool(draft: _Draft, ctx: _Context) -> bool:
    """Eligible class B frame or lens of a responsible contract."""
    return (
        ctx.regulated
        and draft.eligible
        and draft.line.family in OPTICAL_FAMILIES
        and draft.line.sante_class is SanteClass.OPTICAL_B
    )


def _optical_minimum(drafts: list[_Draft], ctx: _Context) -> None:
    """Raise a class B equipment with lenses to the responsible minimum for its lens pair
    (R871-2 CSS: 50 EUR for two simple lenses...), line by line within what the AMO left
    and the frame cap; table ceilings still apply afterwards."""
    pool = [draft for draft in drafts if _in_optical_pool(draft, ctx)]
    if not any(d.line.family is Family.OPTICAL_LENS for d in pool):
        return
    floor = class_b_bounds(ctx.pair, ctx.ref)[0]
    shortfall = floor - sum((d.amount + _amo_in_cap(d, ctx) for d in pool), ZERO)
    for draft in pool:
        if shortfall <= 0:
            return
        room = draft.line.billed - draft.amo - draft.amount
        if draft.line.family is Family.OPTICAL_FRAME:
            room = min(room, _frame_room(draft, ctx) - draft.amount)
        top_up = min(room, shortfall)
        if top_up > 0:
            draft.amount += top_up
            shortfall -= top_up
            draft.caps.append(
                CapApplied(ReasonCode.RESPONSIBLE_MINIMUM_APPLIED, floor, str(ctx.pair))
            )
            draft.note(ReasonCode.RESPONSIBLE_MINIMUM_APPLIED)


def _equipment_key(draft: _Draft) -> str:
    family = draft.line.family
    if family in OPTICAL_FAMILIES:
        return "optical"
    if family is Family.HEARING_AID:
        return f"hearing_aid:{draft.line.side}"
    return f"line:{draft.index}"


def _settle(draft: _Draft, ctx: _Context, ledger: _Ledger) -> None:
    """Apply what depends on the lines before: the class B equipment cap and the
    table's ceilings, then record the consumption."""
    in_pool = _in_optical_pool(draft, ctx)
    if in_pool:
        pair = ctx.pair or LensPair.SIMPLE_SIMPLE
        room = ledger.optical_left - _amo_in_cap(draft, ctx)
        draft.cap(room, ReasonCode.OPTICAL_EQUIPMENT_CAP, str(pair))
    keys = [
        (c, (c.id, "" if c.per == "benefit_year" else _equipment_key(draft)))
        for c in draft.ceilings
    ]
    quantity = draft.line.quantity
    for ceiling, key in keys:
        if ceiling.count is not None:
            left = max(ceiling.count - ledger.counts.get(key, 0), 0)
            if left < quantity:
                draft.cap(
                    cents(draft.amount * left / quantity), ReasonCode.COUNT_EXHAUSTED, ceiling.id
                )
        if ceiling.amount is not None:
            used = ledger.amounts.get(key, ZERO)
            draft.cap(ceiling.amount - used, ReasonCode.CEILING_EXHAUSTED, ceiling.id)
    if in_pool:
        ledger.optical_left -= draft.amount + _amo_in_cap(draft, ctx)
    if draft.amount > 0:
        for ceiling, key in keys:
            ledger.amounts[key] = ledger.amounts.get(key, ZERO) + draft.amount
            if ceiling.count is not None:
                used_count = ledger.counts.get(key, 0)
                ledger.counts[key] = used_count + min(quantity, ceiling.count - used_count)
    if draft.tracked and draft.eligible and not draft.amo_refused:
        line = draft.line
        ledger.purchases.append(PreviousEquipment(line.family, ctx.care_date, line.side))


def _result(draft: _Draft) -> LineResult:
    line = draft.line
    amo = ZERO if draft.amo_refused else line.amo_net
    return LineResult(
        line_id=line.line_id,
        family=line.family,
        code=line.code,
        sante_class=line.sante_class,
        billed=line.billed,
        br=line.br,
        amo=amo,
        amc=draft.amount,
        rac=line.billed - amo - draft.amount,
        participation_forfaitaire=line.participation_forfaitaire,
        franchise=line.franchise,
        rule=draft.rule,
        rule_amount=draft.rule_amount,
        caps=tuple(draft.caps),
        reasons=tuple(draft.reasons),
    )
