"""Every second-factor code check under concurrency (issue 13): one code opens one session,
however many sessions post it at the same moment, at sign-in, at step-up and with a recovery
code; concurrent wrong guesses do not pass the throttle together.

Real threads, each with its own database connection (PostgreSQL, or the SQLite test file:
tests/settings.py), posting through the real views. Left to chance, the requests of a run
may well reach the check one after the other (the race then shows in some runs only), so a
gate in django-otp's throttle check (``verify_is_allowed``, which every code check calls
right after reading the device) holds each request until all have read the device: the
worst interleaving, every run. Each test asserts that all its requests met at the gate, so a
pass is never a run that happened to be sequential."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone
from django_otp.models import ThrottlingMixin
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

import tierspayant
from tests.auth_helpers import password_step
from tests.conftest import totp_code
from tests.factories import make_professional
from tierspayant.accounts.codes import verify_code
from tierspayant.accounts.models import RecoveryCode
from tierspayant.accounts.recovery import issue_recovery_codes

SESSIONS = 6


class Gate:
    """Holds each caller until ``parties`` callers have arrived (or ``timeout`` seconds have
    passed: a fixed check lets fewer through), then lets them all go on together."""

    def __init__(self, parties: int, timeout: float = 3.0) -> None:
        self.parties, self.timeout = parties, timeout
        self.arrived = 0
        self.armed = False
        self._condition = threading.Condition()

    def wait(self) -> None:
        with self._condition:
            self.arrived += 1
            self._condition.notify_all()
            self._condition.wait_for(lambda: self.arrived >= self.parties, self.timeout)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    """A :class:`Gate` in every code check's throttle read, armed by :func:`at_once`."""
    gate = Gate(SESSIONS)
    real = ThrottlingMixin.verify_is_allowed

    def gated(self: ThrottlingMixin) -> object:
        result = real(self)  # the real check; the gate only delays what follows it
        if gate.armed:
            gate.wait()
        return result

    monkeypatch.setattr(ThrottlingMixin, "verify_is_allowed", gated)
    return gate


def at_once(gate: Gate, posts: list[tuple[Client, str, dict[str, str]]]) -> list[int]:
    """POST each ``(client, path, data)`` from its own thread (own connection), all released
    together; the answers' status codes, in order. Fails unless all met at the gate."""
    barrier = threading.Barrier(len(posts))
    gate.armed = True

    def post(item: tuple[Client, str, dict[str, str]]) -> int:
        client, path, data = item
        try:
            barrier.wait(timeout=60)
            return client.post(path, data).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(posts)) as pool:
        statuses = list(pool.map(post, posts))
    gate.armed = False
    assert gate.arrived >= len(posts), "the posts did not all reach the code check together"
    return statuses


def signed_in_with_password(username: str) -> list[Client]:
    clients = [Client() for _ in range(SESSIONS)]
    for client in clients:
        password_step(client, username)
    return clients


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("check", ["sign-in", "step-up", "recovery code"])
def test_one_code_opens_one_session_however_many_post_it_at_once(gate: Gate, check: str) -> None:
    professional = make_professional()
    user = professional.user
    device = TOTPDevice.objects.get(user=user)
    recovery = issue_recovery_codes(user, now=timezone.now())
    clients = signed_in_with_password(user.username)
    if check == "sign-in":
        path, data = "/connexion/code/", {"otp_token": totp_code(device)}
    elif check == "step-up":
        for client, code in zip(clients, recovery, strict=False):  # six verified sessions
            assert client.post("/connexion/code-de-secours/", {"code": code}).status_code == 302
        path, data = "/connexion/confirmer/", {"otp_token": totp_code(device), "next": "/"}
    else:
        path, data = "/connexion/code-de-secours/", {"code": recovery[-1]}
    statuses = at_once(gate, [(client, path, data) for client in clients])
    print("STAT", statuses)
    assert sorted(statuses) == [302] + [400] * (SESSIONS - 1)
    if check == "recovery code":
        assert RecoveryCode.objects.filter(used_at__isnull=False).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_guesses_do_not_pass_the_throttle_together(
    gate: Gate, monkeypatch
) -> None:
    professional = make_professional()
    user = professional.user
    device = TOTPDevice.objects.get(user=user)
    right = int(totp_code(device))
    guesses = [f"{(right + n) % 1_000_000:06d}" for n in range(1, SESSIONS + 1)]
    checked: list[int] = []
    real_verify = TOTP.verify

    def counting_verify(self: TOTP, token: int, *args: object, **kwargs: object) -> bool:
        checked.append(token)  # a spy: the real check still runs
        return real_verify(self, token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(TOTP, "verify", counting_verify)
    clients = signed_in_with_password(user.username)
    statuses = at_once(
        gate,
        [(c, "/connexion/code/", {"otp_token": g}) for c, g in zip(clients, guesses, strict=True)],
    )
    assert statuses == [400] * SESSIONS
    # One guess checked, the others refused unchecked by the throttle (1 s after a failure);
    # and the failure that was checked is counted, not lost to a concurrent write.
    assert len(checked) == 1
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["totp", "recovery"])
def test_a_stale_copy_of_the_device_cannot_spend_a_code_again(kind: str) -> None:
    user = make_professional().user
    if kind == "totp":
        first, second = (TOTPDevice.objects.get(user=user) for _ in range(2))
        code = totp_code(first)
    else:
        code = issue_recovery_codes(user, now=timezone.now())[0]
        first, second = (user.recoverycodedevice_set.get() for _ in range(2))
    assert verify_code(first, code, now=timezone.now())
    assert not verify_code(second, code, now=timezone.now())


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["totp", "recovery"])
def test_a_device_removed_meanwhile_checks_nothing_and_is_not_written_back(kind: str) -> None:
    # A staff reset of lost factors while a code is being checked: django-otp's full-row save
    # of the failure count would insert the deleted device again.
    user = make_professional().user
    if kind == "totp":
        device = TOTPDevice.objects.get(user=user)
        code = totp_code(device)
    else:
        code = issue_recovery_codes(user, now=timezone.now())[0]
        device = user.recoverycodedevice_set.get()
    type(device).objects.filter(pk=device.pk).delete()
    assert not verify_code(device, code, now=timezone.now())
    assert not type(device).objects.filter(user=user).exists()


def test_every_code_check_goes_through_verify_code() -> None:
    """No view or service calls django-otp's read-then-write check directly."""
    root = Path(tierspayant.__file__).parent
    calls = re.compile(r"\.(verify_token|verify_is_allowed)\(")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if path != root / "accounts" / "codes.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if calls.search(line)
    ]
    assert offenders == []
