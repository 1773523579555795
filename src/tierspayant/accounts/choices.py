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
    PASSKEY_REMOVED_BY_NOTICE = (
        "accounts:passkey:removed-by-notice",
        "Clé d'accès retirée avec le code de l'avis d'ajout",
    )
    PASSKEY_ENROLMENT_REQUESTED = (
        "accounts:passkey-enrolment:requested",
        "Enrôlement d'une première clé d'accès demandé",
    )
    PASSKEY_ENROLMENT_CONFIRMED = (
        "accounts:passkey-enrolment:confirmed",
        "Enrôlement d'une première clé d'accès confirmé par e-mail",
    )
    PASSKEY_ENROLMENT_APPROVED = (
        "accounts:passkey-enrolment:approved",
        "Enrôlement d'une première clé d'accès approuvé",
    )
    LOCKDOWN_CHANGED = (
        "accounts:lockdown:changed",
        "Niveau de confinement du portail changé",
    )


class EnrolmentRoute(models.TextChoices):
    """How a first passkey enrolment is opened (docs/security.md, "first passkey")."""

    EMAIL = "email", "Code envoyé par e-mail au titulaire"
    APPROVAL = "approval", "Approbation par un autre membre du personnel"
