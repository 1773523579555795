from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in security: recovery codes, tracked sessions, known browsers, security events."""

    name = "tierspayant.accounts"
    verbose_name = "Comptes et sécurité de connexion"

    def ready(self) -> None:
        from django.contrib import admin

        from tierspayant.accounts import throttling  # noqa: F401  (connects the lockout counter)
        from tierspayant.accounts.admin import register_user_action
        from tierspayant.accounts.admin_titles import apply_french_titles

        apply_french_titles(admin.site)  # first: it replaces the registered admin instances
        register_user_action()
