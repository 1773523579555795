"""JSON API schemas (django-ninja / pydantic)."""

from __future__ import annotations

import datetime

from ninja import Schema
from pydantic import Field


class EligibilityIn(Schema):
    """A rights check: what the professional read from the card. Dates ISO ``YYYY-MM-DD``."""

    nir: str = Field(description="NIR on the card, 15 characters with key (spaces allowed)")
    birth_date: str = Field(description="Beneficiary's birth date, YYYY-MM-DD")
    rang: int | None = Field(default=None, description="Rang de naissance (1-9), for twins")
    amc_number: str | None = Field(default=None, description="Insurer's AMC number")
    care_date: str | None = Field(default=None, description="Date of care; default today")
    member_number: str | None = Field(
        default=None, description="v2 (attestation): member number; needs amc_number and domain"
    )
    convention_type: str | None = Field(default=None, description="v2: convention type")
    routing_criterion: str | None = Field(
        default=None, description="v2: secondary routing criterion"
    )
    domain: str | None = Field(
        default=None, description="v2: domain of care (pharmacy, optical, audio, dental...)"
    )


class EligibilityOut(Schema):
    """The answer: ``outcome`` is covered, not_covered, no_match or ambiguous. Identity is
    never returned; ``reference`` ties the answer to its disclosure-log row."""

    outcome: str
    care_date: datetime.date
    rights_start: datetime.date | None = None
    rights_end: datetime.date | None = None
    amc_number: str | None = None
    tiers_payant_domains: list[str] = []
    reference: int
    engagement: str | None = Field(
        default=None, description="v2, covered for the domain: the engagement number to quote"
    )
    engagement_expires_at: datetime.datetime | None = None
    domain_rules: list[dict[str, object]] = []


class ErrorOut(Schema):
    """A refused request: ``field`` names the offending input, if any; ``message`` in French."""

    code: str
    message: str
    field: str | None = None
