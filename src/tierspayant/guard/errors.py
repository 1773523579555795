"""Refusals the guard raises. Each carries a ``reason`` code (logged in the disclosure log)
and a French ``message`` for the caller; none carries input data."""

from __future__ import annotations


class GuardRefusal(Exception):
    """Base of every guard refusal."""

    reason = "guard"
    message = "Vérification refusée."

    def __init__(self, message: str | None = None, *, reason: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message
        if reason:
            self.reason = reason


class QuotaExceeded(GuardRefusal):
    """A quota (professional or practice, per hour or per day, or the slow-down rate) is
    spent; answer 429. ``reason`` names it, e.g. ``quota_professional_day``."""

    reason = "daily_quota"
    message = "Quota quotidien de vérifications atteint."


class GuardUnavailable(GuardRefusal):
    """The counter store could not be reached; the request is refused (fail closed), 503."""

    reason = "quota_storage"
    message = "Service momentanément indisponible."


class AccountSuspended(GuardRefusal):
    """The professional's account is suspended; answer 403. Only staff lift it."""

    reason = "suspended"
    message = (
        "Compte suspendu par mesure de sécurité. L'équipe sécurité vous a contacté ; "
        "appelez l'assistance pour le rétablir."
    )


class StepUpRequired(GuardRefusal):
    """A fresh second factor is required before more rights checks (human channels)."""

    reason = "step_up"
    message = "Activité inhabituelle : confirmez votre identité avec un nouveau code."


class PortalLocked(GuardRefusal):
    """Lockdown: the portal and human-facing rights checks are closed (503)."""

    reason = "lockdown"
    message = "Portail fermé pour maintenance de sécurité. Réessayez plus tard."
