"""Engagements: what a positive rights check v2 (IDB) or a calculation (CLC) guarantees.

An engagement is an opaque number handed to the professional once; only its SHA-256 is
stored (a copy of the database gives no usable number). It is bound to the professional,
the beneficiary, the domain and the care date, expires, and pays one invoice at most
(``invoices.engagements``). A calculation adds the AMC amount guaranteed and the
fingerprint of the lines it was computed for. docs/attestations.md, "Engagements".
"""

from __future__ import annotations

from django.db import models

from tierspayant.providers.models import Professional
from tierspayant.registry.choices import Domain
from tierspayant.registry.models import Beneficiary


class Engagement(models.Model):
    """One engagement. ``number_digest``: SHA-256 (hex) of the number given; ``expires_at``
    (UTC): no invoice is honoured under it after; ``amc_amount`` (euros, None for a rights
    check alone) and ``lines_digest`` (SHA-256 of the calculated lines) come from a CLC;
    ``used_at`` / ``invoice_id`` are set when an invoice consumed it (once)."""

    number_digest = models.CharField("empreinte du numéro", max_length=64, unique=True)
    professional = models.ForeignKey(
        Professional, verbose_name="professionnel", on_delete=models.PROTECT, related_name="+"
    )
    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT, related_name="+"
    )
    domain = models.CharField("domaine", max_length=20, choices=Domain.choices)
    care_date = models.DateField("date des soins")
    issued_at = models.DateTimeField("émis le")
    expires_at = models.DateTimeField("expire le")
    disclosure_id = models.BigIntegerField("ligne du journal des communications")
    amc_amount = models.DecimalField(
        "montant AMC engagé", max_digits=12, decimal_places=2, null=True, blank=True
    )
    lines_digest = models.CharField("empreinte des lignes calculées", max_length=64, blank=True)
    used_at = models.DateTimeField("utilisé le", null=True, blank=True)
    invoice_id = models.BigIntegerField("facture payée sous l'engagement", null=True, blank=True)

    class Meta:
        verbose_name = "engagement de paiement"
        verbose_name_plural = "engagements de paiement"

    def __str__(self) -> str:
        return f"engagement {self.pk}"
