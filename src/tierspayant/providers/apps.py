from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    """Health professionals, their identifiers and their API tokens."""

    name = "tierspayant.providers"
    verbose_name = "Professionnels de santé"
