"""Claims (invoices) and their lines. Amounts in euros; the beneficiary by internal id."""

from __future__ import annotations

from django.db import models

from tierspayant.claims.choices import ClaimStatus
from tierspayant.invoices.models import Invoice, money_field
from tierspayant.priorauth.models import CareLine, PriorApproval
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary, Insurer


class Claim(models.Model):
    """An invoice. ``invoice_number`` is the professional's own (unique per professional:
    resubmitting it is idempotent); ``content_hash`` fingerprints what was submitted (care
    date, lines, approval number; no identity) to tell a resubmission from a reuse;
    ``duplicate_key`` (beneficiary, date, codes and amounts) finds the same care invoiced
    twice. ``approval`` is set only when the approval was used (accepted claims).
    ``invoice`` is the ``invoices.Invoice`` mirroring it in the money loop (issue 16): payment
    runs, returns and corrections see a claim only through it; ``status`` and ``paid_at``
    are kept in step by the payment run and bank returns. Null for claims adjudicated
    before the money loop and for a claim whose number a lot invoice already holds."""

    professional = models.ForeignKey(
        Professional,
        verbose_name="professionnel de santé",
        on_delete=models.PROTECT,
        related_name="claims",
    )
    invoice_number = models.CharField("numéro de facture", max_length=40)
    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT, related_name="+"
    )
    insurer = models.ForeignKey(
        Insurer, verbose_name="organisme complémentaire", on_delete=models.PROTECT, related_name="+"
    )
    approval = models.OneToOneField(
        PriorApproval,
        verbose_name="accord de prise en charge",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claim",
    )
    approval_number = models.CharField("numéro d'accord", max_length=20, blank=True, default="")
    care_date = models.DateField("date des soins")
    status = models.CharField("statut", max_length=10, choices=ClaimStatus.choices)
    reasons = models.JSONField("motifs", default=list)
    total_billed = money_field("total facturé")
    total_amo = money_field("total AMO")
    total_amc = money_field("total AMC")
    total_rac = money_field("total reste à charge")
    content_hash = models.CharField("empreinte du contenu", max_length=64)
    duplicate_key = models.CharField("clé de doublon", max_length=64, db_index=True)
    table_id = models.CharField("table de garanties", max_length=60, blank=True, default="")
    disclosure_log_id = models.BigIntegerField(
        "ligne du journal des divulgations", null=True, blank=True
    )
    submitted_at = models.DateTimeField("reçue le")
    adjudicated_at = models.DateTimeField("traitée le", null=True, blank=True)
    paid_at = models.DateTimeField("payée le", null=True, blank=True)
    invoice = models.OneToOneField(
        Invoice,
        verbose_name="facture (circuit de paiement)",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claim",
        help_text="La facture du circuit de paiement qui reflète cette demande : les campagnes "
        "de paiement, les retours et les corrections la voient par elle.",
    )

    class Meta:
        verbose_name = "facture"
        verbose_name_plural = "factures"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["professional", "invoice_number"], name="claim_unique_invoice_number"
            )
        ]
        indexes = [models.Index(fields=["status", "professional", "insurer"])]

    def __str__(self) -> str:
        return self.invoice_number

    @property
    def patient_reference(self) -> str:
        """What statements show instead of an identity: the approval number when there is
        one, else the invoice number."""
        return self.approval_number or self.invoice_number

    @property
    def state_label(self) -> str:
        """The state the professional sees: its invoice's (the money loop's: cancelled,
        rectified, disputed are known there only) when it has one, else its own status."""
        if self.invoice is not None:
            return self.invoice.get_status_display()
        return self.get_status_display()


class ClaimLine(CareLine):
    """One invoiced line and its adjudicated split."""

    claim = models.ForeignKey(
        Claim, verbose_name="facture", on_delete=models.CASCADE, related_name="lines"
    )

    class Meta(CareLine.Meta):
        verbose_name = "ligne de facture"
        verbose_name_plural = "lignes de facture"
