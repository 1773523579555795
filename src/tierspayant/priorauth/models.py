"""Prior approvals (PEC), their lines, and the commitments that hold a beneficiary's
ceilings and renewal periods.

Amounts are euros (``DecimalField``, two decimals). An approval names the beneficiary by
internal id only; the identity the professional typed is never stored here.
"""

from __future__ import annotations

import datetime

from django.db import models

from tierspayant.invoices.models import money_field
from tierspayant.priorauth.choices import ApprovalStatus, CommitmentSource, Decision
from tierspayant.providers.models import Professional
from tierspayant.registry.choices import Domain
from tierspayant.registry.models import Beneficiary, Insurer


class CareLine(models.Model):
    """Fields shared by the lines of a quote and of an invoice: what was billed and how the
    coverage engine split it (``amo + amc + rac == billed``), with its reason codes."""

    position = models.PositiveSmallIntegerField("n° de ligne")
    code = models.CharField("code LPP", max_length=13)
    family = models.CharField("famille", max_length=30)
    sante_class = models.CharField("classe", max_length=12, blank=True, default="")
    lens_complexity = models.CharField(
        "complexité des verres", max_length=15, blank=True, default=""
    )
    side = models.CharField("côté", max_length=5, blank=True, default="")
    label = models.CharField("libellé", max_length=200, blank=True, default="")
    billed = money_field("montant facturé")
    br = money_field("base de remboursement")
    amo = money_field("part AMO")
    amc = money_field("part AMC")
    rac = money_field("reste à charge")
    reasons = models.JSONField("motifs", default=list)

    class Meta:
        abstract = True
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.position}. {self.code}"


class PriorApproval(models.Model):
    """A decided quote (devis). ``number`` is the approval number given to the professional;
    ``expires_on`` the last day an invoice may use it. ``decision`` never changes; ``status``
    goes open -> used (one invoice) or cancelled. ``disclosure_log_id`` is the disclosure-log
    row of the rights check that identified the beneficiary."""

    number = models.CharField("numéro d'accord", max_length=20, unique=True)
    professional = models.ForeignKey(
        Professional,
        verbose_name="professionnel de santé",
        on_delete=models.PROTECT,
        related_name="prior_approvals",
    )
    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT, related_name="+"
    )
    insurer = models.ForeignKey(
        Insurer, verbose_name="organisme complémentaire", on_delete=models.PROTECT, related_name="+"
    )
    domain = models.CharField("domaine", max_length=20, choices=Domain.choices)
    quote_reference = models.CharField("référence du devis", max_length=40, blank=True)
    planned_date = models.DateField("date prévue des soins")
    created_at = models.DateTimeField("créé le")
    expires_on = models.DateField("valable jusqu'au")
    decision = models.CharField("décision", max_length=10, choices=Decision.choices)
    status = models.CharField("statut", max_length=10, choices=ApprovalStatus.choices)
    reasons = models.JSONField("motifs", default=list)
    total_billed = money_field("total facturé")
    total_amo = money_field("total AMO")
    total_amc = money_field("total AMC")
    total_rac = money_field("total reste à charge")
    table_id = models.CharField("table de garanties", max_length=60, blank=True, default="")
    disclosure_log_id = models.BigIntegerField(
        "ligne du journal des divulgations", null=True, blank=True
    )
    cancelled_at = models.DateTimeField("annulé le", null=True, blank=True)
    used_at = models.DateTimeField("utilisé le", null=True, blank=True)
    prescription = models.JSONField(
        "ordonnance",
        default=dict,
        blank=True,
        help_text="Prescripteur (RPPS), date, correction par œil ou date de l'audiogramme.",
    )

    class Meta:
        verbose_name = "accord de prise en charge"
        verbose_name_plural = "accords de prise en charge"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["professional", "-created_at"])]

    def __str__(self) -> str:
        return self.number

    def is_expired(self, today: datetime.date) -> bool:
        """True once ``today`` is past the last day of validity."""
        return today > self.expires_on

    def usable(self, today: datetime.date) -> bool:
        """Open, not refused, not expired: an invoice may still use it."""
        return (
            self.status == ApprovalStatus.OPEN
            and self.decision != Decision.REFUSED
            and not self.is_expired(today)
        )


class PriorApprovalLine(CareLine):
    """One line of a quote, with the AMC amount the insurer commits to."""

    approval = models.ForeignKey(
        PriorApproval,
        verbose_name="accord de prise en charge",
        on_delete=models.CASCADE,
        related_name="lines",
    )

    class Meta(CareLine.Meta):
        verbose_name = "ligne de devis"
        verbose_name_plural = "lignes de devis"


class Commitment(models.Model):
    """What an approval or an accepted claim consumed of one beneficiary's benefit year:
    euros per ceiling id, acts per ceiling id, devices bought (renewal periods). Summing the
    active commitments gives the engine's ``History`` for the next quote or invoice, so two
    approvals cannot spend the same ceiling. Released when the approval is cancelled or used
    (the invoice's own commitment takes over); an approval's lapses with ``expires_on``."""

    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT, related_name="+"
    )
    benefit_year = models.PositiveSmallIntegerField("année de prestations")
    source = models.CharField("origine", max_length=10, choices=CommitmentSource.choices)
    reference = models.CharField("référence", max_length=60)
    ceilings_used = models.JSONField("plafonds consommés", default=dict)
    counts_used = models.JSONField("actes consommés", default=dict)
    equipment = models.JSONField("équipements", default=list)
    expires_on = models.DateField("expire le", null=True, blank=True)
    created_at = models.DateTimeField("créé le")
    released_at = models.DateTimeField("libéré le", null=True, blank=True)

    class Meta:
        verbose_name = "engagement de plafond"
        verbose_name_plural = "engagements de plafond"
        indexes = [models.Index(fields=["beneficiary", "released_at"])]
        constraints = [
            models.UniqueConstraint(fields=["source", "reference"], name="commitment_unique_source")
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.reference}"
