"""Key rotation: afterwards no row refers to the old key id, the old key can be removed, and
every read (decryption, identity lookup, rights check) still works."""

from __future__ import annotations

import datetime
import json
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.factories import ContractFactory, make_beneficiary, make_professional
from tierspayant.audit.choices import Channel, Outcome
from tierspayant.audit.services import RequestContext
from tierspayant.crypto.fields import DecryptionError, key_id_of
from tierspayant.crypto.keys import Keyring, generate_key_spec, parse_key_spec
from tierspayant.eligibility.services import RightsCheckInput, check_rights
from tierspayant.registry.models import Beneficiary
from tierspayant.registry.rotation import encrypted_columns, key_usage, rotate_keys
from tierspayant.registry.selectors import beneficiaries_by_identity

pytestmark = pytest.mark.django_db


@pytest.fixture
def rotation(settings):
    """Beneficiaries written under the test keys (t1), then a new key put first (n2)."""
    old = settings.TIERSPAYANT_KEYRING
    contract = ContractFactory()
    people = [make_beneficiary(contract=contract) for _ in range(7)]
    plain = {p.pk: (p.nir(old.encryption), p.birth_date(old.encryption)) for p in people}
    new_field = parse_key_spec(generate_key_spec("n2"), name="f")
    new_index = parse_key_spec(generate_key_spec("n2"), name="i")
    rotating = Keyring(
        encryption=type(old.encryption)(
            keys={**new_field.keys, **old.encryption.keys}, active_id="n2"
        ),
        index=type(old.index)(keys={**new_index.keys, **old.index.keys}, active_id="n2"),
    )
    only_new = Keyring(encryption=new_field, index=new_index)
    settings.TIERSPAYANT_KEYRING = rotating
    return {"people": people, "plain": plain, "rotating": rotating, "only_new": only_new}


def test_the_beneficiary_columns_are_found_by_convention() -> None:
    labels = {c.label for c in encrypted_columns()}
    assert {"registry.Beneficiary.nir", "registry.Beneficiary.birth_date"} <= labels


def test_rotation_leaves_no_row_under_the_old_key_and_reads_work(rotation) -> None:
    assert key_usage()["registry.Beneficiary.nir"] == {"t1": 7}
    batches = []
    result = rotate_keys(rotation["rotating"], batch_size=3, progress=batches.append)
    assert result.rotated == 7 and not result.failed
    assert batches == [3, 3, 1]
    usage = key_usage()
    assert usage["registry.Beneficiary.nir"] == {"n2": 7}
    assert usage["registry.Beneficiary.birth_date"] == {"n2": 7}
    assert usage["registry.Beneficiary.identity_index"] == {"n2": 7}
    for row in Beneficiary.objects.all():
        assert key_id_of(row.nir_ciphertext) == "n2"
        assert row.identity_index.startswith("n2$")
    # the old key removed: every read still works
    keys = rotation["only_new"]
    for person in Beneficiary.objects.all():
        nir, born = rotation["plain"][person.pk]
        assert person.nir(keys.encryption) == nir
        assert person.birth_date(keys.encryption) == born
        assert [b.pk for b in beneficiaries_by_identity(keys, nir=nir, birth_date=born)] == [
            person.pk
        ]
    assert rotate_keys(rotation["rotating"]).rotated == 0  # idempotent


def test_rights_check_works_after_rotation_with_the_old_key_gone(rotation, settings) -> None:
    rotate_keys(rotation["rotating"])
    person = rotation["people"][0]
    nir, born = rotation["plain"][person.pk]
    result = check_rights(
        rotation["only_new"],
        professional=make_professional(with_totp=False),
        query=RightsCheckInput(nir=nir, birth_date=born.isoformat()),
        context=RequestContext(
            channel=Channel.API, request_id=uuid.uuid4(), ip=None, user_agent="", actor_id=None
        ),
        now=timezone.now(),
        today=datetime.date(2026, 3, 1),
        quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
        daily_quota=10,
    )
    assert result.outcome is Outcome.COVERED


def test_a_row_whose_key_is_gone_is_reported_not_lost(rotation) -> None:
    victim = rotation["people"][2]
    Beneficiary.objects.filter(pk=victim.pk).update(nir_ciphertext="zz:AAAA")
    result = rotate_keys(rotation["rotating"])
    assert result.failed == [str(victim.pk)]
    assert result.rotated == 6
    with pytest.raises(DecryptionError):
        Beneficiary.objects.get(pk=victim.pk).nir(rotation["rotating"].encryption)


def test_rotate_keys_command(rotation) -> None:
    out, err = StringIO(), StringIO()
    call_command("rotate_keys", "--batch-size=2", stdout=out, stderr=err)
    usage = json.loads(out.getvalue())
    assert usage["registry.Beneficiary.nir"] == {"n2": 7}
    assert "older keys can be removed" in err.getvalue()
    assert "7 rows re-encrypted" in err.getvalue()


def test_rotate_keys_check_fails_while_rows_remain(rotation) -> None:
    with pytest.raises(CommandError, match="7 rows still hold") as caught:
        call_command("rotate_keys", "--check", stdout=StringIO(), stderr=StringIO())
    assert caught.value.returncode == 1
