"""The back-office rule (docs/security.md): the back-office never writes around a service, and
the canary flag shows to the operator's security role only.

Every admin form is checked (as a superuser, who holds every permission) for writable
security-relevant fields; the reported bypasses (un-revoking a token, changing a
professional's contact e-mail or password, granting staff rights) are tried by POST and must
change nothing; the token is revoked through its service instead.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from tests.auth_helpers import staff_with_passkey
from tests.backoffice_world import PASSWORD, build_world, staff_user
from tierspayant.providers.models import ApiToken, Professional

pytestmark = pytest.mark.django_db

#: Fields no back-office form may write, whatever the model: tokens (revocation, hash, scopes,
#: expiry), account e-mail, password and flags, second factors (secret, confirmation, owner),
#: bank details, suspensions, the canary flag. (Roles, ``groups`` and ``user_permissions``,
#: are written by superusers only: ``test_only_superusers_grant_roles``.)
SECURITY_FIELDS = {
    "revoked_at",
    "secret_hash",
    "prefix",
    "scopes",
    "expires_at",
    "email",
    "password",
    "username",
    "is_active",
    "is_staff",
    "is_superuser",
    "key",
    "confirmed",
    "user",
    "professional",
    "iban_ciphertext",
    "iban_masked",
    "bic",
    "holder_name",
    "lifted_at",
    "lifted_by",
    "is_canary",
    "status",
}


@pytest.fixture
def world(tmp_path) -> dict:
    return build_world(tmp_path)


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_no_admin_form_writes_a_security_field(world) -> None:
    operator = get_user_model().objects.create_superuser(username="operateur", password=PASSWORD)
    request = _request(operator)
    writable: dict[str, set[str]] = {}
    for model, model_admin in admin.site._registry.items():
        obj = model._default_manager.first()
        assert obj is not None, model._meta.label
        forms = []
        if model_admin.has_change_permission(request, obj):
            forms.append(model_admin.get_form(request, obj, change=True))
            forms += [
                inline.get_formset(request, obj).form
                for inline in model_admin.get_inline_instances(request, obj)
                if inline.has_change_permission(request, obj)
            ]
        if model_admin.has_add_permission(request):
            forms.append(model_admin.get_form(request, None, change=False))
        for form in forms:
            found = set(form.base_fields) & SECURITY_FIELDS
            if found:
                writable.setdefault(model._meta.label, set()).update(found)
    assert writable == {}


@pytest.fixture
def operator_client(world):
    operator = get_user_model().objects.create_superuser(username="operateur", password=PASSWORD)
    return staff_with_passkey(operator)


def test_a_revoked_token_cannot_be_revived_and_revocation_goes_through_the_service(
    world, operator_client
) -> None:
    token = world["api_token"]  # revoked by the professional's suspension
    token.refresh_from_db()
    revoked_at = token.revoked_at
    assert revoked_at is not None
    path = f"/admin/providers/apitoken/{token.pk}/change/"
    response = operator_client.post(
        path,
        {"name": "LGO", "revoked_at_0": "", "revoked_at_1": "", "scopes": '["*"]'},
    )
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at == revoked_at
    assert token.scopes == ["eligibility:check"]
    # The action revokes a live token (through providers.services.revoke_api_token).
    live = ApiToken.objects.create(
        professional=world["alpha_pro"],
        name="LGO 2",
        prefix="abcd1234",
        secret_hash="0" * 64,
        scopes=["eligibility:check"],
        created_at=revoked_at,
        expires_at=revoked_at.replace(year=revoked_at.year + 1),
    )
    operator_client.post(
        "/admin/providers/apitoken/", {"action": "revoke", "_selected_action": [live.pk]}
    )
    live.refresh_from_db()
    assert live.revoked_at is not None


def test_contact_email_password_and_staff_flags_are_not_written_by_the_back_office(
    world, operator_client
) -> None:
    user = world["beta_pro"].user
    username, email, password_hash = user.username, user.email, user.password
    response = operator_client.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": "pirate",
            "email": "pirate@example.org",
            "password": "x",
            "first_name": "Nouveau",
            "last_name": "Nom",
            "is_active": "",
            "is_staff": "on",
            "is_superuser": "on",
        },
    )
    assert response.status_code == 302  # saved: the names changed, nothing else
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Nouveau", "Nom")
    assert (user.username, user.email, user.password) == (username, email, password_hash)
    assert user.is_active and not user.is_staff and not user.is_superuser
    new_password = {
        "password1": "another-correct-horse-99",
        "password2": "another-correct-horse-99",
    }
    assert operator_client.get(f"/admin/auth/user/{user.pk}/password/").status_code == 403
    assert (
        operator_client.post(f"/admin/auth/user/{user.pk}/password/", new_password).status_code
        == 403
    )
    user.refresh_from_db()
    assert user.password == password_hash
    assert operator_client.get("/admin/auth/user/add/").status_code == 403


def test_professionals_and_factors_are_not_written_by_the_back_office(
    world, operator_client
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    professional = world["beta_pro"]
    other_user = world["alpha_pro"].user
    path = f"/admin/providers/professional/{professional.pk}/change/"
    response = operator_client.post(path, {"user": other_user.pk, "display_name": "Pirate"})
    assert response.status_code == 403
    assert Professional.objects.get(pk=professional.pk).user_id == professional.user_id
    device = TOTPDevice.objects.get(user=professional.user)
    response = operator_client.post(
        f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        {"user": other_user.pk, "name": "pirate", "confirmed": ""},
    )
    assert response.status_code == 403
    device.refresh_from_db()
    assert (device.user_id, device.confirmed) == (professional.user_id, True)


def test_only_superusers_grant_roles(world) -> None:
    manager = staff_user("gestion.op", insurer=None, every_permission=True)
    request = _request(manager)
    user_admin = admin.site._registry[get_user_model()]
    form = user_admin.get_form(request, world["beta_pro"].user, change=True)
    assert not {"groups", "user_permissions"} & set(form.base_fields)
    group_admin = admin.site._registry[Permission._meta.apps.get_model("auth", "Group")]
    assert not group_admin.has_change_permission(request)
    assert not group_admin.has_add_permission(request)


# --- canaries -----------------------------------------------------------------------------

BENEFICIARIES = "/admin/registry/beneficiary/"


def _grant(user, *codenames: str) -> None:
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def _sees_canaries(client, canary) -> dict[str, bool]:
    """Where the canary flag shows: column, filter, change page, filter by URL."""
    page = client.get(BENEFICIARIES)
    assert page.status_code == 200
    cl = page.context["cl"]
    change = client.get(f"{BENEFICIARIES}{canary.pk}/change/")
    assert change.status_code == 200
    by_url = client.get(f"{BENEFICIARIES}?is_canary__exact=1")
    return {
        "column": "is_canary" in cl.list_display,
        "filter": any(getattr(s, "field_path", "") == "is_canary" for s in cl.filter_specs),
        "change page": "is_canary" in change.content.decode(),
        "filter by URL": by_url.status_code == 200,
    }


def test_only_the_operator_security_role_sees_canaries(world) -> None:
    canary = world["canary"]
    nothing = dict.fromkeys(["column", "filter", "change page", "filter by URL"], False)
    # Insurer staff holding every permission, the role's included: never.
    insurer_staff = staff_user("gestion.alpha", insurer=world["alpha"], every_permission=True)
    assert _sees_canaries(staff_with_passkey(insurer_staff), canary) == nothing
    # Operator staff without the role: never.
    clerk = staff_user("gestion.op", insurer=None, every_permission=False)
    _grant(clerk, "view_beneficiary", "change_beneficiary")
    assert _sees_canaries(staff_with_passkey(clerk), canary) == nothing
    # The operator's security role: everywhere, and the filter finds exactly the canary.
    security = staff_user("securite.op", insurer=None, every_permission=False)
    _grant(security, "view_beneficiary", "change_beneficiary", "operator_security")
    client = staff_with_passkey(security)
    assert _sees_canaries(client, canary) == dict.fromkeys(nothing, True)
    found = client.get(f"{BENEFICIARIES}?is_canary__exact=1").context["cl"].queryset
    assert [b.pk for b in found] == [canary.pk]
    # Even the role cannot unmark a canary here (guard.canaries plants them); the rest saves.
    response = client.post(
        f"{BENEFICIARIES}{canary.pk}/change/",
        {
            "contract": canary.contract_id,
            "rang": canary.rang,
            "last_name": "Leurre-Modifié",
            "first_name": canary.first_name,
            "quality": canary.quality,
            "rights_start": canary.rights_start.isoformat(),
            "rights_end": "",
            "is_canary": "",
        },
    )
    assert response.status_code == 302
    canary.refresh_from_db()
    assert (canary.is_canary, canary.last_name) == (True, "Leurre-Modifié")


def test_staff_change_a_contact_email_only_through_the_service(optician) -> None:
    """The legitimate path: a page asking a recent passkey check first, then the service:
    a security event with the actor and reason, and both addresses told."""
    import datetime

    import time_machine
    from django.core import mail
    from django.test import TestCase

    from tests.auth_helpers import passkey_step
    from tests.webauthn_soft import SoftAuthenticator
    from tierspayant.accounts.models import SecurityEvent

    start = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
    user = optician.user
    user.email = "ancienne@example.org"
    user.save()
    agent = staff_user("agent.support", insurer=None, every_permission=False)
    _grant(agent, "view_user", "change_user")
    authenticator = SoftAuthenticator()
    path = f"/admin/auth/user/{user.pk}/courriel/"
    change = {"email": "nouvelle@example.org", "reason": "ticket 4521"}
    with time_machine.travel(start, tick=False) as clock:
        client = staff_with_passkey(agent, authenticator)
        clock.shift(datetime.timedelta(minutes=10))
        assert client.get(path)["Location"].startswith("/connexion/confirmer/")
        assert client.post(path, change)["Location"].startswith("/connexion/confirmer/")
        user.refresh_from_db()
        assert user.email == "ancienne@example.org"
        assert passkey_step(client, authenticator).status_code == 200
        assert client.get(path).status_code == 200
        mail.outbox.clear()
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post(path, change)
        # A malformed address is refused by the form; nothing more changes.
        refused = client.post(path, {**change, "email": "pas-une-adresse"})
    assert refused.status_code == 200
    assert response["Location"] == f"/admin/auth/user/{user.pk}/change/"
    user.refresh_from_db()
    assert user.email == "nouvelle@example.org"
    event = SecurityEvent.objects.get(user=user, kind="accounts:email:changed")
    assert (event.actor_id, event.detail) == (agent.pk, {"reason": "ticket 4521"})
    assert sorted(m.to[0] for m in mail.outbox) == ["ancienne@example.org", "nouvelle@example.org"]
    assert all("@example.org" not in m.body for m in mail.outbox)  # no address in the text
