"""Controlled vocabularies of the register."""

from django.db import models


class ContractType(models.TextChoices):
    """Individual contract, or collective (company) contract."""

    INDIVIDUAL = "individual", "Individuel"
    COLLECTIVE = "collective", "Collectif"


class Quality(models.TextChoices):
    """The beneficiary's quality on the contract (qualité du bénéficiaire)."""

    INSURED = "insured", "Assuré"
    SPOUSE = "spouse", "Conjoint"
    CHILD = "child", "Enfant"


class Domain(models.TextChoices):
    """Kinds of care open to tiers payant on a contract, as printed on the attestation."""

    PHARMACY = "pharmacy", "Pharmacie"
    OPTICAL = "optical", "Optique"
    AUDIO = "audio", "Audioprothèse"
    DENTAL = "dental", "Dentaire"
    HOSPITAL = "hospital", "Hospitalisation"
    CONSULTATION = "consultation", "Consultations"


#: Convention types (type de convention) a contract may carry, code -> label. The inter-AMC
#: standard's own list could not be checked in public sources (docs/attestations.md): this is
#: data, extended here when an insurer signs another convention with the platform.
CONVENTION_TYPES: dict[str, str] = {
    "TP": "Convention générale de tiers payant",
    "RS": "Réseau de soins conventionné",
    "CC": "Contrat collectif (convention d'entreprise)",
}
