"""JSON API: token authentication, answers, errors naming fields, OpenAPI."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import make_beneficiary, make_professional, new_nir
from tierspayant.audit.models import DisclosureLog
from tierspayant.providers.choices import Scope
from tierspayant.providers.services import issue_api_token, revoke_api_token

pytestmark = pytest.mark.django_db
BORN = datetime.date(1990, 6, 30)


@pytest.fixture
def token(optician):
    return issue_api_token(
        professional=optician,
        name="LGO",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=30,
    )


def post(body, bearer: str | None) -> tuple[int, dict]:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"} if bearer else {}
    response = Client().post(
        "/api/v1/eligibility",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        **headers,
    )
    return response.status_code, response.json()


def test_covered_patient(token) -> None:
    nir = new_nir(BORN)
    person = make_beneficiary(nir=nir, birth_date=BORN)
    status, body = post(
        {"nir": nir, "birth_date": "1990-06-30", "care_date": "2026-01-05"}, token.secret
    )
    assert status == 200
    assert body == {
        "outcome": "covered",
        "care_date": "2026-01-05",
        "rights_start": "2024-01-01",
        "rights_end": None,
        "amc_number": person.contract.insurer.amc_number,
        "tiers_payant_domains": ["pharmacy", "optical", "audio"],
        "reference": DisclosureLog.objects.get().pk,
    }
    assert person.last_name not in json.dumps(body)


def test_no_match(token) -> None:
    status, body = post({"nir": new_nir(BORN), "birth_date": "1990-06-30"}, token.secret)
    assert (status, body["outcome"], body["rights_start"]) == (200, "no_match", None)
    assert DisclosureLog.objects.get().outcome == "no_match"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"nir": "177025626004545", "birth_date": "1977-02-10"}, 400, "nir"),
        ({"nir": "177025626004544", "birth_date": "1977-13-10"}, 400, "birth_date"),
        ({"nir": "177025626004544"}, 422, "birth_date"),
        ({"nir": "177025626004544", "birth_date": "1977-02-10", "rang": "deux"}, 422, "rang"),
    ],
    ids=["bad-key", "impossible-date", "missing-field", "rang-not-int"],
)
def test_bad_input_names_the_field(token, body, status, field) -> None:
    got_status, got = post(body, token.secret)
    assert got_status == status
    named = got.get("field") or ",".join(d["field"] for d in got.get("details", []))
    assert field in named
    assert "177025626004544" not in json.dumps(got) and "deux" not in json.dumps(got)


def test_malformed_json_is_a_400(token) -> None:
    status, _ = post("{not json", token.secret)
    assert status == 400
    assert DisclosureLog.objects.count() == 0


def test_tokens_are_checked(optician, token) -> None:
    body = {"nir": "177025626004544", "birth_date": "1977-02-10"}
    assert post(body, None)[0] == 401
    assert post(body, token.secret + "x")[0] == 401
    assert post(body, "tp_nothere_secret")[0] == 401
    expired = issue_api_token(
        professional=optician,
        name="old",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now() - datetime.timedelta(days=40),
        valid_days=30,
    )
    assert post(body, expired.secret)[0] == 401
    unscoped = issue_api_token(
        professional=optician, name="none", scopes=[], now=timezone.now(), valid_days=30
    )
    assert post(body, unscoped.secret)[0] == 401
    revoke_api_token(token=token.token, now=timezone.now())
    assert post(body, token.secret)[0] == 401
    assert DisclosureLog.objects.count() == 0


def test_token_is_stored_hashed(token) -> None:
    token.token.refresh_from_db()
    assert token.secret not in (token.token.secret_hash, token.token.prefix)
    assert len(token.token.secret_hash) == 64


def test_quota_answers_429(token, settings) -> None:
    settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA = 2
    body = {"nir": new_nir(BORN), "birth_date": "1990-06-30"}
    assert [post(body, token.secret)[0] for _ in range(3)] == [200, 200, 429]


def test_each_professional_has_its_own_quota(token, settings) -> None:
    settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA = 1
    other = make_professional()
    other_token = issue_api_token(
        professional=other,
        name="x",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=1,
    )
    body = {"nir": new_nir(BORN), "birth_date": "1990-06-30"}
    assert post(body, token.secret)[0] == 200
    assert post(body, other_token.secret)[0] == 200


def test_openapi_is_served() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert "/api/v1/eligibility" in spec["paths"]
    assert spec["paths"]["/api/v1/eligibility"]["post"]["security"] == [{"EligibilityBearer": []}]


def test_create_api_token_command(optician) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    out, err = StringIO(), StringIO()
    call_command("create_api_token", optician.user.username, days=7, stdout=out, stderr=err)
    secret = out.getvalue().strip()
    token = optician.api_tokens.get()
    assert secret.startswith(f"tp_{token.prefix}_")
    assert (token.expires_at - token.created_at).days == 7
    assert "copy it now" in err.getvalue()
    status, body = post({"nir": new_nir(BORN), "birth_date": "1990-06-30"}, secret)
    assert (status, body["outcome"]) == (200, "no_match")
    with pytest.raises(CommandError, match="No professional"):
        call_command("create_api_token", "nobody", stdout=out, stderr=err)
    with pytest.raises(CommandError, match="between 1 and 365"):
        call_command("create_api_token", optician.user.username, days=999, stdout=out, stderr=err)


def _issue_by_command(username: str, *scopes: str) -> tuple[str, str]:
    """(secret, what the command said on stderr) of ``create-api-token USERNAME --scope ...``."""
    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    args = [arg for scope in scopes for arg in ("--scope", scope)]
    call_command("create_api_token", username, *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


#: One endpoint per scope the API checks: (method, path, JSON body, status when allowed).
SCOPE_PROBES = {
    Scope.ELIGIBILITY_CHECK: (
        "post",
        "/api/v1/eligibility",
        {"nir": "177025626004544", "birth_date": "1977-02-10"},
        200,
    ),
    Scope.CLAIMS_SUBMIT: ("get", "/api/v1/claims/999999", None, 404),
    Scope.PAYMENTS_READ: ("get", "/api/v1/statements", None, 200),
}


def test_every_scope_has_a_probe() -> None:
    assert set(SCOPE_PROBES) == set(Scope)


def _probe(scope: Scope, secret: str) -> int:
    method, path, body, _ = SCOPE_PROBES[scope]
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(Client(), method)(path, **kwargs).status_code


@pytest.mark.parametrize("scope", list(Scope), ids=[s.value for s in Scope])
def test_create_api_token_issues_each_scope_and_only_it(optician, scope: Scope) -> None:
    """Practice software gets a claims (or statements) token from the command line too."""
    secret, said = _issue_by_command(optician.user.username, scope.value)
    assert optician.api_tokens.get().scopes == [scope.value]
    assert f"({scope.value})" in said
    for probed, (*_, allowed) in SCOPE_PROBES.items():
        assert _probe(probed, secret) == (allowed if probed == scope else 401), probed


def test_create_api_token_several_scopes_and_the_default(optician) -> None:
    _issue_by_command(optician.user.username, "payments:read", "claims:submit", "claims:submit")
    _issue_by_command(optician.user.username)
    tokens = optician.api_tokens.order_by("created_at")
    assert [t.scopes for t in tokens] == [["claims:submit", "payments:read"], ["eligibility:check"]]


def test_create_api_token_refuses_an_unknown_scope(optician) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="invalid choice: 'audit:read'"):
        _issue_by_command(optician.user.username, "audit:read")
    assert not optician.api_tokens.exists()


def test_last_used_is_refreshed_at_most_once_a_minute(token) -> None:
    from tierspayant.providers.services import authenticate_token

    start = timezone.now()
    authenticate_token(token.secret, scope=Scope.ELIGIBILITY_CHECK, now=start)
    token.token.refresh_from_db()
    assert token.token.last_used_at == start
    authenticate_token(
        token.secret, scope=Scope.ELIGIBILITY_CHECK, now=start + datetime.timedelta(seconds=30)
    )
    token.token.refresh_from_db()
    assert token.token.last_used_at == start
    later = start + datetime.timedelta(minutes=2)
    authenticate_token(token.secret, scope=Scope.ELIGIBILITY_CHECK, now=later)
    token.token.refresh_from_db()
    assert token.token.last_used_at == later
