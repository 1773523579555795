"""Responses to findings on one account: step-up, slow-down, suspension, and lifting it.

A suspension takes effect on the very next request: the gate refuses the account, the
portal middleware ends every session opened before ``sessions_revoked_at``, and every API
token is revoked. Only staff lift a suspension, with a reason, recorded.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from tierspayant.accounts.services import end_all_sessions
from tierspayant.guard.models import AccountGuard, Alert, Suspension, suspension_reason_label
from tierspayant.guard.notify import tell_professional_suspended, tell_security_team
from tierspayant.providers.models import ApiToken, Professional
from tierspayant.providers.services import revoke_all_api_tokens, revoke_api_token


class NotSuspended(Exception):
    """Lifting a suspension of an account that is not suspended."""


def _account(professional: Professional) -> AccountGuard:
    account, _ = AccountGuard.objects.get_or_create(professional=professional)
    return account


def require_step_up(*, professional: Professional, now: datetime.datetime) -> None:
    """Require a second factor newer than ``now`` before the next human rights check."""
    _account(professional)
    AccountGuard.objects.filter(pk=professional.pk).update(step_up_required_since=now)


def revoke_token(*, token_id: int, now: datetime.datetime) -> None:
    """Revoke one API token at ``now`` (a finding on the token, not on its owner)."""
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is not None:
        revoke_api_token(token=token, now=now)


def slow_down(*, professional: Professional, until: datetime.datetime) -> None:
    """Apply the policy's slow-down rate to the account until ``until`` (aware)."""
    _account(professional)
    AccountGuard.objects.filter(pk=professional.pk).update(slowed_until=until)


def suspend_account(
    *,
    professional: Professional,
    reason: str,
    now: datetime.datetime,
    alert: Alert | None = None,
    security_emails: Sequence[str] = (),
) -> Suspension:
    """Suspend the account at ``now``: refuse its rights checks, end its sessions, revoke its
    API tokens, tell the professional and the security team. ``reason`` is an alert kind or
    ``"manual"``. Suspending a suspended account returns its open suspension unchanged."""
    with transaction.atomic():
        account = AccountGuard.objects.select_for_update().filter(pk=professional.pk).first()
        if account is None:
            account = _account(professional)
        if account.suspended:
            open_one = Suspension.objects.filter(
                professional=professional, lifted_at__isnull=True
            ).first()
            if open_one is not None:
                return open_one
        account.suspended = True
        account.suspended_at = now
        account.sessions_revoked_at = now
        account.save(update_fields=["suspended", "suspended_at", "sessions_revoked_at"])
        revoke_all_api_tokens(professional=professional, now=now)
        # The tracked sessions the professional sees end too (their data is deleted at once);
        # ``sessions_revoked_at`` still catches any session opened outside the tracking.
        end_all_sessions(professional.user, now=now)
        suspension = Suspension.objects.create(
            professional=professional, alert=alert, reason=reason[:24], suspended_at=now
        )
    label = suspension_reason_label(reason)
    tell_professional_suspended(
        email=professional.user.email,
        display_name=professional.display_name,
        reason_label=label,
        when=now,
    )
    tell_security_team(
        recipients=security_emails,
        subject=f"compte {professional.pk} suspendu ({label})",
        lines=[
            f"Professionnel : {professional.pk}",
            f"Motif : {label}",
            f"Alerte : {alert.pk if alert else '-'}",
        ],
        when=now,
    )
    return suspension


def lift_suspension(
    *, professional: Professional, by: Any, reason: str, now: datetime.datetime
) -> Suspension:
    """Lift the account's suspension. ``by`` must be a staff user; ``reason`` is required.

    Raises ``PermissionDenied`` (not staff), ``ValueError`` (empty reason),
    :class:`NotSuspended`. API tokens stay revoked: the professional issues new ones.
    """
    if not getattr(by, "is_staff", False):
        raise PermissionDenied("only staff lift a suspension")
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("a reason is required to lift a suspension")
    with transaction.atomic():
        account = AccountGuard.objects.select_for_update().filter(pk=professional.pk).first()
        if account is None or not account.suspended:
            raise NotSuspended
        account.suspended = False
        account.step_up_required_since = None
        account.slowed_until = None
        account.save(update_fields=["suspended", "step_up_required_since", "slowed_until"])
        suspension = Suspension.objects.filter(
            professional=professional, lifted_at__isnull=True
        ).first()
        if suspension is None:  # suspended without a row (should not happen): record one
            suspension = Suspension.objects.create(
                professional=professional, reason="manual", suspended_at=account.suspended_at or now
            )
        suspension.lifted_at = now
        suspension.lifted_by = by
        suspension.lift_reason = reason
        suspension.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    return suspension
