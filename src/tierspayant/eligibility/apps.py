from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    """Rights checks (IDB): the disclosure gate for "is this patient covered on that day"."""

    name = "tierspayant.eligibility"
    verbose_name = "Vérification des droits"
