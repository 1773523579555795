"""One client address everywhere: behind the trusted reverse proxy, every place that records or
counts an address (the disclosure log, the bank-change records, the guard's per-address
features, the login throttle) takes the client's, resolved by the one function
``accounts.throttling.client_ip``; a source scan keeps it the only reader of the headers."""

from __future__ import annotations

import ast
import datetime
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

import tierspayant
from tests.auth_helpers import password_step, totp_step
from tests.care.conftest import french_iban
from tests.factories import make_beneficiary, new_nir
from tierspayant.audit.models import DisclosureLog
from tierspayant.guard.counters import Counters
from tierspayant.guard.observe import bucket
from tierspayant.providers.choices import Scope
from tierspayant.providers.models import BankAccountChange
from tierspayant.providers.services import issue_api_token

PROXY = "10.0.0.2"
CLIENT = "203.0.113.77"
#: What a client behind the proxy sends: a forged entry of its own, then the proxy's.
BEHIND_PROXY = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"6.6.6.6, {CLIENT}"}
BORN = datetime.date(1984, 3, 12)


@pytest.fixture
def behind_proxy(settings):
    settings.TIERSPAYANT_TRUSTED_PROXY_IPS = [PROXY]


def _rights_check(professional) -> DisclosureLog:
    token = issue_api_token(
        professional=professional,
        name="LGO",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=30,
    )
    nir = new_nir(BORN)
    make_beneficiary(nir=nir, birth_date=BORN)
    response = Client(**BEHIND_PROXY).post(
        "/api/v1/eligibility",
        data=json.dumps({"nir": nir, "birth_date": BORN.isoformat()}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token.secret}",
    )
    assert response.status_code == 200, response.content
    return DisclosureLog.objects.get(pk=response.json()["reference"])


@pytest.mark.django_db
def test_the_disclosure_log_records_the_client_behind_the_proxy(behind_proxy, optician) -> None:
    assert _rights_check(optician).ip_address == CLIENT


@pytest.mark.django_db
def test_the_guard_counts_the_client_behind_the_proxy(behind_proxy, optician) -> None:
    _rights_check(optician)
    counters = Counters(settings.TIERSPAYANT_QUOTA_STORAGE_URI)
    key = settings.TIERSPAYANT_KEYRING.index.active

    def seen_from(address: str) -> int:
        return counters.get(f"f:{optician.pk}:ip:{bucket(key, 'ip', address, hex_chars=12)}")

    assert (seen_from(CLIENT), seen_from(PROXY), seen_from("6.6.6.6")) == (1, 0, 0)


@pytest.mark.django_db
def test_bank_change_records_the_client_behind_the_proxy(behind_proxy, optician) -> None:
    optician.user.email = "optique@example.test"
    optician.user.save()
    client = Client(**BEHIND_PROXY)
    password_step(client, optician.user.username)
    totp_step(client, optician.user)
    change_form = {
        "holder_name": "Optique du Centre",
        "iban": french_iban("20041", "01005", "0500013M026"),
        "bic": "PSSTFRPP",
    }
    response = client.post("/banque/", change_form)
    change = BankAccountChange.objects.get()
    assert response["Location"] == f"/banque/changement/{change.pk}/"
    code = re.search(r"Code de confirmation : (\d{8})", mail.outbox[-1].body)
    assert code is not None
    response = client.post(f"/banque/changement/{change.pk}/", {"code": code.group(1)})
    assert response.status_code == 302
    change.refresh_from_db()
    assert (change.requested_ip, change.confirmed_ip) == (CLIENT, CLIENT)


# -- the class: nothing else reads the address headers ------------------------------------------

#: Request keys and header names that carry a client address (``request.META`` keys and
#: ``request.headers`` names alike), compared case-insensitively.
ADDRESS_KEYS = re.compile(
    r"^(REMOTE_ADDR|HTTP_X_FORWARDED_FOR|X-Forwarded-For|HTTP_X_REAL_IP|X-Real-IP"
    r"|HTTP_FORWARDED|Forwarded|HTTP_CLIENT_IP|Client-IP)$",
    re.IGNORECASE,
)
#: The one reader: the login throttle's resolution.
ALLOWED = {("accounts/throttling.py", "client_ip")}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _readers_in(node: ast.AST, where: str, skip: set[int]) -> set[str]:
    found = set()
    for child in ast.iter_child_nodes(node):
        here = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else where
        if (
            isinstance(child, ast.Constant)
            and isinstance(child.value, str)
            and id(child) not in skip
            and ADDRESS_KEYS.match(child.value.strip())
        ):
            found.add(here)
        found |= _readers_in(child, here, skip)
    return found


def address_readers() -> set[tuple[str, str]]:
    """(file under src/tierspayant, enclosing function or ``<module>``) of every string
    constant naming an address header, docstrings aside."""
    root = Path(tierspayant.__file__).parent
    readers = set()
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        relative = path.relative_to(root).as_posix()
        readers |= {(relative, f) for f in _readers_in(tree, "<module>", _docstrings(tree))}
    return readers


def test_only_the_throttles_resolution_reads_the_client_address() -> None:
    assert address_readers() == ALLOWED
