"""Read queries on claims, within one professional's own objects (another's id: not found)."""

from __future__ import annotations

from django.db.models import QuerySet

from tierspayant.claims.models import Claim
from tierspayant.providers.models import Professional


def claims_of(professional: Professional) -> QuerySet[Claim]:
    """The professional's claims, newest first, with their insurer and invoice."""
    return Claim.objects.filter(professional=professional).select_related("insurer", "invoice")


def claim_of(professional: Professional, pk: int) -> Claim:
    """One of the professional's claims with its lines; ``Claim.DoesNotExist`` otherwise."""
    return claims_of(professional).prefetch_related("lines").get(pk=pk)
