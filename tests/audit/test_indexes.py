"""The disclosure log takes one insert per rights check: it carries no index that another
index already serves (issue 7), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.db import connection

from tierspayant.audit.models import DisclosureLog

pytestmark = pytest.mark.django_db


def index_columns() -> dict[str, tuple[str, ...]]:
    """Every index of the disclosure log (unique ones included), by name: its columns."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, DisclosureLog._meta.db_table)
    return {
        name: tuple(info["columns"])
        for name, info in constraints.items()
        if (info["index"] or info["unique"]) and info["columns"]
    }


def test_no_index_is_the_leading_part_of_another() -> None:
    indexes = index_columns()
    redundant = {
        name: columns
        for name, columns in indexes.items()
        for other_name, other in indexes.items()
        if other_name != name
        and len(other) > len(columns)
        and other[: len(columns)] == columns
        and not (name.endswith("_pkey") or name.endswith("_key") or "autoindex" in name)
    }
    assert redundant == {}


def test_the_lookups_by_professional_and_by_person_still_have_their_index() -> None:
    assert {("professional_id", "occurred_at"), ("beneficiary_id", "occurred_at")} <= set(
        index_columns().values()
    )
