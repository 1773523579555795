"""Professionals and API tokens: creation, issue, authentication, revocation."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from tierspayant import hot_sql
from tierspayant.providers.choices import Profession, Scope
from tierspayant.providers.identifiers import validate_adeli, validate_finess, validate_rpps
from tierspayant.providers.models import ApiToken, Professional

#: How stale a token's ``last_used_at`` may be (it is shown to the professional, to the minute).
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)

TOKEN_PREFIX = "tp"  # noqa: S105 - a public marker, not a secret


class InvalidToken(Exception):
    """Unknown, malformed, expired or revoked token; callers answer 401 without saying which."""


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: ``secret`` is the full bearer value, shown once, never stored."""

    token: ApiToken
    secret: str


@transaction.atomic
def create_professional(
    *,
    username: str,
    password: str,
    profession: Profession,
    display_name: str,
    rpps: str = "",
    adeli: str = "",
    finess: str = "",
    siret: str = "",
    email: str = "",
    specialty_code: str = "",
) -> Professional:
    """Create a login (password checked by the configured validators, hashed with Argon2id)
    and its professional (``specialty_code``: SESAM-Vitale specialty, docs/invoices.md).
    Raises ``providers.identifiers.InvalidIdentifier`` or Django's ``ValidationError`` for
    a weak password; nothing is stored then."""
    rpps = validate_rpps(rpps) if rpps else ""
    adeli = validate_adeli(adeli) if adeli else ""
    finess = validate_finess(finess) if finess else ""
    user_model = get_user_model()
    user = user_model(username=username, email=email)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    return Professional.objects.create(
        user=user,
        profession=Profession(profession),
        display_name=display_name,
        rpps=rpps,
        adeli=adeli,
        finess=finess,
        siret=siret,
        specialty_code=specialty_code,
    )


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_token(
    *,
    professional: Professional,
    name: str,
    scopes: list[Scope],
    now: datetime.datetime,
    valid_days: int,
) -> IssuedToken:
    """Issue a token ``tp_<prefix>_<secret>`` (prefix 8 hex, secret 256 bits) valid
    ``valid_days`` days from ``now`` (aware UTC). Only its SHA-256 is stored: the secret has
    full entropy, so a slow hash adds nothing."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    bearer = f"{TOKEN_PREFIX}_{prefix}_{secret}"
    token = ApiToken.objects.create(
        professional=professional,
        name=name,
        prefix=prefix,
        secret_hash=_hash_secret(bearer),
        scopes=[Scope(s).value for s in scopes],
        created_at=now,
        expires_at=now + datetime.timedelta(days=valid_days),
    )
    return IssuedToken(token=token, secret=bearer)


def authenticate_token(bearer: str, *, scope: Scope, now: datetime.datetime) -> Professional:
    """The professional owning an active token with ``scope``; raises :class:`InvalidToken`
    (:func:`authenticate_api_token` gives the token itself)."""
    return authenticate_api_token(bearer, scope=scope, now=now).professional


def authenticate_api_token(bearer: str, *, scope: Scope, now: datetime.datetime) -> ApiToken:
    """The active token with ``scope`` (its ``professional`` and user loaded); raises
    :class:`InvalidToken`.

    The comparison is constant-time. ``last_used_at`` is refreshed at most once per
    :data:`LAST_USED_RESOLUTION`, so a busy token does not cost a database write per call.
    """
    parts = bearer.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise InvalidToken
    # What select_related("professional__user") reads, without the ORM's compiler: every API
    # request starts here (tierspayant.hot_sql).
    found = hot_sql.select_related(
        ApiToken, ("professional", "user"), where="prefix", values=[parts[1]]
    )
    token = found[0] if found else None
    if token is None or not hmac.compare_digest(token.secret_hash, _hash_secret(bearer)):
        raise InvalidToken
    if not token.is_active(now) or scope.value not in token.scopes:
        raise InvalidToken
    if not token.professional.user.is_active:
        raise InvalidToken
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def revoke_api_token(*, token: ApiToken, now: datetime.datetime) -> None:
    """Revoke a token at ``now``; revoking twice keeps the first instant."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)


def revoke_all_api_tokens(*, professional: Professional, now: datetime.datetime) -> int:
    """Revoke every active token of ``professional`` at ``now`` (suspension); returns how many
    were revoked. Tokens already revoked keep their first instant."""
    return ApiToken.objects.filter(professional=professional, revoked_at__isnull=True).update(
        revoked_at=now
    )
