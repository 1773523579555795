"""The register stores NIR and birth date only encrypted: a database dump shows neither."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.db import connection

from tests.factories import ContractFactory, make_beneficiary, new_nir
from tierspayant.registry.models import Beneficiary
from tierspayant.registry.selectors import beneficiaries_by_identity
from tierspayant.registry.services import InvalidRegisterEntry, register_beneficiary

pytestmark = pytest.mark.django_db


def dump_database() -> str:
    """Every row of every table of the project, as text (what a stolen dump would show)."""
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - table names from the ORM
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_dump_holds_no_nir_nor_birth_date_in_clear(keyring) -> None:
    people = [
        make_beneficiary(nir="253072B07300470", birth_date=datetime.date(1953, 7, 3)),
        make_beneficiary(nir="295109912611193", birth_date=datetime.date(1995, 10, 21)),
    ]
    dump = dump_database()
    assert len(dump) > 0
    for person, nir, born in zip(
        people, ["253072B07300470", "295109912611193"], ["1953-07-03", "1995-10-21"], strict=True
    ):
        assert nir not in dump and nir[:13] not in dump
        assert born not in dump and born.replace("-", "") not in dump
        stored = Beneficiary.objects.get(pk=person.pk)
        assert stored.nir(keyring.encryption) == nir
        assert stored.birth_date(keyring.encryption) == datetime.date.fromisoformat(born)


def test_lookup_needs_nir_and_birth_date(keyring) -> None:
    born = datetime.date(1988, 5, 7)
    nir = new_nir(born)
    person = make_beneficiary(nir=nir, birth_date=born)
    assert beneficiaries_by_identity(keyring, nir=nir, birth_date=born) == [person]
    assert beneficiaries_by_identity(keyring, nir=nir, birth_date=datetime.date(1988, 5, 8)) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"nir": "177025626004545"}, "nir"),
        ({"rang": 0}, "rang"),
        ({"rights_end": datetime.date(2023, 12, 31)}, "rights_end"),
    ],
    ids=["bad-key", "rang-zero", "end-before-start"],
)
def test_bad_entries_are_refused_and_nothing_is_stored(keyring, changes, field) -> None:
    fields = {
        "contract": ContractFactory(),
        "nir": "177025626004544",
        "rang": 1,
        "birth_date": datetime.date(1977, 2, 10),
        "last_name": "Durand",
        "first_name": "Lou",
        "quality": "insured",
        "rights_start": datetime.date(2024, 1, 1),
        "rights_end": None,
    }
    fields.update(changes)
    with pytest.raises(InvalidRegisterEntry) as caught:
        register_beneficiary(keyring, **fields)
    assert caught.value.field == field
    assert "177025626004545" not in str(caught.value)
    assert Beneficiary.objects.count() == 0
