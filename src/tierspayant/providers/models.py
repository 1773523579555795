"""Professionals (linked one-to-one to a login), their hashed, scoped, expiring API tokens,
and their bank accounts with the history of changes."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models

from tierspayant.crypto.fields import decrypt_field
from tierspayant.crypto.keys import KeySet
from tierspayant.providers.choices import BankAccountStatus, BankChangeStatus, Profession


class Professional(models.Model):
    """A health professional or establishment using tiers payant.

    Identified by RPPS (11 digits), or ADELI (9 digits) for professions not yet in RPPS, or
    FINESS (9 characters) for an establishment; ``siret`` names the practice (cabinet, shop).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="utilisateur",
        on_delete=models.PROTECT,
        related_name="professional",
    )
    profession = models.CharField("profession", max_length=20, choices=Profession.choices)
    specialty_code = models.CharField(
        "code spécialité SESAM-Vitale",
        max_length=4,
        blank=True,
        default="",
        help_text="IR_SPE_V (médecins) ou IR_ACT_V (autres professions) ; vide pour un "
        "établissement. Fixe les familles de soins qu'il peut facturer (docs/invoices.md).",
    )
    display_name = models.CharField("nom d'exercice", max_length=200)
    rpps = models.CharField("RPPS", max_length=11, blank=True, default="")
    adeli = models.CharField("ADELI", max_length=9, blank=True, default="")
    finess = models.CharField("FINESS", max_length=9, blank=True, default="")
    siret = models.CharField("SIRET", max_length=14, blank=True, default="")

    class Meta:
        verbose_name = "professionnel de santé"
        verbose_name_plural = "professionnels de santé"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(rpps="", adeli="", finess=""),
                name="professional_has_identifier",
            ),
            models.UniqueConstraint(
                fields=["rpps"], condition=~models.Q(rpps=""), name="professional_unique_rpps"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def national_id(self) -> str:
        """The idNatPs-style identifier: "8" + RPPS, else "0" + ADELI, else FINESS."""
        if self.rpps:
            return f"8{self.rpps}"
        if self.adeli:
            return f"0{self.adeli}"
        return self.finess


class ApiToken(models.Model):
    """A per-professional API token. Only ``prefix`` (public lookup id) and the SHA-256 of the
    secret are stored; the secret is shown once at creation. Valid while not revoked and
    ``now < expires_at`` (UTC)."""

    professional = models.ForeignKey(
        Professional,
        verbose_name="professionnel de santé",
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField("libellé", max_length=100)
    prefix = models.CharField("préfixe", max_length=12, unique=True)
    secret_hash = models.CharField("empreinte du secret", max_length=64)
    scopes = models.JSONField("périmètres", default=list)
    created_at = models.DateTimeField("créé le")
    expires_at = models.DateTimeField("expire le")
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)

    class Meta:
        verbose_name = "jeton d'API"
        verbose_name_plural = "jetons d'API"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def is_active(self, now: datetime.datetime) -> bool:
        """True if not revoked and not expired at ``now`` (aware UTC)."""
        return self.revoked_at is None and now < self.expires_at


class BankAccount(models.Model):
    """A professional's bank account (RIB). The IBAN is stored only as an AES-256-GCM
    ciphertext bound to this row (like a NIR); ``iban_masked`` keeps the country, the check
    digits and the last four characters for display (``FR76 … 0143``). Rows are never
    deleted: they are the history of the professional's bank details. The account in force at
    an instant is the active one with the latest ``active_from`` not after it."""

    TABLE = "providers_bankaccount"

    id = models.UUIDField("identifiant", primary_key=True, default=uuid.uuid4, editable=False)
    professional = models.ForeignKey(
        Professional,
        verbose_name="professionnel de santé",
        on_delete=models.PROTECT,
        related_name="bank_accounts",
    )
    holder_name = models.CharField("titulaire du compte", max_length=70)
    iban_ciphertext = models.TextField("IBAN (chiffré)", editable=False)
    iban_masked = models.CharField("IBAN (masqué)", max_length=40)
    bic = models.CharField("BIC", max_length=11)
    status = models.CharField("statut", max_length=10, choices=BankAccountStatus.choices)
    created_at = models.DateTimeField("créé le")
    active_from = models.DateTimeField("en vigueur depuis", null=True, blank=True)
    superseded_at = models.DateTimeField("remplacé le", null=True, blank=True)

    class Meta:
        verbose_name = "compte bancaire"
        verbose_name_plural = "comptes bancaires"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.iban_masked

    def iban(self, keys: KeySet) -> str:
        """Decrypt the IBAN (payment runs only). Raises ``crypto.fields.DecryptionError``."""
        return decrypt_field(
            keys, self.iban_ciphertext, table=self.TABLE, column="iban", row_id=str(self.id)
        )


class BankAccountChange(models.Model):
    """A request to replace the bank details: who asked (a signed-in user who passed a
    fresh second-factor check), from where, when; the one-time code sent to the contact on
    file (only its salted hash is kept); when it was confirmed and when the new account
    takes effect (after the cooling-off period, during which payments are held)."""

    professional = models.ForeignKey(
        Professional,
        verbose_name="professionnel de santé",
        on_delete=models.PROTECT,
        related_name="bank_changes",
    )
    old_account = models.ForeignKey(
        BankAccount,
        verbose_name="ancien compte",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    new_account = models.OneToOneField(
        BankAccount, verbose_name="nouveau compte", on_delete=models.PROTECT, related_name="change"
    )
    status = models.CharField("statut", max_length=10, choices=BankChangeStatus.choices)
    requested_at = models.DateTimeField("demandé le")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="demandé par",
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_ip = models.GenericIPAddressField("adresse IP de la demande", null=True, blank=True)
    requested_user_agent = models.CharField(
        "navigateur de la demande", max_length=300, blank=True, default=""
    )
    code_salt = models.CharField("sel du code", max_length=32, editable=False)
    code_hash = models.CharField("empreinte du code", max_length=64, editable=False)
    code_expires_at = models.DateTimeField("code valable jusqu'au")
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    confirmed_at = models.DateTimeField("confirmé le", null=True, blank=True)
    confirmed_ip = models.GenericIPAddressField(
        "adresse IP de la confirmation", null=True, blank=True
    )
    effective_at = models.DateTimeField("en vigueur le", null=True, blank=True)
    cancelled_at = models.DateTimeField("annulé le", null=True, blank=True)

    class Meta:
        verbose_name = "changement de coordonnées bancaires"
        verbose_name_plural = "changements de coordonnées bancaires"
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"changement {self.pk} ({self.get_status_display()})"

    def is_pending(self, now: datetime.datetime) -> bool:
        """True while payments must be held: awaiting a code that has not expired, or
        confirmed and still in its cooling-off period."""
        if self.status == BankChangeStatus.AWAITING_CONFIRMATION:
            return now < self.code_expires_at
        if self.status == BankChangeStatus.CONFIRMED:
            return self.effective_at is not None and now < self.effective_at
        return False
