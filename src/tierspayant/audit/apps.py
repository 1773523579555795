from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The disclosure log: who saw which fields of whom, when, why, and what was refused."""

    name = "tierspayant.audit"
    verbose_name = "Journal des divulgations"
