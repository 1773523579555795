from django.apps import AppConfig


class AttestationsConfig(AppConfig):
    """Tiers payant attestations (PDF with a DataMatrix, JSON) and the directory file."""

    name = "tierspayant.attestations"
    verbose_name = "Attestations de tiers payant"
