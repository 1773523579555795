"""Controlled vocabularies of corrections and the overpayment ledger."""

from __future__ import annotations

from django.db import models


class LedgerEntryKind(models.TextChoices):
    """One movement of the overpayment ledger (issue 16 part 4). overpayment: money paid on
    an invoice later cancelled or rectified, owed back by the professional (positive);
    netted: recovered by a payment run as a negative statement line (negative);
    written_off: staff gave up recovering it, with a reason (negative)."""

    OVERPAYMENT = "overpayment", "Indu"
    NETTED = "netted", "Récupéré sur un paiement"
    WRITTEN_OFF = "written_off", "Abandonné"
