"""Prior approvals (PEC), their lines, and the commitments that hold a beneficiary's
ceilings and renewal periods.

Amounts are euros (``DecimalField``, two decimals). An approval names the beneficiary by
internal id only; the identity the professional typed is never stored here.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models

from tierspayant.invoices.models import money_field
from tierspayant.priorauth.choices import (
    ApprovalKind,
    ApprovalStatus,
    CommitmentSource,
    Decision,
    ReviewReason,
)
from tierspayant.providers.models import Professional
from tierspayant.registry.choices import Domain
from tierspayant.registry.models import Beneficiary, Contract, Insurer


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
    ``expires_on`` the last day an invoice may use it. ``kind`` estimate (not binding, never
    usable) or approval. ``decision`` changes once, from pending to what staff decided
    (``decided_at``/``decided_by``/``decision_note``; ``proposed_decision`` is the engine's
    answer held while pending, empty when it could not be computed); ``review_reason`` and
    ``review_deadline`` (UTC) say why and until when it waits; ``notified_at`` when the
    professional was told; ``age`` the beneficiary's whole years on the planned date (to
    compute a degraded approval again when staff decide it). ``status`` goes open -> used
    (one invoice) or cancelled.
    ``disclosure_log_id`` is the disclosure-log row of the rights check that identified the
    beneficiary."""

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
    kind = models.CharField(
        "nature", max_length=10, choices=ApprovalKind.choices, default=ApprovalKind.APPROVAL
    )
    proposed_decision = models.CharField(
        "décision calculée", max_length=10, choices=Decision.choices, blank=True, default=""
    )
    review_reason = models.CharField(
        "motif d'examen", max_length=20, choices=ReviewReason.choices, blank=True, default=""
    )
    review_deadline = models.DateTimeField("échéance d'examen", null=True, blank=True)
    decided_at = models.DateTimeField("décidé le", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="décidé par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_note = models.CharField("motif de la décision", max_length=500, blank=True)
    notified_at = models.DateTimeField("professionnel informé le", null=True, blank=True)
    age = models.PositiveSmallIntegerField("âge à la date des soins", null=True, blank=True)

    class Meta:
        verbose_name = "accord de prise en charge"
        verbose_name_plural = "accords de prise en charge"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["professional", "-created_at"]),
            models.Index(fields=["decision", "review_deadline"]),
        ]
        permissions = [("decide_priorapproval", "Peut décider un accord en attente d'examen")]

    def __str__(self) -> str:
        return self.number

    def is_expired(self, today: datetime.date) -> bool:
        """True once ``today`` is past the last day of validity."""
        return today > self.expires_on

    def usable(self, today: datetime.date) -> bool:
        """A binding approval, open, decided (not refused nor pending), not expired: an
        invoice may still use it."""
        return (
            self.kind == ApprovalKind.APPROVAL
            and self.status == ApprovalStatus.OPEN
            and self.decision not in (Decision.REFUSED, Decision.PENDING)
            and not self.is_expired(today)
        )

    @property
    def pending(self) -> bool:
        """Waiting for the insurer's review."""
        return self.decision == Decision.PENDING


class PriorApprovalLine(CareLine):
    """One line of a quote, with the AMC amount the insurer commits to."""

    approval = models.ForeignKey(
        PriorApproval,
        verbose_name="accord de prise en charge",
        on_delete=models.CASCADE,
        related_name="lines",
    )

    tooth = models.CharField("dent (FDI)", max_length=2, blank=True, default="")
    price_limit = models.DecimalField(
        "prix limite", max_digits=12, decimal_places=2, null=True, blank=True
    )
    alternative = models.JSONField("alternative sans reste à charge", null=True, blank=True)

    class Meta(CareLine.Meta):
        verbose_name = "ligne de devis"
        verbose_name_plural = "lignes de devis"


class ReviewRule(models.Model):
    """When an insurer wants to review an approval before it binds (issue 15 part 5): on one
    contract (``contract``) or all the insurer's (empty), for one domain or all (empty).
    ``amount_above``: total billed in euros above which the approval waits;
    ``second_within_days``: a second approval of the same domain for the same beneficiary
    within that many days (decided or pending, not cancelled) waits; ``review_days``: days
    the insurer gives itself to decide (the deadline shown to the professional and staff)."""

    insurer = models.ForeignKey(
        Insurer,
        verbose_name="organisme complémentaire",
        on_delete=models.CASCADE,
        related_name="+",
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name="contrat",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    domain = models.CharField("domaine", max_length=20, choices=Domain.choices, blank=True)
    amount_above = models.DecimalField(
        "examen au-delà de (euros)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    second_within_days = models.PositiveSmallIntegerField(
        "examen d'un deuxième équipement dans les (jours)", null=True, blank=True
    )
    review_days = models.PositiveSmallIntegerField("délai d'examen (jours)", default=2)

    class Meta:
        verbose_name = "règle d'examen des accords"
        verbose_name_plural = "règles d'examen des accords"
        ordering = ["insurer", "id"]

    def __str__(self) -> str:
        return f"Règle d'examen n° {self.pk}"


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
