"""Payment runs and what they produced. An invoice (``invoices.Invoice``: lots and claims
alike) is paid at most once: a ``TransferLine`` not returned is unique per invoice, so a
second run (or a concurrent one) cannot pay it again; a transfer the bank returned releases
its lines (``returned``) and its invoices are paid again by a later run, once."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tierspayant.invoices.models import Invoice, money_field
from tierspayant.payments.choices import HoldReason, ReturnKind
from tierspayant.providers.models import BankAccount, Professional
from tierspayant.registry.models import Insurer


class PaymentRun(models.Model):
    """One run: when, the requested execution date of the transfers, where its files are
    (``directory``, absolute), how many transfers and invoices (``claim_count``: invoices of
    every channel), and the total transferred in euros (net of overpayments recovered)."""

    reference = models.CharField("référence", max_length=40, unique=True)
    created_at = models.DateTimeField("créée le")
    execution_date = models.DateField("date d'exécution")
    directory = models.CharField("répertoire", max_length=500)
    transfer_count = models.PositiveIntegerField("nombre de virements", default=0)
    claim_count = models.PositiveIntegerField("nombre de factures", default=0)
    total = money_field("total")

    class Meta:
        verbose_name = "campagne de paiement"
        verbose_name_plural = "campagnes de paiement"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.reference


class SepaFile(models.Model):
    """The pain.001.001.09 file of one insurer in a run (file name relative to the run's
    directory, SHA-256 of its bytes, message id, number of transactions, control sum)."""

    run = models.ForeignKey(
        PaymentRun,
        verbose_name="campagne de paiement",
        on_delete=models.PROTECT,
        related_name="sepa_files",
    )
    insurer = models.ForeignKey(
        Insurer, verbose_name="organisme complémentaire", on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField("nom du fichier", max_length=100)
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    message_id = models.CharField("identifiant du message", max_length=35)
    transaction_count = models.PositiveIntegerField("nombre d'opérations")
    control_sum = money_field("somme de contrôle")

    class Meta:
        verbose_name = "fichier de virements SEPA"
        verbose_name_plural = "fichiers de virements SEPA"

    def __str__(self) -> str:
        return self.file_name


class Transfer(models.Model):
    """One credit transfer: an insurer pays a professional the AMC of their invoices, net of
    the overpayments recovered (``amount`` > 0), to the bank account in force at the run
    (masked IBAN kept for the record)."""

    run = models.ForeignKey(
        PaymentRun,
        verbose_name="campagne de paiement",
        on_delete=models.PROTECT,
        related_name="transfers",
    )
    insurer = models.ForeignKey(
        Insurer, verbose_name="organisme complémentaire", on_delete=models.PROTECT, related_name="+"
    )
    professional = models.ForeignKey(
        Professional,
        verbose_name="professionnel de santé",
        on_delete=models.PROTECT,
        related_name="transfers",
    )
    bank_account = models.ForeignKey(
        BankAccount, verbose_name="compte bancaire", on_delete=models.PROTECT, related_name="+"
    )
    end_to_end_id = models.CharField("référence de bout en bout", max_length=35, unique=True)
    amount = money_field("montant")
    returned_at = models.DateTimeField("retourné le", null=True, blank=True)
    return_reason = models.CharField("motif du retour (code ISO)", max_length=4, blank=True)

    class Meta:
        verbose_name = "virement"
        verbose_name_plural = "virements"

    def __str__(self) -> str:
        return self.end_to_end_id


class TransferLine(models.Model):
    """An invoice paid by a run, for its AMC (``amount``, euros). ``transfer`` is the credit
    transfer that carried the money, or None when the run paid the invoice wholly by netting
    it against the professional's overpayments to that insurer (no money moved; issue 16
    part 4). Unique per invoice among lines not ``returned``: the guarantee against paying
    twice (a returned transfer's lines are released, so a later run pays the invoice once
    more, and only once)."""

    run = models.ForeignKey(
        PaymentRun,
        verbose_name="campagne de paiement",
        on_delete=models.PROTECT,
        related_name="lines",
    )
    transfer = models.ForeignKey(
        Transfer,
        verbose_name="virement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
    )
    invoice = models.ForeignKey(
        Invoice, verbose_name="facture", on_delete=models.PROTECT, related_name="transfer_lines"
    )
    amount = money_field("montant")
    returned = models.BooleanField("virement retourné", default=False)

    class Meta:
        verbose_name = "facture payée"
        verbose_name_plural = "factures payées"
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(returned=False),
                name="transfer_line_invoice_paid_once",
            )
        ]

    def __str__(self) -> str:
        return f"facture {self.invoice_id}"


class Statement(models.Model):
    """A professional's remittance statement for a run: a PDF and a CSV in the run's
    directory (names relative to it), with their SHA-256; ``total``: what the run
    transferred (AMC of the invoices paid less the overpayments recovered, euros, >= 0);
    ``recovered``: the overpayments recovered (euros, >= 0); ``claim_count``: invoices
    paid."""

    run = models.ForeignKey(
        PaymentRun,
        verbose_name="campagne de paiement",
        on_delete=models.PROTECT,
        related_name="statements",
    )
    professional = models.ForeignKey(
        Professional,
        verbose_name="professionnel de santé",
        on_delete=models.PROTECT,
        related_name="statements",
    )
    pdf_name = models.CharField("fichier PDF", max_length=100)
    csv_name = models.CharField("fichier CSV", max_length=100)
    pdf_sha256 = models.CharField("empreinte SHA-256 du PDF", max_length=64)
    total = money_field("total")
    recovered = models.DecimalField("indus récupérés", max_digits=12, decimal_places=2, default=0)
    claim_count = models.PositiveIntegerField("nombre de factures")

    class Meta:
        verbose_name = "relevé de paiement"
        verbose_name_plural = "relevés de paiement"
        ordering = ["-run__created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "professional"], name="statement_unique")
        ]

    def __str__(self) -> str:
        return self.pdf_name


class HeldPayment(models.Model):
    """Accepted invoices of a professional a run did not pay, and why."""

    run = models.ForeignKey(
        PaymentRun,
        verbose_name="campagne de paiement",
        on_delete=models.PROTECT,
        related_name="held",
    )
    professional = models.ForeignKey(
        Professional,
        verbose_name="professionnel de santé",
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField("motif", max_length=30, choices=HoldReason.choices)
    claim_count = models.PositiveIntegerField("nombre de factures")
    amount = money_field("montant")

    class Meta:
        verbose_name = "paiement retenu"
        verbose_name_plural = "paiements retenus"

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.claim_count} factures)"


class BankReturnFile(models.Model):
    """A camt.054 or pain.002 file imported (``payments.bank_returns``): its name, SHA-256
    (unique: the same file is never imported twice), message type and id, when, by whom
    (None: the command line), from where, and how many transfers it returned."""

    file_name = models.CharField("nom du fichier", max_length=200)
    sha256 = models.CharField("empreinte SHA-256", max_length=64, unique=True)
    message_type = models.CharField("type de message", max_length=10)
    message_id = models.CharField("identifiant du message", max_length=35)
    imported_at = models.DateTimeField("importé le")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="importé par",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField("origine", max_length=10)
    transfer_count = models.PositiveIntegerField("nombre de virements retournés")

    class Meta:
        verbose_name = "fichier de retours bancaires"
        verbose_name_plural = "fichiers de retours bancaires"
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return self.file_name


class BankReturn(models.Model):
    """One transfer returned or rejected by the bank, from one imported file: the ISO reason
    code (e.g. ``AC04`` account closed, ``AC01`` wrong account number) and the amount."""

    file = models.ForeignKey(
        BankReturnFile,
        verbose_name="fichier de retours bancaires",
        on_delete=models.PROTECT,
        related_name="returns",
    )
    transfer = models.OneToOneField(
        Transfer, verbose_name="virement", on_delete=models.PROTECT, related_name="bank_return"
    )
    kind = models.CharField("type de retour", max_length=10, choices=ReturnKind.choices)
    reason_code = models.CharField("motif (code ISO)", max_length=4, blank=True)
    amount = money_field("montant")

    class Meta:
        verbose_name = "retour bancaire"
        verbose_name_plural = "retours bancaires"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} : {self.transfer_id}"
