"""Password rules beyond Django's validators (NIST SP 800-63B-4 §3.1.1.2; ASVS 5.0 V6.2).

Minimum 12 (Django's MinimumLengthValidator, configured in settings), maximum 128 accepted
and hashed whole by Argon2id (no truncation: unlike bcrypt, Argon2 takes the full input),
no composition rules, refused when in Django's common-password list (20,000 entries).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class MaximumLengthValidator:
    """Refuse passwords longer than ``max_length`` characters (default 128): long enough for
    any passphrase (NIST: accept at least 64), short enough to bound hashing work."""

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: object = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"Ce mot de passe est trop long : {self.max_length} caractères au plus.",
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return f"Votre mot de passe peut compter jusqu'à {self.max_length} caractères."
