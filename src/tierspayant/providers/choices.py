"""Controlled vocabularies for professionals."""

from enum import StrEnum

from django.db import models


class Profession(models.TextChoices):
    """The professions that use tiers payant on this platform."""

    OPTICIAN = "optician", "Opticien"
    AUDIOPROSTHETIST = "audioprosthetist", "Audioprothésiste"
    PHARMACIST = "pharmacist", "Pharmacien"
    DENTIST = "dentist", "Chirurgien-dentiste"
    PHYSICIAN = "physician", "Médecin"
    HOSPITAL = "hospital", "Établissement de santé"


class Scope(StrEnum):
    """API token scopes, ``resource:action``."""

    ELIGIBILITY_CHECK = "eligibility:check"
