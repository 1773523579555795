from django.apps import AppConfig


class ProSanteConnectConfig(AppConfig):
    name = "tierspayant.prosanteconnect"
    label = "prosanteconnect"
    verbose_name = "Pro Santé Connect"
    default_auto_field = "django.db.models.BigAutoField"
