from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    """Returns to professionals: one line per invoice accepted, rejected or paid, pollable by
    practice software."""

    name = "tierspayant.returns"
    verbose_name = "Retours aux professionnels"
