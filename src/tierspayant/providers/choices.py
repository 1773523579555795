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
    LABORATORY = "laboratory", "Laboratoire de biologie médicale"
    NURSE = "nurse", "Infirmier"
    PHYSIOTHERAPIST = "physiotherapist", "Masseur-kinésithérapeute"
    MIDWIFE = "midwife", "Sage-femme"


class Scope(StrEnum):
    """API token scopes, ``resource:action``."""

    ELIGIBILITY_CHECK = "eligibility:check"
    CLAIMS_SUBMIT = "claims:submit"
    PAYMENTS_READ = "payments:read"


class BankAccountStatus(models.TextChoices):
    """pending: awaiting its out-of-band confirmation; active: paid from ``active_from``
    (after the cooling-off period); cancelled: a change that was cancelled or never
    confirmed."""

    PENDING = "pending", "En attente de confirmation"
    ACTIVE = "active", "Validé"
    CANCELLED = "cancelled", "Annulé"


class BankChangeStatus(models.TextChoices):
    """A change of bank details: awaiting the emailed code, confirmed (cooling-off until
    ``effective_at``, then in force), or cancelled. An unconfirmed change lapses when its
    code expires."""

    AWAITING_CONFIRMATION = "awaiting", "En attente du code de confirmation"
    CONFIRMED = "confirmed", "Confirmé"
    CANCELLED = "cancelled", "Annulé"
