"""Portal URLs (French page names would leak nothing either way; ids only, never personal data)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from tierspayant.portal import security_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("connexion/code/", views.otp_verify, name="otp-verify"),
    path("connexion/activer-2fa/", views.otp_setup, name="otp-setup"),
    path("droits/", views.rights_check, name="rights-check"),
    path("jetons/", views.api_tokens, name="api-tokens"),
    path("jetons/<int:token_id>/revoquer/", views.api_token_revoke, name="api-token-revoke"),
    # Account security (issue 8): passkeys, recovery codes, sessions, step-up.
    path("connexion/confirmer/", security_views.step_up, name="step-up"),
    path("connexion/code-de-secours/", security_views.recovery_verify, name="recovery-verify"),
    path("securite/", security_views.security_home, name="security"),
    path(
        "securite/cles/<int:passkey_id>/supprimer/",
        security_views.passkey_delete,
        name="passkey-delete",
    ),
    path("securite/codes-de-secours/", security_views.recovery_codes, name="recovery-codes"),
    path("securite/sessions/", security_views.sessions_list, name="sessions"),
    path(
        "securite/sessions/<uuid:public_id>/fermer/",
        security_views.session_end,
        name="session-end",
    ),
]
