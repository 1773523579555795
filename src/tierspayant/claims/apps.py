from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    """Invoices (claims): adjudicated at once through the coverage engine and the approval."""

    name = "tierspayant.claims"
    verbose_name = "Factures"
