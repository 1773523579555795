from django.apps import AppConfig


class CalculationsConfig(AppConfig):
    """Calculations of the AMC amount before billing (CLC), through the disclosure gate."""

    name = "tierspayant.calculations"
    verbose_name = "Calculs de la part complémentaire (CLC)"
