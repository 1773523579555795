"""Vocabularies of the insurers' settlement."""

from django.db import models


class FundingMode(models.TextChoices):
    """How an insurer funds the transfers a run makes on its behalf (issue 16 part 6).
    ``direct_debit``: the operator pays from its own account and collects the insurer's run
    total by SEPA direct debit (pain.008, creditor = the operator, debtor = the insurer's
    account under its mandate). ``own_account``: the insurer's transfers are paid from the
    insurer's own account (its pain.001 names it as debtor)."""

    DIRECT_DEBIT = "direct_debit", "Prélèvement SEPA de l'organisme par l'opérateur"
    OWN_ACCOUNT = "own_account", "Virements depuis le compte de l'organisme"


class SettlementLineKind(models.TextChoices):
    """The kinds of line a settlement export carries (the ``InvoiceEvent`` kinds of the same
    name)."""

    PAID = "paid", "Payée"
    REJECTED = "rejected", "Rejetée"
    CANCELLED = "cancelled", "Annulée"
    RECOVERED = "recovered", "Indu récupéré"
