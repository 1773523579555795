from django.apps import AppConfig


class SettlementConfig(AppConfig):
    """Each insurer's settlement of a payment run: funding, export, notice; the payment-delay
    report."""

    name = "tierspayant.settlement"
    verbose_name = "Règlements des organismes"
