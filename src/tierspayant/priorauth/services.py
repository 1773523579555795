"""Prior approvals (PEC): request (estimate or binding), staff decision of pending ones,
cancel.

``request_prior_approval`` answers at once: the beneficiary is identified through the
rights check on the planned date (one disclosure-log row), the quote's lines go through the
coverage engine under the contract's guarantee table with the beneficiary's history
(active commitments), and an accepted or partial approval commits what it consumes until it
is used by its invoice, cancelled, or expires. An estimate is computed the same way and
stored, but commits nothing and no invoice may use it. An approval the contract's review
rules catch (:class:`~tierspayant.priorauth.models.ReviewRule`) waits, pending, holding its
commitment; one whose decision cannot be computed (guarantee table missing, engine error)
waits too, degraded, with nothing committed (issue 19 part 4). Staff decide pending ones
with :func:`decide_pending`. Rules: docs/care.md.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from decimal import Decimal
from typing import Any

from django.db import transaction

from tierspayant.audit.choices import Purpose
from tierspayant.audit.services import RequestContext
from tierspayant.coverage import CoverageError, CoverageResult, History, ReasonCode
from tierspayant.priorauth.adjudication import (
    LIMITING_REASONS,
    SHARED_CEILINGS,
    GuaranteeTableMissing,
    compute_lines,
    guarantee_table,
    line_fields,
)
from tierspayant.priorauth.choices import (
    ApprovalKind,
    ApprovalStatus,
    CareReason,
    CommitmentSource,
    Decision,
    ReviewReason,
)
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.gate import Identity, age_on, identify, parse_birth_date
from tierspayant.priorauth.ledger import commit, history_for, lock_beneficiary, release
from tierspayant.priorauth.lpp import (
    InvalidCareRequest,
    LineInput,
    ParsedLine,
    domain_of,
    parse_lines,
)
from tierspayant.priorauth.models import PriorApproval, PriorApprovalLine, ReviewRule
from tierspayant.priorauth.notify import tell_professional_decided
from tierspayant.priorauth.prescription import parse_prescription, require_prescription
from tierspayant.providers.models import Professional

logger = logging.getLogger(__name__)

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ZERO = Decimal("0.00")
MAX_NOTE = 500


class ApprovalNotPending(Exception):
    """Only a pending approval can be decided by staff (and only once)."""

    message = "Cet accord n'est pas (ou plus) en attente d'examen."


class DecisionNotComputable(Exception):
    """Staff accepted a degraded approval, but its decision still cannot be computed."""

    message = (
        "Le calcul de la prise en charge reste impossible (garanties du contrat indisponibles "
        "ou erreur de calcul) : réessayez plus tard ou refusez avec un motif."
    )


class ApprovalNotCancellable(Exception):
    """Only an open approval can be cancelled (not one used by an invoice, nor twice)."""

    message = "Seul un accord en cours peut être annulé (il est déjà utilisé ou annulé)."


def new_number(prefix: str) -> str:
    """A random reference such as ``PEC-7KQ2M9XD4R`` (no personal data, not guessable)."""
    return f"{prefix}-" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


def parse_date(value: str | datetime.date | None, field: str, label: str) -> datetime.date:
    """A date given as ``datetime.date`` or ISO text; raises InvalidCareRequest(field)."""
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidCareRequest(field, f"{label} invalide (format AAAA-MM-JJ attendu)") from None


def decide(result: CoverageResult, history: History) -> tuple[Decision, list[str]]:
    """Decision and header reasons from the engine's result.

    refused: the AMC pays nothing; partial: a line has no guarantee, is within its renewal
    period, or is capped by a ceiling or count that earlier care of the benefit year (the
    ``history``) already used; accepted otherwise (a forfait shared by the lines of one
    equipment is the guarantee itself, not a limitation)."""
    if result.totals.amc <= 0:
        return Decision.REFUSED, [CareReason.NOTHING_COVERED.value]
    for line in result.lines:
        if set(line.reasons) & LIMITING_REASONS:
            return Decision.PARTIAL, []
        for cap in line.caps:
            used = history.ceilings_used.get(cap.ref or "", 0) or history.counts_used.get(
                cap.ref or "", 0
            )
            if cap.reason in SHARED_CEILINGS and used:
                return Decision.PARTIAL, []
    return Decision.ACCEPTED, []


def request_prior_approval(
    config: CareConfig,
    *,
    professional: Professional,
    identity: Identity,
    planned_date: str | datetime.date,
    lines: list[LineInput],
    quote_reference: str = "",
    context: RequestContext,
    now: datetime.datetime,
    today: datetime.date,
    step_up_verified_at: datetime.datetime | None = None,
    prescription: dict[str, object] | None = None,
    estimate: bool = False,
) -> PriorApproval:
    """Decide a quote and store the approval with its lines.

    ``prescription``: the prescription's shape is in ``prescription.py`` (prescriber RPPS,
    date, per-eye correction or audiogram date); required for optical and hearing-aid
    quotes (``prescription`` named when missing), optional for dental ones; it is checked,
    drives the lens-band check and the renewal reason, and is stored with the approval.

    ``estimate``: compute and store a non-binding estimate (number ``EST-...``, nothing
    committed, never pending, never usable by an invoice).

    Pending answers (decision ``pending``, ``review_deadline`` = ``now`` + the rule's
    ``review_days``, or ``config.review_days`` when degraded): a review rule of the contract
    applies (total above its amount, a second approval of the domain within its days), or
    the decision cannot be computed (guarantee table missing: ``table_missing``; the
    engine raised: ``engine_error``). A degraded approval stores its lines with the AMO
    share alone (AMC 0) and commits nothing until staff accept it.

    ``planned_date`` must lie between ``today`` and the end of the validity period
    (``config.approval_valid_days``); the approval expires on ``today`` plus that period.

    Returns the PriorApproval (decision accepted, partial or refused; refused with
    NO_RIGHTS_ON_DATE when the identity matched but has no rights on the planned date).

    Raises InvalidCareRequest (field named: ``planned_date``, ``birth_date``,
    ``prescription`` or ``prescription.<field>`` for a missing or bad prescription of
    glasses or hearing aids, checked after the lines,
    ``lines[i].code`` for an unknown or ended code, ``lines[i].tooth`` for a tooth that does
    not exist or does not fit the code, ``lines[i].billed`` for a negative amount or a price
    above the fee cap of a 100 % Santé dental line, ``lines`` for a domain not open on the
    contract...), gate.BeneficiaryNotFound, adjudication.GuaranteeTableMissing and
    DecisionNotComputable (estimates only: an estimate never waits), and the guard's refusals
    (see ``gate.identify``).
    Nothing is written but the disclosure-log row when it fails after the rights check.
    """
    planned = parse_date(planned_date, "planned_date", "date prévue")
    expires_on = today + datetime.timedelta(days=config.approval_valid_days)
    if not today <= planned <= expires_on:
        raise InvalidCareRequest(
            "planned_date",
            "la date prévue doit être comprise entre aujourd'hui et la fin de validité",
        )
    reference = str(quote_reference or "").strip()
    if len(reference) > 40:
        raise InvalidCareRequest("quote_reference", "au plus 40 caractères")
    born = parse_birth_date(identity.birth_date, today)
    age = age_on(born, planned)
    codes = [str(line.code or "").strip() for line in lines]
    glasses = any(code.startswith("22") for code in codes)
    hearing = any(code.startswith("23") for code in codes)
    checked = parse_prescription(
        prescription, care_date=planned, glasses=glasses, hearing=hearing, required=False
    )
    parsed = parse_lines(lines, age=age, care_date=planned, prescription=checked)
    if checked is None:  # after the lines: a bad line is named before a missing prescription
        require_prescription(glasses=glasses, hearing=hearing)
    domain = domain_of(parsed)
    found = identify(
        config,
        professional=professional,
        identity=identity,
        care_date=planned,
        date_field="planned_date",
        context=context,
        now=now,
        today=today,
        purpose=Purpose.PRIOR_APPROVAL,
        step_up_verified_at=step_up_verified_at,
    )
    beneficiary = found.beneficiary
    contract = beneficiary.contract
    if found.covered and domain not in contract.domains():
        raise InvalidCareRequest(
            "lines",
            f"le domaine « {domain.label} » n'est pas ouvert au tiers payant sur ce contrat",
        )
    table = None
    degraded = ""
    if found.covered:
        try:
            table = guarantee_table(contract, config.tables_dir)
        except GuaranteeTableMissing:
            if estimate:
                raise
            degraded = ReviewReason.TABLE_MISSING
    with transaction.atomic():
        lock_beneficiary(beneficiary)
        approval = PriorApproval(
            number=new_number("EST" if estimate else "PEC"),
            kind=ApprovalKind.ESTIMATE if estimate else ApprovalKind.APPROVAL,
            professional=professional,
            beneficiary=beneficiary,
            insurer=contract.insurer,
            domain=domain,
            quote_reference=reference,
            planned_date=planned,
            created_at=now,
            expires_on=expires_on,
            status=ApprovalStatus.OPEN,
            table_id=table.id if table else "",
            disclosure_log_id=found.log_id,
            prescription=checked.as_json() if checked else {},
            age=age,
        )
        if table is None and not degraded:
            _refuse_without_rights(approval, parsed)
            return approval
        history = history_for(beneficiary, care_date=planned, today=today)
        result = None
        if table is not None:
            try:
                result = compute_lines(
                    parsed, table=table, age=age, care_date=planned, history=history
                )
            except Exception as exc:  # any engine failure: a pending answer, not an error page
                if estimate:
                    raise DecisionNotComputable from None
                logger.warning(
                    "priorauth: decision not computable (%s, table %s)",
                    type(exc).__name__,
                    table.id,
                )
                degraded = ReviewReason.ENGINE_ERROR
        if result is None:
            _pending_degraded(approval, parsed, degraded, config, now)
            return approval
        approval.decision, approval.reasons = decide(result, history)
        rule = None if estimate else _review_rule(approval, result, now)
        if rule is not None:
            approval.proposed_decision = approval.decision
            approval.decision = Decision.PENDING
            approval.review_reason = rule[0]
            approval.review_deadline = now + datetime.timedelta(days=rule[1])
            approval.reasons = [*approval.reasons, CareReason.UNDER_REVIEW.value]
        _save(approval, parsed, result)
        if approval.decision != Decision.REFUSED and not estimate:
            commit(
                beneficiary,
                source=CommitmentSource.APPROVAL,
                reference=approval.number,
                before=history,
                after=result.history_after,
                care_date=planned,
                expires_on=expires_on,
                now=now,
            )
    return approval


def _review_rule(
    approval: PriorApproval, result: CoverageResult, now: datetime.datetime
) -> tuple[str, int] | None:
    """(review reason, review days) of the first review rule of the approval's contract
    that catches it, or None. Only accepted or partial answers are reviewed."""
    if approval.decision == Decision.REFUSED:
        return None
    contract = approval.beneficiary.contract
    rules = ReviewRule.objects.filter(insurer_id=contract.insurer_id).order_by("id")
    for rule in rules:
        if rule.contract_id not in (None, contract.pk) or rule.domain not in ("", approval.domain):
            continue
        if rule.amount_above is not None and result.totals.billed > rule.amount_above:
            return ReviewReason.AMOUNT_ABOVE.value, rule.review_days
        if rule.second_within_days is not None:
            since = now - datetime.timedelta(days=rule.second_within_days)
            earlier = (
                PriorApproval.objects.filter(
                    beneficiary=approval.beneficiary,
                    domain=approval.domain,
                    kind=ApprovalKind.APPROVAL,
                    created_at__gte=since,
                )
                .exclude(status=ApprovalStatus.CANCELLED)
                .exclude(decision=Decision.REFUSED)
            )
            if earlier.exists():
                return ReviewReason.SECOND_EQUIPMENT.value, rule.review_days
    return None


def _pending_degraded(
    approval: PriorApproval,
    parsed: list[ParsedLine],
    reason: str,
    config: CareConfig,
    now: datetime.datetime,
) -> None:
    """Store a degraded approval: pending, AMO share alone, nothing committed."""
    approval.decision = Decision.PENDING
    approval.review_reason = reason
    approval.review_deadline = now + datetime.timedelta(days=config.review_days)
    approval.reasons = [CareReason.UNDER_REVIEW.value]
    _save_without_amc(approval, parsed)


def _save(approval: PriorApproval, parsed: list[ParsedLine], result: CoverageResult) -> None:
    totals = result.totals
    approval.total_billed, approval.total_amo = totals.billed, totals.amo
    approval.total_amc, approval.total_rac = totals.amc, totals.rac
    approval.save()
    PriorApprovalLine.objects.bulk_create(
        PriorApprovalLine(
            approval=approval,
            amo=line.amo,
            amc=line.amc,
            rac=line.rac,
            reasons=[str(code) for code in line.reasons],
            **_dental_fields(p),
            **line_fields(p, index + 1),  # type: ignore[arg-type]
        )
        for index, (p, line) in enumerate(zip(parsed, result.lines, strict=True))
    )


def _dental_fields(parsed: ParsedLine) -> dict[str, Any]:
    return {
        "tooth": parsed.tooth,
        "price_limit": parsed.act.price_limit,
        "alternative": parsed.alternative,
    }


def _refuse_without_rights(approval: PriorApproval, parsed: list[ParsedLine]) -> None:
    approval.decision = Decision.REFUSED
    approval.reasons = [CareReason.NO_RIGHTS_ON_DATE.value]
    _save_without_amc(approval, parsed)


def _save_without_amc(approval: PriorApproval, parsed: list[ParsedLine]) -> None:
    amo = [p.act.amo_net for p in parsed]
    approval.total_billed = sum((p.act.billed for p in parsed), ZERO)
    approval.total_amo = sum(amo, ZERO)
    approval.total_amc = ZERO
    approval.total_rac = approval.total_billed - approval.total_amo
    approval.save()
    PriorApprovalLine.objects.bulk_create(
        PriorApprovalLine(
            approval=approval,
            amo=p.act.amo_net,
            amc=ZERO,
            rac=p.act.billed - p.act.amo_net,
            reasons=[],
            **_dental_fields(p),
            **line_fields(p, index + 1),  # type: ignore[arg-type]
        )
        for index, p in enumerate(parsed)
    )


def decide_pending(
    config: CareConfig,
    *,
    approval: PriorApproval,
    staff: Any,
    accept: bool,
    note: str,
    now: datetime.datetime,
    today: datetime.date,
) -> PriorApproval:
    """Staff decide a pending approval, with a reason (``note``, 1-500 characters).

    accept: the decision becomes the engine's (accepted or partial) and the commitment it
    held stays; a degraded approval is computed now under the contract's table (history of
    the beneficiary on the planned date) and commits what it consumes. refuse: the decision
    becomes refused, every line's AMC 0 (RAC = price - AMO) and the commitment is released.
    The professional is told by email (number, decision, deadline: no personal data).

    Raises ApprovalNotPending, InvalidCareRequest("decision_note") for a missing or too
    long reason, DecisionNotComputable when a degraded approval still cannot be computed
    (nothing changes then).
    """
    text = str(note or "").strip()
    if not text:
        raise InvalidCareRequest("decision_note", "un motif est obligatoire")
    if len(text) > MAX_NOTE:
        raise InvalidCareRequest("decision_note", f"au plus {MAX_NOTE} caractères")
    with transaction.atomic():
        locked = PriorApproval.objects.select_for_update().get(pk=approval.pk)
        if locked.decision != Decision.PENDING:
            raise ApprovalNotPending
        if accept and not locked.proposed_decision:
            _compute_degraded(config, locked, now=now, today=today)
        elif accept:
            locked.decision = locked.proposed_decision
        else:
            locked.decision = Decision.REFUSED
            locked.lines.update(amc=ZERO)
            for line in locked.lines.all():
                line.rac = line.billed - line.amo
                line.save(update_fields=["rac"])
            locked.total_amc = ZERO
            locked.total_rac = locked.total_billed - locked.total_amo
            release(CommitmentSource.APPROVAL, locked.number, now=now)
        locked.reasons = [
            *(r for r in locked.reasons if r != CareReason.UNDER_REVIEW.value),
            CareReason.DECIDED_BY_STAFF.value,
        ]
        locked.decided_at, locked.decided_by, locked.decision_note = now, staff, text
        locked.notified_at = now
        locked.save()
    tell_professional_decided(locked)
    return locked


def _compute_degraded(
    config: CareConfig, approval: PriorApproval, *, now: datetime.datetime, today: datetime.date
) -> None:
    """Compute a degraded approval now (lines as stored) and commit what it consumes."""
    beneficiary = approval.beneficiary
    stored = list(approval.lines.all())
    lines = [
        LineInput(code=ln.code, billed=ln.billed, side=ln.side or None, tooth=ln.tooth or None)
        for ln in stored
    ]
    try:
        table = guarantee_table(beneficiary.contract, config.tables_dir)
        codes = [ln.code for ln in stored]
        checked = parse_prescription(
            approval.prescription or None,
            care_date=approval.planned_date,
            glasses=any(code.startswith("22") for code in codes),
            hearing=any(code.startswith("23") for code in codes),
            required=False,  # an approval stored before prescriptions were required
        )
        parsed = parse_lines(
            lines, age=approval.age or 0, care_date=approval.planned_date, prescription=checked
        )
        lock_beneficiary(beneficiary)
        history = history_for(beneficiary, care_date=approval.planned_date, today=today)
        result = compute_lines(
            parsed,
            table=table,
            age=approval.age or 0,
            care_date=approval.planned_date,
            history=history,
        )
    except (GuaranteeTableMissing, CoverageError, InvalidCareRequest):
        raise DecisionNotComputable from None
    approval.decision, reasons = decide(result, history)
    approval.reasons = [*reasons, *approval.reasons]
    approval.table_id = table.id
    totals = result.totals
    approval.total_amo, approval.total_amc, approval.total_rac = (
        totals.amo,
        totals.amc,
        totals.rac,
    )
    for row, line in zip(stored, result.lines, strict=True):
        row.amo, row.amc, row.rac = line.amo, line.amc, line.rac
        row.reasons = [str(code) for code in line.reasons]
        row.save(update_fields=["amo", "amc", "rac", "reasons"])
    if approval.decision != Decision.REFUSED:
        commit(
            beneficiary,
            source=CommitmentSource.APPROVAL,
            reference=approval.number,
            before=history,
            after=result.history_after,
            care_date=approval.planned_date,
            expires_on=approval.expires_on,
            now=now,
        )


def cancel_prior_approval(
    *, professional: Professional, approval: PriorApproval, now: datetime.datetime
) -> PriorApproval:
    """Cancel an open approval of ``professional`` and release what it committed.

    Raises ApprovalNotCancellable (used or already cancelled); ``PriorApproval.DoesNotExist``
    when it belongs to another professional (answered as not found)."""
    with transaction.atomic():
        locked = PriorApproval.objects.select_for_update().get(
            pk=approval.pk, professional=professional
        )
        if locked.status != ApprovalStatus.OPEN:
            raise ApprovalNotCancellable
        locked.status = ApprovalStatus.CANCELLED
        locked.cancelled_at = now
        locked.save(update_fields=["status", "cancelled_at"])
        release(CommitmentSource.APPROVAL, locked.number, now=now)
    return locked


__all__ = [
    "ApprovalNotCancellable",
    "ApprovalNotPending",
    "DecisionNotComputable",
    "ReasonCode",
    "cancel_prior_approval",
    "decide_pending",
    "request_prior_approval",
]
