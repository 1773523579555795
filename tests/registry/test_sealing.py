"""Batch sealing writes exactly the register's formats (crypto.fields, crypto.blind_index)."""

from __future__ import annotations

import datetime
import uuid

import pytest

from tests.registry.conftest import TODAY
from tierspayant.crypto.blind_index import blind_index_candidates
from tierspayant.crypto.fields import DecryptionError, decrypt_field
from tierspayant.crypto.keys import Keyring, parse_key_spec
from tierspayant.registry.member_file.parsing import MemberLine
from tierspayant.registry.member_file.sealing import seal_lines
from tierspayant.registry.models import Beneficiary
from tierspayant.registry.services import IDENTITY_PURPOSE

TWO_INDEX_KEYS = Keyring(
    encryption=parse_key_spec("e1:Dq3JcWz1s0b6yqB8y4v1m2Y9n7K5lT3eR0pX6fA2gHk=", name="e"),
    index=parse_key_spec(
        "i2:Zk3Qe1vR5tY2uI9oP4aS7dF0gH3jK6lZ1xC5vB8nM2Q=,"
        "i1:Wm8Qe1vR5tY2uI9oP4aS7dF0gH3jK6lZ1xC5vB8nM2Q=",
        name="i",
    ),
)


def line(nir: str, birth: datetime.date) -> MemberLine:
    return MemberLine(
        2,
        "70100001",
        "C",
        "individual",
        nir,
        1,
        "N",
        "P",
        birth,
        "insured",
        TODAY,
        None,
        ("pharmacy",),
        True,
    )


@pytest.mark.parametrize(
    ("nir", "birth"),
    [
        pytest.param("284076912304595", datetime.date(1984, 7, 2), id="mainland"),
        pytest.param("178052A12304610", datetime.date(1978, 5, 20), id="corsica"),
    ],
)
def test_tokens_decrypt_and_indexes_match(nir: str, birth: datetime.date) -> None:
    (sealed,) = seal_lines(TWO_INDEX_KEYS, [line(nir, birth)])
    keys = TWO_INDEX_KEYS.encryption
    where = {"table": "registry_beneficiary", "row_id": sealed.row_id}
    assert decrypt_field(keys, sealed.nir_ciphertext, column="nir", **where) == nir
    assert decrypt_field(keys, sealed.birth_date_ciphertext, column="birth_date", **where) == (
        birth.isoformat()
    )
    assert list(sealed.identity_indexes) == blind_index_candidates(
        TWO_INDEX_KEYS.index, nir, birth.isoformat(), purpose=IDENTITY_PURPOSE
    )
    assert sealed.identity_indexes[0].startswith("i2$")
    with pytest.raises(DecryptionError):  # bound to its column and row
        decrypt_field(keys, sealed.nir_ciphertext, column="birth_date", **where)


MS = datetime.timedelta(milliseconds=1)


def created_at(row_id: str) -> datetime.datetime:
    """The creation instant a version 7 id carries: its first 48 bits, in ms (RFC 9562)."""
    millis = uuid.UUID(row_id).int >> 80
    return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.UTC)


def test_each_line_gets_its_own_row_and_nonce() -> None:
    before = datetime.datetime.now(datetime.UTC)
    sealed = seal_lines(TWO_INDEX_KEYS, [line("284076912304595", datetime.date(1984, 7, 2))] * 3)
    after = datetime.datetime.now(datetime.UTC)
    assert len({s.row_id for s in sealed}) == 3
    for s in sealed:  # canonical text, as Django writes str(uuid.UUID)
        assert str(uuid.UUID(s.row_id)) == s.row_id
        assert uuid.UUID(s.row_id).version == 7
        assert uuid.UUID(s.row_id).variant == uuid.RFC_4122
        assert before - MS <= created_at(s.row_id) <= after
    # time-ordered: a batch's rows land at the right edge of the primary-key index
    assert [s.row_id for s in sealed] == sorted(s.row_id for s in sealed)
    assert len({s.nir_ciphertext for s in sealed}) == 3
    assert len({s.identity_indexes for s in sealed}) == 1


def test_rows_made_one_by_one_get_the_same_kind_of_id() -> None:
    first, second = Beneficiary().id, Beneficiary().id  # the model's default
    assert (first.version, second.version) == (7, 7)
    assert first < second
