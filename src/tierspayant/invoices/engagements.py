"""Engagements honoured on invoices (issue 17, part 5).

An invoice may quote the engagement number a rights check v2 (IDB) or a calculation (CLC)
gave (``eligibility.models.Engagement``). It is honoured only when it is the quoting
professional's, for the invoice's beneficiary, every line's family belongs to its domain,
the invoice's care date is its own, it has not expired and no other invoice used it.
Otherwise the invoice is rejected with ``ENGAGEMENT_REFUSED`` naming the field
``engagement`` (an unknown number and another professional's get the same words: nothing
tells a forger that a number exists). A honoured engagement pays at least its engaged AMC
amount when the invoice's lines are those calculated, and guarantees the rights even if a
member file ended them after it was issued (``rights_guaranteed``, for the identification
step of lots). docs/attestations.md, "Engagements".
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from tierspayant.coverage import Family
from tierspayant.eligibility.engagements import DOMAIN_FAMILIES, engagement_digest
from tierspayant.eligibility.models import Engagement
from tierspayant.invoices.choices import InvoiceReason
from tierspayant.invoices.inputs import InvoiceInput
from tierspayant.providers.models import Professional
from tierspayant.registry.choices import Domain
from tierspayant.registry.models import Beneficiary

ZERO = Decimal("0.00")

#: Why an engagement is refused -> French words shown to the professional.
REFUSALS = {
    "unknown": "engagement inconnu ou émis pour un autre professionnel",
    "other_beneficiary": "engagement émis pour un autre bénéficiaire",
    "other_domain": "une ligne relève d'un autre domaine que celui de l'engagement",
    "other_date": "la date des soins n'est pas celle de l'engagement",
    "expired": "engagement expiré",
    "used": "engagement déjà utilisé par une autre facture",
}


class EngagementRefused(Exception):
    """The quoted engagement cannot be honoured; ``reason`` is a key of :data:`REFUSALS`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def problem(self, invoice_number: str) -> dict[str, object]:
        """The invoice's reason entry (same shape as ``services.Problem.to_dict``)."""
        code = InvoiceReason.ENGAGEMENT_REFUSED
        return {
            "code": code.value,
            "line": None,
            "field": "engagement",
            "message": f"Facture {invoice_number}, champ engagement : {code.label} "
            f"({REFUSALS[self.reason]}).",
        }


@dataclass(frozen=True, slots=True)
class Honoured:
    """An engagement accepted for an invoice: the row, and the AMC floor it guarantees
    (euros; 0 when it was a rights check alone or the lines differ from those calculated)."""

    engagement: Engagement
    floor: Decimal


def lines_digest(invoice: InvoiceInput) -> str:
    """SHA-256 (hex) of the care date and every line as stated (code, quantity, amounts,
    rates): a calculation and an invoice of the same lines have the same digest."""
    parts = [invoice.care_date.isoformat()]
    for line in invoice.lines:
        parts.append(
            "|".join(
                str(value)
                for value in (
                    line.code_system,
                    line.code,
                    line.quantity,
                    line.unit_price,
                    line.billed,
                    line.br,
                    line.amo_rate,
                    line.amo_paid,
                    line.participation_forfaitaire,
                    line.franchise,
                    line.coefficient,
                    line.sante_class,
                    line.price_limit,
                )
            )
        )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _find(number: str, professional: Professional) -> Engagement:
    found = (
        Engagement.objects.filter(number_digest=engagement_digest(number))
        .select_related(None)
        .first()
    )
    if found is None or found.professional_id != professional.pk:
        raise EngagementRefused("unknown")
    return found


def honour(
    number: str,
    *,
    professional: Professional,
    beneficiary: Beneficiary,
    invoice: InvoiceInput,
    families: tuple[Family | None, ...],
    now: dt.datetime,
) -> Honoured:
    """The engagement ``number`` checked for this invoice. Raises :class:`EngagementRefused`."""
    engagement = _find(number, professional)
    allowed = DOMAIN_FAMILIES[Domain(engagement.domain)]
    if engagement.beneficiary_id != beneficiary.pk:
        raise EngagementRefused("other_beneficiary")
    if any(family is not None and family not in allowed for family in families):
        raise EngagementRefused("other_domain")
    if engagement.care_date != invoice.care_date:
        raise EngagementRefused("other_date")
    if now >= engagement.expires_at:
        raise EngagementRefused("expired")
    if engagement.used_at is not None:
        raise EngagementRefused("used")
    same_lines = engagement.lines_digest and engagement.lines_digest == lines_digest(invoice)
    floor = engagement.amc_amount if same_lines and engagement.amc_amount is not None else ZERO
    return Honoured(engagement, floor)


def paid(
    computed_amc: Decimal, computed_rac: Decimal, honoured: Honoured | None
) -> tuple[Decimal, Decimal]:
    """(AMC, remaining cost) paid on an invoice: the engine's, raised to the engaged floor
    (the patient's remaining cost lowered by as much, never below 0)."""
    if honoured is None or honoured.floor <= computed_amc:
        return computed_amc, computed_rac
    extra = honoured.floor - computed_amc
    return honoured.floor, max(ZERO, computed_rac - extra)


def consume(honoured: Honoured, *, invoice_id: int, now: dt.datetime) -> None:
    """Mark the engagement used by invoice ``invoice_id`` (call inside the invoice's
    transaction). Raises :class:`EngagementRefused` ("used") when a concurrent invoice took
    it first: the caller's transaction is then rolled back."""
    taken = Engagement.objects.filter(pk=honoured.engagement.pk, used_at__isnull=True).update(
        used_at=now, invoice_id=invoice_id
    )
    if taken != 1:
        raise EngagementRefused("used")


def rights_guaranteed(
    number: str,
    *,
    professional: Professional,
    beneficiary: Beneficiary,
    care_date: dt.date,
    now: dt.datetime,
) -> bool:
    """True when ``number`` is an unused, unexpired engagement of ``professional`` for
    ``beneficiary`` on ``care_date``: an invoice identified as "rights ended" is still
    adjudicated under it (the identification step of lots asks this)."""
    try:
        engagement = _find(number, professional)
    except EngagementRefused:
        return False
    return (
        engagement.beneficiary_id == beneficiary.pk
        and engagement.care_date == care_date
        and now < engagement.expires_at
        and engagement.used_at is None
    )
