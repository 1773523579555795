"""The one place where a second-factor code is checked: TOTP codes (sign-in, enrolment, step-up)
and recovery codes.

django-otp's ``verify_is_allowed`` + ``verify_token`` read the device row, check the code,
then save the whole row: a read-then-write that concurrent requests win. Six sessions posting
one TOTP code at once got up to three in (issue 13), and concurrent wrong guesses each passed
the throttle and lost each other's failure counts. Here every write is one conditional
``UPDATE`` (a compare-and-set), the same on PostgreSQL and SQLite:

1. the attempt is *claimed* first: the failure count goes up by one only if the throttle
   allows an attempt now and nobody changed it since it was read; a concurrent attempt that
   loses the race is refused unchecked (at most one code checked per throttle delay);
2. a right TOTP code then spends its time step: ``last_t`` moves to the code's step only if it
   is still below it (``WHERE last_t < t``), so one step opens one session; a right recovery
   code is spent by :func:`tierspayant.accounts.recovery.consume_code`
   (``WHERE used_at IS NULL``);
3. a success resets the failure count in that same statement.

No full-row ``save()``: a device deleted meanwhile (a staff reset of lost factors) is not
written back. Sources: ASVS 5.0 V6.5.5 (a time-based code used once), V6.3.1 (throttling);
NIST SP 800-63B-4 §3.1.4.2 (OTP accepted once), §3.2.2 (rate limiting).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import F
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tierspayant.accounts.models import RecoveryCodeDevice
from tierspayant.accounts.recovery import consume_code


def verify_code(device: Device, token: object, *, now: datetime.datetime) -> bool:
    """True when ``token`` (the code as typed, str) is a right, unused code of ``device`` (a
    :class:`TOTPDevice` or a :class:`RecoveryCodeDevice`) and this attempt is the one that
    spent it; False for a wrong, reused or throttled code, or when a concurrent attempt on the
    same device won. ``now`` (aware) is the instant of the attempt (the TOTP step, the throttle
    and ``last_used_at`` are taken at it). Raises ``TypeError`` for another kind of device."""
    if not isinstance(device, TOTPDevice | RecoveryCodeDevice):
        raise TypeError(f"no code check for {type(device).__name__}")
    try:
        if not isinstance(token, str) or not _claim_attempt(device, now):
            return False
        if isinstance(device, TOTPDevice):
            return _spend_totp_step(device, token, now)
    except type(device).DoesNotExist:  # the device was removed meanwhile (a factor reset)
        return False
    if consume_code(device, token):
        type(device).objects.filter(pk=device.pk).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )
        return True
    return False


def _claim_attempt(device: TOTPDevice | RecoveryCodeDevice, now: datetime.datetime) -> bool:
    """Count this attempt as a failure before checking it, if the throttle allows one now and
    the throttle state is still the one read; False otherwise (nothing written then)."""
    device.refresh_from_db(fields=["throttling_failure_count", "throttling_failure_timestamp"])
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        return False
    claimed = (
        type(device)
        .objects.filter(
            pk=device.pk,
            throttling_failure_count=device.throttling_failure_count,
            throttling_failure_timestamp=device.throttling_failure_timestamp,
        )
        .update(
            throttling_failure_count=F("throttling_failure_count") + 1,
            throttling_failure_timestamp=now,
        )
    )
    return claimed == 1


def _spend_totp_step(device: TOTPDevice, token: str, now: datetime.datetime) -> bool:
    """Match ``token`` against the steps around ``now`` later than ``last_t`` (as django-otp
    does, with its drift), then move ``last_t`` to the matched step if no one did first."""
    device.refresh_from_db(fields=["last_t", "drift"])
    try:
        value = int(token)
    except ValueError:
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = now.timestamp()
    if not totp.verify(value, device.tolerance, device.last_t + 1):
        return False
    step = totp.t()
    drift = totp.drift if getattr(settings, "OTP_TOTP_SYNC", True) else device.drift
    spent = TOTPDevice.objects.filter(pk=device.pk, last_t__lt=step).update(
        last_t=step,
        drift=drift,
        throttling_failure_count=0,
        throttling_failure_timestamp=None,
        last_used_at=now,
    )
    if spent == 1:
        device.last_t, device.drift, device.last_used_at = step, drift, now
    return spent == 1
