"""Sign-in security records: hashed single-use recovery codes (a django-otp device), the
sessions a user holds (so they can see and end them), browsers already seen (new-device
e-mail), and security events (factor reset, recovery used...).

No model here stores a secret in clear: recovery codes are kept as keyed HMAC-SHA256
(:func:`tierspayant.accounts.recovery.code_digest`); browser cookies as SHA-256. The
session key is stored like Django's own ``django_session`` table does, so that a session
can be ended from another one; it is never shown nor logged (a public UUID names it).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django_otp.models import Device, ThrottlingMixin
from django_otp_webauthn.models import WebAuthnCredential

from tierspayant.accounts.choices import EnrolmentRoute, SecurityEventKind


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """A set of single-use recovery codes, usable as a second factor when the passkey or the
    TOTP application is lost (ASVS 5.0 V6.5.1-V6.5.2: lookup secrets used once, stored
    hashed; NIST SP 800-63B-4 §3.1.2 "look-up secrets"). Wrong guesses are throttled
    (django-otp's ThrottlingMixin: growing delays after each failure)."""

    class Meta:
        verbose_name = "codes de secours"
        verbose_name_plural = "codes de secours"

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_RECOVERY_THROTTLE_FACTOR", 1))

    def verify_token(self, token: object) -> bool:
        """True, and the code is spent, when ``token`` (str, separators ignored) is one of the
        unused codes; False otherwise, with a throttling failure recorded. Goes through the
        one code check, :func:`tierspayant.accounts.codes.verify_code` (atomic)."""
        from django.utils import timezone

        from tierspayant.accounts.codes import verify_code  # avoid a model import cycle

        return verify_code(self, token, now=timezone.now())


class RecoveryCode(models.Model):
    """One code of a :class:`RecoveryCodeDevice`: its keyed digest (64 hex) and when it was
    used (``used_at`` aware UTC; null while unused)."""

    device = models.ForeignKey(
        RecoveryCodeDevice,
        verbose_name="jeu de codes",
        on_delete=models.CASCADE,
        related_name="codes",
    )
    digest = models.CharField("empreinte", max_length=64)
    used_at = models.DateTimeField("utilisé le", null=True, blank=True)

    class Meta:
        verbose_name = "code de secours"
        verbose_name_plural = "codes de secours"
        constraints = [
            models.UniqueConstraint(fields=["device", "digest"], name="recovery_code_unique")
        ]

    def __str__(self) -> str:
        return f"code #{self.pk} ({'utilisé' if self.used_at else 'disponible'})"


class UserSession(models.Model):
    """A signed-in session of a user, as the user sees it in "Mes sessions": opened, last
    seen (minute precision), browser; ended sessions are kept with ``ended_at``."""

    public_id = models.UUIDField(
        "identifiant public", default=uuid.uuid4, unique=True, editable=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="utilisateur",
        on_delete=models.CASCADE,
        related_name="tracked_sessions",
    )
    session_key = models.CharField("clé de session", max_length=64, db_index=True)
    created_at = models.DateTimeField("ouverte le")
    last_seen_at = models.DateTimeField("dernière activité")
    user_agent = models.CharField("navigateur", max_length=200, blank=True, default="")
    ended_at = models.DateTimeField("fermée le", null=True, blank=True)

    class Meta:
        verbose_name = "session"
        verbose_name_plural = "sessions"

    def __str__(self) -> str:
        return f"session {self.public_id}"


class KnownBrowser(models.Model):
    """A browser that already signed in to this account: the SHA-256 (64 hex) of the random
    value of its ``tp_browser`` cookie. A sign-in without a known browser sends an e-mail."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="utilisateur",
        on_delete=models.CASCADE,
        related_name="known_browsers",
    )
    token_digest = models.CharField("empreinte du témoin", max_length=64)
    first_seen_at = models.DateTimeField("vu pour la première fois le")
    last_seen_at = models.DateTimeField("vu pour la dernière fois le")

    class Meta:
        verbose_name = "appareil connu"
        verbose_name_plural = "appareils connus"
        constraints = [
            models.UniqueConstraint(fields=["user", "token_digest"], name="known_browser_unique")
        ]

    def __str__(self) -> str:
        return f"appareil #{self.pk}"


class SecurityEvent(models.Model):
    """An event on an account's authentication, for the user and the operator: ``actor`` is
    who did it (the user, or a staff member for a factor reset). ``detail`` holds counts and
    reasons only, never a secret nor personal data."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="compte",
        on_delete=models.CASCADE,
        related_name="security_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="security_actions",
    )
    kind = models.CharField("type", max_length=60, choices=SecurityEventKind.choices)
    at = models.DateTimeField("date et heure")
    detail = models.JSONField("détails", default=dict, blank=True)

    class Meta:
        verbose_name = "événement de sécurité"
        verbose_name_plural = "événements de sécurité"
        ordering = ["-at"]
        # The operator's security role (accounts.backoffice.SECURITY_ROLE): sees canaries.
        permissions = [("operator_security", "Rôle sécurité de l'opérateur (voit les leurres)")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%d/%m/%Y %H:%M})"


class PasskeyEnrolment(models.Model):
    """The opening for an account's *first* passkey (docs/security.md, "first passkey").

    A password plus one relayed TOTP code must not be enough to plant a passkey, so the first
    one needs a second channel: a one-time code e-mailed to the holder (``route`` ``email``:
    only its keyed digest is kept, ``attempts`` counts wrong tries), or, for staff and for
    accounts without an e-mail address, the approval of another staff member (``approval``:
    ``approved_by``; or the platform's shell at bootstrap, ``approved_by`` null and
    ``approved_at`` set). ``opened_at`` is when the code was confirmed or the request
    approved; the opening then lasts a few minutes and serves one passkey (``used_at``,
    ``credential``). ``session_id`` binds an e-mail opening to the session that asked for it
    (the public id of :class:`UserSession`). Instants are aware UTC."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="compte",
        on_delete=models.CASCADE,
        related_name="passkey_enrolments",
    )
    route = models.CharField("voie", max_length=10, choices=EnrolmentRoute.choices)
    requested_at = models.DateTimeField("demandé le")
    session_id = models.UUIDField("session", null=True, blank=True, editable=False)
    code_digest = models.CharField(
        "empreinte du code", max_length=64, blank=True, default="", editable=False
    )
    code_expires_at = models.DateTimeField("code valable jusqu'au", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("essais", default=0)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="approuvé par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField("approuvé le", null=True, blank=True)
    opened_at = models.DateTimeField("ouvert le", null=True, blank=True)
    used_at = models.DateTimeField("utilisé le", null=True, blank=True)
    credential = models.OneToOneField(
        WebAuthnCredential,
        verbose_name="clé d'accès",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_at = models.DateTimeField("annulé le", null=True, blank=True)

    class Meta:
        verbose_name = "enrôlement de clé d'accès"
        verbose_name_plural = "enrôlements de clés d'accès"
        ordering = ["-requested_at"]
        permissions = [
            ("approve_passkeyenrolment", "Peut approuver l'enrôlement d'une clé d'accès")
        ]

    def __str__(self) -> str:
        return f"enrôlement #{self.pk} ({self.get_route_display()})"


class PasskeyNotice(models.Model):
    """The notice e-mailed when a passkey is added, with a removal code (keyed digest only)
    the holder can use, signed in with any second factor, to remove a passkey they did not
    add, even though that passkey now gates step-up. Valid until ``expires_at`` (aware UTC),
    ``attempts`` wrong tries at most."""

    credential = models.OneToOneField(
        WebAuthnCredential, verbose_name="clé d'accès", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="compte",
        on_delete=models.CASCADE,
        related_name="passkey_notices",
    )
    sent_at = models.DateTimeField("envoyé le")
    code_digest = models.CharField("empreinte du code", max_length=64, editable=False)
    expires_at = models.DateTimeField("valable jusqu'au")
    attempts = models.PositiveSmallIntegerField("essais", default=0)

    class Meta:
        verbose_name = "avis d'ajout de clé d'accès"
        verbose_name_plural = "avis d'ajout de clés d'accès"

    def __str__(self) -> str:
        return f"avis #{self.pk}"
