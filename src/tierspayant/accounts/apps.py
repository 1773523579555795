from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in security: recovery codes, tracked sessions, known browsers, security events."""

    name = "tierspayant.accounts"
    verbose_name = "Comptes et sécurité de connexion"

    def ready(self) -> None:
        from tierspayant.accounts import throttling  # noqa: F401  (connects the lockout counter)
