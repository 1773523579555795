"""Lockdown: close the portal and human-facing rights checks, in two levels, while API and
FHIR (invoice intake, lots, automated tiers payant, payment runs) keep working.

- ``full`` (:data:`LockdownLevel.FULL`): the whole portal is closed. Switching it on also
  ends every professional's session (``sessions_revoked_at``) and requires a new password
  at their next sign-in (``must_change_password``).
- ``restricted`` (:data:`LockdownLevel.RESTRICTED`): the portal stays open for prior
  approvals, invoices and statements to sessions signed in with a passkey or Pro Santé
  Connect (``accounts.access.signed_in_phishing_resistant``); free-standing rights checks
  are closed (:func:`human_check_closed`), password + TOTP sign-ins are refused and
  bank-detail changes are frozen (``portal.middleware``). Sessions are not revoked: each
  request of a session that is not phishing resistant is refused.

Issue 19 part 3; docs/security.md "Lockdown levels".
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction

from tierspayant.accounts.choices import SecurityEventKind
from tierspayant.accounts.services import record_event
from tierspayant.audit.choices import Purpose
from tierspayant.guard.choices import LockdownLevel
from tierspayant.guard.models import AccountGuard, LockdownEvent, LockdownState
from tierspayant.providers.models import Professional


def lockdown_level() -> LockdownLevel:
    """The level in force (one indexed query; ``open`` when the switch was never used)."""
    level = LockdownState.objects.filter(pk=1).values_list("level", flat=True).first()
    return LockdownLevel(level or LockdownLevel.OPEN)


def lockdown_active() -> bool:
    """True while the whole portal is closed (full lockdown; one indexed query)."""
    return LockdownState.objects.filter(pk=1, level=LockdownLevel.FULL).exists()


def human_check_closed(level: LockdownLevel, purpose: str | None) -> bool:
    """True when a rights check on a human channel (the portal) is refused at ``level``:
    every check in a full lockdown; in a restricted one, a free-standing rights check
    (``purpose`` ``rights_check`` or None), while the identification of the patient of a
    prior approval, a claim or an invoice (other purposes) still goes through the gate."""
    if level == LockdownLevel.FULL:
        return True
    if level == LockdownLevel.RESTRICTED:
        return purpose in (None, Purpose.RIGHTS_CHECK)
    return False


def set_lockdown(
    *,
    actor: Any,
    reason: str,
    source: str,
    now: datetime.datetime,
    active: bool | None = None,
    level: LockdownLevel | str | None = None,
) -> LockdownState:
    """Switch lockdown to ``level`` (``open``, ``restricted``, ``full``) at ``now``; without
    ``level``, ``active`` True means ``full`` and False ``open`` (the old on/off switch).
    ``actor`` is the staff user (None from the command line), ``source`` ``"command"`` or
    ``"admin"``. A change by staff is also a security event of their account
    (``accounts:lockdown:changed``, detail: previous and new level, source).

    Raises ``ValueError`` without a reason or with an unknown level. Switching to ``full``
    revokes professionals' sessions and forces a password change."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("a reason is required to switch lockdown")
    if level is None:
        level = LockdownLevel.FULL if active else LockdownLevel.OPEN
    if level not in LockdownLevel.values:
        raise ValueError(f"unknown lockdown level {level!r} (open, restricted, full)")
    level = LockdownLevel(level)
    with transaction.atomic():
        state, _ = LockdownState.objects.select_for_update().get_or_create(pk=1)
        previous = state.level
        state.level = level
        state.active = level != LockdownLevel.OPEN
        state.changed_at = now
        state.changed_by = actor
        state.reason = reason
        state.save()
        if level == LockdownLevel.FULL:
            missing = Professional.objects.exclude(guard__isnull=False).values_list("pk", flat=True)
            AccountGuard.objects.bulk_create(
                [AccountGuard(professional_id=pk) for pk in missing], ignore_conflicts=True
            )
            AccountGuard.objects.update(sessions_revoked_at=now, must_change_password=True)
        event = LockdownEvent.objects.create(
            at=now, active=state.active, level=level, actor=actor, source=source, reason=reason
        )
        if actor is not None:
            record_event(
                actor,
                SecurityEventKind.LOCKDOWN_CHANGED,
                now=now,
                actor=actor,
                detail={
                    "from": previous,
                    "to": level.value,
                    "source": source,
                    "lockdown_event_id": event.pk,
                },
            )
    return state


def password_changed(*, professional: Professional) -> None:
    """The professional chose a new password: lift the change requirement."""
    AccountGuard.objects.filter(pk=professional.pk).update(must_change_password=False)
