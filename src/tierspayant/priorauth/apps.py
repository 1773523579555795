from django.apps import AppConfig


class PriorauthConfig(AppConfig):
    """Prior approvals (PEC): quotes decided at once, binding on the ceilings they commit."""

    name = "tierspayant.priorauth"
    verbose_name = "Demandes de prise en charge"
