"""Field encryption and blind indexes: round trips, AEAD binding, tampering, rotation."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierspayant.crypto.blind_index import blind_index, blind_index_candidates
from tierspayant.crypto.fields import DecryptionError, decrypt_field, encrypt_field, key_id_of
from tierspayant.crypto.keys import KeyConfigurationError, generate_key_spec, parse_key_spec

OLD = parse_key_spec(generate_key_spec("old"), name="T")
NEW_SPEC = generate_key_spec("new")


def rotated():
    """The key set after a rotation: new key active, old key kept for reading."""
    old_spec = "old:" + base64.urlsafe_b64encode(OLD.keys["old"]).decode()
    return parse_key_spec(f"{NEW_SPEC},{old_spec}", name="T")


def test_round_trip_and_key_id_in_token() -> None:
    token = encrypt_field(OLD, "177025626004544", table="t", column="nir", row_id="r1")
    assert token.startswith("old:")
    assert key_id_of(token) == "old"
    assert "177025626004544" not in token
    assert decrypt_field(OLD, token, table="t", column="nir", row_id="r1") == "177025626004544"


@pytest.mark.parametrize(
    ("table", "column", "row_id"),
    [("t", "nir", "r2"), ("t", "birth_date", "r1"), ("u", "nir", "r1")],
    ids=["other-row", "other-column", "other-table"],
)
def test_ciphertext_moved_elsewhere_fails(table: str, column: str, row_id: str) -> None:
    token = encrypt_field(OLD, "177025626004544", table="t", column="nir", row_id="r1")
    with pytest.raises(DecryptionError) as caught:
        decrypt_field(OLD, token, table=table, column=column, row_id=row_id)
    assert "177025626004544" not in str(caught.value)


def test_rotation_reads_old_values_and_writes_with_new_key() -> None:
    old_token = encrypt_field(OLD, "x", table="t", column="c", row_id="1")
    keys = rotated()
    assert decrypt_field(keys, old_token, table="t", column="c", row_id="1") == "x"
    assert key_id_of(encrypt_field(keys, "x", table="t", column="c", row_id="1")) == "new"


def test_unknown_key_id_fails() -> None:
    token = encrypt_field(rotated(), "x", table="t", column="c", row_id="1")
    with pytest.raises(DecryptionError):
        decrypt_field(OLD, token, table="t", column="c", row_id="1")


@given(st.binary(min_size=1, max_size=64), st.integers(min_value=0))
def test_tampered_ciphertext_never_decrypts(noise: bytes, position: int) -> None:
    token = encrypt_field(OLD, "295109912611193", table="t", column="nir", row_id="r")
    key_id, _, body = token.partition(":")
    raw = bytearray(base64.urlsafe_b64decode(body))
    index = position % len(raw)
    raw[index] ^= noise[0] or 1
    tampered = f"{key_id}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    with pytest.raises(DecryptionError):
        decrypt_field(OLD, tampered, table="t", column="nir", row_id="r")


def test_blind_index_is_keyed_and_separated_by_purpose() -> None:
    other = parse_key_spec(generate_key_spec("old"), name="T")
    a = blind_index(OLD, "177025626004544", "1977-02-10", purpose="p")
    assert a == blind_index(OLD, "177025626004544", "1977-02-10", purpose="p")
    assert a != blind_index(other, "177025626004544", "1977-02-10", purpose="p")
    assert a != blind_index(OLD, "177025626004544", "1977-02-10", purpose="q")
    assert a != blind_index(OLD, "177025626004544", "1977-02-11", purpose="p")
    assert a.startswith("old$") and len(a) == 4 + 64


def test_candidates_cover_every_key_active_first() -> None:
    keys = rotated()
    candidates = blind_index_candidates(keys, "v", purpose="p")
    assert candidates == [blind_index(keys, "v", purpose="p"), blind_index(OLD, "v", purpose="p")]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "is empty"),
        ("nokey", "expected 'id:BASE64'"),
        ("bad id!:AAAA", "expected 'id:BASE64'"),
        ("k1:" + base64.urlsafe_b64encode(b"short").decode(), "5 bytes, expected 32"),
        ("k1:" + base64.urlsafe_b64encode(b"\x00" * 32).decode(), "too weak"),
        ("k1:@@@@", "not valid base64"),
        (f"{generate_key_spec('k1')},{generate_key_spec('k1')}", "appears twice"),
    ],
    ids=["empty", "no-colon", "bad-id", "short-key", "constant-key", "not-base64", "duplicate-id"],
)
def test_bad_key_specs_are_refused_with_a_clear_message(spec: str, message: str) -> None:
    with pytest.raises(KeyConfigurationError, match=message) as caught:
        parse_key_spec(spec, name="TIERSPAYANT_FIELD_KEYS")
    assert "TIERSPAYANT_FIELD_KEYS" in str(caught.value)


def test_demo_keygen_keeps_existing_values_and_adds_missing_ones(tmp_path) -> None:
    from tierspayant.crypto.keygen import GENERATORS, write_demo_env

    path = tmp_path / "demo.env"
    assert write_demo_env(path) == list(GENERATORS)
    first = path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert write_demo_env(path) == []
    assert path.read_text() == first
    kept = first.splitlines()[0]
    path.write_text(kept + "\n")
    assert write_demo_env(path) == list(GENERATORS)[1:]
    assert path.read_text().splitlines()[0] == kept
