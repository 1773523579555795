"""Sign-in security services: tracked sessions (list, end one, end all), new-browser notice,
security events, and the staff-only reset of a lost second factor and change of a contact
e-mail.

Every function takes ``now`` (aware UTC) from its caller; none reads the clock itself except
through that argument. Log lines carry ids and event kinds only: never a username, e-mail,
session key, cookie value or code (ASVS 5.0 V16.2.5: no sensitive data in logs).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tierspayant.accounts.choices import SecurityEventKind
from tierspayant.accounts.models import (
    KnownBrowser,
    RecoveryCodeDevice,
    SecurityEvent,
    UserSession,
)

logger = logging.getLogger(__name__)
Account = Any  # the auth user model (settings.AUTH_USER_MODEL)


class FactorResetRefused(Exception):
    """A factor reset was asked by someone who may not do it (not staff, or on themselves)."""


class EmailChangeRefused(Exception):
    """A contact e-mail change was asked by someone who may not do it (not staff, or on
    themselves)."""


def record_event(
    user: Account,
    kind: SecurityEventKind,
    *,
    now: datetime.datetime,
    actor: Account | None = None,
    detail: dict[str, object] | None = None,
) -> SecurityEvent:
    """Store one :class:`SecurityEvent` and log its kind with the ids involved."""
    event = SecurityEvent.objects.create(
        user=user, actor=actor, kind=kind, at=now, detail=detail or {}
    )
    logger.info(
        "security event %s user_id=%s actor_id=%s event_id=%s",
        kind.value,
        user.pk,
        actor.pk if actor else None,
        event.pk,
    )
    return event


# --- sessions -------------------------------------------------------------------------


def _session_store(session_key: str):  # type: ignore[no-untyped-def]
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key=session_key)


def track_session(
    user: Account, *, session_key: str, user_agent: str, now: datetime.datetime
) -> UserSession:
    """Start tracking a freshly signed-in session (user agent cut to 200 characters)."""
    return UserSession.objects.create(
        user=user,
        session_key=session_key,
        created_at=now,
        last_seen_at=now,
        user_agent=user_agent[:200],
    )


def rekey_session(public_id: uuid.UUID | str, *, session_key: str) -> None:
    """The session's key changed (step-up, sign-in): follow it."""
    UserSession.objects.filter(public_id=public_id).update(session_key=session_key)


def touch_session(public_id: uuid.UUID | str, *, now: datetime.datetime) -> None:
    """Record activity (callers limit this to once a minute)."""
    UserSession.objects.filter(public_id=public_id, ended_at__isnull=True).update(last_seen_at=now)


def is_session_live(public_id: uuid.UUID | str) -> bool:
    """False once the session was ended (by its owner, a staff reset, or sign-out)."""
    return UserSession.objects.filter(public_id=public_id, ended_at__isnull=True).exists()


def active_sessions(user: Account) -> list[UserSession]:
    """The user's open sessions, most recent activity first."""
    return list(
        UserSession.objects.filter(user=user, ended_at__isnull=True).order_by("-last_seen_at")
    )


def end_session(user: Account, public_id: uuid.UUID | str, *, now: datetime.datetime) -> bool:
    """End one of ``user``'s own sessions: its server-side data is deleted, so its cookie is
    worthless at once. False (nothing done) when the id is not one of the user's open
    sessions, which the caller answers with 404."""
    try:
        row = UserSession.objects.get(public_id=public_id, user=user, ended_at__isnull=True)
    except (UserSession.DoesNotExist, ValueError):
        return False
    _session_store(row.session_key).delete()
    UserSession.objects.filter(pk=row.pk).update(ended_at=now)
    record_event(user, SecurityEventKind.SESSION_ENDED, now=now, actor=user)
    return True


def end_all_sessions(user: Account, *, now: datetime.datetime) -> int:
    """End every open session of ``user``; returns how many were open."""
    rows = list(UserSession.objects.filter(user=user, ended_at__isnull=True))
    for row in rows:
        _session_store(row.session_key).delete()
    UserSession.objects.filter(pk__in=[r.pk for r in rows]).update(ended_at=now)
    return len(rows)


def close_session(public_id: uuid.UUID | str, *, now: datetime.datetime) -> None:
    """Mark a session ended after its owner signed out (the data is flushed by Django)."""
    UserSession.objects.filter(public_id=public_id, ended_at__isnull=True).update(ended_at=now)


# --- new browser notice ---------------------------------------------------------------


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class BrowserCheck:
    """Result of :func:`note_browser`: the cookie value to (re)set, and whether it was new."""

    cookie_value: str
    is_new: bool


def note_browser(
    user: Account, *, cookie_value: str | None, now: datetime.datetime
) -> BrowserCheck:
    """Recognise the browser by its ``tp_browser`` cookie; a browser never seen for this
    account gets a fresh value, is remembered, and ``is_new`` is True."""
    if cookie_value:
        updated = KnownBrowser.objects.filter(user=user, token_digest=_digest(cookie_value)).update(
            last_seen_at=now
        )
        if updated:
            return BrowserCheck(cookie_value=cookie_value, is_new=False)
    value = secrets.token_urlsafe(32)
    KnownBrowser.objects.create(
        user=user, token_digest=_digest(value), first_seen_at=now, last_seen_at=now
    )
    return BrowserCheck(cookie_value=value, is_new=True)


def announce_new_browser(user: Account, *, now: datetime.datetime) -> None:
    """E-mail the account holder that their password was just used from an unknown device
    (sent at the password step, so a stolen password is reported even when the second
    factor stops the attacker). Records a security event."""
    local = timezone.localtime(now)
    record_event(user, SecurityEventKind.SIGN_IN_NEW_BROWSER, now=now, actor=user)
    email = getattr(user, "email", "")
    if not email:
        return
    send_mail(
        subject="tierspayant : connexion depuis un nouvel appareil",
        message=(
            "Bonjour,\n\n"
            f"Le mot de passe de votre compte tierspayant a été utilisé le {local:%d/%m/%Y} "
            f"à {local:%H:%M} (heure de Paris) depuis un appareil que nous ne connaissions "
            "pas.\n\nSi c'est vous, il n'y a rien à faire. Sinon, changez votre mot de passe "
            "et prévenez l'assistance : vos seconds facteurs protègent encore votre compte.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )


# --- staff reset of a lost factor -----------------------------------------------------


@dataclass(frozen=True)
class FactorReset:
    """What a reset removed: devices per kind, sessions ended, the event recorded."""

    totp: int
    passkeys: int
    recovery_sets: int
    sessions_ended: int
    event_id: int


@transaction.atomic
def reset_second_factors(
    *, user: Account, actor: Account, reason: str, now: datetime.datetime
) -> FactorReset:
    """Remove every second factor of ``user`` after they lost them, as a staff action.

    ``actor`` must be staff and not ``user`` (no self-service reset: that would let a
    password alone replace the second factor, ASVS 5.0 V6.4.3/V6.4.4). All the user's
    sessions end; the next sign-in enrols a new factor. The event is stored with the actor
    and ``reason`` (a short ticket reference, 200 characters at most), and the user is told
    by e-mail. Raises :class:`FactorResetRefused`.
    """
    if not getattr(actor, "is_staff", False) or actor.pk == user.pk:
        raise FactorResetRefused
    totp = TOTPDevice.objects.filter(user=user).delete()[1].get("otp_totp.TOTPDevice", 0)
    passkeys = (
        WebAuthnCredential.objects.filter(user=user)
        .delete()[1]
        .get("django_otp_webauthn.WebAuthnCredential", 0)
    )
    recovery = (
        RecoveryCodeDevice.objects.filter(user=user)
        .delete()[1]
        .get("accounts.RecoveryCodeDevice", 0)
    )
    ended = end_all_sessions(user, now=now)
    event = record_event(
        user,
        SecurityEventKind.SECOND_FACTOR_RESET,
        now=now,
        actor=actor,
        detail={"reason": reason[:200]},
    )
    email = getattr(user, "email", "")
    if email:
        local = timezone.localtime(now)
        transaction.on_commit(
            lambda: send_mail(
                subject="tierspayant : vos seconds facteurs ont été réinitialisés",
                message=(
                    "Bonjour,\n\n"
                    f"À votre demande, l'assistance a réinitialisé le {local:%d/%m/%Y} à "
                    f"{local:%H:%M} les seconds facteurs de votre compte (clés d'accès, "
                    "application d'authentification, codes de secours). À votre prochaine "
                    "connexion, vous en enrôlerez un nouveau.\n\nSi vous n'avez rien demandé, "
                    "appelez l'assistance immédiatement.\n"
                ),
                from_email=None,
                recipient_list=[email],
            )
        )
    return FactorReset(
        totp=totp,
        passkeys=passkeys,
        recovery_sets=recovery,
        sessions_ended=ended,
        event_id=event.pk,
    )


@transaction.atomic
def change_contact_email(
    *, user: Account, new_email: str, actor: Account, reason: str, now: datetime.datetime
) -> SecurityEvent:
    """Replace ``user``'s contact e-mail, as a staff action (the holder asked support).

    The address receives the bank-change code and every security notice, so a silent change
    would let an insider redirect them. ``actor`` must be staff and not ``user``; the caller
    has checked the actor's recent passkey (step-up). ``new_email`` is validated (Django's
    ``validate_email``: raises ``ValidationError``). The event stores the actor and ``reason``
    (a short ticket reference, 200 characters at most), never an address; the old address
    (if any) and the new one are told by e-mail. Raises :class:`EmailChangeRefused`.
    """
    if not getattr(actor, "is_staff", False) or actor.pk == user.pk:
        raise EmailChangeRefused
    new_email = new_email.strip()
    validate_email(new_email)
    old_email = user.email
    user.email = new_email
    user.save(update_fields=["email"])
    event = record_event(
        user, SecurityEventKind.EMAIL_CHANGED, now=now, actor=actor, detail={"reason": reason[:200]}
    )
    local = timezone.localtime(now)
    body = (
        "Bonjour,\n\n"
        f"Le {local:%d/%m/%Y} à {local:%H:%M}, l'assistance a changé l'adresse de contact de "
        "votre compte tierspayant. Les codes de confirmation et les avis de sécurité sont "
        "désormais envoyés à la nouvelle adresse.\n\nSi vous n'avez rien demandé, appelez "
        "l'assistance immédiatement.\n"
    )
    recipients = [a for a in (old_email, new_email) if a]
    transaction.on_commit(
        lambda: [
            send_mail(
                subject="tierspayant : l'adresse de contact de votre compte a changé",
                message=body,
                from_email=None,
                recipient_list=[address],
            )
            for address in recipients
        ]
    )
    return event
