"""Vocabularies of claims. Reason codes are shared with approvals
(``priorauth.choices.CareReason``) and the coverage engine (``coverage.ReasonCode``)."""

from django.db import models


class ClaimStatus(models.TextChoices):
    """received -> accepted or rejected (reason codes) -> paid (by a payment run)."""

    RECEIVED = "received", "Reçue"
    ACCEPTED = "accepted", "Acceptée"
    REJECTED = "rejected", "Rejetée"
    PAID = "paid", "Payée"
