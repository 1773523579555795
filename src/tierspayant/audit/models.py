"""The disclosure log: one row per disclosure or refused lookup, append-only and hash-chained.

The application has no update or delete path: ``save`` refuses an existing row and
``delete`` always raises; database triggers refuse UPDATE and DELETE too (``audit.db_guard``),
except the sealer's one-time setting of the chain columns and the retention purge. Rows are
written without any lock (``seq`` empty); the sealer (``services.seal_log``) later gives each
its place in the chain (``seq``), the previous row's hash and its own hash over its canonical
content (``audit.chain``), and signs checkpoints kept outside the database
(docs/adr/0006-tamper-evident-log.md). Rows never hold a raw NIR: the beneficiary is named by
internal id, invalid input by the field name only.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models

from tierspayant.audit.choices import Channel, Outcome, Purpose


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete a disclosure-log row."""


class DisclosureQuerySet(models.QuerySet["DisclosureLog"]):
    """Queries on the log: bulk ``update`` and ``delete`` are refused."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("the disclosure log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("the disclosure log is append-only")


class DisclosureLog(models.Model):
    """Who (user, professional) asked, about whom (beneficiary id, None when nothing matched),
    which fields were disclosed, for what purpose, with what outcome, from where (IP, user
    agent, channel), when (``occurred_at``, aware UTC), under which ``request_id``."""

    occurred_at = models.DateTimeField("date et heure", db_index=True)
    request_id = models.UUIDField("identifiant de requête")
    channel = models.CharField("canal", max_length=10, choices=Channel.choices)
    purpose = models.CharField("motif", max_length=20, choices=Purpose.choices)
    outcome = models.CharField("résultat", max_length=20, choices=Outcome.choices)
    reason = models.CharField("précision", max_length=60, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="utilisateur",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # No single-column index on these two: the (professional, occurred_at) and (beneficiary,
    # occurred_at) indexes below lead with them and serve every lookup by either, so a second
    # index would only slow each insert (one per rights check).
    professional = models.ForeignKey(
        "providers.Professional",
        verbose_name="professionnel de santé",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    beneficiary = models.ForeignKey(
        "registry.Beneficiary",
        verbose_name="bénéficiaire",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    fields_disclosed = models.JSONField("informations communiquées", default=list)
    ip_address = models.GenericIPAddressField("adresse IP", null=True)
    user_agent = models.CharField("navigateur ou logiciel", max_length=300, blank=True, default="")
    # Hash chain, set once by the sealer (the triggers allow no other change). A column added
    # above must be added to ``audit.chain.CHAIN_FIELDS`` and to the SQLite trigger.
    seq = models.BigIntegerField("position dans la chaîne", null=True, unique=True, editable=False)
    # NULL, not "": "not sealed yet" is no hash at all (DJ001 is about optional text).
    prev_hash = models.CharField("empreinte précédente", max_length=64, null=True, editable=False)  # noqa: DJ001
    row_hash = models.CharField("empreinte de la ligne", max_length=64, null=True, editable=False)  # noqa: DJ001

    objects = DisclosureQuerySet.as_manager()

    class Meta:
        verbose_name = "divulgation"
        verbose_name_plural = "divulgations"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["professional", "occurred_at"]),
            models.Index(fields=["ip_address", "occurred_at"], name="audit_log_ip_time"),
            models.Index(fields=["beneficiary", "occurred_at"], name="audit_log_person_time"),
            # The sealer's work list: rows not chained yet (a small partial index).
            models.Index(
                fields=["id"], condition=models.Q(seq__isnull=True), name="audit_log_unsealed"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_purpose_display()} : {self.get_outcome_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only; raises :class:`AppendOnlyError` for an existing row."""
        if not self._state.adding:
            raise AppendOnlyError("the disclosure log is append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Always raises :class:`AppendOnlyError`."""
        raise AppendOnlyError("the disclosure log is append-only")


class InsurerApiToken(models.Model):
    """An insurer's API token for its member apps (FHIR ``AuditEvent`` search). As for the
    professionals' tokens, only ``prefix`` (public lookup id) and the SHA-256 of the bearer
    value are stored; the secret is shown once. Valid while not revoked and ``now <
    expires_at`` (UTC); ``scopes`` are :class:`~tierspayant.audit.choices.InsurerScope` values."""

    insurer = models.ForeignKey(
        "registry.Insurer",
        verbose_name="organisme complémentaire",
        on_delete=models.CASCADE,
        related_name="audit_tokens",
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
        verbose_name = "jeton d'API d'organisme"
        verbose_name_plural = "jetons d'API d'organisme"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def is_active(self, now: datetime.datetime) -> bool:
        """True if not revoked and not expired at ``now`` (aware UTC)."""
        return self.revoked_at is None and now < self.expires_at
