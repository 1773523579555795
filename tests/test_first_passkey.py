"""The first passkey of an account (issue 13, item 1): a password + TOTP sign-in, which a
phishing proxy can relay, no longer plants one. A professional's first passkey needs a code
e-mailed to the holder, in the same session; a staff account's needs ANOTHER staff member's
approval (or the shell's, while nobody else could approve). Every passkey added is announced
with a removal code, with which the owner, signed in with TOTP, removes a passkey they did
not add even though it now gates step-up. Through the real views and ceremonies."""

from __future__ import annotations

import datetime
import io
import uuid

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tests.auth_helpers import (
    BEGIN_REG,
    COMPLETE_REG,
    ORIGIN,
    approver,
    enrol_first_passkey,
    enrolment_code,
    notice_code,
    open_first_passkey,
    passkey_step,
    password_step,
    post_json,
    register_passkey,
    staff_with_passkey,
    totp_step,
)
from tests.factories import PASSWORD, make_professional
from tests.webauthn_soft import SoftAuthenticator
from tierspayant.accounts import enrolment
from tierspayant.accounts.models import (
    PasskeyEnrolment,
    PasskeyNotice,
    SecurityEvent,
    UserSession,
)

pytestmark = pytest.mark.django_db
NEXT_STEP = datetime.timedelta(seconds=31)  # a fresh TOTP step (a code is used once)


@pytest.fixture
def owner():
    """An optician with TOTP and an e-mail address on file."""
    return make_professional(email="optique@example.test").user


def _signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    password_step(client, user.username)
    totp_step(client, user)
    return client


def _kinds(user) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        SecurityEvent.objects.filter(user=user).order_by("at", "pk").values_list("kind", flat=True)
    )


# --- the relay ------------------------------------------------------------------------------


def test_a_relayed_password_and_totp_sign_in_cannot_plant_a_first_passkey(owner) -> None:
    relayed = _signed_in(owner)  # what a phishing proxy holds: password + one fresh TOTP code
    refused = post_json(relayed, BEGIN_REG)
    assert refused.status_code == 403
    assert refused.json()["code"] == "passkey_enrolment_required"
    assert "Sécurité" in refused.json()["detail"]
    # Nor by posting an attestation straight to the completion endpoint.
    attestation = SoftAuthenticator().register(
        {"rp": {"id": "portail.tierspayant.test"}, "challenge": "AAAA"}, origin=ORIGIN
    )
    assert post_json(relayed, COMPLETE_REG, attestation).status_code == 403
    assert not WebAuthnCredential.objects.filter(user=owner).exists()
    page = relayed.get("/securite/").content.decode()
    assert 'id="passkey-enrolment-button"' in page
    assert 'id="passkey-register-button"' not in page


def test_the_emailed_code_opens_one_passkey_in_the_session_that_asked(owner) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = _signed_in(owner)
        assert client.post("/securite/cles/enrolement/")["Location"] == (
            "/securite/cles/enrolement/code/"
        )
        code = enrolment_code()
        assert code not in client.get("/securite/cles/enrolement/code/").content.decode()
        # The relay's own session (password + a later code) cannot use the owner's opening.
        clock.shift(NEXT_STEP)
        relayed = _signed_in(owner)
        response = relayed.post("/securite/cles/enrolement/code/", {"code": code})
        assert response.status_code == 400
        assert client.post("/securite/cles/enrolement/code/", {"code": code})["Location"] == (
            "/securite/"
        )
        assert post_json(relayed, BEGIN_REG).json()["code"] == "passkey_enrolment_required"
        page = client.get("/securite/").content.decode()
        assert 'id="passkey-register-button"' in page
        assert register_passkey(client, SoftAuthenticator()).status_code == 200
    row = PasskeyEnrolment.objects.get(user=owner)
    assert row.used_at is not None and row.credential_id == WebAuthnCredential.objects.get().pk
    assert [k for k in _kinds(owner) if "passkey" in k] == [
        "accounts:passkey-enrolment:requested",
        "accounts:passkey-enrolment:confirmed",
        "accounts:passkey:added",
    ]


@pytest.mark.parametrize(
    ("wrong_tries", "wait", "opened"),
    [
        (0, datetime.timedelta(minutes=enrolment.CODE_MINUTES - 1), True),
        (enrolment.MAX_CODE_ATTEMPTS - 1, datetime.timedelta(0), True),
        (enrolment.MAX_CODE_ATTEMPTS, datetime.timedelta(0), False),
        (0, datetime.timedelta(minutes=enrolment.CODE_MINUTES), False),
    ],
    ids=["in-time", "last-try-left", "too-many-wrong", "expired"],
)
def test_the_emailed_code_is_short_lived_and_throttled(owner, wrong_tries, wait, opened) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = _signed_in(owner)
        client.post("/securite/cles/enrolement/")
        code = enrolment_code()
        wrong = f"{(int(code) + 1) % 10**8:08d}"
        for _ in range(wrong_tries):
            assert (
                client.post("/securite/cles/enrolement/code/", {"code": wrong}).status_code == 400
            )
        clock.shift(wait)
        response = client.post("/securite/cles/enrolement/code/", {"code": code})
        assert (response.status_code == 302) is opened
    assert PasskeyEnrolment.objects.get(user=owner).attempts == wrong_tries


def test_the_opening_lapses_and_a_failed_ceremony_does_not_spend_it(owner) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = _signed_in(owner)
        open_first_passkey(client, owner)
        foreign = register_passkey(client, SoftAuthenticator(), origin="https://evil.example")
        assert foreign.status_code == 422
        assert PasskeyEnrolment.objects.get(user=owner).used_at is None
        clock.shift(datetime.timedelta(minutes=enrolment.OPEN_MINUTES, seconds=1))
        clock.shift(NEXT_STEP)
        again = _signed_in(owner)  # a fresh second factor, but the opening is over
        assert post_json(again, BEGIN_REG).json()["code"] == "passkey_enrolment_required"


def test_asking_for_the_code_needs_a_recent_second_factor(owner) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = _signed_in(owner)
        clock.shift(datetime.timedelta(minutes=6))
        response = client.post("/securite/cles/enrolement/")
        assert response["Location"] == "/connexion/confirmer/?next=%2Fsecurite%2F"
    assert not PasskeyEnrolment.objects.exists()


def test_a_professional_without_an_email_address_waits_for_staff(db) -> None:
    user = make_professional().user  # no address on file: no second channel of their own
    client = _signed_in(user)
    assert client.post("/securite/cles/enrolement/")["Location"] == "/securite/"
    assert 'id="passkey-enrolment-pending"' in client.get("/securite/").content.decode()
    assert post_json(client, BEGIN_REG).json()["code"] == "passkey_enrolment_required"
    pending = enrolment.pending_enrolment(user, now=timezone.now())
    enrolment.approve_enrolment(enrolment_id=pending.pk, approver=approver(), now=timezone.now())
    assert register_passkey(client, SoftAuthenticator()).status_code == 200


def test_a_professionals_very_first_factor_may_still_be_a_passkey(db) -> None:
    """First sign-in, no factor yet: a passkey enrols like the TOTP app does (docs)."""
    user = make_professional(with_totp=False).user
    client = Client()
    password_step(client, user.username)
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    assert not PasskeyEnrolment.objects.exists()


# --- the notice and the owner's way back ----------------------------------------------------


def test_the_owner_removes_a_passkey_they_did_not_add_with_the_notice_code(owner) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        attacker = _signed_in(owner)  # say the owner was talked into reading the code out
        attacker_key = SoftAuthenticator()
        assert enrol_first_passkey(attacker, owner, attacker_key).status_code == 200
        code = notice_code()
        planted = WebAuthnCredential.objects.get(user=owner)
        # The owner signs in with password + TOTP: the planted passkey gates step-up...
        clock.shift(NEXT_STEP)
        client = _signed_in(owner)
        response = client.post(f"/securite/cles/{planted.pk}/supprimer/")
        assert response["Location"].startswith("/connexion/confirmer/")
        page = client.get("/securite/").content.decode()
        assert f"/securite/cles/{planted.pk}/retirer/" in page
        # ...but the notice's code removes it: a wrong one is counted, the right one works.
        assert (
            client.post(
                f"/securite/cles/{planted.pk}/retirer/", {"code": "aaaaa-aaaaa"}
            ).status_code
            == 400
        )
        response = client.post(f"/securite/cles/{planted.pk}/retirer/", {"code": code.upper()})
        assert response["Location"] == "/securite/"
    assert not WebAuthnCredential.objects.filter(user=owner).exists()
    assert attacker.get("/droits/").status_code == 302  # the attacker's session ended
    assert client.get("/droits/").status_code == 200
    assert UserSession.objects.filter(user=owner, ended_at__isnull=True).count() == 1
    event = SecurityEvent.objects.get(user=owner, kind="accounts:passkey:removed-by-notice")
    assert event.detail == {"passkey": planted.pk}


@pytest.mark.parametrize(
    ("wrong_tries", "wait", "removed"),
    [
        (enrolment.MAX_CODE_ATTEMPTS - 1, datetime.timedelta(days=enrolment.NOTICE_DAYS - 1), True),
        (enrolment.MAX_CODE_ATTEMPTS, datetime.timedelta(0), False),
        (0, datetime.timedelta(days=enrolment.NOTICE_DAYS), False),
    ],
    ids=["last-try-left-in-time", "too-many-wrong", "expired"],
)
def test_the_removal_code_is_throttled_and_expires(owner, wrong_tries, wait, removed) -> None:
    client = _signed_in(owner)
    open_first_passkey(client, owner)
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    code = notice_code()
    passkey = WebAuthnCredential.objects.get(user=owner)
    now = PasskeyNotice.objects.get(credential=passkey).sent_at
    for _ in range(wrong_tries):
        with pytest.raises(enrolment.InvalidNoticeCode):
            enrolment.remove_passkey_with_notice_code(
                owner, passkey_id=passkey.pk, code="zzzzz-zzzzz", keep_session=None, now=now
            )
    done = True
    try:
        enrolment.remove_passkey_with_notice_code(
            owner, passkey_id=passkey.pk, code=code, keep_session=None, now=now + wait
        )
    except enrolment.InvalidNoticeCode:
        done = False
    assert done is removed
    assert WebAuthnCredential.objects.filter(user=owner).exists() is not removed


def test_another_users_passkey_cannot_be_removed_with_a_code(owner) -> None:
    client = _signed_in(owner)
    open_first_passkey(client, owner)
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    code = notice_code()
    passkey = WebAuthnCredential.objects.get(user=owner)
    other = _signed_in(make_professional().user)
    assert other.post(f"/securite/cles/{passkey.pk}/retirer/", {"code": code}).status_code == 404
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()


def test_the_notice_code_cannot_remove_the_last_factor(db) -> None:
    user = make_professional(with_totp=False, email="optique@example.test").user
    client = Client()
    password_step(client, user.username)
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    passkey = WebAuthnCredential.objects.get(user=user)
    response = client.post(f"/securite/cles/{passkey.pk}/retirer/", {"code": notice_code()})
    assert response.status_code == 400
    assert "dernier second facteur" in response.content.decode()
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()


# --- staff ----------------------------------------------------------------------------------


def _staff(username: str, *codenames: str):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=True, email=f"{username}@example.test"
    )
    TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return get_user_model().objects.get(pk=user.pk)


APPROVER = ("view_passkeyenrolment", "approve_passkeyenrolment")


def test_a_staff_members_first_passkey_needs_another_staff_members_approval(db) -> None:
    staff = _staff("agent.nouveau", *APPROVER)
    client = _signed_in(staff)
    page = client.get("/securite/").content.decode()
    assert "Demander l&#x27;enrôlement" in page or "Demander l'enrôlement" in page
    assert client.post("/securite/cles/enrolement/")["Location"] == "/securite/"
    assert post_json(client, BEGIN_REG).json()["code"] == "passkey_enrolment_required"
    pending = PasskeyEnrolment.objects.get(user=staff)
    professional = make_professional().user
    unentitled = _staff("agent.accueil")
    # Never self-approval (even holding the permission); never a non-staff account; never
    # staff without the permission.
    for refused_by in (staff, professional, unentitled):
        with pytest.raises(enrolment.ApprovalRefused):
            enrolment.approve_enrolment(
                enrolment_id=pending.pk, approver=refused_by, now=timezone.now()
            )
    # A colleague in the back-office (passkey session, step-up) approves it.
    colleague = _staff("agent.ancien", *APPROVER)
    back_office = staff_with_passkey(colleague)
    response = back_office.post(
        "/admin/accounts/passkeyenrolment/",
        {"action": "approve_enrolments", "_selected_action": [pending.pk]},
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.approved_by == colleague and pending.opened_at is not None
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    event = SecurityEvent.objects.get(user=staff, kind="accounts:passkey-enrolment:approved")
    assert event.actor == colleague
    assert event.detail == {"enrolment": pending.pk, "via": "back-office"}


def test_a_new_staff_account_starts_with_totp_not_with_a_passkey(db) -> None:
    """No factor yet: a professional may start with a passkey, staff may not (their first
    passkey needs a colleague's approval, which needs a verified session to ask)."""
    staff = get_user_model().objects.create_user(
        username="agent.arrive", password=PASSWORD, is_staff=True
    )
    client = Client()
    password_step(client, staff.username)
    page = client.get("/connexion/activer-2fa/").content.decode()
    assert 'id="staff-passkey-later"' in page
    assert 'id="passkey-registration-placeholder"' not in page
    assert post_json(client, BEGIN_REG).json()["code"] == "passkey_enrolment_required"
    assert not WebAuthnCredential.objects.exists()


def test_staff_cannot_approve_their_own_request_in_the_back_office(db) -> None:
    staff = _staff("agent.seul", *APPROVER)
    back_office = staff_with_passkey(staff)  # holds a passkey, asks for nothing
    mine = PasskeyEnrolment.objects.create(
        user=staff, route="approval", requested_at=timezone.now()
    )
    back_office.post(
        "/admin/accounts/passkeyenrolment/",
        {"action": "approve_enrolments", "_selected_action": [mine.pk]},
    )
    mine.refresh_from_db()
    assert mine.opened_at is None


def test_the_shell_approves_only_while_nobody_else_could(db) -> None:
    first = _staff("premier.agent")
    client = _signed_in(first)
    client.post("/securite/cles/enrolement/")
    out = io.StringIO()
    call_command("approve_passkey_enrolment", first.username, reason="TICKET-1", stdout=out)
    assert "approuvé" in out.getvalue()
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    event = SecurityEvent.objects.get(user=first, kind="accounts:passkey-enrolment:approved")
    assert event.actor is None and event.detail["via"] == "command"
    # Now someone can approve in the back-office: the shell refuses a second staff member.
    second = _staff("second.agent")
    _signed_in(second).post("/securite/cles/enrolement/")
    with pytest.raises(CommandError) as refused:
        call_command("approve_passkey_enrolment", second.username, reason="TICKET-2")
    assert "back-office" in str(refused.value)
    with pytest.raises(CommandError):
        call_command("approve_passkey_enrolment", "inconnu", reason="TICKET-3")
    assert PasskeyEnrolment.objects.get(user=second).opened_at is None


def test_a_passkey_added_later_still_needs_a_passkey_check(owner) -> None:
    """Holding a passkey, another one needs that passkey (no enrolment, no TOTP)."""
    client = _signed_in(owner)
    key = SoftAuthenticator()
    assert enrol_first_passkey(client, owner, key).status_code == 200
    assert post_json(client, BEGIN_REG).json()["code"] == "step_up_required"
    assert passkey_step(client, key).status_code == 200
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    assert PasskeyEnrolment.objects.filter(user=owner).count() == 1


# --- code checks under concurrency (PostgreSQL: real concurrent transactions) ---------------


def _race(calls: int, action) -> list[object]:  # type: ignore[no-untyped-def]
    """Run ``action()`` from ``calls`` threads at once; each result or exception, in a list."""
    import threading

    from django.db import connections

    results: list[object] = []
    barrier = threading.Barrier(calls)

    def run() -> None:
        try:
            barrier.wait()
            results.append(action())
        except Exception as exc:  # reported to the test
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_code_checks_count_every_try_and_open_once(owner) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    now = timezone.now()
    sid = uuid.uuid4()  # the session that asked
    asked = enrolment.request_enrolment(owner, session_id=sid, now=now)
    code = asked.code or ""
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    # Wrong guesses at once: every one counted, none past the limit opens anything.
    tries = enrolment.MAX_CODE_ATTEMPTS - 1
    results = _race(
        tries,
        lambda: enrolment.confirm_enrolment(owner, session_id=sid, code=wrong, now=now),
    )
    assert all(isinstance(r, enrolment.InvalidEnrolmentCode) for r in results)
    assert PasskeyEnrolment.objects.get().attempts == tries
    # The right code sent several times at once opens the request once.
    results = _race(
        4, lambda: enrolment.confirm_enrolment(owner, session_id=sid, code=code, now=now)
    )
    assert sum(isinstance(r, PasskeyEnrolment) for r in results) == 1
    assert SecurityEvent.objects.filter(kind="accounts:passkey-enrolment:confirmed").count() == 1
    # The opening serves one passkey, however many registrations race for it.
    spent = _race(4, lambda: enrolment.consume_enrolment(owner, session_id=sid, now=now))
    assert sum(isinstance(r, PasskeyEnrolment) for r in spent) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_removal_guesses_stop_at_the_limit(owner) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    client = _signed_in(owner)
    open_first_passkey(client, owner)
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    code = notice_code()
    passkey = WebAuthnCredential.objects.get(user=owner)
    now = timezone.now()
    results = _race(
        enrolment.MAX_CODE_ATTEMPTS * 2,
        lambda: enrolment.remove_passkey_with_notice_code(
            owner, passkey_id=passkey.pk, code="zzzzz-zzzzz", keep_session=None, now=now
        ),
    )
    assert all(isinstance(r, enrolment.InvalidNoticeCode) for r in results)
    assert PasskeyNotice.objects.get().attempts == enrolment.MAX_CODE_ATTEMPTS
    with pytest.raises(enrolment.InvalidNoticeCode):  # the limit holds for the right code too
        enrolment.remove_passkey_with_notice_code(
            owner, passkey_id=passkey.pk, code=code, keep_session=None, now=now
        )
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
