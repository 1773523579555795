"""Reference data (public nomenclatures, dated, with their source) and invoices of every
profession with their lines. Amounts are euros to the cent; rates are percentages."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tierspayant.invoices.choices import (
    ActorKind,
    CodeSystem,
    EntryStatus,
    InvoiceEventKind,
    InvoiceStatus,
    LotFormat,
    LotStatus,
    ReferenceTableName,
)
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary, Insurer


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
    insurer = models.ForeignKey(
        Insurer,
        verbose_name="organisme complémentaire",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="L'organisme du contrat du bénéficiaire, qui paie la part AMC.",
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
    lot = models.ForeignKey(
        "Lot",
        verbose_name="lot",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
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
        indexes = [models.Index(fields=["status", "insurer", "professional"])]

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


class InvoiceEventQuerySet(models.QuerySet["InvoiceEvent"]):
    """Events are appended, never changed: bulk updates and deletes are refused."""

    def update(self, **kwargs: object) -> int:
        raise TypeError("Les événements d'une facture ne se modifient pas.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Les événements d'une facture ne se suppriment pas.")


class InvoiceEvent(models.Model):
    """One thing that happened to an invoice (issue 16 part 1), appended by
    ``invoices.lifecycle`` and never changed: the invoice's state is derived from them.
    ``id`` orders them and is the cursor practice software polls with (``_since``).
    ``professional`` and ``insurer`` repeat the invoice's, for per-professional polling and
    per-insurer exports. ``amount`` (euros) is the AMC concerned: accepted, paid, returned,
    cancelled or recovered. ``reference``: the transfer's end-to-end id (paid,
    payment_returned), the payment run (recovered) or the replacement's number (rectified).
    ``value_date``: the transfer's execution date (paid). ``deadline``: last day of a
    dispute. ``reason`` is free text without personal data; ``reason_codes`` the codes."""

    invoice = models.ForeignKey(
        Invoice, verbose_name="facture", on_delete=models.PROTECT, related_name="events"
    )
    professional = models.ForeignKey(
        Professional, verbose_name="professionnel", on_delete=models.PROTECT, related_name="+"
    )
    insurer = models.ForeignKey(
        Insurer,
        verbose_name="organisme complémentaire",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField("événement", max_length=20, choices=InvoiceEventKind.choices)
    at = models.DateTimeField("le")
    actor_kind = models.CharField("auteur", max_length=12, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="utilisateur",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField("motif", max_length=300, blank=True, default="")
    reason_codes = models.JSONField("codes motifs", default=list)
    amount = models.DecimalField("montant", max_digits=12, decimal_places=2, null=True, blank=True)
    reference = models.CharField("référence", max_length=40, blank=True, default="")
    value_date = models.DateField("date de valeur", null=True, blank=True)
    deadline = models.DateField("date limite", null=True, blank=True)
    related = models.ForeignKey(
        Invoice,
        verbose_name="facture liée",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = InvoiceEventQuerySet.as_manager()

    class Meta:
        verbose_name = "événement de facture"
        verbose_name_plural = "événements de facture"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["professional", "id"]),
            models.Index(fields=["insurer", "kind", "at"]),
            models.Index(fields=["invoice", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%d/%m/%Y %H:%M})"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise TypeError("Les événements d'une facture ne se modifient pas.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("Les événements d'une facture ne se suppriment pas.")


class Lot(models.Model):
    """A lot of invoices sent by one professional's software (FHIR batch Bundle or flat
    file). ``declared_count`` and ``declared_total`` (euros, sum of the invoices' billed
    totals) are what the lot's header says; a lot whose content does not match them is
    refused and never stored. Progress counts move as workers adjudicate it in chunks."""

    professional = models.ForeignKey(
        Professional, verbose_name="professionnel", on_delete=models.PROTECT, related_name="lots"
    )
    reference = models.CharField("référence du lot", max_length=40, blank=True, default="")
    format = models.CharField("format", max_length=10, choices=LotFormat.choices)
    channel = models.CharField("canal", max_length=12)
    declared_count = models.PositiveIntegerField("nombre de factures annoncé")
    declared_total = money_field("total facturé annoncé")
    line_count = models.PositiveIntegerField("nombre de lignes", default=0)
    status = models.CharField("statut", max_length=12, choices=LotStatus.choices)
    processed_count = models.PositiveIntegerField("factures traitées", default=0)
    accepted_count = models.PositiveIntegerField("factures acceptées", default=0)
    rejected_count = models.PositiveIntegerField("factures rejetées", default=0)
    total_amc = money_field("total AMC accepté")
    received_at = models.DateTimeField("reçu le")
    started_at = models.DateTimeField("traitement commencé le", null=True, blank=True)
    finished_at = models.DateTimeField("traité le", null=True, blank=True)

    class Meta:
        verbose_name = "lot de factures"
        verbose_name_plural = "lots de factures"
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["professional", "-received_at"])]

    def __str__(self) -> str:
        return self.reference or f"lot {self.pk}"

    @property
    def percent_done(self) -> int:
        """Share of invoices adjudicated, 0-100."""
        if not self.declared_count:
            return 100
        return self.processed_count * 100 // self.declared_count


class LotEntry(models.Model):
    """One invoice of a lot, as received, until a worker adjudicates it: the invoice without
    its patient (``payload``: the JSON form of ``inputs.InvoiceInput``) and the patient as
    read from the card, encrypted (``identity_ciphertext``: NIR, birth date, rang, AMC
    number; erased once adjudicated). Then its result: accepted or rejected with reason
    codes naming invoice, line and field, and the stored ``invoice`` when one was made."""

    lot = models.ForeignKey(
        Lot, verbose_name="lot", on_delete=models.CASCADE, related_name="entries"
    )
    position = models.PositiveIntegerField("rang dans le lot")
    invoice_number = models.CharField("numéro de facture", max_length=40)
    payload = models.JSONField("facture reçue")
    identity_ciphertext = models.TextField("identité chiffrée", blank=True, default="")
    status = models.CharField("statut", max_length=10, choices=EntryStatus.choices)
    reasons = models.JSONField("motifs", default=list)
    invoice = models.OneToOneField(
        Invoice,
        verbose_name="facture",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lot_entry",
    )

    class Meta:
        verbose_name = "facture d'un lot"
        verbose_name_plural = "factures d'un lot"
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "position"], name="lotentry_unique_position")
        ]
        indexes = [models.Index(fields=["lot", "status", "position"])]

    def __str__(self) -> str:
        return self.invoice_number


class BilledInvoice(models.Model):
    """The register of invoices already taken for payment, shared by every channel (lots
    here, the claim API in ``claims``): one row per invoice accepted. The same invoice sent
    again (the same ``invoice_number`` of the professional, or the same ``content_key``:
    beneficiary, care date, codes and billed amounts) is a duplicate, never paid twice.
    ``channel`` (``lot``/``claim``) and ``reference`` (``invoice:<id>``/``claim:<id>``) say
    where the first one came from."""

    professional = models.ForeignKey(
        Professional, verbose_name="professionnel", on_delete=models.PROTECT, related_name="+"
    )
    invoice_number = models.CharField("numéro de facture", max_length=40)
    content_key = models.CharField("clé de doublon", max_length=64)
    channel = models.CharField("canal", max_length=10)
    reference = models.CharField("référence", max_length=40)
    recorded_at = models.DateTimeField("enregistrée le")

    class Meta:
        verbose_name = "facture déjà reçue"
        verbose_name_plural = "factures déjà reçues"
        constraints = [
            models.UniqueConstraint(
                fields=["professional", "invoice_number"], name="billedinvoice_unique_number"
            ),
            models.UniqueConstraint(
                fields=["professional", "content_key"], name="billedinvoice_unique_content"
            ),
        ]

    def __str__(self) -> str:
        return self.invoice_number
