"""Claims (invoices): submission and adjudication, in one call.

``submit_claim`` identifies the beneficiary through the rights check on the care date (one
disclosure-log row), then adjudicates in one transaction: rights on the care date, domain
open on the contract, duplicate detection (same professional, beneficiary, date, codes and
amounts), matching with the approval (same codes, billed within the approved amount plus a
tolerance; the AMC never above what was approved), and the coverage engine under the
contract's table with the beneficiary's history. An accepted claim commits its consumption
and uses its approval up. Resubmitting the same invoice number with the same content
returns the first claim (idempotent). Rules: docs/care.md.

Every adjudicated claim is also stored as an ``invoices.Invoice`` (``Claim.invoice``, lines
mapped from the claim's, its insurer, its first events through
``invoices.lifecycle.adjudication_events``): payment runs, returns and corrections see
claims only through that invoice, so there is one money loop for every channel (issue 16;
docs/money.md). A claim whose number the professional already used for an invoice of a lot
is rejected ``DUPLICATE_CLAIM`` and has no invoice (a number is stored once).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from tierspayant.audit.choices import Purpose
from tierspayant.audit.services import RequestContext
from tierspayant.claims.choices import ClaimStatus
from tierspayant.claims.models import Claim, ClaimLine
from tierspayant.coverage import CoverageResult, LineResult
from tierspayant.invoices import lifecycle
from tierspayant.invoices.choices import CodeSystem, InvoiceStatus
from tierspayant.invoices.models import Invoice, InvoiceEvent, InvoiceLine
from tierspayant.invoices.services import billing_key, find_billed, record_billed
from tierspayant.priorauth.adjudication import compute_lines, guarantee_table, line_fields
from tierspayant.priorauth.choices import (
    ApprovalKind,
    ApprovalStatus,
    CareReason,
    CommitmentSource,
    Decision,
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
from tierspayant.priorauth.models import PriorApproval
from tierspayant.priorauth.services import parse_date
from tierspayant.providers.models import Professional

ZERO = Decimal("0.00")
INVOICE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,39}")


@dataclass(frozen=True)
class SubmittedClaim:
    """The claim and whether this call created it (False: an idempotent resubmission)."""

    claim: Claim
    created: bool


@dataclass(frozen=True)
class _Split:
    amo: Decimal
    amc: Decimal
    rac: Decimal
    reasons: list[str]


def _content_hash(care_date: datetime.date, parsed: list[ParsedLine], approval_number: str) -> str:
    body = {
        "care_date": care_date.isoformat(),
        "approval": approval_number,
        "lines": [
            [
                p.act.code,
                f"{p.act.billed:.2f}",
                str(p.act.side or ""),
                str(p.act.renewal_reason or ""),
            ]
            for p in parsed
        ],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _duplicate_key(
    beneficiary_id: object, care_date: datetime.date, parsed: list[ParsedLine]
) -> str:
    acts = sorted(f"{p.act.code}:{p.act.billed:.2f}" for p in parsed)
    return hashlib.sha256(
        f"{beneficiary_id}|{care_date.isoformat()}|{','.join(acts)}".encode()
    ).hexdigest()


def _billing_key(beneficiary_id: object, care_date: datetime.date, parsed: list[ParsedLine]) -> str:
    """The content key shared with lots of invoices (``invoices.services.billing_key``)."""
    return billing_key(
        beneficiary_id, care_date, [(p.act.code or "", p.act.billed) for p in parsed]
    )


def _approval(
    professional: Professional, number: str, care_date: datetime.date, today: datetime.date
) -> PriorApproval | None:
    """The professional's approval named by the invoice, checked usable; None if none given.
    Raises InvalidCareRequest("approval_number") for an unknown (or another professional's),
    estimate, pending, refused, cancelled, used or expired approval."""
    number = number.strip().upper()
    if not number:
        return None
    approval = PriorApproval.objects.filter(professional=professional, number=number).first()
    field = "approval_number"
    if approval is None:
        raise InvalidCareRequest(field, "accord de prise en charge inconnu")
    if approval.kind == ApprovalKind.ESTIMATE:
        raise InvalidCareRequest(
            field, "une estimation n'engage pas l'organisme : demandez un accord de prise en charge"
        )
    if approval.decision == Decision.PENDING:
        raise InvalidCareRequest(
            field, "cet accord est en attente d'examen par l'organisme complémentaire"
        )
    if approval.decision == Decision.REFUSED:
        raise InvalidCareRequest(field, "cet accord de prise en charge a été refusé")
    if approval.status == ApprovalStatus.CANCELLED:
        raise InvalidCareRequest(field, "cet accord de prise en charge a été annulé")
    if approval.status == ApprovalStatus.USED:
        raise InvalidCareRequest(field, "cet accord a déjà été utilisé par une autre facture")
    if approval.is_expired(today) or care_date > approval.expires_on:
        raise InvalidCareRequest(field, "cet accord de prise en charge a expiré")
    return approval


def submit_claim(
    config: CareConfig,
    *,
    professional: Professional,
    identity: Identity,
    invoice_number: str,
    care_date: str | datetime.date,
    lines: list[LineInput],
    approval_number: str = "",
    context: RequestContext,
    now: datetime.datetime,
    today: datetime.date,
    step_up_verified_at: datetime.datetime | None = None,
) -> SubmittedClaim:
    """Submit an invoice and adjudicate it at once.

    Returns SubmittedClaim: the claim is ``accepted`` (AMC per line, to be paid by the next
    payment run) or ``rejected`` with reasons (NO_RIGHTS_ON_DATE, DOMAIN_NOT_OPEN,
    DUPLICATE_CLAIM, APPROVAL_AMOUNT_EXCEEDED, APPROVAL_LINES_MISMATCH, NOTHING_COVERED).

    Raises InvalidCareRequest naming the field (``invoice_number`` malformed or reused for
    another content, ``care_date`` in the future, ``lines[i].code`` unknown LPP code,
    ``lines[i].billed`` negative, ``approval_number`` unknown/refused/cancelled/used/expired
    or for another patient), gate.BeneficiaryNotFound, adjudication.GuaranteeTableMissing and
    the guard's refusals. Nothing is written then, except the disclosure-log row when the
    rights check was reached.
    """
    number = str(invoice_number or "").strip()
    if not INVOICE_NUMBER.fullmatch(number):
        raise InvalidCareRequest("invoice_number", "1 à 40 caractères : lettres, chiffres, . _ / -")
    day = parse_date(care_date, "care_date", "date des soins")
    if day > today:
        raise InvalidCareRequest("care_date", "la date des soins est dans le futur")
    born = parse_birth_date(identity.birth_date, today)
    if day < born:
        raise InvalidCareRequest("care_date", "la date des soins précède la date de naissance")
    parsed = parse_lines(lines, age=age_on(born, day), care_date=day)
    approval_ref = str(approval_number or "").strip().upper()
    content_hash = _content_hash(day, parsed, approval_ref)
    existing = Claim.objects.filter(professional=professional, invoice_number=number).first()
    if existing is not None and existing.content_hash != content_hash:
        raise InvalidCareRequest(
            "invoice_number", "ce numéro de facture a déjà été utilisé pour une autre facture"
        )
    approval = None if existing else _approval(professional, approval_ref, day, today)
    found = identify(
        config,
        professional=professional,
        identity=identity,
        care_date=day,
        date_field="care_date",
        context=context,
        now=now,
        today=today,
        purpose=Purpose.CLAIM,
        step_up_verified_at=step_up_verified_at,
    )
    if existing is not None:
        if existing.beneficiary_id != found.beneficiary.pk:
            raise InvalidCareRequest(
                "invoice_number", "ce numéro de facture a déjà été utilisé pour une autre facture"
            )
        return SubmittedClaim(existing, created=False)
    if approval is not None and approval.beneficiary_id != found.beneficiary.pk:
        raise InvalidCareRequest("approval_number", "cet accord concerne un autre patient")
    try:
        with transaction.atomic():
            claim = _adjudicate(
                config,
                professional=professional,
                found_covered=found.covered,
                beneficiary=found.beneficiary,
                log_id=found.log_id,
                number=number,
                day=day,
                age=age_on(born, day),
                parsed=parsed,
                approval=approval,
                approval_ref=approval_ref,
                content_hash=content_hash,
                now=now,
                today=today,
            )
    except IntegrityError:
        # The same invoice submitted twice at once: the first one won, answer with it.
        existing = Claim.objects.filter(professional=professional, invoice_number=number).first()
        if existing is None or existing.content_hash != content_hash:
            raise
        return SubmittedClaim(existing, created=False)
    return SubmittedClaim(claim, created=True)


def _adjudicate(
    config: CareConfig,
    *,
    professional: Professional,
    found_covered: bool,
    beneficiary: object,
    log_id: int,
    number: str,
    day: datetime.date,
    age: int,
    parsed: list[ParsedLine],
    approval: PriorApproval | None,
    approval_ref: str,
    content_hash: str,
    now: datetime.datetime,
    today: datetime.date,
) -> Claim:
    from tierspayant.registry.models import Beneficiary

    assert isinstance(beneficiary, Beneficiary)
    lock_beneficiary(beneficiary)
    contract = beneficiary.contract
    claim = Claim.objects.create(
        professional=professional,
        invoice_number=number,
        beneficiary=beneficiary,
        insurer=contract.insurer,
        approval_number=approval_ref,
        care_date=day,
        status=ClaimStatus.RECEIVED,
        total_billed=sum((p.act.billed for p in parsed), ZERO),
        total_amo=ZERO,
        total_amc=ZERO,
        total_rac=ZERO,
        content_hash=content_hash,
        duplicate_key=_duplicate_key(beneficiary.pk, day, parsed),
        disclosure_log_id=log_id,
        submitted_at=now,
    )
    if approval is not None:
        approval = PriorApproval.objects.select_for_update().get(pk=approval.pk)
        if approval.status != ApprovalStatus.OPEN:
            raise InvalidCareRequest(
                "approval_number", "cet accord a déjà été utilisé par une autre facture"
            )
    rejection: CareReason | None = None
    if not found_covered:
        rejection = CareReason.NO_RIGHTS_ON_DATE
    elif domain_of(parsed) not in contract.domains():
        rejection = CareReason.DOMAIN_NOT_OPEN
    elif (
        Claim.objects.filter(
            professional=professional,
            beneficiary=beneficiary,
            duplicate_key=claim.duplicate_key,
            status__in=[ClaimStatus.RECEIVED, ClaimStatus.ACCEPTED, ClaimStatus.PAID],
        )
        .exclude(pk=claim.pk)
        # A claim whose invoice was cancelled or rectified (corrections) no longer bills
        # the care: it may be invoiced again (its register key is freed too).
        .exclude(invoice__status__in=[InvoiceStatus.CANCELLED, InvoiceStatus.RECTIFIED])
        .exists()
    ):
        rejection = CareReason.DUPLICATE_CLAIM
    elif (
        find_billed(
            professional=professional,
            invoice_number=number,
            content_key=_billing_key(beneficiary.pk, day, parsed),
        )
        is not None
    ):
        # The same invoice already taken in a lot (the register shared by every channel).
        rejection = CareReason.DUPLICATE_CLAIM
    elif Invoice.objects.filter(professional=professional, invoice_number=number).exists():
        # The number already names an invoice of a lot (one the lot rejected: accepted ones
        # are in the register above); the money loop stores a number once.
        rejection = CareReason.DUPLICATE_CLAIM
    elif approval is not None:
        rejection = _approval_mismatch(approval, parsed, config.claim_tolerance)
    claim.adjudicated_at = now
    if rejection is not None:
        lines = _finish(claim, parsed, None, ClaimStatus.REJECTED, [rejection.value])
        if not Invoice.objects.filter(professional=professional, invoice_number=number).exists():
            _mirror(claim, parsed, lines)
        return claim
    table = guarantee_table(contract, config.tables_dir)
    claim.table_id = table.id
    exclude = (CommitmentSource.APPROVAL, approval.number) if approval else None
    history = history_for(beneficiary, care_date=day, today=today, exclude=exclude)
    result = compute_lines(parsed, table=table, age=age, care_date=day, history=history)
    splits = _splits(result, parsed, approval)
    if sum((s.amc for s in splits), ZERO) <= 0:
        lines = _finish(
            claim, parsed, splits, ClaimStatus.REJECTED, [CareReason.NOTHING_COVERED.value]
        )
        _mirror(claim, parsed, lines)
        return claim
    _mirror(claim, parsed, _finish(claim, parsed, splits, ClaimStatus.ACCEPTED, []))
    record_billed(
        professional=professional,
        invoice_number=number,
        content_key=_billing_key(beneficiary.pk, day, parsed),
        channel="claim",
        reference=f"claim:{claim.pk}",
        now=now,
    )
    commit(
        beneficiary,
        source=CommitmentSource.CLAIM,
        reference=f"claim:{claim.pk}",
        before=history,
        after=result.history_after,
        care_date=day,
        expires_on=None,
        now=now,
    )
    if approval is not None:
        release(CommitmentSource.APPROVAL, approval.number, now=now)
        approval.status = ApprovalStatus.USED
        approval.used_at = now
        approval.save(update_fields=["status", "used_at"])
        claim.approval = approval
        claim.save(update_fields=["approval"])
    return claim


def _line_key(code: str, side: str) -> tuple[str, str]:
    return (code, side)


def _approval_mismatch(
    approval: PriorApproval, parsed: list[ParsedLine], tolerance: Decimal
) -> CareReason | None:
    approved = Counter(_line_key(line.code, line.side) for line in approval.lines.all())
    invoiced = Counter(_line_key(p.act.code or "", str(p.act.side or "")) for p in parsed)
    if approved != invoiced:
        return CareReason.APPROVAL_LINES_MISMATCH
    if sum((p.act.billed for p in parsed), ZERO) > approval.total_billed + tolerance:
        return CareReason.APPROVAL_AMOUNT_EXCEEDED
    return None


def _splits(
    result: CoverageResult, parsed: list[ParsedLine], approval: PriorApproval | None
) -> list[_Split]:
    """The engine's split, with each line's AMC capped at the approved amount of the same
    line, matched by code and side (binding approval: the insurer never pays more than it
    approved)."""
    approved = (
        {_line_key(line.code, line.side): line.amc for line in approval.lines.all()}
        if approval
        else {}
    )
    splits = []
    for p, line in zip(parsed, result.lines, strict=True):
        split = _split(line)
        cap = approved.get(_line_key(p.act.code or "", str(p.act.side or "")))
        if cap is not None and split.amc > cap:
            split = _Split(
                split.amo,
                cap,
                split.rac + split.amc - cap,
                [*split.reasons, CareReason.APPROVAL_CAP.value],
            )
        splits.append(split)
    return splits


def _split(line: LineResult) -> _Split:
    return _Split(line.amo, line.amc, line.rac, [str(code) for code in line.reasons])


def _finish(
    claim: Claim,
    parsed: list[ParsedLine],
    splits: list[_Split] | None,
    status: ClaimStatus,
    reasons: list[str],
) -> list[ClaimLine]:
    if splits is None or status == ClaimStatus.REJECTED:
        splits = [
            _Split(
                p.act.amo_net,
                ZERO,
                p.act.billed - p.act.amo_net,
                (splits[i].reasons if splits else []),
            )
            for i, p in enumerate(parsed)
        ]
    claim.status = status
    claim.reasons = reasons
    claim.total_amo = sum((s.amo for s in splits), ZERO)
    claim.total_amc = sum((s.amc for s in splits), ZERO)
    claim.total_rac = sum((s.rac for s in splits), ZERO)
    claim.save()
    return ClaimLine.objects.bulk_create(
        ClaimLine(
            claim=claim,
            amo=split.amo,
            amc=split.amc,
            rac=split.rac,
            reasons=split.reasons,
            **line_fields(p, index + 1),  # type: ignore[arg-type]
        )
        for index, (p, split) in enumerate(zip(parsed, splits, strict=True))
    )


def _code_system(code: str) -> str:
    """The claim path takes LPP codes (7 digits) and dental CCAM codes (4 letters, 3
    digits): the system is told by the code's form."""
    return CodeSystem.CCAM if code[:1].isalpha() else CodeSystem.LPP


def _mirror(claim: Claim, parsed: list[ParsedLine], lines: list[ClaimLine]) -> Invoice:
    """Store the claim's ``invoices.Invoice`` (same professional, beneficiary, insurer,
    number, care date, totals and status; one ``InvoiceLine`` per claim line: code and its
    system, billed, BR, AMO rate and amount, participation forfaitaire and franchise as
    submitted, AMO/AMC/RAC as adjudicated, reasons) with its first events (received, then
    accepted with the AMC or rejected with the reason codes), and link it. The AMO regime
    fields (nature d'assurance, exonération, régimes) are not part of a claim: left empty."""
    invoice = Invoice.objects.create(
        professional_id=claim.professional_id,
        beneficiary_id=claim.beneficiary_id,
        insurer_id=claim.insurer_id,
        invoice_number=claim.invoice_number,
        care_date=claim.care_date,
        insurance_nature="",
        exemption="",
        amo_regime="",
        local_regime="",
        status=(
            InvoiceStatus.ACCEPTED
            if claim.status == ClaimStatus.ACCEPTED
            else InvoiceStatus.REJECTED
        ),
        reasons=[
            {"code": code, "line": None, "field": "", "message": CareReason(code).label}
            for code in claim.reasons
        ],
        table_id=claim.table_id,
        total_billed=claim.total_billed,
        total_amo=claim.total_amo,
        total_amc=claim.total_amc,
        total_rac=claim.total_rac,
        received_at=claim.adjudicated_at or claim.submitted_at,
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=line.position,
            code_system=_code_system(line.code),
            code=line.code,
            family=line.family,
            quantity=p.act.quantity,
            unit_price=(line.billed / p.act.quantity).quantize(Decimal("0.01")),
            billed=line.billed,
            br=line.br,
            amo_rate=_amo_rate(p, line),
            amo_paid=line.amo,
            participation_forfaitaire=p.act.participation_forfaitaire,
            franchise=p.act.franchise,
            amc=line.amc,
            rac=line.rac,
            reasons=line.reasons,
        )
        for p, line in zip(parsed, lines, strict=True)
    )
    InvoiceEvent.objects.bulk_create(
        lifecycle.adjudication_events(invoice, received_at=claim.submitted_at, acknowledged_at=None)
    )
    claim.invoice = invoice
    claim.save(update_fields=["invoice"])
    return invoice


def _amo_rate(parsed: ParsedLine, line: ClaimLine) -> Decimal:
    """The AMO rate (percent) as submitted, else the AMO share of the BR."""
    if parsed.act.amo_rate is not None:
        return parsed.act.amo_rate
    if not line.br:
        return ZERO
    return (line.amo * 100 / line.br).quantize(Decimal("0.01"))
