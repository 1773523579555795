from django.apps import AppConfig


class ApiConfig(AppConfig):
    """JSON API (django-ninja, OpenAPI) and FHIR R4 endpoints for practice software."""

    name = "tierspayant.api"
    verbose_name = "API"
