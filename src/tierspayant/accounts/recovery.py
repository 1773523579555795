"""Single-use recovery codes, stored as keyed digests.

A code is 10 characters from a 31-symbol alphabet without look-alikes (49.5 bits), shown as
``xxxxx-xxxxx``; a set holds :data:`CODES_PER_SET` codes. Only
``HMAC-SHA256(key derived from SECRET_KEY, normalised code)`` is stored, so a copy of the
database alone cannot test guesses (ASVS 5.0 V6.5.2, "stored hashed"; NIST SP 800-63B-4
§3.1.2: look-up secrets of at least 20 bits of entropy; ours have 49, and are throttled).
Separators, spaces and case are ignored on input. Rotating ``SECRET_KEY`` invalidates
outstanding codes (the user then generates a new set after signing in with another factor).
"""

from __future__ import annotations

import datetime
import secrets

from django.db import transaction
from django.utils.crypto import salted_hmac

from tierspayant.accounts.models import RecoveryCode, RecoveryCodeDevice

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # 31 symbols: no i, l, o, 0, 1
CODES_PER_SET = 10
_SALT = "tierspayant.accounts.recovery-code"


def normalise_code(raw: str) -> str:
    """Lower case, without spaces or hyphens (what the user may type around a code)."""
    return "".join(ch for ch in raw.lower() if ch not in " -\t")


def code_digest(code: str) -> str:
    """The stored form of ``code``: 64 hex characters (HMAC-SHA256, key from SECRET_KEY)."""
    return salted_hmac(_SALT, normalise_code(code), algorithm="sha256").hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


@transaction.atomic
def issue_recovery_codes(user, *, now: datetime.datetime) -> list[str]:  # type: ignore[no-untyped-def]
    """Replace the user's recovery codes with a new set and return the codes in clear, to be
    shown once. The previous set stops working at once."""
    del now  # the set carries no date; kept for the verb-service signature
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="Codes de secours", confirmed=True)
    codes = [_new_code() for _ in range(CODES_PER_SET)]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(device=device, digest=code_digest(code)) for code in codes]
    )
    return codes


def consume_code(device: RecoveryCodeDevice, raw: str) -> bool:
    """Spend the unused code matching ``raw``: True once, False for an unknown or used code.
    The update is conditional on ``used_at IS NULL``, so two concurrent uses of one code
    cannot both succeed."""
    from django.utils import timezone

    updated = RecoveryCode.objects.filter(
        device=device, digest=code_digest(raw), used_at__isnull=True
    ).update(used_at=timezone.now())
    return updated == 1


def remaining_codes(user) -> int:  # type: ignore[no-untyped-def]
    """How many unused recovery codes the user still holds."""
    return RecoveryCode.objects.filter(device__user=user, used_at__isnull=True).count()
