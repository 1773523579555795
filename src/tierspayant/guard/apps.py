from django.apps import AppConfig


class GuardConfig(AppConfig):
    """Quotas and, later, detectors, canaries, suspension and lockdown."""

    name = "tierspayant.guard"
    verbose_name = "Garde"

    def ready(self) -> None:
        """Register the guard's deploy checks."""
        from tierspayant.guard import checks  # noqa: F401
