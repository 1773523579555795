"""Pro Santé Connect (PSC), the State's OpenID Connect provider for health professionals:
the authorization code flow with PKCE, state and nonce, the ID token checks, the userinfo
read, and the account link.

Flow (OpenID Connect Core 1.0 §3.1; RFC 7636 PKCE S256; PSC's documentation, docs/security.md):

1. :func:`begin` builds the authorization URL (``response_type=code``, ``scope``, ``acr_values``,
   ``state``, ``nonce``, ``code_challenge``) and the :class:`Pending` record the caller keeps in
   the session;
2. :func:`complete` takes the callback's query parameters and that record (popped: a state
   serves once), exchanges the code (``client_secret_basic`` + ``code_verifier``), checks the ID
   token (signature against the provider's JWKS, ``iss``, ``aud``, ``exp``, ``iat``,
   ``nonce``, ``acr``; ``auth_time`` for a step-up), reads userinfo with the access token
   (its ``sub`` must be the ID token's, OIDC Core §5.3.2) and returns the :class:`Identity`
   named by ``SubjectNameID`` (idNatPs) — never by e-mail;
3. the caller maps the identity to an account through :func:`find_link`.

Every refusal raises :class:`PscRefused` with a :class:`~.choices.Refusal` code: its French
message names what failed, never a value from the answer.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import time
from collections.abc import Mapping
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from django.db import IntegrityError, transaction
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from tierspayant.prosanteconnect.choices import Purpose, Refusal
from tierspayant.prosanteconnect.models import ProSanteConnectLink

#: ID token signature algorithms accepted (PSC signs RS256; PS256/ES256 if it rotates to them).
ALGORITHMS = ("RS256", "PS256", "ES256")
#: idNatPs: "8" + RPPS (11 digits), "0" + ADELI (9), or other national ids; letters and digits.
_NATIONAL_ID = re.compile(r"^[0-9A-Za-z]{9,20}$")


@dataclasses.dataclass(frozen=True)
class PscConfig:
    """Client configuration (settings ``TIERSPAYANT_PSC_*``, docs/security.md): ``issuer``
    URL (its ``/.well-known/openid-configuration`` gives the endpoints), ``client_id`` and
    ``client_secret`` given by the ANS at registration, ``acr_values`` accepted (the first is
    requested), ``scope``, HTTP ``timeout`` (seconds), clock ``leeway`` (seconds) and
    ``step_up_seconds``: how old a PSC authentication may be to confirm a sensitive action."""

    issuer: str
    client_id: str
    client_secret: str
    acr_values: tuple[str, ...] = ("eidas1",)
    scope: str = "openid scope_all"
    timeout: float = 10.0
    leeway: int = 60
    step_up_seconds: int = 300


@dataclasses.dataclass(frozen=True)
class Pending:
    """What :func:`begin` hands the caller to keep (server side, in the session) until the
    callback: the random ``state``, ``nonce`` and PKCE ``code_verifier``, the ``redirect_uri``
    sent, the ``purpose`` and ``started_at`` (epoch seconds, UTC)."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    purpose: str
    started_at: float

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Pending:
        return cls(**{f.name: raw[f.name] for f in dataclasses.fields(cls)})


@dataclasses.dataclass(frozen=True)
class Identity:
    """A professional proven by Pro Santé Connect: ``national_id`` (idNatPs, from userinfo's
    ``SubjectNameID``), ``subject`` (the ``sub``), ``acr`` reached and ``auth_time`` (epoch
    seconds, UTC; None when the provider does not say)."""

    national_id: str
    subject: str
    acr: str
    auth_time: int | None


class PscRefused(Exception):
    """A Pro Santé Connect answer refused; ``reason`` is a :class:`Refusal` code."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason

    @property
    def message(self) -> str:
        return f"Connexion Pro Santé Connect refusée : {self.reason.label.lower()}."


def _get_json(url: str, *, timeout: float, **kwargs: Any) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=timeout, **kwargs)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError):
        raise PscRefused(Refusal.UNREACHABLE) from None
    if not isinstance(data, dict):
        raise PscRefused(Refusal.UNREACHABLE)
    return data


def provider_metadata(config: PscConfig) -> dict[str, Any]:
    """The provider's discovery document (OIDC Discovery 1.0 §4); its ``issuer`` must be the
    configured one (§4.3). Raises :class:`PscRefused` (``unreachable``/``issuer``)."""
    metadata = _get_json(
        config.issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=config.timeout
    )
    if metadata.get("issuer") != config.issuer:
        raise PscRefused(Refusal.ISSUER)
    return metadata


def _session(config: PscConfig, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scope=config.scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106  (a method name)
    )


def begin(
    config: PscConfig, *, redirect_uri: str, purpose: Purpose, now: float | None = None
) -> tuple[str, Pending]:
    """The authorization URL to send the browser to, and the :class:`Pending` record to keep.

    A step-up asks for a fresh authentication (``prompt=login``, ``max_age=0``: the card or
    e-CPS app again). Raises :class:`PscRefused` (``unreachable``) when discovery fails."""
    metadata = provider_metadata(config)
    pending = Pending(
        state=generate_token(43),
        nonce=generate_token(43),
        code_verifier=generate_token(64),
        redirect_uri=redirect_uri,
        purpose=str(purpose),
        started_at=time.time() if now is None else now,
    )
    extra: dict[str, Any] = {"acr_values": config.acr_values[0]}
    if purpose == Purpose.STEP_UP:
        extra.update(prompt="login", max_age=0)
    url, _state = _session(config, redirect_uri).create_authorization_url(
        metadata["authorization_endpoint"],
        state=pending.state,
        code_verifier=pending.code_verifier,
        nonce=pending.nonce,
        **extra,
    )
    return url, pending


def _check_id_token(
    config: PscConfig, id_token: str, keys: KeySet, *, nonce: str, now: int
) -> dict[str, Any]:
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
    except BadSignatureError:
        raise PscRefused(Refusal.SIGNATURE) from None
    except (JoseError, ValueError):
        raise PscRefused(Refusal.SIGNATURE) from None
    claims = token.claims
    checks: list[tuple[Refusal, jwt.JWTClaimsRegistry]] = [
        # First: every registry below also checks exp/iat/nbf when present.
        (
            Refusal.EXPIRED,
            jwt.JWTClaimsRegistry(
                now=now, leeway=config.leeway, exp={"essential": True}, iat={"essential": True}
            ),
        ),
        (
            Refusal.ISSUER,
            jwt.JWTClaimsRegistry(
                now=now, leeway=config.leeway, iss={"essential": True, "value": config.issuer}
            ),
        ),
        (
            Refusal.AUDIENCE,
            jwt.JWTClaimsRegistry(
                now=now, leeway=config.leeway, aud={"essential": True, "value": config.client_id}
            ),
        ),
        (
            Refusal.NONCE,
            jwt.JWTClaimsRegistry(
                now=now, leeway=config.leeway, nonce={"essential": True, "value": nonce}
            ),
        ),
        (
            Refusal.ACR,
            jwt.JWTClaimsRegistry(
                now=now,
                leeway=config.leeway,
                acr={"essential": True, "values": list(config.acr_values)},
            ),
        ),
        (
            Refusal.CLAIMS,
            jwt.JWTClaimsRegistry(now=now, leeway=config.leeway, sub={"essential": True}),
        ),
    ]
    for refusal, registry in checks:
        try:
            registry.validate(claims)
        except (ExpiredTokenError, InvalidClaimError, MissingClaimError, JoseError):
            raise PscRefused(refusal) from None
    # Several audiences: the authorized party must be us (OIDC Core §3.1.3.7 points 4-5).
    if (
        isinstance(claims.get("aud"), list)
        and claims.get("azp", config.client_id) != config.client_id
    ):
        raise PscRefused(Refusal.AUDIENCE)
    return claims


def _userinfo(config: PscConfig, url: str, access_token: str, keys: KeySet) -> dict[str, Any]:
    try:
        response = requests.get(
            url, headers={"Authorization": f"Bearer {access_token}"}, timeout=config.timeout
        )
        response.raise_for_status()
    except requests.RequestException:
        raise PscRefused(Refusal.USERINFO) from None
    if response.headers.get("Content-Type", "").startswith("application/jwt"):
        try:  # a signed userinfo (PSC may answer a JWT): same keys as the ID token
            return dict(jwt.decode(response.text, keys, algorithms=list(ALGORITHMS)).claims)
        except (JoseError, ValueError):
            raise PscRefused(Refusal.USERINFO) from None
    try:
        data = response.json()
    except ValueError:
        raise PscRefused(Refusal.USERINFO) from None
    if not isinstance(data, dict):
        raise PscRefused(Refusal.USERINFO)
    return data


def complete(
    config: PscConfig,
    *,
    pending: Pending | None,
    params: Mapping[str, str],
    now: float | None = None,
) -> Identity:
    """The professional proven by the callback ``params`` (``code``, ``state`` or ``error``),
    against the ``pending`` record popped from the session (None: no round trip in progress,
    or already used — a replayed state). Raises :class:`PscRefused`."""
    if pending is None or not params.get("state") or params.get("state") != pending.state:
        raise PscRefused(Refusal.STATE)
    if params.get("error") or not params.get("code"):
        raise PscRefused(Refusal.PROVIDER_ERROR)
    # An answer naming another issuer (mix-up attack, RFC 9207 §2.4) is refused.
    if params.get("iss") and params["iss"] != config.issuer:
        raise PscRefused(Refusal.ISSUER)
    moment = int(time.time() if now is None else now)
    metadata = provider_metadata(config)
    session = _session(config, pending.redirect_uri)
    try:
        token = session.fetch_token(
            metadata["token_endpoint"],
            grant_type="authorization_code",
            code=params["code"],
            code_verifier=pending.code_verifier,
            timeout=config.timeout,
        )
    except requests.RequestException:
        raise PscRefused(Refusal.UNREACHABLE) from None
    except Exception:  # authlib's OAuthError and friends: the provider refused the exchange
        raise PscRefused(Refusal.TOKEN) from None
    id_token = token.get("id_token")
    access_token = token.get("access_token")
    if not isinstance(id_token, str) or not isinstance(access_token, str):
        raise PscRefused(Refusal.TOKEN)
    try:
        keys = KeySet.import_key_set(_get_json(metadata["jwks_uri"], timeout=config.timeout))  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError):
        raise PscRefused(Refusal.SIGNATURE) from None
    claims = _check_id_token(config, id_token, keys, nonce=pending.nonce, now=moment)
    auth_time = claims.get("auth_time")
    auth_time = int(auth_time) if isinstance(auth_time, int | float) else None
    if pending.purpose == Purpose.STEP_UP and (
        auth_time is None or moment - auth_time > config.step_up_seconds
    ):
        raise PscRefused(Refusal.STALE)
    info = _userinfo(config, metadata["userinfo_endpoint"], access_token, keys)
    if info.get("sub") != claims["sub"]:
        raise PscRefused(Refusal.USERINFO)
    national_id = info.get("SubjectNameID") or info.get("preferred_username")
    if not isinstance(national_id, str) or not _NATIONAL_ID.match(national_id):
        raise PscRefused(Refusal.USERINFO)
    return Identity(
        national_id=national_id,
        subject=str(claims["sub"]),
        acr=str(claims["acr"]),
        auth_time=auth_time,
    )


# --- the account link ------------------------------------------------------------------


class LinkRefused(Exception):
    """A link refused; ``message`` (French) says why, without any identifier."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def find_link(national_id: str) -> ProSanteConnectLink | None:
    """The confirmed link of an active account for this idNatPs, or None."""
    return (
        ProSanteConnectLink.objects.select_related("user")
        .filter(national_id=national_id, confirmed=True, user__is_active=True)
        .first()
    )


def link_account(
    user: Any, *, national_id: str, linked_by: Any | None, now: datetime.datetime
) -> ProSanteConnectLink:
    """Link ``user``'s account to the Pro Santé Connect identity ``national_id``, once.

    The identity must be the account's own professional (:attr:`Professional.national_id`,
    "8" + RPPS): neither the professional nor staff can point a card at another account.
    ``linked_by`` is the staff member, or None for the professional themselves. Raises
    :class:`LinkRefused` (no professional, another identity, already linked, identity
    already linked to another account)."""
    professional = getattr(user, "professional", None)
    if professional is None:
        raise LinkRefused(
            "Seul un compte de professionnel de santé peut être lié à Pro Santé Connect."
        )
    if professional.national_id != national_id:
        raise LinkRefused(
            "Cette identité Pro Santé Connect n'est pas celle du professionnel de ce compte "
            "(identifiant national différent du RPPS enregistré)."
        )
    if ProSanteConnectLink.objects.filter(user=user).exists():
        raise LinkRefused("Ce compte est déjà lié à Pro Santé Connect.")
    try:
        with transaction.atomic():
            return ProSanteConnectLink.objects.create(
                user=user,
                name="Pro Santé Connect",
                confirmed=True,
                national_id=national_id,
                linked_at=now,
                linked_by=linked_by,
            )
    except IntegrityError:
        raise LinkRefused(
            "Cette identité Pro Santé Connect est déjà liée à un autre compte."
        ) from None


def staff_link_refusal(rpps: str) -> str | None:
    """Why staff cannot link the professional whose RPPS is ``rpps`` (French), or None."""
    from tierspayant.providers.models import Professional

    professional = Professional.objects.filter(rpps=rpps).first() if rpps else None
    if professional is None:
        return "Aucun professionnel n'a ce numéro RPPS."
    if ProSanteConnectLink.objects.filter(user_id=professional.user_id).exists():
        return "Ce compte est déjà lié à Pro Santé Connect."
    if ProSanteConnectLink.objects.filter(national_id=professional.national_id).exists():
        return "Cette identité Pro Santé Connect est déjà liée à un autre compte."
    return None


def link_professional_by_staff(
    rpps: str, *, staff: Any, now: datetime.datetime
) -> ProSanteConnectLink:
    """Back-office: link the account of the professional whose RPPS is ``rpps`` (11 digits)
    to their Pro Santé Connect identity ("8" + RPPS). Raises :class:`LinkRefused`."""
    from tierspayant.providers.models import Professional

    professional = (
        Professional.objects.select_related("user").filter(rpps=rpps).first() if rpps else None
    )
    if professional is None:
        raise LinkRefused("Aucun professionnel n'a ce numéro RPPS.")
    return link_account(
        professional.user, national_id=professional.national_id, linked_by=staff, now=now
    )


def unlink(link: ProSanteConnectLink) -> None:
    """Remove a link: the account signs in with its password and second factor again."""
    link.delete()


def record_use(link: ProSanteConnectLink, *, now: datetime.datetime) -> None:
    """Remember the last Pro Santé Connect sign-in or confirmation (aware UTC)."""
    ProSanteConnectLink.objects.filter(pk=link.pk).update(last_used_at=now)


def configuration(settings: Any) -> PscConfig | None:
    """The client configuration from Django ``settings`` (``TIERSPAYANT_PSC_*``), or None when
    Pro Santé Connect is not configured (no issuer: the sign-in button is not shown)."""
    issuer = getattr(settings, "TIERSPAYANT_PSC_ISSUER", "")
    if not issuer:
        return None
    return PscConfig(
        issuer=issuer,
        client_id=settings.TIERSPAYANT_PSC_CLIENT_ID,
        client_secret=settings.TIERSPAYANT_PSC_CLIENT_SECRET,
        acr_values=tuple(settings.TIERSPAYANT_PSC_ACR_VALUES),
        scope=settings.TIERSPAYANT_PSC_SCOPE,
        step_up_seconds=settings.TIERSPAYANT_STEP_UP_SECONDS,
    )
