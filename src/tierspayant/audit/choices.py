"""Vocabularies of the disclosure log."""

from django.db import models


class Channel(models.TextChoices):
    """Which way in the request came."""

    PORTAL = "portal", "Portail"
    API = "api", "API JSON"
    FHIR = "fhir", "API FHIR"
    COMMAND = "command", "Commande"
    BACKOFFICE = "backoffice", "Back-office"


class Purpose(models.TextChoices):
    """Why the data was asked for: a rights check on its own, or the identification of the
    patient of a prior-approval request, a claim, an invoice of a lot or a calculation of the
    AMC amount before billing (CLC) (all go through the rights check)."""

    RIGHTS_CHECK = "rights_check", "Vérification des droits"
    PRIOR_APPROVAL = "prior_approval", "Demande d'accord préalable"
    CLAIM = "claim", "Facture de tiers payant"
    INVOICE = "invoice", "Facture reçue en lot"
    CALCULATION = "calculation", "Calcul de la part complémentaire (CLC)"
    ACCESS_HISTORY = "access_history", "Consultation de l'historique des accès"
    ATTESTATION = "attestation", "Attestation de tiers payant"


class Outcome(models.TextChoices):
    """What the caller got. Only ``covered``/``not_covered`` disclose anything about a person."""

    COVERED = "covered", "Droits ouverts"
    NOT_COVERED = "not_covered", "Droits fermés à la date"
    NO_MATCH = "no_match", "Aucune correspondance"
    AMBIGUOUS = "ambiguous", "Ambigu (rang requis)"
    INVALID_INPUT = "invalid_input", "Saisie invalide"
    REFUSED_QUOTA = "refused_quota", "Refus : quota atteint"
    REFUSED_GUARD = "refused_guard", "Refus : contrôle indisponible"
    REFUSED_SUSPENDED = "refused_suspended", "Refus : compte suspendu"
    REFUSED_STEP_UP = "refused_step_up", "Refus : second facteur récent exigé"
    REFUSED_LOCKDOWN = "refused_lockdown", "Refus : portail fermé (confinement)"
    HISTORY_SHOWN = "history_shown", "Historique des accès communiqué"
    ATTESTATION_ISSUED = "attestation_issued", "Attestation délivrée"


#: Outcomes whose row names a beneficiary and lists the fields disclosed about them.
DISCLOSING_OUTCOMES = (Outcome.COVERED, Outcome.NOT_COVERED)


class InsurerScope(models.TextChoices):
    """Scopes of an insurer's API token, ``resource:action``."""

    AUDIT_READ = "audit:read", "Lecture de l'historique des accès"
