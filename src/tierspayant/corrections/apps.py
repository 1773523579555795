from django.apps import AppConfig


class CorrectionsConfig(AppConfig):
    """After an invoice is sent: cancellation, rectification, disputes, and the ledger of
    overpayments (indus) per professional and insurer."""

    name = "tierspayant.corrections"
    verbose_name = "Corrections et indus"
