"""Vocabularies of the disclosure log."""

from django.db import models


class Channel(models.TextChoices):
    """Which way in the request came."""

    PORTAL = "portal", "Portail"
    API = "api", "API JSON"
    FHIR = "fhir", "API FHIR"
    COMMAND = "command", "Commande"


class Purpose(models.TextChoices):
    """Why the data was asked for."""

    RIGHTS_CHECK = "rights_check", "Vérification des droits"


class Outcome(models.TextChoices):
    """What the caller got. Only ``covered``/``not_covered`` disclose anything about a person."""

    COVERED = "covered", "Droits ouverts"
    NOT_COVERED = "not_covered", "Droits fermés à la date"
    NO_MATCH = "no_match", "Aucune correspondance"
    AMBIGUOUS = "ambiguous", "Ambigu (rang requis)"
    INVALID_INPUT = "invalid_input", "Saisie invalide"
    REFUSED_QUOTA = "refused_quota", "Refus : quota atteint"
    REFUSED_GUARD = "refused_guard", "Refus : contrôle indisponible"
