"""The link between a platform account and a Pro Santé Connect identity.

A link is a django-otp device: a Pro Santé Connect sign-in verifies the session with it
exactly as a passkey or a TOTP code would (``otp_device``), and the session records the
method ``psc`` (:data:`tierspayant.accounts.access.PRO_SANTE_CONNECT`). It holds no secret and
verifies no typed code (:meth:`verify_token` is always False): the proof is the ID token.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_otp.models import Device


class ProSanteConnectLink(Device):
    """An account's Pro Santé Connect identity: ``national_id`` is the idNatPs that PSC's
    userinfo gives in ``SubjectNameID`` ("8" + RPPS, 12 characters, for a professional in the
    RPPS), equal to the account's :attr:`Professional.national_id` when linked. One link per
    account, one account per idNatPs. ``linked_by`` is the staff member who linked it in the
    back-office, or null when the professional linked it from their account page;
    ``linked_at`` and ``last_used_at`` are aware UTC."""

    national_id = models.CharField("identifiant national (idNatPs)", max_length=20, unique=True)
    linked_at = models.DateTimeField("lié le")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="lié par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField("dernière connexion", null=True, blank=True)

    class Meta:
        verbose_name = "liaison Pro Santé Connect"
        verbose_name_plural = "liaisons Pro Santé Connect"
        constraints = [
            models.UniqueConstraint(fields=["user"], name="psc_link_one_per_account"),
        ]

    def __str__(self) -> str:
        return f"liaison Pro Santé Connect #{self.pk}"

    def verify_token(self, token: object) -> bool:
        """Never: a Pro Santé Connect sign-in is proven by its ID token, not a typed code."""
        return False
