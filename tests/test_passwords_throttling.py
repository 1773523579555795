"""Passwords (12..128 characters, whole, no composition rules, not common; Argon2id) and
sign-in throttling (client address only from the configured proxy, normalised usernames,
cool-off that grows and always ends), and no user enumeration on sign-in.

Sources: NIST SP 800-63B-4 §3.1.1.2 (length, no composition, blocklist, no truncation),
§3.2.2 (rate limiting); ASVS 5.0 V6.2.1-V6.2.9 (passwords), V6.3.1 (throttling), V6.3.8
(no enumeration)."""

from __future__ import annotations

import datetime
import re

import argon2._password_hasher as argon2_hasher
import argon2.low_level
import pytest
import time_machine
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory

from tests.factories import PASSWORD, make_professional
from tierspayant.accounts.throttling import client_ip, cool_off, normalise_username

pytestmark = pytest.mark.django_db
START = datetime.datetime(2026, 4, 1, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("a9Z!b8Y@c7X", False),  # 11 characters
        ("vert-pomme-7", True),  # 12
        ("tous les chats sont gris la nuit", True),  # no composition rule: lower case, spaces
        ("x" * 64 + "-Quelle-belle-phrase-de-passe-" + "y" * 34, True),  # exactly 128
        ("z" + "x" * 64 + "-Quelle-belle-phrase-de-passe-" + "y" * 34, False),  # 129
        ("password1234", False),  # in the common-password list
        ("qwertyuiop123", False),
        ("administrator", False),
    ],
    ids=["11", "12", "passphrase", "128", "129", "common-1", "common-2", "common-3"],
)
def test_password_rules(password: str, accepted: bool) -> None:
    if accepted:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_long_passwords_are_not_truncated() -> None:
    long_password = "phrase-de-passe-" * 8  # 128 characters
    professional = make_professional(with_totp=False)
    user = professional.user
    user.set_password(long_password)
    user.save()
    request = RequestFactory().post("/connexion/")
    assert authenticate(request, username=user.username, password=long_password) == user
    for altered in (long_password[:-1] + "!", long_password[:72] + "X" * 56):
        assert authenticate(request, username=user.username, password=altered) is None


def _strip_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_unknown_and_known_usernames_get_the_same_answer_and_the_same_work(monkeypatch) -> None:
    professional = make_professional()
    calls: list[str] = []
    real_hash, real_verify = argon2.low_level.hash_secret, argon2_hasher.verify_secret

    def counting_hash(*args, **kwargs):
        calls.append("argon2id")
        return real_hash(*args, **kwargs)

    def counting_verify(*args, **kwargs):
        calls.append("argon2id")
        return real_verify(*args, **kwargs)

    monkeypatch.setattr(argon2.low_level, "hash_secret", counting_hash)  # Django's encode()
    monkeypatch.setattr(argon2_hasher, "verify_secret", counting_verify)  # Django's verify()
    answers = {}
    for label, username in (
        ("known", professional.user.username),
        ("unknown", "personne.inconnue"),
    ):
        calls.clear()
        response = Client(REMOTE_ADDR=f"192.0.2.{len(answers) + 10}").post(
            "/connexion/", {"username": username, "password": "not-the-password-at-all"}
        )
        answers[label] = (response.status_code, _strip_csrf(response.content.decode()), list(calls))
    assert answers["known"] == answers["unknown"]
    assert answers["known"][0] == 200
    assert answers["known"][2] == ["argon2id"]  # one Argon2id computation either way


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        ([], "198.51.100.9", "", "198.51.100.9"),
        ([], "198.51.100.9", "203.0.113.1", "198.51.100.9"),  # no proxy: header ignored
        (["10.0.0.2"], "198.51.100.9", "203.0.113.1", "198.51.100.9"),  # not from the proxy
        (["10.0.0.2"], "10.0.0.2", "203.0.113.1", "203.0.113.1"),
        (["10.0.0.2"], "10.0.0.2", "1.2.3.4, 203.0.113.1", "203.0.113.1"),  # spoofed left part
        (["10.0.0.2"], "10.0.0.2", "not-an-address", "10.0.0.2"),
    ],
    ids=["direct", "no-proxy-spoof", "bypassing-proxy", "via-proxy", "via-proxy-spoof", "junk"],
)
def test_client_address(settings, trusted, remote, forwarded, expected) -> None:
    settings.TIERSPAYANT_TRUSTED_PROXY_IPS = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def _fail(username: str, remote: str, forwarded: str = "") -> int:
    client = Client(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    return client.post("/connexion/", {"username": username, "password": "wrong"}).status_code


def test_a_forged_forwarded_for_does_not_reset_the_count() -> None:
    # Credential stuffing from one address: three usernames, a new X-Forwarded-For each time.
    for n in range(3):
        _fail(f"victime{n}", "198.51.100.20", forwarded=f"203.0.113.{n}")
    assert _fail("victime9", "198.51.100.20", forwarded="203.0.113.99") == 429


def test_behind_the_proxy_each_client_is_counted_apart(settings) -> None:
    settings.TIERSPAYANT_TRUSTED_PROXY_IPS = ["10.0.0.2"]
    for n in range(3):
        _fail(f"cible{n}", "10.0.0.2", forwarded=f"6.6.6.{n}, 203.0.113.50")
    assert _fail("cible9", "10.0.0.2", forwarded="203.0.113.50") == 429
    assert _fail("autre", "10.0.0.2", forwarded="203.0.113.51") == 200  # another client


def test_usernames_are_normalised_before_counting() -> None:
    assert normalise_username(" Ｐro1 ") == "pro1"  # full-width letter, spaces, case
    professional = make_professional(username="opticien.lyon")
    for n, spelling in enumerate(["OPTICIEN.LYON", " opticien.lyon", "Opticien.Lyon"]):
        _fail(spelling, f"198.51.100.{n + 40}")
    response = Client(REMOTE_ADDR="198.51.100.99").post(
        "/connexion/", {"username": "opticien.lyon", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert professional  # the real account is the one locked


def test_cool_off_grows_with_each_lockout_and_always_ends() -> None:
    professional = make_professional(username="audio.nantes")
    username = professional.user.username

    def lock() -> None:
        for n in range(3):
            _fail(username, f"198.51.100.{60 + n}")

    def can_sign_in() -> bool:
        client = Client(REMOTE_ADDR="198.51.100.90")
        return (
            client.post("/connexion/", {"username": username, "password": PASSWORD}).status_code
            == 302
        )

    with time_machine.travel(START, tick=False) as clock:
        lock()
        assert not can_sign_in()
        for _ in range(5):  # hammering during the lock does not extend it
            clock.shift(datetime.timedelta(minutes=2))
            _fail(username, "198.51.100.70")
        clock.shift(datetime.timedelta(minutes=5, seconds=1))  # 15 min after the lock
        assert can_sign_in()
        lock()  # second lockout of the day: 30 minutes
        clock.shift(datetime.timedelta(minutes=15, seconds=1))
        assert not can_sign_in()
        clock.shift(datetime.timedelta(minutes=15))
        assert can_sign_in()


@pytest.mark.parametrize(
    ("earlier_lockouts", "minutes"),
    [(0, 15), (1, 15), (2, 30), (3, 60), (6, 480), (7, 960), (8, 1440), (50, 1440)],
)
def test_cool_off_table(earlier_lockouts: int, minutes: int) -> None:
    from tierspayant.accounts.throttling import _COUNT, _key

    cache.set(_key(_COUNT, "pro.table"), earlier_lockouts)
    request = RequestFactory().post("/connexion/", {"username": "Pro.Table"})
    assert cool_off(request) == datetime.timedelta(minutes=minutes)


def _sign_in(username: str, remote: str) -> int:
    client = Client(REMOTE_ADDR=remote)
    return client.post("/connexion/", {"username": username, "password": PASSWORD}).status_code


def test_signing_in_to_ones_own_account_does_not_forgive_guesses_on_another() -> None:
    # Issue 13: two guesses on the victim, then a successful sign-in to the attacker's own
    # account from the same address, six times over: before the fix, 12 guesses and no lock.
    make_professional(username="victime")
    make_professional(username="attaquant")
    answers = []
    for _ in range(6):
        answers += [_fail("victime", "198.51.100.30") for _ in range(2)]
        _sign_in("attaquant", "198.51.100.30")
    assert answers == [200, 200] + [429] * 10  # the limit is 3 in tests
    assert _sign_in("victime", "198.51.100.31") == 429  # the victim's username is locked


@pytest.mark.parametrize(
    ("who_signs_in", "victim_answers"),
    [
        ("victime", [200, 200, 429]),  # their own failures are forgiven: a fresh count
        ("voisin", [429, 429, 429]),  # another account's success forgives nothing
    ],
)
def test_a_success_forgives_only_that_usernames_failures(who_signs_in, victim_answers) -> None:
    make_professional(username="victime")
    make_professional(username="voisin")
    # Two failures, then a success, all from one address (a shared practice's, say).
    assert [_fail("victime", "198.51.100.59") for _ in range(2)] == [200, 200]
    assert _sign_in(who_signs_in, "198.51.100.59") == 302
    assert [_fail("victime", f"198.51.100.{n + 60}") for n in range(3)] == victim_answers
