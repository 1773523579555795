"""The register: insurers (AMC), contracts and beneficiaries.

A beneficiary's NIR and birth date are stored only as AES-256-GCM ciphertexts bound to the
row (``crypto.fields``); the beneficiary is found through ``identity_index``, a keyed blind
index over (NIR, birth date) (docs/adr/0002-field-encryption.md). The NIR is the number on
the card, i.e. the insured person's: a child may be covered under a parent's NIR, told apart
by birth date and rang de naissance.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models

from tierspayant.crypto.fields import decrypt_field
from tierspayant.crypto.keys import KeySet
from tierspayant.registry.choices import ContractType, Domain, Quality
from tierspayant.registry.row_ids import new_row_id


class Insurer(models.Model):
    """A complementary insurer (AMC), identified by its AMC number (numéro AMC, 8-10 digits)."""

    amc_number = models.CharField("numéro AMC", max_length=10, unique=True)
    name = models.CharField("nom", max_length=200)

    class Meta:
        verbose_name = "organisme complémentaire"
        verbose_name_plural = "organismes complémentaires"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.amc_number})"


class Contract(models.Model):
    """A contract of an insurer: individual or collective, responsible or not, with its validity
    (dates inclusive; ``valid_to`` None means open-ended) and the domains open to tiers payant
    (a list of :class:`Domain` values)."""

    insurer = models.ForeignKey(
        Insurer,
        verbose_name="organisme complémentaire",
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    number = models.CharField("numéro de contrat", max_length=40)
    contract_type = models.CharField("type de contrat", max_length=12, choices=ContractType.choices)
    responsible = models.BooleanField("contrat responsable", default=True)
    valid_from = models.DateField("valable du")
    valid_to = models.DateField("valable jusqu'au", null=True, blank=True)
    tiers_payant_domains = models.JSONField("domaines ouverts au tiers payant", default=list)
    guarantee_table = models.CharField(
        "table de garanties",
        max_length=60,
        blank=True,
        default="",
        help_text="Identifiant de la table de garanties (moteur de calcul) du contrat.",
    )
    convention_type = models.CharField(
        "type de convention",
        max_length=4,
        blank=True,
        default="",
        help_text="Type de convention de tiers payant imprimé sur l'attestation (fichier "
        "adhérents version 2).",
    )
    routing_criterion = models.CharField(
        "critère secondaire de routage",
        max_length=10,
        blank=True,
        default="",
        help_text="Critère secondaire de routage imprimé sur l'attestation (fichier adhérents "
        "version 2).",
    )

    class Meta:
        verbose_name = "contrat"
        verbose_name_plural = "contrats"
        constraints = [
            models.UniqueConstraint(fields=["insurer", "number"], name="contract_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.insurer.amc_number})"

    def domains(self) -> list[Domain]:
        """The domains open to tiers payant, in the order of :class:`Domain`."""
        held = set(self.tiers_payant_domains)
        return [d for d in Domain if d.value in held]


class Beneficiary(models.Model):
    """A person covered by a contract. ``id`` is a UUID (version 7, ``registry.row_ids``)
    made before insert, because the ciphertexts' associated data names the row. Rights run
    from ``rights_start`` to ``rights_end`` inclusive (None: open-ended)."""

    TABLE = "registry_beneficiary"

    id = models.UUIDField(
        "identifiant interne", primary_key=True, default=new_row_id, editable=False
    )
    contract = models.ForeignKey(
        Contract, verbose_name="contrat", on_delete=models.PROTECT, related_name="beneficiaries"
    )
    nir_ciphertext = models.TextField("NIR (chiffré)", editable=False)
    birth_date_ciphertext = models.TextField("date de naissance (chiffrée)", editable=False)
    identity_index = models.CharField("index d'identité", max_length=90, editable=False)
    rang = models.PositiveSmallIntegerField("rang de naissance", default=1)
    member_number_ciphertext = models.TextField(
        "numéro d'adhérent (chiffré)", blank=True, default="", editable=False
    )
    member_number_index = models.CharField(
        "index du numéro d'adhérent",
        max_length=90,
        blank=True,
        default="",
        editable=False,
        db_index=True,
    )
    formulas = models.CharField(
        "formules par domaine",
        max_length=300,
        blank=True,
        default="",
        help_text="Formule ou taux imprimé sur l'attestation pour chaque domaine, "
        "« domaine=valeur » séparés par « | » (fichier adhérents version 2).",
    )
    amo_regime = models.CharField("régime AMO", max_length=2, blank=True, default="")
    amo_fund = models.CharField("caisse AMO", max_length=3, blank=True, default="")
    tiers_payant_suspended = models.BooleanField(
        "tiers payant suspendu",
        default=False,
        help_text="Suspendu par l'organisme (fichier adhérents version 2) : pas d'attestation.",
    )
    last_name = models.CharField("nom", max_length=100)
    first_name = models.CharField("prénom", max_length=100)
    quality = models.CharField("qualité", max_length=10, choices=Quality.choices)
    rights_start = models.DateField("début des droits")
    rights_end = models.DateField("fin des droits", null=True, blank=True)
    is_canary = models.BooleanField(
        "bénéficiaire leurre",
        default=False,
        help_text="Dossier qu'aucune carte réelle ne porte : toute consultation suspend le "
        "compte. Jamais exposé par le portail ni par l'API.",
    )

    class Meta:
        verbose_name = "bénéficiaire"
        verbose_name_plural = "bénéficiaires"
        constraints = [
            # identity_index first: the one index serves the rights check's lookup by
            # identity_index alone and the import's key (no second index to maintain).
            models.UniqueConstraint(
                fields=["identity_index", "contract", "rang"], name="beneficiary_unique_identity"
            ),
            models.CheckConstraint(
                condition=models.Q(rang__gte=1, rang__lte=9), name="beneficiary_rang_1_9"
            ),
        ]

    def __str__(self) -> str:
        return f"bénéficiaire {self.id}"

    def nir(self, keys: KeySet) -> str:
        """Decrypt the NIR (15 characters). Raises ``crypto.fields.DecryptionError``."""
        return decrypt_field(
            keys, self.nir_ciphertext, table=self.TABLE, column="nir", row_id=str(self.id)
        )

    def birth_date(self, keys: KeySet) -> datetime.date:
        """Decrypt the birth date. Raises ``crypto.fields.DecryptionError``."""
        return datetime.date.fromisoformat(
            decrypt_field(
                keys,
                self.birth_date_ciphertext,
                table=self.TABLE,
                column="birth_date",
                row_id=str(self.id),
            )
        )

    def member_number(self, keys: KeySet) -> str:
        """Decrypt the family's member number (numéro d'adhérent); "" when the member file
        gave none (version 1). Raises ``crypto.fields.DecryptionError``."""
        if not self.member_number_ciphertext:
            return ""
        return decrypt_field(
            keys,
            self.member_number_ciphertext,
            table=self.TABLE,
            column="member_number",
            row_id=str(self.id),
        )

    def formulas_by_domain(self) -> dict[str, str]:
        """The ``formulas`` as {domain value: formula}, in the stored (Domain) order."""
        if not self.formulas:
            return {}
        return dict(part.split("=", 1) for part in self.formulas.split("|"))

    def has_rights_on(self, day: datetime.date) -> bool:
        """True if ``day`` falls within the rights period and the contract's validity."""
        contract = self.contract
        return (
            self.rights_start <= day
            and (self.rights_end is None or day <= self.rights_end)
            and contract.valid_from <= day
            and (contract.valid_to is None or day <= contract.valid_to)
        )


class InsurerStaff(models.Model):
    """A back-office user working for one insurer (the data controller): sees only that
    insurer's beneficiaries, access histories and reports."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="utilisateur",
        on_delete=models.CASCADE,
        related_name="insurer_staff",
    )
    insurer = models.ForeignKey(
        Insurer,
        verbose_name="organisme complémentaire",
        on_delete=models.PROTECT,
        related_name="staff",
    )

    class Meta:
        verbose_name = "personnel d'organisme"
        verbose_name_plural = "personnels des organismes"

    def __str__(self) -> str:
        return f"{self.user} ({self.insurer.amc_number})"
