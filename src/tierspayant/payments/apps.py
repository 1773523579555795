from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Payment runs: SEPA credit transfers per insurer and statements per professional."""

    name = "tierspayant.payments"
    verbose_name = "Paiements"
