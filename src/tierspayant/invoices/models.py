"""Reference data (public nomenclatures, dated, with their source) and invoices of every
profession with their lines. Amounts are euros to the cent; rates are percentages."""

from __future__ import annotations

from django.db import models

from tierspayant.invoices.choices import CodeSystem, InvoiceStatus, ReferenceTableName
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary


def money_field(verbose_name: str | None = None) -> models.DecimalField:  # type: ignore[type-arg]
    """Euros to the cent, up to 9,999,999,999.99."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2)


class ReferenceTable(models.Model):
    """One loaded nomenclature: which file it was read from (``source_file``, its SHA-256),
    where that file comes from (``source``), the date its content is valid from
    (``published_on``: the publication of the copy) and when it was loaded. Reloading a
    table replaces its rows."""

    name = models.CharField("table", max_length=20, choices=ReferenceTableName.choices, unique=True)
    source_file = models.CharField("fichier source", max_length=200)
    source_sha256 = models.CharField("empreinte SHA-256 du fichier", max_length=64)
    source = models.CharField("source", max_length=400)
    published_on = models.DateField(
        "date de publication",
    )
    loaded_at = models.DateTimeField(
        "chargée le",
    )
    row_count = models.PositiveIntegerField(
        "nombre de lignes",
    )

    class Meta:
        verbose_name = "nomenclature"
        verbose_name_plural = "nomenclatures"

    def __str__(self) -> str:
        return f"{self.name} ({self.published_on.isoformat()})"


class ReferenceCode(models.Model):
    """One code of a nomenclature: label, validity (``valid_from`` / ``valid_to``
    inclusive, null when open) and the table's other useful columns in ``data`` (rate of
    a CIP13, B coefficient of a NABM act, CCAM grouping, LPP tree...)."""

    table = models.ForeignKey(
        ReferenceTable, verbose_name="table", on_delete=models.CASCADE, related_name="codes"
    )
    code = models.CharField("code", max_length=20)
    label = models.TextField(blank=True, default="")
    valid_from = models.DateField("valable du", null=True, blank=True)
    valid_to = models.DateField("valable jusqu'au", null=True, blank=True)
    data = models.JSONField("colonnes", default=dict)

    class Meta:
        verbose_name = "code de nomenclature"
        verbose_name_plural = "codes de nomenclature"
        constraints = [
            models.UniqueConstraint(fields=["table", "code"], name="referencecode_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class Invoice(models.Model):
    """An invoice of one professional for one beneficiary and one care date (or period
    ``care_date``..``care_end_date``). ``insurance_nature`` (IR_ASU_V), ``exemption``
    (IR_EXO_V), ``amo_regime`` (IR_GRG_V) and ``local_regime`` (IR_MTM_V) are nomenclature
    codes; the prescriber is named by RPPS where the care needs a prescription."""

    professional = models.ForeignKey(
        Professional,
        verbose_name="professionnel",
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT, related_name="+"
    )
    invoice_number = models.CharField("numéro de facture", max_length=40)
    care_date = models.DateField("date des soins")
    care_end_date = models.DateField("fin des soins", null=True, blank=True)
    insurance_nature = models.CharField("nature d'assurance", max_length=4)
    exemption = models.CharField("exonération", max_length=4)
    amo_regime = models.CharField("régime AMO", max_length=4)
    local_regime = models.CharField("régime local", max_length=4)
    prescriber_rpps = models.CharField(
        "RPPS du prescripteur", max_length=11, blank=True, default=""
    )
    prescription_date = models.DateField("date de prescription", null=True, blank=True)
    status = models.CharField("statut", max_length=10, choices=InvoiceStatus.choices)
    reasons = models.JSONField("motifs", default=list)
    table_id = models.CharField("tableau de garanties", max_length=60, blank=True, default="")
    total_billed = money_field("total facturé")
    total_amo = money_field("total AMO")
    total_amc = money_field("total AMC")
    total_rac = money_field("total reste à charge")
    received_at = models.DateTimeField(
        "reçue le",
    )

    class Meta:
        verbose_name = "facture (toutes professions)"
        verbose_name_plural = "factures (toutes professions)"
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["professional", "invoice_number"], name="invoice_unique_number"
            )
        ]

    def __str__(self) -> str:
        return self.invoice_number


class InvoiceLine(models.Model):
    """One line as the invoice states it (code and code system, NGAP coefficient,
    quantity, unit price, billed, BR, AMO rate, AMO amount paid, participation forfaitaire
    and franchise withheld) and the AMC share the engine gave it."""

    invoice = models.ForeignKey(
        Invoice, verbose_name="facture", on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(
        "rang",
    )
    code_system = models.CharField("système de codage", max_length=10, choices=CodeSystem.choices)
    code = models.CharField("code", max_length=20)
    family = models.CharField("famille", max_length=30)
    coefficient = models.DecimalField(
        "coefficient", max_digits=7, decimal_places=2, null=True, blank=True
    )
    quantity = models.PositiveIntegerField(
        "quantité",
    )
    unit_price = money_field("prix unitaire")
    billed = money_field("montant facturé")
    br = money_field("base de remboursement")
    amo_rate = models.DecimalField("taux AMO", max_digits=5, decimal_places=2)
    amo_paid = money_field("montant AMO")
    participation_forfaitaire = money_field()
    franchise = money_field()
    amc = money_field("part AMC")
    rac = money_field("reste à charge")
    reasons = models.JSONField("motifs", default=list)

    class Meta:
        verbose_name = "ligne de facture (toutes professions)"
        verbose_name_plural = "lignes de facture (toutes professions)"
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "position"], name="invoiceline_unique_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.code_system} {self.code}"
