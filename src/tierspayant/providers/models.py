"""Professionals (linked one-to-one to a login) and their hashed, scoped, expiring API tokens."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models

from tierspayant.providers.choices import Profession


class Professional(models.Model):
    """A health professional or establishment using tiers payant.

    Identified by RPPS (11 digits), or ADELI (9 digits) for professions not yet in RPPS, or
    FINESS (9 characters) for an establishment; ``siret`` names the practice (cabinet, shop).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="professional"
    )
    profession = models.CharField(max_length=20, choices=Profession.choices)
    display_name = models.CharField("nom d'exercice", max_length=200)
    rpps = models.CharField(max_length=11, blank=True, default="")
    adeli = models.CharField(max_length=9, blank=True, default="")
    finess = models.CharField(max_length=9, blank=True, default="")
    siret = models.CharField(max_length=14, blank=True, default="")

    class Meta:
        verbose_name = "professionnel de santé"
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
        Professional, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField("libellé", max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "jeton d'API"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def is_active(self, now: datetime.datetime) -> bool:
        """True if not revoked and not expired at ``now`` (aware UTC)."""
        return self.revoked_at is None and now < self.expires_at
