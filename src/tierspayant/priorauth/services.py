"""Prior approvals (PEC): request, cancel.

``request_prior_approval`` answers at once: the beneficiary is identified through the
rights check on the planned date (one disclosure-log row), the quote's lines go through the
coverage engine under the contract's guarantee table with the beneficiary's history
(active commitments), and an accepted or partial approval commits what it consumes until it
is used by its invoice, cancelled, or expires. Rules: docs/care.md.
"""

from __future__ import annotations

import datetime
import secrets
from decimal import Decimal

from django.db import transaction

from tierspayant.audit.choices import Purpose
from tierspayant.audit.services import RequestContext
from tierspayant.coverage import CoverageResult, History, ReasonCode
from tierspayant.priorauth.adjudication import (
    LIMITING_REASONS,
    SHARED_CEILINGS,
    compute_lines,
    guarantee_table,
    line_fields,
)
from tierspayant.priorauth.choices import ApprovalStatus, CareReason, CommitmentSource, Decision
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
from tierspayant.priorauth.models import PriorApproval, PriorApprovalLine
from tierspayant.priorauth.prescription import parse_prescription
from tierspayant.providers.models import Professional

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ZERO = Decimal("0.00")


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
) -> PriorApproval:
    """Decide a quote and store the approval with its lines.

    ``prescription``: the prescription's shape is in ``prescription.py`` (prescriber RPPS,
    date, per-eye correction or audiogram date); when given it is checked, drives the
    lens-band check and the renewal reason, and is stored with the approval.

    ``planned_date`` must lie between ``today`` and the end of the validity period
    (``config.approval_valid_days``); the approval expires on ``today`` plus that period.

    Returns the PriorApproval (decision accepted, partial or refused; refused with
    NO_RIGHTS_ON_DATE when the identity matched but has no rights on the planned date).

    Raises InvalidCareRequest (field named: ``planned_date``, ``birth_date``,
    ``lines[i].code`` for an unknown LPP code, ``lines[i].billed`` for a negative amount,
    ``lines`` for a domain not open on the contract...), gate.BeneficiaryNotFound,
    adjudication.GuaranteeTableMissing, and the guard's refusals (see ``gate.identify``).
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
    checked = parse_prescription(
        prescription,
        care_date=planned,
        glasses=any(code.startswith("22") for code in codes),
        hearing=any(code.startswith("23") for code in codes),
    )
    parsed = parse_lines(lines, age=age, care_date=planned, prescription=checked)
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
    table = guarantee_table(contract, config.tables_dir) if found.covered else None
    with transaction.atomic():
        lock_beneficiary(beneficiary)
        approval = PriorApproval(
            number=new_number("PEC"),
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
        )
        if table is None:
            _refuse_without_rights(approval, parsed)
            return approval
        history = history_for(beneficiary, care_date=planned, today=today)
        result = compute_lines(parsed, table=table, age=age, care_date=planned, history=history)
        approval.decision, approval.reasons = decide(result, history)
        _save(approval, parsed, result)
        if approval.decision != Decision.REFUSED:
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
            **line_fields(p, index + 1),  # type: ignore[arg-type]
        )
        for index, (p, line) in enumerate(zip(parsed, result.lines, strict=True))
    )


def _refuse_without_rights(approval: PriorApproval, parsed: list[ParsedLine]) -> None:
    approval.decision = Decision.REFUSED
    approval.reasons = [CareReason.NO_RIGHTS_ON_DATE.value]
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
            **line_fields(p, index + 1),  # type: ignore[arg-type]
        )
        for index, p in enumerate(parsed)
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
    "ReasonCode",
    "cancel_prior_approval",
    "request_prior_approval",
]
