"""Controlled vocabularies of sign-in security (``source:subject:action``, STYLE.md)."""

from django.db import models


class SecurityEventKind(models.TextChoices):
    """What happened to an account's authentication. Values are stable: they are stored."""

    SIGN_IN_NEW_BROWSER = "accounts:sign-in:new-browser", "Connexion depuis un nouvel appareil"
    SECOND_FACTOR_RESET = "accounts:factor:reset", "Seconds facteurs réinitialisés"
    RECOVERY_CODES_ISSUED = "accounts:recovery:issued", "Codes de secours générés"
    RECOVERY_CODE_USED = "accounts:recovery:used", "Code de secours utilisé"
    SESSION_ENDED = "accounts:session:ended", "Session fermée par l'utilisateur"
    PASSKEY_ADDED = "accounts:passkey:added", "Clé d'accès ajoutée"
    EMAIL_CHANGED = "accounts:email:changed", "Adresse de contact changée par l'assistance"
