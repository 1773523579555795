"""Out-of-band messages: the security team and the professional are told by email.

Messages name the account, the kind of finding and the time; never a beneficiary, a NIR or
a value the professional typed. Sending failures are logged and swallowed: a mail server
down must not keep an account open.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence

from django.core.mail import send_mail

logger = logging.getLogger(__name__)


def _send(subject: str, body: str, recipients: Sequence[str]) -> None:
    recipients = [r for r in recipients if r]
    if not recipients:
        return
    try:
        send_mail(subject, body, None, recipients, fail_silently=False)
    except Exception:  # a mail outage must not undo a suspension
        logger.exception("guard: could not send %r", subject)


def tell_security_team(
    *, recipients: Sequence[str], subject: str, lines: Sequence[str], when: datetime.datetime
) -> None:
    """Email the security team (``recipients``). ``lines`` hold ids, kinds and counts only."""
    _send(
        f"[tierspayant sécurité] {subject}",
        "\n".join([f"{when:%Y-%m-%d %H:%M} UTC", *lines]),
        recipients,
    )


def tell_professional_suspended(
    *, email: str, display_name: str, reason_label: str, when: datetime.datetime
) -> None:
    """Tell the professional, on the address on file, that the account was suspended."""
    body = (
        f"Bonjour {display_name},\n\n"
        f"Par mesure de sécurité, votre compte tierspayant a été suspendu le "
        f"{when:%d/%m/%Y à %H:%M} (UTC) : {reason_label}.\n"
        "Vos sessions et vos jetons d'API ont été révoqués.\n\n"
        "Si vous n'êtes pas à l'origine de cette activité, votre mot de passe a peut-être été "
        "dérobé : contactez l'assistance, qui rétablira l'accès après vérification.\n"
    )
    _send("Votre compte tierspayant est suspendu", body, [email])
