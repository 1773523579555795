from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """Insurers, contracts and beneficiaries (the register fed by member files)."""

    name = "tierspayant.registry"
    verbose_name = "Registre"
