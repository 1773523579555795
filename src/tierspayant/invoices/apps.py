from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    """Invoices of every profession (medicines, biology, nursing, physiotherapy, GP,
    hospital, devices, CCAM acts) checked against the public nomenclatures, with the AMC
    share of each line from the coverage engine (docs/invoices.md)."""

    name = "tierspayant.invoices"
    verbose_name = "Factures (toutes professions)"
