"""Lockdown: close the portal and human-facing rights checks in one step, while API and
FHIR (invoice intake, automated tiers payant, payment runs) keep working.

Switching it on also ends every professional's session (``sessions_revoked_at``) and
requires a new password at their next sign-in (``must_change_password``).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction

from tierspayant.guard.models import AccountGuard, LockdownEvent, LockdownState
from tierspayant.providers.models import Professional


def lockdown_active() -> bool:
    """True while the portal is closed (one indexed query)."""
    return LockdownState.objects.filter(pk=1, active=True).exists()


def set_lockdown(
    *, active: bool, actor: Any, reason: str, source: str, now: datetime.datetime
) -> LockdownState:
    """Switch lockdown on or off at ``now``; ``actor`` is the staff user (None from the
    command line), ``source`` ``"command"`` or ``"admin"``. Raises ``ValueError`` without a
    reason. Switching on revokes professionals' sessions and forces a password change."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("a reason is required to switch lockdown")
    with transaction.atomic():
        state, _ = LockdownState.objects.select_for_update().get_or_create(pk=1)
        state.active = active
        state.changed_at = now
        state.changed_by = actor
        state.reason = reason
        state.save()
        if active:
            missing = Professional.objects.exclude(guard__isnull=False).values_list("pk", flat=True)
            AccountGuard.objects.bulk_create(
                [AccountGuard(professional_id=pk) for pk in missing], ignore_conflicts=True
            )
            AccountGuard.objects.update(sessions_revoked_at=now, must_change_password=True)
        LockdownEvent.objects.create(
            at=now, active=active, actor=actor, source=source, reason=reason
        )
    return state


def password_changed(*, professional: Professional) -> None:
    """The professional chose a new password: lift the change requirement."""
    AccountGuard.objects.filter(pk=professional.pk).update(must_change_password=False)
