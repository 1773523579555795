"""Each insurer's funding mode, and what each payment run settled with each insurer.

The insurer's IBAN is stored only as an AES-256-GCM ciphertext bound to its row (like a
professional's ``providers.BankAccount``: ``crypto.fields``); ``iban_masked`` is what pages
show (``FR76 … 0143``)."""

from __future__ import annotations

from django.db import models

from tierspayant.crypto.fields import decrypt_field
from tierspayant.crypto.keys import KeySet
from tierspayant.invoices.models import money_field
from tierspayant.payments.models import PaymentRun
from tierspayant.registry.models import Insurer
from tierspayant.settlement.choices import FundingMode

#: Days between an invoice's acceptance and its payment an insurer commits to by default.
DEFAULT_PAYMENT_DELAY_DAYS = 7


class InsurerFunding(models.Model):
    """How an insurer funds its runs (:class:`FundingMode`), from which account (holder
    name, IBAN encrypted, BIC), under which SEPA direct-debit mandate (id and signature date,
    ``direct_debit`` only), and the payment delay it commits to (days from an invoice's
    acceptance to its payment)."""

    TABLE = "settlement_insurerfunding"

    insurer = models.OneToOneField(
        Insurer,
        verbose_name="organisme complémentaire",
        on_delete=models.PROTECT,
        related_name="funding",
    )
    mode = models.CharField("mode de financement", max_length=20, choices=FundingMode.choices)
    account_name = models.CharField("titulaire du compte", max_length=70)
    iban_ciphertext = models.TextField("IBAN (chiffré)", editable=False)
    iban_masked = models.CharField("IBAN (masqué)", max_length=40, editable=False)
    bic = models.CharField("BIC", max_length=11)
    mandate_id = models.CharField("référence du mandat", max_length=35, blank=True, default="")
    mandate_date = models.DateField("date de signature du mandat", null=True, blank=True)
    payment_delay_days = models.PositiveSmallIntegerField(
        "délai de paiement (jours)",
        default=DEFAULT_PAYMENT_DELAY_DAYS,
        help_text="Jours entre l'acceptation d'une facture et son paiement, engagement de "
        "l'organisme.",
    )
    updated_at = models.DateTimeField("modifié le")

    class Meta:
        verbose_name = "financement d'un organisme"
        verbose_name_plural = "financements des organismes"
        ordering = ["insurer__name"]

    def __str__(self) -> str:
        return f"{self.insurer.amc_number} : {self.get_mode_display()}"

    def iban(self, keys: KeySet) -> str:
        """Decrypt the IBAN (payment runs only). Raises ``crypto.fields.DecryptionError``."""
        return decrypt_field(
            keys,
            self.iban_ciphertext,
            table=self.TABLE,
            column="iban",
            row_id=str(self.insurer_id),
        )


class InsurerSettlement(models.Model):
    """What one run settled with one insurer: its files in the run's directory (names
    relative to it, SHA-256 of their bytes; ``debit_name`` empty unless the insurer is
    debited), the funding mode at the time, and the totals in euros: ``paid_total`` (the
    ``paid`` lines), ``recovered_total`` (overpayments netted in this run), ``net_total``
    (paid - recovered: what the insurer funds), ``control_sum`` (of the insurer's pain.001
    file: equals ``net_total``), line counts per kind and ``totals_by_domain``
    ({domain value: euros as text} of the paid lines)."""

    run = models.ForeignKey(
        PaymentRun,
        verbose_name="campagne de paiement",
        on_delete=models.PROTECT,
        related_name="settlements",
    )
    insurer = models.ForeignKey(
        Insurer,
        verbose_name="organisme complémentaire",
        on_delete=models.PROTECT,
        related_name="settlements",
    )
    created_at = models.DateTimeField("créé le")
    funding_mode = models.CharField(
        "mode de financement", max_length=20, choices=FundingMode.choices, blank=True
    )
    export_name = models.CharField("export de règlement (CSV)", max_length=100)
    export_sha256 = models.CharField("empreinte SHA-256 de l'export", max_length=64)
    notice_name = models.CharField("avis de règlement (PDF)", max_length=100)
    notice_sha256 = models.CharField("empreinte SHA-256 de l'avis", max_length=64)
    debit_name = models.CharField("prélèvement SEPA (pain.008)", max_length=100, blank=True)
    debit_sha256 = models.CharField("empreinte SHA-256 du prélèvement", max_length=64, blank=True)
    paid_total = money_field("total payé")
    recovered_total = money_field("total des indus récupérés")
    net_total = money_field("total net")
    control_sum = money_field("somme de contrôle des virements")
    transfer_count = models.PositiveIntegerField("nombre de virements")
    paid_count = models.PositiveIntegerField("factures payées")
    rejected_count = models.PositiveIntegerField("factures rejetées")
    cancelled_count = models.PositiveIntegerField("factures annulées")
    recovered_count = models.PositiveIntegerField("indus récupérés")
    totals_by_domain = models.JSONField("totaux payés par domaine", default=dict)

    class Meta:
        verbose_name = "règlement d'un organisme"
        verbose_name_plural = "règlements des organismes"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "insurer"], name="settlement_unique_insurer")
        ]

    def __str__(self) -> str:
        return f"{self.run.reference} {self.insurer.amc_number}"
