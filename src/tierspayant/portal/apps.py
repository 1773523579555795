from django.apps import AppConfig


class PortalConfig(AppConfig):
    """Web pages for professionals (French first)."""

    name = "tierspayant.portal"
    verbose_name = "Portail"
