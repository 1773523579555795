"""Portal URLs (French page names would leak nothing either way; ids only, never personal data)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from tierspayant.portal import views

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
]
