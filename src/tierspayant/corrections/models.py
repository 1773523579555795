"""The overpayment ledger: per professional and insurer, what the professional owes back.
Amounts in euros; an overpayment is positive, what recovers it negative; the balance is the
sum. Entries are appended, never changed."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tierspayant.corrections.choices import LedgerEntryKind
from tierspayant.invoices.models import Invoice, money_field
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Insurer


class LedgerEntry(models.Model):
    """One movement of a professional's overpayment balance with one insurer: the invoice it
    concerns, the signed amount (euros; overpayment > 0, netted or written off < 0), the
    payment run that netted it (``run_reference``), who and why (``reason``, without personal
    data), when (UTC)."""

    professional = models.ForeignKey(
        Professional, verbose_name="professionnel", on_delete=models.PROTECT, related_name="+"
    )
    insurer = models.ForeignKey(
        Insurer, verbose_name="organisme complémentaire", on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.ForeignKey(
        Invoice, verbose_name="facture", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    kind = models.CharField("mouvement", max_length=12, choices=LedgerEntryKind.choices)
    amount = money_field("montant")
    run_reference = models.CharField("campagne de paiement", max_length=40, blank=True, default="")
    reason = models.CharField("motif", max_length=300, blank=True, default="")
    at = models.DateTimeField("le")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="par",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "mouvement d'indu"
        verbose_name_plural = "mouvements d'indus"
        ordering = ["id"]
        indexes = [models.Index(fields=["professional", "insurer"])]
        permissions = [
            ("decide_dispute", "Peut décider des contestations de factures"),
            ("write_off", "Peut abandonner un indu"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} €"
