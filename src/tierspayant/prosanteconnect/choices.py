"""Controlled vocabularies of the Pro Santé Connect sign-in (STYLE.md)."""

from django.db import models


class Purpose(models.TextChoices):
    """Why a Pro Santé Connect round trip was started (kept in the session with its state)."""

    SIGN_IN = "sign-in", "Connexion"
    LINK = "link", "Liaison du compte"
    STEP_UP = "step-up", "Confirmation d'identité"


class Refusal(models.TextChoices):
    """Why a Pro Santé Connect answer was refused: a short code, logged and shown, never a
    value from the token (no personal data, no token text)."""

    STATE = "state", "Réponse inattendue ou déjà utilisée (paramètre state)"
    PROVIDER_ERROR = "provider-error", "Connexion refusée ou annulée chez Pro Santé Connect"
    UNREACHABLE = "unreachable", "Pro Santé Connect ne répond pas"
    TOKEN = "token", "Échange du code refusé par Pro Santé Connect"
    SIGNATURE = "signature", "Signature du jeton d'identité invalide"
    ISSUER = "issuer", "Jeton d'identité d'un autre émetteur"
    AUDIENCE = "audience", "Jeton d'identité destiné à un autre service"
    EXPIRED = "expired", "Jeton d'identité expiré"
    NONCE = "nonce", "Jeton d'identité rejoué (nonce)"
    ACR = "acr", "Niveau d'authentification insuffisant (acr)"
    CLAIMS = "claims", "Jeton d'identité incomplet"
    USERINFO = "userinfo", "Identité du professionnel illisible (userinfo)"
    STALE = "stale", "Authentification Pro Santé Connect trop ancienne pour confirmer"
