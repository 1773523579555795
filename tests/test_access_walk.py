"""The permission matrix, built from the URL configuration (ASVS 5.0 V8.2.1-V8.2.3: function
and object level access control, tested on every endpoint).

Every route is tried as: anonymous; signed in with the password only; another professional
(verified; the owner's object ids must answer 404); insurer staff of another insurer
(verified, back-office flag, no rights); the right user; and, for the back-office, the
operator. Each route must have an entry in :data:`MATRIX` (the admin site, one gate for all
its pages, is one entry by prefix): a new URL without an entry fails
:func:`test_every_route_has_an_entry`.

The back-office is then walked page by page and object by object as an insurer's staff
holding every permission (:func:`test_insurer_staff_reach_only_their_own_rows_on_every_admin_page`):
every registered model admin, every row of another insurer or of the operator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tests.auth_helpers import (
    enrol_first_passkey,
    passkey_step,
    password_step,
    staff_with_passkey,
    totp_step,
)
from tests.factories import InsurerFactory, make_professional
from tests.webauthn_soft import SoftAuthenticator
from tierspayant.accounts.models import UserSession
from tierspayant.providers.choices import Scope
from tierspayant.providers.services import issue_api_token
from tierspayant.registry.models import InsurerStaff

pytestmark = pytest.mark.django_db


def all_routes() -> list[str]:
    """Every route of the URL configuration, converters left in (``jetons/<int:token_id>/...``)."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                found.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


SAMPLES = {
    "int": "1",
    "str": "x",
    "path": "1",
    "slug": "x",
    "uuid": "00000000-0000-4000-8000-000000000001",
}


def sample_path(route: str) -> str:
    """``route`` with converters replaced by sample values, regex syntax removed."""
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES.get(m.group(1) or "str", "x"), route)
    path = path.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\/", "/")
    path = re.sub(r"\(\?P<app_label>([a-z_]+)\|[^)]*\)", r"\1", path)
    return "/" + re.sub(r"\(\?P<\w+>[^)]*\)", "x", path)


# --- outcomes -----------------------------------------------------------------------------


def _location(response) -> str:
    return response.get("Location", "")


OUTCOMES: dict[str, Callable[[object], bool]] = {
    # 302 to the portal's sign-in page
    "login": lambda r: (
        r.status_code == 302
        and (_location(r) == "/connexion/" or _location(r).startswith("/connexion/?"))
    ),
    # 302 to the back-office sign-in page
    "admin-login": lambda r: r.status_code == 302 and _location(r).startswith("/admin/login/"),
    # 302 to the second-factor step (code, or enrolment)
    "mfa": lambda r: (
        r.status_code == 302
        and _location(r).startswith(("/connexion/code/", "/connexion/activer-2fa/"))
    ),
    "forbidden": lambda r: r.status_code == 403,
    "hidden": lambda r: r.status_code == 404,
    "unauthorized": lambda r: r.status_code == 401,
    "method": lambda r: r.status_code == 405,
    "bad-request": lambda r: r.status_code == 400,
    # served: 2xx, or a redirect that is not a sign-in step
    "ok": lambda r: (
        r.status_code < 300
        or (
            r.status_code in {301, 302}
            and not _location(r).startswith(("/connexion/", "/admin/login/"))
        )
    ),
    "forbidden-or-hidden": lambda r: r.status_code in {403, 404},
    # refused, or sent to another back-office page (itself in the matrix), never to data
    "no-data": lambda r: (
        r.status_code in {403, 404}
        or (
            r.status_code == 302
            and _location(r).startswith("/admin/")
            and not _location(r).startswith("/admin/login/")
        )
    ),
}

PERSONAS = ["anonymous", "password_only", "other_professional", "insurer_staff", "owner"]


@dataclass(frozen=True)
class Entry:
    """Expected outcome per persona, as ``(GET, POST)``; ``None`` means not tried."""

    expect: dict[str, tuple[str | None, str | None]]
    make_path: Callable[[dict], str] | None = None  # builds the owner's object path
    owner_post_effect: Callable[[dict], bool] | None = None  # the owner's POST really acted


def _all(get: str | None, post: str | None) -> dict[str, tuple[str | None, str | None]]:
    return dict.fromkeys(PERSONAS, (get, post))


PUBLIC = Entry(expect={"anonymous": ("ok", None)})
SIGN_IN_STEP = Entry(expect={"anonymous": ("login", "login"), "password_only": ("ok", "ok")})
VERIFIED_PAGE = Entry(
    expect={
        "anonymous": ("login", "login"),
        "password_only": ("mfa", "mfa"),
        "other_professional": ("ok", None),
        "insurer_staff": ("ok", None),
        "owner": ("ok", None),
    }
)
PROFESSIONAL_PAGE = Entry(
    expect={
        "anonymous": ("login", "login"),
        "password_only": ("mfa", "mfa"),
        "other_professional": ("ok", None),
        "insurer_staff": ("forbidden", "forbidden"),
        "owner": ("ok", None),
    }
)
TOKEN_ONLY = Entry(expect=_all("method", "unauthorized"))
BACK_OFFICE = Entry(
    expect={
        "anonymous": ("admin-login", "admin-login"),
        "password_only": ("admin-login", "admin-login"),
        "other_professional": ("admin-login", "admin-login"),
        "insurer_staff": ("no-data", None),
        "owner": ("admin-login", "admin-login"),
    }
)

ADMIN_OWN_PAGE = Entry(expect={**BACK_OFFICE.expect, "insurer_staff": ("ok", None)})


def _owned(path: Callable[[dict], str], effect: Callable[[dict], bool], staff: str) -> Entry:
    return Entry(
        expect={
            "anonymous": ("login", "login"),
            "password_only": ("mfa", "mfa"),
            "other_professional": (None, "hidden"),
            "insurer_staff": (None, staff),
            "owner": ("method", "ok"),
        },
        make_path=path,
        owner_post_effect=effect,
    )


def _token_path(world: dict) -> str:
    return f"/jetons/{world['token'].pk}/revoquer/"


def _token_revoked(world: dict) -> bool:
    world["token"].refresh_from_db()
    return world["token"].revoked_at is not None


def _passkey_path(world: dict) -> str:
    return f"/securite/cles/{world['passkey'].pk}/supprimer/"


def _passkey_gone(world: dict) -> bool:
    from django_otp_webauthn.models import WebAuthnCredential

    return not WebAuthnCredential.objects.filter(pk=world["passkey"].pk).exists()


def _session_path(world: dict) -> str:
    return f"/securite/sessions/{world['other_session'].public_id}/fermer/"


def _session_ended(world: dict) -> bool:
    world["other_session"].refresh_from_db()
    return world["other_session"].ended_at is not None


# JSON endpoints of the passkey ceremonies (library views: the user check runs first).
PASSKEY_REGISTRATION = Entry(
    expect={
        "anonymous": ("forbidden", "forbidden"),
        "password_only": ("forbidden", "forbidden"),  # enrolled account: verify first
        "owner": ("method", None),
    }
)
PASSKEY_VERIFICATION = Entry(
    expect={
        "anonymous": ("forbidden", "forbidden"),  # passwordless sign-in is off
        "password_only": ("method", None),
        "owner": ("method", None),
    }
)

TOKEN_ONLY_GET = Entry(expect=_all("unauthorized", "method"))
# A professional's own object by id (here a sample id): the sign-in steps first, then 404 for
# anyone but its owner, 403 for staff. tests/care/ proves the 404 on real objects of another
# professional for each of these pages and endpoints.
OWN_OBJECT_PAGE = Entry(
    expect={
        "anonymous": ("login", "login"),
        "password_only": ("mfa", "mfa"),
        "other_professional": ("hidden", None),
        "insurer_staff": ("forbidden", None),
    }
)
OWN_OBJECT_ACTION = Entry(
    expect={
        "anonymous": ("login", "login"),
        "password_only": ("mfa", "mfa"),
        "other_professional": (None, "hidden"),
        "insurer_staff": (None, "forbidden"),
    }
)

MATRIX: dict[str, Entry] = {
    # Care (issue 4): approvals, claims, statements, bank details.
    "pec/": PROFESSIONAL_PAGE,
    "pec/nouvelle/": PROFESSIONAL_PAGE,
    "pec/<int:approval_id>/": OWN_OBJECT_PAGE,
    "pec/<int:approval_id>/annuler/": OWN_OBJECT_ACTION,
    "pec/<int:approval_id>/lettre.pdf": OWN_OBJECT_PAGE,
    "pec/catalogue/": PROFESSIONAL_PAGE,
    "factures/": PROFESSIONAL_PAGE,
    "factures/nouvelle/": PROFESSIONAL_PAGE,
    "factures/<int:claim_id>/": OWN_OBJECT_PAGE,
    "paiements/": PROFESSIONAL_PAGE,
    "paiements/<int:statement_id>/": OWN_OBJECT_PAGE,
    "paiements/<int:statement_id>/releve.csv": OWN_OBJECT_PAGE,
    "paiements/<int:statement_id>/releve.pdf": OWN_OBJECT_PAGE,
    "banque/": PROFESSIONAL_PAGE,
    "banque/changement/<int:change_id>/": OWN_OBJECT_PAGE,
    "banque/changement/<int:change_id>/annuler/": OWN_OBJECT_ACTION,
    "api/v1/prior-approvals": TOKEN_ONLY,
    "api/v1/prior-approvals/<number>": TOKEN_ONLY_GET,
    "api/v1/prior-approvals/<number>/cancel": TOKEN_ONLY,
    "api/v1/claims": TOKEN_ONLY,
    "api/v1/claims/<claim_id>": TOKEN_ONLY_GET,
    "api/v1/statements": TOKEN_ONLY_GET,
    "fhir/r4/Claim": TOKEN_ONLY,
    # Lots of invoices (issue 14): the professional's own lots.
    "lots/": PROFESSIONAL_PAGE,
    "lots/<int:lot_id>/": OWN_OBJECT_PAGE,
    "api/v1/lots": Entry(expect=_all("unauthorized", "unauthorized")),  # GET lists, POST sends
    "api/v1/lots/<lot_id>": TOKEN_ONLY_GET,
    "api/v1/lots/<lot_id>/results": TOKEN_ONLY_GET,
    "fhir/r4/": TOKEN_ONLY,
    "fhir/r4/ClaimResponse": TOKEN_ONLY_GET,
    # Corrections (issue 16): the professional's invoices, their timeline and forms.
    "suivi-factures/": PROFESSIONAL_PAGE,
    "suivi-factures/<int:invoice_id>/": OWN_OBJECT_PAGE,
    "suivi-factures/<int:invoice_id>/annuler/": OWN_OBJECT_ACTION,
    "suivi-factures/<int:invoice_id>/contester/": OWN_OBJECT_ACTION,
    "suivi-factures/<int:invoice_id>/rectifier/": OWN_OBJECT_ACTION,
    # The professional's own invoice by number (another's: 404,
    # tests/corrections/test_api.py).
    "api/v1/invoices/<invoice_number>": TOKEN_ONLY_GET,
    "api/v1/invoices/<invoice_number>/cancel": TOKEN_ONLY,
    "api/v1/invoices/<invoice_number>/rectify": TOKEN_ONLY,
    "api/v1/invoices/<invoice_number>/dispute": TOKEN_ONLY,
    "fhir/r4/Task": TOKEN_ONLY,
    "fhir/r4/PaymentReconciliation/<int:statement_id>": TOKEN_ONLY_GET,
    # Returns to professionals (issue 16): the professional's own return lines.
    "retours/": PROFESSIONAL_PAGE,
    "retours/retours.csv": PROFESSIONAL_PAGE,
    "api/v1/returns": TOKEN_ONLY_GET,
    "api/v1/returns.csv": TOKEN_ONLY_GET,
    # Password reset by e-mail: public, one answer for known and unknown addresses
    # (tests/test_password_reset.py); a forged link shows "no longer valid".
    "mot-de-passe-oublie/": PUBLIC,
    "mot-de-passe-oublie/envoye/": PUBLIC,
    "mot-de-passe-oublie/<uidb64>/<token>/": PUBLIC,
    # Guard (issue 5): the lockdown button (POST only, permission guard.toggle_lockdown).
    "admin/guard/alert/confinement/": Entry(
        expect={**BACK_OFFICE.expect, "insurer_staff": ("method", "forbidden")}
    ),
    # The password change forced after a lockdown.
    "compte/mot-de-passe/": VERIFIED_PAGE,
    # Audit (issue 6): insurers' member apps (insurer token), and the beneficiary's signed,
    # expiring link (a forged or expired signature shows nothing).
    "fhir/r4/AuditEvent/_search": TOKEN_ONLY,
    "historique/<str:token>/": Entry(expect=_all("hidden", "method")),
    "": VERIFIED_PAGE,
    "connexion/": PUBLIC,
    "deconnexion/": Entry(expect={"anonymous": ("method", "login")}),
    "connexion/code/": SIGN_IN_STEP,
    "connexion/activer-2fa/": Entry(
        expect={"anonymous": ("login", "login"), "password_only": ("mfa", None)}
    ),
    "connexion/code-de-secours/": SIGN_IN_STEP,
    "connexion/confirmer/": VERIFIED_PAGE,
    # Pro Santé Connect (issue 19); the walk runs without a provider configured: the flow's
    # pages answer 404 "not activated" once past the sign-in steps (tests/test_psc.py).
    "connexion/psc/": Entry(expect={"anonymous": ("hidden", "method")}),
    "connexion/psc/retour/": Entry(expect={"anonymous": ("hidden", "method")}),
    "connexion/confirmer/psc/": Entry(
        expect={
            "anonymous": ("login", "login"),
            "password_only": ("mfa", "mfa"),
            "other_professional": ("method", "hidden"),
            "insurer_staff": ("method", "hidden"),
            "owner": ("method", "hidden"),
        }
    ),
    "securite/psc/lier/": Entry(
        expect={
            "anonymous": ("login", "login"),
            "password_only": ("mfa", "mfa"),
            "other_professional": ("method", "hidden"),
            "insurer_staff": ("method", "forbidden"),
            "owner": ("method", "hidden"),
        }
    ),
    "securite/psc/delier/": Entry(
        expect={"anonymous": ("login", "login"), "password_only": ("mfa", "mfa")}
    ),
    "droits/": PROFESSIONAL_PAGE,
    "jetons/": PROFESSIONAL_PAGE,
    "jetons/<int:token_id>/revoquer/": _owned(_token_path, _token_revoked, "forbidden"),
    "securite/": VERIFIED_PAGE,
    "securite/cles/<int:passkey_id>/supprimer/": _owned(
        _passkey_path, _passkey_gone, "forbidden-or-hidden"
    ),
    # First passkey (issue 13): the request is a POST of a verified session (the owner holds
    # a passkey already: nothing to open, back to the page; the others get a pending request);
    # the code page is theirs; removal with a notice's code only on one's own passkey.
    "securite/cles/enrolement/": Entry(
        expect={
            "anonymous": ("login", "login"),
            "password_only": ("mfa", "mfa"),
            "other_professional": ("method", "ok"),
            "insurer_staff": ("method", "ok"),
            "owner": ("method", "ok"),
        }
    ),
    "securite/cles/enrolement/code/": Entry(
        expect={**VERIFIED_PAGE.expect, "owner": ("ok", "bad-request")}
    ),
    "securite/cles/<int:passkey_id>/retirer/": Entry(
        expect={
            "anonymous": ("login", "login"),
            "password_only": ("mfa", "mfa"),
            "other_professional": ("hidden", "hidden"),
            "insurer_staff": ("hidden", "hidden"),
            "owner": ("ok", "bad-request"),
        },
        make_path=lambda w: f"/securite/cles/{w['passkey'].pk}/retirer/",
    ),
    "securite/codes-de-secours/": VERIFIED_PAGE,
    "securite/sessions/": VERIFIED_PAGE,
    "securite/sessions/<uuid:public_id>/fermer/": _owned(_session_path, _session_ended, "hidden"),
    "cle-acces/enregistrement/debut/": PASSKEY_REGISTRATION,
    "cle-acces/enregistrement/fin/": PASSKEY_REGISTRATION,
    "cle-acces/verification/debut/": PASSKEY_VERIFICATION,
    "cle-acces/verification/fin/": PASSKEY_VERIFICATION,
    "cle-acces/jsi18n/": PUBLIC,
    "api/v1/": Entry(expect=_all("hidden", "hidden")),
    "api/v1/docs": PUBLIC,
    "api/v1/openapi.json": PUBLIC,
    "api/v1/eligibility": TOKEN_ONLY,
    "api/v1/calculations": TOKEN_ONLY,
    "fhir/r4/metadata": PUBLIC,
    "fhir/r4/CoverageEligibilityRequest": TOKEN_ONLY,
    # The back-office's sign-in routes to the portal's steps (BackOfficeSite.login).
    "admin/login/": Entry(
        expect={
            "anonymous": ("login", "login"),
            "password_only": ("forbidden", "forbidden"),  # a professional, not staff
            "other_professional": ("forbidden", "forbidden"),
            "insurer_staff": ("ok", "ok"),
            "owner": ("forbidden", "forbidden"),
        }
    ),
    # TOTP secrets are hidden from staff (OTP_ADMIN_HIDE_SENSITIVE_DATA): 403 for everyone,
    # tried on a real device, the owner's.
    "admin/otp_totp/totpdevice/<int:pk>/config/": Entry(
        expect=BACK_OFFICE.expect,
        make_path=lambda w: f"/admin/otp_totp/totpdevice/{w['totp'].pk}/config/",
    ),
    "admin/otp_totp/totpdevice/<int:pk>/qrcode/": Entry(
        expect=BACK_OFFICE.expect,
        make_path=lambda w: f"/admin/otp_totp/totpdevice/{w['totp'].pk}/qrcode/",
    ),
    # Back-office pages about the signed-in staff member only: no register data on them.
    "admin/": ADMIN_OWN_PAGE,
    "admin/password_change/": ADMIN_OWN_PAGE,
    "admin/password_change/done/": ADMIN_OWN_PAGE,
    "admin/jsi18n/": ADMIN_OWN_PAGE,
    "admin/logout/": PUBLIC,
}
ADMIN_PREFIX = "admin/"  # one gate (OTPAdminSite) for every back-office page


def entry_for(route: str) -> Entry | None:
    if route in MATRIX:
        return MATRIX[route]
    if route.startswith(ADMIN_PREFIX):
        return BACK_OFFICE
    return None


ROUTES = all_routes()


def test_every_route_has_an_entry() -> None:
    missing = [r for r in ROUTES if entry_for(r) is None]
    assert missing == []
    assert {"", "droits/", "jetons/", "admin/"} <= set(ROUTES)
    assert len(ROUTES) > 60  # the back-office contributes many


def test_a_route_without_an_entry_is_caught() -> None:
    assert entry_for("nouvelle-page/<int:id>/") is None


@pytest.fixture
def world(optician) -> dict:
    """The personas' sessions and the owner's objects."""
    user_model = get_user_model()
    owner = optician.user
    authenticator = SoftAuthenticator()
    clients: dict[str, Client] = {"anonymous": Client()}
    clients["password_only"] = Client()
    password_step(clients["password_only"], owner.username)
    other_owner_session = Client()  # a second session of the owner, to be ended
    password_step(other_owner_session, owner.username)
    owner_client = Client()
    password_step(owner_client, owner.username)
    totp_step(owner_client, owner)
    assert enrol_first_passkey(owner_client, owner, authenticator).status_code == 200
    # Holding a passkey, the owner steps up with it (TOTP no longer opens sensitive actions).
    assert passkey_step(owner_client, authenticator).status_code == 200
    clients["owner"] = owner_client
    other = make_professional()
    clients["other_professional"] = Client()
    password_step(clients["other_professional"], other.user.username)
    totp_step(clients["other_professional"], other.user)
    staff_user = user_model.objects.create_user(
        username="gestion.autre", password="correct-horse-battery-staple-42", is_staff=True
    )
    InsurerStaff.objects.create(user=staff_user, insurer=InsurerFactory(amc_number="55000001"))
    clients["insurer_staff"] = staff_with_passkey(staff_user)  # the back-office's own factor
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_otp_webauthn.models import WebAuthnCredential

    return {
        "clients": clients,
        "token": issue_api_token(
            professional=optician,
            name="LGO",
            scopes=[Scope.ELIGIBILITY_CHECK],
            now=timezone.now(),
            valid_days=1,
        ).token,
        "passkey": WebAuthnCredential.objects.get(user=owner),
        "totp": TOTPDevice.objects.get(user=owner),
        "other_session": UserSession.objects.filter(user=owner).order_by("created_at")[1],
    }


@pytest.mark.parametrize("route", ROUTES)
def test_permission_matrix(route: str, world: dict) -> None:
    entry = entry_for(route)
    assert entry is not None, f"{route}: add an entry to MATRIX"
    path = entry.make_path(world) if entry.make_path else sample_path(route)
    for persona in PERSONAS:
        get, post = entry.expect.get(persona, (None, None))
        client = world["clients"][persona]
        for method, outcome in (("get", get), ("post", post)):
            if outcome is None:
                continue
            response = getattr(client, method)(path)
            assert OUTCOMES[outcome](response), (
                route,
                persona,
                method,
                outcome,
                response.status_code,
                response.get("Location"),
            )
    if entry.owner_post_effect is not None:
        assert entry.owner_post_effect(world), f"{route}: the owner's POST did not act"


def test_operator_reaches_the_back_office_with_a_second_factor(db) -> None:
    user_model = get_user_model()
    operator = user_model.objects.create_superuser(
        username="operateur", password="correct-horse-battery-staple-42"
    )
    client = Client()
    password_step(client, operator.username)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    client = staff_with_passkey(operator)  # password, TOTP, then the passkey it demands
    refused = {}
    for route in ROUTES:
        if route.startswith(ADMIN_PREFIX) and "<" not in route and "(?P" not in route:
            response = client.get(sample_path(route))
            if response.status_code not in {200, 302}:
                refused[route] = response.status_code
    # Records written only by the platform cannot be added by hand, even by the operator
    # (accounts, factors, professionals, tokens and members come through their services);
    # the autocomplete endpoint answers only with its query parameters.
    assert refused == {
        "admin/auth/user/add/": 403,
        "admin/otp_totp/totpdevice/add/": 403,
        "admin/providers/apitoken/add/": 403,
        "admin/providers/professional/add/": 403,
        "admin/registry/beneficiary/add/": 403,
        "admin/accounts/securityevent/add/": 403,
        "admin/accounts/passkeyenrolment/add/": 403,  # asked on the portal, approved by action
        "admin/audit/disclosurelog/add/": 403,
        "admin/axes/accessattempt/add/": 403,
        "admin/axes/accessfailurelog/add/": 403,
        "admin/axes/accesslog/add/": 403,
        "admin/audit/insurerapitoken/add/": 403,  # issued by command, secret shown once
        "admin/claims/claim/add/": 403,
        "admin/guard/alert/add/": 403,
        "admin/guard/lockdownevent/add/": 403,
        "admin/invoices/invoice/add/": 403,
        "admin/corrections/ledgerentry/add/": 403,  # written by the corrections services
        "admin/invoices/referencetable/add/": 403,
        "admin/guard/suspension/add/": 403,
        "admin/payments/paymentrun/add/": 403,
        "admin/payments/statement/add/": 403,
        "admin/payments/transfer/add/": 403,
        "admin/payments/bankreturnfile/add/": 403,  # imported from the bank's files
        "admin/settlement/insurerfunding/add/": 403,  # set through its page (definir/)
        "admin/settlement/insurersettlement/add/": 403,  # written by the payment run
        "admin/priorauth/commitment/add/": 403,
        "admin/priorauth/priorapproval/add/": 403,
        "admin/providers/bankaccount/add/": 403,
        "admin/providers/bankaccountchange/add/": 403,
        "admin/guard/alert/confinement/": 405,  # the lockdown button is a POST
        "admin/autocomplete/": 403,
        "admin/logout/": 405,  # sign-out is a POST
    }


# --- the back-office, page by page and object by object (issue 13) -------------------------
#
# Insurer Alpha's staff, granted EVERY permission of the platform (the scope must hold whatever
# a role grants), walk every registered model admin: the list shows exactly Alpha's rows; each
# row of Bêta or of the operator answers 404 on its change, delete and history pages (GET and
# POST) and on the admin's own object pages; every action run on those rows leaves them as they
# were; the add form offers only Alpha's rows; no page names Bêta. OWNER says whose each row
# is, independently of the code: a model registered without an entry here fails the walk.

OPERATOR = None


def _owner_through_beneficiary(obj: object) -> int | None:
    beneficiary = obj.beneficiary  # type: ignore[attr-defined]
    return beneficiary.contract.insurer_id if beneficiary is not None else OPERATOR


OWNER: dict[str, Callable[[object], int | None] | None] = {
    "registry.Insurer": lambda o: o.pk,  # type: ignore[attr-defined]
    "registry.Contract": lambda o: o.insurer_id,  # type: ignore[attr-defined]
    "registry.Beneficiary": lambda o: o.contract.insurer_id,  # type: ignore[attr-defined]
    "audit.DisclosureLog": _owner_through_beneficiary,
    "audit.InsurerApiToken": lambda o: o.insurer_id,  # type: ignore[attr-defined]
    "priorauth.PriorApproval": lambda o: o.insurer_id,  # type: ignore[attr-defined]
    "priorauth.Commitment": _owner_through_beneficiary,
    "priorauth.ReviewRule": lambda o: o.insurer_id,  # type: ignore[attr-defined]
    "claims.Claim": lambda o: o.insurer_id,  # type: ignore[attr-defined]
    "payments.Transfer": lambda o: o.insurer_id,  # type: ignore[attr-defined]
    "settlement.InsurerFunding": lambda o: o.insurer_id,  # type: ignore[attr-defined]
    "settlement.InsurerSettlement": lambda o: o.insurer_id,  # type: ignore[attr-defined]
    "invoices.Invoice": lambda o: o.beneficiary.contract.insurer_id,  # type: ignore[attr-defined]
    "corrections.LedgerEntry": lambda o: o.insurer_id,  # type: ignore[attr-defined]
    # Operator staff only: professionals (they contract with the operator; insurer staff see
    # their names on their own claims, approvals and log), accounts, factors, security records,
    # payment runs and statements (they span insurers).
    "payments.PaymentRun": OPERATOR,
    "payments.Statement": OPERATOR,
    "payments.BankReturnFile": OPERATOR,  # a bank file spans insurers
    "providers.Professional": OPERATOR,
    "providers.ApiToken": OPERATOR,
    "providers.BankAccount": OPERATOR,
    "providers.BankAccountChange": OPERATOR,
    "guard.Alert": OPERATOR,
    "guard.Suspension": OPERATOR,
    "guard.LockdownEvent": OPERATOR,
    "accounts.SecurityEvent": OPERATOR,
    "accounts.PasskeyEnrolment": OPERATOR,
    "invoices.ReferenceTable": OPERATOR,
    "auth.User": OPERATOR,
    "auth.Group": OPERATOR,
    "otp_totp.TOTPDevice": OPERATOR,
    "prosanteconnect.ProSanteConnectLink": OPERATOR,
    "axes.AccessAttempt": OPERATOR,
    "axes.AccessLog": OPERATOR,
    "axes.AccessFailureLog": OPERATOR,
}
STANDARD_VIEWS = {"changelist", "add", "change", "delete", "history"}


def _owner(obj: object) -> int | None:
    owner = OWNER[obj._meta.label]  # type: ignore[attr-defined]
    return owner(obj) if owner is not None else OPERATOR


@pytest.fixture
def back_office(tmp_path) -> dict:
    from tests.backoffice_world import build_world, staff_user

    world = build_world(tmp_path)
    world["alpha_staff"] = staff_user(
        "gestion.alpha", insurer=world["alpha"], every_permission=True
    )
    world["client"] = staff_with_passkey(world["alpha_staff"])
    return world


def test_every_registered_admin_is_scoped_and_owned() -> None:
    from django.contrib import admin

    from tierspayant.accounts.backoffice import unscoped_admins

    assert unscoped_admins(admin.site) == []
    registered = {model._meta.label for model in admin.site._registry}
    assert registered == set(OWNER), "a new admin: say whose its rows are in OWNER"


def test_an_unscoped_admin_is_caught() -> None:
    from django.contrib import admin

    from tierspayant.accounts.backoffice import unscoped_admins
    from tierspayant.registry.models import Insurer

    site = admin.AdminSite(name="essai")
    site.register(Insurer, admin.ModelAdmin)
    assert unscoped_admins(site) == ["registry.Insurer"]


def _snapshot(model, pks) -> list[dict]:
    return list(model._default_manager.filter(pk__in=pks).order_by("pk").values())


def _not_alphas(model, alpha: int) -> list[object]:
    return [r.pk for r in model._default_manager.all() if _owner(r) != alpha]


def _target_model(model, converter: str):
    """The model whose id an admin URL's converter takes: the admin's own for ``object_id``
    , ``pk`` and ``id``, else the registered model named by ``<name>_id``."""
    from django.contrib import admin

    if converter in {"object_id", "pk", "id"}:
        return model
    return next(m for m in admin.site._registry if f"{m._meta.model_name}_id" == converter)


def _own_pages(model, model_admin, alpha: int) -> list[tuple[str, list[object]]]:
    """Each of the admin's URLs about one object, with its converter's model and the ids of
    rows Alpha must not reach (the bare ``<object_id>/`` only redirects to ``change/``)."""
    found = []
    for pattern in model_admin.get_urls():
        route = str(pattern.pattern)
        converters = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if converters and route != "<path:object_id>/":
            found.append((route, _not_alphas(_target_model(model, converters[0]), alpha)))
    return found


def _fill(route: str, pk: object) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", str(pk), route)


def test_insurer_staff_reach_only_their_own_rows_on_every_admin_page(back_office) -> None:
    from django.contrib import admin
    from django.test import RequestFactory

    from tests.backoffice_world import BETA_MARKERS

    world = back_office
    client = world["client"]
    alpha = world["alpha"].pk
    request = RequestFactory().get("/admin/")
    request.user = world["alpha_staff"]
    wrong: list[tuple] = []
    pages: list[tuple[str, str]] = [("/admin/", client.get("/admin/").content.decode())]

    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        mine = {r.pk for r in model._default_manager.all() if _owner(r) == alpha}
        theirs = _not_alphas(model, alpha)
        assert theirs, f"{label}: the world needs a row Alpha must not see"
        operator_only = OWNER[label] is OPERATOR
        # The list: exactly Alpha's rows, or refused for an operator-only model.
        response = client.get(base)
        if response.status_code != (403 if operator_only else 200):
            wrong.append((label, "list", response.status_code))
        elif not operator_only:
            shown = {r.pk for r in response.context["cl"].queryset}
            if shown != mine:
                wrong.append((label, "list rows", sorted(map(str, shown ^ mine))))
            pages.append((base, response.content.decode()))
        # Every page about a row of Bêta or of the operator: 404 (GET and POST); django-otp's
        # secret pages and the admin's password form are closed to everyone (403).
        for route, others in _own_pages(model, model_admin, alpha):
            closed = route.endswith(("config/", "qrcode/", "password/"))
            expected = {403} if closed else {404}
            for pk in others:
                for method in ("get", "post"):
                    response = getattr(client, method)(base + _fill(route, pk))
                    if response.status_code not in expected:
                        wrong.append((label, method, _fill(route, pk), response.status_code))
        # The admin's pages about no object: closed when the model is the operator's.
        for pattern in model_admin.get_urls():
            route = str(pattern.pattern)
            if "<" in route or (pattern.name or "").rsplit("_", 1)[-1] in STANDARD_VIEWS:
                continue
            for method in ("get", "post"):
                response = getattr(client, method)(base + route)
                if operator_only and response.status_code not in {403, 405}:
                    wrong.append((label, method, route, response.status_code))
                pages.append((base + route, response.content.decode()))
        # Every action on those rows (selected, then across the list) changes nothing.
        before = _snapshot(model, theirs)
        for action in model_admin.get_actions(request):
            chosen = {"action": action, "_selected_action": [str(p) for p in theirs], "post": "yes"}
            client.post(base, chosen)
            client.post(base, {**chosen, "select_across": "1", "index": "0"})
        if _snapshot(model, theirs) != before:
            wrong.append((label, "an action changed rows Alpha must not reach"))
        # Alpha's own rows open (change and history pages).
        for pk in sorted(mine, key=str)[:1]:
            for page in ("change/", "history/"):
                response = client.get(f"{base}{pk}/{page}")
                if response.status_code != 200:
                    wrong.append((label, page, response.status_code))
                pages.append((f"{base}{pk}/{page}", response.content.decode()))
        # The add form offers only Alpha's rows (nothing of a model without an owner rule).
        response = client.get(f"{base}add/")
        if response.status_code == 200:
            pages.append((f"{base}add/", response.content.decode()))
            for name, field in response.context["adminform"].form.fields.items():
                queryset = getattr(field, "queryset", None)
                if queryset is None:
                    continue
                if queryset.model._meta.label in OWNER:
                    owners = {_owner(o) for o in queryset}
                else:
                    owners = {"?"} if queryset.exists() else set()
                if owners - {alpha}:
                    wrong.append((label, "add choices", name))
        elif response.status_code != 403:
            wrong.append((label, "add", response.status_code))
    for path, content in pages:
        for marker in BETA_MARKERS:
            if marker in content:
                wrong.append((path, "shows", marker))
    assert wrong == []
