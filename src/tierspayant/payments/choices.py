"""Vocabularies of payment runs."""

from django.db import models


class HoldReason(models.TextChoices):
    """Why a professional's accepted invoices were not paid by a run (they stay accepted and
    are paid by a later run once the reason is gone)."""

    BANK_CHANGE_PENDING = (
        "bank_change_pending",
        "Changement de coordonnées bancaires en cours (paiements retenus)",
    )
    NO_BANK_ACCOUNT = "no_bank_account", "Aucun compte bancaire validé"
    INVALID_BANK_DETAILS = (
        "invalid_bank_details",
        "Coordonnées bancaires inutilisables dans un virement SEPA (à corriger)",
    )
    BANK_RETURNED = (
        "bank_returned",
        "Virement retourné ou rejeté par la banque (nouvelles coordonnées à valider)",
    )


class ReturnKind(models.TextChoices):
    """How a transfer came back: returned by the creditor's bank (camt.054, ``RtrInf``) or
    rejected before execution (pain.002, ``RJCT``)."""

    RETURNED = "returned", "Retourné par la banque du bénéficiaire"
    REJECTED = "rejected", "Rejeté par la banque"
