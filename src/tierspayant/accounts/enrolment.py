"""The first passkey of an account, and the removal of a passkey its holder did not add.

Why (issue 13): right after a password + TOTP sign-in, the sign-in's own code was the recent
second factor that let a *first* passkey be registered, so a phishing proxy that relayed one
code could plant the attacker's passkey; that passkey then passed every step-up, and the
owner's TOTP no longer could. The first passkey now needs a channel a relay of the sign-in
does not capture (NIST SP 800-63B-4 §4.1.2.x "binding additional authenticators" requires
an authenticated session *and* notifying the subscriber; ASVS 5.0 V6.4.x):

- a professional with an e-mail address on file: an 8-digit code e-mailed to that address
  (valid :data:`CODE_MINUTES`, :data:`MAX_CODE_ATTEMPTS` tries; only its keyed digest is
  stored), entered in the same session; the opening then lasts :data:`OPEN_MINUTES` and
  serves one passkey;
- staff, and accounts without an e-mail address: a request that ANOTHER active staff member
  approves in the back-office (never self-approval), or, only while no other staff account
  holds a passkey (a platform's first staff member, the demo), the platform's shell
  (``tierspayant approve-passkey-enrolment``); the opening lasts :data:`APPROVAL_OPEN_MINUTES`.

Every added passkey is announced by e-mail with a removal code (valid :data:`NOTICE_DAYS`
days): signed in with *any* second factor (the owner's TOTP), the holder removes the passkey
with that code even though the passkey now gates step-up; the other sessions end.

Each step is a :class:`~tierspayant.accounts.models.SecurityEvent`. Every function takes
``now`` (aware UTC). Log lines and errors carry ids only, never a code or an address.
"""

from __future__ import annotations

import datetime
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp import devices_for_user, user_has_device
from django_otp_webauthn.models import WebAuthnCredential

from tierspayant.accounts.access import holds_passkey
from tierspayant.accounts.choices import EnrolmentRoute, SecurityEventKind
from tierspayant.accounts.models import (
    PasskeyEnrolment,
    PasskeyNotice,
    RecoveryCodeDevice,
    UserSession,
)
from tierspayant.accounts.recovery import ALPHABET, normalise_code
from tierspayant.accounts.services import end_session, record_event

Account = Any  # the auth user model (settings.AUTH_USER_MODEL)

CODE_MINUTES = 15
OPEN_MINUTES = 15
APPROVAL_OPEN_MINUTES = 60
MAX_CODE_ATTEMPTS = 5
NOTICE_DAYS = 14
_ENROLMENT_SALT = "tierspayant.accounts.passkey-enrolment-code"
_NOTICE_SALT = "tierspayant.accounts.passkey-notice-code"


class EnrolmentError(Exception):
    """A first-passkey step refused; ``message`` says why in French (shown to the user)."""

    message = "Enrôlement impossible."

    def __str__(self) -> str:
        return self.message


class NoPendingEnrolment(EnrolmentError):
    message = "Aucune demande d'enrôlement en attente : recommencez depuis la page Sécurité."


class InvalidEnrolmentCode(EnrolmentError):
    message = "Code incorrect, expiré, ou trop d'essais : demandez un nouveau code."


class ApprovalRefused(EnrolmentError):
    message = (
        "Approbation refusée : seul un autre membre du personnel, actif et habilité, "
        "peut approuver."
    )


class BootstrapRefused(EnrolmentError):
    message = (
        "Un autre membre du personnel détient une clé d'accès : l'enrôlement s'approuve "
        "dans le back-office, pas en ligne de commande."
    )


class InvalidNoticeCode(EnrolmentError):
    message = "Code incorrect, expiré, ou trop d'essais. Contactez l'assistance."


class LastFactor(EnrolmentError):
    message = "C'est votre dernier second facteur : ajoutez-en un autre avant."


@dataclass(frozen=True)
class EnrolmentRequested:
    """A new request: ``code`` is what was e-mailed (``email`` route; None for approval)."""

    enrolment: PasskeyEnrolment
    code: str | None


def _digest(salt: str, code: str) -> str:
    return salted_hmac(salt, normalise_code(code), algorithm="sha256").hexdigest()


def needs_enrolment(user: Account) -> bool:
    """True when a passkey added to ``user`` would be their first AND a relayed sign-in could
    otherwise plant it: staff (always), or an account that already has a second factor.
    (A professional's very first factor, at first sign-in, is a bootstrap like the TOTP
    enrolment: docs/security.md.)"""
    if holds_passkey(user):
        return False
    return bool(getattr(user, "is_staff", False)) or user_has_device(user)


def route_for(user: Account) -> EnrolmentRoute:
    """``approval`` for staff and for accounts without an e-mail address, else ``email``."""
    if getattr(user, "is_staff", False) or not getattr(user, "email", ""):
        return EnrolmentRoute.APPROVAL
    return EnrolmentRoute.EMAIL


def _pending(user: Account) -> Any:
    return PasskeyEnrolment.objects.filter(
        user=user, opened_at__isnull=True, cancelled_at__isnull=True
    )


def pending_enrolment(user: Account, *, now: datetime.datetime) -> PasskeyEnrolment | None:
    """The request waiting for its code (not expired) or for an approval, if any."""
    for enrolment in _pending(user).order_by("-requested_at")[:1]:
        if enrolment.route == EnrolmentRoute.APPROVAL or (
            enrolment.code_expires_at is not None and now < enrolment.code_expires_at
        ):
            return enrolment
    return None


def open_enrolment(
    user: Account, *, session_id: uuid.UUID | str | None, now: datetime.datetime
) -> PasskeyEnrolment | None:
    """The opening that allows ``user``'s first passkey now, if any: confirmed or approved,
    unused, within its window; an e-mail opening only in the session that asked for it."""
    since_email = now - datetime.timedelta(minutes=OPEN_MINUTES)
    since_approval = now - datetime.timedelta(minutes=APPROVAL_OPEN_MINUTES)
    for enrolment in PasskeyEnrolment.objects.filter(
        user=user,
        opened_at__isnull=False,
        used_at__isnull=True,
        cancelled_at__isnull=True,
        opened_at__gt=since_approval,
    ).order_by("-opened_at"):
        if enrolment.route == EnrolmentRoute.APPROVAL:
            return enrolment
        in_time = enrolment.opened_at > since_email  # type: ignore[operator]
        if in_time and session_id is not None and str(enrolment.session_id) == str(session_id):
            return enrolment
    return None


def request_enrolment(
    user: Account, *, session_id: uuid.UUID | str | None, now: datetime.datetime
) -> EnrolmentRequested:
    """Ask for the opening of ``user``'s first passkey; earlier requests still pending are
    cancelled. ``email`` route: a code is e-mailed to the address on file; ``approval``
    route: the request waits in the back-office. Records the event."""
    route = route_for(user)
    code = f"{secrets.randbelow(10**8):08d}" if route == EnrolmentRoute.EMAIL else None
    with transaction.atomic():
        _pending(user).update(cancelled_at=now)
        enrolment = PasskeyEnrolment.objects.create(
            user=user,
            route=route,
            requested_at=now,
            session_id=session_id if route == EnrolmentRoute.EMAIL else None,
            code_digest=_digest(_ENROLMENT_SALT, code) if code else "",
            code_expires_at=now + datetime.timedelta(minutes=CODE_MINUTES) if code else None,
        )
        record_event(
            user,
            SecurityEventKind.PASSKEY_ENROLMENT_REQUESTED,
            now=now,
            actor=user,
            detail={"enrolment": enrolment.pk, "route": route.value},
        )
    if code:
        local = timezone.localtime(now)
        send_mail(
            subject="tierspayant : code pour ajouter une clé d'accès",
            message=(
                "Bonjour,\n\n"
                f"L'ajout d'une première clé d'accès à votre compte tierspayant a été demandé "
                f"le {local:%d/%m/%Y} à {local:%H:%M} (heure de Paris).\n\n"
                f"Code de confirmation : {code}\n"
                f"Valable {CODE_MINUTES} minutes, à saisir sur la page Sécurité du portail.\n\n"
                "Si vous n'êtes pas à l'origine de cette demande, ne communiquez ce code à "
                "personne (l'assistance ne vous le demandera jamais), changez votre mot de "
                "passe et prévenez l'assistance : quelqu'un connaît votre mot de passe et un "
                "de vos codes.\n"
            ),
            from_email=None,
            recipient_list=[user.email],
        )
    return EnrolmentRequested(enrolment=enrolment, code=code)


def confirm_enrolment(
    user: Account, *, session_id: uuid.UUID | str | None, code: str, now: datetime.datetime
) -> PasskeyEnrolment:
    """Open ``user``'s pending e-mail request with the code it sent, in the session that
    asked for it. Raises :class:`NoPendingEnrolment` or :class:`InvalidEnrolmentCode` (a wrong
    code is counted even though the call fails)."""
    with transaction.atomic():
        enrolment = (
            _pending(user)
            .select_for_update()
            .filter(route=EnrolmentRoute.EMAIL)
            .order_by("-requested_at")
            .first()
        )
        if enrolment is None or str(enrolment.session_id) != str(session_id):
            raise NoPendingEnrolment
        if (
            enrolment.code_expires_at is None
            or now >= enrolment.code_expires_at
            or enrolment.attempts >= MAX_CODE_ATTEMPTS
        ):
            raise InvalidEnrolmentCode
        wrong = not hmac.compare_digest(enrolment.code_digest, _digest(_ENROLMENT_SALT, code))
        if wrong:
            enrolment.attempts += 1
            enrolment.save(update_fields=["attempts"])
        else:
            enrolment.opened_at = now
            enrolment.save(update_fields=["opened_at"])
            record_event(
                user,
                SecurityEventKind.PASSKEY_ENROLMENT_CONFIRMED,
                now=now,
                actor=user,
                detail={"enrolment": enrolment.pk},
            )
    if wrong:
        raise InvalidEnrolmentCode
    return enrolment


def _open_approval(
    enrolment_id: int, *, approver: Account | None, now: datetime.datetime, detail: dict
) -> PasskeyEnrolment:
    enrolment = (
        PasskeyEnrolment.objects.select_for_update()
        .filter(
            pk=enrolment_id,
            route=EnrolmentRoute.APPROVAL,
            opened_at__isnull=True,
            cancelled_at__isnull=True,
        )
        .first()
    )
    if enrolment is None:
        raise NoPendingEnrolment
    enrolment.approved_by = approver
    enrolment.approved_at = now
    enrolment.opened_at = now
    enrolment.save(update_fields=["approved_by", "approved_at", "opened_at"])
    record_event(
        enrolment.user,
        SecurityEventKind.PASSKEY_ENROLMENT_APPROVED,
        now=now,
        actor=approver,
        detail={"enrolment": enrolment.pk, **detail},
    )
    return enrolment


@transaction.atomic
def approve_enrolment(
    *, enrolment_id: int, approver: Account, now: datetime.datetime
) -> PasskeyEnrolment:
    """Another staff member approves a pending ``approval`` request (the back-office's
    action, which already demands the approver's passkey session and a step-up).

    Raises :class:`ApprovalRefused` (approver not active staff holding the permission
    ``accounts.approve_passkeyenrolment``, or the requester themselves),
    :class:`NoPendingEnrolment`, ``PasskeyEnrolment.DoesNotExist``."""
    requester_id = PasskeyEnrolment.objects.values_list("user_id", flat=True).get(pk=enrolment_id)
    if (
        not getattr(approver, "is_staff", False)
        or not getattr(approver, "is_active", False)
        or not approver.has_perm("accounts.approve_passkeyenrolment")
        or approver.pk == requester_id
    ):
        raise ApprovalRefused
    return _open_approval(enrolment_id, approver=approver, now=now, detail={"via": "back-office"})


@transaction.atomic
def approve_enrolment_from_shell(
    user: Account, *, reason: str, now: datetime.datetime
) -> PasskeyEnrolment:
    """The platform's shell approves ``user``'s pending request: the bootstrap of a
    platform's first staff passkey, when nobody else could approve it. Recorded with no
    actor and ``reason`` (a ticket reference, 200 characters at most).

    Raises :class:`BootstrapRefused` when another active staff account holds a passkey
    (they approve in the back-office), :class:`NoPendingEnrolment`."""
    others = WebAuthnCredential.objects.filter(
        confirmed=True, user__is_staff=True, user__is_active=True
    ).exclude(user=user)
    if others.exists():
        raise BootstrapRefused
    pending = _pending(user).filter(route=EnrolmentRoute.APPROVAL).order_by("-requested_at")
    first = pending.first()
    if first is None:
        raise NoPendingEnrolment
    return _open_approval(
        first.pk, approver=None, now=now, detail={"via": "command", "reason": reason[:200]}
    )


def consume_enrolment(
    user: Account,
    *,
    session_id: uuid.UUID | str | None,
    now: datetime.datetime,
) -> PasskeyEnrolment | None:
    """Spend the opening for one passkey (call inside the transaction that stores it):
    the opening, or None when there is none (then nothing may be stored). Two concurrent
    registrations cannot both spend it (row lock, then a conditional update)."""
    found = open_enrolment(user, session_id=session_id, now=now)
    if found is None:
        return None
    spent = PasskeyEnrolment.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=now)
    return found if spent else None


def link_credential(enrolment: PasskeyEnrolment, credential_id: int) -> None:
    """Remember which passkey an opening produced."""
    PasskeyEnrolment.objects.filter(pk=enrolment.pk).update(credential_id=credential_id)


# --- notice and removal ---------------------------------------------------------------


def announce_passkey_added(
    user: Account, credential_id: int, *, now: datetime.datetime
) -> str | None:
    """Record the addition and e-mail the holder a notice with a removal code (valid
    :data:`NOTICE_DAYS` days); returns the code (None when the account has no e-mail
    address: staff reset is then the only way back)."""
    record_event(
        user,
        SecurityEventKind.PASSKEY_ADDED,
        now=now,
        actor=user,
        detail={"passkey": credential_id},
    )
    email = getattr(user, "email", "")
    if not email:
        return None
    raw = "".join(secrets.choice(ALPHABET) for _ in range(10))
    code = f"{raw[:5]}-{raw[5:]}"
    PasskeyNotice.objects.update_or_create(
        credential_id=credential_id,
        defaults={
            "user": user,
            "sent_at": now,
            "code_digest": _digest(_NOTICE_SALT, code),
            "expires_at": now + datetime.timedelta(days=NOTICE_DAYS),
            "attempts": 0,
        },
    )
    local = timezone.localtime(now)
    send_mail(
        subject="tierspayant : nouvelle clé d'accès ajoutée",
        message=(
            "Bonjour,\n\n"
            f"Une clé d'accès a été ajoutée à votre compte tierspayant le {local:%d/%m/%Y} "
            f"à {local:%H:%M} (heure de Paris).\n\n"
            "Si ce n'est pas vous : connectez-vous avec votre mot de passe et votre code à 6 "
            "chiffres, ouvrez Sécurité, choisissez « Je ne l'ai pas ajoutée » en face de "
            f"cette clé et saisissez ce code de retrait : {code}\n"
            f"Il est valable {NOTICE_DAYS} jours ; la clé sera retirée et vos autres sessions "
            "fermées. Puis changez votre mot de passe et prévenez l'assistance.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )
    return code


def remove_passkey_with_notice_code(
    user: Account,
    *,
    passkey_id: int,
    code: str,
    keep_session: uuid.UUID | str | None,
    now: datetime.datetime,
) -> int:
    """Remove ``user``'s passkey ``passkey_id`` with the removal code of its notice, then end
    every other open session of ``user`` (``keep_session``: the caller's public id). Returns
    the number of sessions ended.

    Raises ``WebAuthnCredential.DoesNotExist`` (not this user's passkey),
    :class:`InvalidNoticeCode` (no notice, expired, wrong code — counted —, too many tries),
    :class:`LastFactor` (the passkey is the account's only second factor)."""
    with transaction.atomic():
        passkey = WebAuthnCredential.objects.select_for_update().get(pk=passkey_id, user=user)
        notice = PasskeyNotice.objects.select_for_update().filter(credential=passkey).first()
        if notice is None or now >= notice.expires_at or notice.attempts >= MAX_CODE_ATTEMPTS:
            raise InvalidNoticeCode
        wrong = not hmac.compare_digest(notice.code_digest, _digest(_NOTICE_SALT, code))
        if wrong:
            notice.attempts += 1
            notice.save(update_fields=["attempts"])
        else:
            others = [
                d
                for d in devices_for_user(user, confirmed=True)
                if not (isinstance(d, WebAuthnCredential) and d.pk == passkey.pk)
                and not isinstance(d, RecoveryCodeDevice)
            ]
            if not others:
                raise LastFactor
            passkey.delete()
            record_event(
                user,
                SecurityEventKind.PASSKEY_REMOVED_BY_NOTICE,
                now=now,
                actor=user,
                detail={"passkey": passkey_id},
            )
    if wrong:
        raise InvalidNoticeCode
    sessions = UserSession.objects.filter(user=user, ended_at__isnull=True)
    if keep_session is not None:
        sessions = sessions.exclude(public_id=keep_session)
    return sum(int(end_session(user, row.public_id, now=now)) for row in sessions)
