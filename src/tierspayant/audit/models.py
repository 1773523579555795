"""The disclosure log: one row per disclosure or refused lookup, append-only.

The application has no update or delete path: ``save`` refuses an existing row and
``delete`` always raises. (Database-level triggers and the hash chain come with the
tamper-evidence work, docs/adr/0001-disclosure-gate.md.) Rows never hold a raw NIR: the
beneficiary is named by internal id, invalid input by the field name only.
"""

from __future__ import annotations

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

    occurred_at = models.DateTimeField(db_index=True)
    request_id = models.UUIDField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reason = models.CharField(max_length=60, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    professional = models.ForeignKey(
        "providers.Professional", null=True, on_delete=models.PROTECT, related_name="+"
    )
    beneficiary = models.ForeignKey(
        "registry.Beneficiary", null=True, on_delete=models.PROTECT, related_name="+"
    )
    fields_disclosed = models.JSONField(default=list)
    ip_address = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")

    objects = DisclosureQuerySet.as_manager()

    class Meta:
        verbose_name = "divulgation"
        ordering = ["id"]
        indexes = [models.Index(fields=["professional", "occurred_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.purpose} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only; raises :class:`AppendOnlyError` for an existing row."""
        if not self._state.adding:
            raise AppendOnlyError("the disclosure log is append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Always raises :class:`AppendOnlyError`."""
        raise AppendOnlyError("the disclosure log is append-only")
