from django.apps import AppConfig


class PortalConfig(AppConfig):
    """Web pages for professionals (French first)."""

    name = "tierspayant.portal"
    verbose_name = "Portail"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from tierspayant.portal.sessions import stamp_sign_in

        user_logged_in.connect(stamp_sign_in, dispatch_uid="portal-stamp-sign-in")
